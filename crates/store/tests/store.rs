#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The SQLite store: dedup across re-runs, queries, durability of committed batches,
//! and clear errors for locked, read-only, corrupt and too-new files.

mod frozen_schema;

use chrono::{DateTime, TimeZone, Utc};
use rampart_correlate::{group_incidents, IncidentConfig, KillChain, Tactic};
use rampart_event::{Alert, EventMeta, Level, MatchedField};
use rampart_store::{
    AlertQuery, OpenOptions, RuleInfo, RunInfo, RunSummary, SqliteStore, Store, StoreErrorKind,
};
use std::path::Path;
use std::time::Duration;

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2019, 3, 19, 10, minute, 0).unwrap()
}

fn alert(
    rule: &str,
    level: Level,
    host: &str,
    record: Option<u64>,
    minute: u32,
    tech: &str,
) -> Alert {
    Alert {
        id: String::new(),
        rule_id: rule.into(),
        rule_title: format!("rule {rule}"),
        level,
        status: Some("test".into()),
        techniques: vec![tech.into()],
        tactics: vec![],
        tags: vec![format!("attack.{}", tech.to_lowercase())],
        event: EventMeta {
            source: "samples/a.evtx".into(),
            timestamp: Some(at(minute)),
            computer: Some(host.into()),
            channel: Some("Security".into()),
            provider: None,
            event_id: Some(4624),
            record_id: record,
        },
        context: Vec::new(),
        intel: None,
        matched: vec![MatchedField {
            field: "Image".into(),
            value: format!("c:\\{rule}.exe"),
        }],
    }
}

fn sample() -> Vec<Alert> {
    vec![
        alert("r1", Level::High, "WS1", Some(1), 1, "T1003.001"),
        alert("r2", Level::Low, "ws1", Some(2), 2, "T1059"),
        alert("r1", Level::High, "DC1", Some(3), 30, "T1003.001"),
        alert("r3", Level::Medium, "DC1", None, 40, "T1021.002"),
    ]
}

fn run(store: &mut SqliteStore, alerts: &[Alert]) -> (u64, u64) {
    let id = store.begin_run(&RunInfo::default()).unwrap();
    let outcome = store.insert_alerts(id, alerts).unwrap();
    store.finish_run(id, &RunSummary::default()).unwrap();
    (outcome.inserted, outcome.duplicates)
}

#[test]
fn rerunning_the_same_hunt_adds_no_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rampart.db");
    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(run(&mut store, &sample()), (4, 0));
    assert_eq!(run(&mut store, &sample()), (0, 4));
    drop(store);
    // Same answer after reopening: dedup lives in the file, not in memory.
    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(run(&mut store, &sample()), (0, 4));
    assert_eq!(store.alerts(&AlertQuery::default()).unwrap().len(), 4);
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(
        runs.iter().map(|r| r.alerts_added).collect::<Vec<_>>(),
        [4, 0, 0]
    );
    assert!(runs.iter().all(|r| r.finished_at.is_some()));
}

#[test]
fn same_rule_on_another_record_is_a_new_alert() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
    let mut other = sample();
    other[0].event.record_id = Some(99);
    other[3].matched[0].value = "different".into();
    run(&mut store, &sample());
    assert_eq!(run(&mut store, &other), (2, 2));
}

#[test]
fn queries_filter_by_time_level_technique_and_host() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
    run(&mut store, &sample());
    let ids = |q: AlertQuery| -> Vec<String> {
        store
            .alerts(&q)
            .unwrap()
            .into_iter()
            .map(|a| format!("{}@{}", a.alert.rule_id, a.alert.event.computer.unwrap()))
            .collect()
    };
    assert_eq!(
        ids(AlertQuery {
            since: Some(at(2)),
            ..Default::default()
        }),
        ["r2@ws1", "r1@DC1", "r3@DC1"]
    );
    assert_eq!(
        ids(AlertQuery {
            min_level: Some(Level::Medium),
            ..Default::default()
        }),
        ["r1@WS1", "r1@DC1", "r3@DC1"]
    );
    // A parent technique finds its sub-techniques; a sub-technique only itself.
    assert_eq!(
        ids(AlertQuery {
            technique: Some("t1003".into()),
            ..Default::default()
        }),
        ["r1@WS1", "r1@DC1"]
    );
    assert!(ids(AlertQuery {
        technique: Some("T1003.002".into()),
        ..Default::default()
    })
    .is_empty());
    assert_eq!(
        ids(AlertQuery {
            host: Some("WS1".into()),
            ..Default::default()
        }),
        ["r1@WS1", "r2@ws1"]
    );
    assert_eq!(
        ids(AlertQuery {
            limit: Some(1),
            ..Default::default()
        }),
        ["r1@WS1"]
    );
}

