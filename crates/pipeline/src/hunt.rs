//! A batch hunt: every source scanned in parallel, alerts written in source order,
//! correlations replayed in event-time order at the end.
//!
//! Sources are read on the current rayon pool (the caller installs its own). Each batch
//! is scanned on the thread that decoded it ([`CompiledRules::scan_into`]), and its
//! alerts pass the reorder buffer ([`Ordered`]) so the output is identical whatever
//! the thread count. For a sink that [takes JSON lines](AlertSink::takes_json_lines)
//! the scanning thread also renders its batch, so the buffer only copies bytes under
//! its lock. Alerts a correlation listens to are kept with their event and replayed,
//! sorted by event time, once every source is done: sources finish in any order, and
//! windows fed out of time order would judge events late.

use crate::ordered::{self, Ordered};
use crate::scan::{ScanOptions, Scanned};
use crate::source::EventSource;
use crate::{AlertSink, CompiledRules};
use rampart_correlate::sigma::AlertCorrelator;
use rampart_event::{Alert, Event, JsonLineWriter};
use rampart_ingest::{Diagnostic, EventBatch, Sink};
use rayon::prelude::*;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// How a hunt runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct HuntOptions {
    /// How batches are scanned.
    pub scan: ScanOptions,
}

/// What the caller watches while the hunt runs (progress, counts, warnings). Every
/// method may be called from any scanning thread.
pub trait Observer: Sync {
    /// Alerts about to be written (one batch's, or the correlations' at the end).
    fn alerts(&self, _alerts: &[Alert]) {}
    /// A problem with one record of a source; reading goes on.
    fn diagnostic(&self, _diagnostic: Diagnostic) {}
    /// A source that stopped before its end (or could not be opened).
    fn source_failed(&self, _source: &str, _error: &(dyn std::error::Error + 'static)) {}
    /// A source read to its end (or abandoned), after its alerts were handed on.
    fn source_done(&self, _source: &dyn EventSource) {}
}

/// Watches nothing.
impl Observer for () {}

/// What a hunt read and wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HuntReport {
    /// Events read.
    pub events: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Problems reported while reading.
    pub problems: u64,
    /// Records lost among those problems.
    pub records_skipped: u64,
    /// Sources that stopped with an error.
    pub unreadable: usize,
    /// Alerts written (detections and correlations).
    pub alerts: u64,
}

/// Runs `rules` over `sources` on the current rayon pool and writes every alert to
/// `sink` in order: sources in the given order, batches in source order, within a
/// batch by record id then rule id, then correlation alerts. Returns the first error
/// of the sink, after every source was read.
pub fn run<S: EventSource>(
    rules: &CompiledRules,
    sources: &[S],
    sink: &mut (dyn AlertSink + Send),
    options: HuntOptions,
    observer: &dyn Observer,
) -> io::Result<HuntReport> {
    let render = sink.takes_json_lines();
    let state = Hunt {
        rules,
        options,
        render,
        observer,
        json_writers: Mutex::new(Vec::new()),
        correlated: Mutex::new(Vec::new()),
        ordered: Mutex::new(Ordered::new(sources.len(), sink)),
        events: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        problems: AtomicU64::new(0),
        records_skipped: AtomicU64::new(0),
        unreadable: AtomicUsize::new(0),
    };
    sources
        .iter()
        .enumerate()
        .par_bridge()
        .for_each(|(index, source)| state.source(index, source));
    let Hunt {
        ordered,
        correlated,
        events,
        bytes,
        problems,
        records_skipped,
        unreadable,
        ..
    } = state;
    let mut ordered = ordered
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(correlator) = rules.correlator() {
        let observed = correlated
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let fired = replay(&correlator, observed);
        observer.alerts(&fired);
        ordered.trailing(fired);
    }
    let alerts = ordered.finish()?;
    Ok(HuntReport {
        events: events.into_inner(),
        bytes: bytes.into_inner(),
        problems: problems.into_inner(),
        records_skipped: records_skipped.into_inner(),
        unreadable: unreadable.into_inner(),
        alerts,
    })
}

/// Runs the correlation rules over the alerts of the rules they reference, in event
/// time order, then closes every window; what fired, as alerts.
pub fn replay(correlator: &AlertCorrelator, mut observed: Vec<(Alert, Event)>) -> Vec<Alert> {
    observed.sort_by_key(|(alert, event)| alert.event.timestamp.or(event.meta.timestamp));
    let mut fired: Vec<Alert> = observed
        .iter()
        .flat_map(|(alert, event)| correlator.observe(alert, event))
        .collect();
    fired.extend(correlator.finish());
    fired
}

/// State shared by the threads of one hunt.
struct Hunt<'a> {
    rules: &'a CompiledRules,
    options: HuntOptions,
    /// Whether scanning threads render their batches as JSON lines.
    render: bool,
    observer: &'a dyn Observer,
    /// Idle JSON-lines writers (each keeps its rules' rendered parts), one taken per
    /// batch being rendered.
    json_writers: Mutex<Vec<JsonLineWriter>>,
    /// (alert, event) pairs kept for correlation after the scan.
    correlated: Mutex<Vec<(Alert, Event)>>,
    ordered: Mutex<Ordered<'a>>,
    events: AtomicU64,
    bytes: AtomicU64,
    problems: AtomicU64,
    records_skipped: AtomicU64,
    unreadable: AtomicUsize,
}

