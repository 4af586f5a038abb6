//! The plain-data views this crate works on, built from the knowledge graph.

use crate::{GroupUsage, KillChain, Tactic};
use rampart_knowledge::{Kind, Knowledge, NodeRef};

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

/// Enterprise groups and the techniques each uses, with technique display names
/// (`OS Credential Dumping: LSASS Memory` for a sub-technique).
///
/// A group's techniques are those ATT&CK relates to it directly or through its
/// campaigns. Techniques reachable only through software the group uses are left out:
/// a multi-purpose tool's full capability list (Cobalt Strike has dozens) says little
/// about what this group does next, and it would make every group look alike.
pub fn group_usage_from(knowledge: &Knowledge) -> GroupUsage {
    let matrix = knowledge.enterprise();
    let mut usage = GroupUsage::new();
    for index in 0..matrix.groups.len() {
        let node = NodeRef {
            kind: Kind::Group,
            index: index as u32,
        };
        if !matrix.is_active(node) {
            continue;
        }
        let techniques = matrix
            .techniques_of_group(index as u32)
            .into_iter()
            .filter(|(_, provenance)| provenance.direct || !provenance.via_campaigns.is_empty())
            .map(|(t, _)| matrix.techniques[t as usize].meta.attack_id.clone());
        usage.add_group(techniques);
    }
    for technique in &matrix.techniques {
        let name = match technique.parent {
            Some(parent) => format!(
                "{}: {}",
                matrix.techniques[parent as usize].meta.name, technique.meta.name
            ),
            None => technique.meta.name.clone(),
        };
        usage.add_name(&technique.meta.attack_id, &name);
    }
    usage
}
