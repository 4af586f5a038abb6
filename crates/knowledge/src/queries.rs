//! The questions other stages ask of one domain: who uses a technique, what a group
//! uses (directly or through its software and campaigns), what mitigates and detects
//! a technique, which techniques sit under a tactic or on a platform.
//!
//! "Current" answers: traversals skip revoked and deprecated objects, because a SOC
//! acting on ATT&CK today should not be pointed at withdrawn entries.

use crate::matrix::Matrix;
use crate::model::{Kind, LogSource, NodeRef, RelationKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a group (or software) comes to use a technique or a piece of software.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// ATT&CK relates the group and the technique directly.
    pub direct: bool,
    /// Software (table indices) the group uses that uses the technique.
    pub via_software: Vec<u32>,
    /// Campaigns (table indices) attributed to the group that used the technique.
    pub via_campaigns: Vec<u32>,
}

/// A detection strategy of a technique with its analytics' log sources, gathered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyLogSources {
    /// The detection strategy (table index).
    pub strategy: u32,
    /// Distinct log sources over all its analytics, in first-seen order.
    pub log_sources: Vec<LogSource>,
}

impl Matrix {
    /// The position of a tactic (by short name, e.g. `persistence`) in the matrix.
    pub fn tactic_order(&self, shortname: &str) -> Option<usize> {
        let wanted = shortname.trim().to_ascii_lowercase();
        self.tactics.iter().position(|t| t.shortname == wanted)
    }

    /// Active techniques (and sub-techniques), optionally only those under a tactic
    /// (short name or TA id or name) and/or on a platform (any case), sorted by id.
    pub fn techniques_filtered(&self, tactic: Option<&str>, platform: Option<&str>) -> Vec<u32> {
        let tactic = tactic.map(|t| self.tactic_shortname(t).unwrap_or_default());
        let platform = platform.map(|p| p.trim().to_lowercase());
        let mut found: Vec<u32> = (0..self.techniques.len() as u32)
            .filter(|&i| {
                let t = &self.techniques[i as usize];
                self.is_active(node(Kind::Technique, i))
                    && tactic.as_ref().is_none_or(|want| t.tactics.contains(want))
                    && platform
                        .as_ref()
                        .is_none_or(|want| t.platforms.iter().any(|p| p.to_lowercase() == *want))
            })
            .collect();
        found.sort_by(|a, b| {
            self.techniques[*a as usize]
                .meta
                .attack_id
                .cmp(&self.techniques[*b as usize].meta.attack_id)
        });
        found
    }

    /// The short name of a tactic given by short name, TA id or display name.
    pub fn tactic_shortname(&self, text: &str) -> Option<String> {
        let lower = text.trim().to_lowercase();
        let dashed = lower.replace(' ', "-");
        self.tactics
            .iter()
            .find(|t| {
                t.shortname == dashed
                    || t.meta.attack_id.eq_ignore_ascii_case(&lower)
                    || t.meta.name.to_lowercase() == lower
            })
            .map(|t| t.shortname.clone())
    }

    /// Active groups that use a technique, directly, through software they use, or
    /// through campaigns attributed to them; sorted by group id.
    pub fn groups_using(&self, technique: u32) -> Vec<(u32, Provenance)> {
        let target = node(Kind::Technique, technique);
        let mut groups: BTreeMap<u32, Provenance> = BTreeMap::new();
        for &(kind, source) in self.incoming(target) {
            if kind != RelationKind::Uses || !self.is_active(source) {
                continue;
            }
            match source.kind {
                Kind::Group => groups.entry(source.index).or_default().direct = true,
                Kind::Software => {
                    for group in self.users_of(source, Kind::Group) {
                        push_unique(
                            &mut groups.entry(group).or_default().via_software,
                            source.index,
                        );
                    }
                }
                Kind::Campaign => {
                    for group in self.campaign_groups(source.index) {
                        push_unique(
                            &mut groups.entry(group).or_default().via_campaigns,
                            source.index,
                        );
                    }
                }
                _ => {}
            }
        }
        self.sorted_by_id(Kind::Group, groups)
    }

