//! The adapter from the knowledge graph's [`Matrix`] to coverage's [`AttackMatrix`].
//!
//! D3FEND countermeasures come in through a function of the ATT&CK id, so the caller
//! decides whether to load the ontology (it is the slow part) and from where.

use crate::model::{
    Analytic, AttackMatrix, Countermeasure, Group, IdStatus, LogSourceNeed, Tactic, Technique,
};
use rampart_knowledge::{Kind, Matrix, NodeRef, Status};

/// Builds coverage's view of one ATT&CK domain. `countermeasures` gives the D3FEND
/// countermeasures of a technique id (return nothing to leave them out).
pub fn matrix_from_knowledge(
    graph: &Matrix,
    countermeasures: impl Fn(&str) -> Vec<Countermeasure>,
) -> AttackMatrix {
    let mut matrix = AttackMatrix {
        domain: format!("{}-attack", graph.domain.as_str()),
        attack_version: graph.version.clone(),
        tactics: graph
            .tactics
            .iter()
            .filter(|t| t.meta.status == Status::Active)
            .map(|t| Tactic {
                id: t.meta.attack_id.clone(),
                shortname: t.shortname.clone(),
                name: t.meta.name.clone(),
            })
            .collect(),
        ..AttackMatrix::default()
    };
    let order = |shortname: &str| graph.tactic_order(shortname).unwrap_or(usize::MAX);
    for (index, technique) in graph.techniques.iter().enumerate() {
        let id = technique.meta.attack_id.to_ascii_uppercase();
        if id.is_empty() {
            continue;
        }
        match technique.meta.status {
            Status::Active => {}
            Status::Deprecated => {
                matrix.retired.entry(id).or_insert(IdStatus::Deprecated);
                continue;
            }
            Status::Revoked => {
                let node = NodeRef {
                    kind: Kind::Technique,
                    index: index as u32,
                };
                let replacement = graph
                    .replacement(node)
                    .and_then(|r| graph.meta(r))
                    .map(|m| m.attack_id.to_ascii_uppercase());
                matrix.retired.insert(id, IdStatus::Revoked { replacement });
                continue;
            }
        }
        let mut tactics = technique.tactics.clone();
        tactics.sort_by_key(|t| order(t));
        let parent = technique
            .parent
            .and_then(|p| graph.techniques.get(p as usize))
            .map(|p| p.meta.attack_id.to_ascii_uppercase())
            .or_else(|| id.split_once('.').map(|(p, _)| p.to_string()));
        matrix.insert_technique(Technique {
            name: technique.meta.name.clone(),
            tactics,
            platforms: technique.platforms.clone(),
            parent,
            subtechniques: Vec::new(),
            analytics: analytics_of(graph, index as u32),
            countermeasures: dedup_countermeasures(countermeasures(&id)),
            id,
        });
    }
    // A revoked id that is also active elsewhere (reused ids) is active.
    let active: Vec<String> = matrix.techniques.keys().cloned().collect();
    for id in active {
        matrix.retired.remove(&id);
    }
    for (index, group) in graph.groups.iter().enumerate() {
        if group.meta.status != Status::Active {
            continue;
        }
        let mut techniques: Vec<String> = graph
            .techniques_of_group(index as u32)
            .into_iter()
            .filter_map(|(t, _)| graph.techniques.get(t as usize))
            .map(|t| t.meta.attack_id.to_ascii_uppercase())
            .collect();
        techniques.sort();
        techniques.dedup();
        matrix.groups.push(Group {
            id: group.meta.attack_id.clone(),
            name: group.meta.name.clone(),
            aliases: group.aliases.clone(),
            techniques,
        });
    }
    matrix
}

fn analytics_of(graph: &Matrix, technique: u32) -> Vec<Analytic> {
    let mut out: Vec<Analytic> = Vec::new();
    for strategy in graph.detection_strategies_of(technique) {
        let Some(strategy) = graph.detection_strategies.get(strategy as usize) else {
            continue;
        };
        for &analytic in &strategy.analytics {
            let Some(analytic) = graph.analytics.get(analytic as usize) else {
                continue;
            };
            if out.iter().any(|a| a.id == analytic.meta.attack_id) {
                continue;
            }
            out.push(Analytic {
                id: analytic.meta.attack_id.clone(),
                platforms: analytic.platforms.clone(),
                log_sources: analytic
                    .log_sources
                    .iter()
                    .map(|source| LogSourceNeed {
                        data_component: source
                            .data_component
                            .and_then(|dc| graph.data_components.get(dc as usize))
                            .map(|dc| dc.meta.name.clone())
                            .unwrap_or_default(),
                        name: source.log_source.name.clone(),
                        channel: source.log_source.channel.clone(),
                    })
                    .collect(),
            });
        }
    }
    out
}

/// One entry per D3FEND technique (the inference yields one per artifact path).
fn dedup_countermeasures(mut all: Vec<Countermeasure>) -> Vec<Countermeasure> {
    let mut seen = std::collections::BTreeSet::new();
    all.retain(|c| seen.insert(c.id.clone()));
    all
}
