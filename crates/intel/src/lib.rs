//! Threat intelligence: indicators of compromise (hashes, IPs, domains, URLs, e-mail
//! addresses, file names, registry keys, command lines) read from STIX 2.1 bundles,
//! TAXII 2.1 collections, MISP events and plain lists, with what the intelligence says
//! about them (the malware or intrusion set they indicate, ATT&CK techniques).
//!
//! Readers turn a feed into a [`Feed`]: indicators, the entities they point at, and a
//! diagnostic for everything left out. Nothing here stores; the store keeps feeds, and
//! [`matcher`] runs indicators over events.
//!
//! Every reader caps what it holds: a feed file past [`ReadOptions::max_bytes`] is
//! refused before it is read ([`Error::TooLarge`], reported as a `Limit` diagnostic),
//! lists are read line by line.

pub mod attribution;
mod diagnostics;
pub mod error;
pub mod list;
pub mod matcher;
pub mod misp;
pub mod model;
pub mod normalize;
pub mod sightings;
pub mod stix;
pub mod synthetic;
pub mod taxii;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use error::Error;
pub use model::{
    Diagnostic, DiagnosticKind, Entity, EntityKind, Feed, Indicator, IntelContext, Observable,
    ObservableKind,
};

/// Default cap on one feed file: 512 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 512 * 1024 * 1024;

/// Limits every reader keeps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Largest feed file read (JSON documents are held whole while parsed; lists are
    /// streamed but capped alike). A larger one is refused with [`Error::TooLarge`].
    pub max_bytes: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// Reads the feed at `path`, choosing the reader by content (see [`read_path_with`]).
pub fn read_path(path: &Path) -> Result<Feed, Error> {
    read_path_with(path, &ReadOptions::default())
}

/// What a feed's content looks like to [`read_path_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A STIX 2.1 bundle or a JSON list of STIX objects.
    StixBundle,
    /// A MISP event (`{"Event":…}` or `{"response":[{"Event":…}]}`).
    MispEvent,
    /// A MISP feed folder (`manifest.json` and `<uuid>.json` events).
    MispFeedDir,
    /// A CSV list with a header.
    Csv,
    /// A plain list, one value per line.
    List,
}

/// The format of the feed at `path`: a folder with a `manifest.json` is a MISP feed;
/// a file is sniffed from its first kilobytes (a JSON object with `"type": "bundle"` or
/// a list of objects with `"type"` is STIX, one with `"Event"` or `"response"` is
/// MISP); a `.csv` file is CSV; anything else is a plain list.
pub fn detect_format(path: &Path) -> Result<Format, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        if path.join(misp::MANIFEST).is_file() {
            return Ok(Format::MispFeedDir);
        }
        return Err(Error::UnknownFormat {
            path: path.to_path_buf(),
        });
    }
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    File::open(path)
        .and_then(|file| file.take(SNIFF_BYTES as u64).read_to_end(&mut head))
        .map_err(io)?;
    let text = String::from_utf8_lossy(&head);
    let start = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if start.starts_with('{') || start.starts_with('[') {
        let compact: String = start.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.contains("\"Event\":") || compact.contains("\"response\":") {
            return Ok(Format::MispEvent);
        }
        if compact.contains("\"type\":\"bundle\"")
            || compact.contains("\"objects\":")
            || (start.starts_with('[') && compact.contains("\"type\":"))
            || compact.contains("\"spec_version\":")
        {
            return Ok(Format::StixBundle);
        }
        return Err(Error::UnknownFormat {
            path: path.to_path_buf(),
        });
    }
    let is_csv = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
    Ok(if is_csv { Format::Csv } else { Format::List })
}

/// How much of a file [`detect_format`] looks at.
const SNIFF_BYTES: usize = 4096;

/// Reads the feed at `path` with the reader [`detect_format`] picks, within `options`.
pub fn read_path_with(path: &Path, options: &ReadOptions) -> Result<Feed, Error> {
    match detect_format(path)? {
        Format::StixBundle => stix::read_bundle_with(path, options),
        Format::MispEvent => misp::read_event_with(path, options),
        Format::MispFeedDir => misp::read_feed_dir_with(path, options),
        Format::Csv => list::read_csv_with(path, None, options),
        Format::List => list::read_list_with(path, None, options),
    }
}

/// The whole file at `path`, refused when larger than `options.max_bytes` (checked
/// on the size the file reports and again while reading, for files that grow or
/// report none).
pub(crate) fn read_capped(path: &Path, options: &ReadOptions) -> Result<Vec<u8>, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let too_large = || Error::TooLarge {
        path: path.to_path_buf(),
        limit: options.max_bytes,
    };
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    if len > options.max_bytes {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(options.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > options.max_bytes {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The file name of `path` for source names (`list:samples.sha256`), or the whole
/// path when it has none.
pub(crate) fn file_label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// A stable id for an indicator whose feed gives none: a digest of its source and
/// observables, so re-reading the same feed gives the same ids.
pub fn derived_indicator_id(source: &str, all_of: &[Observable]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(source.as_bytes());
    for observable in all_of {
        hasher.update([0]);
        hasher.update(observable.kind.name().as_bytes());
        hasher.update([0]);
        hasher.update(observable.value.as_bytes());
    }
    let digest = hasher.finalize();
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(10 + 32);
    id.push_str("indicator:");
    for byte in &digest[..16] {
        id.push(char::from(HEX[usize::from(byte >> 4)]));
        id.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    id
}

/// How many entries a context holds (for the per-feed context budget, see
/// `diagnostics`).
pub(crate) fn context_entries(context: &IntelContext) -> usize {
    context.actors.len() + context.malware.len() + context.attack_ids.len() + context.reports.len()
}

/// Longest piece of feed text quoted in a diagnostic.
const QUOTED_CHARS: usize = 80;

/// `text` cut to a length fit for quoting in a diagnostic (at a character boundary,
/// `…` marking the cut). Whoever shows it escapes it.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}
