//! JSON inputs: JSON lines (one event per line), or concatenated / array JSON documents
//! such as evtx_dump's pretty-printed output; gzip recognised by its magic bytes.
//!
//! JSON lines are read in blocks of lines; each block is parsed as a task of its own
//! and becomes one batch, and the reader stays a bounded number of blocks ahead, so a
//! multi-gigabyte file streams in bounded memory. A line longer than the cap is read
//! through without being held, and reported. A malformed line is a diagnostic and the
//! next line is read as usual. Arrays and pretty-printed documents stream one element
//! at a time; they cannot be re-synchronised after a syntax error, so there the first
//! one ends the input (with a diagnostic).

use crate::diagnostic::Reporter;
use crate::flatten::flatten_json;
use crate::{EventBatch, IngestError, Place, ReadOptions, ReadStats, Sink};
use flate2::read::MultiGzDecoder;
use rampart_event::Event;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as _;
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
        records_skipped: read.reporter.skipped(),
    })
}

/// Reads `bytes`, whole lines of a JSON-lines file, numbered from `first_line`, on
/// this thread and in order: the watcher's way of reading what a growing file gained
/// (format sniffing is the watcher's, done once when it first saw the file).
pub(crate) fn read_line_block<S: Sink + ?Sized>(
    bytes: &[u8],
    first_line: u64,
    name: &Arc<str>,
    options: &ReadOptions,
    sink: &S,
) -> ReadStats {
    let read = JsonRead {
        name,
        options,
        sink,
        reporter: Reporter::new(sink, name.clone(), options.max_diagnostics),
        events: AtomicU64::new(0),
    };
    let mut text = std::io::Cursor::new(bytes);
    read_lines(Vec::new(), first_line, &mut text, &read);
    ReadStats {
        events: read.events.load(Ordering::Relaxed),
        bytes: bytes.len() as u64,
        diagnostics: read.reporter.finish(),
        records_skipped: read.reporter.skipped(),
    }
}

fn read_text<S: Sink + ?Sized>(text: &mut (dyn BufRead + Send), read: &JsonRead<'_, S>) {
    let read_error = |line: u64, error: std::io::Error| {
        read.reporter
            .report(Place::Line(line), format!("read error: {error}"))
    };
    // Blank lines before the first content are passed over as they come, never held:
    // a gigabyte of them compresses to a few megabytes.
    let line = match skip_whitespace(text) {
        Ok(Some(newlines)) => newlines + 1,
        Ok(None) => return,
        Err(error) => return read_error(1, error),
    };
    if text
        .fill_buf()
        .is_ok_and(|head| head.first() == Some(&b'['))
    {
        return read_documents(text, line, read);
    }
    // The first line with content tells JSON lines from pretty-printed documents; it
    // is read up to the line cap like any other.
    let max_line = read.options.max_line_bytes;
    let mut first = Vec::new();
    if let Err(error) = Read::take(&mut *text, max_line as u64 + 1).read_until(b'\n', &mut first) {
        return read_error(line, error);
    }
    if first.len() > max_line && first.last() != Some(&b'\n') {
        report_too_long(line, read);
        if let Err(error) = skip_line(text) {
            return read_error(line, error);
        }
        return read_lines(Vec::new(), line + 1, text, read);
    }
    if first.trim_ascii() == b"{" {
        let mut documents = std::io::Cursor::new(first).chain(&mut *text);
        read_documents(&mut documents, line, read);
    } else {
        read_lines(first, line, text, read);
    }
}

/// Consumes JSON whitespace: the newlines it held, or `None` when the text ends first.
fn skip_whitespace(text: &mut dyn BufRead) -> std::io::Result<Option<u64>> {
    let mut newlines = 0;
    loop {
        let available = text.fill_buf()?;
        if available.is_empty() {
            return Ok(None);
        }
        let blank = available
            .iter()
            .position(|byte| !byte.is_ascii_whitespace())
            .unwrap_or(available.len());
        newlines += memchr::memchr_iter(b'\n', &available[..blank]).count() as u64;
        let ended = blank < available.len();
        text.consume(blank);
        if ended {
            return Ok(Some(newlines));
        }
    }
}

