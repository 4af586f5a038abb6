//! JSON inputs: JSON lines (one event per line), or concatenated / array JSON documents
//! such as evtx_dump's pretty-printed output; gzip recognised by its magic bytes.
//!
//! JSON lines are read in blocks of lines; each block is parsed as a task of its own
//! and becomes one batch, and the reader stays a bounded number of blocks ahead, so a
//! multi-gigabyte file streams in bounded memory. A
//! malformed line is a diagnostic and the next line is read as usual. Pretty-printed
//! documents cannot be re-synchronised after an error, so there the first error ends
//! the input (with a diagnostic).

use crate::diagnostic::Reporter;
use crate::flatten::flatten_json;
use crate::{EventBatch, IngestError, Place, ReadOptions, ReadStats, Sink};
use flate2::read::MultiGzDecoder;
use rampart_event::Event;
use serde_json::Value as Json;
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
/// Lines per block: a block's events are parsed, scanned and freed together, and a
/// block's worth of events (~3 KiB each) must stay in the core's cache for that to be
/// cheap: at 512 lines, reusing freed memory missed the cache and allocation alone
/// took 8 % of a run; 64 lines cut a run's CPU time by a tenth.
const BLOCK_LINES: usize = 64;
const BLOCK_BYTES: usize = 1 << 20;
/// Blocks per thread read ahead of the parsing: enough that no thread waits for text,
/// few enough that memory stays small.
const BLOCKS_IN_FLIGHT_PER_THREAD: usize = 16;
const READ_BUFFER: usize = 256 << 10;

/// Counts the bytes taken from the underlying input (compressed bytes for gzip).
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.count.fetch_add(read as u64, Ordering::Relaxed);
        Ok(read)
    }
}

/// Shared state of one input's read.
struct JsonRead<'a, S: Sink + ?Sized> {
    name: &'a Arc<str>,
    options: &'a ReadOptions,
    sink: &'a S,
    reporter: Reporter<'a, S>,
    events: AtomicU64,
}

pub(crate) fn read<R: Read + Send, S: Sink + ?Sized>(
    raw: R,
    name: &Arc<str>,
    options: &ReadOptions,
    sink: &S,
) -> Result<ReadStats, IngestError> {
    let count = Arc::new(AtomicU64::new(0));
    let counting = Counting {
        inner: raw,
        count: Arc::clone(&count),
    };
    let mut reader = BufReader::with_capacity(READ_BUFFER, counting);
    let io_error = |source| IngestError::Read {
        path: name.to_string(),
        source,
    };
    let gzip = reader.fill_buf().map_err(io_error)?.starts_with(GZIP_MAGIC);
    let mut text: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(
            READ_BUFFER,
            MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    };
    let read = JsonRead {
        name,
        options,
        sink,
        reporter: Reporter::new(sink, name.clone(), options.max_diagnostics),
        events: AtomicU64::new(0),
    };
    read_text(&mut text, &read);
    Ok(ReadStats {
        events: read.events.load(Ordering::Relaxed),
        bytes: count.load(Ordering::Relaxed),
        diagnostics: read.reporter.finish(),
    })
}

fn read_text<S: Sink + ?Sized>(text: &mut (dyn BufRead + Send), read: &JsonRead<'_, S>) {
    let head = match text.fill_buf() {
        Ok(head) => head,
        Err(error) => {
            read.reporter
                .report(Place::File, format!("read error: {error}"));
            return;
        }
    };
    if head.iter().take(4096).any(|&byte| byte == 0) {
        read.reporter.report(
            Place::File,
            "binary data, neither EVTX nor JSON: input skipped",
        );
        return;
    }
    // Blank lines, then the first line with content: it tells JSON lines from
    // pretty-printed documents.
    let mut prelude = Vec::new();
    let mut lines = 0u64;
    loop {
        let start = prelude.len();
        match text.read_until(b'\n', &mut prelude) {
            Ok(0) => return,
            Ok(_) => lines += 1,
            Err(error) => {
                read.reporter
                    .report(Place::Line(lines + 1), format!("read error: {error}"));
                return;
            }
        }
        let line = prelude[start..].trim_ascii();
        if line.is_empty() {
            continue;
        }
        if line == b"{" || line.starts_with(b"[") {
            read_documents(std::io::Cursor::new(prelude).chain(text), read);
        } else {
            read_lines(prelude, lines, text, read);
        }
        return;
    }
}

