//! The one error type of this crate.

use std::path::PathBuf;

/// What went wrong while finding, reading, checking, downloading or installing a data file.
///
/// Every variant names the file (or URL) concerned so that a message read on its own
/// tells the user where to look.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefdataError {
    /// The data directory does not exist.
    #[error(
        "data directory {} does not exist: fill it with `rampart data update` (download) or `rampart data import PATH` (local files), or point --data-dir / RAMPART_DATA at an existing one",
        .0.display()
    )]
    MissingDir(PathBuf),
    /// The data directory exists but holds none of the files Rampart knows.
    #[error(
        "data directory {} holds no ATT&CK, D3FEND, ENGAGE or Sigma files: fill it with `rampart data update` (download) or `rampart data import PATH` (local files)",
        .0.display()
    )]
    EmptyDir(PathBuf),
    /// A file or folder could not be read or written.
    #[error("cannot access {}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file does not hold what its name promises (bad JSON, not gzip, bad Turtle, …).
    #[error("{}: {reason}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why it was rejected, including the place (line, byte) when known.
        reason: String,
    },
    /// A download failed (connection, HTTP status, interrupted body).
    #[error("downloading {url}: {reason}")]
    Download {
        /// The URL asked for.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// A downloaded or imported file failed its check and was not installed.
    #[error("{origin}: {reason} (not installed; the previous file, if any, is unchanged)")]
    Rejected {
        /// Where the file came from (URL or local path).
        origin: String,
        /// Why it was refused.
        reason: String,
    },
    /// An import source holds nothing Rampart recognises.
    #[error("{}: no ATT&CK, D3FEND, ENGAGE or Sigma file found to import (expected names like enterprise-attack-18.1.json, d3fend.ttl, attack_mapping.json, or a Sigma repository with a rules folder)", .0.display())]
    NothingToImport(PathBuf),
}

impl RefdataError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RefdataError::Io {
            path: path.into(),
            source,
        }
    }

    /// Restates an error about a temporary copy as one about where the copy came from:
    /// the user knows the URL or the file they imported, not the temporary name.
    pub(crate) fn about_origin(self, temp: &std::path::Path, origin: &str) -> Self {
        let reason = match self {
            RefdataError::Invalid { path, reason } if path == temp => reason,
            RefdataError::Io { path, source } if path == temp => source.to_string(),
            other => return other,
        };
        RefdataError::Rejected {
            origin: origin.to_owned(),
            reason,
        }
    }

    /// A file rejected for a stated reason.
    pub(crate) fn invalid(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        RefdataError::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
