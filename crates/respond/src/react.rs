//! RE&CT: the incident-response actions, stages and playbooks of the ATC project
//! (`response_actions/RA_NNNN_*.yml`, `response_stages/RSNNNN.yml`,
//! `response_playbooks/RP_NNNN_*.yml`).
//!
//! Playbook steps name a RE&CT stage and, optionally, a response action; the linter
//! checks both exist and agree, and the plan lists the actions matching each
//! countermeasure ([`d3fend_actions`]) and the RE&CT playbooks tagged with the
//! incident's techniques. A broken file is a warning and the rest load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::RespondError;

/// The RE&CT stages, in response order, as playbook steps write them.
pub const STAGES: [&str; 6] = [
    "preparation",
    "identification",
    "containment",
    "eradication",
    "recovery",
    "lessons_learned",
];

/// Which RE&CT response actions carry out a D3FEND technique: RE&CT names actions by
/// what they do to what (block an IP, lock an account), D3FEND by the same; neither
/// project maps to the other, so this small table does. Only techniques with a clear
/// RE&CT counterpart are listed (RE&CT has no host isolation or process kill, for
/// instance); the rest have none.
pub const D3FEND_TO_REACT: &[(&str, &[&str])] = &[
    // Isolate.
    ("D3-NI", &["RA3102", "RA3108", "RA3110"]),
    ("D3-OTF", &["RA3101", "RA3105", "RA3107", "RA3109"]),
    ("D3-ITF", &["RA3101", "RA3102"]),
    ("D3-DNSDL", &["RA3103", "RA3104"]),
    (
        "D3-EDL",
        &["RA3401", "RA3402", "RA3403", "RA3404", "RA3405"],
    ),
    ("D3-EAL", &["RA3401", "RA3403"]),
    // Evict.
    ("D3-AL", &["RA3601"]),
    ("D3-CR", &["RA4601"]),
    ("D3-FEV", &["RA3301", "RA3302", "RA3303", "RA4301"]),
    ("D3-ER", &["RA3203", "RA4201"]),
    // Restore.
    ("D3-ULA", &["RA5601", "RA5105"]),
    ("D3-RUAA", &["RA5601", "RA5105"]),
    ("D3-RNA", &["RA5101", "RA5102", "RA5103", "RA5104"]),
    ("D3-RF", &["RA5301", "RA5002"]),
    ("D3-RDI", &["RA5001"]),
    ("D3-RS", &["RA5001"]),
    ("D3-RE", &["RA5203"]),
];

/// The RE&CT response actions [`D3FEND_TO_REACT`] gives for a D3FEND id (empty: none).
pub fn d3fend_actions(d3fend_id: &str) -> &'static [&'static str] {
    D3FEND_TO_REACT
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(d3fend_id.trim()))
        .map(|(_, actions)| *actions)
        .unwrap_or(&[])
}

/// One response action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactAction {
    /// `RA3601`.
    pub id: String,
    /// The file's title, e.g. `RA_3601_lock_user_account`.
    pub title: String,
    /// Words from the title: `lock user account`.
    pub name: String,
    /// Its stage (`containment`).
    pub stage: String,
    /// What it is.
    pub description: String,
}

/// One response stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactStage {
    /// `RS0003`.
    pub id: String,
    /// `Containment`.
    pub title: String,
    /// As steps write it: `containment`, `lessons_learned`.
    pub name: String,
    /// What it is for.
    pub description: String,
}

/// One RE&CT playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactPlaybook {
    /// `RP0001`.
    pub id: String,
    /// `RP_0001_phishing_email`.
    pub title: String,
    /// What it is for.
    pub description: String,
    /// ATT&CK technique ids from its tags, upper-case.
    pub techniques: Vec<String>,
    /// Its response actions by stage.
    pub stages: BTreeMap<String, Vec<String>>,
}

/// RE&CT as loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct React {
    actions: BTreeMap<String, ReactAction>,
    stages: Vec<ReactStage>,
    playbooks: Vec<ReactPlaybook>,
    /// Files passed over, and why.
    pub warnings: Vec<String>,
}

#[derive(Deserialize)]
struct RawAction {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
    stage: String,
}

