//! Threat intelligence in the store: atomic imports, replace and merge, the active set,
//! the allow-list, expiry, statistics, and the upgrade of a version-3 store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rampart_intel::{Entity, EntityKind, Feed, Indicator, Observable, ObservableKind};
use rampart_store::{
    AlertQuery, ImportMode, ImportOptions, ImportOutcome, IndicatorQuery, SqliteStore, Store,
};
use std::path::Path;

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, d, 0, 0, 0).unwrap()
}

fn indicator(id: &str, kind: ObservableKind, value: &str) -> Indicator {
    Indicator {
        id: id.to_string(),
        source: "list:feed.txt".into(),
        all_of: vec![Observable {
            kind,
            value: value.to_string(),
        }],
        name: None,
        description: None,
        confidence: Some(80),
        labels: vec![],
        valid_from: None,
        valid_until: None,
        first_seen: None,
        last_seen: None,
        detect: true,
        context: Default::default(),
    }
}

fn feed(source: &str, indicators: Vec<Indicator>) -> Feed {
    Feed {
        source: source.to_string(),
        indicators,
        entities: vec![],
        diagnostics: vec![],
    }
}

fn sha(n: u32) -> String {
    format!("{n:064x}")
}

fn hashes(range: std::ops::Range<u32>) -> Vec<Indicator> {
    range
        .map(|n| indicator(&format!("h{n}"), ObservableKind::Sha256, &sha(n)))
        .collect()
}

fn store(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("intel.db")).unwrap()
}

fn ids(store: &SqliteStore, source: &str) -> Vec<String> {
    let query = IndicatorQuery {
        source: Some(source.to_string()),
        ..IndicatorQuery::default()
    };
    let mut ids: Vec<String> = store
        .search_indicators(&query)
        .unwrap()
        .into_iter()
        .map(|s| s.indicator.id)
        .collect();
    ids.sort();
    ids
}

#[test]
fn replacing_adds_updates_keeps_and_removes_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let first = store
        .import_feed(&feed("list:a", hashes(0..5)), ImportMode::Replace)
        .unwrap();
    assert_eq!(
        first,
        ImportOutcome {
            added: 5,
            ..ImportOutcome::default()
        }
    );
    // h0 and h1 withdrawn, h2 changed, h3 and h4 as they were, h5 new.
    let mut next = hashes(2..6);
    next[0].confidence = Some(20);
    let second = store
        .import_feed(&feed("list:a", next), ImportMode::Replace)
        .unwrap();
    assert_eq!(
        (
            second.added,
            second.updated,
            second.unchanged,
            second.removed
        ),
        (1, 1, 2, 2)
    );
    assert_eq!(ids(&store, "list:a"), ["h2", "h3", "h4", "h5"]);
    let h2 = store
        .search_indicators(&IndicatorQuery {
            id: Some("h2".into()),
            ..IndicatorQuery::default()
        })
        .unwrap();
    assert_eq!(h2[0].indicator.confidence, Some(20));
    assert!(h2[0].first_imported <= h2[0].last_imported);
    // The updated indicator's observables follow it: its hash is found, the
    // withdrawn ones are not.
    let by_value = |value: String| IndicatorQuery {
        value: Some(value),
        ..IndicatorQuery::default()
    };
    assert_eq!(store.search_indicators(&by_value(sha(2))).unwrap().len(), 1);
    assert!(store
        .search_indicators(&by_value(sha(0)))
        .unwrap()
        .is_empty());
    let sources = store.intel_sources().unwrap();
    assert_eq!(sources.len(), 1);
    assert_eq!(
        (
            sources[0].imports,
            sources[0].indicators,
            sources[0].kind.as_str()
        ),
        (2, 4, "list")
    );
}

#[test]
fn merging_never_removes_and_sources_stay_apart() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    store
        .import_feed(&feed("taxii:c1", hashes(0..3)), ImportMode::Merge)
        .unwrap();
    let outcome = store
        .import_feed(&feed("taxii:c1", hashes(3..4)), ImportMode::Merge)
        .unwrap();
    assert_eq!((outcome.added, outcome.removed), (1, 0));
    assert_eq!(ids(&store, "taxii:c1").len(), 4);
    // The same ids under another source are that source's own.
    store
        .import_feed(&feed("list:b", hashes(0..2)), ImportMode::Replace)
        .unwrap();
    store
        .import_feed(&feed("list:b", vec![]), ImportMode::Replace)
        .unwrap();
    assert!(ids(&store, "list:b").is_empty());
    assert_eq!(ids(&store, "taxii:c1").len(), 4);
}

