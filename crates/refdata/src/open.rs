//! Opening a data file whether or not it is gzip-compressed.

use crate::RefdataError;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The two bytes every gzip member starts with (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The default of [`ExpansionLimit`], per file and in all: twenty times the largest
/// published ATT&CK bundle, far below what would exhaust a workstation.
pub const DEFAULT_MAX_EXPANDED: u64 = 1 << 30;

/// How many bytes the files one command reads may expand to, per file and in all.
///
/// A gzip bomb is a few KiB on disk and gigabytes once expanded: the bytes are counted
/// as they are decompressed, and reading stops with an error at the limit instead of
/// filling memory or disk. Clones share the total, so one limit can span an import.
#[derive(Debug, Clone)]
pub struct ExpansionLimit {
    per_file: u64,
    remaining: Arc<AtomicU64>,
}

impl ExpansionLimit {
    /// At most `per_file` bytes from any one file and `total` from all of them.
    pub fn new(per_file: u64, total: u64) -> ExpansionLimit {
        ExpansionLimit {
            per_file,
            remaining: Arc::new(AtomicU64::new(total)),
        }
    }

    /// The most any one file may expand to.
    pub fn per_file(&self) -> u64 {
        self.per_file
    }

    /// Counts `bytes` against the total; the error says which limit was reached.
    pub(crate) fn take(&self, bytes: u64) -> Result<(), String> {
        self.remaining
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(bytes)
            })
            .map(|_| ())
            .map_err(|_| {
                "the files exceed the size limit for one command (--max-expanded)".to_owned()
            })
    }
}

impl Default for ExpansionLimit {
    fn default() -> ExpansionLimit {
        ExpansionLimit::new(DEFAULT_MAX_EXPANDED, u64::MAX)
    }
}

/// A reader that fails once more bytes come out of it than the limit allows.
struct Capped<R> {
    inner: R,
    limit: ExpansionLimit,
    read: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buffer)?;
        self.read += n as u64;
        let too_large =
            |reason: String| std::io::Error::new(std::io::ErrorKind::InvalidData, reason);
        if self.read > self.limit.per_file {
            return Err(too_large(format!(
                "expands to more than {} bytes, the limit per file (--max-expanded)",
                self.limit.per_file
            )));
        }
        self.limit.take(n as u64).map_err(too_large)?;
        Ok(n)
    }
}

/// Opens `path` for buffered reading, decompressing it when it is gzip, within the
/// default [`ExpansionLimit`].
///
/// The decision is made on the file's first bytes, not on its name: a `.json.gz` that is
/// really plain JSON (or the reverse) still reads correctly, and a file named `.gz` that
/// is neither gzip nor anything else fails later with the parser's own message.
pub fn open_maybe_gzip(path: &Path) -> Result<Box<dyn BufRead + Send>, RefdataError> {
    open_within(path, &ExpansionLimit::default())
}

/// [`open_maybe_gzip`] within a given limit: reading fails once the file has produced
/// more bytes than the limit allows.
pub fn open_within(
    path: &Path,
    limit: &ExpansionLimit,
) -> Result<Box<dyn BufRead + Send>, RefdataError> {
    let file = File::open(path).map_err(|e| RefdataError::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let gzip = is_gzip(&mut reader).map_err(|e| RefdataError::io(path, e))?;
    let inner: Box<dyn Read + Send> = if gzip {
        Box::new(MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    };
    Ok(Box::new(BufReader::with_capacity(
        1 << 16,
        Capped {
            inner,
            limit: limit.clone(),
            read: 0,
        },
    )))
}

/// Reads the whole (possibly gzip-compressed) file into memory, within the default
/// [`ExpansionLimit`].
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, RefdataError> {
    read_within(path, &ExpansionLimit::default())
}

/// [`read_maybe_gzip`] within a given limit.
fn read_within(path: &Path, limit: &ExpansionLimit) -> Result<Vec<u8>, RefdataError> {
    let mut bytes = Vec::new();
    open_within(path, limit)?
        .read_to_end(&mut bytes)
        .map_err(|e| RefdataError::invalid(path, format!("cannot decompress: {e}")))?;
    Ok(bytes)
}

/// Whether the buffered reader starts with the gzip magic, without consuming anything.
fn is_gzip(reader: &mut impl BufRead) -> std::io::Result<bool> {
    let head = reader.fill_buf()?;
    Ok(head.len() >= 2 && head[..2] == GZIP_MAGIC)
}

/// Whether the file at `path` starts with the gzip magic.
pub(crate) fn file_is_gzip(path: &Path) -> Result<bool, RefdataError> {
    let file = File::open(path).map_err(|e| RefdataError::io(path, e))?;
    is_gzip(&mut BufReader::new(file)).map_err(|e| RefdataError::io(path, e))
}