    /// Active sub-techniques of a technique, sorted by id: deprecated and revoked ones
    /// stay resolvable by id but are not part of the technique today.
    pub fn subtechniques_of(&self, technique: u32) -> Vec<u32> {
        let mut found: Vec<u32> = self
            .techniques
            .get(technique as usize)
            .map(|t| t.subtechniques.clone())
            .unwrap_or_default();
        found.retain(|&s| self.is_active(node(Kind::Technique, s)));
        self.sort_ids(Kind::Technique, &mut found);
        found
    }

    /// Active analytics of a detection strategy, in the strategy's order.
    pub fn analytics_of(&self, strategy: u32) -> Vec<u32> {
        let mut found: Vec<u32> = self
            .detection_strategies
            .get(strategy as usize)
            .map(|s| s.analytics.clone())
            .unwrap_or_default();
        found.retain(|&a| self.is_active(node(Kind::Analytic, a)));
        found
    }

    /// The active groups that use a technique (as [`Matrix::groups_using`]), most
    /// relevant first: the order behind an enriched alert's "top groups".
    ///
    /// 1. Groups ATT&CK relates to the technique directly come before those that reach
    ///    it only through their software or campaigns: a direct `uses` is an analyst's
    ///    attribution of the behaviour, while a tool may be shared by dozens of groups.
    /// 2. Then groups with fewer techniques in all (direct, via software and via
    ///    campaigns): the technique says more about a group known for a handful of
    ///    techniques than about one that uses hundreds.
    /// 3. Then the more recently asserted relationship (the latest `modified` of the
    ///    relationships that tie the group to the technique), as current reporting
    ///    outweighs old.
    /// 4. Then the group id, so the order is stable.
    pub fn groups_by_relevance(&self, technique: u32) -> Vec<(u32, Provenance)> {
        let target = node(Kind::Technique, technique);
        // (direct, techniques in all, latest relationship date, id) per group.
        type Key<'a> = (bool, usize, &'a str, &'a str);
        let mut ranked: Vec<(Key, u32, Provenance)> = self
            .groups_using(technique)
            .into_iter()
            .map(|(group, provenance)| {
                let total = self.techniques_of_group(group).len();
                let mut sources: Vec<NodeRef> = Vec::new();
                if provenance.direct {
                    sources.push(node(Kind::Group, group));
                } else {
                    sources.extend(
                        provenance
                            .via_software
                            .iter()
                            .map(|&s| node(Kind::Software, s)),
                    );
                    sources.extend(
                        provenance
                            .via_campaigns
                            .iter()
                            .map(|&c| node(Kind::Campaign, c)),
                    );
                }
                let latest = sources
                    .into_iter()
                    .filter_map(|source| self.relation_date(RelationKind::Uses, source, target))
                    .max()
                    .unwrap_or_default();
                let key = (
                    provenance.direct,
                    total,
                    latest,
                    self.id_of(Kind::Group, group),
                );
                (key, group, provenance)
            })
            .collect();
        ranked.sort_by(|(a, ..), (b, ..)| {
            b.0.cmp(&a.0)
                .then(a.1.cmp(&b.1))
                .then(b.2.cmp(a.2))
                .then(a.3.cmp(b.3))
        });
        ranked
            .into_iter()
            .map(|(_, group, provenance)| (group, provenance))
            .collect()
    }

    /// The `modified` date of the relationship `source -kind-> target`, if kept.
    pub fn relation_date(
        &self,
        kind: RelationKind,
        source: NodeRef,
        target: NodeRef,
    ) -> Option<&str> {
        self.edges
            .iter()
            .zip(&self.edge_dates)
            .filter(|(edge, _)| edge.kind == kind && edge.source == source && edge.target == target)
            .map(|(_, date)| date.as_str())
            .max()
    }

    /// Active software that uses a technique, sorted by id.
    pub fn software_using(&self, technique: u32) -> Vec<u32> {
        let mut found = self.users_of(node(Kind::Technique, technique), Kind::Software);
        self.sort_ids(Kind::Software, &mut found);
        found
    }

