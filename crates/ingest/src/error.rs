use std::path::PathBuf;

/// An input that cannot be read at all (missing, unreadable, not an EVTX file).
///
/// Damage inside a readable file is not an error but a [`crate::Diagnostic`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The path does not exist or cannot be inspected.
    #[error("cannot access {}", path.display())]
    Access {
        /// The path given.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A directory could not be listed.
    #[error("cannot list directory {}", path.display())]
    Walk {
        /// The directory.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A file could not be opened or read.
    #[error("cannot read {path}")]
    Read {
        /// The file (`-` for stdin).
        path: String,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A file named as EVTX whose header the parser rejects.
    #[error("{path}: not a readable EVTX file: {reason}")]
    EvtxHeader {
        /// The file.
        path: String,
        /// Why the parser rejected it.
        reason: String,
    },
}
