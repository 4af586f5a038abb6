//! The ATT&CK, D3FEND and ENGAGE knowledge graph, and its lookups.

mod build;
mod error;
mod matrix;
mod model;
mod queries;
mod stix;

pub use build::{build_matrix, load_matrix};
pub use error::KnowledgeError;
pub use matrix::{kind_of_id, Matrix, ObjectCounts, TypeCount};
pub use model::*;
pub use queries::{Provenance, StrategyLogSources};
pub use stix::read_maybe_gzip;
