//! Per-group window state of one correlation, over event time.
//!
//! Two evaluation regimes (the spec leaves windowing to the implementation):
//! - **Sliding, fire early** when the condition can only become true as events arrive
//!   (`gt`/`gte` on counts, distinct values and sums; `temporal` and `temporal_ordered`):
//!   the window is the last `timespan` before the newest event; the condition is tested
//!   on every event, and once it holds the group fires and starts afresh.
//! - **Tumbling, judge at close** when more events could make a true condition false
//!   (`lt`, `lte`, `eq`, `neq`, averages, percentiles): a window opens at a group's first
//!   event, spans `timespan`, and is judged when it closes — when a later event or the
//!   stream's watermark passes its end, or at the end of the stream.
//!
//! Either way events older than `timespan` before the newest are dropped, so state per
//! group is bounded by the events of one window.

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::{HashMap, VecDeque};

/// One observation inside a group's window.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub time: DateTime<Utc>,
    /// Index of the referenced rule (in the correlation's `rules` list).
    pub rule: usize,
    /// The aggregated value (value_* types): text for counts/percentiles, number for sums.
    pub value: Option<String>,
}

/// The events of one group within the window, and the ordered-sequence progress.
#[derive(Debug, Clone, Default)]
pub(crate) struct Window {
    pub entries: VecDeque<Entry>,
    /// Tumbling windows: when this one opened.
    pub opened: Option<DateTime<Utc>>,
    /// temporal_ordered: for each step, the latest start time of a chain matching the
    /// rules up to that step.
    pub best_start: Vec<Option<DateTime<Utc>>>,
}

impl Window {
    /// Drops entries older than `span` before `now`.
    pub fn expire(&mut self, now: DateTime<Utc>, span: TimeDelta) {
        while self
            .entries
            .front()
            .is_some_and(|entry| now - entry.time > span)
        {
            self.entries.pop_front();
        }
        for step in &mut self.best_start {
            if step.is_some_and(|start| now - start > span) {
                *step = None;
            }
        }
    }

    /// Inserts keeping time order (events may arrive slightly out of order).
    pub fn push(&mut self, entry: Entry) {
        let at = self
            .entries
            .iter()
            .rposition(|e| e.time <= entry.time)
            .map_or(0, |i| i + 1);
        self.entries.insert(at, entry);
    }

    /// Number of entries.
    pub fn count(&self) -> usize {
        self.entries.len()
    }

    /// Number of distinct values.
    pub fn distinct_values(&self) -> usize {
        let mut seen: HashMap<&str, ()> = HashMap::new();
        for entry in &self.entries {
            if let Some(value) = &entry.value {
                seen.insert(value, ());
            }
        }
        seen.len()
    }

    /// Number of distinct rules seen.
    pub fn distinct_rules(&self) -> usize {
        let mut rules: Vec<usize> = self.entries.iter().map(|e| e.rule).collect();
        rules.sort_unstable();
        rules.dedup();
        rules.len()
    }

    /// Numeric values (entries whose value parses as a number).
    pub fn numbers(&self) -> impl Iterator<Item = f64> + '_ {
        self.entries
            .iter()
            .filter_map(|e| e.value.as_deref()?.trim().parse::<f64>().ok())
    }

    /// Each distinct value's share of the entries, in percent.
    pub fn shares(&self) -> Vec<(String, f64)> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for entry in &self.entries {
            if let Some(value) = &entry.value {
                *counts.entry(value).or_default() += 1;
            }
        }
        let total = self.entries.len().max(1) as f64;
        let mut shares: Vec<(String, f64)> = counts
            .into_iter()
            .map(|(value, count)| (value.to_string(), count as f64 * 100.0 / total))
            .collect();
        shares.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        shares
    }

    /// First and last entry times.
    pub fn span(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((self.entries.front()?.time, self.entries.back()?.time))
    }
}
