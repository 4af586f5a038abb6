//! Turtle or JSON-LD → [`Ontology`]: parse the triples with `oxttl` / `oxjsonld`, then
//! read the OWL patterns D3FEND uses into plain records. Both formats feed the same
//! [`Graph`], so they give the same model.

use super::graph::Graph;
use super::model::{
    ArtifactRelation, AttackTechnique, D3fendTactic, D3fendTechnique, DigitalArtifact,
};
use super::Ontology;
use crate::DefenseError;
use oxjsonld::JsonLdParseError;
use oxttl::TurtleParseError;
use std::collections::{BTreeSet, HashSet};
use std::path::Path;

/// The root of D3FEND's artifact hierarchy; every artifact descends from it.
const ARTIFACT_ROOT: &str = "Artifact";
/// The root of the defensive techniques.
const DEFENSIVE_TECHNIQUE_ROOT: &str = "DefensiveTechnique";
/// The class whose instances are the tactics.
const DEFENSIVE_TACTIC: &str = "DefensiveTactic";
/// The property linking a technique (or an ancestor) to its tactic.
const ENABLES: &str = "enables";

pub(super) fn from_ttl_file(path: &Path) -> Result<Ontology, DefenseError> {
    let reader = rampart_refdata::open_maybe_gzip(path)?;
    let mut graph = Graph::default();
    for triple in oxttl::TurtleParser::new().for_reader(reader) {
        match triple {
            Ok(triple) => graph.add(triple),
            Err(TurtleParseError::Syntax(error)) => {
                let start = error.location().start;
                return Err(DefenseError::Syntax {
                    path: path.to_path_buf(),
                    line: start.line + 1,
                    column: start.column + 1,
                    message: error.message().to_owned(),
                });
            }
            Err(TurtleParseError::Io(error)) => return Err(DefenseError::io(path, error)),
        }
    }
    finish(path, &graph)
}

pub(super) fn from_jsonld_file(path: &Path) -> Result<Ontology, DefenseError> {
    let reader = rampart_refdata::open_maybe_gzip(path)?;
    let mut graph = Graph::default();
    for quad in oxjsonld::JsonLdParser::new().for_reader(reader) {
        match quad {
            // D3FEND is published as one default graph; a named graph would not change
            // what a triple says about a class.
            Ok(quad) => graph.add(oxrdf::Triple::new(
                quad.subject,
                quad.predicate,
                quad.object,
            )),
            Err(JsonLdParseError::Syntax(error)) => {
                let start = error.location().map(|l| l.start);
                return Err(DefenseError::Syntax {
                    path: path.to_path_buf(),
                    line: start.map_or(0, |s| s.line + 1),
                    column: start.map_or(0, |s| s.column + 1),
                    message: error.to_string(),
                });
            }
            Err(JsonLdParseError::Io(error)) => return Err(DefenseError::io(path, error)),
        }
    }
    finish(path, &graph)
}

fn finish(path: &Path, graph: &Graph) -> Result<Ontology, DefenseError> {
    build(graph).ok_or_else(|| {
        DefenseError::invalid(
            path,
            format!(
                "{} triples but no D3FEND technique (no class with d3f:d3fend-id under d3f:DefensiveTechnique): not the D3FEND ontology?",
                graph.triples
            ),
        )
    })
}

