#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Triage, audit, metrics and service ingest on real store files: the state rules,
//! append-only audit (enforced by SQLite itself), triage surviving regrouping, one
//! transaction for alerts and checkpoints, pagination, and a reader beside a writer.

use chrono::{DateTime, TimeZone, Utc};
use rampart_correlate::{group_incidents, IncidentConfig, KillChain};
use rampart_event::{Alert, EventMeta, Level, MatchedField};
use rampart_store::{
    AlertQuery, AlertRow, IncidentQuery, OpenOptions, RunInfo, SqliteStore, Store, StoreErrorKind,
    Subject, TriageChange, TriageState, Verdict,
};
use std::time::Duration;

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2019, 3, 19, 10, minute, 0).unwrap()
}

fn alert(rule: &str, host: &str, record: u64, minute: u32) -> Alert {
    Alert {
        id: String::new(),
        rule_id: rule.into(),
        rule_title: format!("rule {rule}"),
        level: Level::High,
        status: Some("test".into()),
        techniques: vec!["T1059".into()],
        tactics: vec!["execution".into()],
        tags: vec![],
        event: EventMeta {
            source: "a.evtx".into(),
            timestamp: Some(at(minute)),
            computer: Some(host.into()),
            channel: Some("Security".into()),
            provider: None,
            event_id: Some(4688),
            record_id: Some(record),
        },
        context: Vec::new(),
        intel: None,
        matched: vec![MatchedField {
            field: "Image".into(),
            value: format!("c:\\{rule}.exe"),
        }],
    }
}

fn store_with(alerts: &[Alert]) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
    let run = store.begin_run(&RunInfo::default()).unwrap();
    store.insert_alerts(run, alerts).unwrap();
    (dir, store)
}

fn ids(store: &SqliteStore) -> Vec<String> {
    store
        .alerts(&AlertQuery::default())
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect()
}

fn regroup(store: &mut SqliteStore, window_minutes: i64) {
    let stored = store.alerts(&AlertQuery::default()).unwrap();
    let incidents = group_incidents(
        stored.iter().map(|s| (s.id.as_str(), &s.alert)),
        &KillChain::default(),
        &IncidentConfig {
            inactivity: chrono::TimeDelta::minutes(window_minutes),
            by_user: false,
        },
    );
    store.replace_incidents(&incidents).unwrap();
}

fn state(s: TriageState) -> TriageChange {
    TriageChange {
        state: Some(s),
        ..TriageChange::default()
    }
}

fn close(verdict: Verdict, reason: &str) -> TriageChange {
    TriageChange {
        state: Some(TriageState::Closed),
        verdict: Some(verdict),
        reason: Some(reason.into()),
        ..TriageChange::default()
    }
}

fn kind(error: rampart_store::StoreError) -> StoreErrorKind {
    error.kind
}