/// A failure half-way through an import (here a trigger refusing one observable, as a
/// full disk or a crash would stop it) leaves the source exactly as it was: no
/// indicator added, updated or removed, counts and cursor unchanged.
#[test]
fn a_failed_import_leaves_the_stored_source_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("intel.db");
    let mut store = SqliteStore::open(&path).unwrap();
    let options = ImportOptions {
        cursor: Some("2024-05-01T00:00:00Z".into()),
        ..ImportOptions::default()
    };
    store
        .import_feed_with(
            &feed("taxii:c1", hashes(0..10)),
            ImportMode::Replace,
            &options,
        )
        .unwrap();
    let before = store.search_indicators(&IndicatorQuery::default()).unwrap();
    let sources_before = store.intel_sources().unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&format!(
            "CREATE TRIGGER fail_mid_import BEFORE INSERT ON intel_observables
             WHEN NEW.value = '{}' BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
            sha(15)
        ))
        .unwrap();
    // Replaces h0..h9 by h10..h19 (changing h5 first); fails at h15.
    let mut next = hashes(5..6);
    next[0].confidence = Some(1);
    next.extend(hashes(10..20));
    let failing = ImportOptions {
        cursor: Some("2024-05-02T00:00:00Z".into()),
        ..ImportOptions::default()
    };
    let error = store
        .import_feed_with(&feed("taxii:c1", next), ImportMode::Replace, &failing)
        .unwrap_err();
    assert!(
        rampart_event::error_chain(&error).contains("disk full"),
        "{error}"
    );
    assert_eq!(
        store.search_indicators(&IndicatorQuery::default()).unwrap(),
        before
    );
    assert_eq!(store.intel_sources().unwrap(), sources_before);
    assert_eq!(
        store.source_cursor("taxii:c1").unwrap().as_deref(),
        Some("2024-05-01T00:00:00Z")
    );
}

#[test]
fn the_active_set_leaves_out_context_expired_future_and_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let now = day(10);
    let mut context = indicator("context", ObservableKind::Domain, "context.example");
    context.detect = false;
    let mut expired = indicator("expired", ObservableKind::Ip, "203.0.113.7");
    expired.valid_until = Some(day(9));
    let mut future = indicator("future", ObservableKind::Md5, &"a".repeat(32));
    future.valid_from = Some(day(11));
    let mut current = indicator("current", ObservableKind::Domain, "evil.example");
    current.valid_from = Some(day(1));
    current.valid_until = Some(day(20));
    let allowed = indicator("allowed", ObservableKind::Domain, "scanner.corp.example");
    let feed = feed(
        "stix:bundle.json",
        vec![context, expired, future, current, allowed],
    );
    store.import_feed(&feed, ImportMode::Replace).unwrap();
    let scanner = Observable {
        kind: ObservableKind::Domain,
        value: "scanner.corp.example".into(),
    };
    assert!(store.allow(&scanner, Some("our scanner")).unwrap());
    assert!(!store
        .allow(&scanner, Some("our vulnerability scanner"))
        .unwrap());
    let active: Vec<String> = store
        .active_indicators(now)
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(active, ["current"]);
    let mut streamed = Vec::new();
    let count = store
        .for_each_active_indicator(now, |i| streamed.push(i.id))
        .unwrap();
    assert_eq!(
        (count, streamed.as_slice()),
        (1, ["current".to_string()].as_slice())
    );
    let matched: Vec<String> = active_matches(&store, now)
        .into_iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(matched, ["current"]);
    let entries = store.allow_entries().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].reason.as_deref(),
        Some("our vulnerability scanner")
    );
    assert_eq!(store.allow_list().unwrap(), std::slice::from_ref(&scanner));
    // Off the allow-list, it matches again.
    assert!(store.disallow(&scanner).unwrap());
    assert!(!store.disallow(&scanner).unwrap());
    assert_eq!(store.active_indicators(now).unwrap().len(), 2);

    let stats = store.intel_stats(now).unwrap();
    assert_eq!(stats.indicators, 5);
    let domain = stats
        .counts
        .iter()
        .find(|c| c.kind == ObservableKind::Domain)
        .unwrap();
    assert_eq!(
        (
            domain.indicators,
            domain.detect,
            domain.context_only,
            domain.expired
        ),
        (3, 2, 1, 0)
    );
    let ip = stats
        .counts
        .iter()
        .find(|c| c.kind == ObservableKind::Ip)
        .unwrap();
    assert_eq!(ip.expired, 1);

    assert_eq!(store.expire(now).unwrap(), 1);
    assert_eq!(store.intel_stats(now).unwrap().indicators, 4);
    assert_eq!(store.intel_sources().unwrap()[0].indicators, 4);
    // Nothing imported since tomorrow: everything is older than that.
    assert_eq!(
        store
            .expire_not_imported_since(Utc::now() + TimeDelta::days(1))
            .unwrap(),
        4
    );
}