#[derive(Deserialize)]
struct RawStage {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
struct RawPlaybook {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_yaml::Value>,
}

/// The largest RE&CT file read; upstream's are a few KiB.
const MAX_FILE_BYTES: u64 = 256 * 1024;

impl React {
    /// Reads RE&CT from its folder (the one holding `response_actions/` and
    /// `response_stages/`; `response_playbooks/` is optional).
    pub fn from_dir(dir: &Path) -> Result<React, RespondError> {
        let mut react = React::default();
        for (path, text) in yaml_files(&dir.join("response_actions"), &mut react.warnings)? {
            match serde_yaml::from_str::<RawAction>(&text) {
                Ok(raw) => {
                    let name = words_of_title(&raw.title);
                    react.actions.insert(
                        raw.id.clone(),
                        ReactAction {
                            id: raw.id,
                            title: raw.title,
                            name,
                            stage: raw.stage.trim().to_ascii_lowercase(),
                            description: raw.description.trim().to_owned(),
                        },
                    );
                }
                Err(error) => react.warnings.push(format!("{}: {error}", path.display())),
            }
        }
        for (path, text) in yaml_files(&dir.join("response_stages"), &mut react.warnings)? {
            match serde_yaml::from_str::<RawStage>(&text) {
                Ok(raw) => react.stages.push(ReactStage {
                    name: raw.title.trim().to_ascii_lowercase().replace(' ', "_"),
                    id: raw.id,
                    title: raw.title,
                    description: raw.description.trim().to_owned(),
                }),
                Err(error) => react.warnings.push(format!("{}: {error}", path.display())),
            }
        }
        react.stages.sort_by(|a, b| a.id.cmp(&b.id));
        let playbooks_dir = dir.join("response_playbooks");
        if playbooks_dir.is_dir() {
            for (path, text) in yaml_files(&playbooks_dir, &mut react.warnings)? {
                match serde_yaml::from_str::<RawPlaybook>(&text) {
                    Ok(raw) => react.playbooks.push(playbook_of(raw)),
                    Err(error) => react.warnings.push(format!("{}: {error}", path.display())),
                }
            }
        }
        Ok(react)
    }

    /// The action with this id (`RA3601`).
    pub fn action(&self, id: &str) -> Option<&ReactAction> {
        self.actions.get(id.trim())
    }

    /// Every action, by id.
    pub fn actions(&self) -> impl Iterator<Item = &ReactAction> {
        self.actions.values()
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[ReactStage] {
        &self.stages
    }

    /// The stage as steps write it (`containment`).
    pub fn stage(&self, name: &str) -> Option<&ReactStage> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// The RE&CT playbooks.
    pub fn playbooks(&self) -> &[ReactPlaybook] {
        &self.playbooks
    }

    /// The RE&CT playbooks tagged with `technique` or its parent (`T1566.001` is
    /// answered by a playbook tagged `T1566.001` or `T1566`), or with a sub-technique
    /// of `technique`.
    pub fn playbooks_for(&self, technique: &str) -> Vec<&ReactPlaybook> {
        let technique = technique.trim().to_ascii_uppercase();
        let parent = technique.split('.').next().unwrap_or(&technique).to_owned();
        self.playbooks
            .iter()
            .filter(|p| {
                p.techniques.iter().any(|t| {
                    *t == technique || *t == parent || t.split('.').next() == Some(&technique)
                })
            })
            .collect()
    }
}

/// `RA_3601_lock_user_account` → `lock user account`.
fn words_of_title(title: &str) -> String {
    let mut parts = title.splitn(3, '_');
    let (Some(_), Some(_), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return title.to_owned();
    };
    rest.replace('_', " ")
}

/// `RA_3601_lock_user_account` → `RA3601`.
fn action_id_of_title(title: &str) -> String {
    let mut parts = title.trim().splitn(3, '_');
    match (parts.next(), parts.next()) {
        (Some(prefix), Some(number)) => format!("{prefix}{number}"),
        _ => title.trim().to_owned(),
    }
}

fn playbook_of(raw: RawPlaybook) -> ReactPlaybook {
    let techniques = raw
        .tags
        .iter()
        .filter_map(|tag| tag.trim().strip_prefix("attack."))
        .filter(|id| {
            id.starts_with(['t', 'T']) && id[1..].starts_with(|c: char| c.is_ascii_digit())
        })
        .map(str::to_ascii_uppercase)
        .collect();
    let stages = STAGES
        .iter()
        .filter_map(|stage| {
            let list = raw.rest.get(*stage)?.as_sequence()?;
            let ids = list
                .iter()
                .filter_map(|v| v.as_str())
                .map(action_id_of_title)
                .collect();
            Some(((*stage).to_owned(), ids))
        })
        .collect();
    ReactPlaybook {
        id: raw.id,
        title: raw.title,
        description: raw.description.trim().to_owned(),
        techniques,
        stages,
    }
}

/// The `*.yml` files of a folder with their text, sorted; unreadable or oversized files
/// are warnings, an unreadable folder an error.
fn yaml_files(
    dir: &Path,
    warnings: &mut Vec<String>,
) -> Result<Vec<(PathBuf, String)>, RespondError> {
    let entries = std::fs::read_dir(dir).map_err(|source| RespondError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() && meta.len() <= MAX_FILE_BYTES => {}
            Ok(_) => {
                warnings.push(format!(
                    "{}: not a regular file of at most {MAX_FILE_BYTES} bytes",
                    path.display()
                ));
                continue;
            }
            Err(error) => {
                warnings.push(format!("{}: {error}", path.display()));
                continue;
            }
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push((path, text)),
            Err(error) => warnings.push(format!("{}: {error}", path.display())),
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_give_ids_and_words() {
        assert_eq!(action_id_of_title("RA_3601_lock_user_account"), "RA3601");
        assert_eq!(
            words_of_title("RA_3601_lock_user_account"),
            "lock user account"
        );
        assert_eq!(d3fend_actions("d3-al"), ["RA3601"]);
        assert!(d3fend_actions("D3-PSA").is_empty());
    }
}
