//! Schema migrations, tracked in SQLite's `user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the schema one version up and runs in the same
//! transaction as the `user_version` bump, so a store is never left half-migrated.
//! New versions are appended; released ones are never edited.

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // Version 1: runs, rules, alerts (+ technique index), incidents.
    r#"
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
    "#,
    // Version 2: alert ids identify the event (host, channel, provider, event id,
    // time, record id or a digest of its fields), no longer the file it was read from.
    // Rows stored before keep their ids and go on working; `id_scheme` says which rule
    // made an id (1: rule + path + record id, 2: the event's identity).
    r#"
    ALTER TABLE alerts ADD COLUMN id_scheme INTEGER NOT NULL DEFAULT 1;
    "#,
];
