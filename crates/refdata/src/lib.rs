//! The reference data directory: finding, checking, updating and importing MITRE and
//! Sigma files.
//!
//! Every other crate is handed file paths; this one alone decides where they come from.
//! Files are recognised by name anywhere under the data directory ([`discover`]), so a
//! directory filled by `rampart data update`, one assembled by hand and the shared
//! reference checkout all work unchanged. Files are read through [`open_maybe_gzip`],
//! which trusts the gzip magic rather than the file name.

mod discover;
mod error;
mod open;

pub use discover::{attack_version_from_name, discover, AttackDomain, DataFiles};
pub use error::RefdataError;
pub use open::{open_maybe_gzip, read_maybe_gzip};
