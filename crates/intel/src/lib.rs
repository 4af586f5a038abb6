//! Threat intelligence: indicators of compromise (hashes, IPs, domains, URLs, e-mail
//! addresses, file names, registry keys, command lines) read from STIX 2.1 bundles,
//! TAXII 2.1 collections, MISP events and plain lists, with what the intelligence says
//! about them (the malware or intrusion set they indicate, ATT&CK techniques).
//!
//! Readers turn a feed into a [`Feed`]: indicators, the entities they point at, and a
//! diagnostic for everything left out. Nothing here stores or matches; the store keeps
//! feeds, and the matcher runs indicators over events.

pub mod model;
pub mod sightings;
pub mod taxii;

pub use model::{
    Diagnostic, DiagnosticKind, Entity, EntityKind, Feed, Indicator, IntelContext, Observable,
    ObservableKind,
};
