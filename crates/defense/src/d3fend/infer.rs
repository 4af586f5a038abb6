//! ATT&CK → D3FEND countermeasures, inferred through shared digital artifacts.

use super::Ontology;
use serde::{Deserialize, Serialize};

/// How the artifact an ATT&CK technique acts on relates to the one a countermeasure acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactMatch {
    /// The same artifact class.
    Same,
    /// The ATT&CK side's artifact is a subclass of the defended one (a countermeasure on
    /// all processes covers process memory).
    AttackArtifactIsSubclass,
    /// The defended artifact is a subclass of the ATT&CK side's one.
    DefendedArtifactIsSubclass,
}

/// A D3FEND technique that counters an ATT&CK technique, and the artifact path linking them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Countermeasure {
    /// The D3FEND id, e.g. `D3-PSA`.
    pub id: String,
    /// The D3FEND technique's name.
    pub name: String,
    /// Its tactic (`Detect`, `Harden`, …); empty when the ontology gives none.
    pub tactic: String,
    /// The label of the artifact the countermeasure acts on, e.g. `Process`.
    pub artifact: String,
    /// The label of the artifact the ATT&CK technique acts on (equal to `artifact` when
    /// `artifact_match` is `Same`).
    pub attack_artifact: String,
    /// The ATT&CK technique's relation to its artifact, e.g. `accesses`.
    pub attack_relation: String,
    /// The countermeasure's relation to its artifact, e.g. `analyzes`.
    pub defense_relation: String,
    /// How the two artifacts relate.
    pub artifact_match: ArtifactMatch,
}

pub(super) fn countermeasures(_ontology: &Ontology, _attack_id: &str) -> Vec<Countermeasure> {
    Vec::new()
}
