//! Threat intelligence in the store: sources, indicators with their observables, the
//! entities feeds describe, and the allow-list.
//!
//! An import is one transaction: it adds, updates or (replacing) removes a source's
//! indicators, its entities, its counts and its TAXII cursor together, so a failure
//! half-way leaves what was stored exactly as it was. Each indicator is kept whole (its
//! JSON) beside the columns queries filter on; its observables get a row each, indexed
//! by kind and value, for lookups and statistics.

use crate::error::{Result, StoreError, StoreErrorKind};
use crate::sqlite::{parse_time, push_page, time_text, write_transaction, SqliteStore, TxError};
use chrono::{DateTime, Utc};
use rampart_intel::{Entity, Feed, Indicator, IntelContext, Observable, ObservableKind};
use rusqlite::{params, OptionalExtension, ToSql, Transaction};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// How an import treats the source's indicators that the feed does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// The feed is the whole source: its indicators (and entities) not in the feed are
    /// removed. A file re-imported after its publisher withdrew an indicator.
    Replace,
    /// The feed adds to the source: new indicators are added, known ones updated,
    /// none removed. TAXII increments (`added_after`).
    Merge,
}

/// Besides the feed, what an import records about its source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Where the feed came from (file path, collection URL), for `intel_sources`.
    pub location: Option<String>,
    /// The source's cursor after this import (TAXII `added_after`), committed with it.
    pub cursor: Option<String>,
    /// The source's format (`stix`, `misp`, `list`, `taxii`); default: the part of the
    /// source name before its first `:`.
    pub kind: Option<String>,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOutcome {
    /// Indicators the source did not hold.
    pub added: u64,
    /// Indicators the source held, changed by this feed.
    pub updated: u64,
    /// Indicators the source held exactly so (their last import time is updated).
    pub unchanged: u64,
    /// Indicators of the source the feed no longer holds (replacing imports only).
    pub removed: u64,
    /// Entities the feed described.
    pub entities: u64,
}

/// A feed source as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelSource {
    /// Its name (`misp:<event uuid>`, `stix:<file name>`, or one given on import).
    pub name: String,
    /// Its format (`stix`, `misp`, `list`, `taxii`).
    pub kind: String,
    /// Where it was last imported from.
    pub location: Option<String>,
    /// TAXII `added_after` of the last import, when the source has one.
    pub cursor: Option<String>,
    /// How many imports it has seen.
    pub imports: u64,
    /// When it was last imported.
    pub last_import: Option<DateTime<Utc>>,
    /// Indicators stored.
    pub indicators: u64,
    /// Entities stored.
    pub entities: u64,
    /// Diagnostics of its last import (what the reader left out).
    pub diagnostics: u64,
}

/// An indicator as stored, with when Rampart imported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredIndicator {
    /// The indicator, as the feed gave it (its `source` is the source it is stored
    /// under).
    pub indicator: Indicator,
    /// The first import that held it.
    pub first_imported: DateTime<Utc>,
    /// The last import that held it.
    pub last_imported: DateTime<Utc>,
}

/// Which indicators [`SqliteStore::search_indicators`] returns; every filter given must
/// hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndicatorQuery {
    /// Of this source.
    pub source: Option<String>,
    /// With this id.
    pub id: Option<String>,
    /// With an observable of this kind.
    pub kind: Option<ObservableKind>,
    /// With an observable of exactly this (normalised) value.
    pub value: Option<String>,
    /// Skip this many.
    pub offset: Option<usize>,
    /// Return at most this many.
    pub limit: Option<usize>,
}

/// Indicator counts of one source and observable kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelCount {
    /// The source.
    pub source: String,
    /// The observable kind (an indicator of two kinds counts under both).
    pub kind: ObservableKind,
    /// Indicators.
    pub indicators: u64,
    /// Of those, meant for detection.
    pub detect: u64,
    /// Of those, kept for context only (MISP `to_ids` false).
    pub context_only: u64,
    /// Of those, past their `valid_until` (until `expire` removes them).
    pub expired: u64,
}

