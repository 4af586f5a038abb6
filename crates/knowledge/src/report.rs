//! Stable JSON views of graph objects: the `--json` output of `rampart attack show` and
//! `rampart group show`, and what enrichment attaches to alerts.
//!
//! Views are separate from the graph's own types so that the graph can change shape
//! (indices, caching) without changing what scripts and later stages read. Every view
//! starts with the same [`Common`] keys; related objects are [`Ref`]s (`id`, `name`).
//!
//! The JSON of `rampart attack show ID --json`, by `kind` (keys are only ever added):
//! - every view: `kind`, `domain`, `id`, `stix_id`, `name`, `status`
//!   (`active`/`deprecated`/`revoked`), `revoked_by` (a ref or null), `url`,
//!   `description`;
//! - `technique`: `tactics` (short names, matrix order), `platforms`,
//!   `is_subtechnique`, `parent`, `subtechniques`, `groups` (`id`, `name`, `direct`,
//!   `via_software`, `via_campaigns`), `software`, `mitigations`,
//!   `detection_strategies` (`id`, `name`, `analytics` with `id`, `platforms`,
//!   `description`, `log_sources` {`name`, `channel`, `data_component`}; and the
//!   strategy's distinct `log_sources`), `countermeasures` (one per D3FEND technique:
//!   `id` D3-…, `name`, `tactic`, the first path's `artifact`, `defense_relation`,
//!   `attack_artifact`, `attack_relation`, and every path in `paths`), `engage`
//!   (`id` EAC…, `name`, `vulnerability` {`id` EAV…, `description`}), `assets` (ICS);
//! - `group` (also `rampart group show --json`): `aliases`, `techniques` (`id`, `name`,
//!   `tactics`, `direct`, `via_software`, `via_campaigns`), `software`, `campaigns`;
//! - `software`, `mitigation`, `tactic`, `campaign`, `detection-strategy`,
//!   `data-component`, …: `aliases`, `techniques`, `groups`, `shortname` (tactics),
//!   `analytics` and `log_sources` (detection strategies, data components);
//! - `d3fend-technique` (D3-… ids): `id`, `name`, `url`, `tactic`, `definition`,
//!   `parents`, `artifacts` (`[relation, artifact class]` pairs), `counters` (the
//!   current ATT&CK techniques it counters: `id`, `name`, `domain`, `paths`);
//! - `engage-activity` (EAC… ids): `id`, `name`, `description`, `long_description`,
//!   `goals`, `approaches`, `vulnerabilities` (`id`, `description`), `techniques`.

use crate::knowledge::{Hit, Knowledge};
use crate::matrix::Matrix;
use crate::model::{Domain, Kind, LogSource, Meta, NodeRef, Status, Technique};
use crate::queries::Provenance;
use rampart_defense::d3fend::{Countermeasure, D3fendTechnique};
use serde::Serialize;

/// A related object, by ATT&CK id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ref {
    /// ATT&CK id (`T1053`, `G0016`, …).
    pub id: String,
    /// Name.
    pub name: String,
}

/// The keys every view has.
#[derive(Debug, Clone, Serialize)]
pub struct Common {
    /// `technique`, `group`, `software`, `mitigation`, `tactic`, `campaign`,
    /// `detection-strategy`, `data-component`, `data-source`, `analytic`, `asset`.
    pub kind: &'static str,
    /// `enterprise`, `mobile` or `ics`.
    pub domain: &'static str,
    /// ATT&CK id.
    pub id: String,
    /// STIX id.
    pub stix_id: String,
    /// Name.
    pub name: String,
    /// `active`, `deprecated` or `revoked`.
    pub status: &'static str,
    /// What replaced a revoked object.
    pub revoked_by: Option<Ref>,
    /// ATT&CK web page.
    pub url: Option<String>,
    /// Description (Markdown).
    pub description: String,
}

