//! One ATT&CK domain as a graph: object tables, relationships and lookup indices.
//!
//! The tables and edges are the data (and what the cache stores); the indices are
//! derived from them after a build or a cache load, so a cache can never carry an
//! index that disagrees with its data.

use crate::model::{
    Analytic, Asset, Campaign, DataComponent, DataSource, DetectionStrategy, Domain, Edge, Group,
    Kind, Meta, Mitigation, NodeRef, RelationKind, Software, Status, Tactic, Technique,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// How many objects of one STIX type a bundle holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeCount {
    /// Every object of the type.
    pub total: usize,
    /// Those neither revoked nor deprecated.
    pub active: usize,
}

/// Object counts of a bundle as read (before any filtering), for `data status` and for
/// checking a load against the published counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectCounts {
    /// By STIX `type` (`attack-pattern`, `relationship`, …).
    pub objects: BTreeMap<String, TypeCount>,
    /// Relationships by `relationship_type`.
    pub relationships: BTreeMap<String, usize>,
}

impl ObjectCounts {
    /// The count of one STIX type (zero when absent).
    pub fn of(&self, stix_type: &str) -> TypeCount {
        self.objects.get(stix_type).copied().unwrap_or_default()
    }
}

/// The graph of one ATT&CK domain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Matrix {
    /// Which domain.
    pub domain: Domain,
    /// ATT&CK version of the collection (`18.1`).
    pub version: String,
    /// ATT&CK spec version (`3.3.0`).
    pub spec_version: String,
    /// Tactics in matrix column order.
    pub tactics: Vec<Tactic>,
    /// Techniques and sub-techniques, in bundle order.
    pub techniques: Vec<Technique>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Campaigns.
    pub campaigns: Vec<Campaign>,
    /// Malware and tools.
    pub software: Vec<Software>,
    /// Mitigations.
    pub mitigations: Vec<Mitigation>,
    /// Data sources.
    pub data_sources: Vec<DataSource>,
    /// Data components.
    pub data_components: Vec<DataComponent>,
    /// Detection strategies.
    pub detection_strategies: Vec<DetectionStrategy>,
    /// Analytics.
    pub analytics: Vec<Analytic>,
    /// ICS assets.
    pub assets: Vec<Asset>,
    /// Every kept relationship (not revoked, not deprecated, both ends known).
    pub edges: Vec<Edge>,
    /// The `modified` timestamp of each edge's relationship, as written; parallel to
    /// `edges` (how recently ATT&CK asserted it).
    #[serde(default)]
    pub edge_dates: Vec<String>,
    /// Counts as read from the bundle.
    pub counts: ObjectCounts,
    /// Problems met while building (unknown references, skipped objects).
    pub warnings: Vec<String>,
    #[serde(skip)]
    index: Index,
}

/// The kind an ATT&CK id's prefix names (`T1059` → technique, `DET0001` → detection
/// strategy, …); None when the text does not look like an ATT&CK id.
pub fn kind_of_id(id: &str) -> Option<Kind> {
    let upper = id.trim().to_ascii_uppercase();
    let prefix_end = upper.find(|c: char| c.is_ascii_digit())?;
    let (prefix, rest) = upper.split_at(prefix_end);
    if !rest.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    Some(match prefix {
        "T" => Kind::Technique,
        "TA" => Kind::Tactic,
        "G" => Kind::Group,
        "C" => Kind::Campaign,
        "S" => Kind::Software,
        "M" => Kind::Mitigation,
        "DS" => Kind::DataSource,
        "DC" => Kind::DataComponent,
        "DET" => Kind::DetectionStrategy,
        "AN" => Kind::Analytic,
        "A" => Kind::Asset,
        _ => return None,
    })
}

/// Lookup tables derived from the data. Adjacency is built eagerly (every traversal
/// needs it); the string-keyed tables are built on first use, so a command that looks
/// up one id does not pay for hashing every name and STIX id.
#[derive(Debug, Clone, Default)]
struct Index {
    /// Where each kind's nodes start in the flat node numbering (kind order of
    /// [`ALL_KINDS`]).
    offsets: Vec<usize>,
    outgoing: Vec<Vec<(RelationKind, NodeRef)>>,
    incoming: Vec<Vec<(RelationKind, NodeRef)>>,
    by_stix: OnceLock<HashMap<String, NodeRef>>,
    /// Upper-cased ATT&CK id → objects (an id is occasionally reused across kinds, e.g.
    /// deprecated mitigations named after their technique).
    by_attack_id: OnceLock<HashMap<String, Vec<NodeRef>>>,
    /// Lower-cased name or alias → objects.
    by_name: OnceLock<HashMap<String, Vec<NodeRef>>>,
}

/// Every kind, in the order of the flat node numbering.
const ALL_KINDS: [Kind; 11] = [
    Kind::Tactic,
    Kind::Technique,
    Kind::Group,
    Kind::Campaign,
    Kind::Software,
    Kind::Mitigation,
    Kind::DataSource,
    Kind::DataComponent,
    Kind::DetectionStrategy,
    Kind::Analytic,
    Kind::Asset,
];