/// What the store holds of threat intelligence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelStats {
    /// Per source and kind, sorted.
    pub counts: Vec<IntelCount>,
    /// Indicators in all.
    pub indicators: u64,
    /// Entities in all.
    pub entities: u64,
    /// Allow-list entries.
    pub allowed: u64,
}

/// An allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowEntry {
    /// What never alerts.
    pub observable: Observable,
    /// Why (`our mail gateway`).
    pub reason: Option<String>,
    /// When it was added.
    pub added: DateTime<Utc>,
}

/// An entity and the source that described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEntity {
    /// The source.
    pub source: String,
    /// The entity.
    pub entity: Entity,
}

/// Feeds with more indicators than this import with a larger page cache.
const IMPORT_CACHE_THRESHOLD: usize = 10_000;

/// That cache, in SQLite's unit for a size (negative: KiB): 256 MiB at most.
const IMPORT_CACHE_KIB: i64 = -262_144;

/// The part of a source name before its first `:` (`misp:…` → `misp`).
fn kind_of_source(name: &str) -> &str {
    name.split_once(':').map_or("feed", |(kind, _)| kind)
}

impl SqliteStore {
    fn intel_invalid(&self, why: impl Into<String>) -> StoreError {
        StoreError::new(&self.path, StoreErrorKind::Invalid(why.into()))
    }

