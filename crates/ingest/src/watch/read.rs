//! Reading a watched file: the new complete lines of a tailed one, or a whole one.

use super::checkpoint::Mode;
use super::{Progress, WatchBatch, WatchSink};
use crate::{Collector, Diagnostic, EventBatch, IngestError, Input, Place, ReadOptions, Sink};
use rampart_event::Event;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Lines per batch, as a hunt's blocks.
const BLOCK_LINES: u64 = 64;
/// Bytes per batch, about: a block of long lines ends sooner.
const BLOCK_BYTES: usize = 1 << 20;

/// The tail of a JSON-lines file, read through an open handle.
pub(super) struct Tail<'a> {
    pub handle: &'a File,
    pub name: &'a Arc<str>,
    pub path: &'a Path,
    pub key: &'a str,
    pub options: &'a ReadOptions,
    /// The file left the folders: its last line counts even without a newline, and
    /// the last batch says the file is done.
    pub last: bool,
}

impl Tail<'_> {
    /// Delivers the complete lines after `progress`, a batch at a time; `progress`
    /// follows each batch the sink took.
    ///
    /// A file's problems are shown up to the reading options' cap over its life
    /// (`shown` counts them); past it, each batch's are counted in one line.
    pub(super) fn read(
        &self,
        progress: &mut Progress,
        shown: &mut u64,
        sink: &mut dyn WatchSink,
    ) -> ControlFlow<()> {
        let mut handle = self.handle;
        if let Err(error) = handle.seek(SeekFrom::Start(progress.offset)) {
            sink.diagnostic(self.problem(Place::File, format!("cannot read: {error}")));
            return ControlFlow::Continue(());
        }
        let mut reader = BufReader::with_capacity(64 << 10, handle);
        loop {
            if sink.stopped() {
                return ControlFlow::Break(());
            }
            let block = self.block(&mut reader, progress.lines, sink);
            if block.lines == 0 {
                return ControlFlow::Continue(());
            }
            let collector = Collector::new();
            let first_line = progress.lines + 1;
            let budget = self.options.max_diagnostics.saturating_sub(*shown);
            let options = ReadOptions {
                max_diagnostics: budget,
                ..self.options.clone()
            };
            let stats = crate::json_reader::read_line_block(
                &block.bytes,
                first_line,
                self.name,
                &options,
                &collector,
            );
            *shown += stats.diagnostics.min(budget);
            let (events, diagnostics) = collector.into_parts();
            for diagnostic in diagnostics {
                sink.diagnostic(diagnostic);
            }
            let mut next = progress.clone();
            next.offset += block.consumed;
            next.lines += block.lines;
            next.records += events.len() as u64;
            let done = self.last && block.end;
            let batch = WatchBatch {
                source: Arc::clone(self.name),
                events,
                checkpoints: vec![(
                    self.key.to_string(),
                    next.checkpoint(self.path, Mode::Lines, done),
                )],
            };
            sink.batch(batch)?;
            *progress = next;
            if block.end {
                return ControlFlow::Continue(());
            }
        }
    }

    /// Up to a batch of whole lines from `reader`; lines over the cap are reported
    /// and stand as empty lines, so that line numbers stay right.
    fn block(
        &self,
        reader: &mut BufReader<&File>,
        lines_before: u64,
        sink: &mut dyn WatchSink,
    ) -> Block {
        let max_line = self.options.max_line_bytes;
        let mut block = Block::default();
        while block.lines < BLOCK_LINES && block.bytes.len() < BLOCK_BYTES {
            let start = block.bytes.len();
            let read =
                Read::take(&mut *reader, max_line as u64 + 1).read_until(b'\n', &mut block.bytes);
            let got = match read {
                Ok(0) => break,
                Ok(got) => got as u64,
                Err(error) => {
                    block.bytes.truncate(start);
                    let line = Place::Line(lines_before + block.lines + 1);
                    sink.diagnostic(self.problem(line, format!("read error: {error}")));
                    break;
                }
            };
            if block.bytes.last() == Some(&b'\n') {
                block.lines += 1;
                block.consumed += got;
                continue;
            }
            if got > max_line as u64 {
                // Too long: read through to its newline without holding it.
                block.bytes.truncate(start);
                match skip_line(reader) {
                    Ok(Some(rest)) => {
                        block.lines += 1;
                        block.consumed += got + rest;
                        block.bytes.push(b'\n');
                        let line = Place::Line(lines_before + block.lines);
                        let message = format!("line skipped: longer than {max_line} bytes");
                        sink.diagnostic(self.problem(line, message));
                        continue;
                    }
                    // Its end is not written yet: look again at the next poll.
                    _ => break,
                }
            }
            // A last line without its newline: it waits, unless the file is gone.
            if self.last {
                block.lines += 1;
                block.consumed += got;
            } else {
                block.bytes.truncate(start);
            }
            break;
        }
        block.end = block.lines < BLOCK_LINES && block.bytes.len() < BLOCK_BYTES;
        block
    }

    fn problem(&self, place: Place, message: String) -> Diagnostic {
        Diagnostic {
            source: Arc::clone(self.name),
            place,
            message,
        }
    }
}