/// A group that uses a technique, and how.
#[derive(Debug, Clone, Serialize)]
pub struct GroupUse {
    /// Group id.
    pub id: String,
    /// Group name.
    pub name: String,
    /// Related to the technique directly.
    pub direct: bool,
    /// Through these software.
    pub via_software: Vec<Ref>,
    /// Through these campaigns.
    pub via_campaigns: Vec<Ref>,
}

/// A technique a group uses, and how.
#[derive(Debug, Clone, Serialize)]
pub struct TechniqueUse {
    /// Technique id.
    pub id: String,
    /// Technique name.
    pub name: String,
    /// Its tactics (short names).
    pub tactics: Vec<String>,
    /// Related to the group directly.
    pub direct: bool,
    /// Through these software.
    pub via_software: Vec<Ref>,
    /// Through these campaigns.
    pub via_campaigns: Vec<Ref>,
}

/// A log source an analytic reads, with its data component.
#[derive(Debug, Clone, Serialize)]
pub struct LogSourceView {
    /// Log name (`WinEventLog:Security`).
    pub name: String,
    /// Channel or filter (`EventCode=4698`).
    pub channel: String,
    /// The data component it stands for.
    pub data_component: Option<Ref>,
}

/// An analytic of a detection strategy.
#[derive(Debug, Clone, Serialize)]
pub struct AnalyticView {
    /// `AN…` id.
    pub id: String,
    /// Platforms.
    pub platforms: Vec<String>,
    /// What to look for.
    pub description: String,
    /// Log sources read.
    pub log_sources: Vec<LogSourceView>,
}

/// A detection strategy with its analytics.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyView {
    /// `DET…` id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Analytics.
    pub analytics: Vec<AnalyticView>,
    /// Distinct log sources over all analytics.
    pub log_sources: Vec<LogSource>,
}

/// A D3FEND countermeasure of a technique: one per D3FEND technique (see
/// [`Knowledge::distinct_countermeasures`]), its most direct artifact path flattened
/// into it and every path in `paths`.
#[derive(Debug, Clone, Serialize)]
pub struct CountermeasureView {
    /// D3FEND id (`D3-PSA`).
    pub id: String,
    /// Name.
    pub name: String,
    /// D3FEND tactic (`Detect`, `Harden`, …).
    pub tactic: String,
    /// The artifact the countermeasure acts on (first path).
    pub artifact: String,
    /// The countermeasure's relation to it (`analyzes`) (first path).
    pub defense_relation: String,
    /// The artifact the ATT&CK technique acts on (first path).
    pub attack_artifact: String,
    /// The technique's relation to it (`accesses`) (first path).
    pub attack_relation: String,
    /// Every artifact path linking the two, most direct first.
    pub paths: Vec<ArtifactPathView>,
}

/// One artifact path between an ATT&CK technique and a countermeasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactPathView {
    /// The artifact the countermeasure acts on.
    pub artifact: String,
    /// The countermeasure's relation to it.
    pub defense_relation: String,
    /// The artifact the ATT&CK technique acts on.
    pub attack_artifact: String,
    /// The technique's relation to it.
    pub attack_relation: String,
}

impl From<&Countermeasure> for ArtifactPathView {
    fn from(c: &Countermeasure) -> Self {
        ArtifactPathView {
            artifact: c.artifact.clone(),
            defense_relation: c.defense_relation.clone(),
            attack_artifact: c.attack_artifact.clone(),
            attack_relation: c.attack_relation.clone(),
        }
    }
}

/// An ENGAGE activity answering a technique.
#[derive(Debug, Clone, Serialize)]
pub struct EngageView {
    /// Activity id (`EAC0005`).
    pub id: String,
    /// Activity name.
    pub name: String,
    /// The adversary vulnerability linking technique and activity.
    pub vulnerability: VulnerabilityView,
}

/// An ENGAGE adversary vulnerability.
#[derive(Debug, Clone, Serialize)]
pub struct VulnerabilityView {
    /// `EAV…` id.
    pub id: String,
    /// The statement.
    pub description: String,
}