    fn in_write<T>(
        &mut self,
        work: impl FnOnce(&Transaction<'_>) -> std::result::Result<T, TxError>,
    ) -> Result<T> {
        let (path, busy) = (self.path.clone(), self.busy_ms);
        let tx =
            write_transaction(&mut self.conn).map_err(|e| StoreError::sqlite(&path, e, busy))?;
        let value = work(&tx).map_err(|e| e.at(&path, busy))?;
        tx.commit()
            .map_err(|e| StoreError::sqlite(&path, e, busy))?;
        Ok(value)
    }

    /// [`SqliteStore::import_feed_with`] without a location or cursor.
    pub fn import_feed(&mut self, feed: &Feed, mode: ImportMode) -> Result<ImportOutcome> {
        self.import_feed_with(feed, mode, &ImportOptions::default())
    }

    /// Stores a feed under its source name, in one transaction: indicators added,
    /// updated (by id) or, with [`ImportMode::Replace`], removed when the feed no longer
    /// holds them; entities likewise; the source's counts and cursor. Every indicator is
    /// stored under the feed's source, whatever its own `source` says. On any failure
    /// nothing of the import is kept.
    pub fn import_feed_with(
        &mut self,
        feed: &Feed,
        mode: ImportMode,
        options: &ImportOptions,
    ) -> Result<ImportOutcome> {
        if feed.source.trim().is_empty() {
            return Err(self.intel_invalid("a feed needs a source name"));
        }
        let now = time_text(Utc::now());
        // A large feed inserts into the (kind, value) index at random places: with
        // SQLite's default 2 MiB page cache most inserts would miss it. The cache grows
        // only as pages are used and goes back to the default after the import.
        let big = feed.indicators.len() > IMPORT_CACHE_THRESHOLD;
        if big {
            self.conn
                .pragma_update(None, "cache_size", IMPORT_CACHE_KIB)
                .map_err(|e| self.err(e))?;
        }
        let outcome = self.in_write(|tx| import_in(tx, feed, mode, options, &now));
        if big {
            // The default again; failing to shrink a cache is no reason to fail the import.
            let _ = self.conn.pragma_update(None, "cache_size", -2000);
        }
        outcome
    }

    /// The indicators to match at `now`: meant for detection, valid (`valid_from` not
    /// after now, `valid_until` after it), and with no observable on the allow-list.
    pub fn active_indicators(&self, now: DateTime<Utc>) -> Result<Vec<Indicator>> {
        let mut active = Vec::new();
        self.for_each_active_indicator(now, |indicator| active.push(indicator))?;
        Ok(active)
    }

    /// [`SqliteStore::active_indicators`] one at a time, so a caller building its own
    /// index from a million indicators never holds them all.
    pub fn for_each_active_indicator(
        &self,
        now: DateTime<Utc>,
        mut each: impl FnMut(Indicator),
    ) -> Result<u64> {
        let allowed: HashSet<Observable> = self.allow_list()?.into_iter().collect();
        let mut statement = self
            .conn
            .prepare(
                "SELECT id, body FROM intel_indicators
                 WHERE detect = 1 AND (valid_until IS NULL OR valid_until > ?1)",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = statement.query([time_text(now)]).map_err(|e| self.err(e))?;
        let mut count = 0;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let body = row.get_ref(1).map_err(|e| self.err(e))?;
            let body = body.as_str().map_err(|e| self.bad("indicator", e))?;
            let indicator: Indicator = serde_json::from_str(body).map_err(|e| {
                let id: String = row.get(0).unwrap_or_default();
                self.bad(id, e)
            })?;
            if indicator.valid_from.is_some_and(|from| from > now)
                || indicator.all_of.iter().any(|o| allowed.contains(o))
            {
                continue;
            }
            count += 1;
            each(indicator);
        }
        Ok(count)
    }

    /// The active indicators ([`SqliteStore::active_indicators`]) one at a time, as the
    /// matcher reads them: observables, name, confidence and the number of their shared
    /// part ([`SqliteStore::intel_context`]), without decoding each indicator's body.
    /// Returns how many were handed over.
    pub fn for_each_active_match(
        &self,
        now: DateTime<Utc>,
        mut each: impl FnMut(ActiveMatch<'_>) -> Result<()>,
    ) -> Result<u64> {
        let allowed: HashSet<Observable> = self.allow_list()?.into_iter().collect();
        // One pass over the table in row order gains nothing from a large page cache:
        // SQLite's default while it runs, the connection's own afterwards.
        let cache: i64 = self
            .conn
            .pragma_query_value(None, "cache_size", |row| row.get(0))
            .map_err(|e| self.err(e))?;
        self.conn
            .pragma_update(None, "cache_size", -2000)
            .map_err(|e| self.err(e))?;
        let result = self.active_matches(now, &allowed, &mut each);
        // Failing to grow a cache back is no reason to fail the read.
        let _ = self.conn.pragma_update(None, "cache_size", cache);
        result
    }

    fn active_matches(
        &self,
        now: DateTime<Utc>,
        allowed: &HashSet<Observable>,
        each: &mut impl FnMut(ActiveMatch<'_>) -> Result<()>,
    ) -> Result<u64> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT id, matching, context FROM intel_indicators
                 WHERE detect = 1 AND (valid_until IS NULL OR valid_until > ?1)",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = statement.query([time_text(now)]).map_err(|e| self.err(e))?;
        let mut count = 0;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let id = row.get_ref(0).map_err(|e| self.err(e))?;
            let id = id.as_str().map_err(|e| self.bad("indicator", e))?;
            let (Some(matching), Some(context)) = (
                row.get_ref(1)
                    .map_err(|e| self.err(e))?
                    .as_str_or_null()
                    .ok()
                    .flatten(),
                row.get::<_, Option<i64>>(2).map_err(|e| self.err(e))?,
            ) else {
                // Filled in by migration 5 and by every import since: a row without
                // is damaged, and reported as such.
                return Err(self.bad(id, "indicator without its matching columns"));
            };
            let matching: Matching<'_> =
                serde_json::from_str(matching).map_err(|e| self.bad(id, e))?;
            if matching.valid_from.is_some_and(|from| from > now)
                || matching.all_of.iter().any(|o| allowed.contains(o))
            {
                continue;
            }
            count += 1;
            each(ActiveMatch {
                id,
                name: matching.name.as_deref(),
                confidence: matching.confidence,
                all_of: &matching.all_of,
                context,
            })?;
        }
        Ok(count)
    }

    /// A shared part of indicators, by the number [`ActiveMatch::context`] gives.
    pub fn intel_context(&self, seq: i64) -> Result<StoredContext> {
        let (source, body): (String, String) = self
            .conn
            .prepare_cached("SELECT source, body FROM intel_contexts WHERE seq = ?1")
            .and_then(|mut statement| {
                statement.query_row([seq], |row| Ok((row.get(0)?, row.get(1)?)))
            })
            .map_err(|e| self.err(e))?;
        let body: ContextBody<'_> =
            serde_json::from_str(&body).map_err(|e| self.bad(format!("context {seq}"), e))?;
        Ok(StoredContext {
            source,
            labels: body.labels.into_owned(),
            context: body.context.into_owned(),
        })
    }

    /// Indicators matching a query, by source and id.
    pub fn search_indicators(&self, query: &IndicatorQuery) -> Result<Vec<StoredIndicator>> {
        let mut sql = String::from(
            "SELECT i.id, i.body, i.first_imported, i.last_imported FROM intel_indicators i
             WHERE 1 = 1",
        );
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(source) = &query.source {
            sql.push_str(" AND i.source = ?");
            args.push(Box::new(source.clone()));
        }
        if let Some(id) = &query.id {
            sql.push_str(" AND i.id = ?");
            args.push(Box::new(id.clone()));
        }
        if query.kind.is_some() || query.value.is_some() {
            // Every kind named, so that a value alone still uses the (kind, value) index.
            let kinds: Vec<ObservableKind> = match query.kind {
                Some(kind) => vec![kind],
                None => ObservableKind::ALL.to_vec(),
            };
            sql.push_str(
                " AND i.seq IN (SELECT o.indicator FROM intel_observables o WHERE o.kind IN (",
            );
            for (index, kind) in kinds.iter().enumerate() {
                sql.push_str(if index == 0 { "?" } else { ", ?" });
                args.push(Box::new(kind.name()));
            }
            sql.push(')');
            if let Some(value) = &query.value {
                sql.push_str(" AND o.value = ?");
                args.push(Box::new(value.clone()));
            }
            sql.push(')');
        }
        sql.push_str(" ORDER BY i.source, i.id");
        push_page(&mut sql, &mut args, query.offset, query.limit);
        let mut statement = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(args.iter()), |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(id, body, first, last)| {
                let indicator = serde_json::from_str(&body).map_err(|e| self.bad(&id, e))?;
                let time = |text: &str| {
                    parse_time(text).ok_or_else(|| self.bad(&id, format!("bad time `{text}`")))
                };
                Ok(StoredIndicator {
                    indicator,
                    first_imported: time(&first)?,
                    last_imported: time(&last)?,
                })
            })
            .collect()
    }

