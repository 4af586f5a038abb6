//! The binary cache of the built graph, so that a lookup answers in milliseconds
//! instead of re-parsing 50 MB of JSON and the D3FEND ontology.
//!
//! A cache file is trusted only when everything checks out: magic, format version, a
//! key computed from the inputs (path and SHA-256 of the content of every source file,
//! plus the path, size and modification time of the running executable so a rebuilt
//! Rampart never reads a layout it did not write) and a SHA-256 of the payload.
//! Anything else (missing, stale, truncated, corrupt) is rebuilt from the sources and
//! rewritten atomically (temporary file, then rename), never half-trusted.
//!
//! The key hashes the sources' content, not their size and mtime: an edit that keeps
//! both (a copy with `--preserve`, a tampered file with its mtime reset) must not be
//! answered from a stale graph. The sources are about 14 MB (the large bundles
//! compressed), which SHA-256 reads in a few milliseconds, against the tens of
//! milliseconds the cached load takes anyway.

use crate::error::KnowledgeError;
use crate::knowledge::Knowledge;
use bincode::Options;
use rampart_refdata::DataFiles;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Bumped whenever the cached layout changes in a way the key would not notice.
const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"RMPKNOW\0";
const FILE_NAME: &str = "knowledge.bin";
/// magic + version + key + payload length + payload hash.
const HEADER_LEN: usize = 8 + 4 + 32 + 8 + 32;

/// What happened to the cache during a load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStatus {
    /// A valid cache was used.
    Fresh,
    /// The graph was built from the sources and the cache (re)written.
    Rebuilt {
        /// Why the cache could not be used (`missing`, `stale`, `corrupt: …`).
        reason: String,
    },
    /// The graph was built from the sources but could not be cached.
    NotWritten {
        /// Why the cache could not be used.
        reason: String,
        /// Why writing failed.
        error: String,
    },
}

/// Where the cache of a data directory lives: its `.cache/` folder when that can be
/// created, else a per-data-directory folder in the platform cache directory (for
/// read-only data such as a shared checkout).
pub fn default_cache_dir(data_dir: &Path) -> PathBuf {
    let local = data_dir.join(".cache");
    // A data directory marked read-only (a shared reference checkout) is left alone
    // even when the process could write it anyway (as root).
    if is_writable(data_dir) && std::fs::create_dir_all(&local).is_ok() && is_writable(&local) {
        return local;
    }
    let canonical = data_dir
        .canonicalize()
        .unwrap_or_else(|_| data_dir.to_path_buf());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    let tag: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("rampart")
        .join(tag)
}

fn is_writable(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
}

impl Knowledge {
    /// Finds the sources in `data_dir` and loads the graph through the default cache
    /// ([`default_cache_dir`]).
    pub fn load(data_dir: &Path) -> Result<(Knowledge, CacheStatus), KnowledgeError> {
        let files = rampart_refdata::discover(data_dir)?;
        Knowledge::load_cached(&files, &default_cache_dir(data_dir))
    }

    /// Loads the graph from the cache in `cache_dir` when it is valid for `files`,
    /// else builds it from the sources and rewrites the cache.
    pub fn load_cached(
        files: &DataFiles,
        cache_dir: &Path,
    ) -> Result<(Knowledge, CacheStatus), KnowledgeError> {
        let key = cache_key(files);
        let path = cache_dir.join(FILE_NAME);
        let reason = match read_cache(&path, &key) {
            Ok(knowledge) => return Ok((knowledge, CacheStatus::Fresh)),
            Err(reason) => reason,
        };
        tracing::info!("building the knowledge graph ({reason} cache)");
        let knowledge = Knowledge::from_files(files)?;
        let status = match write_cache(cache_dir, &path, &key, &knowledge) {
            Ok(()) => CacheStatus::Rebuilt { reason },
            Err(error) => {
                tracing::warn!(
                    "cannot write the knowledge cache {}: {error}",
                    path.display()
                );
                CacheStatus::NotWritten {
                    reason,
                    error: error.to_string(),
                }
            }
        };
        Ok((knowledge, status))
    }
}

