//! The one error type of the knowledge graph.
//!
//! Every variant names the file it concerns, so a message printed by the CLI tells the
//! analyst which input to fix without a backtrace.

use std::path::PathBuf;

/// Why the knowledge graph could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KnowledgeError {
    /// A file could not be opened or read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A file ends in `.gz` but is not gzip data (or the gzip stream is corrupt).
    #[error("{} is not a valid gzip file", path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        source: std::io::Error,
    },
    /// A file is not a well-formed STIX bundle.
    #[error("{} is not a valid ATT&CK STIX bundle", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error, with line and column.
        source: serde_json::Error,
    },
    /// The bundle parsed but lacks what every ATT&CK bundle has (a matrix, tactics).
    #[error("{}: {message}", path.display())]
    Bundle {
        /// The file.
        path: PathBuf,
        /// What is missing or inconsistent.
        message: String,
    },
    /// No ATT&CK Enterprise bundle was found in the data directory.
    #[error("no ATT&CK Enterprise bundle (enterprise-attack*.json[.gz]) found in {}", dir.display())]
    MissingEnterprise {
        /// The data directory searched.
        dir: PathBuf,
    },
    /// The data directory could not be searched (missing, empty, unreadable).
    #[error(transparent)]
    Refdata(#[from] rampart_refdata::RefdataError),
}
