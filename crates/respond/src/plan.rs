//! What to do about an incident: the D3FEND countermeasures answering its techniques,
//! grouped by D3FEND tactic and ranked, with ATT&CK mitigations and RE&CT response
//! actions; each marked runnable when a loaded playbook has a step carrying it out.
//!
//! - Countermeasures come from D3FEND's inference (`Knowledge::countermeasures`: the
//!   artifacts both techniques act on), for the incident's techniques and for its
//!   likely next ones.
//! - Groups, in response order: Isolate, Evict, Restore (what to do now), Deceive
//!   (ENGAGE activities answering the techniques, from ENGAGE's ATT&CK mapping), then
//!   Detect and Harden (what to do next: make the next attempt seen or fail), then any
//!   other D3FEND tactic (Model).
//! - Within a group, countermeasures rank by how many of the incident's techniques
//!   they answer, then by how many of its likely next techniques, then by id. Each
//!   group is cut to [`PlanOptions::per_group`]; what was cut is counted.
//! - A countermeasure is *runnable* when a loaded playbook has a step whose `d3fend`
//!   id is the countermeasure's (its compensations count for Restore); otherwise it is
//!   *advice*.
//! - RE&CT actions come from a small table (`react::D3FEND_TO_REACT`), RE&CT
//!   playbooks from their ATT&CK tags.
//!
//! The function is pure over its inputs, so the CLI (`rampart respond plan`) and the
//! service share it.

use std::collections::{BTreeMap, BTreeSet};

use rampart_correlate::{Incident, NextTechnique};
use rampart_knowledge::{Hit, Kind, Knowledge, NodeRef};
use serde::Serialize;

use crate::playbook::trigger::technique_answers;
use crate::playbook::Playbook;
use crate::react::{d3fend_actions, React};

/// D3FEND tactics in the order a plan lists them, and what each is for.
const TACTIC_ORDER: &[(&str, Purpose)] = &[
    ("Isolate", Purpose::Respond),
    ("Evict", Purpose::Respond),
    ("Restore", Purpose::Respond),
    ("Deceive", Purpose::Respond),
    ("Detect", Purpose::Next),
    ("Harden", Purpose::Next),
    ("Model", Purpose::Next),
];

/// How a plan is cut.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions {
    /// Most countermeasures (or ENGAGE activities) listed per group.
    pub per_group: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions { per_group: 10 }
    }
}

/// Whether a group answers what happened or prepares for what comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Act on the incident: isolate, evict, restore, deceive.
    Respond,
    /// Make the next step seen or fail: detect, harden.
    Next,
}

/// The plan for one incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The incident's id.
    pub incident: String,
    /// Its host.
    pub host: String,
    /// Its techniques, each with ATT&CK mitigations and RE&CT playbooks.
    pub techniques: Vec<PlannedTechnique>,
    /// Likely next technique ids considered.
    pub likely_next: Vec<String>,
    /// Countermeasures by D3FEND tactic, in response order.
    pub groups: Vec<TacticGroup>,
    /// Technique ids of the incident ATT&CK does not know (not planned for).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_techniques: Vec<String>,
    /// What limited the plan (D3FEND, ENGAGE or RE&CT not loaded).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One technique of the incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedTechnique {
    /// As the incident names it.
    pub id: String,
    /// The current technique it resolves to (a revoked id's successor).
    pub current: String,
    /// Its name.
    pub name: String,
    /// ATT&CK mitigations.
    pub mitigations: Vec<Named>,
    /// RE&CT playbooks tagged with it.
    pub react_playbooks: Vec<Named>,
}

/// An id and a name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Named {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// The countermeasures of one D3FEND tactic (or ENGAGE activities, for Deceive).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TacticGroup {
    /// The D3FEND tactic.
    pub tactic: String,
    /// Respond now or prepare for next.
    pub purpose: Purpose,
    /// Best first.
    pub countermeasures: Vec<PlannedCountermeasure>,
    /// Countermeasures past [`PlanOptions::per_group`], not listed.
    pub more: usize,
}

/// One countermeasure (a D3FEND technique, or an ENGAGE activity under Deceive).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedCountermeasure {
    /// `D3-PT`, or `EAC0005` for an ENGAGE activity.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The incident's techniques it answers.
    pub answers: Vec<String>,
    /// The likely next techniques it answers.
    pub answers_next: Vec<String>,
    /// The artifacts linking it to them (D3FEND), or the adversary vulnerabilities
    /// (ENGAGE).
    pub via: Vec<String>,
    /// Whether a loaded playbook carries it out.
    pub runnable: bool,
    /// The playbook steps that do (`playbook/step`, or `playbook/step/compensate`).
    pub steps: Vec<String>,
    /// Matching RE&CT response actions.
    pub react_actions: Vec<ReactRef>,
}

