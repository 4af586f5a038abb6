#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `rampart token` and the triage commands, run as a user would on a real store file.

mod common;

use chrono::{TimeZone, Utc};
use common::{ok, rampart};
use rampart_correlate::{group_incidents, IncidentConfig, KillChain};
use rampart_event::{Alert, EventMeta, Level, MatchedField};
use rampart_store::{AlertQuery, RunInfo};
use serde_json::Value;
use std::path::Path;

fn lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A store with two alerts on one host, grouped into one incident.
fn seeded_store(path: &Path) -> (Vec<String>, String) {
    let alert = |record: u64, minute: u32| Alert {
        id: String::new(),
        rule_id: "r1".into(),
        rule_title: "Suspicious \u{1b}[31m title".into(),
        level: Level::High,
        status: None,
        techniques: vec!["T1059".into()],
        tactics: vec![],
        tags: vec![],
        event: EventMeta {
            source: "a.evtx".into(),
            timestamp: Some(Utc.with_ymd_and_hms(2019, 3, 19, 10, minute, 0).unwrap()),
            computer: Some("WS1".into()),
            channel: Some("Security".into()),
            provider: None,
            event_id: Some(4688),
            record_id: Some(record),
        },
        context: vec![],
        intel: None,
        matched: vec![MatchedField {
            field: "Image".into(),
            value: "c:\\x.exe".into(),
        }],
    };
    let mut store = rampart_store::open(path).unwrap();
    let run = store.begin_run(&RunInfo::default()).unwrap();
    store
        .insert_alerts(run, &[alert(1, 1), alert(2, 2)])
        .unwrap();
    let stored = store.alerts(&AlertQuery::default()).unwrap();
    let incidents = group_incidents(
        stored.iter().map(|s| (s.id.as_str(), &s.alert)),
        &KillChain::default(),
        &IncidentConfig::default(),
    );
    store.replace_incidents(&incidents).unwrap();
    (
        stored.into_iter().map(|s| s.id).collect(),
        incidents[0].id.clone(),
    )
}

#[test]
fn token_create_prints_only_the_secret_and_list_never_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let db = db.to_str().unwrap();
    let created = ok(&[
        "token",
        "create",
        "--role",
        "ingest-only",
        "--name",
        "shipper",
        "--store",
        db,
    ]);
    let stdout = String::from_utf8(created.stdout).unwrap();
    let secret = stdout.trim_end();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(secret.starts_with("rmp_") && secret.len() == 47, "{secret}");
    assert!(!String::from_utf8_lossy(&created.stderr).contains(secret));

    let listed = ok(&["token", "list", "--json", "--store", db]);
    assert!(!String::from_utf8_lossy(&listed.stdout).contains(&secret[4..]));
    let tokens = lines(&listed.stdout);
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["role"], "ingest-only");
    assert_eq!(tokens[0]["name"], "shipper");
    let id = tokens[0]["id"].as_i64().unwrap().to_string();
    let table = ok(&["token", "list", "--store", db]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("active"));

    // The store verifies it until it is revoked.
    let store = rampart_store::open(Path::new(db)).unwrap();
    assert!(store.verify_token(secret).unwrap().is_some());
    ok(&["token", "revoke", &id, "--store", db]);
    assert!(store.verify_token(secret).unwrap().is_none());
    let again = rampart(&["token", "revoke", &id, "--store", db]);
    assert!(!again.status.success());

    let bad = rampart(&["token", "create", "--role", "root", "--store", db]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("ingest-only"));
}

#[test]
fn an_analyst_triages_alerts_and_incidents_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let (alerts, incident) = seeded_store(&path);
    let db = path.to_str().unwrap();

    // Closing without a verdict is refused, with the reason on stderr.
    let refused = rampart(&[
        "alerts", "triage", &alerts[0], "--state", "closed", "--actor", "alice", "--store", db,
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("verdict"));

    let record: Value = serde_json::from_slice(
        &ok(&[
            "alerts",
            "triage",
            &alerts[0],
            "--state",
            "closed",
            "--verdict",
            "false-positive",
            "--reason",
            "admin script",
            "--tag",
            "noise",
            "--actor",
            "alice",
            "--json",
            "--store",
            db,
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(record["state"], "closed");
    assert_eq!(record["verdict"], "false-positive");
    assert_eq!(record["tags"], serde_json::json!(["noise"]));

    let closed = lines(
        &ok(&[
            "alerts", "list", "--state", "closed", "--json", "--store", db,
        ])
        .stdout,
    );
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["id"], alerts[0].as_str());
    assert_eq!(closed[0]["state"], "closed");
    let new = lines(&ok(&["alerts", "list", "--state", "new", "--json", "--store", db]).stdout);
    assert_eq!(new.len(), 1);
    let table = String::from_utf8(ok(&["alerts", "list", "--store", db]).stdout).unwrap();
    assert!(table.contains("closed") && table.contains("new"), "{table}");
    assert!(!table.contains('\u{1b}'), "attacker text is escaped");

    ok(&[
        "incidents",
        "triage",
        &incident.to_lowercase(),
        "--state",
        "in-progress",
        "--assign",
        "bob",
        "--comment",
        "looking",
        "--actor",
        "bob",
        "--store",
        db,
    ]);
    let listed = lines(
        &ok(&[
            "incidents",
            "list",
            "--state",
            "in-progress",
            "--json",
            "--store",
            db,
        ])
        .stdout,
    );
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], incident.as_str());
    assert_eq!(listed[0]["state"], "in-progress");
    assert!(lines(
        &ok(&[
            "incidents",
            "list",
            "--state",
            "new",
            "--json",
            "--store",
            db
        ])
        .stdout
    )
    .is_empty());

    // `show` tells where a subject stands, with its comments.
    let shown =
        String::from_utf8(ok(&["alerts", "show", &alerts[0], "--store", db]).stdout).unwrap();
    assert!(
        shown.contains("closed (false-positive: admin script), tags noise"),
        "{shown}"
    );
    let detail = common::json(&["incidents", "show", &incident, "--json", "--store", db]);
    assert_eq!(detail["triage"]["state"], "in-progress");
    assert_eq!(detail["triage"]["assignee"], "bob");
    assert_eq!(detail["comments"][0]["text"], "looking");

    let metrics = common::json(&["incidents", "metrics", "--json", "--store", db]);
    let rule = &metrics["rules"][0];
    assert_eq!(
        (&rule["rule_id"], &rule["alerts"], &rule["false_positives"]),
        (
            &serde_json::json!("r1"),
            &serde_json::json!(2),
            &serde_json::json!(1)
        )
    );
    assert_eq!(rule["false_positive_rate"], 1.0);
    assert_eq!(metrics["incident_time_to_acknowledge"]["count"], 1);
    let text = String::from_utf8(ok(&["incidents", "metrics", "--store", db]).stdout).unwrap();
    assert!(text.contains("100%"), "{text}");

    let missing = rampart(&[
        "incidents",
        "triage",
        "INC-nope",
        "--state",
        "acknowledged",
        "--actor",
        "bob",
        "--store",
        db,
    ]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no incident"));

    let store = rampart_store::open(&path).unwrap();
    let audit = store.audit(None, 100).unwrap();
    let actors: Vec<_> = audit.iter().map(|e| e.actor.as_str()).collect();
    assert!(
        actors.contains(&"alice") && actors.contains(&"bob"),
        "{actors:?}"
    );
}