/// Builds the model, or `None` when the graph holds no defensive technique.
fn build(graph: &Graph) -> Option<Ontology> {
    let artifact_classes: HashSet<&str> = graph
        .classes()
        .filter(|class| graph.ancestors(class).contains(&ARTIFACT_ROOT))
        .collect();
    let is_artifact = |class: &str| artifact_classes.contains(class);

    let mut tactics: Vec<D3fendTactic> = graph
        .instances_of(DEFENSIVE_TACTIC)
        .filter(|t| *t != DEFENSIVE_TACTIC)
        .map(|t| D3fendTactic {
            class: t.to_owned(),
            name: graph.label(t).unwrap_or(t).to_owned(),
            definition: graph.definition(t).map(str::to_owned),
            order: 0,
        })
        .collect();
    tactics.sort_by_key(|t| {
        (
            graph.display_order(&t.class).unwrap_or(i64::MAX),
            t.class.clone(),
        )
    });
    for (position, tactic) in tactics.iter_mut().enumerate() {
        tactic.order = position as u32 + 1;
    }
    let tactic_classes: HashSet<&str> = tactics.iter().map(|t| t.class.as_str()).collect();

    let mut techniques: Vec<D3fendTechnique> = graph
        .d3fend_ids()
        .filter(|(class, _)| graph.ancestors(class).contains(&DEFENSIVE_TECHNIQUE_ROOT))
        .map(|(class, id)| D3fendTechnique {
            id: id.trim().to_owned(),
            class: class.to_owned(),
            name: graph.label(class).unwrap_or(class).to_owned(),
            definition: graph.definition(class).map(str::to_owned),
            tactic: tactic_of(graph, class, &tactic_classes)
                .map(|t| graph.label(&t).map(str::to_owned).unwrap_or(t)),
            parents: graph.parents(class).to_vec(),
            artifacts: artifact_relations(graph, class, &is_artifact),
        })
        .collect();
    if techniques.is_empty() {
        return None;
    }
    techniques.sort_by(|a, b| a.id.cmp(&b.id));

    let mut artifacts: Vec<DigitalArtifact> = artifact_classes
        .iter()
        .map(|&class| DigitalArtifact {
            class: class.to_owned(),
            name: graph.label(class).unwrap_or(class).to_owned(),
            definition: graph.definition(class).map(str::to_owned),
            parents: graph
                .parents(class)
                .iter()
                .filter(|p| is_artifact(p) || p.as_str() == ARTIFACT_ROOT)
                .cloned()
                .collect(),
        })
        .collect();
    artifacts.sort_by(|a, b| a.class.cmp(&b.class));

    let mut attack_techniques: Vec<AttackTechnique> = graph
        .attack_ids()
        .filter(|(_, id)| is_attack_technique_id(id))
        .map(|(class, id)| AttackTechnique {
            id: id.trim().to_ascii_uppercase(),
            class: class.to_owned(),
            name: graph.label(class).unwrap_or(class).to_owned(),
            artifacts: artifact_relations(graph, class, &is_artifact),
        })
        .collect();
    attack_techniques.sort_by(|a, b| a.id.cmp(&b.id));

    Some(Ontology::from_parts(
        graph.ontology_version().map(str::to_owned),
        tactics,
        techniques,
        artifacts,
        attack_techniques,
    ))
}

/// `T1003` or `T1003.001` (the ontology also gives ids to tactics and other things).
fn is_attack_technique_id(id: &str) -> bool {
    let id = id.trim();
    id.len() >= 5
        && id.as_bytes()[0].eq_ignore_ascii_case(&b'T')
        && id.as_bytes()[1].is_ascii_digit()
}

/// The tactic a technique enables: stated on the class itself or on its nearest
/// ancestor that states one.
fn tactic_of<'g>(graph: &'g Graph, class: &'g str, tactics: &HashSet<&str>) -> Option<String> {
    std::iter::once(class)
        .chain(graph.ancestors(class))
        .find_map(|c| {
            graph
                .own_links(c)
                .into_iter()
                .find(|(property, target)| property == ENABLES && tactics.contains(target.as_str()))
                .map(|(_, target)| target)
        })
}

/// The artifact relations of a class: its own links to artifacts, then those inherited
/// from its ancestors (an OWL restriction on a superclass holds for every subclass).
/// A relation both stated and inherited is reported once, as stated.
fn artifact_relations(
    graph: &Graph,
    class: &str,
    is_artifact: &impl Fn(&str) -> bool,
) -> Vec<ArtifactRelation> {
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut relations = Vec::new();
    for (depth, c) in std::iter::once(class)
        .chain(graph.ancestors(class))
        .enumerate()
    {
        for (relation, artifact) in graph.own_links(c) {
            if is_artifact(&artifact) && seen.insert((relation.clone(), artifact.clone())) {
                relations.push(ArtifactRelation {
                    relation,
                    artifact,
                    inherited: depth > 0,
                });
            }
        }
    }
    relations
}