impl<'a> Hunt<'a> {
    fn source<S: EventSource>(&self, index: usize, source: &S) {
        let sink = SourceSink { hunt: self, index };
        match source.read(&sink) {
            Ok(stats) => {
                self.events.fetch_add(stats.events, Ordering::Relaxed);
                self.bytes.fetch_add(stats.bytes, Ordering::Relaxed);
                self.problems
                    .fetch_add(stats.diagnostics, Ordering::Relaxed);
                self.records_skipped
                    .fetch_add(stats.records_skipped, Ordering::Relaxed);
            }
            Err(error) => {
                self.unreadable.fetch_add(1, Ordering::Relaxed);
                self.observer.source_failed(source.name(), error.as_ref());
            }
        }
        self.lock_ordered().file_done(index);
        self.observer.source_done(source);
    }

    /// One batch's alerts, sorted into output order and rendered as JSON lines; the
    /// lines and how many alerts they hold.
    fn render(&self, mut alerts: Vec<Alert>) -> (Vec<u8>, u64) {
        ordered::sort_batch(&mut alerts);
        let mut writer = lock(&self.json_writers).pop().unwrap_or_default();
        // About what a line takes, so the buffer seldom grows.
        let mut lines = Vec::with_capacity(alerts.len() * 1024);
        for alert in &alerts {
            writer.write(alert, &mut lines);
        }
        lock(&self.json_writers).push(writer);
        (lines, alerts.len() as u64)
    }

    fn lock_ordered(&self) -> MutexGuard<'_, Ordered<'a>> {
        lock(&self.ordered)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The sink of one source: scans each batch and hands its alerts on in order.
struct SourceSink<'s, 'a> {
    hunt: &'s Hunt<'a>,
    index: usize,
}

impl Sink for SourceSink<'_, '_> {
    fn events(&self, batch: EventBatch) {
        let hunt = self.hunt;
        let mut scanned = Scanned::default();
        hunt.rules
            .scan_into(&batch.events, hunt.options.scan, &mut scanned);
        let Scanned {
            alerts,
            for_correlation,
        } = scanned;
        if !for_correlation.is_empty() {
            lock(&hunt.correlated).extend(for_correlation);
        }
        if !alerts.is_empty() {
            hunt.observer.alerts(&alerts);
        }
        if hunt.render && !alerts.is_empty() {
            let (lines, count) = hunt.render(alerts);
            hunt.lock_ordered()
                .rendered(self.index, batch.seq, lines, count);
        } else {
            hunt.lock_ordered().batch(self.index, batch.seq, alerts);
        }
    }

    fn diagnostic(&self, diagnostic: Diagnostic) {
        self.hunt.observer.diagnostic(diagnostic);
    }
}
