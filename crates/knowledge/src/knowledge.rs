//! [`Knowledge`]: the three ATT&CK domains joined with D3FEND and ENGAGE.
//!
//! ATT&CK Enterprise is required (everything downstream speaks Enterprise technique
//! ids); Mobile, ICS, D3FEND and ENGAGE are optional and degrade to "nothing known"
//! with a warning, so a partial data directory still answers what it can.

use crate::build::load_matrix;
use crate::error::KnowledgeError;
use crate::matrix::Matrix;
use crate::model::{Domain, Kind, NodeRef, RelationKind};
use rampart_defense::d3fend::{Countermeasure, Ontology};
use rampart_defense::engage::{Engage, EngageMapping};
use rampart_refdata::DataFiles;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The whole knowledge graph: ATT&CK per domain, D3FEND and ENGAGE.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Knowledge {
    enterprise: Matrix,
    mobile: Option<Matrix>,
    ics: Option<Matrix>,
    d3fend: Option<Ontology>,
    engage: Option<Engage>,
    warnings: Vec<String>,
}

/// An object found in the graph: which domain, which object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hit {
    /// The domain holding it.
    pub domain: Domain,
    /// The object.
    pub node: NodeRef,
}

impl Knowledge {
    /// Builds the graph from the files found in a data directory (no cache).
    ///
    /// Fails only when the Enterprise bundle is missing or unreadable. Domains load
    /// independently: a broken Mobile or ICS bundle becomes a warning and that domain is
    /// absent, as a missing or broken D3FEND/ENGAGE source becomes a warning and an
    /// empty answer for countermeasures/activities.
    pub fn from_files(files: &DataFiles) -> Result<Knowledge, KnowledgeError> {
        let enterprise_path =
            files
                .enterprise
                .as_deref()
                .ok_or_else(|| KnowledgeError::MissingEnterprise {
                    dir: files.root.clone(),
                })?;
        // The bundles are independent; parse them side by side.
        std::thread::scope(|scope| {
            let mobile = scope.spawn(|| optional_matrix(Domain::Mobile, files.mobile.as_deref()));
            let ics = scope.spawn(|| optional_matrix(Domain::Ics, files.ics.as_deref()));
            let defense = scope.spawn(|| load_defense(files));
            let enterprise = load_matrix(Domain::Enterprise, enterprise_path)?;
            let panicked = |what: &str| KnowledgeError::Bundle {
                path: files.root.clone(),
                message: format!("loading {what} failed unexpectedly (loader thread panicked)"),
            };
            let (mobile, mobile_warning) = mobile.join().map_err(|_| panicked("ATT&CK Mobile"))?;
            let (ics, ics_warning) = ics.join().map_err(|_| panicked("ATT&CK ICS"))?;
            let defense = defense.join().map_err(|_| panicked("D3FEND/ENGAGE"))?;
            let mut warnings: Vec<String> = mobile_warning.into_iter().chain(ics_warning).collect();
            for matrix in [Some(&enterprise), mobile.as_ref(), ics.as_ref()]
                .into_iter()
                .flatten()
            {
                warnings.extend(matrix.warnings.iter().cloned());
            }
            warnings.extend(defense.warnings);
            Ok(Knowledge {
                enterprise,
                mobile,
                ics,
                d3fend: defense.d3fend,
                engage: defense.engage,
                warnings,
            })
        })
    }

    /// Re-derives the lookup indices after deserialisation (the cache stores data only).
    pub(crate) fn reindex(&mut self) {
        self.enterprise.reindex();
        for matrix in [self.mobile.as_mut(), self.ics.as_mut()]
            .into_iter()
            .flatten()
        {
            matrix.reindex();
        }
    }

    /// The Enterprise matrix (always present).
    pub fn enterprise(&self) -> &Matrix {
        &self.enterprise
    }

    /// A domain's matrix, when its bundle was found.
    pub fn matrix(&self, domain: Domain) -> Option<&Matrix> {
        match domain {
            Domain::Enterprise => Some(&self.enterprise),
            Domain::Mobile => self.mobile.as_ref(),
            Domain::Ics => self.ics.as_ref(),
        }
    }

    /// The loaded matrices, Enterprise first.
    pub fn matrices(&self) -> impl Iterator<Item = &Matrix> {
        [
            Some(&self.enterprise),
            self.mobile.as_ref(),
            self.ics.as_ref(),
        ]
        .into_iter()
        .flatten()
    }

    /// The D3FEND ontology, when it was found and parsed.
    pub fn d3fend(&self) -> Option<&Ontology> {
        self.d3fend.as_ref()
    }

    /// ENGAGE, when it was found and parsed.
    pub fn engage(&self) -> Option<&Engage> {
        self.engage.as_ref()
    }

    /// What went wrong without stopping the load (missing optional sources, objects
    /// skipped, dangling references).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The matrix a hit belongs to.
    pub fn matrix_of(&self, hit: Hit) -> &Matrix {
        self.matrix(hit.domain).unwrap_or(&self.enterprise)
    }

