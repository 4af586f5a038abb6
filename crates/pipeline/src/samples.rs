//! Small labelled samples (regression data, validation samples): read whole, then
//! scanned on one thread, many samples in parallel.

use rampart_event::Event;
use rampart_ingest::{Collector, Diagnostic, IngestError, Input, ReadOptions};
use std::path::Path;

/// Reads the sample at `path` whole on the calling thread: its events in order and the
/// problems found reading it.
pub fn read_sample(path: &Path) -> Result<(Vec<Event>, Vec<Diagnostic>), IngestError> {
    let input = Input::file(path)?;
    let collector = Collector::new();
    let options = ReadOptions {
        parallel: false,
        ..ReadOptions::default()
    };
    input.read(&options, &collector)?;
    Ok(collector.into_parts())
}
