//! The plain-data records the ontology is made of.

use serde::{Deserialize, Serialize};

/// A D3FEND tactic (Model, Harden, Detect, Isolate, Deceive, Evict, Restore).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct D3fendTactic {
    /// The individual's local name, e.g. `Detect`.
    pub class: String,
    /// The label, e.g. `Detect`.
    pub name: String,
    /// The tactic's definition.
    pub definition: Option<String>,
    /// 1-based position in D3FEND's matrix (`d3f:display-order`).
    pub order: u32,
}

/// A relation from a technique (defensive or offensive) to a digital artifact, read from
/// an OWL restriction `[owl:onProperty P; owl:someValuesFrom A]` on the technique class
/// or one of its ancestors.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ArtifactRelation {
    /// The property's local name, e.g. `analyzes`, `accesses`, `may-modify`.
    pub relation: String,
    /// The artifact's class name, e.g. `ProcessSegment`.
    pub artifact: String,
    /// Whether the restriction sits on an ancestor class rather than the class itself.
    pub inherited: bool,
}

/// A D3FEND defensive technique (a class carrying `d3f:d3fend-id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct D3fendTechnique {
    /// The D3FEND id, e.g. `D3-PSA`.
    pub id: String,
    /// The class's local name, e.g. `ProcessSpawnAnalysis`.
    pub class: String,
    /// The label, e.g. `Process Spawn Analysis`.
    pub name: String,
    /// The one-paragraph `d3f:definition`.
    pub definition: Option<String>,
    /// The tactic it enables (`Detect`, …), inherited from an ancestor when not stated.
    pub tactic: Option<String>,
    /// Direct superclasses (class names), e.g. `ProcessAnalysis`.
    pub parents: Vec<String>,
    /// The artifacts it acts on, own and inherited.
    pub artifacts: Vec<ArtifactRelation>,
}

/// A digital artifact (a subclass of `d3f:Artifact`), e.g. `ProcessSegment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigitalArtifact {
    /// The class's local name.
    pub class: String,
    /// The label, e.g. `Process Segment`.
    pub name: String,
    /// The `d3f:definition`, when given.
    pub definition: Option<String>,
    /// Direct superclasses that are artifacts themselves.
    pub parents: Vec<String>,
}

/// An ATT&CK technique as the D3FEND ontology records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackTechnique {
    /// The ATT&CK id, e.g. `T1003.001`.
    pub id: String,
    /// The class's local name (D3FEND names these by id, e.g. `T1003.001`).
    pub class: String,
    /// The label, e.g. `LSASS Memory`.
    pub name: String,
    /// The artifacts it acts on, own and inherited from its parent technique.
    pub artifacts: Vec<ArtifactRelation>,
}
