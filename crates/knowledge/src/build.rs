//! Turning the raw objects of one bundle into a [`Matrix`].
//!
//! Two passes: the first files every object into its kind's table and records its STIX
//! id, the second resolves what refers to other objects (relationships, tactic order,
//! analytics, data components) now that every id is known. A reference to an object
//! the bundle lacks becomes a warning; the rest of the bundle still loads.

use crate::error::KnowledgeError;
use crate::matrix::{Matrix, ObjectCounts};
use crate::model::{
    Analytic, AnalyticLogSource, Asset, Campaign, DataComponent, DataSource, DetectionStrategy,
    Domain, Edge, Group, Kind, LogSource, Meta, Mitigation, NodeRef, RelationKind, Software,
    SoftwareKind, Status, Tactic, Technique,
};
use crate::stix::{parse_bundle, read_maybe_gzip, RawObject};
use std::collections::HashMap;
use std::path::Path;

/// Reads, parses and builds the matrix of one domain from its bundle file.
pub fn load_matrix(domain: Domain, path: &Path) -> Result<Matrix, KnowledgeError> {
    let bytes = read_maybe_gzip(path)?;
    build_matrix(domain, path, &bytes)
}

/// Builds the matrix of one domain from the bytes of its bundle (`path` names it in
/// messages).
pub fn build_matrix(domain: Domain, path: &Path, bytes: &[u8]) -> Result<Matrix, KnowledgeError> {
    let parsed = parse_bundle(path, bytes)?;
    let mut builder = Builder::new(domain);
    builder.warnings = parsed.warnings;
    let mut relationships = Vec::new();
    let mut matrices = Vec::new();
    for object in parsed.objects {
        builder.count(&object);
        match object.kind.as_str() {
            "relationship" => relationships.push(object),
            "x-mitre-matrix" => matrices.push(object),
            "x-mitre-collection" => {
                builder.matrix.version = object.x_mitre_version.clone();
                builder.matrix.spec_version = object.x_mitre_attack_spec_version.clone();
            }
            _ => builder.add_object(object),
        }
    }
    if builder.matrix.tactics.is_empty() {
        return Err(KnowledgeError::Bundle {
            path: path.to_path_buf(),
            message: "the bundle holds no ATT&CK tactics (x-mitre-tactic): is it an ATT&CK bundle?"
                .to_owned(),
        });
    }
    builder.order_tactics(&matrices);
    builder.resolve_references();
    for relationship in &relationships {
        builder.add_relationship(relationship);
    }
    builder.link_subtechniques();
    let mut matrix = builder.matrix;
    matrix.warnings = builder.warnings;
    matrix.reindex();
    Ok(matrix)
}

/// The state of a build: the matrix so far and the STIX ids seen.
struct Builder {
    matrix: Matrix,
    by_stix: HashMap<String, NodeRef>,
    /// Raw references kept until every object is known: (analytic index, refs).
    pending_analytic_refs: Vec<(u32, Vec<String>)>,
    pending_log_sources: Vec<(u32, Vec<(String, LogSource)>)>,
    pending_data_sources: Vec<(u32, String)>,
    warnings: Vec<String>,
}

