//! Request bodies to events: gzip decoding with a cap on the decoded size, and JSON
//! read by the same reader `rampart hunt` uses for files.

use crate::error::ApiError;
use axum::http::HeaderMap;
use flate2::read::MultiGzDecoder;
use rampart_event::Event;
use rampart_ingest::{Diagnostic, EventBatch, Place, ReadOptions, Sink};
use serde::Serialize;
use std::borrow::Cow;
use std::io::Read;
use std::sync::{Arc, Mutex};

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// Rejected lines listed in an answer at most (all are counted).
pub const LISTED_REJECTIONS: usize = 100;

/// Whether [`decode`] would inflate the body (declared gzip, or gzip's magic bytes
/// with no encoding declared); any other declared encoding is for [`decode`] to refuse.
pub fn is_compressed(headers: &HeaderMap, body: &[u8]) -> bool {
    match declared_encoding(headers) {
        None | Some("") | Some("identity") => body.starts_with(GZIP_MAGIC),
        Some(_) => true,
    }
}

fn declared_encoding(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::CONTENT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
}

/// The body as text to parse: gunzipped when it says or looks gzip-compressed, at most
/// `max_decoded` bytes (else 413). Nested compression is refused: the cap must hold
/// for what the reader finally sees.
pub fn decode<'a>(
    headers: &HeaderMap,
    body: &'a [u8],
    max_decoded: usize,
) -> Result<Cow<'a, [u8]>, ApiError> {
    let gzip = match declared_encoding(headers) {
        None | Some("") | Some("identity") => body.starts_with(GZIP_MAGIC),
        Some(encoding) if encoding.eq_ignore_ascii_case("gzip") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "unsupported Content-Encoding `{}` (gzip or none)",
                other.chars().take(32).collect::<String>()
            )))
        }
    };
    if !gzip {
        if body.len() > max_decoded {
            return Err(ApiError::TooLarge { limit: max_decoded });
        }
        return Ok(Cow::Borrowed(body));
    }
    let mut decoded = Vec::with_capacity(body.len().saturating_mul(4).min(max_decoded));
    let limit = u64::try_from(max_decoded)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    MultiGzDecoder::new(body)
        .take(limit)
        .read_to_end(&mut decoded)
        .map_err(|error| {
            ApiError::BadRequest(format!("the gzip body cannot be decoded: {error}"))
        })?;
    if decoded.len() > max_decoded {
        return Err(ApiError::TooLarge { limit: max_decoded });
    }
    if decoded.starts_with(GZIP_MAGIC) {
        return Err(ApiError::BadRequest(
            "the body is compressed twice; send it gzip-compressed once".into(),
        ));
    }
    Ok(Cow::Owned(decoded))
}

/// A line that did not become an event.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Rejected {
    /// Its line number in the (decoded) body, from 1; 0 for the body as a whole.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// What a body held.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The events, in body order.
    pub events: Vec<Event>,
    /// Lines that could not be read (the first [`LISTED_REJECTIONS`]).
    pub rejected: Vec<Rejected>,
    /// Records lost in all.
    pub rejected_count: u64,
}

/// Reads JSON text (JSON lines, an array, concatenated documents) into events named
/// `source`. More than `max_events` events is 413: a request may not hold more than
/// the whole queue.
pub fn parse(
    text: &[u8],
    source: &str,
    max_line_bytes: usize,
    max_events: usize,
) -> Result<Parsed, ApiError> {
    let options = ReadOptions {
        parallel: false,
        max_line_bytes,
        max_diagnostics: LISTED_REJECTIONS as u64,
        ..ReadOptions::default()
    };
    let sink = BodySink {
        max_events,
        state: Mutex::new(SinkState::default()),
    };
    let name: Arc<str> = Arc::from(source);
    let stats = rampart_ingest::read_json(text, &name, &options, &sink)
        .map_err(|error| ApiError::BadRequest(rampart_event::error_chain(&error)))?;
    let state = sink
        .state
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if state.overflow {
        return Err(ApiError::Unprocessable(format!(
            "more than {max_events} events in one request; send smaller batches"
        )));
    }
    Ok(Parsed {
        events: state.events,
        rejected: state.rejected,
        rejected_count: stats.records_skipped,
    })
}

#[derive(Default)]
struct SinkState {
    events: Vec<Event>,
    rejected: Vec<Rejected>,
    overflow: bool,
}

struct BodySink {
    max_events: usize,
    state: Mutex<SinkState>,
}

impl Sink for BodySink {
    fn events(&self, batch: EventBatch) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.overflow || state.events.len() + batch.events.len() > self.max_events {
            // Past the cap nothing more is held: the request is refused whole.
            state.overflow = true;
            state.events = Vec::new();
            return;
        }
        state.events.extend(batch.events);
    }

    fn diagnostic(&self, diagnostic: Diagnostic) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.rejected.len() < LISTED_REJECTIONS {
            let line = match diagnostic.place {
                Place::Line(line) => line,
                _ => 0,
            };
            state.rejected.push(Rejected {
                line,
                reason: diagnostic.message,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_is_decoded_by_header_or_magic_and_capped() {
        let text = b"{\"a\":1}\n".repeat(1000);
        let packed = gzip(&text);
        let mut headers = HeaderMap::new();
        assert_eq!(&*decode(&headers, &packed, 1 << 20).unwrap(), &text[..]);
        headers.insert("content-encoding", "gzip".parse().unwrap());
        assert_eq!(&*decode(&headers, &packed, 1 << 20).unwrap(), &text[..]);
        let error = decode(&headers, &packed, 100).unwrap_err();
        assert!(matches!(error, ApiError::TooLarge { limit: 100 }));
        let twice = gzip(&packed);
        assert!(matches!(
            decode(&headers, &twice, 1 << 20).unwrap_err(),
            ApiError::BadRequest(_)
        ));
        headers.insert("content-encoding", "br".parse().unwrap());
        assert!(decode(&headers, &text, 1 << 20).is_err());
    }

    #[test]
    fn bad_lines_are_rejected_by_number_and_the_rest_kept() {
        let text = b"{\"EventID\": 1, \"Image\": \"a.exe\"}\nnot json\n\n{\"EventID\": 2}\n";
        let parsed = parse(text, "http", 1 << 20, 10).unwrap();
        assert_eq!(parsed.events.len(), 2);
        assert_eq!(parsed.rejected_count, 1);
        assert_eq!(parsed.rejected.len(), 1);
        assert_eq!(parsed.rejected[0].line, 2);
        let error = parse(text, "http", 1 << 20, 1).unwrap_err();
        assert!(matches!(error, ApiError::Unprocessable(_)));
    }
}