#[test]
fn rules_and_incidents_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
    let run_id = store.begin_run(&RunInfo::default()).unwrap();
    let rule = RuleInfo {
        id: "r1".into(),
        title: "LSASS".into(),
        level: Level::High,
        techniques: vec!["T1003.001".into()],
    };
    store
        .record_rules(run_id, std::slice::from_ref(&rule))
        .unwrap();
    store
        .record_rules(run_id, std::slice::from_ref(&rule))
        .unwrap();
    assert_eq!(store.rules().unwrap(), [rule]);

    store.insert_alerts(run_id, &sample()).unwrap();
    let stored = store.alerts(&AlertQuery::default()).unwrap();
    let chain = KillChain::new(vec![Tactic {
        shortname: "execution".into(),
        id: None,
        name: None,
    }]);
    let incidents = group_incidents(
        stored.iter().map(|s| (s.id.as_str(), &s.alert)),
        &chain,
        &IncidentConfig::default(),
    );
    store.replace_incidents(&incidents).unwrap();
    assert_eq!(store.incidents().unwrap(), incidents);
    let first = &incidents[0];
    assert_eq!(
        store.incident(&first.id.to_lowercase()).unwrap().as_ref(),
        Some(first)
    );
    assert!(store.incident("INC-none").unwrap().is_none());
    // Replacing is total: a second grouping does not pile up on the first.
    store.replace_incidents(&incidents[..1]).unwrap();
    assert_eq!(store.incidents().unwrap().len(), 1);
}

#[test]
fn committed_batches_survive_a_process_that_never_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    {
        let mut store = SqliteStore::open(&path).unwrap();
        let id = store.begin_run(&RunInfo::default()).unwrap();
        store.insert_alerts(id, &sample()[..2]).unwrap();
        // Forget the store: no finish, no orderly close, as if the process were killed.
        std::mem::forget(store);
    }
    let store = SqliteStore::open_with(
        &path,
        &OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(store.alerts(&AlertQuery::default()).unwrap().len(), 2);
    let runs = store.runs().unwrap();
    assert_eq!((runs[0].alerts_added, runs[0].finished_at), (2, None));
}

fn assert_names_file(error: &rampart_store::StoreError, path: &Path) {
    let text = rampart_event::error_chain(error);
    assert!(text.contains(&path.display().to_string()), "{text}");
}

#[test]
fn a_corrupt_file_is_reported_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(error.kind, StoreErrorKind::Corrupt(_)), "{error}");
    assert_names_file(&error, &path);
    assert!(rampart_event::error_chain(&error).contains("corrupt"));
}

#[test]
fn a_read_only_file_is_reported_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.db");
    run(&mut SqliteStore::open(&path).unwrap(), &sample());
    let mut permissions = std::fs::metadata(&path).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&path, permissions).unwrap();
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(error.kind, StoreErrorKind::ReadOnly(_)), "{error}");
    assert_names_file(&error, &path);
    // Reading a read-only store still works.
    let store = SqliteStore::open_with(
        &path,
        &OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(store.alerts(&AlertQuery::default()).unwrap().len(), 4);
}

#[test]
fn a_locked_file_is_reported_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    let mut store = SqliteStore::open_with(
        &path,
        &OpenOptions {
            busy_timeout: Duration::from_millis(100),
            read_only: false,
        },
    )
    .unwrap();
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let error = store.begin_run(&RunInfo::default()).unwrap_err();
    assert!(
        matches!(error.kind, StoreErrorKind::Locked { .. }),
        "{error}"
    );
    assert_names_file(&error, &path);
    holder.execute_batch("COMMIT").unwrap();
    assert!(store.begin_run(&RunInfo::default()).is_ok());
}

#[test]
fn a_store_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 999")
        .unwrap();
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(error.kind, StoreErrorKind::TooNew { found: 999, .. }),
        "{error}"
    );
}

#[test]
fn a_negative_schema_version_is_refused_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("negative.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = -1")
        .unwrap();
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(error.kind, StoreErrorKind::Corrupt(_)), "{error}");
    assert_names_file(&error, &path);
}

#[test]
fn another_programs_database_is_not_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE notes (text TEXT)")
        .unwrap();
    let error = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(error.kind, StoreErrorKind::Foreign(_)), "{error}");
    assert!(rampart_event::error_chain(&error).contains("not a Rampart store"));
}

