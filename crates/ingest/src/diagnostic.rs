use std::fmt;
use std::sync::Arc;

/// Where in an input a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Place {
    /// The file as a whole.
    File,
    /// An EVTX chunk, by its number in the file (0-based).
    Chunk(u64),
    /// An EVTX record, by chunk number and record id when known.
    Record {
        /// The chunk holding the record.
        chunk: u64,
        /// The record id, when the record header could be read.
        record_id: Option<u64>,
    },
    /// A line of a JSON input (1-based).
    Line(u64),
    /// A message of a syslog connection or socket (1-based).
    Message(u64),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File => Ok(()),
            Place::Chunk(chunk) => write!(f, ":chunk {chunk}"),
            Place::Record {
                chunk,
                record_id: Some(id),
            } => write!(f, ":chunk {chunk}:record {id}"),
            Place::Record {
                chunk,
                record_id: None,
            } => write!(f, ":chunk {chunk}:record ?"),
            Place::Line(line) => write!(f, ":{line}"),
            Place::Message(number) => write!(f, ":message {number}"),
        }
    }
}

/// A problem found while reading an input; the rest of the input was still read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The input (file path, or `-` for stdin).
    pub source: Arc<str>,
    /// Where in the input.
    pub place: Place,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}: {}", self.source, self.place, self.message)
    }
}

/// Delivers one input's diagnostics to its sink, up to a cap: a file of binary
/// garbage read as JSON would otherwise bury the user under one line per "line".
pub(crate) struct Reporter<'a, S: crate::Sink + ?Sized> {
    sink: &'a S,
    source: Arc<str>,
    limit: u64,
    count: std::sync::atomic::AtomicU64,
    /// Records (lines, documents) lost, among the problems.
    skipped: std::sync::atomic::AtomicU64,
}

impl<'a, S: crate::Sink + ?Sized> Reporter<'a, S> {
    pub(crate) fn new(sink: &'a S, source: Arc<str>, limit: u64) -> Self {
        Reporter {
            sink,
            source,
            limit,
            count: Default::default(),
            skipped: Default::default(),
        }
    }

    /// Reports a record that could not be read at all: a problem, and a record lost.
    pub(crate) fn record_skipped(&self, place: Place, message: impl Into<String>) {
        self.skipped
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.report(place, message);
    }

    /// The number of records lost so far.
    pub(crate) fn skipped(&self) -> u64 {
        self.skipped.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn report(&self, place: Place, message: impl Into<String>) {
        let seen = self
            .count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if seen < self.limit {
            self.sink.diagnostic(Diagnostic {
                source: self.source.clone(),
                place,
                message: message.into(),
            });
        }
    }

    /// The number of problems found; reports the ones held back past the cap.
    pub(crate) fn finish(&self) -> u64 {
        let count = self.count.load(std::sync::atomic::Ordering::Relaxed);
        if count > self.limit {
            self.sink.diagnostic(Diagnostic {
                source: self.source.clone(),
                place: Place::File,
                message: format!(
                    "{} more problems in this input not shown",
                    count - self.limit
                ),
            });
        }
        count
    }
}
