//! The reference data directory: finding, checking, updating and importing MITRE and
//! Sigma files.
//!
//! Every other crate is handed file paths; this one alone decides where they come from.
//! Files are recognised by name anywhere under the data directory ([`discover`]), so a
//! directory filled by `rampart data update`, one assembled by hand and the shared
//! reference checkout all work unchanged. Files are read through [`open_maybe_gzip`],
//! which trusts the gzip magic rather than the file name.
//!
//! Writing is all-or-nothing per file: [`update`] and [`import`] write to a hidden
//! temporary file beside the destination, check it with the format's real parser
//! ([`verify`]) and only then rename it into place, so a failed download or a corrupt
//! file never leaves a broken data directory. The library does no terminal output; it
//! reports download progress through a callback ([`Progress`]).

mod discover;
mod error;
mod head;
mod import;
mod install;
mod open;
mod sigma_import;
mod status;
mod update;
mod verify;

pub use discover::{attack_version_from_name, discover, AttackDomain, DataFiles};
pub use error::RefdataError;
pub use import::{import, ImportOptions, ImportReport};
pub use install::{Failure, Installed};
pub use open::{
    open_maybe_gzip, open_within, read_maybe_gzip, ExpansionLimit, DEFAULT_MAX_EXPANDED,
};
pub use status::{sha256_of, status, DirStatus, FileStatus, Status};
pub use update::{
    update, update_urls, Progress, SourceGroup, UpdateOptions, UpdateReport, ENGAGE_FILES,
};
pub use verify::{verify, verify_within, DataKind, Summary};
