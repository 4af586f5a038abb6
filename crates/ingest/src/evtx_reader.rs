//! EVTX files: chunks decoded by the `evtx` crate, records flattened into events.
//!
//! A file is read in waves of a few 64 KiB chunks; the chunks of a wave are decoded
//! in parallel (they are independent by design of the format) and each becomes one
//! batch. Memory is bounded by the wave, never the file.

use crate::diagnostic::Reporter;
use crate::{EventBatch, IngestError, Place, ReadOptions, ReadStats, Sink};
use chrono::DateTime;
use evtx::err::EvtxError;
use evtx::{EvtxChunkData, EvtxParser, ParserSettings};
use rampart_event::error_chain;
use rampart_event::Event;
use rayon::prelude::*;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const FILE_HEADER_SIZE: u64 = 4096;
const CHUNK_SIZE: u64 = 65536;

/// Shared state of one file's read.
struct FileRead<'a, S: Sink + ?Sized> {
    name: &'a Arc<str>,
    options: &'a ReadOptions,
    settings: Arc<ParserSettings>,
    sink: &'a S,
    reporter: Reporter<'a, S>,
    events: AtomicU64,
}

pub(crate) fn read<S: Sink + ?Sized>(
    path: &Path,
    name: &Arc<str>,
    options: &ReadOptions,
    sink: &S,
) -> Result<ReadStats, IngestError> {
    let settings = ParserSettings::new()
        .separate_json_attributes(false)
        .indent(false);
    let mut parser = EvtxParser::from_path(path)
        .map_err(|error| IngestError::EvtxHeader {
            path: name.to_string(),
            reason: error_chain(&error),
        })?
        .with_configuration(settings.clone());
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let read = FileRead {
        name,
        options,
        settings: Arc::new(settings),
        sink,
        reporter: Reporter::new(sink, name.clone(), options.max_diagnostics),
        events: AtomicU64::new(0),
    };
    report_truncation(bytes, &read);

    let wave_size = if options.parallel {
        4 * rayon::current_num_threads().max(1)
    } else {
        1
    };
    let mut chunks = parser.chunks();
    let mut seq = 0u64;
    while !sink.stopped() {
        let wave: Vec<(u64, evtx::err::Result<EvtxChunkData>)> = chunks
            .by_ref()
            .take(wave_size)
            .map(|chunk| {
                seq += 1;
                (seq - 1, chunk)
            })
            .collect();
        if wave.is_empty() {
            break;
        }
        if options.parallel && wave.len() > 1 {
            wave.into_par_iter()
                .for_each(|(seq, chunk)| read_chunk(seq, chunk, &read));
        } else {
            for (seq, chunk) in wave {
                read_chunk(seq, chunk, &read);
            }
        }
    }
    Ok(ReadStats {
        events: read.events.load(Ordering::Relaxed),
        bytes,
        diagnostics: read.reporter.finish(),
        records_skipped: read.reporter.skipped(),
    })
}

/// A file whose length is not a whole number of chunks lost its tail: the parser
/// cannot read the partial chunk, so say so rather than drop it silently.
fn report_truncation<S: Sink + ?Sized>(bytes: u64, read: &FileRead<'_, S>) {
    let tail = bytes.saturating_sub(FILE_HEADER_SIZE) % CHUNK_SIZE;
    if tail != 0 {
        let chunk = bytes.saturating_sub(FILE_HEADER_SIZE) / CHUNK_SIZE;
        read.reporter.report(
            Place::Chunk(chunk),
            format!(
                "file is truncated: the last {tail} bytes are a partial chunk and were skipped"
            ),
        );
    }
}

fn read_chunk<S: Sink + ?Sized>(
    seq: u64,
    chunk: evtx::err::Result<EvtxChunkData>,
    read: &FileRead<'_, S>,
) {
    let mut data = match chunk {
        Ok(data) => data,
        Err(error) => {
            let number = match &error {
                EvtxError::FailedToParseChunk { chunk_id, .. } => *chunk_id,
                _ => seq,
            };
            let message = format!("chunk skipped: {}", error_chain(&error));
            read.reporter.report(Place::Chunk(number), message);
            read.sink.events(EventBatch::empty(seq));
            return;
        }
    };
    let number = data.number.unwrap_or(seq);
    let mut chunk = match data.parse(Arc::clone(&read.settings)) {
        Ok(chunk) => chunk,
        Err(error) => {
            let message = format!("chunk skipped: {}", error_chain(&error));
            read.reporter.report(Place::Chunk(number), message);
            read.sink.events(EventBatch::empty(seq));
            return;
        }
    };
    let mut events = Vec::new();
    for record in chunk.iter() {
        match record.and_then(|record| record.into_json_bytes()) {
            Ok(record) => match record_event(&record, read) {
                Ok(event) => events.push(event),
                Err(error) => read.reporter.record_skipped(
                    Place::Record {
                        chunk: number,
                        record_id: Some(record.event_record_id),
                    },
                    format!("record skipped: rendered JSON is invalid: {error}"),
                ),
            },
            Err(error) => {
                let record_id = match &error {
                    EvtxError::FailedToParseRecord { record_id, .. } => Some(*record_id),
                    _ => None,
                };
                let message = format!("record skipped: {}", error_chain(&error));
                read.reporter.record_skipped(
                    Place::Record {
                        chunk: number,
                        record_id,
                    },
                    message,
                );
            }
        }
    }
    read.events
        .fetch_add(events.len() as u64, Ordering::Relaxed);
    read.sink.events(EventBatch { seq, events });
}

fn record_event<S: Sink + ?Sized>(
    record: &evtx::SerializedEvtxRecord<Vec<u8>>,
    read: &FileRead<'_, S>,
) -> Result<Event, serde_json::Error> {
    let mut event = crate::stream::flatten_slice(&record.data, &read.options.aliases)?;
    event.meta.source = Arc::clone(read.name);
    // The record's own `EventRecordID` when it has one (as JSON readers see it), the
    // record header's id otherwise: both readers then agree on what a record is called.
    event.meta.record_id = event.meta.record_id.or(Some(record.event_record_id));
    if event.meta.timestamp.is_none() {
        let nanos = u32::try_from(record.timestamp.subsec_nanosecond()).unwrap_or(0);
        event.meta.timestamp = DateTime::from_timestamp(record.timestamp.as_second(), nanos);
    }
    Ok(event)
}