    /// The ATT&CK ids an object is known by: its own, and those of the objects it
    /// revoked (D3FEND and ENGAGE may still name a technique by an older id).
    fn ids_of(&self, hit: Hit) -> Vec<String> {
        let matrix = self.matrix_of(hit);
        let mut ids: Vec<String> = matrix
            .meta(hit.node)
            .map(|m| m.attack_id.clone())
            .into_iter()
            .collect();
        for &(kind, source) in matrix.incoming(hit.node) {
            if kind == RelationKind::RevokedBy {
                if let Some(meta) = matrix.meta(source) {
                    ids.push(meta.attack_id.clone());
                }
            }
        }
        ids.retain(|id| !id.is_empty());
        ids
    }

    /// The D3FEND countermeasures of an ATT&CK technique, inferred through the digital
    /// artifacts both sides act on (empty when D3FEND is not loaded). Ids the
    /// technique revoked are asked too, since D3FEND imports an older ATT&CK.
    pub fn countermeasures(&self, hit: Hit) -> Vec<Countermeasure> {
        let (Some(ontology), Kind::Technique) = (&self.d3fend, hit.node.kind) else {
            return Vec::new();
        };
        let mut found: Vec<Countermeasure> = Vec::new();
        for id in self.ids_of(hit) {
            for countermeasure in ontology.countermeasures(&id) {
                if !found.contains(&countermeasure) {
                    found.push(countermeasure);
                }
            }
            if !found.is_empty() {
                break;
            }
        }
        found
    }

    /// The distinct D3FEND countermeasures of a technique: one entry per D3FEND
    /// technique, holding every artifact path that links it (most direct first), in
    /// the order of [`Knowledge::countermeasures`].
    ///
    /// This is what "a countermeasure" means wherever one is counted (`attack show`,
    /// the enriched alert, the incident view): the inference yields one row per
    /// artifact path, so counting rows would count `D3-PSA` once per artifact it shares
    /// with the technique (T1003.001: 93 paths, 66 countermeasures).
    pub fn distinct_countermeasures(&self, hit: Hit) -> Vec<Vec<Countermeasure>> {
        let mut distinct: Vec<Vec<Countermeasure>> = Vec::new();
        for countermeasure in self.countermeasures(hit) {
            let same = |paths: &&mut Vec<Countermeasure>| {
                paths.first().is_some_and(|c| c.id == countermeasure.id)
            };
            match distinct.iter_mut().find(same) {
                Some(paths) => paths.push(countermeasure),
                None => distinct.push(vec![countermeasure]),
            }
        }
        distinct
    }

    /// The ENGAGE activities answering an ATT&CK technique, with the adversary
    /// vulnerability linking each (empty when ENGAGE is not loaded).
    pub fn engage_activities(&self, hit: Hit) -> Vec<EngageMapping> {
        let (Some(engage), Kind::Technique) = (&self.engage, hit.node.kind) else {
            return Vec::new();
        };
        let mut found: Vec<EngageMapping> = Vec::new();
        for id in self.ids_of(hit) {
            for mapping in engage.activities_for(&id) {
                if !found.contains(&mapping) {
                    found.push(mapping);
                }
            }
        }
        found
    }
}

/// D3FEND and ENGAGE as loaded, with the warnings about what is missing.
#[derive(Debug, Default)]
struct Defense {
    d3fend: Option<Ontology>,
    engage: Option<Engage>,
    warnings: Vec<String>,
}

/// A Mobile or ICS matrix, or the warning saying why the domain is left out: one broken
/// bundle must not take the other domains down with it.
fn optional_matrix(domain: Domain, path: Option<&Path>) -> (Option<Matrix>, Option<String>) {
    match path.map(|p| load_matrix(domain, p)) {
        None => (None, None),
        Some(Ok(matrix)) => (Some(matrix), None),
        Some(Err(error)) => (
            None,
            Some(format!(
                "ATT&CK {} not loaded, its lookups are unavailable: {}",
                domain.as_str(),
                rampart_event::error_chain(&error)
            )),
        ),
    }
}

fn load_defense(files: &DataFiles) -> Defense {
    let mut defense = Defense::default();
    match files.d3fend_ttl.as_deref() {
        Some(path) => match Ontology::from_ttl_file(path) {
            Ok(ontology) => defense.d3fend = Some(ontology),
            Err(error) => defense.warnings.push(format!(
                "D3FEND not loaded, countermeasures unavailable: {}",
                rampart_event::error_chain(&error)
            )),
        },
        None => defense.warnings.push(format!(
            "no D3FEND ontology (d3fend*.ttl) in {}: countermeasures unavailable",
            files.root.display()
        )),
    }
    match files.engage_dir.as_deref() {
        Some(dir) => match Engage::from_dir(dir) {
            Ok(engage) => defense.engage = Some(engage),
            Err(error) => defense.warnings.push(format!(
                "ENGAGE not loaded, engagement activities unavailable: {}",
                rampart_event::error_chain(&error)
            )),
        },
        None => defense.warnings.push(format!(
            "no ENGAGE data (attack_mapping.json, activities.json) in {}: engagement activities unavailable",
            files.root.display()
        )),
    }
    defense
}