    /// Every source, by name.
    pub fn intel_sources(&self) -> Result<Vec<IntelSource>> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT name, kind, location, cursor, generation, last_import, indicators,
                        entities, diagnostics
                 FROM intel_sources ORDER BY name",
            )
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    IntelSource {
                        name: row.get(0)?,
                        kind: row.get(1)?,
                        location: row.get(2)?,
                        cursor: row.get(3)?,
                        imports: row.get::<_, i64>(4)? as u64,
                        last_import: None,
                        indicators: row.get::<_, i64>(6)? as u64,
                        entities: row.get::<_, i64>(7)? as u64,
                        diagnostics: row.get::<_, i64>(8)? as u64,
                    },
                    row.get::<_, Option<String>>(5)?,
                ))
            })
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(mut source, last)| {
                source.last_import = match last {
                    Some(text) => Some(
                        parse_time(&text)
                            .ok_or_else(|| self.bad(&source.name, format!("bad time `{text}`")))?,
                    ),
                    None => None,
                };
                Ok(source)
            })
            .collect()
    }

    /// A source's cursor (TAXII `added_after`), when it has one.
    pub fn source_cursor(&self, source: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT cursor FROM intel_sources WHERE name = ?1",
                [source],
                |row| row.get::<_, Option<String>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    /// Sets a source's cursor, recording the source if it is new. An import sets it in
    /// its own transaction through [`ImportOptions::cursor`]; this is for a poll that
    /// brought nothing new.
    pub fn set_source_cursor(&mut self, source: &str, cursor: &str) -> Result<()> {
        self.in_write(|tx| {
            tx.execute(
                "INSERT INTO intel_sources (name, kind, cursor) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET cursor = excluded.cursor",
                params![source, kind_of_source(source), cursor],
            )?;
            Ok(())
        })
    }

    /// Removes a source with its indicators and entities; the number of indicators
    /// removed, or `None` when there is no such source.
    pub fn remove_source(&mut self, source: &str) -> Result<Option<u64>> {
        self.in_write(|tx| {
            let count: Option<i64> = tx
                .query_row(
                    "SELECT (SELECT count(*) FROM intel_indicators WHERE source = ?1)
                     FROM intel_sources WHERE name = ?1",
                    [source],
                    |row| row.get(0),
                )
                .optional()?;
            if count.is_some() {
                tx.execute("DELETE FROM intel_sources WHERE name = ?1", [source])?;
            }
            Ok(count.map(|c| c as u64))
        })
    }

    /// Deletes the indicators whose `valid_until` is at or before `now`; how many.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Result<u64> {
        self.in_write(|tx| {
            let removed = tx.execute(
                "DELETE FROM intel_indicators WHERE valid_until <= ?1",
                [time_text(now)],
            )?;
            recount_all(tx)?;
            Ok(removed as u64)
        })
    }

    /// Deletes the indicators no import has held since `cutoff` (`expire
    /// --older-than`); how many.
    pub fn expire_not_imported_since(&mut self, cutoff: DateTime<Utc>) -> Result<u64> {
        self.in_write(|tx| {
            let removed = tx.execute(
                "DELETE FROM intel_indicators WHERE last_imported < ?1",
                [time_text(cutoff)],
            )?;
            recount_all(tx)?;
            Ok(removed as u64)
        })
    }

    /// Counts per source and kind: detection or context only, expired.
    pub fn intel_stats(&self, now: DateTime<Utc>) -> Result<IntelStats> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT i.source, o.kind, COUNT(DISTINCT i.seq),
                        COUNT(DISTINCT CASE WHEN i.detect = 1 THEN i.seq END),
                        COUNT(DISTINCT CASE WHEN i.valid_until <= ?1 THEN i.seq END)
                 FROM intel_indicators i JOIN intel_observables o ON o.indicator = i.seq
                 GROUP BY i.source, o.kind ORDER BY i.source, o.kind",
            )
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([time_text(now)], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)? as u64,
                    row.get::<_, i64>(3)? as u64,
                    row.get::<_, i64>(4)? as u64,
                ))
            })
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        let mut stats = IntelStats::default();
        for (source, kind, indicators, detect, expired) in rows {
            let kind = ObservableKind::from_name(&kind)
                .ok_or_else(|| self.bad(&source, format!("unknown observable kind `{kind}`")))?;
            stats.counts.push(IntelCount {
                source,
                kind,
                indicators,
                detect,
                context_only: indicators - detect,
                expired,
            });
        }
        let count = |sql: &str| -> Result<u64> {
            self.conn
                .query_row(sql, [], |row| row.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(|e| self.err(e))
        };
        stats.indicators = count("SELECT count(*) FROM intel_indicators")?;
        stats.entities = count("SELECT count(*) FROM intel_entities")?;
        stats.allowed = count("SELECT count(*) FROM intel_allow")?;
        Ok(stats)
    }

    /// Every entity, by source, kind and name.
    pub fn intel_entities(&self) -> Result<Vec<StoredEntity>> {
        let mut statement = self
            .conn
            .prepare("SELECT source, id, body FROM intel_entities ORDER BY source, kind, name, id")
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(source, id, body)| {
                let entity = serde_json::from_str(&body).map_err(|e| self.bad(&id, e))?;
                Ok(StoredEntity { source, entity })
            })
            .collect()
    }

    /// Adds an observable to the allow-list (or changes its reason); `true` when it was
    /// not there.
    pub fn allow(&mut self, observable: &Observable, reason: Option<&str>) -> Result<bool> {
        if observable.value.is_empty() {
            return Err(self.intel_invalid("an allow-list entry needs a value"));
        }
        let now = time_text(Utc::now());
        self.in_write(|tx| {
            let known: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM intel_allow WHERE kind = ?1 AND value = ?2)",
                params![observable.kind.name(), observable.value],
                |row| row.get(0),
            )?;
            tx.execute(
                "INSERT INTO intel_allow (kind, value, reason, added) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(kind, value) DO UPDATE SET reason = excluded.reason",
                params![observable.kind.name(), observable.value, reason, now],
            )?;
            Ok(!known)
        })
    }

    /// Takes an observable off the allow-list; `false` when it was not on it.
    pub fn disallow(&mut self, observable: &Observable) -> Result<bool> {
        self.in_write(|tx| {
            let removed = tx.execute(
                "DELETE FROM intel_allow WHERE kind = ?1 AND value = ?2",
                params![observable.kind.name(), observable.value],
            )?;
            Ok(removed > 0)
        })
    }

    /// The allow-list's observables (what the matcher must never alert on).
    pub fn allow_list(&self) -> Result<Vec<Observable>> {
        Ok(self
            .allow_entries()?
            .into_iter()
            .map(|entry| entry.observable)
            .collect())
    }

    /// The allow-list with reasons, by kind and value.
    pub fn allow_entries(&self) -> Result<Vec<AllowEntry>> {
        let mut statement = self
            .conn
            .prepare("SELECT kind, value, reason, added FROM intel_allow ORDER BY kind, value")
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(kind, value, reason, added)| {
                let kind = ObservableKind::from_name(&kind)
                    .ok_or_else(|| self.bad(&value, format!("unknown observable kind `{kind}`")))?;
                let added = parse_time(&added)
                    .ok_or_else(|| self.bad(&value, format!("bad time `{added}`")))?;
                Ok(AllowEntry {
                    observable: Observable { kind, value },
                    reason,
                    added,
                })
            })
            .collect()
    }
}

