//! The D3FEND ontology: defensive tactics and techniques, digital artifacts, the ATT&CK
//! techniques D3FEND knows, and the countermeasures inferred between them.
//!
//! The model is built once from the ontology's triples ([`Ontology::from_ttl_file`]) and
//! is then pure data: lookups never touch RDF again, and the whole model serialises so
//! that the knowledge graph can cache it.

mod graph;
mod infer;
mod model;
mod parse;

pub use infer::{ArtifactMatch, CounteredTechnique, Countermeasure};
pub use model::{
    ArtifactRelation, AttackTechnique, D3fendTactic, D3fendTechnique, DigitalArtifact,
};

use crate::DefenseError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The D3FEND knowledge base, as far as Rampart uses it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Ontology {
    version: Option<String>,
    tactics: Vec<D3fendTactic>,
    techniques: Vec<D3fendTechnique>,
    artifacts: Vec<DigitalArtifact>,
    attack_techniques: Vec<AttackTechnique>,
    /// Upper-cased D3FEND id (`D3-PSA`) → index into `techniques`.
    technique_by_id: HashMap<String, usize>,
    /// Class local name (`ProcessSpawnAnalysis`) → index into `techniques`.
    technique_by_class: HashMap<String, usize>,
    /// Class local name (`ProcessSegment`) → index into `artifacts`.
    artifact_by_class: HashMap<String, usize>,
    /// Upper-cased ATT&CK id (`T1003.001`) → index into `attack_techniques`.
    attack_by_id: HashMap<String, usize>,
}

impl Ontology {
    /// Assembles the model from its sorted parts and builds the lookup indexes.
    fn from_parts(
        version: Option<String>,
        tactics: Vec<D3fendTactic>,
        techniques: Vec<D3fendTechnique>,
        artifacts: Vec<DigitalArtifact>,
        attack_techniques: Vec<AttackTechnique>,
    ) -> Ontology {
        let index = |keys: Vec<String>| -> HashMap<String, usize> {
            keys.into_iter().enumerate().map(|(i, k)| (k, i)).collect()
        };
        Ontology {
            technique_by_id: index(
                techniques
                    .iter()
                    .map(|t| t.id.to_ascii_uppercase())
                    .collect(),
            ),
            technique_by_class: index(techniques.iter().map(|t| t.class.clone()).collect()),
            artifact_by_class: index(artifacts.iter().map(|a| a.class.clone()).collect()),
            attack_by_id: index(attack_techniques.iter().map(|t| t.id.clone()).collect()),
            version,
            tactics,
            techniques,
            artifacts,
            attack_techniques,
        }
    }

    /// Reads the ontology from a Turtle file (`d3fend.ttl` or the source
    /// `d3fend-protege.ttl`), gzip-compressed or not.
    ///
    /// A syntax error is reported with the file, line and column; a file that parses but
    /// defines no D3FEND technique is rejected as not being the D3FEND ontology.
    pub fn from_ttl_file(path: &Path) -> Result<Ontology, DefenseError> {
        parse::from_ttl_file(path)
    }

    /// Reads the ontology from the published JSON-LD file (`d3fend.json`), gzip-compressed
    /// or not. The triples are the same as the Turtle's, so the model is too; JSON-LD
    /// needs the whole document in memory, so Turtle is the faster input.
    pub fn from_jsonld_file(path: &Path) -> Result<Ontology, DefenseError> {
        parse::from_jsonld_file(path)
    }

    /// The ontology's `owl:versionInfo`, e.g. `1.2.0`.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// A defensive technique by D3FEND id (`D3-PSA`, any case) or by class name
    /// (`ProcessSpawnAnalysis`).
    pub fn technique(&self, id: &str) -> Option<&D3fendTechnique> {
        self.technique_by_id
            .get(&id.trim().to_ascii_uppercase())
            .or_else(|| self.technique_by_class.get(id.trim()))
            .map(|&i| &self.techniques[i])
    }

    /// Every defensive technique, in D3FEND id order.
    pub fn techniques(&self) -> impl Iterator<Item = &D3fendTechnique> {
        self.techniques.iter()
    }

    /// The seven defensive tactics in D3FEND's matrix order: Model, Harden, Detect,
    /// Isolate, Deceive, Evict, Restore.
    pub fn tactics(&self) -> &[D3fendTactic] {
        &self.tactics
    }

    /// Every digital artifact (subclasses of `d3f:Artifact`), sorted by class name.
    pub fn artifacts(&self) -> &[DigitalArtifact] {
        &self.artifacts
    }

    /// A digital artifact by class name (`ProcessSegment`).
    pub fn artifact(&self, class: &str) -> Option<&DigitalArtifact> {
        self.artifact_by_class
            .get(class)
            .map(|&i| &self.artifacts[i])
    }

    /// The artifacts `class` is a kind of, nearest first, without repeats (e.g.
    /// `AuthenticationService` → `SystemServiceSoftware`, …, `Process`, …,
    /// `DigitalArtifact`, `Artifact`). Empty for an unknown class.
    pub fn artifact_ancestors(&self, class: &str) -> Vec<&DigitalArtifact> {
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::from([class]);
        let mut queue: std::collections::VecDeque<&str> = std::collections::VecDeque::from([class]);
        let mut out = Vec::new();
        while let Some(next) = queue.pop_front() {
            for parent in self
                .artifact(next)
                .map(|a| a.parents.as_slice())
                .unwrap_or(&[])
            {
                if seen.insert(parent) {
                    if let Some(artifact) = self.artifact(parent) {
                        out.push(artifact);
                    }
                    queue.push_back(parent);
                }
            }
        }
        out
    }

    /// The ATT&CK techniques the ontology describes (as of the ATT&CK version it
    /// imported), sorted by id.
    pub fn attack_techniques(&self) -> &[AttackTechnique] {
        &self.attack_techniques
    }

    /// An ATT&CK technique as the ontology describes it (`T1003.001`, any case).
    pub fn attack_technique(&self, attack_id: &str) -> Option<&AttackTechnique> {
        self.attack_by_id
            .get(&attack_id.trim().to_ascii_uppercase())
            .map(|&i| &self.attack_techniques[i])
    }

    /// The D3FEND countermeasures of an ATT&CK technique (`T1003.001`, any case),
    /// inferred through the digital artifacts both act on. Empty for an id the ontology
    /// does not know. Sorted by tactic order, then D3FEND id; one entry per
    /// (technique, relation, artifact) path.
    pub fn countermeasures(&self, attack_id: &str) -> Vec<Countermeasure> {
        infer::countermeasures(self, attack_id)
    }

    /// The reverse of [`Ontology::countermeasures`]: the ATT&CK techniques a D3FEND
    /// technique (`D3-PSA`, any case) counters, sorted by ATT&CK id; one entry per
    /// artifact path. Empty for an unknown id.
    pub fn countered_techniques(&self, d3fend_id: &str) -> Vec<CounteredTechnique> {
        infer::countered_by(self, d3fend_id)
    }
}
