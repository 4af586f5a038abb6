#![allow(clippy::unwrap_used, clippy::expect_used)]
//! API tokens in a real store file: secrets never stored, revocation, roles, and a
//! store of schema version 2 migrating to 3 with its alerts kept.

mod frozen_schema;

use rampart_store::{
    AlertQuery, OpenOptions, Role, SqliteStore, Store, TriageState, APPLICATION_ID,
};

#[test]
fn a_token_verifies_until_revoked_and_its_secret_is_not_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = SqliteStore::open(&path).unwrap();
    let (info, secret) = store.create_token(Role::Analyst, "alice").unwrap();
    let (other, other_secret) = store.create_token(Role::IngestOnly, "shipper").unwrap();
    assert!(
        secret.starts_with("rmp_") && secret.len() == 4 + 43,
        "{secret}"
    );
    assert_ne!(secret, other_secret);
    assert_eq!((info.role, info.name.as_str()), (Role::Analyst, "alice"));

    let verified = store.verify_token(&secret).unwrap().unwrap();
    assert_eq!((verified.id, verified.role), (info.id, Role::Analyst));
    assert!(verified.last_used.is_some());
    assert_eq!(
        store.verify_token(&other_secret).unwrap().unwrap().role,
        Role::IngestOnly
    );
    // Near misses and garbage verify as nothing.
    let mut wrong = secret.clone();
    wrong.pop();
    wrong.push(if secret.ends_with('A') { 'B' } else { 'A' });
    assert!(store.verify_token(&wrong).unwrap().is_none());
    for junk in ["", "rmp_", "Bearer x", &"\u{0}".repeat(5000)] {
        assert!(store.verify_token(junk).unwrap().is_none());
    }

    // The generation moves at each revocation, also one made by another connection
    // (another process's `rampart token revoke`), and at nothing else.
    let watcher = SqliteStore::open(&path).unwrap();
    let before = watcher.token_generation().unwrap();
    assert_eq!(store.token_generation().unwrap(), before);
    assert!(store.revoke_token(info.id).unwrap());
    assert_eq!(watcher.token_generation().unwrap(), before + 1);
    assert!(!store.revoke_token(info.id).unwrap(), "revoked twice");
    assert!(!store.revoke_token(9999).unwrap());
    store.create_token(Role::Viewer, "later").unwrap();
    assert_eq!(watcher.token_generation().unwrap(), before + 1);
    drop(watcher);
    assert!(store.verify_token(&secret).unwrap().is_none());
    assert!(store.verify_token(&other_secret).unwrap().is_some());

    let listed = store.tokens().unwrap();
    assert_eq!(
        listed.iter().map(|t| t.id).take(2).collect::<Vec<_>>(),
        [info.id, other.id]
    );
    assert_eq!(listed.len(), 3);
    assert!(listed[0].revoked_at.is_some() && listed[1].revoked_at.is_none());
    drop(store);

    // Neither secret is anywhere in the database or its journal.
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("s.db-wal")) {
        bytes.extend(wal);
    }
    for s in [&secret, &other_secret] {
        let needle = s.as_bytes();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "secret found in the store file"
        );
        let body = &needle[4..];
        assert!(!bytes.windows(body.len()).any(|w| w == body));
    }
    // And a reopened store still verifies the live one.
    let store = SqliteStore::open(&path).unwrap();
    assert!(store.verify_token(&other_secret).unwrap().is_some());
}

#[test]
fn an_overlong_token_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
    let error = store
        .create_token(Role::Admin, &"n".repeat(10_000))
        .unwrap_err();
    assert!(
        matches!(error.kind, rampart_store::StoreErrorKind::Invalid(_)),
        "{error}"
    );
    assert!(store.tokens().unwrap().is_empty());
}

/// A store as schema version 2 left it (made by that version's SQL), with one alert.
fn v2_store(path: &std::path::Path) {
    let old = rusqlite::Connection::open(path).unwrap();
    frozen_schema::create(&old, 2);
    old.execute_batch(&format!(
        "PRAGMA user_version = 2; PRAGMA application_id = {APPLICATION_ID};
         INSERT INTO runs (id, started_at, info)
         VALUES (1, '2019-03-19T10:00:00.000000Z', '{{\"command\":\"hunt\",\"inputs\":[],\"rule_sources\":[]}}');"
    ))
    .unwrap();
    old.execute(
        "INSERT INTO alerts (id, run, rule_id, level_rank, event_time, host, source, record_id,
         body, id_scheme)
         VALUES ('abc123', 1, 'r1', 3, '2019-03-19T10:01:00.000000Z', 'WS1', 'a.evtx', 1, ?1, 2)",
        [ALERT_BODY],
    )
    .unwrap();
}

#[test]
fn a_version_2_store_migrates_to_3_and_keeps_its_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    v2_store(&path);
    let mut store = SqliteStore::open(&path).unwrap();
    let alerts = store.alerts(&AlertQuery::default()).unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].state, TriageState::New);
    assert!(store.create_token(Role::Viewer, "v").is_ok());
    drop(store);
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 6, "migrated to the newest version");
    // The migrated alert's storing time is its run's start.
    let created: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT created_at FROM alerts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(created, "2019-03-19T10:00:00.000000Z");
}

#[test]
fn a_read_only_open_of_a_version_2_store_migrates_it_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    v2_store(&path);
    let options = OpenOptions {
        read_only: true,
        ..OpenOptions::default()
    };
    let store = SqliteStore::open_with(&path, &options).unwrap();
    assert_eq!(store.alerts(&AlertQuery::default()).unwrap().len(), 1);
    assert!(store.tokens().unwrap().is_empty());
}

const ALERT_BODY: &str = r#"{"id":"abc123","rule_id":"r1","rule_title":"rule r1","level":"high","status":"test","techniques":["T1003.001"],"tactics":[],"tags":[],"event":{"source":"a.evtx","timestamp":"2019-03-19T10:01:00Z","computer":"WS1","channel":"Security","provider":null,"event_id":4624,"record_id":1},"context":[],"matched":[]}"#;