/// A technique or sub-technique, with everything related to it.
#[derive(Debug, Clone, Serialize)]
pub struct TechniqueReport {
    /// Common keys.
    #[serde(flatten)]
    pub common: Common,
    /// Tactic short names, in matrix order.
    pub tactics: Vec<String>,
    /// Platforms.
    pub platforms: Vec<String>,
    /// Whether it is a sub-technique.
    pub is_subtechnique: bool,
    /// Parent technique of a sub-technique.
    pub parent: Option<Ref>,
    /// Sub-techniques.
    pub subtechniques: Vec<Ref>,
    /// Groups using it (directly, via software, via campaigns).
    pub groups: Vec<GroupUse>,
    /// Software using it.
    pub software: Vec<Ref>,
    /// Mitigations.
    pub mitigations: Vec<Ref>,
    /// ATT&CK detection strategies with analytics and log sources.
    pub detection_strategies: Vec<StrategyView>,
    /// D3FEND countermeasures.
    pub countermeasures: Vec<CountermeasureView>,
    /// ENGAGE activities.
    pub engage: Vec<EngageView>,
    /// ICS assets it targets.
    pub assets: Vec<Ref>,
}

/// A group with what it uses.
#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    /// Common keys.
    #[serde(flatten)]
    pub common: Common,
    /// Other names.
    pub aliases: Vec<String>,
    /// Techniques (direct and through software/campaigns, marked).
    pub techniques: Vec<TechniqueUse>,
    /// Software used (directly or in its campaigns).
    pub software: Vec<Ref>,
    /// Campaigns attributed to it.
    pub campaigns: Vec<Ref>,
}

/// Any other object: software, mitigation, tactic, campaign, detection strategy, data
/// component, data source, analytic, asset.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectReport {
    /// Common keys.
    #[serde(flatten)]
    pub common: Common,
    /// Aliases (software, campaigns).
    pub aliases: Vec<String>,
    /// Techniques related (used by software/campaign, mitigated, detected, under tactic).
    pub techniques: Vec<Ref>,
    /// Groups related (using software, campaign attribution).
    pub groups: Vec<Ref>,
    /// Tactic short name (tactics only).
    pub shortname: Option<String>,
    /// Analytics (detection strategies only).
    pub analytics: Vec<AnalyticView>,
    /// Log sources (data components and detection strategies).
    pub log_sources: Vec<LogSource>,
}

/// A D3FEND defensive technique.
#[derive(Debug, Clone, Serialize)]
pub struct D3fendReport {
    /// Always `d3fend-technique`.
    pub kind: &'static str,
    /// D3FEND id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Its page on d3fend.mitre.org.
    pub url: String,
    /// D3FEND tactic.
    pub tactic: Option<String>,
    /// Definition.
    pub definition: Option<String>,
    /// Parent classes.
    pub parents: Vec<String>,
    /// Artifacts it acts on: (relation, artifact class).
    pub artifacts: Vec<(String, String)>,
    /// The current ATT&CK techniques it counters, sorted by domain then id: the
    /// inverse of the countermeasures `attack show T…` lists, so each technique here
    /// lists this one. Techniques ATT&CK has since revoked count as their replacement;
    /// deprecated ones are left out.
    pub counters: Vec<CounteredView>,
}

/// An ATT&CK technique a D3FEND technique counters.
#[derive(Debug, Clone, Serialize)]
pub struct CounteredView {
    /// ATT&CK id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `enterprise`, `mobile` or `ics`.
    pub domain: &'static str,
    /// Every artifact path linking the two, most direct first.
    pub paths: Vec<ArtifactPathView>,
}

/// An ENGAGE activity.
#[derive(Debug, Clone, Serialize)]
pub struct EngageReport {
    /// Always `engage-activity`.
    pub kind: &'static str,
    /// `EAC…` id.
    pub id: String,
    /// Name.
    pub name: String,
    /// One-sentence description.
    pub description: String,
    /// The longer explanation.
    pub long_description: String,
    /// Goals it serves (`EGO…`/`SGO…` ids with names).
    pub goals: Vec<Ref>,
    /// Approaches it belongs to.
    pub approaches: Vec<Ref>,
    /// Adversary vulnerabilities it exploits.
    pub vulnerabilities: Vec<VulnerabilityView>,
    /// The current ATT&CK techniques it answers (ENGAGE's mapping, revoked ids read
    /// as their replacement, deprecated ones left out), sorted by id.
    pub techniques: Vec<Ref>,
}

