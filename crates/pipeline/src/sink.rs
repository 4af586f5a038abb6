//! Where alerts go, in order.

use rampart_event::Alert;
use std::io;

/// Takes alerts one at a time, in output order: the output writers of the binary,
/// the store sink, a service's queue.
pub trait AlertSink {
    /// Writes one alert.
    fn write(&mut self, alert: &Alert) -> io::Result<()>;
    /// Whether this sink writes each alert as [`rampart_event::JsonLineWriter`] renders it and nothing
    /// else, so that scanning threads may render batches themselves and hand over the
    /// bytes ([`AlertSink::write_rendered`]).
    fn takes_json_lines(&self) -> bool {
        false
    }
    /// Writes alerts already rendered by [`rampart_event::JsonLineWriter`]; only called when
    /// [`AlertSink::takes_json_lines`] says so.
    fn write_rendered(&mut self, _lines: &[u8]) -> io::Result<()> {
        Err(io::Error::other(
            "internal error: this output format takes alerts, not rendered lines",
        ))
    }
    /// Flushes whatever is buffered; called once after the last alert.
    fn finish(&mut self) -> io::Result<()>;
}

/// Keeps every alert in memory: for tests and callers that want the alerts back.
#[derive(Debug, Default)]
pub struct VecSink {
    /// The alerts written, in order.
    pub alerts: Vec<Alert>,
}

impl AlertSink for VecSink {
    fn write(&mut self, alert: &Alert) -> io::Result<()> {
        self.alerts.push(alert.clone());
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}
