//! Joining what intelligence says to ATT&CK: actor names to groups, malware and tool
//! names to software, the ATT&CK ids a feed gives (often revoked since) to the current
//! ones, and the attributed groups' techniques.
//!
//! Feeds spell names their own way: MISP's threat-actor galaxy says `APT 29` where
//! ATT&CK says `APT29`, and aliases (`The Dukes`, `Cozy Bear`) differ in case, spaces
//! and punctuation. Names are compared by their letters and digits only, lower-cased,
//! against every group's (or software's) name and aliases. ATT&CK ids go through the
//! knowledge graph's own resolution, which follows `revoked-by` (`T1086` →
//! `T1059.001`). A name matching nothing is reported as unresolved, never dropped.

use crate::model::{Entity, EntityKind, Feed, Indicator, IntelContext};
use rampart_knowledge::{kind_of_id, Kind, Knowledge, Matrix, NodeRef, Resolution};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An ATT&CK object the intelligence was joined to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Joined {
    /// Its current ATT&CK id (`G0016`, `S0518`, `T1059.001`).
    pub id: String,
    /// Its ATT&CK name.
    pub name: String,
    /// What the intelligence called it, when that differs from id and name (`APT 29`,
    /// the revoked `T1086`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub named_as: Vec<String>,
}

/// What ATT&CK knows of the actors, malware and techniques an indicator or feed names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// ATT&CK groups, by id.
    pub groups: Vec<Joined>,
    /// ATT&CK software (malware and tools), by id.
    pub software: Vec<Joined>,
    /// The techniques the intelligence names, at their current ids, by id.
    pub techniques: Vec<Joined>,
    /// The attributed groups' techniques (directly, through their software or their
    /// campaigns), by id: what such an actor does.
    pub group_techniques: Vec<String>,
    /// Names and ids that match nothing in ATT&CK, as written.
    pub unresolved: Vec<String>,
}

impl Attribution {
    /// Whether nothing was joined and nothing left unresolved.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
            && self.software.is_empty()
            && self.techniques.is_empty()
            && self.unresolved.is_empty()
    }

    /// The attributed groups' ids.
    pub fn group_ids(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.id.clone()).collect()
    }
}

/// The lookup key of a name: its letters and digits, lower-cased (`APT 29` and `apt-29`
/// → `apt29`).
pub fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// An ATT&CK id written at the end of a name, as MISP's ATT&CK galaxies write them
/// (`PowerShell - T1086`).
fn trailing_attack_id(text: &str) -> Option<&str> {
    let (_, tail) = text.rsplit_once(" - ")?;
    let tail = tail.trim();
    kind_of_id(tail).map(|_| tail)
}

/// Joins intelligence to one knowledge graph's Enterprise matrix; build once, use for
/// every indicator.
#[derive(Debug)]
pub struct Attributor<'k> {
    knowledge: &'k Knowledge,
    /// Name key → group indices (name and aliases).
    groups: HashMap<String, Vec<u32>>,
    /// Name key → software indices (name and aliases).
    software: HashMap<String, Vec<u32>>,
}

/// What one attribution collects before sorting.
#[derive(Default)]
struct Collected {
    groups: BTreeMap<u32, BTreeSet<String>>,
    software: BTreeMap<u32, BTreeSet<String>>,
    techniques: BTreeMap<u32, BTreeSet<String>>,
    unresolved: BTreeSet<String>,
}

impl<'k> Attributor<'k> {
    /// Indexes the Enterprise matrix's groups and software by name key.
    pub fn new(knowledge: &'k Knowledge) -> Self {
        let matrix = knowledge.enterprise();
        let mut groups: HashMap<String, Vec<u32>> = HashMap::new();
        for (index, group) in matrix.groups.iter().enumerate() {
            for name in std::iter::once(&group.meta.name).chain(&group.aliases) {
                push_key(&mut groups, name, index as u32);
            }
        }
        let mut software: HashMap<String, Vec<u32>> = HashMap::new();
        for (index, tool) in matrix.software.iter().enumerate() {
            for name in std::iter::once(&tool.meta.name).chain(&tool.aliases) {
                push_key(&mut software, name, index as u32);
            }
        }
        // Active objects first, so a name shared with a revoked object means the live one.
        for (map, kind) in [(&mut groups, Kind::Group), (&mut software, Kind::Software)] {
            for indices in map.values_mut() {
                indices.sort_by_key(|&index| !matrix.is_active(NodeRef { kind, index }));
            }
        }
        Attributor {
            knowledge,
            groups,
            software,
        }
    }

