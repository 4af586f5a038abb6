//! Releases alerts in a deterministic order while files and their batches finish on
//! any thread in any order.
//!
//! The order is: inputs as given (directories walked in name order), then batches in
//! input order (EVTX chunk, block of JSON lines), then within a batch by record id and
//! rule id. A batch is written as soon as every batch before it has been, so output
//! streams and memory holds only the alerts of batches that finished early.
//!
//! For plain JSON lines the scanning threads sort and render their batches themselves
//! ([`Ordered::rendered`]), so that all this buffer does under its lock is copy bytes.
//!
//! A source that is not a numbered list of inputs (a service's stream of batches) does
//! not need this buffer: it scans and writes one batch at a time.

use crate::AlertSink;
use rampart_event::Alert;
use std::collections::BTreeMap;
use std::io;

/// The alerts of one batch, as alerts or already rendered.
enum Batch {
    Alerts(Vec<Alert>),
    /// JSON lines of `count` alerts, in output order.
    Rendered {
        lines: Vec<u8>,
        count: u64,
    },
}

#[derive(Default)]
struct FileSlot {
    next_seq: u64,
    pending: BTreeMap<u64, Batch>,
    done: bool,
}

/// Puts one batch's alerts in output order: by record id, then rule id.
pub fn sort_batch(alerts: &mut [Alert]) {
    alerts.sort_by(|a, b| (a.event.record_id, &a.rule_id).cmp(&(b.event.record_id, &b.rule_id)));
}

/// The reorder buffer in front of an [`AlertSink`].
pub struct Ordered<'a> {
    files: Vec<FileSlot>,
    next_file: usize,
    sink: &'a mut (dyn AlertSink + Send),
    written: u64,
    error: Option<io::Error>,
}

impl<'a> Ordered<'a> {
    /// A buffer for `files` inputs writing to `sink`.
    pub fn new(files: usize, sink: &'a mut (dyn AlertSink + Send)) -> Self {
        Ordered {
            files: (0..files).map(|_| FileSlot::default()).collect(),
            next_file: 0,
            sink,
            written: 0,
            error: None,
        }
    }

    /// Takes the alerts of batch `seq` of input `file`.
    pub fn batch(&mut self, file: usize, seq: u64, mut alerts: Vec<Alert>) {
        sort_batch(&mut alerts);
        self.insert(file, seq, Batch::Alerts(alerts));
    }

    /// Takes batch `seq` of input `file` as the JSON lines of its `count` alerts, sorted
    /// by [`sort_batch`]; only for a sink that [takes JSON lines](AlertSink::takes_json_lines).
    pub fn rendered(&mut self, file: usize, seq: u64, lines: Vec<u8>, count: u64) {
        self.insert(file, seq, Batch::Rendered { lines, count });
    }

    fn insert(&mut self, file: usize, seq: u64, batch: Batch) {
        if let Some(slot) = self.files.get_mut(file) {
            slot.pending.insert(seq, batch);
        }
        self.flush();
    }

    /// Marks input `file` as read completely (or abandoned).
    pub fn file_done(&mut self, file: usize) {
        if let Some(slot) = self.files.get_mut(file) {
            slot.done = true;
        }
        self.flush();
    }

    fn flush(&mut self) {
        while let Some(slot) = self.files.get_mut(self.next_file) {
            while let Some(batch) = slot.pending.remove(&slot.next_seq) {
                slot.next_seq += 1;
                Self::write_batch(&mut *self.sink, &mut self.error, &mut self.written, batch);
            }
            if !slot.done {
                return;
            }
            // A finished input may still hold batches after a gap if the reader skipped
            // a sequence number; write them in order rather than lose them.
            let rest = std::mem::take(&mut slot.pending);
            for batch in rest.into_values() {
                Self::write_batch(&mut *self.sink, &mut self.error, &mut self.written, batch);
            }
            self.next_file += 1;
        }
    }

    /// Writes one batch unless an earlier write failed, counting its alerts either way.
    fn write_batch(
        sink: &mut (dyn AlertSink + Send),
        error: &mut Option<io::Error>,
        written: &mut u64,
        batch: Batch,
    ) {
        match batch {
            Batch::Alerts(alerts) => {
                for alert in &alerts {
                    if error.is_none() {
                        if let Err(e) = sink.write(alert) {
                            *error = Some(e);
                        }
                    }
                    *written += 1;
                }
            }
            Batch::Rendered { lines, count } => {
                if error.is_none() {
                    if let Err(e) = sink.write_rendered(&lines) {
                        *error = Some(e);
                    }
                }
                *written += count;
            }
        }
    }

