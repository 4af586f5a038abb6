//! Opening a data file whether or not it is gzip-compressed.

use crate::RefdataError;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The two bytes every gzip member starts with (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Opens `path` for buffered reading, decompressing it when it is gzip.
///
/// The decision is made on the file's first bytes, not on its name: a `.json.gz` that is
/// really plain JSON (or the reverse) still reads correctly, and a file named `.gz` that
/// is neither gzip nor anything else fails later with the parser's own message.
pub fn open_maybe_gzip(path: &Path) -> Result<Box<dyn BufRead + Send>, RefdataError> {
    let file = File::open(path).map_err(|e| RefdataError::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    if is_gzip(&mut reader).map_err(|e| RefdataError::io(path, e))? {
        Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(reader),
        )))
    } else {
        Ok(Box::new(reader))
    }
}

/// Reads the whole (possibly gzip-compressed) file into memory.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, RefdataError> {
    let mut bytes = Vec::new();
    open_maybe_gzip(path)?
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
