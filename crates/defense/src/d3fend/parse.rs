//! Turtle → [`Ontology`].

use super::Ontology;
use crate::DefenseError;
use std::path::Path;

pub(super) fn from_ttl_file(path: &Path) -> Result<Ontology, DefenseError> {
    Err(DefenseError::invalid(
        path,
        "D3FEND Turtle reader not finished yet",
    ))
}