#[test]
fn entities_cursor_and_removal_of_a_source() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let mut with_entities = feed("misp:ghost", hashes(0..3));
    with_entities.entities = vec![Entity {
        id: "cluster-1".into(),
        kind: EntityKind::IntrusionSet,
        name: "APT 29".into(),
        aliases: vec!["The Dukes".into()],
        attack_ids: vec![],
    }];
    let outcome = store
        .import_feed(&with_entities, ImportMode::Replace)
        .unwrap();
    assert_eq!(outcome.entities, 1);
    store
        .import_feed(&feed("list:other", hashes(7..9)), ImportMode::Replace)
        .unwrap();
    let entities = store.intel_entities().unwrap();
    assert_eq!(entities.len(), 1);
    assert_eq!(entities[0].source, "misp:ghost");
    assert_eq!(entities[0].entity.aliases, ["The Dukes"]);

    assert_eq!(store.source_cursor("taxii:new").unwrap(), None);
    store
        .set_source_cursor("taxii:new", "2024-05-03T00:00:00Z")
        .unwrap();
    assert_eq!(
        store.source_cursor("taxii:new").unwrap().as_deref(),
        Some("2024-05-03T00:00:00Z")
    );

    assert_eq!(store.remove_source("misp:ghost").unwrap(), Some(3));
    assert_eq!(store.remove_source("misp:ghost").unwrap(), None);
    assert!(store.intel_entities().unwrap().is_empty());
    assert_eq!(ids(&store, "list:other"), ["h7", "h8"]);
    // Observables of the removed source left with it.
    let stats = store.intel_stats(day(1)).unwrap();
    assert_eq!(stats.counts.len(), 1);
    assert_eq!(stats.counts[0].indicators, 2);
    // Paging and a kind filter.
    let page = store
        .search_indicators(&IndicatorQuery {
            kind: Some(ObservableKind::Sha256),
            limit: Some(1),
            offset: Some(1),
            ..IndicatorQuery::default()
        })
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].indicator.id, "h8");
    assert!(store
        .search_indicators(&IndicatorQuery {
            kind: Some(ObservableKind::Ip),
            ..IndicatorQuery::default()
        })
        .unwrap()
        .is_empty());
}

#[test]
fn a_feed_without_a_source_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir);
    let error = store
        .import_feed(&feed(" ", hashes(0..1)), ImportMode::Merge)
        .unwrap_err();
    assert!(matches!(
        error.kind,
        rampart_store::StoreErrorKind::Invalid(_)
    ));
}