/// A block of lines: their bytes back to back and where each ends.
struct Block {
    seq: u64,
    first_line: u64,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

fn read_lines<S: Sink + ?Sized>(
    prelude: Vec<u8>,
    prelude_lines: u64,
    text: &mut (dyn BufRead + Send),
    read: &JsonRead<'_, S>,
) {
    let parallel = read.options.parallel;
    // The prelude is whole lines, the last one with content: split it the same way.
    let mut first = Block {
        seq: 0,
        first_line: 1,
        ends: Vec::new(),
        bytes: prelude,
    };
    let mut end = 0;
    for _ in 0..prelude_lines {
        end += first.bytes[end..]
            .iter()
            .position(|&byte| byte == b'\n')
            .map_or(first.bytes.len() - end, |at| at + 1);
        first.ends.push(end);
    }
    let pool: Mutex<Vec<(Vec<u8>, Vec<usize>)>> = Mutex::new(Vec::new());
    let mut blocks = LineBlocks {
        text,
        pending: Some(first),
        next_line: prelude_lines + 1,
        seq: 1,
        done: false,
    };
    if !parallel {
        while let Some(block) = blocks.next_block(&pool, read) {
            recycle(&pool, parse_block(block, read));
        }
        return;
    }
    // Each block is a task of its own, spawned as soon as it is read: waves of blocks
    // parsed together left threads idle at the end of every wave, waiting for the
    // wave's last block.
    let limit = BLOCKS_IN_FLIGHT_PER_THREAD * rayon::current_num_threads().max(1);
    let in_flight = InFlight::default();
    let (pool, in_flight) = (&pool, &in_flight);
    rayon::scope(|scope| {
        while let Some(block) = blocks.next_block(pool, read) {
            in_flight.start(limit);
            scope.spawn(move |_| {
                recycle(pool, parse_block(block, read));
                in_flight.finish();
            });
        }
    });
}

/// How many blocks are read and not yet parsed: the reader waits while too many are,
/// so memory stays bounded however fast it reads.
#[derive(Default)]
struct InFlight {
    count: Mutex<usize>,
    finished: Condvar,
}

impl InFlight {
    /// Waits until fewer than `limit` blocks are in flight, then counts one more.
    fn start(&self, limit: usize) {
        loop {
            let mut count = self
                .count
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if *count < limit {
                *count += 1;
                return;
            }
            drop(count);
            // On a pool thread, parse a waiting block rather than sleep.
            if rayon::yield_now() == Some(rayon::Yield::Executed) {
                continue;
            }
            let count = self
                .count
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if *count >= limit {
                // Every block in flight is being parsed: wait for one to finish (the
                // timeout only guards against a missed wake-up).
                let _ = self.finished.wait_timeout(count, Duration::from_millis(5));
            }
        }
    }

    /// Counts a block done.
    fn finish(&self) {
        let mut count = self
            .count
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *count = count.saturating_sub(1);
        self.finished.notify_one();
    }
}

/// Cuts a text into blocks of whole lines.
struct LineBlocks<'t> {
    text: &'t mut (dyn BufRead + Send),
    /// The block of the lines read while sniffing the format.
    pending: Option<Block>,
    next_line: u64,
    seq: u64,
    done: bool,
}

