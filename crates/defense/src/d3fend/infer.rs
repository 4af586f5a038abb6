//! ATT&CK → D3FEND countermeasures, inferred through shared digital artifacts.
//!
//! D3FEND's own inferred-relationships query joins an offensive technique and a
//! defensive one when the artifact the ATT&CK technique acts on *is* the artifact the
//! defensive technique acts on, or is a subclass of it (a technique that analyses every
//! `Process` also covers an attack on the `AuthenticationService` process). The generic
//! roots (`Artifact`, `DigitalArtifact`) never join: everything is one. The reverse
//! direction (the defended artifact is narrower than the attacked one) is left out, as
//! it is in D3FEND's query, because it claims more coverage than the countermeasure gives.
//!
//! Relations are taken with OWL inheritance (a restriction on a superclass holds for its
//! subclasses), so a sub-technique inherits its parent's artifacts.

use super::{AttackTechnique, D3fendTechnique, Ontology};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Artifacts too general to link anything.
const GENERIC_ARTIFACTS: &[&str] = &["Artifact", "DigitalArtifact"];

/// How the artifact an ATT&CK technique acts on relates to the one a countermeasure acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactMatch {
    /// The same artifact class.
    Same,
    /// The ATT&CK side's artifact is a subclass of the defended one.
    AttackArtifactIsSubclass,
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

/// An ATT&CK technique a D3FEND technique counters, and the artifact path between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounteredTechnique {
    /// The ATT&CK id, e.g. `T1003.001`.
    pub attack_id: String,
    /// The ATT&CK technique's name as the ontology records it.
    pub attack_name: String,
    /// The link, seen from the ATT&CK technique (as [`Ontology::countermeasures`] gives it).
    pub via: Countermeasure,
}

pub(super) fn countermeasures(ontology: &Ontology, attack_id: &str) -> Vec<Countermeasure> {
    let Some(attack) = ontology.attack_technique(attack_id) else {
        return Vec::new();
    };
    join(ontology, attack, &ontology.techniques)
}

pub(super) fn countered_by(ontology: &Ontology, d3fend_id: &str) -> Vec<CounteredTechnique> {
    let Some(technique) = ontology.technique(d3fend_id) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for attack in ontology.attack_techniques() {
        for via in join(ontology, attack, std::slice::from_ref(technique)) {
            out.push(CounteredTechnique {
                attack_id: attack.id.clone(),
                attack_name: attack.name.clone(),
                via,
            });
        }
    }
    out
}

/// Every (attacked artifact, defended artifact) join between one ATT&CK technique and
/// the given defensive techniques, sorted and without duplicates.
fn join(
    ontology: &Ontology,
    attack: &AttackTechnique,
    techniques: &[D3fendTechnique],
) -> Vec<Countermeasure> {
    let label = |class: &str| {
        ontology
            .artifact(class)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| class.to_owned())
    };
    let mut out = Vec::new();
    for attacked in &attack.artifacts {
        // The attacked artifact and everything it is a kind of, each a possible join.
        let covering: HashSet<&str> = std::iter::once(attacked.artifact.as_str())
            .chain(
                ontology
                    .artifact_ancestors(&attacked.artifact)
                    .into_iter()
                    .map(|a| a.class.as_str()),
            )
            .collect();
        for technique in techniques {
            for defended in &technique.artifacts {
                if GENERIC_ARTIFACTS.contains(&defended.artifact.as_str())
                    || !covering.contains(defended.artifact.as_str())
                {
                    continue;
                }
                let artifact_match = if defended.artifact == attacked.artifact {
                    ArtifactMatch::Same
                } else {
                    ArtifactMatch::AttackArtifactIsSubclass
                };
                out.push(Countermeasure {
                    id: technique.id.clone(),
                    name: technique.name.clone(),
                    tactic: technique.tactic.clone().unwrap_or_default(),
                    artifact: label(&defended.artifact),
                    attack_artifact: label(&attacked.artifact),
                    attack_relation: attacked.relation.clone(),
                    defense_relation: defended.relation.clone(),
                    artifact_match,
                });
            }
        }
    }
    let tactic_order = |tactic: &str| {
        ontology
            .tactics()
            .iter()
            .find(|t| t.name == tactic)
            .map_or(u32::MAX, |t| t.order)
    };
    out.sort_by(|a, b| {
        (
            tactic_order(&a.tactic),
            &a.id,
            a.artifact_match,
            &a.artifact,
            &a.attack_artifact,
        )
            .cmp(&(
                tactic_order(&b.tactic),
                &b.id,
                b.artifact_match,
                &b.artifact,
                &b.attack_artifact,
            ))
            .then_with(|| {
                (&a.attack_relation, &a.defense_relation)
                    .cmp(&(&b.attack_relation, &b.defense_relation))
            })
    });
    out.dedup();
    out
}