/// The import itself, inside its transaction.
fn import_in(
    tx: &Transaction<'_>,
    feed: &Feed,
    mode: ImportMode,
    options: &ImportOptions,
    now: &str,
) -> std::result::Result<ImportOutcome, TxError> {
    let source = feed.source.as_str();
    let kind = options
        .kind
        .as_deref()
        .unwrap_or_else(|| kind_of_source(source));
    tx.execute(
        "INSERT INTO intel_sources (name, kind, location, generation, last_import)
         VALUES (?1, ?2, ?3, 1, ?4)
         ON CONFLICT(name) DO UPDATE SET kind = excluded.kind,
             location = COALESCE(excluded.location, location),
             generation = generation + 1, last_import = excluded.last_import",
        params![source, kind, options.location, now],
    )?;
    let generation: i64 = tx.query_row(
        "SELECT generation FROM intel_sources WHERE name = ?1",
        [source],
        |row| row.get(0),
    )?;
    let mut outcome = ImportOutcome::default();
    let mut insert = tx.prepare_cached(
        "INSERT INTO intel_indicators
         (source, id, body, valid_until, detect, first_imported, last_imported, generation,
          matching, context)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9)
         ON CONFLICT(source, id) DO NOTHING",
    )?;
    let mut existing =
        tx.prepare_cached("SELECT seq, body FROM intel_indicators WHERE source = ?1 AND id = ?2")?;
    let mut touch = tx.prepare_cached(
        "UPDATE intel_indicators SET last_imported = ?2, generation = ?3 WHERE seq = ?1",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE intel_indicators SET body = ?2, valid_until = ?3, detect = ?4,
             last_imported = ?5, generation = ?6, matching = ?7, context = ?8
         WHERE seq = ?1",
    )?;
    let mut clear = tx.prepare_cached("DELETE FROM intel_observables WHERE indicator = ?1")?;
    let mut observe = tx.prepare_cached(
        "INSERT INTO intel_observables (indicator, kind, value) VALUES (?1, ?2, ?3)",
    )?;
    let mut contexts = Contexts::new(tx, source)?;
    for indicator in &feed.indicators {
        let indicator: Cow<'_, Indicator> = if indicator.source == source {
            Cow::Borrowed(indicator)
        } else {
            let mut owned = indicator.clone();
            owned.source = source.to_string();
            Cow::Owned(owned)
        };
        let body = serde_json::to_string(&*indicator)
            .map_err(|e| TxError::Bad(indicator.id.clone(), e.to_string()))?;
        let valid_until = indicator.valid_until.map(time_text);
        let matching = serde_json::to_string(&Matching::of(&indicator))
            .map_err(|e| TxError::Bad(indicator.id.clone(), e.to_string()))?;
        let context = contexts.seq(&indicator)?;
        let added = insert.execute(params![
            source,
            indicator.id,
            body,
            valid_until,
            indicator.detect,
            now,
            generation,
            matching,
            context
        ])?;
        let seq = if added == 1 {
            outcome.added += 1;
            tx.last_insert_rowid()
        } else {
            let (seq, stored): (i64, String) = existing
                .query_row(params![source, indicator.id], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?;
            if stored == body {
                outcome.unchanged += 1;
                touch.execute(params![seq, now, generation])?;
                continue;
            }
            outcome.updated += 1;
            update.execute(params![
                seq,
                body,
                valid_until,
                indicator.detect,
                now,
                generation,
                matching,
                context
            ])?;
            clear.execute([seq])?;
            seq
        };
        for observable in &indicator.all_of {
            observe.execute(params![seq, observable.kind.name(), observable.value])?;
        }
    }
    if mode == ImportMode::Replace {
        outcome.removed = tx.execute(
            "DELETE FROM intel_indicators WHERE source = ?1 AND generation < ?2",
            params![source, generation],
        )? as u64;
        tx.execute("DELETE FROM intel_entities WHERE source = ?1", [source])?;
    }
    drop(contexts);
    // Shared parts no indicator of the source names any more.
    tx.execute(
        "DELETE FROM intel_contexts WHERE source = ?1 AND seq NOT IN
             (SELECT context FROM intel_indicators WHERE source = ?1 AND context IS NOT NULL)",
        [source],
    )?;
    let mut entity = tx.prepare_cached(
        "INSERT INTO intel_entities (source, id, kind, name, body) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(source, id) DO UPDATE SET kind = excluded.kind, name = excluded.name,
             body = excluded.body",
    )?;
    for described in &feed.entities {
        let body = serde_json::to_string(described)
            .map_err(|e| TxError::Bad(described.id.clone(), e.to_string()))?;
        let kind = serde_json::to_value(described.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        entity.execute(params![source, described.id, kind, described.name, body])?;
        outcome.entities += 1;
    }
    if let Some(cursor) = &options.cursor {
        tx.execute(
            "UPDATE intel_sources SET cursor = ?2 WHERE name = ?1",
            params![source, cursor],
        )?;
    }
    tx.execute(
        "UPDATE intel_sources SET diagnostics = ?2 WHERE name = ?1",
        params![source, feed.diagnostics.len() as i64],
    )?;
    recount(tx, source)?;
    Ok(outcome)
}