impl Matrix {
    /// A matrix with no objects.
    pub(crate) fn empty(domain: Domain) -> Self {
        Matrix {
            domain,
            version: String::new(),
            spec_version: String::new(),
            tactics: Vec::new(),
            techniques: Vec::new(),
            groups: Vec::new(),
            campaigns: Vec::new(),
            software: Vec::new(),
            mitigations: Vec::new(),
            data_sources: Vec::new(),
            data_components: Vec::new(),
            detection_strategies: Vec::new(),
            analytics: Vec::new(),
            assets: Vec::new(),
            edges: Vec::new(),
            edge_dates: Vec::new(),
            counts: ObjectCounts::default(),
            warnings: Vec::new(),
            index: Index::default(),
        }
    }

    /// Rebuilds the lookup indices from the tables and edges.
    pub(crate) fn reindex(&mut self) {
        let mut offsets = Vec::with_capacity(ALL_KINDS.len());
        let mut total = 0;
        for kind in ALL_KINDS {
            offsets.push(total);
            total += self.len_of(kind);
        }
        let mut index = Index {
            offsets,
            outgoing: vec![Vec::new(); total],
            incoming: vec![Vec::new(); total],
            ..Index::default()
        };
        for edge in &self.edges {
            let (Some(source), Some(target)) = (
                flat(&index.offsets, self, edge.source),
                flat(&index.offsets, self, edge.target),
            ) else {
                continue;
            };
            index.outgoing[source].push((edge.kind, edge.target));
            index.incoming[target].push((edge.kind, edge.source));
        }
        self.index = index;
    }

    fn stix_index(&self) -> &HashMap<String, NodeRef> {
        self.index.by_stix.get_or_init(|| {
            self.nodes()
                .filter_map(|node| Some((self.meta(node)?.stix_id.clone(), node)))
                .collect()
        })
    }

    fn attack_id_index(&self) -> &HashMap<String, Vec<NodeRef>> {
        self.index.by_attack_id.get_or_init(|| {
            let mut map: HashMap<String, Vec<NodeRef>> = HashMap::new();
            for node in self.nodes() {
                match self.meta(node) {
                    Some(meta) if !meta.attack_id.is_empty() => map
                        .entry(meta.attack_id.to_ascii_uppercase())
                        .or_default()
                        .push(node),
                    _ => {}
                }
            }
            map
        })
    }

    fn name_index(&self) -> &HashMap<String, Vec<NodeRef>> {
        self.index.by_name.get_or_init(|| {
            let mut map: HashMap<String, Vec<NodeRef>> = HashMap::new();
            for node in self.nodes() {
                let Some(meta) = self.meta(node) else {
                    continue;
                };
                let names = std::iter::once(&meta.name).chain(self.aliases(node));
                for name in names {
                    let entry = map.entry(name.to_lowercase()).or_default();
                    if !entry.contains(&node) {
                        entry.push(node);
                    }
                }
            }
            map
        })
    }