fn user_version(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// A store as version 3 left it: this build's schema without the intel tables and the
/// response tables (versions 4 to 6 only add them), with an alert in it.
#[test]
fn a_version_3_store_upgrades_and_keeps_its_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    {
        let mut store = SqliteStore::open(&path).unwrap();
        let run = store.begin_run(&Default::default()).unwrap();
        // From JSON, as a stored body reads, so fields added to alerts later keep it valid.
        let alert: rampart_event::Alert = serde_json::from_value(serde_json::json!({
            "rule_id": "r1", "rule_title": "A rule", "level": "high", "status": null,
            "techniques": ["T1059"], "tactics": [], "tags": [], "matched": [],
            "event": {"source": "a.evtx", "timestamp": "2024-05-01T10:00:00Z",
                      "computer": "WS1", "channel": "Security", "provider": null,
                      "event_id": 4624, "record_id": 1}
        }))
        .unwrap();
        store.insert_alerts(run, &[alert]).unwrap();
    }
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "DROP TABLE audit_head; DROP TABLE audit_chain; DROP TABLE respond_approvals;
             DROP TABLE respond_steps; DROP TABLE respond_runs;
             DROP TABLE intel_contexts; DROP TABLE intel_allow; DROP TABLE intel_entities;
             DROP TABLE intel_observables;
             DROP TABLE intel_indicators; DROP TABLE intel_sources; PRAGMA user_version = 3;",
        )
        .unwrap();
    assert_eq!(user_version(&path), 3);
    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.alerts(&AlertQuery::default()).unwrap().len(), 1);
    store
        .import_feed(&feed("list:a", hashes(0..2)), ImportMode::Replace)
        .unwrap();
    assert_eq!(store.active_indicators(Utc::now()).unwrap().len(), 2);
    drop(store);
    assert_eq!(user_version(&path), 6);
}

/// What the matcher reads, with each shared part's number.
fn active_matches(store: &SqliteStore, now: DateTime<Utc>) -> Vec<(String, Indicator, i64)> {
    let mut out = Vec::new();
    store
        .for_each_active_match(now, |active| {
            let mut indicator = indicator(active.id, ObservableKind::Md5, "");
            indicator.all_of = active.all_of.to_vec();
            indicator.name = active.name.map(str::to_string);
            indicator.confidence = active.confidence;
            out.push((active.id.to_string(), indicator, active.context));
            Ok(())
        })
        .unwrap();
    out
}

/// Version 5 keeps what the matcher reads apart from each body, and the part
/// indicators share once per source: a version-4 store is filled in from its bodies,
/// and what it hands the matcher is what the bodies say.
#[test]
fn a_version_4_store_gains_the_matching_columns_from_its_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.db");
    let now = day(10);
    let mut indicators = hashes(0..6);
    for (n, indicator) in indicators.iter_mut().enumerate() {
        indicator.name = Some(format!("sample \"{n}\" \u{e9}"));
        indicator.labels = vec![format!("label-{}", n % 2)];
        indicator.context.actors = vec!["APT 29".into()];
        indicator.context.attack_ids = vec![format!("T10{}", n % 3)];
    }
    indicators[5].valid_from = Some(day(11));
    {
        let mut store = SqliteStore::open(&path).unwrap();
        store
            .import_feed(&feed("misp:event", indicators.clone()), ImportMode::Replace)
            .unwrap();
    }
    let contexts = |path: &Path| -> i64 {
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row("SELECT count(*) FROM intel_contexts", [], |r| r.get(0))
            .unwrap()
    };
    // Two labels × three technique ids: six distinct shared parts for six indicators,
    // but only when they differ; the same feed twice adds none.
    assert_eq!(contexts(&path), 6);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "ALTER TABLE intel_indicators DROP COLUMN context;
             ALTER TABLE intel_indicators DROP COLUMN matching;
             DROP TABLE intel_contexts;
             DROP TABLE audit_head; DROP TABLE audit_chain; DROP TABLE respond_approvals;
             DROP TABLE respond_steps; DROP TABLE respond_runs; PRAGMA user_version = 4;",
        )
        .unwrap();
    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(user_version(&path), 6);
    assert_eq!(contexts(&path), 6);
    let matches = active_matches(&store, now);
    let expected: Vec<Indicator> = store.active_indicators(now).unwrap();
    assert_eq!(matches.len(), 5, "the one valid from tomorrow is left out");
    for ((id, got, context), want) in matches.iter().zip(&expected) {
        assert_eq!(id, &want.id);
        assert_eq!(
            (&got.all_of, &got.name, got.confidence),
            (&want.all_of, &want.name, want.confidence)
        );
        let shared = store.intel_context(*context).unwrap();
        assert_eq!(shared.source, "misp:event");
        assert_eq!(
            (&shared.labels, &shared.context),
            (&want.labels, &want.context)
        );
    }
    // A re-import after the upgrade finds the migrated shared parts again.
    store
        .import_feed(
            &feed("misp:event", indicators[..3].to_vec()),
            ImportMode::Replace,
        )
        .unwrap();
    drop(store);
    assert_eq!(
        contexts(&path),
        3,
        "shared parts no indicator names are removed"
    );
}
