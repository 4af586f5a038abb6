//! Where events come from: anything that pushes [`EventBatch`]es into a
//! [`rampart_ingest::Sink`].

use rampart_event::Event;
use rampart_ingest::{EventBatch, Input, ReadOptions, ReadStats, Sink};
use std::sync::Arc;

/// Why a source stopped before its end (its own error type, whatever the source).
pub type SourceError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A source of event batches.
///
/// [`EventSource::read`] pushes every batch into `sink`, possibly from several threads
/// and out of order; batch `seq` numbers restore the source's order and must run from
/// 0 with none missing (see [`rampart_ingest::Sink`]). Problems with single records
/// go to the sink as diagnostics and reading goes on; an error ends the source.
pub trait EventSource: Sync {
    /// The source's name, for messages (a path, `-`, a listener address).
    fn name(&self) -> &str;
    /// How many bytes the source holds, when known (for progress).
    fn size(&self) -> Option<u64> {
        None
    }
    /// Reads the source to its end into `sink`.
    fn read(&self, sink: &dyn Sink) -> Result<ReadStats, SourceError>;
}

/// A file or stdin, read by [`rampart_ingest`] (EVTX, JSON lines, JSON, gzip).
pub struct FileSource {
    /// The input.
    pub input: Input,
    /// How it is read (aliases, line cap, parallel blocks).
    pub options: Arc<ReadOptions>,
}

impl EventSource for FileSource {
    fn name(&self) -> &str {
        self.input.name()
    }

    fn size(&self) -> Option<u64> {
        self.input.size()
    }

    fn read(&self, sink: &dyn Sink) -> Result<ReadStats, SourceError> {
        Ok(self.input.read(&self.options, sink)?)
    }
}

/// Events already in memory, handed over in batches (tests, samples, a service's
/// decoded request body).
pub struct VecSource {
    name: String,
    events: Vec<Event>,
    batch: usize,
}

impl VecSource {
    /// Batches of the ingest readers' size (64 events).
    pub const BATCH: usize = 64;

    /// `events` named `name`, in batches of [`VecSource::BATCH`].
    pub fn new(name: impl Into<String>, events: Vec<Event>) -> Self {
        VecSource {
            name: name.into(),
            events,
            batch: Self::BATCH,
        }
    }

    /// The same events in batches of `size` (at least 1).
    pub fn with_batch(mut self, size: usize) -> Self {
        self.batch = size.max(1);
        self
    }
}

impl EventSource for VecSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn read(&self, sink: &dyn Sink) -> Result<ReadStats, SourceError> {
        for (seq, chunk) in self.events.chunks(self.batch).enumerate() {
            sink.events(EventBatch {
                seq: seq as u64,
                events: chunk.to_vec(),
            });
        }
        Ok(ReadStats {
            events: self.events.len() as u64,
            ..ReadStats::default()
        })
    }
}