/// The cache key: every input file's path and content hash, and the executable's
/// identity. A source that cannot be read is keyed by its error, so the build that
/// follows reports it.
fn cache_key(files: &DataFiles) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(FORMAT_VERSION.to_le_bytes());
    let mut inputs: Vec<PathBuf> = [
        &files.enterprise,
        &files.mobile,
        &files.ics,
        &files.d3fend_ttl,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect();
    if let Some(dir) = &files.engage_dir {
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut jsons: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            jsons.sort();
            inputs.extend(jsons);
        }
    }
    for input in inputs {
        hasher.update(input.to_string_lossy().as_bytes());
        hasher.update([0]);
        match content_hash(&input) {
            Ok(digest) => hasher.update(digest),
            Err(error) => hasher.update(error.to_string().as_bytes()),
        }
    }
    // The executable is not a source: its path, size and mtime are enough to tell a
    // rebuilt Rampart, and hashing tens of MB of code on every run would not be cheap.
    if let Ok(exe) = std::env::current_exe() {
        hasher.update(exe.to_string_lossy().as_bytes());
        hasher.update([0]);
        if let Ok(meta) = std::fs::metadata(&exe) {
            hasher.update(meta.len().to_le_bytes());
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            hasher.update(mtime.to_le_bytes());
        }
    }
    hasher.finalize().into()
}

/// SHA-256 of a file's bytes as stored (compressed bundles are hashed compressed).
fn content_hash(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hasher.finalize().into())
}

fn codec() -> impl Options {
    bincode::DefaultOptions::new()
}

/// Reads and checks a cache file; the error is the reason it is not usable.
fn read_cache(path: &Path, key: &[u8; 32]) -> Result<Knowledge, String> {
    let started = std::time::Instant::now();
    let bytes = std::fs::read(path).map_err(|_| "missing".to_owned())?;
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err("corrupt (bad header)".to_owned());
    }
    let (header, payload) = bytes.split_at(HEADER_LEN);
    if header[8..12] != FORMAT_VERSION.to_le_bytes() {
        return Err("stale (old format)".to_owned());
    }
    if header[12..44] != key[..] {
        return Err("stale".to_owned());
    }
    let mut length = [0u8; 8];
    length.copy_from_slice(&header[44..52]);
    if u64::from_le_bytes(length) != payload.len() as u64 {
        return Err("corrupt (truncated)".to_owned());
    }
    if header[52..84] != Sha256::digest(payload)[..] {
        return Err("corrupt (checksum mismatch)".to_owned());
    }
    let checked = started.elapsed();
    let mut knowledge: Knowledge = codec()
        .with_limit(payload.len() as u64 * 4)
        .deserialize(payload)
        .map_err(|e| format!("corrupt ({e})"))?;
    let decoded = started.elapsed();
    knowledge.reindex();
    tracing::debug!(
        "knowledge cache {}: read and checked in {checked:?}, decoded by {decoded:?}, indexed by {:?}",
        path.display(),
        started.elapsed()
    );
    Ok(knowledge)
}

fn write_cache(
    dir: &Path,
    path: &Path,
    key: &[u8; 32],
    knowledge: &Knowledge,
) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let payload = codec().serialize(knowledge)?;
    let mut file = tempfile_in(dir)?;
    let (handle, temp_path) = (&mut file.0, file.1.clone());
    let result = (|| -> std::io::Result<()> {
        handle.write_all(MAGIC)?;
        handle.write_all(&FORMAT_VERSION.to_le_bytes())?;
        handle.write_all(key)?;
        handle.write_all(&(payload.len() as u64).to_le_bytes())?;
        handle.write_all(&Sha256::digest(&payload))?;
        handle.write_all(&payload)?;
        handle.sync_all()?;
        std::fs::rename(&temp_path, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp_path);
    }
    Ok(result?)
}

/// A new file beside the cache, unique to this process, for the atomic rename.
fn tempfile_in(dir: &Path) -> std::io::Result<(std::fs::File, PathBuf)> {
    let path = dir.join(format!("{FILE_NAME}.{}.tmp", std::process::id()));
    let file = std::fs::File::create(&path)?;
    Ok((file, path))
}