/// A view of any object.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Report {
    /// A technique.
    Technique(Box<TechniqueReport>),
    /// A group.
    Group(Box<GroupReport>),
    /// Anything else in ATT&CK.
    Object(Box<ObjectReport>),
    /// A D3FEND technique.
    D3fend(Box<D3fendReport>),
    /// An ENGAGE activity.
    Engage(Box<EngageReport>),
}

impl Knowledge {
    /// The view of an ATT&CK object (None for a hit that is not in this graph).
    pub fn report(&self, hit: Hit) -> Option<Report> {
        Some(match hit.node.kind {
            Kind::Technique => {
                self.matrix_of(hit).meta(hit.node)?;
                Report::Technique(Box::new(self.technique_report(hit)))
            }
            Kind::Group => Report::Group(Box::new(self.group_report(hit)?)),
            _ => Report::Object(Box::new(self.object_report(hit)?)),
        })
    }

    /// The view of a D3FEND technique (`D3-PSA`, any case), when D3FEND is loaded.
    pub fn d3fend_report(&self, id: &str) -> Option<D3fendReport> {
        let ontology = self.d3fend()?;
        let technique: &D3fendTechnique = ontology.technique(id.trim())?;
        Some(D3fendReport {
            kind: "d3fend-technique",
            id: technique.id.clone(),
            name: technique.name.clone(),
            url: format!(
                "https://d3fend.mitre.org/technique/d3f:{}/",
                technique.class
            ),
            tactic: technique.tactic.clone(),
            definition: technique.definition.clone(),
            parents: technique.parents.clone(),
            artifacts: technique
                .artifacts
                .iter()
                .map(|a| (a.relation.clone(), a.artifact.clone()))
                .collect(),
            counters: self.countered_by(&technique.id),
        })
    }

    /// The ATT&CK techniques a D3FEND technique counters: the ontology's inverse
    /// inference, read the way [`Knowledge::countermeasures`] reads the forward one, so
    /// the two directions agree. A technique the ontology names by its own current id
    /// takes the paths found for that id; one reached only through an id it revoked is
    /// checked against its own countermeasures (the forward direction asks older ids
    /// only when the current one finds nothing).
    fn countered_by(&self, d3fend_id: &str) -> Vec<CounteredView> {
        let Some(ontology) = self.d3fend() else {
            return Vec::new();
        };
        let mut found: Vec<(Hit, Vec<Countermeasure>)> = Vec::new();
        let mut through_revoked: Vec<Hit> = Vec::new();
        for countered in ontology.countered_techniques(d3fend_id) {
            for matrix in self.matrices() {
                let Some(&node) = matrix.by_attack_id(&countered.attack_id).first() else {
                    continue;
                };
                if node.kind != Kind::Technique {
                    continue;
                }
                let domain = matrix.domain;
                match matrix.status(node) {
                    Status::Active => {
                        let hit = Hit { domain, node };
                        match found.iter_mut().find(|(known, _)| *known == hit) {
                            Some((_, paths)) => paths.push(countered.via.clone()),
                            None => found.push((hit, vec![countered.via.clone()])),
                        }
                    }
                    Status::Revoked => {
                        if let Some(node) = matrix.replacement(node) {
                            let hit = Hit { domain, node };
                            if matrix.is_active(node) && !through_revoked.contains(&hit) {
                                through_revoked.push(hit);
                            }
                        }
                    }
                    Status::Deprecated => {}
                }
            }
        }
        for hit in through_revoked {
            if found.iter().any(|(known, _)| *known == hit) {
                continue;
            }
            let paths = self
                .distinct_countermeasures(hit)
                .into_iter()
                .find(|paths| paths.first().is_some_and(|c| c.id == d3fend_id));
            if let Some(paths) = paths {
                found.push((hit, paths));
            }
        }
        let mut out: Vec<CounteredView> = found
            .into_iter()
            .filter_map(|(hit, paths)| {
                let meta = self.matrix_of(hit).meta(hit.node)?;
                Some(CounteredView {
                    id: meta.attack_id.clone(),
                    name: meta.name.clone(),
                    domain: hit.domain.as_str(),
                    paths: paths.iter().map(ArtifactPathView::from).collect(),
                })
            })
            .collect();
        out.sort_by(|a, b| {
            let domain = |d: &str| Domain::parse(d).map_or(usize::MAX, |d| d as usize);
            (domain(a.domain), &a.id).cmp(&(domain(b.domain), &b.id))
        });
        out
    }

