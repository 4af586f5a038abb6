//! The defender's side of the matrix: the D3FEND ontology and MITRE ENGAGE.
//!
//! Both are read from MITRE's own published files and turned into small, serialisable
//! models that the knowledge graph embeds and caches. D3FEND is an OWL ontology, so
//! [`d3fend`] reads its Turtle (or JSON-LD) with a real RDF parser and interprets the
//! OWL class restrictions itself (there is no reasoner in the loop); the ATT&CK → D3FEND
//! countermeasures are inferred through the digital artifacts both sides touch, the way
//! D3FEND's own inferred-relationships query does. ENGAGE ([`engage`]) is plain JSON.
//!
//! Nothing here knows about ATT&CK's STIX data: ATT&CK ids are plain strings, resolved
//! (revocations, renames) by the knowledge crate.

pub mod d3fend;
pub mod engage;
mod error;

pub use error::DefenseError;