    /// Every object of the matrix, kind by kind.
    pub fn nodes(&self) -> impl Iterator<Item = NodeRef> + '_ {
        ALL_KINDS.into_iter().flat_map(move |kind| {
            (0..self.len_of(kind) as u32).map(move |index| NodeRef { kind, index })
        })
    }

    /// How many objects of a kind the matrix holds.
    pub fn len_of(&self, kind: Kind) -> usize {
        match kind {
            Kind::Tactic => self.tactics.len(),
            Kind::Technique => self.techniques.len(),
            Kind::Group => self.groups.len(),
            Kind::Campaign => self.campaigns.len(),
            Kind::Software => self.software.len(),
            Kind::Mitigation => self.mitigations.len(),
            Kind::DataSource => self.data_sources.len(),
            Kind::DataComponent => self.data_components.len(),
            Kind::DetectionStrategy => self.detection_strategies.len(),
            Kind::Analytic => self.analytics.len(),
            Kind::Asset => self.assets.len(),
        }
    }

    /// The identity and text of any object (None for an out-of-range reference).
    pub fn meta(&self, node: NodeRef) -> Option<&Meta> {
        let i = node.index as usize;
        Some(match node.kind {
            Kind::Tactic => &self.tactics.get(i)?.meta,
            Kind::Technique => &self.techniques.get(i)?.meta,
            Kind::Group => &self.groups.get(i)?.meta,
            Kind::Campaign => &self.campaigns.get(i)?.meta,
            Kind::Software => &self.software.get(i)?.meta,
            Kind::Mitigation => &self.mitigations.get(i)?.meta,
            Kind::DataSource => &self.data_sources.get(i)?.meta,
            Kind::DataComponent => &self.data_components.get(i)?.meta,
            Kind::DetectionStrategy => &self.detection_strategies.get(i)?.meta,
            Kind::Analytic => &self.analytics.get(i)?.meta,
            Kind::Asset => &self.assets.get(i)?.meta,
        })
    }

    /// The aliases of a group, campaign or software (empty for other kinds).
    pub fn aliases(&self, node: NodeRef) -> &[String] {
        let i = node.index as usize;
        let aliases = match node.kind {
            Kind::Group => self.groups.get(i).map(|g| &g.aliases),
            Kind::Campaign => self.campaigns.get(i).map(|c| &c.aliases),
            Kind::Software => self.software.get(i).map(|s| &s.aliases),
            _ => None,
        };
        aliases.map(Vec::as_slice).unwrap_or(&[])
    }

    /// The object with this STIX id.
    pub fn by_stix_id(&self, stix_id: &str) -> Option<NodeRef> {
        self.stix_index().get(stix_id).copied()
    }

    /// The objects with this ATT&CK id (any case), best first: the kind the id's
    /// prefix names (old mitigations reuse technique ids), then active before
    /// deprecated before revoked.
    pub fn by_attack_id(&self, attack_id: &str) -> Vec<NodeRef> {
        let key = attack_id.trim().to_ascii_uppercase();
        let mut found = self
            .attack_id_index()
            .get(&key)
            .cloned()
            .unwrap_or_default();
        let natural = kind_of_id(&key);
        found.sort_by_key(|node| {
            (
                Some(node.kind) != natural,
                self.status_rank(*node),
                node.kind,
            )
        });
        found
    }

    /// The objects whose name or alias is this text (any case), best first.
    pub fn by_name(&self, name: &str) -> Vec<NodeRef> {
        let key = name.trim().to_lowercase();
        let mut found = self.name_index().get(&key).cloned().unwrap_or_default();
        found.sort_by_key(|node| (self.status_rank(*node), node.kind));
        found
    }

    /// Every ATT&CK id in the matrix (upper case), for nearest-match suggestions.
    pub fn attack_ids(&self) -> impl Iterator<Item = &str> {
        self.attack_id_index().keys().map(String::as_str)
    }

    /// Every lower-cased name and alias in the matrix.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.name_index().keys().map(String::as_str)
    }

    /// Relationships leaving an object: (type, target).
    pub fn outgoing(&self, node: NodeRef) -> &[(RelationKind, NodeRef)] {
        flat(&self.index.offsets, self, node)
            .and_then(|i| self.index.outgoing.get(i))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Relationships arriving at an object: (type, source).
    pub fn incoming(&self, node: NodeRef) -> &[(RelationKind, NodeRef)] {
        flat(&self.index.offsets, self, node)
            .and_then(|i| self.index.incoming.get(i))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The status of an object (revoked for a dangling reference, so it sorts last).
    pub fn status(&self, node: NodeRef) -> Status {
        self.meta(node).map_or(Status::Revoked, |m| m.status)
    }

    /// Whether an object is active.
    pub fn is_active(&self, node: NodeRef) -> bool {
        self.status(node) == Status::Active
    }

    fn status_rank(&self, node: NodeRef) -> u8 {
        match self.status(node) {
            Status::Active => 0,
            Status::Deprecated => 1,
            Status::Revoked => 2,
        }
    }

    /// What replaces a revoked object: follows `revoked-by` to the end of the chain
    /// (None when the object is not revoked or the chain leads nowhere).
    pub fn replacement(&self, node: NodeRef) -> Option<NodeRef> {
        let mut current = node;
        // A chain longer than the object count would be a cycle in bad data.
        for _ in 0..64 {
            let next = self
                .outgoing(current)
                .iter()
                .find(|(kind, _)| *kind == RelationKind::RevokedBy)
                .map(|(_, target)| *target);
            match next {
                Some(next) => current = next,
                None => break,
            }
        }
        (current != node).then_some(current)
    }
}

/// The flat number of a node (None when out of range or before indexing).
fn flat(offsets: &[usize], matrix: &Matrix, node: NodeRef) -> Option<usize> {
    let position = ALL_KINDS.iter().position(|k| *k == node.kind)?;
    let index = node.index as usize;
    (index < matrix.len_of(node.kind)).then(|| offsets.get(position).map(|o| o + index))?
}

#[cfg(test)]
mod tests {
    use super::kind_of_id;
    use crate::model::Kind;

    #[test]
    fn id_prefixes_name_their_kind() {
        let cases = [
            ("T1053.005", Some(Kind::Technique)),
            ("t1003", Some(Kind::Technique)),
            ("TA0003", Some(Kind::Tactic)),
            ("G0016", Some(Kind::Group)),
            ("S0002", Some(Kind::Software)),
            ("M1036", Some(Kind::Mitigation)),
            ("C0024", Some(Kind::Campaign)),
            ("DET0001", Some(Kind::DetectionStrategy)),
            ("AN0110", Some(Kind::Analytic)),
            ("DC0001", Some(Kind::DataComponent)),
            ("DS0009", Some(Kind::DataSource)),
            ("A0001", Some(Kind::Asset)),
            ("APT29", None),
            ("D3-PSA", None),
            ("T10x", None),
            ("", None),
        ];
        for (id, kind) in cases {
            assert_eq!(kind_of_id(id), kind, "{id}");
        }
    }
}