    /// The view of an ENGAGE activity (`EAC0005`, any case), when ENGAGE is loaded.
    pub fn engage_report(&self, id: &str) -> Option<EngageReport> {
        let engage = self.engage()?;
        let activity = engage.activity(id)?;
        let named = |id: &String, name: Option<&str>| Ref {
            id: id.clone(),
            name: name.unwrap_or_default().to_owned(),
        };
        let mut techniques: Vec<Ref> = Vec::new();
        for mapping in engage.attack_mappings() {
            if !mapping.activity_id.eq_ignore_ascii_case(&activity.id) {
                continue;
            }
            let Some(hit) = self.resolve(&mapping.attack_id).current() else {
                continue;
            };
            let matrix = self.matrix_of(hit);
            if hit.node.kind != Kind::Technique || !matrix.is_active(hit.node) {
                continue;
            }
            if let Some(technique) = to_ref(matrix, hit.node) {
                if !techniques.contains(&technique) {
                    techniques.push(technique);
                }
            }
        }
        techniques.sort_by(|a, b| a.id.cmp(&b.id));
        Some(EngageReport {
            kind: "engage-activity",
            id: activity.id.clone(),
            name: activity.name.clone(),
            description: activity.description.clone(),
            long_description: activity.long_description.clone(),
            goals: activity
                .goals
                .iter()
                .map(|g| {
                    let goal = engage.goals().iter().find(|known| &known.id == g);
                    named(g, goal.map(|known| known.name.as_str()))
                })
                .collect(),
            approaches: activity
                .approaches
                .iter()
                .map(|a| {
                    let approach = engage.approaches().iter().find(|known| &known.id == a);
                    named(a, approach.map(|known| known.name.as_str()))
                })
                .collect(),
            vulnerabilities: activity
                .vulnerabilities
                .iter()
                .map(|v| VulnerabilityView {
                    id: v.id.clone(),
                    description: v.description.clone(),
                })
                .collect(),
            techniques,
        })
    }

