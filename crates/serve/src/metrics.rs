//! The service's counters, rendered in the Prometheus text format at `/metrics`.
//!
//! Hand-written rather than through a metrics crate: a dozen atomics, one latency
//! histogram and a per-rule map are all there is, the text format is a few lines per
//! metric, and a global recorder would be shared by every service a test process
//! starts.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the ingest latency histogram buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Every number `/metrics` shows.
#[derive(Default)]
pub struct Metrics {
    /// Events admitted into the queue.
    pub events_in: AtomicU64,
    /// Lines or documents that could not be read as events.
    pub events_rejected: AtomicU64,
    /// Events whose alerts are committed.
    pub events_processed: AtomicU64,
    /// Alerts produced (including ones already stored).
    pub alerts_out: AtomicU64,
    /// Alerts new to the store.
    pub alerts_stored: AtomicU64,
    /// Requests refused with 429.
    pub saturated: AtomicU64,
    /// Store commits that failed.
    pub commit_errors: AtomicU64,
    /// Events waiting for detection or commit.
    pub queue_events: AtomicU64,
    /// Seconds (×1000) between the arrival of the last committed batch and its commit.
    pub lag_millis: AtomicU64,
    /// Rule reloads that were swapped in / refused.
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    /// Arrival-to-commit latency of each batch: counts per bucket, sum, count.
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_sum_micros: AtomicU64,
    latency_count: AtomicU64,
    /// Alerts per rule id.
    per_rule: Mutex<HashMap<String, u64>>,
}

impl Metrics {
    /// A fresh set of zeroes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one reload.
    pub fn reload(&self, ok: bool) {
        let counter = if ok {
            &self.reloads_ok
        } else {
            &self.reloads_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one batch's arrival-to-commit time.
    pub fn observe_latency(&self, latency: Duration) {
        let seconds = latency.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency_sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        let millis = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.lag_millis.store(millis, Ordering::Relaxed);
    }

    /// Adds alerts per rule.
    pub fn count_rules<'a>(&self, rules: impl IntoIterator<Item = &'a str>) {
        let mut per_rule = self
            .per_rule
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for rule in rules {
            match per_rule.get_mut(rule) {
                Some(count) => *count += 1,
                None => {
                    per_rule.insert(rule.to_string(), 1);
                }
            }
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let counters: [(&str, &str, &AtomicU64); 8] = [
            (
                "rampart_events_received_total",
                "Events admitted for detection.",
                &self.events_in,
            ),
            (
                "rampart_events_rejected_total",
                "Lines or documents that could not be read as events.",
                &self.events_rejected,
            ),
            (
                "rampart_events_processed_total",
                "Events scanned whose alerts are committed.",
                &self.events_processed,
            ),
            (
                "rampart_alerts_total",
                "Alerts produced, including ones already stored.",
                &self.alerts_out,
            ),
            (
                "rampart_alerts_stored_total",
                "Alerts new to the store.",
                &self.alerts_stored,
            ),
            (
                "rampart_requests_saturated_total",
                "Ingest requests refused with 429 because the queue was full.",
                &self.saturated,
            ),
            (
                "rampart_store_commit_errors_total",
                "Store commits that failed.",
                &self.commit_errors,
            ),
            (
                "rampart_rule_reloads_total",
                "Rule reloads swapped in.",
                &self.reloads_ok,
            ),
        ];
        for (name, help, value) in counters {
            metric(
                &mut out,
                name,
                help,
                "counter",
                value.load(Ordering::Relaxed),
            );
        }
        metric(
            &mut out,
            "rampart_rule_reloads_failed_total",
            "Rule reloads refused (the running rules were kept).",
            "counter",
            self.reloads_failed.load(Ordering::Relaxed),
        );
        metric(
            &mut out,
            "rampart_queue_events",
            "Events admitted and not yet committed.",
            "gauge",
            self.queue_events.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP rampart_lag_seconds Arrival-to-commit time of the last committed batch.\n\
             # TYPE rampart_lag_seconds gauge\nrampart_lag_seconds {}",
            self.lag_millis.load(Ordering::Relaxed) as f64 / 1000.0
        );
        let _ = writeln!(
            out,
            "# HELP rampart_ingest_latency_seconds Arrival-to-commit time of ingest batches.\n\
             # TYPE rampart_ingest_latency_seconds histogram"
        );
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                out,
                "rampart_ingest_latency_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "rampart_ingest_latency_seconds_bucket{{le=\"+Inf\"}} {count}\n\
             rampart_ingest_latency_seconds_sum {}\n\
             rampart_ingest_latency_seconds_count {count}",
            self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "# HELP rampart_rule_alerts_total Alerts produced per rule.\n\
             # TYPE rampart_rule_alerts_total counter"
        );
        let per_rule = self
            .per_rule
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut rules: Vec<_> = per_rule.iter().collect();
        rules.sort();
        for (rule, count) in rules {
            let _ = writeln!(
                out,
                "rampart_rule_alerts_total{{rule=\"{}\"}} {count}",
                label_value(rule)
            );
        }
        out
    }
}

fn metric(out: &mut String, name: &str, help: &str, kind: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

/// A label value escaped as the text format requires (backslash, quote, newline).
fn label_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histogram_and_escaped_rule_labels() {
        let metrics = Metrics::new();
        metrics.events_in.fetch_add(3, Ordering::Relaxed);
        metrics.observe_latency(Duration::from_millis(20));
        metrics.count_rules(["a\"b", "a\"b", "c"]);
        let text = metrics.render();
        assert!(text.contains("rampart_events_received_total 3\n"), "{text}");
        assert!(text.contains("rampart_ingest_latency_seconds_bucket{le=\"0.01\"} 0\n"));
        assert!(text.contains("rampart_ingest_latency_seconds_bucket{le=\"0.025\"} 1\n"));
        assert!(text.contains("rampart_ingest_latency_seconds_count 1\n"));
        assert!(text.contains("rampart_rule_alerts_total{rule=\"a\\\"b\"} 2\n"));
        assert!(text.contains("rampart_rule_alerts_total{rule=\"c\"} 1\n"));
    }
}
