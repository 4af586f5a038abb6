//! The response audit: an append-only, hash-chained log of every response decision.
//!
//! Each entry's `hash` is SHA-256 over the previous entry's hash and the entry itself
//! (sequence number, time, actor, action, subject, detail; each field length-prefixed,
//! so no two entries encode alike), so changing, removing or reordering any entry
//! breaks every hash after it. Triggers refuse `UPDATE` and `DELETE` on the table, but
//! the chain does not rely on them: [`SqliteStore::verify_audit_chain`] recomputes it
//! and finds edits made with the triggers dropped. Removing entries from the *end*
//! leaves a valid shorter chain, so a head record (count and last hash) is written in
//! the same transaction as every entry and compared with the chain. Someone who can
//! rewrite the whole file (or roll it back to an older copy) can rewrite the head too:
//! against that, keep the head elsewhere (`rampart audit verify` prints it) and pass
//! it back as the expected head.
//!
//! The chain covers response (runs, steps, approvals, cancels, compensations); the
//! triage audit keeps its own append-only table.

use crate::error::Result;
use crate::sqlite::{time_text, SqliteStore};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash an empty chain's head holds and its first entry's `prev_hash`.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of the response audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: u64,
    /// When (stored as fixed-width RFC 3339 text, hashed as stored).
    pub at: String,
    /// Who: a user name, a token's name, or `rampart` for the runner's own decisions.
    pub actor: String,
    /// What: `run.created`, `step.intent`, `step.outcome`, `step.retry`, `approval`, …
    pub action: String,
    /// Which run and step: `run 7`, `run 7 step 2`.
    pub subject: String,
    /// The decision's detail as JSON text (requests and responses redacted: secrets
    /// are never in it).
    pub detail: String,
    /// The previous entry's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) over `prev_hash` and this entry.
    pub hash: String,
}

impl ChainEntry {
    /// The hash this entry should carry, from its fields and `prev_hash`.
    pub fn expected_hash(&self) -> String {
        entry_hash(
            &self.prev_hash,
            self.seq,
            &self.at,
            &self.actor,
            &self.action,
            &self.subject,
            &self.detail,
        )
    }
}

/// The head record: how many entries the chain has and the last one's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// Entries in the chain.
    pub count: u64,
    /// The last entry's hash ([`GENESIS_HASH`] when empty).
    pub hash: String,
}

/// One thing wrong with the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainProblem {
    /// The entry it was found at (for a head mismatch: the head's count).
    pub seq: u64,
    /// What is wrong.
    pub problem: String,
}

/// What verifying the chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainReport {
    /// Entries read.
    pub entries: u64,
    /// The head record as stored.
    pub head: ChainHead,
    /// Every problem, in chain order (at most [`MAX_PROBLEMS`], then counted).
    pub problems: Vec<ChainProblem>,
    /// Problems past those listed.
    pub unlisted_problems: u64,
}

/// Problems listed by a verification; the rest are counted.
pub const MAX_PROBLEMS: usize = 100;

