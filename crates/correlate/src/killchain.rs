//! The ATT&CK matrix order of tactics, and which tactics a technique serves.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One tactic of the matrix, in the order the matrix lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tactic {
    /// ATT&CK shortname, as rule tags write it (`credential-access`).
    pub shortname: String,
    /// ATT&CK id (`TA0006`), when known.
    pub id: Option<String>,
    /// Display name (`Credential Access`), when known.
    pub name: Option<String>,
}

/// The kill chain an incident is laid out on: tactics in matrix order, plus the
/// technique → tactics map used when a rule tags a technique but not its tactic.
///
/// It is plain data, built by the caller from the knowledge graph, so this crate does
/// not have to load ATT&CK itself and tests can build a small one.
#[derive(Debug, Clone, Default)]
pub struct KillChain {
    tactics: Vec<Tactic>,
    position: HashMap<String, usize>,
    technique_tactics: HashMap<String, Vec<String>>,
}

impl KillChain {
    /// A kill chain over `tactics`, given in matrix order.
    pub fn new(tactics: Vec<Tactic>) -> Self {
        let position = tactics
            .iter()
            .enumerate()
            .map(|(index, tactic)| (tactic.shortname.clone(), index))
            .collect();
        KillChain {
            tactics,
            position,
            technique_tactics: HashMap::new(),
        }
    }

    /// Records the tactic shortnames of a technique (`T1003.001` → `credential-access`).
    pub fn add_technique(&mut self, technique: &str, tactics: Vec<String>) {
        self.technique_tactics
            .insert(technique.to_ascii_uppercase(), tactics);
    }

    /// The tactics, in matrix order.
    pub fn tactics(&self) -> &[Tactic] {
        &self.tactics
    }

    /// The matrix position of a tactic shortname; unknown tactics have none.
    pub fn position(&self, shortname: &str) -> Option<usize> {
        self.position.get(shortname).copied()
    }

    /// The tactic with this shortname.
    pub fn tactic(&self, shortname: &str) -> Option<&Tactic> {
        self.position(shortname).map(|index| &self.tactics[index])
    }

    /// The tactics a technique serves; a sub-technique falls back to its parent's.
    pub fn tactics_of(&self, technique: &str) -> &[String] {
        let id = technique.to_ascii_uppercase();
        if let Some(tactics) = self.technique_tactics.get(&id) {
            return tactics;
        }
        id.split_once('.')
            .and_then(|(parent, _)| self.technique_tactics.get(parent))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Sorts tactic shortnames into matrix order (unknown ones last, by name) and
    /// removes duplicates.
    pub fn sort_tactics(&self, tactics: &mut Vec<String>) {
        tactics.sort_by(|a, b| {
            let key = |t: &String| (self.position(t).unwrap_or(usize::MAX), t.clone());
            key(a).cmp(&key(b))
        });
        tactics.dedup();
    }

    /// The earliest matrix position among a technique's tactics.
    pub fn technique_position(&self, technique: &str) -> Option<usize> {
        self.tactics_of(technique)
            .iter()
            .filter_map(|t| self.position(t))
            .min()
    }
}
