//! The readers' error: a feed that could not be read at all. Problems with single
//! entries of a feed are [`Diagnostic`]s in the [`Feed`](crate::Feed) instead.

use std::path::PathBuf;

use crate::model::{Diagnostic, DiagnosticKind};

/// A feed file or folder that could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file or folder could not be opened or read.
    #[error("cannot read {}", path.display())]
    Io {
        /// What was read.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than the reader's cap; nothing of it was read.
    #[error("{} is larger than the {limit}-byte cap on a feed file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap it passed ([`ReadOptions::max_bytes`](crate::ReadOptions::max_bytes)).
        limit: u64,
    },
    /// The file is not valid JSON (or not the JSON shape its format needs).
    #[error("{}:{line}:{column}: not valid {format} JSON", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What it was read as (`STIX`, `MISP`).
        format: &'static str,
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error, from 1.
        column: usize,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The file is valid JSON but not of the format it was read as.
    #[error("{}: not a {format} document: {reason}", path.display())]
    Shape {
        /// The file.
        path: PathBuf,
        /// What it was read as.
        format: &'static str,
        /// What is missing or wrong.
        reason: String,
    },
    /// A CSV list that cannot be read (no header, no value column).
    #[error("{}: {reason}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
        /// The CSV parser's error, when it reported one.
        #[source]
        source: Option<csv::Error>,
    },
    /// [`read_path`](crate::read_path) could not tell what kind of feed this is.
    #[error("{}: not a STIX bundle, MISP event, MISP feed folder or indicator list", path.display())]
    UnknownFormat {
        /// The file or folder.
        path: PathBuf,
    },
}

impl Error {
    /// The diagnostic kind this error is reported as when a caller goes on without the
    /// file (a feed folder with one broken event, an import of several files).
    pub fn diagnostic_kind(&self) -> DiagnosticKind {
        match self {
            Error::TooLarge { .. } => DiagnosticKind::Limit,
            _ => DiagnosticKind::Malformed,
        }
    }

    /// This error as a diagnostic: location is the file (and line for JSON errors), the
    /// message the error with its causes.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let location = match self {
            Error::Json {
                path, line, column, ..
            } => format!("{}:{line}:{column}", path.display()),
            Error::Io { path, .. }
            | Error::TooLarge { path, .. }
            | Error::Shape { path, .. }
            | Error::Csv { path, .. }
            | Error::UnknownFormat { path } => path.display().to_string(),
        };
        Diagnostic {
            kind: self.diagnostic_kind(),
            location,
            message: rampart_event::error_chain(self),
        }
    }
}