    /// Active techniques a group uses, directly, through its software or through its
    /// campaigns (the transitive "uses"); sorted by technique id.
    pub fn techniques_of_group(&self, group: u32) -> Vec<(u32, Provenance)> {
        let mut techniques: BTreeMap<u32, Provenance> = BTreeMap::new();
        for target in self.used_by(node(Kind::Group, group), Kind::Technique) {
            techniques.entry(target).or_default().direct = true;
        }
        for software in self.software_of_group(group) {
            for target in self.used_by(node(Kind::Software, software), Kind::Technique) {
                push_unique(
                    &mut techniques.entry(target).or_default().via_software,
                    software,
                );
            }
        }
        for campaign in self.campaigns_of_group(group) {
            for target in self.used_by(node(Kind::Campaign, campaign), Kind::Technique) {
                push_unique(
                    &mut techniques.entry(target).or_default().via_campaigns,
                    campaign,
                );
            }
        }
        self.sorted_by_id(Kind::Technique, techniques)
    }

    /// Active software a group uses (directly or in its campaigns), sorted by id.
    pub fn software_of_group(&self, group: u32) -> Vec<u32> {
        let mut found = self.used_by(node(Kind::Group, group), Kind::Software);
        for campaign in self.campaigns_of_group(group) {
            for software in self.used_by(node(Kind::Campaign, campaign), Kind::Software) {
                push_unique(&mut found, software);
            }
        }
        self.sort_ids(Kind::Software, &mut found);
        found
    }

    /// Active campaigns attributed to a group, sorted by id.
    pub fn campaigns_of_group(&self, group: u32) -> Vec<u32> {
        let mut found: Vec<u32> = self
            .incoming(node(Kind::Group, group))
            .iter()
            .filter(|(kind, source)| {
                *kind == RelationKind::AttributedTo
                    && source.kind == Kind::Campaign
                    && self.is_active(*source)
            })
            .map(|(_, source)| source.index)
            .collect();
        self.sort_ids(Kind::Campaign, &mut found);
        found
    }

    /// Active groups a campaign is attributed to.
    pub fn campaign_groups(&self, campaign: u32) -> Vec<u32> {
        self.outgoing(node(Kind::Campaign, campaign))
            .iter()
            .filter(|(kind, target)| {
                *kind == RelationKind::AttributedTo
                    && target.kind == Kind::Group
                    && self.is_active(*target)
            })
            .map(|(_, target)| target.index)
            .collect()
    }

    /// Active mitigations of a technique, sorted by id.
    pub fn mitigations_of(&self, technique: u32) -> Vec<u32> {
        self.sources_of(technique, RelationKind::Mitigates, Kind::Mitigation)
    }

    /// Active techniques a mitigation mitigates, sorted by id.
    pub fn techniques_mitigated_by(&self, mitigation: u32) -> Vec<u32> {
        self.targets_of(node(Kind::Mitigation, mitigation), RelationKind::Mitigates)
    }

    /// Active detection strategies of a technique, sorted by id.
    pub fn detection_strategies_of(&self, technique: u32) -> Vec<u32> {
        self.sources_of(technique, RelationKind::Detects, Kind::DetectionStrategy)
    }

    /// Active techniques a detection strategy detects, sorted by id.
    pub fn techniques_detected_by(&self, strategy: u32) -> Vec<u32> {
        self.targets_of(
            node(Kind::DetectionStrategy, strategy),
            RelationKind::Detects,
        )
    }

    /// The detection strategies of a technique with the distinct log sources of their
    /// analytics: what coverage needs to know "can I see this technique at all".
    pub fn log_sources_of(&self, technique: u32) -> Vec<StrategyLogSources> {
        self.detection_strategies_of(technique)
            .into_iter()
            .map(|strategy| {
                let mut log_sources: Vec<LogSource> = Vec::new();
                for analytic in self.analytics_of(strategy) {
                    let Some(analytic) = self.analytics.get(analytic as usize) else {
                        continue;
                    };
                    for source in &analytic.log_sources {
                        if !log_sources.contains(&source.log_source) {
                            log_sources.push(source.log_source.clone());
                        }
                    }
                }
                StrategyLogSources {
                    strategy,
                    log_sources,
                }
            })
            .collect()
    }