#[test]
fn states_move_forward_close_with_a_verdict_and_reopen() {
    let (_dir, mut store) = store_with(&[alert("r1", "WS1", 1, 1)]);
    let id = ids(&store)[0].clone();
    let subject = Subject::Alert(id.to_uppercase());
    let record = store.triage_record(&subject).unwrap().unwrap();
    assert_eq!(record.state, TriageState::New);
    assert_eq!(record.subject, Subject::Alert(id.clone()), "id as stored");

    let acked = store
        .triage(&subject, "alice", &state(TriageState::Acknowledged))
        .unwrap();
    assert_eq!(acked.state, TriageState::Acknowledged);
    assert!(acked.acknowledged_at.is_some());
    // Backwards is refused, and nothing is written.
    let error = store
        .triage(&subject, "alice", &state(TriageState::New))
        .unwrap_err();
    assert!(matches!(kind(error), StoreErrorKind::Invalid(_)));
    // Closing needs a verdict and a reason; a verdict without closing is refused.
    for change in [
        state(TriageState::Closed),
        TriageChange {
            state: Some(TriageState::Closed),
            verdict: Some(Verdict::FalsePositive),
            ..TriageChange::default()
        },
        TriageChange {
            verdict: Some(Verdict::FalsePositive),
            reason: Some("x".into()),
            ..TriageChange::default()
        },
    ] {
        let error = store.triage(&subject, "alice", &change).unwrap_err();
        assert!(
            matches!(kind(error), StoreErrorKind::Invalid(_)),
            "{change:?}"
        );
    }
    let closed = store
        .triage(
            &subject,
            "bob",
            &close(Verdict::FalsePositive, "admin script"),
        )
        .unwrap();
    assert_eq!(closed.state, TriageState::Closed);
    assert_eq!(closed.verdict, Some(Verdict::FalsePositive));
    assert!(closed.closed_at.is_some());
    let listed = store
        .alerts(&AlertQuery {
            state: Some(TriageState::Closed),
            ..AlertQuery::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, TriageState::Closed);
    // Closed → acknowledged is refused; closed → in progress reopens and clears.
    assert!(store
        .triage(&subject, "bob", &state(TriageState::Acknowledged))
        .is_err());
    let reopened = store
        .triage(&subject, "bob", &state(TriageState::InProgress))
        .unwrap();
    assert_eq!((reopened.verdict, reopened.closed_at), (None, None));
    assert_eq!(reopened.acknowledged_at, acked.acknowledged_at);

    let audit = store.audit(Some(&subject), 100).unwrap();
    let rows: Vec<(&str, &str, Option<&str>, Option<&str>)> = audit
        .iter()
        .rev()
        .map(|e| {
            (
                e.actor.as_str(),
                e.field.as_str(),
                e.from.as_deref(),
                e.to.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("alice", "state", Some("new"), Some("acknowledged")),
            ("bob", "state", Some("acknowledged"), Some("closed")),
            ("bob", "verdict", None, Some("false-positive")),
            ("bob", "reason", None, Some("admin script")),
            ("bob", "state", Some("closed"), Some("in-progress")),
            ("bob", "verdict", Some("false-positive"), None),
            ("bob", "reason", Some("admin script"), None),
        ]
    );
    // Skipping forward is allowed: new → closed in one step.
    let (_dir2, mut other) = store_with(&[alert("r2", "WS2", 2, 2)]);
    let id2 = Subject::Alert(ids(&other)[0].clone());
    assert!(other
        .triage(&id2, "carol", &close(Verdict::TruePositive, "confirmed"))
        .is_ok());
}

#[test]
fn assignee_tags_and_comments_are_kept_and_audited() {
    let (_dir, mut store) = store_with(&[alert("r1", "WS1", 1, 1)]);
    let subject = Subject::Alert(ids(&store)[0].clone());
    let change = TriageChange {
        assignee: Some(Some("dave".into())),
        add_tags: vec!["phishing".into(), "vip".into()],
        comment: Some("looks like the Monday campaign".into()),
        ..TriageChange::default()
    };
    let record = store.triage(&subject, "alice", &change).unwrap();
    assert_eq!(record.assignee.as_deref(), Some("dave"));
    assert_eq!(record.tags, ["phishing", "vip"]);
    assert_eq!(record.state, TriageState::New, "no state change asked");
    let record = store
        .triage(
            &subject,
            "dave",
            &TriageChange {
                assignee: Some(None),
                remove_tags: vec!["vip".into(), "absent".into()],
                comment: Some("unassigning".into()),
                ..TriageChange::default()
            },
        )
        .unwrap();
    assert_eq!(
        (record.assignee, record.tags),
        (None, vec!["phishing".into()])
    );
    let comments = store.comments(&subject).unwrap();
    assert_eq!(
        comments
            .iter()
            .map(|c| (c.actor.as_str(), c.text.as_str()))
            .collect::<Vec<_>>(),
        [
            ("alice", "looks like the Monday campaign"),
            ("dave", "unassigning")
        ]
    );
    let fields: Vec<String> = store
        .audit(None, 100)
        .unwrap()
        .iter()
        .rev()
        .map(|e| format!("{}:{:?}->{:?}", e.field, e.from, e.to))
        .collect();
    assert_eq!(
        fields,
        [
            "assignee:None->Some(\"dave\")",
            "tag:None->Some(\"phishing\")",
            "tag:None->Some(\"vip\")",
            "comment:None->Some(\"looks like the Monday campaign\")",
            "assignee:Some(\"dave\")->None",
            "tag:Some(\"vip\")->None",
            "comment:None->Some(\"unassigning\")",
        ]
    );
    // Limits on hostile sizes; refused before anything is written.
    let before = store.audit(None, 1000).unwrap().len();
    for change in [
        TriageChange {
            comment: Some("x".repeat(rampart_store::MAX_COMMENT_BYTES + 1)),
            ..TriageChange::default()
        },
        TriageChange {
            add_tags: vec!["t".repeat(rampart_store::MAX_NAME_BYTES + 1)],
            ..TriageChange::default()
        },
        TriageChange {
            add_tags: (0..=rampart_store::MAX_TAGS)
                .map(|i| i.to_string())
                .collect(),
            ..TriageChange::default()
        },
    ] {
        assert!(matches!(
            kind(store.triage(&subject, "alice", &change).unwrap_err()),
            StoreErrorKind::Invalid(_)
        ));
    }
    assert!(store
        .triage(&subject, " ", &TriageChange::default())
        .is_err());
    assert_eq!(store.audit(None, 1000).unwrap().len(), before);
}

#[test]
fn a_subject_that_does_not_exist_is_not_found() {
    let (_dir, mut store) = store_with(&[alert("r1", "WS1", 1, 1)]);
    for subject in [
        Subject::Alert("nope".into()),
        Subject::Incident("INC-nope".into()),
    ] {
        let error = store
            .triage(&subject, "alice", &state(TriageState::Acknowledged))
            .unwrap_err();
        assert!(matches!(kind(error), StoreErrorKind::NotFound(_)));
        assert!(store.triage_record(&subject).unwrap().is_none());
    }
    assert!(store.audit(None, 10).unwrap().is_empty());
}

#[test]
fn audit_rows_cannot_be_changed_or_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = SqliteStore::open(&path).unwrap();
    let run = store.begin_run(&RunInfo::default()).unwrap();
    store
        .insert_alerts(run, &[alert("r1", "WS1", 1, 1)])
        .unwrap();
    let subject = Subject::Alert(ids(&store)[0].clone());
    store
        .triage(&subject, "alice", &state(TriageState::Acknowledged))
        .unwrap();
    drop(store);
    let raw = rusqlite::Connection::open(&path).unwrap();
    for statement in ["UPDATE audit SET actor = 'mallory'", "DELETE FROM audit"] {
        let error = raw.execute(statement, []).unwrap_err();
        assert!(error.to_string().contains("append-only"), "{error}");
    }
    let actor: String = raw
        .query_row("SELECT actor FROM audit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(actor, "alice");
}

#[test]
fn incident_triage_survives_regrouping_and_upserts() {
    // WS1: alerts at minutes 1, 20, 40 and 41. With a 30-minute window they form one
    // incident; with 10 minutes, three, and the triage goes to the one holding most
    // of the old incident's alerts (40 and 41), not to the one that kept its id.
    let alerts = [
        alert("r1", "WS1", 1, 1),
        alert("r2", "WS1", 2, 20),
        alert("r3", "WS1", 3, 40),
        alert("r4", "WS1", 4, 41),
    ];
    let (_dir, mut store) = store_with(&alerts);
    regroup(&mut store, 30);
    let incidents = store.incidents().unwrap();
    assert_eq!(incidents.len(), 1);
    let old = Subject::Incident(incidents[0].id.clone());
    store
        .triage(
            &old,
            "alice",
            &TriageChange {
                state: Some(TriageState::InProgress),
                assignee: Some(Some("alice".into())),
                comment: Some("on it".into()),
                ..TriageChange::default()
            },
        )
        .unwrap();
    // Regrouping with the same window keeps the id and the triage.
    regroup(&mut store, 30);
    let same = store.triage_record(&old).unwrap().unwrap();
    assert_eq!(same.state, TriageState::InProgress);

    regroup(&mut store, 10);
    let page = store.incidents_page(&IncidentQuery::default()).unwrap();
    assert_eq!(page.len(), 3, "{page:?}");
    let carried: Vec<_> = page
        .iter()
        .filter(|i| i.state == TriageState::InProgress)
        .collect();
    assert_eq!(carried.len(), 1);
    let new = &carried[0].incident;
    assert!(
        new.timeline.iter().any(|e| e.rule_id == "r3"),
        "the incident with two of the old alerts: {new:?}"
    );
    let new_subject = Subject::Incident(new.id.clone());
    let record = store.triage_record(&new_subject).unwrap().unwrap();
    assert_eq!(record.assignee.as_deref(), Some("alice"));
    assert_eq!(store.comments(&new_subject).unwrap().len(), 1);
    let audit = store.audit(Some(&new_subject), 10).unwrap();
    assert_eq!(audit[0].field, "incident");
    assert_eq!(audit[0].from.as_deref(), Some(old.id()));
    assert_eq!(
        store
            .incidents_page(&IncidentQuery {
                state: Some(TriageState::New),
                ..IncidentQuery::default()
            })
            .unwrap()
            .len(),
        2
    );

    // An upsert of the same incident (a service's live update) keeps its triage and
    // its storing time, and leaves the other incidents alone.
    let created = carried[0].created_at;
    let mut updated = new.clone();
    updated.score += 10.0;
    store.upsert_incidents(&[updated]).unwrap();
    let page = store.incidents_page(&IncidentQuery::default()).unwrap();
    assert_eq!(page.len(), 3);
    assert_eq!(page[0].incident.id, new.id, "highest score first");
    assert_eq!(page[0].state, TriageState::InProgress);
    assert_eq!(page[0].created_at, created);
    let paged = store
        .incidents_page(&IncidentQuery {
            offset: Some(1),
            limit: Some(1),
            ..IncidentQuery::default()
        })
        .unwrap();
    assert_eq!(paged.len(), 1);
    assert_eq!(paged[0].incident.id, page[1].incident.id);
}

#[test]
fn retired_incidents_give_their_triage_and_comments_to_the_survivor() {
    // WS1 at minutes 1, 25-26 and 50: three incidents with a 10-minute window, one
    // with 60 (a service's tracker merging them into the earliest, which keeps its id).
    let alerts = [
        alert("r1", "WS1", 1, 1),
        alert("r2", "WS1", 2, 25),
        alert("r3", "WS1", 3, 26),
        alert("r4", "WS1", 4, 50),
    ];
    let (_dir, mut store) = store_with(&alerts);
    regroup(&mut store, 10);
    let mut incidents = store.incidents().unwrap();
    incidents.sort_by_key(|i| i.first_seen);
    assert_eq!(incidents.len(), 3);
    let ids: Vec<String> = incidents.iter().map(|i| i.id.clone()).collect();
    let [first, second, third] = [0, 1, 2].map(|i| Subject::Incident(ids[i].clone()));
    let comment = |text: &str| TriageChange {
        comment: Some(text.into()),
        ..TriageChange::default()
    };
    store
        .triage(
            &second,
            "bob",
            &TriageChange {
                state: Some(TriageState::InProgress),
                assignee: Some(Some("bob".into())),
                comment: Some("second".into()),
                ..TriageChange::default()
            },
        )
        .unwrap();
    store
        .triage(&third, "carol", &state(TriageState::Acknowledged))
        .unwrap();
    store.triage(&third, "carol", &comment("third")).unwrap();

    let stored = store.alerts(&AlertQuery::default()).unwrap();
    let mut merged = group_incidents(
        stored.iter().map(|s| (s.id.as_str(), &s.alert)),
        &KillChain::default(),
        &IncidentConfig {
            inactivity: chrono::TimeDelta::minutes(60),
            by_user: false,
        },
    );
    assert_eq!(merged.len(), 1);
    merged[0].id = ids[0].clone();
    store.upsert_incidents(&merged).unwrap();
    store
        .retire_incidents(&[ids[1].clone(), ids[2].clone(), "no-such".into()], &ids[0])
        .unwrap();

    let page = store.incidents_page(&IncidentQuery::default()).unwrap();
    assert_eq!(page.len(), 1, "{page:?}");
    assert_eq!(page[0].incident.id, ids[0]);
    assert_eq!(page[0].incident.timeline.len(), 4);
    // The survivor had no triage: it takes the first retired one's (bob's); the
    // second retired incident's stays under its own id, since the survivor has one.
    assert_eq!(page[0].state, TriageState::InProgress);
    let record = store.triage_record(&first).unwrap().unwrap();
    assert_eq!(record.assignee.as_deref(), Some("bob"));
    let kept: i64 = {
        let path = _dir.path().join("s.db");
        let raw = rusqlite::Connection::open(path).unwrap();
        raw.query_row(
            "SELECT count(*) FROM triage WHERE subject_kind = 'incident' AND subject_id = ?1
             AND state = 'acknowledged'",
            [&ids[2]],
            |row| row.get(0),
        )
        .unwrap()
    };
    assert_eq!(kept, 1);
    // Every comment now belongs to the survivor.
    let texts: Vec<String> = store
        .comments(&first)
        .unwrap()
        .into_iter()
        .map(|c| c.text)
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    for text in ["second", "third"] {
        assert!(texts.iter().any(|t| t == text), "{texts:?}");
    }
    // One audit row per retired incident that moved something, on the survivor.
    let moves: Vec<_> = store
        .audit(Some(&first), 20)
        .unwrap()
        .into_iter()
        .filter(|entry| entry.field == "incident")
        .collect();
    assert_eq!(moves.len(), 2, "{moves:?}");
    for retired in &ids[1..] {
        assert!(
            moves
                .iter()
                .any(|m| m.from.as_deref() == Some(retired.as_str())
                    && m.to.as_deref() == Some(ids[0].as_str())
                    && m.actor == "rampart"),
            "{moves:?}"
        );
    }
}

#[test]
fn metrics_give_response_times_and_false_positive_rates_per_rule() {
    let alerts = [
        alert("noisy", "WS1", 1, 1),
        alert("noisy", "WS1", 2, 2),
        alert("noisy", "WS1", 3, 3),
        alert("good", "DC1", 4, 4),
        alert("good", "DC1", 5, 5),
    ];
    let (_dir, mut store) = store_with(&alerts);
    regroup(&mut store, 60);
    let stored = store.alerts(&AlertQuery::default()).unwrap();
    let noisy: Vec<_> = stored
        .iter()
        .filter(|a| a.alert.rule_id == "noisy")
        .collect();
    // Two noisy alerts judged one by one, the third through its incident.
    store
        .triage(
            &Subject::Alert(noisy[0].id.clone()),
            "a",
            &close(Verdict::FalsePositive, "backup job"),
        )
        .unwrap();
    store
        .triage(
            &Subject::Alert(noisy[1].id.clone()),
            "a",
            &close(Verdict::TruePositive, "real"),
        )
        .unwrap();
    let ws1 = store
        .incidents()
        .unwrap()
        .into_iter()
        .find(|i| i.host == "WS1")
        .unwrap();
    store
        .triage(
            &Subject::Incident(ws1.id.clone()),
            "a",
            &state(TriageState::Acknowledged),
        )
        .unwrap();
    store
        .triage(
            &Subject::Incident(ws1.id.clone()),
            "a",
            &close(Verdict::FalsePositive, "backup window"),
        )
        .unwrap();
    let metrics = store.triage_metrics().unwrap();
    let rule = |id: &str| metrics.rules.iter().find(|r| r.rule_id == id).unwrap();
    let n = rule("noisy");
    assert_eq!(
        (
            n.alerts,
            n.with_verdict,
            n.false_positives,
            n.true_positives
        ),
        (3, 3, 2, 1),
        "own verdicts win over the incident's"
    );
    assert!((n.false_positive_rate.unwrap() - 2.0 / 3.0).abs() < 1e-9);
    let g = rule("good");
    assert_eq!(
        (g.alerts, g.with_verdict, g.false_positive_rate),
        (2, 0, None)
    );
    assert_eq!(
        metrics.rules[0].rule_id, "noisy",
        "most false positives first"
    );

    let inc = metrics.incidents.iter().find(|i| i.id == ws1.id).unwrap();
    assert_eq!(inc.state, TriageState::Closed);
    let (ack, closed) = (
        inc.time_to_acknowledge_secs.unwrap(),
        inc.time_to_close_secs.unwrap(),
    );
    assert!((0.0..60.0).contains(&ack) && ack <= closed && closed < 60.0);
    let other = metrics.incidents.iter().find(|i| i.id != ws1.id).unwrap();
    assert_eq!(other.time_to_acknowledge_secs, None);
    assert_eq!(metrics.incident_time_to_acknowledge.count, 1);
    assert_eq!(metrics.incident_time_to_close.count, 1);
    assert_eq!(metrics.alert_time_to_close.count, 2);
    assert!(metrics.alert_time_to_close.median_secs.is_some());
}

#[test]
fn alerts_and_their_checkpoints_commit_together() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = SqliteStore::open(&path).unwrap();
    let run = store.begin_run(&RunInfo::default()).unwrap();
    assert_eq!(store.checkpoint("watch:/logs/a.jsonl").unwrap(), None);
    let outcome = store
        .commit_ingest(
            run,
            &[alert("r1", "WS1", 1, 1), alert("r2", "WS1", 2, 2)],
            &[("watch:/logs/a.jsonl".into(), "offset=120".into())],
        )
        .unwrap();
    assert_eq!((outcome.inserted, outcome.duplicates), (2, 0));
    assert_eq!(outcome.added, [0, 1]);
    assert_eq!(
        store.checkpoint("watch:/logs/a.jsonl").unwrap().as_deref(),
        Some("offset=120")
    );
    // A batch that fails (the store is locked by another writer) commits neither its
    // alerts nor its checkpoint.
    drop(store);
    let mut store = SqliteStore::open_with(
        &path,
        &OpenOptions {
            busy_timeout: Duration::from_millis(50),
            read_only: false,
        },
    )
    .unwrap();
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let error = store
        .commit_ingest(
            run,
            &[alert("r3", "WS1", 3, 3)],
            &[("watch:/logs/a.jsonl".into(), "offset=180".into())],
        )
        .unwrap_err();
    assert!(
        matches!(error.kind, StoreErrorKind::Locked { .. }),
        "{error}"
    );
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(ids(&store).len(), 2);
    assert_eq!(
        store.checkpoint("watch:/logs/a.jsonl").unwrap().as_deref(),
        Some("offset=120")
    );
    // Replaying from the checkpoint adds only what is new.
    let outcome = store
        .commit_ingest(
            run,
            &[alert("r2", "WS1", 2, 2), alert("r3", "WS1", 3, 3)],
            &[("watch:/logs/a.jsonl".into(), "offset=180".into())],
        )
        .unwrap();
    assert_eq!((outcome.inserted, outcome.duplicates), (1, 1));
    // The outcome names which of the batch's alerts were new: r3, the second.
    assert_eq!(outcome.added, [1]);
    assert_eq!(
        store.checkpoint("watch:/logs/a.jsonl").unwrap().as_deref(),
        Some("offset=180")
    );
}

#[test]
fn rows_made_ahead_store_what_alerts_store() {
    let batch = [alert("r1", "WS1", 1, 1), alert("r2", "WS2", 2, 2)];
    let checkpoint = [("watch:/logs/a.jsonl".to_string(), "offset=120".to_string())];
    let dir = tempfile::tempdir().unwrap();
    let mut from_alerts = SqliteStore::open(&dir.path().join("alerts.db")).unwrap();
    let run = from_alerts.begin_run(&RunInfo::default()).unwrap();
    from_alerts.commit_ingest(run, &batch, &checkpoint).unwrap();
    let mut from_rows = SqliteStore::open(&dir.path().join("rows.db")).unwrap();
    let run = from_rows.begin_run(&RunInfo::default()).unwrap();
    let rows: Vec<AlertRow> = batch.iter().cloned().map(AlertRow::new).collect();
    // A row carries the id it is stored under, in its alert too.
    assert_eq!(rows[0].id(), rampart_store::dedup_key(&batch[0]));
    assert_eq!(rows[0].alert().id, rows[0].id());
    let outcome = from_rows.commit_rows(run, &rows, &checkpoint).unwrap();
    assert_eq!((outcome.inserted, outcome.duplicates), (2, 0));
    // Ids, columns and bodies are the same either way.
    let stored = |store: &SqliteStore| store.alerts(&AlertQuery::default()).unwrap();
    let (expected, got) = (stored(&from_alerts), stored(&from_rows));
    assert_eq!(got.len(), 2);
    for (expected, got) in expected.iter().zip(&got) {
        assert_eq!((&got.id, &got.alert), (&expected.id, &expected.alert));
    }
    assert_eq!(
        from_rows
            .checkpoint("watch:/logs/a.jsonl")
            .unwrap()
            .as_deref(),
        Some("offset=120")
    );
    assert_eq!(from_rows.runs().unwrap()[0].alerts_added, 2);
    // Resent, with one new row: only that one is added, and named by its place.
    let again = [rows[1].clone(), AlertRow::new(alert("r3", "WS1", 3, 3))];
    let outcome = from_rows.commit_rows(run, &again, &[]).unwrap();
    assert_eq!((outcome.inserted, outcome.duplicates), (1, 1));
    assert_eq!(outcome.added, [1]);
    assert_eq!(from_rows.runs().unwrap()[0].alerts_added, 3);
}

#[test]
fn alerts_page_and_filter_by_rule_until_and_state() {
    let alerts: Vec<Alert> = (0..10)
        .map(|i| alert(if i % 2 == 0 { "even" } else { "odd" }, "WS1", i, i as u32))
        .collect();
    let (_dir, store) = store_with(&alerts);
    let minutes = |q: AlertQuery| -> Vec<u32> {
        store
            .alerts(&q)
            .unwrap()
            .iter()
            .map(|a| chrono::Timelike::minute(&a.alert.event.timestamp.unwrap()))
            .collect()
    };
    assert_eq!(
        minutes(AlertQuery {
            offset: Some(3),
            limit: Some(4),
            ..AlertQuery::default()
        }),
        [3, 4, 5, 6]
    );
    assert_eq!(
        minutes(AlertQuery {
            offset: Some(8),
            ..AlertQuery::default()
        }),
        [8, 9]
    );
    assert_eq!(
        minutes(AlertQuery {
            rule: Some("ODD".into()),
            until: Some(at(5)),
            ..AlertQuery::default()
        }),
        [1, 3]
    );
    assert_eq!(
        minutes(AlertQuery {
            state: Some(TriageState::New),
            since: Some(at(8)),
            ..AlertQuery::default()
        }),
        [8, 9]
    );
    assert!(minutes(AlertQuery {
        state: Some(TriageState::Closed),
        ..AlertQuery::default()
    })
    .is_empty());
}

/// A command run while another process writes the store waits for the lock instead
/// of failing, and reads go on during the write (WAL).
#[test]
fn a_second_process_works_while_another_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut writer = SqliteStore::open(&path).unwrap();
    let run = writer.begin_run(&RunInfo::default()).unwrap();
    writer
        .insert_alerts(run, &[alert("r1", "WS1", 1, 1)])
        .unwrap();
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder.busy_timeout(Duration::from_secs(5)).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    holder
        .execute("INSERT INTO checkpoints VALUES ('k', 'v', 'now')", [])
        .unwrap();
    let released = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        holder.execute_batch("COMMIT").unwrap();
    });
    // Reading while the write transaction is open.
    let reader = SqliteStore::open_with(
        &path,
        &OpenOptions {
            read_only: true,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    assert_eq!(ids(&reader).len(), 1);
    // Writing waits for the other transaction, then succeeds.
    let subject = Subject::Alert(ids(&reader)[0].clone());
    let started = std::time::Instant::now();
    writer
        .triage(&subject, "alice", &state(TriageState::Acknowledged))
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    released.join().unwrap();
    assert_eq!(writer.checkpoint("k").unwrap().as_deref(), Some("v"));
}

/// Regrouping reads the old incidents before it writes: it must take the write lock
/// first, or a service committing in between makes it fail instead of wait.
#[test]
fn regrouping_waits_for_a_writer_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = SqliteStore::open(&path).unwrap();
    let run = store.begin_run(&RunInfo::default()).unwrap();
    store
        .insert_alerts(run, &[alert("r1", "WS1", 1, 1), alert("r2", "WS1", 2, 2)])
        .unwrap();
    regroup(&mut store, 60);
    let incident = store.incidents().unwrap()[0].id.clone();
    store
        .triage(
            &Subject::Incident(incident),
            "alice",
            &state(TriageState::Acknowledged),
        )
        .unwrap();
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    holder
        .execute("INSERT INTO checkpoints VALUES ('k', 'v', 'now')", [])
        .unwrap();
    let released = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        holder.execute_batch("COMMIT").unwrap();
    });
    regroup(&mut store, 60);
    released.join().unwrap();
    assert_eq!(
        store.incidents_page(&IncidentQuery::default()).unwrap()[0].state,
        TriageState::Acknowledged
    );
}
