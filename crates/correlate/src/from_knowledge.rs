//! The plain-data views this crate works on, built from the knowledge graph.

use crate::{
    Actor, ActorKind, KillChain, NextPredictor, Tactic, ThreatActors, ThreatActorsBuilder,
};
use rampart_knowledge::{Kind, Knowledge, Matrix, NodeRef};
use std::collections::HashMap;

/// The Enterprise kill chain: tactics in matrix order, and every technique's tactics.
pub fn kill_chain_from(knowledge: &Knowledge) -> KillChain {
    let matrix = knowledge.enterprise();
    let mut chain = KillChain::new(
        matrix
            .tactics
            .iter()
            .map(|t| Tactic {
                shortname: t.shortname.clone(),
                id: Some(t.meta.attack_id.clone()),
                name: Some(t.meta.name.clone()),
            })
            .collect(),
    );
    for technique in &matrix.techniques {
        chain.add_technique(&technique.meta.attack_id, technique.tactics.clone());
    }
    chain
}

/// Enterprise groups and campaigns with the techniques each used, technique display
/// names (`OS Credential Dumping: LSASS Memory` for a sub-technique), and the successor
/// of every revoked technique.
///
/// A group's techniques are those ATT&CK relates to it directly or through its
/// campaigns; a campaign's, those related to it directly. Only active objects take part
/// (the knowledge graph's traversals skip revoked and deprecated ones). Techniques
/// reachable only through software are left out: a multi-purpose tool's full capability
/// list (Cobalt Strike has dozens) says little about what this actor does next, and it
/// would make every actor look alike.
pub fn threat_actors_from(knowledge: &Knowledge) -> ThreatActors {
    let matrix = knowledge.enterprise();
    let mut builder = ThreatActorsBuilder::new();
    let technique_id = |t: u32| matrix.techniques[t as usize].meta.attack_id.clone();
    let mut group_actor = HashMap::new();
    for index in 0..matrix.groups.len() as u32 {
        if !matrix.is_active(node(Kind::Group, index)) {
            continue;
        }
        let group = &matrix.groups[index as usize];
        let techniques = matrix
            .techniques_of_group(index)
            .into_iter()
            .filter(|(_, provenance)| provenance.direct || !provenance.via_campaigns.is_empty())
            .map(|(t, _)| technique_id(t));
        let actor = Actor {
            id: group.meta.attack_id.clone(),
            name: group.meta.name.clone(),
            kind: ActorKind::Group,
        };
        let added = builder.add_actor(actor, techniques);
        for alias in &group.aliases {
            builder.add_alias(added, alias);
        }
        group_actor.insert(index, added);
    }
    for index in 0..matrix.campaigns.len() as u32 {
        let campaign = node(Kind::Campaign, index);
        if !matrix.is_active(campaign) {
            continue;
        }
        let meta = &matrix.campaigns[index as usize].meta;
        let techniques = matrix
            .outgoing(campaign)
            .iter()
            .filter(|(kind, target)| {
                *kind == rampart_knowledge::RelationKind::Uses
                    && target.kind == Kind::Technique
                    && matrix.is_active(*target)
            })
            .map(|(_, target)| technique_id(target.index));
        let actor = Actor {
            id: meta.attack_id.clone(),
            name: meta.name.clone(),
            kind: ActorKind::Campaign,
        };
        let campaign_actor = builder.add_actor(actor, techniques);
        for group in matrix.campaign_groups(index) {
            if let Some(&group_actor) = group_actor.get(&group) {
                builder.add_kin(campaign_actor, group_actor);
            }
        }
    }
    add_technique_names(matrix, &mut builder);
    builder.build()
}

/// The likely-next predictor over the Enterprise matrix, indexed once.
pub fn next_predictor_from(knowledge: &Knowledge) -> NextPredictor {
    NextPredictor::new(threat_actors_from(knowledge), kill_chain_from(knowledge))
}

/// Display names of every technique, and where a revoked one leads.
fn add_technique_names(matrix: &Matrix, builder: &mut ThreatActorsBuilder) {
    for (index, technique) in matrix.techniques.iter().enumerate() {
        let name = match technique.parent {
            Some(parent) => format!(
                "{}: {}",
                matrix.techniques[parent as usize].meta.name, technique.meta.name
            ),
            None => technique.meta.name.clone(),
        };
        builder.add_name(&technique.meta.attack_id, &name);
        let node = node(Kind::Technique, index as u32);
        if let Some(current) = matrix.replacement(node).and_then(|r| matrix.meta(r)) {
            builder.add_replacement(&technique.meta.attack_id, &current.attack_id);
        }
    }
}

fn node(kind: Kind, index: u32) -> NodeRef {
    NodeRef { kind, index }
}
