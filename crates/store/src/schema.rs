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
    // Version 3: the service. API tokens (digests only), triage state per alert and
    // incident, an append-only audit (triggers refuse to change or delete a row),
    // comments, file checkpoints committed with the alerts they produced, and when each
    // alert and incident was stored (for time-to-acknowledge; older alerts take their
    // run's start).
    r#"
    CREATE TABLE tokens (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        role       TEXT NOT NULL,
        digest     TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT,
        last_used  TEXT
    );
    ALTER TABLE alerts ADD COLUMN created_at TEXT;
    UPDATE alerts SET created_at = (SELECT started_at FROM runs WHERE runs.id = alerts.run);
    CREATE INDEX alerts_rule ON alerts(rule_id COLLATE NOCASE);
    ALTER TABLE incidents ADD COLUMN created_at TEXT;
    CREATE TABLE triage (
        subject_kind    TEXT NOT NULL CHECK (subject_kind IN ('alert', 'incident')),
        subject_id      TEXT NOT NULL,
        state           TEXT NOT NULL,
        verdict         TEXT,
        reason          TEXT,
        assignee        TEXT,
        tags            TEXT NOT NULL DEFAULT '[]',
        updated_at      TEXT NOT NULL,
        acknowledged_at TEXT,
        closed_at       TEXT,
        PRIMARY KEY (subject_kind, subject_id)
    ) WITHOUT ROWID;
    CREATE INDEX triage_state ON triage(subject_kind, state);
    CREATE TABLE audit (
        id           INTEGER PRIMARY KEY,
        at           TEXT NOT NULL,
        actor        TEXT NOT NULL,
        subject_kind TEXT NOT NULL,
        subject_id   TEXT NOT NULL,
        field        TEXT NOT NULL,
        old_value    TEXT,
        new_value    TEXT
    );
    CREATE INDEX audit_subject ON audit(subject_kind, subject_id, id);
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;
    CREATE TABLE comments (
        id           INTEGER PRIMARY KEY,
        subject_kind TEXT NOT NULL,
        subject_id   TEXT NOT NULL,
        at           TEXT NOT NULL,
        actor        TEXT NOT NULL,
        body         TEXT NOT NULL
    );
    CREATE INDEX comments_subject ON comments(subject_kind, subject_id, id);
    CREATE TABLE checkpoints (
        source_key TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    "#,
    // Version 4: threat intelligence. Sources (with a TAXII cursor committed with the
    // import it belongs to), indicators (the whole `Indicator` as JSON, beside the
    // columns queries filter on, and when Rampart first and last imported it), their
    // observables indexed by kind and value, the entities feeds describe, and the
    // allow-list. `generation` counts a source's imports: a replacing import deletes
    // the source's indicators an earlier generation saw and this one did not.
    r#"
    CREATE TABLE intel_sources (
        name        TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        location    TEXT,
        cursor      TEXT,
        generation  INTEGER NOT NULL DEFAULT 0,
        last_import TEXT,
        indicators  INTEGER NOT NULL DEFAULT 0,
        entities    INTEGER NOT NULL DEFAULT 0,
        diagnostics INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE intel_indicators (
        seq            INTEGER PRIMARY KEY,
        source         TEXT NOT NULL REFERENCES intel_sources(name) ON DELETE CASCADE,
        id             TEXT NOT NULL,
        body           TEXT NOT NULL,
        valid_until    TEXT,
        detect         INTEGER NOT NULL,
        first_imported TEXT NOT NULL,
        last_imported  TEXT NOT NULL,
        generation     INTEGER NOT NULL,
        UNIQUE (source, id)
    );
    CREATE INDEX intel_indicators_valid_until ON intel_indicators(valid_until)
        WHERE valid_until IS NOT NULL;
    CREATE TABLE intel_observables (
        indicator INTEGER NOT NULL REFERENCES intel_indicators(seq) ON DELETE CASCADE,
        kind      TEXT NOT NULL,
        value     TEXT NOT NULL
    );
    CREATE INDEX intel_observables_value ON intel_observables(kind, value);
    CREATE INDEX intel_observables_indicator ON intel_observables(indicator);
    CREATE TABLE intel_entities (
        source TEXT NOT NULL REFERENCES intel_sources(name) ON DELETE CASCADE,
        id     TEXT NOT NULL,
        kind   TEXT NOT NULL,
        name   TEXT NOT NULL,
        body   TEXT NOT NULL,
        PRIMARY KEY (source, id)
    ) WITHOUT ROWID;
    CREATE TABLE intel_allow (
        kind   TEXT NOT NULL,
        value  TEXT NOT NULL,
        reason TEXT,
        added  TEXT NOT NULL,
        PRIMARY KEY (kind, value)
    ) WITHOUT ROWID;
    "#,
    // Version 5: what the matcher reads of an indicator, apart from its body, so a
    // million indicators load without decoding a million bodies: `matching` (its
    // observables, name, confidence and start of validity, as JSON) and `context`, the
    // part indicators share (labels and what they indicate), stored once per source
    // in `intel_contexts`. Existing indicators are filled in from their bodies.
    r#"
    CREATE TABLE intel_contexts (
        seq    INTEGER PRIMARY KEY,
        source TEXT NOT NULL REFERENCES intel_sources(name) ON DELETE CASCADE,
        body   TEXT NOT NULL,
        UNIQUE (source, body)
    );
    ALTER TABLE intel_indicators ADD COLUMN matching TEXT;
    ALTER TABLE intel_indicators ADD COLUMN context INTEGER REFERENCES intel_contexts(seq);
    INSERT OR IGNORE INTO intel_contexts (source, body)
        SELECT source, json_object('labels', json(json_extract(body, '$.labels')),
                                   'context', json(json_extract(body, '$.context')))
        FROM intel_indicators;
    UPDATE intel_indicators SET
        matching = json_object('all_of', json(json_extract(body, '$.all_of')),
                               'name', json_extract(body, '$.name'),
                               'confidence', json_extract(body, '$.confidence'),
                               'valid_from', json_extract(body, '$.valid_from')),
        context = (SELECT c.seq FROM intel_contexts c
                   WHERE c.source = intel_indicators.source
                     AND c.body = json_object('labels', json(json_extract(intel_indicators.body, '$.labels')),
                                              'context', json(json_extract(intel_indicators.body, '$.context'))));
    "#,
    // Version 6: response. Runs of playbooks (the playbook as it was when the run
    // started, with its digest), their steps (each step's prepared request, the intent,
    // is written before it is sent, its outcome after), analysts' approvals, and the
    // hash-chained audit of every response decision: `audit_chain` rows are refused
    // any change by triggers, and `audit_head` (one row: count and last hash, written
    // in the same transaction as each entry) catches entries removed from the end.
    r#"
    CREATE TABLE respond_runs (
        id              INTEGER PRIMARY KEY,
        playbook_id     TEXT NOT NULL,
        playbook_digest TEXT NOT NULL,
        playbook        TEXT NOT NULL,
        subject_kind    TEXT NOT NULL,
        subject_id      TEXT NOT NULL,
        inputs          TEXT NOT NULL,
        mode            TEXT NOT NULL CHECK (mode IN ('live', 'dry-run')),
        state           TEXT NOT NULL,
        started_by      TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL
    );
    CREATE INDEX respond_runs_state ON respond_runs(state, id);
    CREATE TABLE respond_steps (
        run             INTEGER NOT NULL REFERENCES respond_runs(id),
        idx             INTEGER NOT NULL,
        phase           TEXT NOT NULL CHECK (phase IN ('forward', 'compensation')),
        step_id         TEXT NOT NULL,
        title           TEXT NOT NULL,
        d3fend          TEXT NOT NULL,
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        resend          INTEGER NOT NULL DEFAULT 0,
        next_at         TEXT,
        request         TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        target          TEXT NOT NULL,
        policy          TEXT NOT NULL,
        outcome         TEXT,
        updated_at      TEXT NOT NULL,
        PRIMARY KEY (run, idx)
    ) WITHOUT ROWID;
    CREATE INDEX respond_steps_queue ON respond_steps(state, target, next_at);
    CREATE TABLE respond_approvals (
        id       INTEGER PRIMARY KEY,
        run      INTEGER NOT NULL REFERENCES respond_runs(id),
        idx      INTEGER NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
        actor    TEXT NOT NULL,
        role     TEXT NOT NULL,
        at       TEXT NOT NULL,
        reason   TEXT
    );
    CREATE INDEX respond_approvals_run ON respond_approvals(run, idx);
    CREATE TABLE audit_chain (
        seq       INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        actor     TEXT NOT NULL,
        action    TEXT NOT NULL,
        subject   TEXT NOT NULL,
        detail    TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
    );
    CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
        BEGIN SELECT RAISE(ABORT, 'audit chain entries are append-only'); END;
    CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
        BEGIN SELECT RAISE(ABORT, 'audit chain entries are append-only'); END;
    CREATE TABLE audit_head (
        id    INTEGER PRIMARY KEY CHECK (id = 1),
        count INTEGER NOT NULL,
        hash  TEXT NOT NULL
    );
    INSERT INTO audit_head (id, count, hash)
        VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
    "#,
];