/// A RE&CT response action in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReactRef {
    /// `RA3601`.
    pub id: String,
    /// `lock user account`.
    pub name: String,
    /// `containment`.
    pub stage: String,
}

/// The countermeasure being gathered.
#[derive(Default)]
struct Gathered {
    name: String,
    tactic: String,
    answers: BTreeSet<String>,
    answers_next: BTreeSet<String>,
    via: BTreeSet<String>,
}

/// The likely next techniques of an incident: those it stores (the service ranks them
/// as it grows), else ranked now from the knowledge graph.
pub fn likely_next_of(
    incident: &Incident,
    knowledge: &Knowledge,
    limit: usize,
) -> Vec<NextTechnique> {
    if !incident.likely_next.is_empty() {
        return incident.likely_next.iter().take(limit).cloned().collect();
    }
    let predictor = rampart_correlate::next_predictor_from(knowledge);
    predictor.predict_attributed(
        &incident.techniques,
        &incident.attributed,
        &Default::default(),
        limit,
    )
}

/// The plan for `incident`: see the module documentation. `playbooks` decide what is
/// runnable; `react` may be absent (no RE&CT actions or playbooks then).
pub fn plan(
    incident: &Incident,
    likely_next: &[NextTechnique],
    knowledge: &Knowledge,
    react: Option<&React>,
    playbooks: &[&Playbook],
    options: PlanOptions,
) -> Plan {
    let mut warnings = Vec::new();
    if knowledge.d3fend().is_none() {
        warnings.push("D3FEND not loaded: no countermeasures".to_owned());
    }
    if knowledge.engage().is_none() {
        warnings.push("ENGAGE not loaded: no Deceive suggestions".to_owned());
    }
    if react.is_none() {
        warnings.push("RE&CT not loaded: no response actions or RE&CT playbooks".to_owned());
    }
    let mut techniques = Vec::new();
    let mut unknown_techniques = Vec::new();
    let mut gathered: BTreeMap<String, Gathered> = BTreeMap::new();
    let mut engage: BTreeMap<String, Gathered> = BTreeMap::new();
    for id in &incident.techniques {
        let Some(hit) = current_technique(knowledge, id) else {
            unknown_techniques.push(id.clone());
            continue;
        };
        techniques.push(planned_technique(knowledge, react, id, hit));
        gather(knowledge, hit, id, false, &mut gathered, &mut engage);
    }
    let next_ids: Vec<String> = likely_next.iter().map(|n| n.technique.clone()).collect();
    for id in &next_ids {
        if let Some(hit) = current_technique(knowledge, id) {
            gather(knowledge, hit, id, true, &mut gathered, &mut engage);
        }
    }
    let runnable = runnable_steps(playbooks);
    let mut by_tactic: BTreeMap<String, Vec<PlannedCountermeasure>> = BTreeMap::new();
    for (id, g) in gathered {
        let steps = runnable
            .get(&id.to_ascii_uppercase())
            .cloned()
            .unwrap_or_default();
        let react_actions = react
            .map(|react| {
                d3fend_actions(&id)
                    .iter()
                    .filter_map(|a| react.action(a))
                    .map(|a| ReactRef {
                        id: a.id.clone(),
                        name: a.name.clone(),
                        stage: a.stage.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        by_tactic
            .entry(g.tactic.clone())
            .or_default()
            .push(PlannedCountermeasure {
                id,
                name: g.name,
                answers: g.answers.into_iter().collect(),
                answers_next: g.answers_next.into_iter().collect(),
                via: g.via.into_iter().collect(),
                runnable: !steps.is_empty(),
                steps,
                react_actions,
            });
    }
    let deceive: Vec<PlannedCountermeasure> = engage
        .into_iter()
        .map(|(id, g)| PlannedCountermeasure {
            id,
            name: g.name,
            answers: g.answers.into_iter().collect(),
            answers_next: g.answers_next.into_iter().collect(),
            via: g.via.into_iter().collect(),
            runnable: false,
            steps: Vec::new(),
            react_actions: Vec::new(),
        })
        .collect();
    by_tactic
        .entry("Deceive".to_owned())
        .or_default()
        .extend(deceive);
    let mut groups = Vec::new();
    for (tactic, purpose) in TACTIC_ORDER {
        if let Some(list) = by_tactic.remove(*tactic) {
            groups.push(group(tactic, *purpose, list, options));
        }
    }
    for (tactic, list) in by_tactic {
        let name = if tactic.is_empty() {
            "Other".to_owned()
        } else {
            tactic
        };
        groups.push(group(&name, Purpose::Next, list, options));
    }
    groups.retain(|g| !g.countermeasures.is_empty());
    Plan {
        incident: incident.id.clone(),
        host: incident.host.clone(),
        techniques,
        likely_next: next_ids,
        groups,
        unknown_techniques,
        warnings,
    }
}

fn group(
    tactic: &str,
    purpose: Purpose,
    mut list: Vec<PlannedCountermeasure>,
    options: PlanOptions,
) -> TacticGroup {
    list.sort_by(|a, b| {
        b.answers
            .len()
            .cmp(&a.answers.len())
            .then(b.answers_next.len().cmp(&a.answers_next.len()))
            .then(b.runnable.cmp(&a.runnable))
            .then(a.id.cmp(&b.id))
    });
    let more = list.len().saturating_sub(options.per_group);
    list.truncate(options.per_group);
    TacticGroup {
        tactic: tactic.to_owned(),
        purpose,
        countermeasures: list,
        more,
    }
}

/// The current technique an id names (a revoked one's successor).
fn current_technique(knowledge: &Knowledge, id: &str) -> Option<Hit> {
    knowledge
        .resolve(id)
        .current()
        .filter(|hit| hit.node.kind == Kind::Technique)
}

fn planned_technique(
    knowledge: &Knowledge,
    react: Option<&React>,
    id: &str,
    hit: Hit,
) -> PlannedTechnique {
    let matrix = knowledge.matrix_of(hit);
    let meta = matrix.meta(hit.node);
    let current = meta
        .map(|m| m.attack_id.clone())
        .unwrap_or_else(|| id.to_owned());
    let mitigations = matrix
        .mitigations_of(hit.node.index)
        .into_iter()
        .filter_map(|i| {
            matrix
                .meta(NodeRef {
                    kind: Kind::Mitigation,
                    index: i,
                })
                .map(|m| Named {
                    id: m.attack_id.clone(),
                    name: m.name.clone(),
                })
        })
        .collect();
    let react_playbooks = react
        .map(|react| {
            react
                .playbooks_for(&current)
                .into_iter()
                .map(|p| Named {
                    id: p.id.clone(),
                    name: p.title.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    PlannedTechnique {
        id: id.to_owned(),
        name: meta.map(|m| m.name.clone()).unwrap_or_default(),
        current,
        mitigations,
        react_playbooks,
    }
}

fn gather(
    knowledge: &Knowledge,
    hit: Hit,
    id: &str,
    next: bool,
    gathered: &mut BTreeMap<String, Gathered>,
    engage: &mut BTreeMap<String, Gathered>,
) {
    for paths in knowledge.distinct_countermeasures(hit) {
        let Some(first) = paths.first() else { continue };
        let entry = gathered
            .entry(first.id.clone())
            .or_insert_with(|| Gathered {
                name: first.name.clone(),
                tactic: first.tactic.clone(),
                ..Gathered::default()
            });
        if next {
            entry.answers_next.insert(id.to_owned());
        } else {
            entry.answers.insert(id.to_owned());
        }
        entry
            .via
            .extend(paths.iter().map(|c| c.attack_artifact.clone()));
    }
    for mapping in knowledge.engage_activities(hit) {
        let entry = engage
            .entry(mapping.activity_id.clone())
            .or_insert_with(|| Gathered {
                name: mapping.activity_name.clone(),
                tactic: "Deceive".to_owned(),
                ..Gathered::default()
            });
        if next {
            entry.answers_next.insert(id.to_owned());
        } else {
            entry.answers.insert(id.to_owned());
        }
        entry.via.insert(mapping.vulnerability_id.clone());
    }
}

/// D3FEND id (upper-case) → the playbook steps carrying it out.
fn runnable_steps(playbooks: &[&Playbook]) -> BTreeMap<String, Vec<String>> {
    let mut steps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for playbook in playbooks {
        for step in &playbook.steps {
            steps
                .entry(step.d3fend.trim().to_ascii_uppercase())
                .or_default()
                .push(format!("{}/{}", playbook.id, step.id));
            if let Some(compensation) = &step.compensate {
                steps
                    .entry(compensation.d3fend.trim().to_ascii_uppercase())
                    .or_default()
                    .push(format!("{}/{}/compensate", playbook.id, step.id));
            }
        }
    }
    steps
}

/// The playbooks whose trigger names a technique of the incident (a quick filter for
/// a plan's "playbooks that apply" list; the full trigger is
/// [`crate::playbook::Trigger::matches_incident`]).
pub fn playbooks_naming<'a>(incident: &Incident, playbooks: &[&'a Playbook]) -> Vec<&'a Playbook> {
    playbooks
        .iter()
        .copied()
        .filter(|p| {
            p.trigger.techniques.iter().any(|t| {
                incident
                    .techniques
                    .iter()
                    .any(|observed| technique_answers(t, observed))
            })
        })
        .collect()
}