/// What the matcher reads of an indicator besides its shared part (the `matching`
/// column): decoded for each of a million indicators at start-up, so kept small.
#[derive(Serialize, Deserialize)]
struct Matching<'a> {
    all_of: Cow<'a, [Observable]>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    confidence: Option<u8>,
    #[serde(default)]
    valid_from: Option<DateTime<Utc>>,
}

impl<'a> Matching<'a> {
    fn of(indicator: &'a Indicator) -> Self {
        Matching {
            all_of: Cow::Borrowed(&indicator.all_of),
            name: indicator.name.as_deref().map(Cow::Borrowed),
            confidence: indicator.confidence,
            valid_from: indicator.valid_from,
        }
    }
}

/// The part indicators share (the `intel_contexts` body): labels and what they
/// indicate.
#[derive(Serialize, Deserialize)]
struct ContextBody<'a> {
    labels: Cow<'a, [String]>,
    context: Cow<'a, IntelContext>,
}

/// An import's shared parts: each distinct one stored once per source, looked up by
/// its text within the transaction.
struct Contexts<'t> {
    source: &'t str,
    known: HashMap<String, i64>,
    insert: rusqlite::CachedStatement<'t>,
    find: rusqlite::CachedStatement<'t>,
}

impl<'t> Contexts<'t> {
    fn new(tx: &'t Transaction<'_>, source: &'t str) -> rusqlite::Result<Self> {
        Ok(Contexts {
            source,
            known: HashMap::new(),
            insert: tx.prepare_cached(
                "INSERT INTO intel_contexts (source, body) VALUES (?1, ?2)
                 ON CONFLICT(source, body) DO NOTHING",
            )?,
            find: tx
                .prepare_cached("SELECT seq FROM intel_contexts WHERE source = ?1 AND body = ?2")?,
        })
    }

