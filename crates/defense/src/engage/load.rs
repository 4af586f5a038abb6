//! ENGAGE's JSON files → [`Engage`].
//!
//! The summary lists (`goals.json`, …) give names and descriptions; the `*_details.json`
//! objects add types and cross-links; `attack_mapping.json` is the ATT&CK mapping.
//! Unknown fields are ignored so that a newer ENGAGE release with extra keys still loads.

use super::{Activity, Approach, AttackMapping, Engage, Goal, Vulnerability};
use crate::DefenseError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

#[derive(Deserialize)]
struct Summary {
    id: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    long_description: String,
}

#[derive(Deserialize, Default)]
struct Details {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    goals: Vec<String>,
    #[serde(default)]
    approaches: Vec<String>,
    #[serde(default)]
    activities: Vec<String>,
    #[serde(default)]
    vulnerabilities: Vec<VulnerabilityRecord>,
}

#[derive(Deserialize)]
struct VulnerabilityRecord {
    id: String,
    #[serde(default)]
    eav: String,
}

#[derive(Deserialize)]
struct MappingRecord {
    attack_id: String,
    #[serde(default)]
    attack_technique: String,
    eav_id: String,
    #[serde(default)]
    eav: String,
    eac_id: String,
}

/// The `*_details.json` files are objects keyed by id whose values are mostly records,
/// but `activity_details.json` mixes in extra keys (per-vulnerability tactic lists), so
/// each value is read leniently and non-records are skipped.
fn read_details(dir: &Path, file: &str) -> Result<HashMap<String, Details>, DefenseError> {
    let raw: BTreeMap<String, serde_json::Value> = read_json(dir, file)?;
    Ok(raw
        .into_iter()
        .filter_map(|(id, value)| {
            serde_json::from_value::<Details>(value)
                .ok()
                .map(|details| (id, details))
        })
        .collect())
}

fn read_json<T: DeserializeOwned>(dir: &Path, file: &str) -> Result<T, DefenseError> {
    let path = dir.join(file);
    let bytes = std::fs::read(&path).map_err(|e| DefenseError::io(&path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| DefenseError::json(&path, &e))
}

pub(super) fn from_dir(dir: &Path) -> Result<Engage, DefenseError> {
    let goal_details = read_details(dir, "goal_details.json")?;
    let approach_details = read_details(dir, "approach_details.json")?;
    let activity_details = read_details(dir, "activity_details.json")?;
    let empty = Details::default();

    let mut goals: Vec<Goal> = read_json::<Vec<Summary>>(dir, "goals.json")?
        .into_iter()
        .map(|s| {
            let d = goal_details.get(&s.id).unwrap_or(&empty);
            Goal {
                kind: kind_of(&s.id, &d.kind),
                approaches: d.approaches.clone(),
                id: s.id,
                name: s.name,
                description: s.description,
            }
        })
        .collect();
    goals.sort_by(|a, b| a.id.cmp(&b.id));

    let mut approaches: Vec<Approach> = read_json::<Vec<Summary>>(dir, "approaches.json")?
        .into_iter()
        .map(|s| {
            let d = approach_details.get(&s.id).unwrap_or(&empty);
            Approach {
                kind: kind_of(&s.id, &d.kind),
                goals: d.goals.clone(),
                activities: d.activities.clone(),
                id: s.id,
                name: s.name,
                description: s.description,
            }
        })
        .collect();
    approaches.sort_by(|a, b| a.id.cmp(&b.id));

    let mut vulnerabilities: BTreeMap<String, String> = BTreeMap::new();
    let mut activities: Vec<Activity> = read_json::<Vec<Summary>>(dir, "activities.json")?
        .into_iter()
        .map(|s| {
            let d = activity_details.get(&s.id).unwrap_or(&empty);
            for v in &d.vulnerabilities {
                vulnerabilities
                    .entry(v.id.clone())
                    .or_insert_with(|| v.eav.clone());
            }
            Activity {
                kind: kind_of(&s.id, &d.kind),
                goals: d.goals.clone(),
                approaches: d.approaches.clone(),
                vulnerabilities: d
                    .vulnerabilities
                    .iter()
                    .map(|v| Vulnerability {
                        id: v.id.clone(),
                        description: v.eav.clone(),
                    })
                    .collect(),
                id: s.id,
                name: s.name,
                description: s.description,
                long_description: s.long_description,
            }
        })
        .collect();
    activities.sort_by(|a, b| a.id.cmp(&b.id));

    let records: Vec<MappingRecord> = read_json(dir, "attack_mapping.json")?;
    let mut mappings = Vec::with_capacity(records.len());
    for r in records {
        vulnerabilities
            .entry(r.eav_id.clone())
            .or_insert_with(|| r.eav.clone());
        mappings.push(AttackMapping {
            attack_id: r.attack_id.trim().to_ascii_uppercase(),
            attack_name: r.attack_technique,
            vulnerability_id: r.eav_id,
            activity_id: r.eac_id,
        });
    }
    if activities.is_empty() || mappings.is_empty() {
        return Err(DefenseError::invalid(
            dir,
            "ENGAGE data holds no activities or no ATT&CK mapping",
        ));
    }

    Ok(Engage {
        goals,
        approaches,
        activities,
        vulnerabilities: vulnerabilities
            .into_iter()
            .map(|(id, description)| Vulnerability { id, description })
            .collect(),
        mappings,
    })
}

/// ENGAGE's `type` field; when a details record is missing, the id prefix says it
/// (`E…` engagement, `S…` strategic).
fn kind_of(id: &str, stated: &str) -> String {
    if !stated.is_empty() {
        stated.to_owned()
    } else if id.starts_with('S') {
        "Strategic".to_owned()
    } else {
        "Engagement".to_owned()
    }
}
