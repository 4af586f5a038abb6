//! The pipeline's errors. Each message names its own context; the cause is `source()`.

use std::path::PathBuf;

/// What can stop a pipeline step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The extra logsource map could not be read.
    #[error("reading logsource map {}", path.display())]
    Logsource {
        /// The map file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rampart_detect::LogsourceError,
    },
    /// The store refused an operation (its error says which).
    #[error(transparent)]
    Store(#[from] rampart_store::StoreError),
    /// An indicator file could not be opened or read.
    #[error("reading indicators from {}", path.display())]
    Intel {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The stored alerts could not be read back to group them into incidents.
    #[error("reading alerts to group into incidents")]
    ReadAlerts(#[source] rampart_store::StoreError),
}