    /// Active techniques a piece of software uses, sorted by id.
    pub fn techniques_of_software(&self, software: u32) -> Vec<u32> {
        let mut found = self.used_by(node(Kind::Software, software), Kind::Technique);
        self.sort_ids(Kind::Technique, &mut found);
        found
    }

    /// Active groups using a piece of software (directly), sorted by id.
    pub fn groups_using_software(&self, software: u32) -> Vec<u32> {
        let mut found = self.users_of(node(Kind::Software, software), Kind::Group);
        self.sort_ids(Kind::Group, &mut found);
        found
    }

    /// Active techniques under a tactic (by short name), sorted by id.
    pub fn techniques_of_tactic(&self, shortname: &str) -> Vec<u32> {
        self.techniques_filtered(Some(shortname), None)
    }

    /// Active ICS assets a technique targets.
    pub fn assets_targeted_by(&self, technique: u32) -> Vec<u32> {
        self.targets_of(node(Kind::Technique, technique), RelationKind::Targets)
    }

    /// Active objects of `kind` that `uses` the given object.
    fn users_of(&self, target: NodeRef, kind: Kind) -> Vec<u32> {
        self.incoming(target)
            .iter()
            .filter(|(rel, source)| {
                *rel == RelationKind::Uses && source.kind == kind && self.is_active(*source)
            })
            .map(|(_, source)| source.index)
            .collect()
    }

    /// Active objects of `kind` the given object `uses`.
    fn used_by(&self, source: NodeRef, kind: Kind) -> Vec<u32> {
        self.outgoing(source)
            .iter()
            .filter(|(rel, target)| {
                *rel == RelationKind::Uses && target.kind == kind && self.is_active(*target)
            })
            .map(|(_, target)| target.index)
            .collect()
    }

    fn sources_of(&self, technique: u32, relation: RelationKind, kind: Kind) -> Vec<u32> {
        let mut found: Vec<u32> = self
            .incoming(node(Kind::Technique, technique))
            .iter()
            .filter(|(rel, source)| {
                *rel == relation && source.kind == kind && self.is_active(*source)
            })
            .map(|(_, source)| source.index)
            .collect();
        self.sort_ids(kind, &mut found);
        found
    }

    fn targets_of(&self, source: NodeRef, relation: RelationKind) -> Vec<u32> {
        let mut kind = Kind::Technique;
        let mut found: Vec<u32> = self
            .outgoing(source)
            .iter()
            .filter(|(rel, target)| *rel == relation && self.is_active(*target))
            .map(|(_, target)| {
                kind = target.kind;
                target.index
            })
            .collect();
        self.sort_ids(kind, &mut found);
        found
    }

    fn sort_ids(&self, kind: Kind, indices: &mut Vec<u32>) {
        indices.sort_by(|a, b| self.id_of(kind, *a).cmp(self.id_of(kind, *b)));
        indices.dedup();
    }

    fn sorted_by_id(&self, kind: Kind, map: BTreeMap<u32, Provenance>) -> Vec<(u32, Provenance)> {
        let mut list: Vec<(u32, Provenance)> = map.into_iter().collect();
        list.sort_by(|a, b| self.id_of(kind, a.0).cmp(self.id_of(kind, b.0)));
        for (_, provenance) in &mut list {
            self.sort_ids(Kind::Software, &mut provenance.via_software);
            self.sort_ids(Kind::Campaign, &mut provenance.via_campaigns);
        }
        list
    }

    fn id_of(&self, kind: Kind, index: u32) -> &str {
        self.meta(node(kind, index))
            .map_or("", |meta| meta.attack_id.as_str())
    }
}

fn node(kind: Kind, index: u32) -> NodeRef {
    NodeRef { kind, index }
}

fn push_unique(list: &mut Vec<u32>, item: u32) {
    if !list.contains(&item) {
        list.push(item);
    }
}