    /// The full view of a technique. A hit that is not a technique of this graph gets
    /// an empty view rather than a panic.
    pub fn technique_report(&self, hit: Hit) -> TechniqueReport {
        let m = self.matrix_of(hit);
        let i = hit.node.index;
        let unknown = Technique {
            meta: empty_meta(),
            tactics: Vec::new(),
            platforms: Vec::new(),
            is_subtechnique: false,
            parent: None,
            subtechniques: Vec::new(),
        };
        let technique = match hit.node.kind {
            Kind::Technique => m.techniques.get(i as usize).unwrap_or(&unknown),
            _ => &unknown,
        };
        let refs = |kind: Kind, list: Vec<u32>| refs(m, kind, list);
        TechniqueReport {
            common: common(m, hit.node),
            tactics: technique.tactics.clone(),
            platforms: technique.platforms.clone(),
            is_subtechnique: technique.is_subtechnique,
            parent: technique
                .parent
                .and_then(|p| to_ref(m, node(Kind::Technique, p))),
            subtechniques: refs(Kind::Technique, m.subtechniques_of(i)),
            groups: m
                .groups_using(i)
                .into_iter()
                .filter_map(|(g, provenance)| {
                    let group = to_ref(m, node(Kind::Group, g))?;
                    let (via_software, via_campaigns) = provenance_refs(m, &provenance);
                    Some(GroupUse {
                        id: group.id,
                        name: group.name,
                        direct: provenance.direct,
                        via_software,
                        via_campaigns,
                    })
                })
                .collect(),
            software: refs(Kind::Software, m.software_using(i)),
            mitigations: refs(Kind::Mitigation, m.mitigations_of(i)),
            detection_strategies: m
                .detection_strategies_of(i)
                .into_iter()
                .map(|s| strategy_view(m, s))
                .collect(),
            countermeasures: self
                .distinct_countermeasures(hit)
                .into_iter()
                .filter_map(|paths| {
                    let first = paths.first()?;
                    Some(CountermeasureView {
                        id: first.id.clone(),
                        name: first.name.clone(),
                        tactic: first.tactic.clone(),
                        artifact: first.artifact.clone(),
                        defense_relation: first.defense_relation.clone(),
                        attack_artifact: first.attack_artifact.clone(),
                        attack_relation: first.attack_relation.clone(),
                        paths: paths.iter().map(ArtifactPathView::from).collect(),
                    })
                })
                .collect(),
            engage: self
                .engage_activities(hit)
                .into_iter()
                .map(|e| EngageView {
                    id: e.activity_id,
                    name: e.activity_name,
                    vulnerability: VulnerabilityView {
                        id: e.vulnerability_id,
                        description: e.vulnerability,
                    },
                })
                .collect(),
            assets: refs(Kind::Asset, m.assets_targeted_by(i)),
        }
    }

    /// The full view of a group (None when the hit is not a group of this graph).
    pub fn group_report(&self, hit: Hit) -> Option<GroupReport> {
        let m = self.matrix_of(hit);
        let i = hit.node.index;
        if hit.node.kind != Kind::Group || m.meta(hit.node).is_none() {
            return None;
        }
        Some(GroupReport {
            common: common(m, hit.node),
            aliases: m.aliases(hit.node).to_vec(),
            techniques: m
                .techniques_of_group(i)
                .into_iter()
                .filter_map(|(t, provenance)| {
                    let technique = to_ref(m, node(Kind::Technique, t))?;
                    let (via_software, via_campaigns) = provenance_refs(m, &provenance);
                    Some(TechniqueUse {
                        id: technique.id,
                        name: technique.name,
                        tactics: m.techniques[t as usize].tactics.clone(),
                        direct: provenance.direct,
                        via_software,
                        via_campaigns,
                    })
                })
                .collect(),
            software: refs(m, Kind::Software, m.software_of_group(i)),
            campaigns: refs(m, Kind::Campaign, m.campaigns_of_group(i)),
        })
    }

    /// The view of any other object (None when the hit is not in this graph).
    pub fn object_report(&self, hit: Hit) -> Option<ObjectReport> {
        let m = self.matrix_of(hit);
        let i = hit.node.index;
        // In range for its kind: the table lookups below rely on it.
        m.meta(hit.node)?;
        let mut report = ObjectReport {
            common: common(m, hit.node),
            aliases: m.aliases(hit.node).to_vec(),
            techniques: Vec::new(),
            groups: Vec::new(),
            shortname: None,
            analytics: Vec::new(),
            log_sources: Vec::new(),
        };
        match hit.node.kind {
            Kind::Software => {
                report.techniques = refs(m, Kind::Technique, m.techniques_of_software(i));
                report.groups = refs(m, Kind::Group, m.groups_using_software(i));
            }
            Kind::Mitigation => {
                report.techniques = refs(m, Kind::Technique, m.techniques_mitigated_by(i));
            }
            Kind::Tactic => {
                let shortname = m.tactics[i as usize].shortname.clone();
                report.techniques = refs(m, Kind::Technique, m.techniques_of_tactic(&shortname));
                report.shortname = Some(shortname);
            }
            Kind::Campaign => {
                let used: Vec<u32> = m
                    .outgoing(hit.node)
                    .iter()
                    .filter(|(_, t)| t.kind == Kind::Technique && m.is_active(*t))
                    .map(|(_, t)| t.index)
                    .collect();
                report.techniques = refs(m, Kind::Technique, used);
                report.groups = refs(m, Kind::Group, m.campaign_groups(i));
            }
            Kind::DetectionStrategy => {
                let view = strategy_view(m, i);
                report.analytics = view.analytics;
                report.log_sources = view.log_sources;
                report.techniques = refs(m, Kind::Technique, m.techniques_detected_by(i));
            }
            Kind::DataComponent => {
                report.log_sources = m.data_components[i as usize].log_sources.clone();
            }
            Kind::Analytic => {
                report.analytics = vec![analytic_view(m, i)];
            }
            _ => {}
        }
        Some(report)
    }
}