    /// Writes alerts that follow every input's (correlation results), after all the
    /// inputs' own alerts. Call once every input is done.
    pub fn trailing(&mut self, alerts: Vec<Alert>) {
        self.flush();
        for alert in &alerts {
            if self.error.is_none() {
                if let Err(error) = self.sink.write(alert) {
                    self.error = Some(error);
                }
            }
            self.written += 1;
        }
    }

    /// Flushes the sink; the number of alerts written, or the first write error.
    pub fn finish(mut self) -> io::Result<u64> {
        self.flush();
        if let Some(error) = self.error {
            return Err(error);
        }
        self.sink.finish()?;
        Ok(self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_event::{EventMeta, Level};
    use std::sync::{Arc, Mutex};

    /// Records the (source, record id, rule id) of each alert written.
    struct Recorder(Arc<Mutex<Vec<(String, u64, String)>>>);

    impl AlertSink for Recorder {
        fn write(&mut self, alert: &Alert) -> io::Result<()> {
            let key = (
                alert.event.source.to_string(),
                alert.event.record_id.unwrap_or(0),
                alert.rule_id.clone(),
            );
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .push(key);
            Ok(())
        }
        fn finish(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Keeps everything written as text: alerts as `source:record:rule` lines, rendered
    /// lines as given.
    struct Lines(Arc<Mutex<String>>);

    impl AlertSink for Lines {
        fn write(&mut self, alert: &Alert) -> io::Result<()> {
            let line = format!(
                "{}:{}:{}\n",
                alert.event.source,
                alert.event.record_id.unwrap_or(0),
                alert.rule_id
            );
            self.write_rendered(line.as_bytes())
        }
        fn takes_json_lines(&self) -> bool {
            true
        }
        fn write_rendered(&mut self, lines: &[u8]) -> io::Result<()> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .push_str(&String::from_utf8_lossy(lines));
            Ok(())
        }
        fn finish(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn alert(source: &str, record: u64, rule: &str) -> Alert {
        Alert {
            id: String::new(),
            rule_id: rule.into(),
            rule_title: String::new(),
            level: Level::High,
            status: None,
            techniques: Vec::new(),
            tactics: Vec::new(),
            tags: Vec::new(),
            event: EventMeta {
                source: source.into(),
                record_id: Some(record),
                ..EventMeta::default()
            },
            context: Vec::new(),
            intel: None,
            matched: Vec::new(),
        }
    }

    #[test]
    fn batches_and_files_finishing_out_of_order_are_written_in_input_order() {
        let written = Arc::new(Mutex::new(Vec::new()));
        let mut sink = Recorder(Arc::clone(&written));
        let mut ordered = Ordered::new(2, &mut sink);
        // File 1 finishes first; file 0's batch 1 arrives before its batch 0.
        ordered.batch(1, 0, vec![alert("b", 1, "r1")]);
        ordered.file_done(1);
        ordered.batch(
            0,
            1,
            vec![
                alert("a", 9, "r2"),
                alert("a", 5, "r9"),
                alert("a", 5, "r1"),
            ],
        );
        assert!(
            written.lock().map(|w| w.is_empty()).unwrap_or(false),
            "nothing before batch 0"
        );
        ordered.batch(0, 0, vec![alert("a", 1, "r1")]);
        ordered.file_done(0);
        assert_eq!(ordered.finish().ok(), Some(5));
        let keys: Vec<String> = written
            .lock()
            .map(|w| w.iter().map(|(s, n, r)| format!("{s}{n}{r}")).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["a1r1", "a5r1", "a5r9", "a9r2", "b1r1"]);
    }

    #[test]
    fn rendered_batches_keep_their_place_and_count() {
        let text = Arc::new(Mutex::new(String::new()));
        let mut sink = Lines(Arc::clone(&text));
        let mut ordered = Ordered::new(1, &mut sink);
        ordered.rendered(0, 1, b"second\nthird\n".to_vec(), 2);
        ordered.batch(0, 0, vec![alert("a", 2, "r2"), alert("a", 1, "r1")]);
        ordered.rendered(0, 3, b"fifth\n".to_vec(), 1);
        ordered.file_done(0);
        ordered.trailing(vec![alert("a", 9, "c1")]);
        assert_eq!(ordered.finish().ok(), Some(6));
        let text = text.lock().map(|t| t.clone()).unwrap_or_default();
        // Batch 2 never came: the finished file's later batches still follow in order.
        assert_eq!(text, "a:1:r1\na:2:r2\nsecond\nthird\nfifth\na:9:c1\n");
    }

    #[test]
    fn a_sink_that_takes_alerts_only_fails_rendered_lines() {
        let written = Arc::new(Mutex::new(Vec::new()));
        let mut sink = Recorder(written);
        let mut ordered = Ordered::new(1, &mut sink);
        ordered.rendered(0, 0, b"x\n".to_vec(), 1);
        ordered.file_done(0);
        assert!(ordered.finish().is_err());
    }
}
