//! MITRE ENGAGE: engagement goals, approaches and activities, and the ATT&CK mapping
//! (ATT&CK technique → adversary vulnerability → engagement activity).
//!
//! Built from ENGAGE's published JSON files; the model keeps ENGAGE's ids (`EGO…`,
//! `EAP…`, `EAC…`, `EAV…`) and leaves ATT&CK ids as plain strings, because ENGAGE's
//! mapping predates current ATT&CK and the knowledge crate resolves renamed ids.

mod load;

use crate::DefenseError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// An ENGAGE goal (`EGO0001` Expose, … or a strategic `SGO…` goal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goal {
    /// The id, e.g. `EGO0001`.
    pub id: String,
    /// The name, e.g. `Expose`.
    pub name: String,
    /// One-sentence description.
    pub description: String,
    /// `Engagement` or `Strategic`.
    pub kind: String,
    /// The approaches serving this goal (`EAP…` ids).
    pub approaches: Vec<String>,
}

/// An ENGAGE approach (`EAP0001` Collect, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approach {
    /// The id, e.g. `EAP0001`.
    pub id: String,
    /// The name, e.g. `Collect`.
    pub name: String,
    /// One-sentence description.
    pub description: String,
    /// `Engagement` or `Strategic`.
    pub kind: String,
    /// The goals it serves (`EGO…` ids).
    pub goals: Vec<String>,
    /// The activities that carry it out (`EAC…` ids).
    pub activities: Vec<String>,
}

/// An adversary vulnerability (`EAV…`): a weakness in adversary behaviour an activity
/// exploits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vulnerability {
    /// The id, e.g. `EAV0016`.
    pub id: String,
    /// The statement of the vulnerability.
    pub description: String,
}

/// An ENGAGE activity (`EAC0001` API Monitoring, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// The id, e.g. `EAC0001`.
    pub id: String,
    /// The name, e.g. `API Monitoring`.
    pub name: String,
    /// One-sentence description.
    pub description: String,
    /// The longer explanation (may contain simple HTML such as `<br>`).
    pub long_description: String,
    /// `Engagement` or `Strategic`.
    pub kind: String,
    /// The goals it serves.
    pub goals: Vec<String>,
    /// The approaches it belongs to.
    pub approaches: Vec<String>,
    /// The adversary vulnerabilities it exploits.
    pub vulnerabilities: Vec<Vulnerability>,
}

/// One row of ENGAGE's ATT&CK mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackMapping {
    /// The ATT&CK id as ENGAGE wrote it, e.g. `T1001`.
    pub attack_id: String,
    /// The ATT&CK technique's name as ENGAGE wrote it.
    pub attack_name: String,
    /// The adversary vulnerability linking the two.
    pub vulnerability_id: String,
    /// The engagement activity.
    pub activity_id: String,
}

/// An engagement activity answering an ATT&CK technique, with the adversary
/// vulnerability that links them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngageMapping {
    /// The activity id, e.g. `EAC0014`.
    pub activity_id: String,
    /// The activity name, e.g. `Software Manipulation`.
    pub activity_name: String,
    /// The vulnerability id, e.g. `EAV0016`.
    pub vulnerability_id: String,
    /// The statement of the vulnerability.
    pub vulnerability: String,
}

/// The ENGAGE knowledge base.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Engage {
    goals: Vec<Goal>,
    approaches: Vec<Approach>,
    activities: Vec<Activity>,
    vulnerabilities: Vec<Vulnerability>,
    mappings: Vec<AttackMapping>,
}

impl Engage {
    /// Reads ENGAGE from the folder holding its JSON files (`goals.json`,
    /// `approaches.json`, `activities.json`, `activity_details.json`,
    /// `approach_details.json`, `goal_details.json`, `attack_mapping.json`).
    pub fn from_dir(dir: &Path) -> Result<Engage, DefenseError> {
        load::from_dir(dir)
    }

    /// The engagement activities answering an ATT&CK technique (`T1001`, any case),
    /// one per (activity, vulnerability), sorted by activity then vulnerability id.
    /// A sub-technique ENGAGE does not list inherits its parent's activities.
    pub fn activities_for(&self, attack_id: &str) -> Vec<EngageMapping> {
        let wanted = attack_id.trim().to_ascii_uppercase();
        let mut rows = self.mapping_rows(&wanted);
        if rows.is_empty() {
            if let Some((parent, _)) = wanted.split_once('.') {
                rows = self.mapping_rows(parent);
            }
        }
        let mut out: Vec<EngageMapping> = rows
            .into_iter()
            .map(|row| EngageMapping {
                activity_id: row.activity_id.clone(),
                activity_name: self
                    .activity(&row.activity_id)
                    .map(|a| a.name.clone())
                    .unwrap_or_default(),
                vulnerability_id: row.vulnerability_id.clone(),
                vulnerability: self
                    .vulnerability(&row.vulnerability_id)
                    .map(|v| v.description.clone())
                    .unwrap_or_default(),
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.activity_id, &a.vulnerability_id).cmp(&(&b.activity_id, &b.vulnerability_id))
        });
        out.dedup();
        out
    }

    fn mapping_rows(&self, upper_id: &str) -> Vec<&AttackMapping> {
        self.mappings
            .iter()
            .filter(|m| m.attack_id.eq_ignore_ascii_case(upper_id))
            .collect()
    }

    /// An activity by id (`EAC0001`, any case).
    pub fn activity(&self, id: &str) -> Option<&Activity> {
        self.activities
            .iter()
            .find(|a| a.id.eq_ignore_ascii_case(id.trim()))
    }

    /// An adversary vulnerability by id (`EAV0016`, any case).
    pub fn vulnerability(&self, id: &str) -> Option<&Vulnerability> {
        self.vulnerabilities
            .iter()
            .find(|v| v.id.eq_ignore_ascii_case(id.trim()))
    }

    /// Every goal, in id order.
    pub fn goals(&self) -> &[Goal] {
        &self.goals
    }

    /// Every approach, in id order.
    pub fn approaches(&self) -> &[Approach] {
        &self.approaches
    }

    /// Every activity, in id order.
    pub fn activities(&self) -> &[Activity] {
        &self.activities
    }

    /// Every adversary vulnerability, in id order.
    pub fn vulnerabilities(&self) -> &[Vulnerability] {
        &self.vulnerabilities
    }

    /// The whole ATT&CK mapping, in file order.
    pub fn attack_mappings(&self) -> &[AttackMapping] {
        &self.mappings
    }
}