/// Consumes the rest of a line, its newline included, without holding it.
fn skip_line(text: &mut dyn BufRead) -> std::io::Result<()> {
    loop {
        let available = text.fill_buf()?;
        if available.is_empty() {
            return Ok(());
        }
        match memchr::memchr(b'\n', available) {
            Some(at) => {
                text.consume(at + 1);
                return Ok(());
            }
            None => {
                let all = available.len();
                text.consume(all);
            }
        }
    }
}

fn report_too_long<S: Sink + ?Sized>(line: u64, read: &JsonRead<'_, S>) {
    read.reporter.record_skipped(
        Place::Line(line),
        format!(
            "line skipped: longer than {} bytes",
            read.options.max_line_bytes
        ),
    );
}

/// A block of lines: their bytes back to back and where each ends.
struct Block {
    seq: u64,
    first_line: u64,
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// The lines (indices into `ends`) skipped for being longer than the cap: empty
    /// in `bytes`, reported when the block is parsed.
    too_long: Vec<usize>,
}

/// Reads JSON lines from line `first_line` on; `first` is that line when the format
/// sniffing already read it (empty otherwise).
fn read_lines<S: Sink + ?Sized>(
    first: Vec<u8>,
    first_line: u64,
    text: &mut (dyn BufRead + Send),
    read: &JsonRead<'_, S>,
) {
    let parallel = read.options.parallel;
    let (pending, next_line, seq) = if first.is_empty() {
        (None, first_line, 0)
    } else {
        let block = Block {
            seq: 0,
            first_line,
            ends: vec![first.len()],
            bytes: first,
            too_long: Vec::new(),
        };
        (Some(block), first_line + 1, 1)
    };
    let pool: Mutex<Vec<(Vec<u8>, Vec<usize>)>> = Mutex::new(Vec::new());
    let mut blocks = LineBlocks {
        text,
        pending,
        next_line,
        seq,
        done: false,
        max_line: read.options.max_line_bytes,
        skipping: false,
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
    /// The line cap.
    max_line: usize,
    /// Whether the reader is inside a line longer than the cap, consuming it.
    skipping: bool,
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
        while !self.done && !read.sink.stopped() {
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
                too_long: Vec::new(),
            };
            match fill_block(
                &mut *self.text,
                &mut block,
                self.max_line,
                &mut self.skipping,
            ) {
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
/// call per line cost more than the copy. A line longer than `max_line` bytes is
/// dropped as soon as it is known to be (with `skipping` set while the rest of it is
/// consumed) and stands in the block as an empty line listed in `too_long`, so a
/// block never holds more than about `max_line` bytes of one line.
fn fill_block(
    text: &mut (dyn BufRead + Send),
    block: &mut Block,
    max_line: usize,
    skipping: &mut bool,
) -> std::io::Result<bool> {
    loop {
        let line_start = block.ends.last().copied().unwrap_or(0);
        let at_line_end = !*skipping && line_start == block.bytes.len();
        if at_line_end && (block.ends.len() >= BLOCK_LINES || block.bytes.len() >= BLOCK_BYTES) {
            return Ok(true);
        }
        let available = text.fill_buf()?;
        if available.is_empty() {
            // A last line without a newline is a line too.
            if *skipping {
                *skipping = false;
                block.too_long.push(block.ends.len());
                block.ends.push(block.bytes.len());
            } else if !at_line_end {
                block.ends.push(block.bytes.len());
            }
            return Ok(false);
        }
        if *skipping {
            match memchr::memchr(b'\n', available) {
                Some(at) => {
                    text.consume(at + 1);
                    *skipping = false;
                    block.too_long.push(block.ends.len());
                    block.ends.push(block.bytes.len());
                }
                None => {
                    let all = available.len();
                    text.consume(all);
                }
            }
            continue;
        }
        let base = block.bytes.len();
        let wanted = BLOCK_LINES.saturating_sub(block.ends.len()).max(1);
        // Bytes of `available` holding the whole lines taken, and where the line
        // being read begins in the block.
        let (mut taken, mut line_begin, mut lines) = (0, line_start, 0);
        let mut too_long_end = None;
        for end in memchr::memchr_iter(b'\n', available) {
            if base + end - line_begin > max_line {
                too_long_end = Some(end);
                break;
            }
            block.ends.push(base + end + 1);
            (taken, line_begin, lines) = (end + 1, base + end + 1, lines + 1);
            if lines == wanted {
                break;
            }
        }
        if let Some(end) = too_long_end {
            block.bytes.extend_from_slice(&available[..taken]);
            block.bytes.truncate(line_begin);
            block.too_long.push(block.ends.len());
            block.ends.push(block.bytes.len());
            text.consume(end + 1);
        } else if lines > 0 {
            block.bytes.extend_from_slice(&available[..taken]);
            text.consume(taken);
        } else if base + available.len() - line_start > max_line {
            // No newline, and already too long: drop what the block holds of it.
            block.bytes.truncate(line_start);
            let all = available.len();
            text.consume(all);
            *skipping = true;
        } else {
            // Part of a line that goes on in the next buffer.
            let all = available.len();
            block.bytes.extend_from_slice(available);
            text.consume(all);
        }
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
    for &index in &block.too_long {
        report_too_long(block.first_line + index as u64, read);
    }
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
            let flatten = |bytes: &[u8]| crate::stream::flatten_slice(bytes, &read.options.aliases);
            if let Some(mut event) = decode_line(bytes, line, read, flatten) {
                event.meta.source = Arc::clone(read.name);
                event.meta.record_id = event.meta.record_id.or(Some(line));
                events.push(event);
            }
            continue;
        }
        if let Some(json) = decode_line(bytes, line, read, |bytes: &[u8]| {
            serde_json::from_slice::<Json>(bytes)
        }) {
            push_document(json, line, &mut events, read);
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

/// Parses one line; a line that fails for its text (bytes that are not UTF-8, lone
/// surrogate escapes) is decoded again with U+FFFD in their place and kept, with one
/// diagnostic; a line that still fails is skipped, with one.
fn decode_line<T, S: Sink + ?Sized>(
    bytes: &[u8],
    line: u64,
    read: &JsonRead<'_, S>,
    parse: impl Fn(&[u8]) -> Result<T, serde_json::Error>,
) -> Option<T> {
    let error = match parse(bytes) {
        Ok(parsed) => return Some(parsed),
        Err(error) => error,
    };
    if let Some((repaired, what)) = crate::text::repair(bytes) {
        if let Ok(parsed) = parse(&repaired) {
            let message = format!("{what} replaced by U+FFFD, event kept");
            read.reporter.report(Place::Line(line), message);
            return Some(parsed);
        }
    }
    read.reporter.record_skipped(
        Place::Line(line),
        format!("line skipped: malformed JSON: {error}"),
    );
    None
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
            .record_skipped(Place::Line(line), "skipped: not a JSON object"),
    }
}

/// Concatenated or array documents (from line `first_line` on), read one element at
/// a time: an array's elements are events of their own, delivered in batches of
/// `BLOCK_LINES` as they are read, so a file of one huge array streams like JSON
/// lines. After a syntax error there is no telling where the next document begins:
/// the rest of the input is skipped, with a diagnostic.
fn read_documents<S: Sink + ?Sized>(
    text: &mut dyn BufRead,
    first_line: u64,
    read: &JsonRead<'_, S>,
) {
    let newlines = std::cell::Cell::new(first_line - 1);
    let mut batches = Batches {
        read,
        events: Vec::with_capacity(BLOCK_LINES),
        seq: 0,
        ordinal: 0,
    };
    while !read.sink.stopped() {
        match skip_whitespace(text) {
            Ok(Some(skipped)) => newlines.set(newlines.get() + skipped),
            Ok(None) => break,
            Err(error) => {
                let line = newlines.get() + 1;
                read.reporter
                    .report(Place::Line(line), format!("read error: {error}"));
                break;
            }
        }
        let start = newlines.get() + 1;
        let counted = LineCounting {
            text: &mut *text,
            newlines: &newlines,
        };
        // A deserializer per document: it reads no byte past the document's end
        // (except after a bare number, which is not an event anyway).
        let mut deserializer = serde_json::Deserializer::from_reader(counted);
        let document = Document {
            batches: &mut batches,
            newlines: &newlines,
        };
        if let Err(error) = document.deserialize(&mut deserializer) {
            if read.sink.stopped() {
                // Not malformed: the consumer stopped the read inside an array.
                return;
            }
            let line = start + (error.line() as u64).saturating_sub(1);
            let mut message = error.to_string();
            // The error's own position counts from the document's start.
            if let Some(at) = message.rfind(" at line ") {
                message.truncate(at);
            }
            read.reporter.record_skipped(
                Place::Line(line),
                format!("rest of input skipped: malformed JSON: {message}"),
            );
            break;
        }
    }
    batches.flush();
}

/// Counts the newlines read through it, for the line numbers of documents.
struct LineCounting<'t, 'c> {
    text: &'t mut dyn BufRead,
    newlines: &'c std::cell::Cell<u64>,
}

impl Read for LineCounting<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.text.read(buf)?;
        let newlines = memchr::memchr_iter(b'\n', &buf[..read]).count() as u64;
        self.newlines.set(self.newlines.get() + newlines);
        Ok(read)
    }
}

/// Events of documents, delivered in batches as they fill.
struct Batches<'r, 'x, S: Sink + ?Sized> {
    read: &'r JsonRead<'x, S>,
    events: Vec<Event>,
    seq: u64,
    /// Events so far: documents have no line of their own, so an event without a
    /// record id gets its ordinal.
    ordinal: u64,
}

impl<S: Sink + ?Sized> Batches<'_, '_, S> {
    fn push(&mut self, json: &Json) {
        self.ordinal += 1;
        let mut event = flatten_json(json, &self.read.options.aliases);
        event.meta.source = Arc::clone(self.read.name);
        event.meta.record_id = event.meta.record_id.or(Some(self.ordinal));
        self.events.push(event);
        if self.events.len() >= BLOCK_LINES {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.events.is_empty() || self.read.sink.stopped() {
            return;
        }
        let events = std::mem::replace(&mut self.events, Vec::with_capacity(BLOCK_LINES));
        self.read
            .events
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        self.read.sink.events(EventBatch {
            seq: self.seq,
            events,
        });
        self.seq += 1;
    }
}

/// A document or array element: an object is an event, an array's elements are read
/// one at a time, anything else is reported.
struct Document<'b, 'r, 'x, 'c, S: Sink + ?Sized> {
    batches: &'b mut Batches<'r, 'x, S>,
    newlines: &'c std::cell::Cell<u64>,
}

impl<S: Sink + ?Sized> Document<'_, '_, '_, '_, S> {
    fn not_an_object<E>(self) -> Result<(), E> {
        let line = Place::Line(self.newlines.get() + 1);
        (self.batches.read.reporter).record_skipped(line, "skipped: not a JSON object");
        Ok(())
    }
}

impl<'de, S: Sink + ?Sized> DeserializeSeed<'de> for Document<'_, '_, '_, '_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, S: Sink + ?Sized> Visitor<'de> for Document<'_, '_, '_, '_, S> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object or array")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let json = Json::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        self.batches.push(&json);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Document {
                batches: &mut *self.batches,
                newlines: self.newlines,
            })?
            .is_some()
        {
            if self.batches.read.sink.stopped() {
                return Err(serde::de::Error::custom("read stopped"));
            }
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.not_an_object()
    }
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
                too_long: Vec::new(),
            };
            let more =
                fill_block(&mut *reader, &mut block, usize::MAX, &mut false).unwrap_or(false);
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