impl LineBlocks<'_> {
    /// The next block of lines; `None` once the text is exhausted.
    fn next_block<S: Sink + ?Sized>(
        &mut self,
        pool: &Mutex<Vec<(Vec<u8>, Vec<usize>)>>,
        read: &JsonRead<'_, S>,
    ) -> Option<Block> {
        if let Some(block) = self.pending.take() {
            return Some(block);
        }
        while !self.done {
            // Buffers are reused: allocating and freeing megabytes per block made
            // glibc's malloc consolidate its free lists over and over.
            let (bytes, ends) = pool
                .lock()
                .ok()
                .and_then(|mut pool| pool.pop())
                .unwrap_or_else(|| {
                    (
                        Vec::with_capacity(BLOCK_BYTES / 4),
                        Vec::with_capacity(BLOCK_LINES),
                    )
                });
            let mut block = Block {
                seq: self.seq,
                first_line: self.next_line,
                bytes,
                ends,
            };
            match fill_block(&mut *self.text, &mut block) {
                Ok(more) => self.done = !more,
                Err(error) => {
                    let line = self.next_line + block.ends.len() as u64;
                    read.reporter.report(
                        Place::Line(line),
                        format!("read error, rest of input skipped: {error}"),
                    );
                    self.done = true;
                }
            }
            self.next_line += block.ends.len() as u64;
            // Sequence numbers stay gapless: the output waits for every number.
            if block.ends.is_empty() {
                recycle(pool, block);
            } else {
                self.seq += 1;
                return Some(block);
            }
        }
        None
    }
}

/// Appends whole lines of `text` to `block` until it holds `BLOCK_LINES` lines or
/// about `BLOCK_BYTES` bytes; `false` once the text is exhausted. The lines of the
/// reader's buffer are found with one SIMD search and copied in one piece, where a
/// call per line cost more than the copy.
fn fill_block(text: &mut (dyn BufRead + Send), block: &mut Block) -> std::io::Result<bool> {
    loop {
        let at_line_end = block.ends.last().copied().unwrap_or(0) == block.bytes.len();
        if at_line_end && (block.ends.len() >= BLOCK_LINES || block.bytes.len() >= BLOCK_BYTES) {
            return Ok(true);
        }
        let available = text.fill_buf()?;
        if available.is_empty() {
            // A last line without a newline is a line too.
            if !at_line_end {
                block.ends.push(block.bytes.len());
            }
            return Ok(false);
        }
        let base = block.bytes.len();
        let wanted = BLOCK_LINES.saturating_sub(block.ends.len()).max(1);
        let mut taken = available.len();
        for (count, end) in memchr::memchr_iter(b'\n', available).enumerate() {
            block.ends.push(base + end + 1);
            taken = end + 1;
            if count + 1 == wanted {
                break;
            }
        }
        // With no newline, all of it: part of a line that goes on in the next buffer.
        block.bytes.extend_from_slice(&available[..taken]);
        text.consume(taken);
    }
}

/// Returns a parsed block's buffers to the pool.
fn recycle(pool: &Mutex<Vec<(Vec<u8>, Vec<usize>)>>, block: Block) {
    let (mut bytes, mut ends) = (block.bytes, block.ends);
    bytes.clear();
    ends.clear();
    if let Ok(mut pool) = pool.lock() {
        pool.push((bytes, ends));
    }
}