    fn matrix(&self) -> &'k Matrix {
        self.knowledge.enterprise()
    }

    /// Joins one indicator's context.
    pub fn indicator(&self, indicator: &Indicator) -> Attribution {
        self.context(&indicator.context)
    }

    /// Joins a context: its actors, malware and ATT&CK ids (reports are titles, not
    /// ATT&CK names, and are left alone).
    pub fn context(&self, context: &IntelContext) -> Attribution {
        let mut collected = Collected::default();
        self.collect_context(context, &mut collected);
        self.finish(collected)
    }

    /// Joins a feed: every indicator's context and every entity it describes.
    pub fn feed(&self, feed: &Feed) -> Attribution {
        let mut collected = Collected::default();
        for indicator in &feed.indicators {
            self.collect_context(&indicator.context, &mut collected);
        }
        for entity in &feed.entities {
            self.collect_entity(entity, &mut collected);
        }
        self.finish(collected)
    }

    /// Joins entities (as a store keeps them apart from their indicators).
    pub fn entities<'e>(&self, entities: impl IntoIterator<Item = &'e Entity>) -> Attribution {
        let mut collected = Collected::default();
        for entity in entities {
            self.collect_entity(entity, &mut collected);
        }
        self.finish(collected)
    }

    fn collect_context(&self, context: &IntelContext, into: &mut Collected) {
        for actor in &context.actors {
            self.collect_name(actor, Kind::Group, into);
        }
        for malware in &context.malware {
            self.collect_name(malware, Kind::Software, into);
        }
        for id in &context.attack_ids {
            self.collect_id(id, into);
        }
    }

    fn collect_entity(&self, entity: &Entity, into: &mut Collected) {
        for id in &entity.attack_ids {
            self.collect_id(id, into);
        }
        let kind = match entity.kind {
            EntityKind::IntrusionSet | EntityKind::ThreatActor => Kind::Group,
            EntityKind::Malware | EntityKind::Tool => Kind::Software,
            EntityKind::AttackPattern => {
                // A technique is named by its id; a name alone is too loose to join
                // (`Scripting` is a technique, a tactic's word and a product).
                if entity.attack_ids.is_empty() {
                    match trailing_attack_id(&entity.name) {
                        Some(id) => self.collect_id(id, into),
                        None => {
                            into.unresolved.insert(entity.name.clone());
                        }
                    }
                }
                return;
            }
            EntityKind::Campaign => Kind::Campaign,
        };
        if kind == Kind::Campaign {
            if entity.attack_ids.is_empty() {
                into.unresolved.insert(entity.name.clone());
            }
            return;
        }
        // The name, else any alias, else unresolved (once, by its name).
        let found = std::iter::once(&entity.name)
            .chain(&entity.aliases)
            .any(|name| self.lookup(name, kind, into));
        if !found && entity.attack_ids.is_empty() {
            into.unresolved.insert(entity.name.clone());
        }
    }

    /// A name of a group or software: by name key, then as an ATT&CK id.
    fn collect_name(&self, name: &str, kind: Kind, into: &mut Collected) {
        if name.trim().is_empty() {
            return;
        }
        if !self.lookup(name, kind, into) {
            match trailing_attack_id(name).or_else(|| kind_of_id(name).map(|_| name.trim())) {
                Some(id) => self.collect_id(id, into),
                None => {
                    into.unresolved.insert(name.to_string());
                }
            }
        }
    }

    fn lookup(&self, name: &str, kind: Kind, into: &mut Collected) -> bool {
        let table = match kind {
            Kind::Group => &self.groups,
            _ => &self.software,
        };
        let Some(&index) = table.get(&name_key(name)).and_then(|found| found.first()) else {
            return false;
        };
        let matrix = self.matrix();
        // A revoked group or software counts as its replacement.
        let node = NodeRef { kind, index };
        let node = if matrix.is_active(node) {
            node
        } else {
            matrix.replacement(node).unwrap_or(node)
        };
        let target = match node.kind {
            Kind::Group => &mut into.groups,
            Kind::Software => &mut into.software,
            _ => return false,
        };
        let names = target.entry(node.index).or_default();
        if matrix.meta(node).is_none_or(|m| m.name != name) {
            names.insert(name.to_string());
        }
        true
    }

    /// An ATT&CK id, resolved to its current object (revoked ids to their successor).
    fn collect_id(&self, id: &str, into: &mut Collected) {
        let id = trailing_attack_id(id).unwrap_or(id).trim();
        if id.is_empty() {
            return;
        }
        let resolution = self.knowledge.resolve(id);
        let current = match &resolution {
            Resolution::Unknown { .. } => None,
            other => other.current(),
        };
        let Some(hit) = current.filter(|hit| hit.domain == self.matrix().domain) else {
            into.unresolved.insert(id.to_string());
            return;
        };
        let matrix = self.matrix();
        let target = match hit.node.kind {
            Kind::Group => &mut into.groups,
            Kind::Software => &mut into.software,
            Kind::Technique => &mut into.techniques,
            _ => {
                into.unresolved.insert(id.to_string());
                return;
            }
        };
        let names = target.entry(hit.node.index).or_default();
        if matrix
            .meta(hit.node)
            .is_none_or(|m| !m.attack_id.eq_ignore_ascii_case(id))
        {
            names.insert(id.to_string());
        }
    }

    fn finish(&self, collected: Collected) -> Attribution {
        let matrix = self.matrix();
        let joined = |kind: Kind, found: &BTreeMap<u32, BTreeSet<String>>| -> Vec<Joined> {
            let mut list: Vec<Joined> = found
                .iter()
                .filter_map(|(&index, names)| {
                    let meta = matrix.meta(NodeRef { kind, index })?;
                    Some(Joined {
                        id: meta.attack_id.clone(),
                        name: meta.name.clone(),
                        named_as: names.iter().cloned().collect(),
                    })
                })
                .collect();
            list.sort();
            list
        };
        let mut group_techniques: BTreeSet<String> = BTreeSet::new();
        for &group in collected.groups.keys() {
            for (technique, _) in matrix.techniques_of_group(group) {
                if let Some(meta) = matrix.meta(NodeRef {
                    kind: Kind::Technique,
                    index: technique,
                }) {
                    group_techniques.insert(meta.attack_id.clone());
                }
            }
        }
        Attribution {
            groups: joined(Kind::Group, &collected.groups),
            software: joined(Kind::Software, &collected.software),
            techniques: joined(Kind::Technique, &collected.techniques),
            group_techniques: group_techniques.into_iter().collect(),
            unresolved: collected.unresolved.into_iter().collect(),
        }
    }
}

fn push_key(map: &mut HashMap<String, Vec<u32>>, name: &str, index: u32) {
    let key = name_key(name);
    if key.is_empty() {
        return;
    }
    let entry = map.entry(key).or_default();
    if !entry.contains(&index) {
        entry.push(index);
    }
}
