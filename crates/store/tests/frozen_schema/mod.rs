//! The store's schemas as earlier versions created them, frozen here (never derived
//! from the crate's migrations), for the tests that open old stores.
#![allow(dead_code, clippy::unwrap_used)]

/// Creates the tables of schema `version` (1 or 2) in `db`, as that version did.
pub fn create(db: &rusqlite::Connection, version: u32) {
    db.execute_batch(SCHEMA_V1).unwrap();
    if version >= 2 {
        db.execute_batch(SCHEMA_V2_CHANGES).unwrap();
    }
}

/// The schema of the first released store.
const SCHEMA_V1: &str = r#"
    CREATE TABLE runs (
        id           INTEGER PRIMARY KEY,
        started_at   TEXT NOT NULL,
        finished_at  TEXT,
        info         TEXT NOT NULL,
        summary      TEXT,
        alerts_added INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE rules (
        id         TEXT PRIMARY KEY,
        title      TEXT NOT NULL,
        level      TEXT NOT NULL,
        techniques TEXT NOT NULL,
        first_run  INTEGER NOT NULL REFERENCES runs(id),
        last_run   INTEGER NOT NULL REFERENCES runs(id)
    );
    CREATE TABLE alerts (
        id         TEXT PRIMARY KEY,
        run        INTEGER NOT NULL REFERENCES runs(id),
        rule_id    TEXT NOT NULL,
        level_rank INTEGER NOT NULL,
        event_time TEXT,
        host       TEXT COLLATE NOCASE,
        source     TEXT NOT NULL,
        record_id  INTEGER,
        body       TEXT NOT NULL
    );
    CREATE INDEX alerts_time ON alerts(event_time);
    CREATE INDEX alerts_host ON alerts(host);
    CREATE TABLE alert_techniques (
        alert_id  TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
        technique TEXT NOT NULL,
        PRIMARY KEY (technique, alert_id)
    ) WITHOUT ROWID;
    CREATE TABLE incidents (
        id         TEXT PRIMARY KEY,
        host       TEXT NOT NULL,
        first_seen TEXT,
        last_seen  TEXT,
        score      REAL NOT NULL,
        body       TEXT NOT NULL
    );
"#;

/// What version 2 changed: alert ids computed by a new scheme.
const SCHEMA_V2_CHANGES: &str =
    "ALTER TABLE alerts ADD COLUMN id_scheme INTEGER NOT NULL DEFAULT 1;";