/// Parses a block's lines and delivers its batch; gives the block back for reuse.
fn parse_block<S: Sink + ?Sized>(block: Block, read: &JsonRead<'_, S>) -> Block {
    let mut events = Vec::with_capacity(block.ends.len());
    let mut start = 0;
    for (line, &end) in (block.first_line..).zip(&block.ends) {
        let bytes = block.bytes[start..end].trim_ascii();
        start = end;
        if bytes.is_empty() {
            continue;
        }
        // Objects, the common case, take the streaming path; arrays and odd lines
        // go through a `Value`.
        if bytes.first() == Some(&b'{') {
            match crate::stream::flatten_slice(bytes, &read.options.aliases) {
                Ok(mut event) => {
                    event.meta.source = Arc::clone(read.name);
                    event.meta.record_id = event.meta.record_id.or(Some(line));
                    events.push(event);
                }
                Err(error) => read.reporter.report(
                    Place::Line(line),
                    format!("line skipped: malformed JSON: {error}"),
                ),
            }
            continue;
        }
        match serde_json::from_slice::<Json>(bytes) {
            Ok(json) => push_document(json, line, &mut events, read),
            Err(error) => read.reporter.report(
                Place::Line(line),
                format!("line skipped: malformed JSON: {error}"),
            ),
        }
    }
    read.events
        .fetch_add(events.len() as u64, Ordering::Relaxed);
    read.sink.events(EventBatch {
        seq: block.seq,
        events,
    });
    block
}

/// One parsed document: an object is an event, an array a list of them.
fn push_document<S: Sink + ?Sized>(
    json: Json,
    line: u64,
    events: &mut Vec<Event>,
    read: &JsonRead<'_, S>,
) {
    match json {
        Json::Object(_) => {
            let mut event = flatten_json(&json, &read.options.aliases);
            event.meta.source = Arc::clone(read.name);
            event.meta.record_id = event.meta.record_id.or(Some(line));
            events.push(event);
        }
        Json::Array(items) => {
            for item in items {
                push_document(item, line, events, read);
            }
        }
        _ => read
            .reporter
            .report(Place::Line(line), "skipped: not a JSON object"),
    }
}

/// Concatenated or array documents, read one after the other in a stream.
fn read_documents<S: Sink + ?Sized>(text: impl Read, read: &JsonRead<'_, S>) {
    let mut events = Vec::new();
    let documents = serde_json::Deserializer::from_reader(text).into_iter::<Json>();
    for document in documents {
        match document {
            // Documents have no line of their own: events fall back to their ordinal.
            Ok(json) => push_document(json, events.len() as u64 + 1, &mut events, read),
            Err(error) => {
                let message = format!("rest of input skipped: malformed JSON: {error}");
                read.reporter
                    .report(Place::Line(error.line() as u64), message);
                break;
            }
        }
    }
    read.events
        .fetch_add(events.len() as u64, Ordering::Relaxed);
    read.sink.events(EventBatch { seq: 0, events });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `text`, as the blocks cut it with a reader buffer of `capacity`.
    fn lines_through_blocks(text: &[u8], capacity: usize) -> Vec<Vec<u8>> {
        let mut reader: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(
            capacity,
            std::io::Cursor::new(text.to_vec()),
        ));
        let mut lines = Vec::new();
        loop {
            let mut block = Block {
                seq: 0,
                first_line: 0,
                bytes: Vec::new(),
                ends: Vec::new(),
            };
            let more = fill_block(&mut *reader, &mut block).unwrap_or(false);
            assert!(block.ends.len() <= BLOCK_LINES);
            let mut start = 0;
            for &end in &block.ends {
                lines.push(block.bytes[start..end].to_vec());
                start = end;
            }
            assert_eq!(start, block.bytes.len(), "a block ends inside a line");
            if !more {
                return lines;
            }
        }
    }

    #[test]
    fn blocks_hold_whole_lines_whatever_the_buffer() {
        let mut text = Vec::new();
        for n in 0..1000 {
            text.extend_from_slice(
                format!("{{\"n\": {n}, \"pad\": \"{}\"}}\n", "x".repeat(n % 300)).as_bytes(),
            );
        }
        text.extend_from_slice(b"{\"last\": \"no newline\"}");
        let expected: Vec<Vec<u8>> = text
            .split_inclusive(|&byte| byte == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        for capacity in [1, 7, 64, 4096, 1 << 20] {
            assert_eq!(
                lines_through_blocks(&text, capacity),
                expected,
                "{capacity}"
            );
        }
        assert!(lines_through_blocks(b"", 16).is_empty());
    }
}