    fn seq(&mut self, indicator: &Indicator) -> std::result::Result<i64, TxError> {
        let body = serde_json::to_string(&ContextBody {
            labels: Cow::Borrowed(&indicator.labels),
            context: Cow::Borrowed(&indicator.context),
        })
        .map_err(|e| TxError::Bad(indicator.id.clone(), e.to_string()))?;
        if let Some(&seq) = self.known.get(&body) {
            return Ok(seq);
        }
        self.insert.execute(params![self.source, body])?;
        let seq: i64 = self
            .find
            .query_row(params![self.source, body], |row| row.get(0))?;
        self.known.insert(body, seq);
        Ok(seq)
    }
}

/// One active indicator as [`SqliteStore::for_each_active_match`] hands it over.
#[derive(Debug, Clone, Copy)]
pub struct ActiveMatch<'a> {
    /// The indicator's id.
    pub id: &'a str,
    /// Its name, when it has one.
    pub name: Option<&'a str>,
    /// Its confidence.
    pub confidence: Option<u8>,
    /// Its observables.
    pub all_of: &'a [Observable],
    /// Its shared part ([`SqliteStore::intel_context`]).
    pub context: i64,
}

/// The part indicators share, as [`SqliteStore::intel_context`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredContext {
    /// The source whose indicators share it.
    pub source: String,
    /// Their labels.
    pub labels: Vec<String>,
    /// What they indicate.
    pub context: IntelContext,
}

/// Refreshes a source's indicator and entity counts.
fn recount(tx: &Transaction<'_>, source: &str) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE intel_sources SET
             indicators = (SELECT count(*) FROM intel_indicators WHERE source = ?1),
             entities = (SELECT count(*) FROM intel_entities WHERE source = ?1)
         WHERE name = ?1",
        [source],
    )?;
    Ok(())
}

/// Refreshes every source's counts.
fn recount_all(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE intel_sources SET
             indicators = (SELECT count(*) FROM intel_indicators i
                           WHERE i.source = intel_sources.name),
             entities = (SELECT count(*) FROM intel_entities e
                         WHERE e.source = intel_sources.name)",
        [],
    )?;
    Ok(())
}