/// Whole lines read from a tailed file.
#[derive(Default)]
struct Block {
    bytes: Vec<u8>,
    lines: u64,
    /// Bytes of the file the lines took (an over-long line takes more than it holds).
    consumed: u64,
    /// Nothing more to read for now.
    end: bool,
}

/// Consumes the rest of a line, its newline included: the bytes taken, or `None`
/// when the file ends first.
fn skip_line(reader: &mut BufReader<&File>) -> std::io::Result<Option<u64>> {
    let mut taken = 0u64;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(None);
        }
        match memchr::memchr(b'\n', available) {
            Some(at) => {
                reader.consume(at + 1);
                return Ok(Some(taken + at as u64 + 1));
            }
            None => {
                let all = available.len();
                taken += all as u64;
                reader.consume(all);
            }
        }
    }
}

/// A file read whole (EVTX, gzip, JSON documents), resuming after the events already
/// delivered.
pub(super) struct Whole<'a> {
    pub path: &'a Path,
    pub name: &'a Arc<str>,
    pub key: &'a str,
    pub options: &'a ReadOptions,
}

impl Whole<'_> {
    /// Reads the file through the ordinary readers, delivering its batches after the
    /// first `progress.records` events; the last batch (empty when nothing is left)
    /// says the file is done. `progress` follows each batch the sink took. Readers
    /// are deterministic, so the events skipped are the ones delivered before.
    pub(super) fn read(
        &self,
        progress: &mut Progress,
        sink: &mut dyn WatchSink,
    ) -> Result<ControlFlow<()>, IngestError> {
        let input = Input::file(self.path)?;
        let adapter = Adapter {
            whole: self,
            state: Mutex::new(Delivery {
                sink,
                progress: progress.clone(),
                skip: progress.records,
                position: 0,
                held: None,
                stopped: false,
            }),
        };
        input.read(self.options, &adapter)?;
        let mut delivery = adapter
            .state
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A read the sink stopped ended early: the file is not done.
        delivery.stopped |= delivery.sink.stopped();
        if !delivery.stopped {
            let (events, at) = delivery
                .held
                .take()
                .unwrap_or((Vec::new(), delivery.position));
            delivery.deliver(self, events, at.max(delivery.position), true);
        }
        *progress = delivery.progress;
        Ok(if delivery.stopped {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    }
}

/// The readers' [`Sink`] in front of a [`WatchSink`]: each batch is held until the
/// next one arrives, so that the last one can say the file is done.
struct Adapter<'w, 's> {
    whole: &'w Whole<'w>,
    state: Mutex<Delivery<'s>>,
}

struct Delivery<'s> {
    sink: &'s mut dyn WatchSink,
    /// As far as the sink took.
    progress: Progress,
    /// Events still to skip (delivered before).
    skip: u64,
    /// Events of the file read so far.
    position: u64,
    /// A batch not yet delivered, and the position at its end.
    held: Option<(Vec<Event>, u64)>,
    stopped: bool,
}

impl Delivery<'_> {
    fn deliver(&mut self, whole: &Whole<'_>, events: Vec<Event>, at: u64, done: bool) {
        let mut next = self.progress.clone();
        next.records = at;
        let batch = WatchBatch {
            source: Arc::clone(whole.name),
            events,
            checkpoints: vec![(
                whole.key.to_string(),
                next.checkpoint(whole.path, Mode::File, done),
            )],
        };
        match self.sink.batch(batch) {
            ControlFlow::Continue(()) => self.progress = next,
            ControlFlow::Break(()) => self.stopped = true,
        }
    }
}

impl Sink for Adapter<'_, '_> {
    fn events(&self, batch: EventBatch) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.stopped |= state.sink.stopped();
        if state.stopped {
            return;
        }
        let mut events = batch.events;
        let count = events.len() as u64;
        let skip = state.skip.min(count);
        state.skip -= skip;
        events.drain(..usize::try_from(skip).unwrap_or(events.len()));
        state.position += count;
        if events.is_empty() {
            return;
        }
        let position = state.position;
        if let Some((held, at)) = state.held.replace((events, position)) {
            state.deliver(self.whole, held, at, false);
        }
    }

    fn diagnostic(&self, diagnostic: Diagnostic) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.sink.diagnostic(diagnostic);
    }

    fn stopped(&self) -> bool {
        let state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.stopped || state.sink.stopped()
    }
}