#[test]
fn callers_open_a_store_by_location() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("any.db");
    let mut store = rampart_store::open(&path).unwrap();
    assert_eq!(store.location(), path);
    assert_eq!(run_dyn(store.as_mut()), 4);
    let error = rampart_store::open(Path::new("postgres://db.invalid/rampart"))
        .err()
        .unwrap();
    assert!(
        rampart_event::error_chain(&error).contains("PostgreSQL"),
        "{error}"
    );
}

fn run_dyn(store: &mut dyn Store) -> u64 {
    let id = store.begin_run(&RunInfo::default()).unwrap();
    store.insert_alerts(id, &sample()).unwrap().inserted
}

fn file_digest(path: &Path) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

fn pragma_text(path: &Path, pragma: &str) -> String {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap()
        .query_row(&format!("PRAGMA {pragma}"), [], |row| {
            row.get::<_, rusqlite::types::Value>(0)
        })
        .map(|value| format!("{value:?}"))
        .unwrap()
}

/// A database another program made, with a schema version of its own: Rampart must
/// refuse it before changing anything (journal mode included), read-write or not.
#[test]
fn a_foreign_database_with_a_schema_version_is_refused_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    for (name, setup) in [
        (
            "versioned.db",
            "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('keep'); PRAGMA user_version = 1;",
        ),
        (
            "other-app.db",
            "CREATE TABLE notes (text TEXT); PRAGMA application_id = 1234;",
        ),
        ("other-app-empty.db", "PRAGMA application_id = 1234;"),
    ] {
        let path = dir.path().join(name);
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(setup)
            .unwrap();
        let before = file_digest(&path);
        let journal = pragma_text(&path, "journal_mode");
        for read_only in [false, true] {
            let options = OpenOptions {
                read_only,
                ..OpenOptions::default()
            };
            let error = SqliteStore::open_with(&path, &options).unwrap_err();
            assert!(
                matches!(error.kind, StoreErrorKind::Foreign(_)),
                "{name}: {error}"
            );
            assert!(rampart_event::error_chain(&error).contains("not a Rampart store"), "{error}");
            assert_names_file(&error, &path);
        }
        assert_eq!(file_digest(&path), before, "{name} is byte-for-byte unchanged");
        assert_eq!(pragma_text(&path, "journal_mode"), journal, "{name}");
        assert!(!dir.path().join(format!("{name}-wal")).exists(), "{name}");
    }
}

#[test]
fn a_new_store_is_marked_with_rampart_application_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    // An empty file (e.g. made by `touch`) becomes a store too.
    std::fs::write(&path, b"").unwrap();
    drop(SqliteStore::open(&path).unwrap());
    assert_eq!(
        pragma_text(&path, "application_id"),
        format!("Integer({})", rampart_store::APPLICATION_ID)
    );
}

/// Stores written before the application id existed are recognised by their tables
/// and adopted, their alerts kept.
#[test]
fn a_store_from_an_earlier_version_is_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let old = rusqlite::Connection::open(&path).unwrap();
    frozen_schema::create(&old, 1);
    old.execute_batch(
        "PRAGMA user_version = 1;
         INSERT INTO runs (id, started_at, info) VALUES (1, '2019-03-19T10:00:00.000000Z', '{\"command\":\"hunt\",\"inputs\":[],\"rule_sources\":[]}');",
    )
    .unwrap();
    let body = serde_json::to_string(&sample()[0]).unwrap();
    old.execute(
        "INSERT INTO alerts (id, run, rule_id, level_rank, event_time, host, source, record_id, body)
         VALUES ('old-key', 1, 'r1', 3, '2019-03-19T10:01:00.000000Z', 'WS1', 'samples/a.evtx', 1, ?1)",
        [body],
    )
    .unwrap();
    drop(old);
    let mut store = SqliteStore::open(&path).unwrap();
    let alerts = store.alerts(&AlertQuery::default()).unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].alert.rule_id, "r1");
    // The old row keeps its id and can be shown; new alerts go in beside it.
    let old_row = store.alert("OLD-KEY").unwrap().unwrap();
    assert_eq!(old_row.id, "old-key");
    assert_eq!(old_row.alert.id, "old-key");
    assert_eq!(run(&mut store, &sample()), (4, 0));
    assert_eq!(store.alerts(&AlertQuery::default()).unwrap().len(), 5);
    drop(store);
    assert_eq!(
        pragma_text(&path, "application_id"),
        format!("Integer({})", rampart_store::APPLICATION_ID)
    );
}