impl ChainReport {
    /// Whether the chain verified: no problem.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Lists a problem, or counts it past [`MAX_PROBLEMS`].
fn problem(report: &mut ChainReport, seq: u64, text: String) {
    if report.problems.len() < MAX_PROBLEMS {
        report.problems.push(ChainProblem { seq, problem: text });
    } else {
        report.unlisted_problems += 1;
    }
}

/// SHA-256 over the previous hash and the entry's fields, each field preceded by its
/// length in bytes (u64, little-endian).
fn entry_hash(
    prev: &str,
    seq: u64,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    let mut digest = Sha256::new();
    let seq_text = seq.to_string();
    for part in [prev, &seq_text, at, actor, action, subject, detail] {
        digest.update((part.len() as u64).to_le_bytes());
        digest.update(part.as_bytes());
    }
    digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Appends one entry inside the caller's transaction (so it commits with the state
/// change it records, or not at all), and moves the head.
pub(crate) fn append(
    tx: &Transaction<'_>,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> rusqlite::Result<u64> {
    let (count, prev): (i64, String) = tx.query_row(
        "SELECT count, hash FROM audit_head WHERE id = 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let seq = count as u64 + 1;
    let at = time_text(at);
    let detail = detail.to_string();
    let hash = entry_hash(&prev, seq, &at, actor, action, subject, &detail);
    tx.prepare_cached(
        "INSERT INTO audit_chain (seq, at, actor, action, subject, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        seq as i64, at, actor, action, subject, detail, prev, hash
    ])?;
    tx.prepare_cached("UPDATE audit_head SET count = ?1, hash = ?2 WHERE id = 1")?
        .execute(params![seq as i64, hash])?;
    Ok(seq)
}

fn entry_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<ChainEntry> {
    Ok(ChainEntry {
        seq: row.get::<_, i64>(0)? as u64,
        at: row.get(1)?,
        actor: row.get(2)?,
        action: row.get(3)?,
        subject: row.get(4)?,
        detail: row.get(5)?,
        prev_hash: row.get(6)?,
        hash: row.get(7)?,
    })
}

impl SqliteStore {
    /// The head record (count and last hash).
    pub fn audit_chain_head(&self) -> Result<ChainHead> {
        let head = self
            .conn
            .query_row(
                "SELECT count, hash FROM audit_head WHERE id = 1",
                [],
                |row| {
                    Ok(ChainHead {
                        count: row.get::<_, i64>(0)? as u64,
                        hash: row.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(head.unwrap_or(ChainHead {
            count: 0,
            hash: GENESIS_HASH.to_owned(),
        }))
    }

    /// Calls `each` with every entry after `since` (a sequence number; 0 for all), in
    /// chain order, one at a time: an export of any length holds one entry in memory.
    /// `each` returning `false` stops.
    pub fn for_each_audit_chain_entry(
        &self,
        since: u64,
        mut each: impl FnMut(ChainEntry) -> bool,
    ) -> Result<()> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT seq, at, actor, action, subject, detail, prev_hash, hash
                 FROM audit_chain WHERE seq > ?1 ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = statement
            .query(params![since.min(i64::MAX as u64) as i64])
            .map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            if !each(entry_of(row).map_err(|e| self.err(e))?) {
                break;
            }
        }
        Ok(())
    }

    /// Entries about one subject prefix (`run 7`: the run and its steps), oldest first.
    pub fn audit_chain_of(&self, subject: &str, limit: usize) -> Result<Vec<ChainEntry>> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT seq, at, actor, action, subject, detail, prev_hash, hash
                 FROM audit_chain WHERE subject = ?1 OR subject LIKE ?2 ESCAPE '!'
                 ORDER BY seq LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let escaped = subject
            .replace('!', "!!")
            .replace('%', "!%")
            .replace('_', "!_");
        let rows = statement
            .query_map(
                params![
                    subject,
                    format!("{escaped} %"),
                    limit.min(i64::MAX as usize) as i64
                ],
                entry_of,
            )
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Recomputes the chain: every entry's sequence number follows the one before
    /// (a removed entry leaves a gap), its `prev_hash` is the hash before it (entries
    /// swapped or reordered break the links), its hash matches its fields (an edited
    /// entry), and the head's count and hash are the last entry's (entries removed
    /// from the end). Reads one entry at a time.
    pub fn verify_audit_chain(&self) -> Result<ChainReport> {
        let head = self.audit_chain_head()?;
        let mut report = ChainReport {
            entries: 0,
            head: head.clone(),
            problems: Vec::new(),
            unlisted_problems: 0,
        };
        let mut expected_seq = 1u64;
        let mut prev_hash = GENESIS_HASH.to_owned();
        let mut last_hash = GENESIS_HASH.to_owned();
        let mut rows: Vec<(u64, String)> = Vec::new();
        self.for_each_audit_chain_entry(0, |entry| {
            report.entries += 1;
            if entry.seq != expected_seq {
                rows.push((
                    entry.seq,
                    format!(
                        "sequence number {} where {expected_seq} was expected: entries removed or renumbered",
                        entry.seq
                    ),
                ));
            }
            if entry.prev_hash != prev_hash {
                rows.push((
                    entry.seq,
                    "does not link to the entry before it: entries removed, swapped or reordered"
                        .to_owned(),
                ));
            }
            if entry.expected_hash() != entry.hash {
                rows.push((
                    entry.seq,
                    "its hash does not match its content: the entry was changed".to_owned(),
                ));
            }
            // Go on from what the entry says, so one break is reported once, not at
            // every entry after it.
            expected_seq = entry.seq.saturating_add(1);
            prev_hash = entry.hash.clone();
            last_hash = entry.hash;
            // Bounded: problems beyond the cap are only counted.
            if rows.len() > MAX_PROBLEMS * 2 {
                for (seq, text) in rows.drain(..) {
                    problem(&mut report, seq, text);
                }
            }
            true
        })?;
        for (seq, text) in rows {
            problem(&mut report, seq, text);
        }
        if head.count != report.entries || head.count != expected_seq.saturating_sub(1) {
            let text = format!(
                "the head records {} entries, the chain has {} ending at sequence number {}: entries removed from the end, or the head changed",
                head.count,
                report.entries,
                expected_seq.saturating_sub(1)
            );
            problem(&mut report, head.count, text);
        } else if head.hash != last_hash {
            problem(
                &mut report,
                head.count,
                "the head's hash is not the last entry's: the last entry or the head was changed"
                    .to_owned(),
            );
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_boundary_moved_changes_the_hash() {
        let a = entry_hash(GENESIS_HASH, 1, "t", "ab", "c", "s", "{}");
        let b = entry_hash(GENESIS_HASH, 1, "t", "a", "bc", "s", "{}");
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
    }
}