impl Builder {
    fn new(domain: Domain) -> Self {
        Builder {
            matrix: Matrix::empty(domain),
            by_stix: HashMap::new(),
            pending_analytic_refs: Vec::new(),
            pending_log_sources: Vec::new(),
            pending_data_sources: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn count(&mut self, object: &RawObject) {
        let counts: &mut ObjectCounts = &mut self.matrix.counts;
        let entry = counts.objects.entry(object.kind.clone()).or_default();
        entry.total += 1;
        if !object.revoked && !object.x_mitre_deprecated {
            entry.active += 1;
        }
        if object.kind == "relationship" {
            *counts
                .relationships
                .entry(object.relationship_type.clone())
                .or_default() += 1;
        }
    }

    fn add_object(&mut self, mut object: RawObject) {
        let kind = match object.kind.as_str() {
            "x-mitre-tactic" => Kind::Tactic,
            "attack-pattern" => Kind::Technique,
            "intrusion-set" => Kind::Group,
            "campaign" => Kind::Campaign,
            "malware" | "tool" => Kind::Software,
            "course-of-action" => Kind::Mitigation,
            "x-mitre-data-source" => Kind::DataSource,
            "x-mitre-data-component" => Kind::DataComponent,
            "x-mitre-detection-strategy" => Kind::DetectionStrategy,
            "x-mitre-analytic" => Kind::Analytic,
            "x-mitre-asset" => Kind::Asset,
            // identity, marking-definition and unknown extension types carry nothing
            // Rampart uses.
            _ => return,
        };
        let meta = meta_of(&mut object);
        let m = &mut self.matrix;
        let index = match kind {
            Kind::Tactic => push(
                &mut m.tactics,
                Tactic {
                    meta,
                    shortname: object.x_mitre_shortname,
                },
            ),
            Kind::Technique => push(
                &mut m.techniques,
                Technique {
                    meta,
                    tactics: object
                        .kill_chain_phases
                        .into_iter()
                        .filter(|phase| phase.kill_chain_name.starts_with("mitre-"))
                        .map(|phase| phase.phase_name)
                        .collect(),
                    platforms: object.x_mitre_platforms,
                    is_subtechnique: object.x_mitre_is_subtechnique,
                    parent: None,
                    subtechniques: Vec::new(),
                },
            ),
            Kind::Group => {
                let aliases = aliases_without_name(&meta.name, object.aliases);
                push(&mut m.groups, Group { meta, aliases })
            }
            Kind::Campaign => {
                let aliases = aliases_without_name(&meta.name, object.aliases);
                push(
                    &mut m.campaigns,
                    Campaign {
                        meta,
                        aliases,
                        first_seen: object.first_seen,
                        last_seen: object.last_seen,
                    },
                )
            }
            Kind::Software => {
                let software_kind = if object.kind == "tool" {
                    SoftwareKind::Tool
                } else {
                    SoftwareKind::Malware
                };
                let aliases = aliases_without_name(&meta.name, object.x_mitre_aliases);
                push(
                    &mut m.software,
                    Software {
                        meta,
                        kind: software_kind,
                        aliases,
                        platforms: object.x_mitre_platforms,
                    },
                )
            }
            Kind::Mitigation => push(&mut m.mitigations, Mitigation { meta }),
            Kind::DataSource => push(
                &mut m.data_sources,
                DataSource {
                    meta,
                    platforms: object.x_mitre_platforms,
                },
            ),
            Kind::DataComponent => {
                let index = push(
                    &mut m.data_components,
                    DataComponent {
                        meta,
                        data_source: None,
                        log_sources: object
                            .x_mitre_log_sources
                            .into_iter()
                            .map(|s| LogSource {
                                name: s.name,
                                channel: s.channel,
                            })
                            .collect(),
                    },
                );
                if !object.x_mitre_data_source_ref.is_empty() {
                    self.pending_data_sources
                        .push((index, object.x_mitre_data_source_ref));
                }
                index
            }
            Kind::DetectionStrategy => {
                let index = push(
                    &mut m.detection_strategies,
                    DetectionStrategy {
                        meta,
                        analytics: Vec::new(),
                    },
                );
                self.pending_analytic_refs
                    .push((index, object.x_mitre_analytic_refs));
                index
            }
            Kind::Analytic => {
                let index = push(
                    &mut m.analytics,
                    Analytic {
                        meta,
                        platforms: object.x_mitre_platforms,
                        log_sources: Vec::new(),
                    },
                );
                let refs = object
                    .x_mitre_log_source_references
                    .into_iter()
                    .map(|r| {
                        let source = LogSource {
                            name: r.name,
                            channel: r.channel,
                        };
                        (r.x_mitre_data_component_ref, source)
                    })
                    .collect();
                self.pending_log_sources.push((index, refs));
                index
            }
            Kind::Asset => push(
                &mut m.assets,
                Asset {
                    meta,
                    platforms: object.x_mitre_platforms,
                },
            ),
        };
        self.by_stix.insert(object.id, NodeRef { kind, index });
    }

    /// Puts the tactics in matrix column order. Active matrices come first; tactics no
    /// matrix lists (deprecated ones) keep their bundle order at the end.
    fn order_tactics(&mut self, matrices: &[RawObject]) {
        let mut order: Vec<&str> = Vec::new();
        let active_first = matrices
            .iter()
            .filter(|m| !m.revoked && !m.x_mitre_deprecated)
            .chain(
                matrices
                    .iter()
                    .filter(|m| m.revoked || m.x_mitre_deprecated),
            );
        for matrix in active_first {
            for tactic_ref in &matrix.tactic_refs {
                if !order.contains(&tactic_ref.as_str()) {
                    order.push(tactic_ref);
                }
            }
        }
        let rank = |stix_id: &str| {
            order
                .iter()
                .position(|id| *id == stix_id)
                .unwrap_or(usize::MAX)
        };
        let mut tactics = std::mem::take(&mut self.matrix.tactics);
        // Stable sort: unlisted tactics keep their relative order.
        tactics.sort_by_key(|t| rank(&t.meta.stix_id));
        for (index, tactic) in tactics.iter().enumerate() {
            let node = NodeRef {
                kind: Kind::Tactic,
                index: index as u32,
            };
            self.by_stix.insert(tactic.meta.stix_id.clone(), node);
        }
        self.matrix.tactics = tactics;
        let tactic_rank: HashMap<&str, usize> = self
            .matrix
            .tactics
            .iter()
            .enumerate()
            .map(|(i, t)| (t.shortname.as_str(), i))
            .collect();
        for technique in &mut self.matrix.techniques {
            technique
                .tactics
                .sort_by_key(|t| tactic_rank.get(t.as_str()).copied().unwrap_or(usize::MAX));
            technique.tactics.dedup();
        }
    }

    fn lookup(&mut self, stix_id: &str, kind: Kind, context: &str) -> Option<u32> {
        match self.by_stix.get(stix_id) {
            Some(node) if node.kind == kind => Some(node.index),
            _ => {
                self.warnings.push(format!(
                    "{} {context}: reference to unknown {} {stix_id}",
                    self.matrix.domain,
                    kind.as_str()
                ));
                None
            }
        }
    }

    fn resolve_references(&mut self) {
        for (strategy, refs) in std::mem::take(&mut self.pending_analytic_refs) {
            let context = self.matrix.detection_strategies[strategy as usize]
                .meta
                .attack_id
                .clone();
            let analytics: Vec<u32> = refs
                .iter()
                .filter_map(|r| self.lookup(r, Kind::Analytic, &context))
                .collect();
            self.matrix.detection_strategies[strategy as usize].analytics = analytics;
        }
        for (analytic, refs) in std::mem::take(&mut self.pending_log_sources) {
            let context = self.matrix.analytics[analytic as usize]
                .meta
                .attack_id
                .clone();
            let sources: Vec<AnalyticLogSource> = refs
                .into_iter()
                .map(|(component, log_source)| AnalyticLogSource {
                    data_component: self.lookup(&component, Kind::DataComponent, &context),
                    log_source,
                })
                .collect();
            self.matrix.analytics[analytic as usize].log_sources = sources;
        }
        for (component, source) in std::mem::take(&mut self.pending_data_sources) {
            let context = self.matrix.data_components[component as usize]
                .meta
                .attack_id
                .clone();
            let data_source = self.lookup(&source, Kind::DataSource, &context);
            self.matrix.data_components[component as usize].data_source = data_source;
        }
    }

    fn add_relationship(&mut self, relationship: &RawObject) {
        // Deprecated and revoked relationships are no longer asserted by ATT&CK.
        if relationship.revoked || relationship.x_mitre_deprecated {
            return;
        }
        let Some(kind) = RelationKind::parse(&relationship.relationship_type) else {
            return;
        };
        let source = self.by_stix.get(&relationship.source_ref).copied();
        let target = self.by_stix.get(&relationship.target_ref).copied();
        match (source, target) {
            (Some(source), Some(target)) => {
                self.matrix.edges.push(Edge {
                    kind,
                    source,
                    target,
                });
                self.matrix.edge_dates.push(relationship.modified.clone());
            }
            _ => self.warnings.push(format!(
                "{} relationship {}: {} {} -> {} names an object not in the bundle",
                self.matrix.domain,
                relationship.id,
                relationship.relationship_type,
                relationship.source_ref,
                relationship.target_ref
            )),
        }
    }

    fn link_subtechniques(&mut self) {
        let links: Vec<(u32, u32)> = self
            .matrix
            .edges
            .iter()
            .filter(|e| {
                e.kind == RelationKind::SubtechniqueOf
                    && e.source.kind == Kind::Technique
                    && e.target.kind == Kind::Technique
            })
            .map(|e| (e.source.index, e.target.index))
            .collect();
        let techniques = &mut self.matrix.techniques;
        for (child, parent) in links {
            techniques[child as usize].parent = Some(parent);
            techniques[parent as usize].subtechniques.push(child);
        }
        let ids: Vec<String> = techniques
            .iter()
            .map(|t| t.meta.attack_id.clone())
            .collect();
        for technique in techniques.iter_mut() {
            technique
                .subtechniques
                .sort_by(|a, b| ids[*a as usize].cmp(&ids[*b as usize]));
        }
    }
}

fn push<T>(table: &mut Vec<T>, item: T) -> u32 {
    table.push(item);
    (table.len() - 1) as u32
}

/// The common part of an object; its text is moved out rather than copied (the raw
/// object is dropped right after).
fn meta_of(object: &mut RawObject) -> Meta {
    let reference = object.attack_reference();
    let attack_id = reference
        .and_then(|r| r.external_id.clone())
        .unwrap_or_default();
    let url = reference.and_then(|r| r.url.clone());
    Meta {
        stix_id: object.id.clone(),
        attack_id,
        name: std::mem::take(&mut object.name),
        description: std::mem::take(&mut object.description),
        url,
        status: if object.revoked {
            Status::Revoked
        } else if object.x_mitre_deprecated {
            Status::Deprecated
        } else {
            Status::Active
        },
        modified: std::mem::take(&mut object.modified),
    }
}

fn aliases_without_name(name: &str, aliases: Vec<String>) -> Vec<String> {
    aliases.into_iter().filter(|alias| alias != name).collect()
}
