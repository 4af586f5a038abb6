//! Store errors: each names the store file and says what is wrong with it.

use std::path::PathBuf;

/// What went wrong, and with which store file.
#[derive(Debug, thiserror::Error)]
#[error("store {}", path.display())]
pub struct StoreError {
    /// The store file.
    pub path: PathBuf,
    /// What went wrong.
    #[source]
    pub kind: StoreErrorKind,
}

/// The kinds of store failure a caller may want to tell apart.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// Another process holds the write lock for longer than the busy timeout.
    #[error("the store is locked by another process (waited {waited_ms} ms); retry when it has finished")]
    Locked {
        /// How long we waited for the lock.
        waited_ms: u64,
    },
    /// The file (or its directory) cannot be written.
    #[error("the store is read-only: {0}")]
    ReadOnly(String),
    /// The file is not an SQLite database, or its pages are damaged.
    #[error("the store file is corrupt or not a Rampart store: {0}")]
    Corrupt(String),
    /// An SQLite database of another program (another `application_id`, or tables
    /// that are not Rampart's); it is left exactly as it was.
    #[error("an SQLite database, but not a Rampart store ({0}); it was left unchanged")]
    Foreign(String),
    /// The file was written by a newer Rampart.
    #[error("schema version {found} is newer than this build supports ({supported})")]
    TooNew {
        /// Version found in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// A stored record cannot be decoded.
    #[error("record {id} cannot be decoded: {reason}")]
    BadRecord {
        /// Record id.
        id: String,
        /// Why.
        reason: String,
    },
    /// The alert, incident or token a request names is not in the store.
    #[error("no {0} in the store")]
    NotFound(String),
    /// A change the store refuses (a state move backwards, closing without a verdict,
    /// an over-long comment); nothing was written.
    #[error("refused: {0}")]
    Invalid(String),
    /// The operating system's random source failed (creating a token).
    #[error("no random bytes from the operating system: {0}")]
    Random(String),
    /// Any other database error.
    #[error("{0}")]
    Database(String),
    /// A file-system error (creating the directory, reading permissions).
    #[error("cannot access the store's file or folder")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// An error about `path`.
    pub fn new(path: impl Into<PathBuf>, kind: StoreErrorKind) -> Self {
        StoreError {
            path: path.into(),
            kind,
        }
    }

    /// Maps an SQLite error to the kind an operator can act on.
    pub(crate) fn sqlite(path: &std::path::Path, error: rusqlite::Error, busy_ms: u64) -> Self {
        use rusqlite::ErrorCode;
        let kind = match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
                StoreErrorKind::Locked { waited_ms: busy_ms }
            }
            Some(ErrorCode::ReadOnly) | Some(ErrorCode::CannotOpen)
                if is_read_only_message(&error) =>
            {
                StoreErrorKind::ReadOnly(error.to_string())
            }
            Some(ErrorCode::NotADatabase) | Some(ErrorCode::DatabaseCorrupt) => {
                StoreErrorKind::Corrupt(error.to_string())
            }
            _ => StoreErrorKind::Database(error.to_string()),
        };
        StoreError::new(path, kind)
    }
}

fn is_read_only_message(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ReadOnly)
    ) || error.to_string().contains("readonly")
}

/// Store results.
pub type Result<T> = std::result::Result<T, StoreError>;
