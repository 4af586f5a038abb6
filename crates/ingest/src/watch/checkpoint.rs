//! What a watched file's checkpoint says, and how a file is recognised again.

use serde::{Deserialize, Serialize};
use std::fs::Metadata;
use std::io::Read;
use std::path::Path;

/// Bytes of a file's beginning kept as its fingerprint: enough to tell two log files
/// apart, little enough to read again at every restart.
pub(super) const HEAD_BYTES: u64 = 4096;

/// A file's identity while it exists: device and inode, which a rename keeps and a
/// file newly created at the same path does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    #[cfg(unix)]
    pub(super) fn of(_path: &Path, metadata: &Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: metadata.dev(),
            ino: metadata.ino(),
        }
    }

    /// Without inodes a file is known by its path (a rotation is then seen as a
    /// truncation, and the old file's unread tail is lost).
    #[cfg(not(unix))]
    pub(super) fn of(path: &Path, _metadata: &Metadata) -> Self {
        FileId {
            dev: 0,
            ino: fnv1a(path.to_string_lossy().as_bytes()),
        }
    }

    /// The checkpoint key: `watch:<dev>:<inode>`.
    pub(super) fn key(&self) -> String {
        format!("{}{}:{}", super::CHECKPOINT_PREFIX, self.dev, self.ino)
    }
}

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Mode {
    /// JSON lines, tailed: read up to the last complete line, again as it grows.
    Lines,
    /// EVTX, gzip, a JSON array or pretty-printed documents: read once it is
    /// complete, as a whole.
    File,
}

/// The checkpoint's value, stored by the caller as an opaque JSON string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Checkpoint {
    /// The path the file had (for people reading the store; never used to find it).
    pub path: String,
    pub mode: Mode,
    /// `lines`: the bytes consumed (always the end of a line).
    pub offset: u64,
    /// `lines`: the lines consumed (the next line's number is one more).
    pub lines: u64,
    /// Events delivered from the file so far; a `file` read resumes after them.
    pub records: u64,
    /// The file was read to its end and gone, or read whole: never read again.
    pub done: bool,
    /// How many bytes of the file's beginning the fingerprint covers.
    pub head_len: u64,
    /// FNV-1a of those bytes, in hex: an inode reused by another file is not taken
    /// for the file it once was.
    pub head_hash: String,
}

impl Checkpoint {
    pub(super) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A file's fingerprint: its first bytes' length and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Head {
    pub len: u64,
    pub hash: String,
}

impl Head {
    /// The fingerprint of the file's first `min(len, HEAD_BYTES)` bytes.
    pub(super) fn read(path: &Path, len: u64) -> std::io::Result<Head> {
        let wanted = len.min(HEAD_BYTES);
        let mut bytes = Vec::new();
        std::fs::File::open(path)?
            .take(wanted)
            .read_to_end(&mut bytes)?;
        Ok(Head {
            len: bytes.len() as u64,
            hash: format!("{:016x}", fnv1a(&bytes)),
        })
    }

    /// Whether the file still begins with the bytes this fingerprint was taken of.
    pub(super) fn matches(&self, path: &Path) -> bool {
        Head::read(path, self.len).is_ok_and(|now| now == *self)
    }
}

/// 64-bit FNV-1a: stable across builds (the standard library's hasher is not
/// promised to be), and only ever compared with itself.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_round_trip_and_hashes_are_fnv1a() {
        let checkpoint = Checkpoint {
            path: "logs/a.jsonl".into(),
            mode: Mode::Lines,
            offset: 120,
            lines: 3,
            records: 2,
            done: false,
            head_len: 120,
            head_hash: "00".into(),
        };
        let json = checkpoint.to_json();
        assert!(json.contains("\"mode\":\"lines\""), "{json}");
        assert_eq!(
            serde_json::from_str::<Checkpoint>(&json).ok(),
            Some(checkpoint)
        );
        // Published FNV-1a test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
