//! The one error type of this crate.

use std::path::PathBuf;

/// Why a D3FEND or ENGAGE file could not be loaded. Every variant names the file, and
/// the line when the parser knows it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DefenseError {
    /// The file could not be read.
    #[error("cannot read {}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be opened (missing, or a broken gzip stream).
    #[error(transparent)]
    Open(#[from] rampart_refdata::RefdataError),
    /// The Turtle (or JSON-LD) text is not well formed.
    #[error("{}:{line}:{column}: syntax error: {message}", .path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: u64,
        /// 1-based column of the error.
        column: u64,
        /// The parser's message.
        message: String,
    },
    /// The file parses but does not have the expected content.
    #[error("{}: {reason}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
}

impl DefenseError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DefenseError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        DefenseError::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// A JSON error, with its line and column.
    pub(crate) fn json(path: impl Into<PathBuf>, error: &serde_json::Error) -> Self {
        DefenseError::Syntax {
            path: path.into(),
            line: error.line() as u64,
            column: error.column() as u64,
            message: error.to_string(),
        }
    }
}