fn node(kind: Kind, index: u32) -> NodeRef {
    NodeRef { kind, index }
}

fn to_ref(m: &Matrix, node: NodeRef) -> Option<Ref> {
    m.meta(node).map(|meta: &Meta| Ref {
        id: meta.attack_id.clone(),
        name: meta.name.clone(),
    })
}

fn refs(m: &Matrix, kind: Kind, list: Vec<u32>) -> Vec<Ref> {
    list.into_iter()
        .filter_map(|i| to_ref(m, node(kind, i)))
        .collect()
}

fn provenance_refs(m: &Matrix, provenance: &Provenance) -> (Vec<Ref>, Vec<Ref>) {
    (
        refs(m, Kind::Software, provenance.via_software.clone()),
        refs(m, Kind::Campaign, provenance.via_campaigns.clone()),
    )
}

fn empty_meta() -> Meta {
    Meta {
        stix_id: String::new(),
        attack_id: String::new(),
        name: String::new(),
        description: String::new(),
        url: None,
        status: crate::model::Status::Revoked,
        modified: String::new(),
    }
}

fn common(m: &Matrix, node: NodeRef) -> Common {
    let empty = empty_meta();
    let meta = m.meta(node).unwrap_or(&empty);
    Common {
        kind: node.kind.as_str(),
        domain: m.domain.as_str(),
        id: meta.attack_id.clone(),
        stix_id: meta.stix_id.clone(),
        name: meta.name.clone(),
        status: meta.status.as_str(),
        revoked_by: m.replacement(node).and_then(|r| to_ref(m, r)),
        url: meta.url.clone(),
        description: meta.description.clone(),
    }
}

fn analytic_view(m: &Matrix, index: u32) -> AnalyticView {
    let analytic = &m.analytics[index as usize];
    AnalyticView {
        id: analytic.meta.attack_id.clone(),
        platforms: analytic.platforms.clone(),
        description: analytic.meta.description.clone(),
        log_sources: analytic
            .log_sources
            .iter()
            .map(|s| LogSourceView {
                name: s.log_source.name.clone(),
                channel: s.log_source.channel.clone(),
                data_component: s
                    .data_component
                    .and_then(|c| to_ref(m, node(Kind::DataComponent, c))),
            })
            .collect(),
    }
}

fn strategy_view(m: &Matrix, index: u32) -> StrategyView {
    let strategy = &m.detection_strategies[index as usize];
    let analytics: Vec<AnalyticView> = m
        .analytics_of(index)
        .into_iter()
        .map(|a| analytic_view(m, a))
        .collect();
    let mut log_sources: Vec<LogSource> = Vec::new();
    for source in analytics.iter().flat_map(|a| &a.log_sources) {
        let source = LogSource {
            name: source.name.clone(),
            channel: source.channel.clone(),
        };
        if !log_sources.contains(&source) {
            log_sources.push(source);
        }
    }
    StrategyView {
        id: strategy.meta.attack_id.clone(),
        name: strategy.meta.name.clone(),
        analytics,
        log_sources,
    }
}
