//! Errors of the coverage crate: each names the file and what was wrong with it.

use std::path::PathBuf;

/// A problem reading one of coverage's own inputs (labels, collected log sources,
/// weights). Rule and ATT&CK problems are reported by the crates that read those.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoverageError {
    /// A file or folder could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A label file (regression `info.yml`, CSV) is malformed.
    #[error("bad sample labels in {path}: {reason}")]
    Label {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line when known.
        reason: String,
    },
    /// A collected-log-sources file is malformed.
    #[error("bad collected log sources in {path}: {reason}")]
    Collected {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line when known.
        reason: String,
    },
    /// A setting (weights, tactic order, group name) is not understood.
    #[error("bad setting {setting}: {reason}")]
    Setting {
        /// The setting, e.g. `--weights`.
        setting: String,
        /// What is wrong.
        reason: String,
    },
}
