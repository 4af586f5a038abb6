use crate::Diagnostic;
use rampart_event::Event;
use std::sync::Mutex;

/// Events of one EVTX chunk or one block of JSON lines, in input order.
#[derive(Debug, Default)]
pub struct EventBatch {
    /// Position of the batch in its input: batches sorted by `seq` give input order.
    pub seq: u64,
    /// The events.
    pub events: Vec<Event>,
}

impl EventBatch {
    /// A batch with no events: what a skipped chunk delivers, so that no `seq` is missing.
    pub fn empty(seq: u64) -> Self {
        EventBatch {
            seq,
            events: Vec::new(),
        }
    }
}

/// Where readers push what they read.
///
/// Batches of one input may be delivered from several threads at once and in any
/// order (see [`crate::ReadOptions::parallel`]); `seq` restores input order when it
/// matters. Every `seq` from 0 up to the last one is delivered exactly once (a skipped
/// chunk or a block of bad lines as an empty batch), so a consumer can release results
/// in input order as soon as the batches before them have arrived. Diagnostics arrive
/// as they are found.
pub trait Sink: Sync {
    /// Takes one batch of events.
    fn events(&self, batch: EventBatch);
    /// Takes one diagnostic.
    fn diagnostic(&self, diagnostic: Diagnostic);
    /// Whether the consumer wants nothing more of this input (a watcher shutting
    /// down): readers look between chunks and blocks and end the read early, leaving
    /// the later `seq`s undelivered. Never, by default.
    fn stopped(&self) -> bool {
        false
    }
}

/// A sink that keeps everything, for tests and small inputs.
#[derive(Debug, Default)]
pub struct Collector {
    batches: Mutex<Vec<EventBatch>>,
    diagnostics: Mutex<Vec<Diagnostic>>,
}

impl Collector {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events collected, in input order, and the diagnostics.
    pub fn into_parts(self) -> (Vec<Event>, Vec<Diagnostic>) {
        let mut batches = self
            .batches
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        batches.sort_by_key(|batch| batch.seq);
        let events = batches.into_iter().flat_map(|batch| batch.events).collect();
        let diagnostics = self
            .diagnostics
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (events, diagnostics)
    }
}

impl Sink for Collector {
    fn events(&self, batch: EventBatch) {
        self.batches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(batch);
    }

    fn diagnostic(&self, diagnostic: Diagnostic) {
        self.diagnostics
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(diagnostic);
    }
}
