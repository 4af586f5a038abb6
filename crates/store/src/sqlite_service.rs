//! The SQLite side of the service: tokens, triage with its audit, metrics, incident
//! pages. Kept apart from the hunt's tables in `sqlite.rs`.

use crate::access::{new_secret, plausible_secret, secret_digest, Role, TokenId, TokenInfo};
use crate::error::{Result, StoreError, StoreErrorKind};
use crate::model::{IncidentQuery, StoredIncident};
use crate::sqlite::{parse_time, push_page, time_text, SqliteStore};
use crate::triage::{
    AuditEntry, Comment, DurationStats, IncidentMetrics, RuleMetrics, Subject, TriageChange,
    TriageMetrics, TriageRecord, TriageState, Verdict, MAX_COMMENT_BYTES, MAX_NAME_BYTES,
    MAX_REASON_BYTES, MAX_TAGS,
};
use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{params, OptionalExtension, ToSql};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// `last_used` is written at most this often per token, so that verifying a token on
/// every request does not mean a write on every request.
const LAST_USED_GRANULARITY: TimeDelta = TimeDelta::minutes(1);

/// An audit row to write: field, from, to.
type AuditRow = (&'static str, Option<String>, Option<String>);

type TokenRow = (i64, String, String, String, Option<String>, Option<String>);

impl SqliteStore {
    fn invalid(&self, why: impl Into<String>) -> StoreError {
        StoreError::new(&self.path, StoreErrorKind::Invalid(why.into()))
    }

    fn not_found(&self, what: String) -> StoreError {
        StoreError::new(&self.path, StoreErrorKind::NotFound(what))
    }

    fn time(&self, id: impl ToString, text: &str) -> Result<DateTime<Utc>> {
        parse_time(text).ok_or_else(|| self.bad(id, format!("bad time `{text}`")))
    }

    fn opt_time(&self, id: impl ToString, text: Option<String>) -> Result<Option<DateTime<Utc>>> {
        text.map(|t| self.time(id, &t)).transpose()
    }

    fn token_info(&self, row: TokenRow) -> Result<TokenInfo> {
        let (id, name, role, created, revoked, used) = row;
        Ok(TokenInfo {
            id,
            name,
            role: role.parse::<Role>().map_err(|e| self.bad(id, e))?,
            created_at: self.time(id, &created)?,
            revoked_at: self.opt_time(id, revoked)?,
            last_used: self.opt_time(id, used)?,
        })
    }

    pub(crate) fn create_token_impl(
        &mut self,
        role: Role,
        name: &str,
    ) -> Result<(TokenInfo, String)> {
        let name = name.trim();
        if name.len() > MAX_NAME_BYTES {
            return Err(self.invalid(format!("a token name is at most {MAX_NAME_BYTES} bytes")));
        }
        let secret = new_secret()
            .map_err(|e| StoreError::new(&self.path, StoreErrorKind::Random(e.to_string())))?;
        let now = Utc::now();
        self.conn
            .execute(
                "INSERT INTO tokens (name, role, digest, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, role.as_str(), secret_digest(&secret), time_text(now)],
            )
            .map_err(|e| self.err(e))?;
        let info = TokenInfo {
            id: self.conn.last_insert_rowid(),
            name: name.to_string(),
            role,
            created_at: parse_time(&time_text(now)).unwrap_or(now),
            revoked_at: None,
            last_used: None,
        };
        Ok((info, secret))
    }

    pub(crate) fn verify_token_impl(&self, secret: &str) -> Result<Option<TokenInfo>> {
        if !plausible_secret(secret) {
            return Ok(None);
        }
        let row: Option<TokenRow> = self
            .conn
            .query_row(
                "SELECT id, name, role, created_at, revoked_at, last_used FROM tokens
                 WHERE digest = ?1",
                [secret_digest(secret)],
                |r| r.try_into(),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some(row) = row else { return Ok(None) };
        let mut info = self.token_info(row)?;
        if info.revoked_at.is_some() {
            return Ok(None);
        }
        let now = Utc::now();
        if info
            .last_used
            .is_none_or(|used| now - used >= LAST_USED_GRANULARITY)
        {
            self.conn
                .execute(
                    "UPDATE tokens SET last_used = ?1 WHERE id = ?2",
                    params![time_text(now), info.id],
                )
                .map_err(|e| self.err(e))?;
            info.last_used = Some(now);
        }
        Ok(Some(info))
    }

    pub(crate) fn tokens_impl(&self) -> Result<Vec<TokenInfo>> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT id, name, role, created_at, revoked_at, last_used FROM tokens ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([], |r| r.try_into())
            .map_err(|e| self.err(e))?;
        let mut tokens = Vec::new();
        for row in rows {
            tokens.push(self.token_info(row.map_err(|e| self.err(e))?)?);
        }
        Ok(tokens)
    }

    pub(crate) fn revoke_token_impl(&mut self, id: TokenId) -> Result<bool> {
        let changed = self
            .conn
            .execute(
                "UPDATE tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
                params![time_text(Utc::now()), id],
            )
            .map_err(|e| self.err(e))?;
        Ok(changed > 0)
    }

    pub(crate) fn token_generation_impl(&self) -> Result<u64> {
        let revoked: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM tokens WHERE revoked_at IS NOT NULL")
            .and_then(|mut statement| statement.query_row([], |r| r.get(0)))
            .map_err(|e| self.err(e))?;
        Ok(u64::try_from(revoked).unwrap_or(0))
    }

    pub(crate) fn incidents_page_impl(&self, query: &IncidentQuery) -> Result<Vec<StoredIncident>> {
        let mut sql = String::from(
            "SELECT i.id, i.body, t.state, i.created_at FROM incidents i
             LEFT JOIN triage t ON t.subject_kind = 'incident' AND t.subject_id = i.id
             WHERE 1 = 1",
        );
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(state) = query.state {
            sql.push_str(" AND COALESCE(t.state, 'new') = ?");
            args.push(Box::new(state.as_str()));
        }
        if let Some(host) = &query.host {
            sql.push_str(" AND i.host = ? COLLATE NOCASE");
            args.push(Box::new(host.clone()));
        }
        sql.push_str(" ORDER BY i.score DESC, i.first_seen, i.id");
        push_page(&mut sql, &mut args, query.offset, query.limit);
        let mut statement = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut page = Vec::new();
        for row in rows {
            let (id, body, state, created) = row.map_err(|e| self.err(e))?;
            page.push(StoredIncident {
                incident: serde_json::from_str(&body).map_err(|e| self.bad(&id, e))?,
                state: self.state(&id, state.as_deref())?,
                created_at: self.opt_time(&id, created)?,
            });
        }
        Ok(page)
    }

    fn state(&self, id: &str, text: Option<&str>) -> Result<TriageState> {
        text.map_or(Ok(TriageState::New), |t| {
            t.parse().map_err(|e| self.bad(id, e))
        })
    }

    /// The subject with its id as stored, or `None` when there is no such subject.
    fn canonical(&self, subject: &Subject) -> Result<Option<Subject>> {
        let found: Option<String> = match subject {
            Subject::Alert(id) => self.conn.query_row(
                "SELECT id FROM alerts WHERE id = ?1",
                [id.trim().to_ascii_lowercase()],
                |r| r.get(0),
            ),
            Subject::Incident(id) => self.conn.query_row(
                "SELECT id FROM incidents WHERE id = ?1 COLLATE NOCASE",
                [id.trim()],
                |r| r.get(0),
            ),
        }
        .optional()
        .map_err(|e| self.err(e))?;
        Ok(found.map(|id| match subject {
            Subject::Alert(_) => Subject::Alert(id),
            Subject::Incident(_) => Subject::Incident(id),
        }))
    }

    /// The triage row of a subject known to exist (untouched when it has none).
    fn record_of(&self, subject: Subject) -> Result<TriageRecord> {
        type Row = (
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT state, verdict, reason, assignee, tags, updated_at, acknowledged_at,
                 closed_at FROM triage WHERE subject_kind = ?1 AND subject_id = ?2",
                [subject.kind(), subject.id()],
                |r| r.try_into(),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((state, verdict, reason, assignee, tags, updated, acked, closed)) = row else {
            return Ok(TriageRecord::untouched(subject));
        };
        let id = subject.to_string();
        Ok(TriageRecord {
            state: self.state(&id, Some(&state))?,
            verdict: verdict
                .map(|v| v.parse::<Verdict>())
                .transpose()
                .map_err(|e| self.bad(&id, e))?,
            reason,
            assignee,
            tags: serde_json::from_str(&tags).map_err(|e| self.bad(&id, e))?,
            updated_at: Some(self.time(&id, &updated)?),
            acknowledged_at: self.opt_time(&id, acked)?,
            closed_at: self.opt_time(&id, closed)?,
            subject,
        })
    }

    pub(crate) fn triage_record_impl(&self, subject: &Subject) -> Result<Option<TriageRecord>> {
        self.canonical(subject)?
            .map(|s| self.record_of(s))
            .transpose()
    }

    /// Checks a change's texts before anything is read or written.
    fn check_change(&self, actor: &str, change: &TriageChange) -> Result<()> {
        let name = |what: &str, text: &str| -> Result<()> {
            if text.trim().is_empty() {
                return Err(self.invalid(format!("an empty {what}")));
            }
            if text.len() > MAX_NAME_BYTES {
                return Err(self.invalid(format!("a {what} is at most {MAX_NAME_BYTES} bytes")));
            }
            Ok(())
        };
        name("actor", actor)?;
        if let Some(Some(assignee)) = &change.assignee {
            name("assignee", assignee)?;
        }
        for tag in change.add_tags.iter().chain(&change.remove_tags) {
            name("tag", tag)?;
        }
        if change
            .reason
            .as_ref()
            .is_some_and(|r| r.len() > MAX_REASON_BYTES)
        {
            return Err(self.invalid(format!("a reason is at most {MAX_REASON_BYTES} bytes")));
        }
        if let Some(comment) = &change.comment {
            if comment.trim().is_empty() {
                return Err(self.invalid("an empty comment"));
            }
            if comment.len() > MAX_COMMENT_BYTES {
                return Err(self.invalid(format!("a comment is at most {MAX_COMMENT_BYTES} bytes")));
            }
        }
        Ok(())
    }

    /// The record after `change`, with the audit rows `(field, from, to)` it needs.
    fn apply(
        &self,
        current: &TriageRecord,
        change: &TriageChange,
        now: DateTime<Utc>,
    ) -> Result<(TriageRecord, Vec<AuditRow>)> {
        let mut next = current.clone();
        let mut audit = Vec::new();
        let to_state = change.state.unwrap_or(current.state);
        if !current.state.may_become(to_state) {
            return Err(self.invalid(format!(
                "{} cannot go from {} to {} (forward only; a closed one may be reopened \
                 to in-progress)",
                current.subject, current.state, to_state
            )));
        }
        let reason = change.reason.as_ref().map(|r| r.trim().to_string());
        if to_state == TriageState::Closed {
            let closing = current.state != TriageState::Closed;
            next.verdict = change.verdict.or(current.verdict);
            next.reason = reason.or_else(|| current.reason.clone());
            if next.verdict.is_none() {
                return Err(self.invalid(
                    "closing needs a verdict (true-positive, benign-true-positive or \
                     false-positive)",
                ));
            }
            if next.reason.as_ref().is_none_or(|r| r.is_empty()) {
                return Err(self.invalid("closing needs a reason"));
            }
            if closing {
                next.closed_at = Some(now);
            }
        } else {
            if change.verdict.is_some() || change.reason.is_some() {
                return Err(
                    self.invalid("a verdict and a reason are given when closing (state closed)")
                );
            }
            // Reopened: the old verdict no longer holds (the audit keeps it).
            next.verdict = None;
            next.reason = None;
            next.closed_at = None;
        }
        next.state = to_state;
        if to_state != TriageState::New && next.acknowledged_at.is_none() {
            next.acknowledged_at = Some(now);
        }
        if let Some(assignee) = &change.assignee {
            next.assignee = assignee.as_ref().map(|a| a.trim().to_string());
        }
        let mut tags: BTreeSet<String> = current.tags.iter().cloned().collect();
        for tag in &change.remove_tags {
            if tags.remove(tag.trim()) {
                audit.push(("tag", Some(tag.trim().to_string()), None));
            }
        }
        for tag in &change.add_tags {
            if tags.insert(tag.trim().to_string()) {
                audit.push(("tag", None, Some(tag.trim().to_string())));
            }
        }
        if tags.len() > MAX_TAGS {
            return Err(self.invalid(format!("at most {MAX_TAGS} tags")));
        }
        next.tags = tags.into_iter().collect();
        let mut fields = Vec::new();
        let text = |s: TriageState| Some(s.as_str().to_string());
        if next.state != current.state {
            fields.push(("state", text(current.state), text(next.state)));
        }
        if next.verdict != current.verdict {
            let v = |v: Option<Verdict>| v.map(|v| v.as_str().to_string());
            fields.push(("verdict", v(current.verdict), v(next.verdict)));
        }
        if next.reason != current.reason {
            fields.push(("reason", current.reason.clone(), next.reason.clone()));
        }
        if next.assignee != current.assignee {
            fields.push(("assignee", current.assignee.clone(), next.assignee.clone()));
        }
        fields.extend(audit);
        Ok((next, fields))
    }

    pub(crate) fn triage_impl(
        &mut self,
        subject: &Subject,
        actor: &str,
        change: &TriageChange,
    ) -> Result<TriageRecord> {
        self.check_change(actor, change)?;
        let actor = actor.trim();
        let (path, busy) = (self.path.clone(), self.busy_ms);
        let sql = |e| StoreError::sqlite(&path, e, busy);
        // Read and write in one IMMEDIATE transaction: two analysts changing one
        // subject at once are serialised, and each audit row's `from` is true.
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(sql)?;
        let result = self.triage_in_transaction(subject, actor, change);
        match result {
            Ok(record) => {
                self.conn.execute_batch("COMMIT").map_err(sql)?;
                Ok(record)
            }
            Err(error) => {
                // The error says what went wrong; a failed rollback changes nothing
                // for the caller (SQLite rolls back on close).
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(error)
            }
        }
    }

    fn triage_in_transaction(
        &self,
        subject: &Subject,
        actor: &str,
        change: &TriageChange,
    ) -> Result<TriageRecord> {
        let Some(subject) = self.canonical(subject)? else {
            // The id is the caller's text: quoted short, whatever its length.
            let id: String = subject.id().chars().take(80).collect();
            return Err(self.not_found(format!("{} `{id}`", subject.kind())));
        };
        let current = self.record_of(subject.clone())?;
        let now = parse_time(&time_text(Utc::now())).unwrap_or_else(Utc::now);
        let (mut next, fields) = self.apply(&current, change, now)?;
        if fields.is_empty() && change.comment.is_none() {
            return Ok(current);
        }
        next.updated_at = Some(now);
        let at = time_text(now);
        let tags = serde_json::to_string(&next.tags).map_err(|e| self.bad(&subject, e))?;
        self.conn
            .execute(
                "INSERT INTO triage (subject_kind, subject_id, state, verdict, reason, assignee,
                 tags, updated_at, acknowledged_at, closed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT(subject_kind, subject_id) DO UPDATE SET state = ?3, verdict = ?4,
                 reason = ?5, assignee = ?6, tags = ?7, updated_at = ?8, acknowledged_at = ?9,
                 closed_at = ?10",
                params![
                    subject.kind(),
                    subject.id(),
                    next.state.as_str(),
                    next.verdict.map(Verdict::as_str),
                    next.reason,
                    next.assignee,
                    tags,
                    at,
                    next.acknowledged_at.map(time_text),
                    next.closed_at.map(time_text),
                ],
            )
            .map_err(|e| self.err(e))?;
        let mut fields = fields;
        if let Some(comment) = &change.comment {
            self.conn
                .execute(
                    "INSERT INTO comments (subject_kind, subject_id, at, actor, body)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![subject.kind(), subject.id(), at, actor, comment],
                )
                .map_err(|e| self.err(e))?;
            fields.push(("comment", None, Some(comment.clone())));
        }
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT INTO audit (at, actor, subject_kind, subject_id, field, old_value,
                 new_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(|e| self.err(e))?;
        for (field, from, to) in fields {
            insert
                .execute(params![
                    at,
                    actor,
                    subject.kind(),
                    subject.id(),
                    field,
                    from,
                    to
                ])
                .map_err(|e| self.err(e))?;
        }
        Ok(next)
    }

    pub(crate) fn audit_impl(
        &self,
        subject: Option<&Subject>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>> {
        let mut sql = String::from(
            "SELECT id, at, actor, subject_kind, subject_id, field, old_value, new_value
             FROM audit",
        );
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(subject) = subject {
            let subject = self.canonical(subject)?.unwrap_or_else(|| subject.clone());
            sql.push_str(" WHERE subject_kind = ? AND subject_id = ?");
            args.push(Box::new(subject.kind()));
            args.push(Box::new(subject.id().to_string()));
        }
        sql.push_str(" ORDER BY id DESC");
        push_page(&mut sql, &mut args, None, Some(limit));
        let mut statement = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let rows = statement
            .query_map(rusqlite::params_from_iter(args.iter()), |r| r.try_into())
            .map_err(|e| self.err(e))?;
        let mut entries = Vec::new();
        for row in rows {
            let (id, at, actor, kind, subject_id, field, from, to): Row =
                row.map_err(|e| self.err(e))?;
            let subject = Subject::from_parts(&kind, subject_id)
                .ok_or_else(|| self.bad(id, format!("unknown subject kind `{kind}`")))?;
            entries.push(AuditEntry {
                id,
                at: self.time(id, &at)?,
                actor,
                subject,
                field,
                from,
                to,
            });
        }
        Ok(entries)
    }

    pub(crate) fn comments_impl(&self, subject: &Subject) -> Result<Vec<Comment>> {
        let subject = self.canonical(subject)?.unwrap_or_else(|| subject.clone());
        let mut statement = self
            .conn
            .prepare(
                "SELECT id, at, actor, body FROM comments
                 WHERE subject_kind = ?1 AND subject_id = ?2 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([subject.kind(), subject.id()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut comments = Vec::new();
        for row in rows {
            let (id, at, actor, text) = row.map_err(|e| self.err(e))?;
            comments.push(Comment {
                id,
                at: self.time(id, &at)?,
                actor,
                text,
            });
        }
        Ok(comments)
    }

    pub(crate) fn triage_metrics_impl(&self) -> Result<TriageMetrics> {
        let secs = |from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>| {
            from.zip(to)
                .map(|(f, t)| ((t - f).num_milliseconds().max(0)) as f64 / 1000.0)
        };
        // An incident's verdict stands for its alerts that have none of their own.
        let mut inherited: HashMap<String, Verdict> = HashMap::new();
        {
            let mut statement = self
                .conn
                .prepare(
                    "SELECT json_extract(j.value, '$.alert_id'), t.verdict
                     FROM incidents i
                     JOIN triage t ON t.subject_kind = 'incident' AND t.subject_id = i.id
                     , json_each(i.body, '$.timeline') j
                     WHERE t.verdict IS NOT NULL",
                )
                .map_err(|e| self.err(e))?;
            let rows = statement
                .query_map([], |r| {
                    Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(|e| self.err(e))?;
            for row in rows {
                let (alert, verdict) = row.map_err(|e| self.err(e))?;
                if let (Some(alert), Ok(verdict)) = (alert, verdict.parse::<Verdict>()) {
                    inherited.insert(alert, verdict);
                }
            }
        }
        let mut rules: BTreeMap<String, RuleMetrics> = BTreeMap::new();
        let (mut alert_ack, mut alert_close) = (Vec::new(), Vec::new());
        {
            let mut statement = self
                .conn
                .prepare(
                    "SELECT a.id, a.rule_id, a.created_at, t.verdict, t.acknowledged_at,
                     t.closed_at FROM alerts a
                     LEFT JOIN triage t ON t.subject_kind = 'alert' AND t.subject_id = a.id",
                )
                .map_err(|e| self.err(e))?;
            type Row = (
                String,
                String,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
            );
            let rows = statement
                .query_map([], |r| r.try_into())
                .map_err(|e| self.err(e))?;
            for row in rows {
                let (id, rule, created, verdict, acked, closed): Row =
                    row.map_err(|e| self.err(e))?;
                let created = self.opt_time(&id, created)?;
                if let Some(s) = secs(created, self.opt_time(&id, acked)?) {
                    alert_ack.push(s);
                }
                if let Some(s) = secs(created, self.opt_time(&id, closed)?) {
                    alert_close.push(s);
                }
                let verdict = match verdict {
                    Some(v) => Some(v.parse::<Verdict>().map_err(|e| self.bad(&id, e))?),
                    None => inherited.get(&id).copied(),
                };
                let entry = rules.entry(rule.clone()).or_insert_with(|| RuleMetrics {
                    rule_id: rule,
                    alerts: 0,
                    with_verdict: 0,
                    true_positives: 0,
                    benign_true_positives: 0,
                    false_positives: 0,
                    false_positive_rate: None,
                });
                entry.alerts += 1;
                if let Some(verdict) = verdict {
                    entry.with_verdict += 1;
                    match verdict {
                        Verdict::TruePositive => entry.true_positives += 1,
                        Verdict::BenignTruePositive => entry.benign_true_positives += 1,
                        Verdict::FalsePositive => entry.false_positives += 1,
                    }
                }
            }
        }
        let mut rules: Vec<RuleMetrics> = rules
            .into_values()
            .map(|mut r| {
                if r.with_verdict > 0 {
                    r.false_positive_rate = Some(r.false_positives as f64 / r.with_verdict as f64);
                }
                r
            })
            .collect();
        rules.sort_by(|a, b| {
            b.false_positives
                .cmp(&a.false_positives)
                .then(b.alerts.cmp(&a.alerts))
                .then(a.rule_id.cmp(&b.rule_id))
        });
        let mut incidents = Vec::new();
        {
            let mut statement = self
                .conn
                .prepare(
                    "SELECT i.id, i.created_at, t.state, t.acknowledged_at, t.closed_at
                     FROM incidents i
                     LEFT JOIN triage t ON t.subject_kind = 'incident' AND t.subject_id = i.id
                     ORDER BY i.score DESC, i.first_seen, i.id",
                )
                .map_err(|e| self.err(e))?;
            type Row = (
                String,
                Option<String>,
                Option<String>,
                Option<String>,
                Option<String>,
            );
            let rows = statement
                .query_map([], |r| r.try_into())
                .map_err(|e| self.err(e))?;
            for row in rows {
                let (id, created, state, acked, closed): Row = row.map_err(|e| self.err(e))?;
                let created_at = self.opt_time(&id, created)?;
                incidents.push(IncidentMetrics {
                    state: self.state(&id, state.as_deref())?,
                    time_to_acknowledge_secs: secs(created_at, self.opt_time(&id, acked)?),
                    time_to_close_secs: secs(created_at, self.opt_time(&id, closed)?),
                    created_at,
                    id,
                });
            }
        }
        Ok(TriageMetrics {
            incident_time_to_acknowledge: DurationStats::of(
                incidents
                    .iter()
                    .filter_map(|i| i.time_to_acknowledge_secs)
                    .collect(),
            ),
            incident_time_to_close: DurationStats::of(
                incidents
                    .iter()
                    .filter_map(|i| i.time_to_close_secs)
                    .collect(),
            ),
            alert_time_to_acknowledge: DurationStats::of(alert_ack),
            alert_time_to_close: DurationStats::of(alert_close),
            incidents,
            rules,
        })
    }
}
