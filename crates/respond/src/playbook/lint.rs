//! What the schema cannot say: the meaning of a playbook checked against the reference
//! data (`rampart respond lint`).
//!
//! Errors (a playbook that must not be used):
//! - a step's or compensation's `d3fend` id is not a technique of the loaded D3FEND;
//! - a `react` id is not a RE&CT response action, or its stage is not the step's;
//! - a trigger technique id is unknown to ATT&CK, or not a technique; a tactic
//!   shortname is not an Enterprise tactic;
//! - what preparing an action would refuse whatever the values (`action::lint`, the
//!   connectors' own check): a template naming anything but a defined input,
//!   `{{ incident.id }}`, `{{ run.id }}` or a secret, or left open; an unknown built-in
//!   template, method or auth scheme; a URL not starting with `http(s)://` (or a
//!   secret); a secret anywhere but a URL, a header value or `auth` — bodies and
//!   e-mails are stored by the peer and shown to people, command arguments are visible
//!   to every local user in the process list, while a webhook URL is itself a
//!   credential and headers are where credentials are sent (the connectors redact
//!   every answer, error and dry run);
//! - a duration does not parse or exceeds [`MAX_DURATION`], or a backoff exceeds its
//!   maximum;
//! - two steps share an id; a condition names an undefined input; an alert trigger
//!   sets `min_score` (alerts have no score, so it would never fire).
//!
//! Warnings (works, but probably not as meant):
//! - a revoked trigger technique (naming its successor) or a deprecated one;
//! - an Isolate or Evict step without an approval; a compensation whose technique is not
//!   a Restore one; a literal `Authorization` header (a credential written inline); a
//!   command argument led by a value before any literal `--` (refused at run time when
//!   the value starts with `-`);
//! - a trigger with no criterion (it fires on every subject).
//!
//! Reference data that is not loaded leaves its checks out, said once in
//! [`LintReport::notes`].

use std::collections::HashSet;

use rampart_knowledge::{Kind, Knowledge, Resolution};

use serde::Serialize;

use super::diagnostic::{Diagnostic, Severity};
use super::load::{LoadedPlaybook, PlaybookSet};
use super::{parse_duration, ActionSpec, Subject};
use crate::react::React;

/// The longest duration a playbook may give (a wait past it is a typo, and it keeps the
/// engine's timer arithmetic far from overflow).
pub const MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// The reference data a lint checks against; what is `None` is not checked (a warning
/// says so).
#[derive(Clone, Copy, Default)]
pub struct LintContext<'a> {
    /// ATT&CK (trigger techniques, tactics) and D3FEND (step techniques).
    pub knowledge: Option<&'a Knowledge>,
    /// RE&CT (response actions and their stages).
    pub react: Option<&'a React>,
}

/// Every finding about one loaded playbook (the reference data it could not be checked
/// against is [`LintReport::notes`]' business, see [`lint_set`]).
pub fn lint(loaded: &LoadedPlaybook, context: LintContext<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    lint_trigger(loaded, context, &mut out);
    lint_conditions(loaded, &mut out);
    lint_steps(loaded, context, &mut out);
    out
}

/// What `rampart respond lint` reports about a set of playbooks.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LintReport {
    /// Playbook files looked at.
    pub files: usize,
    /// Ids of the playbooks that loaded, in path order.
    pub playbooks: Vec<String>,
    /// Loading and lint findings, by file and place.
    pub diagnostics: Vec<Diagnostic>,
    /// Errors among them.
    pub errors: usize,
    /// Warnings among them.
    pub warnings: usize,
    /// Checks not made because their reference data was not loaded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Lints every playbook of a set; the set's loading diagnostics come first, then each
/// playbook's findings, sorted by file and place.
pub fn lint_set(set: &PlaybookSet, context: LintContext<'_>) -> LintReport {
    let mut diagnostics = set.diagnostics.clone();
    for loaded in &set.playbooks {
        diagnostics.extend(lint(loaded, context));
    }
    diagnostics.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    let mut notes = Vec::new();
    match context.knowledge {
        None => notes.push(
            "ATT&CK and D3FEND not loaded: technique, tactic and D3FEND ids not checked".to_owned(),
        ),
        Some(knowledge) if knowledge.d3fend().is_none() => {
            notes.push("D3FEND not loaded: step techniques not checked".to_owned())
        }
        Some(_) => {}
    }
    if context.react.is_none() {
        notes.push("RE&CT not loaded: response action ids and stages not checked".to_owned());
    }
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    LintReport {
        files: set.files,
        playbooks: set
            .playbooks
            .iter()
            .map(|p| p.playbook.id.clone())
            .collect(),
        warnings: diagnostics.len() - errors,
        errors,
        diagnostics,
        notes,
    }
}

fn lint_trigger(loaded: &LoadedPlaybook, context: LintContext<'_>, out: &mut Vec<Diagnostic>) {
    let trigger = &loaded.playbook.trigger;
    if trigger.on == Subject::Alert && trigger.min_score.is_some() {
        out.push(loaded.error_at(
            "/trigger/min_score",
            "trigger",
            "an alert has no score: `min_score` applies to incidents only, this trigger would never fire".to_owned(),
        ));
    }
    let no_criterion = trigger.techniques.is_empty()
        && trigger.tactics.is_empty()
        && trigger.rules.is_empty()
        && trigger.min_level.is_none()
        && trigger.min_score.is_none()
        && trigger.hosts.is_empty()
        && trigger.pyramid.is_empty();
    if no_criterion {
        out.push(loaded.warning_at(
            "/trigger",
            "trigger",
            format!("no criterion: fires on every {}", subject_word(trigger.on)),
        ));
    }
    let Some(knowledge) = context.knowledge else {
        return;
    };
    for (i, id) in trigger.techniques.iter().enumerate() {
        let pointer = format!("/trigger/techniques/{i}");
        let is_technique = |hit: rampart_knowledge::Hit| hit.node.kind == Kind::Technique;
        match knowledge.resolve(id) {
            Resolution::Active(hit) if is_technique(hit) => {}
            Resolution::Deprecated(hit) if is_technique(hit) => out.push(loaded.warning_at(
                &pointer,
                "technique",
                format!("ATT&CK technique {id} is deprecated (withdrawn, no successor)"),
            )),
            Resolution::Revoked {
                revoked,
                replacement,
            } if is_technique(revoked) => {
                let successor = replacement
                    .and_then(|hit| knowledge.matrix_of(hit).meta(hit.node))
                    .map(|meta| format!("use {} ({})", meta.attack_id, meta.name))
                    .unwrap_or_else(|| "ATT&CK names no successor".to_owned());
                out.push(loaded.warning_at(
                    &pointer,
                    "technique",
                    format!("ATT&CK technique {id} is revoked: {successor}"),
                ));
            }
            Resolution::Unknown { nearest } => {
                let hint = nearest
                    .first()
                    .map(|s| format!(" (nearest: {} {})", s.id, s.name))
                    .unwrap_or_default();
                out.push(loaded.error_at(
                    &pointer,
                    "technique",
                    format!("{id} is not an ATT&CK technique{hint}"),
                ));
            }
            _ => out.push(loaded.error_at(
                &pointer,
                "technique",
                format!("{id} is an ATT&CK object but not a technique"),
            )),
        }
    }
    for (i, tactic) in trigger.tactics.iter().enumerate() {
        if knowledge.enterprise().tactic_order(tactic).is_none() {
            out.push(loaded.error_at(
                &format!("/trigger/tactics/{i}"),
                "tactic",
                format!("{tactic:?} is not an ATT&CK Enterprise tactic shortname (e.g. credential-access)"),
            ));
        }
    }
}

fn subject_word(subject: Subject) -> &'static str {
    match subject {
        Subject::Incident => "incident",
        Subject::Alert => "alert",
    }
}

fn lint_conditions(loaded: &LoadedPlaybook, out: &mut Vec<Diagnostic>) {
    for (i, condition) in loaded.playbook.conditions.iter().enumerate() {
        if !loaded.playbook.inputs.contains_key(&condition.input) {
            out.push(loaded.error_at(
                &format!("/conditions/{i}/input"),
                "condition",
                format!("condition on undefined input {:?}", condition.input),
            ));
        }
    }
}

fn lint_steps(loaded: &LoadedPlaybook, context: LintContext<'_>, out: &mut Vec<Diagnostic>) {
    let playbook = &loaded.playbook;
    let mut ids: HashSet<&str> = HashSet::new();
    let ontology = context.knowledge.and_then(Knowledge::d3fend);
    for (i, step) in playbook.steps.iter().enumerate() {
        let at = |field: &str| format!("/steps/{i}{field}");
        if !ids.insert(step.id.as_str()) {
            out.push(loaded.error_at(
                &at("/id"),
                "step",
                format!("step id {:?} is used twice", step.id),
            ));
        }
        let tactic = match ontology {
            Some(ontology) => match ontology.technique(step.d3fend.trim()) {
                Some(technique) => technique.tactic.clone(),
                None => {
                    out.push(loaded.error_at(
                        &at("/d3fend"),
                        "d3fend",
                        format!("{} is not a D3FEND technique id", step.d3fend),
                    ));
                    None
                }
            },
            None => None,
        };
        if matches!(tactic.as_deref(), Some("Isolate" | "Evict")) && step.approval.is_none() {
            out.push(loaded.warning_at(
                &at(""),
                "approval",
                format!(
                    "step {:?} carries out a D3FEND {} technique ({}) without an approval",
                    step.id,
                    tactic.as_deref().unwrap_or_default(),
                    step.d3fend
                ),
            ));
        }
        if let (Some(react_id), Some(react)) = (&step.react, context.react) {
            match react.action(react_id) {
                None => out.push(loaded.error_at(
                    &at("/react"),
                    "react",
                    format!("{react_id} is not a RE&CT response action"),
                )),
                Some(action) if action.stage != step.stage => out.push(loaded.error_at(
                    &at("/react"),
                    "react",
                    format!(
                        "RE&CT {react_id} ({}) belongs to stage {}, the step says {}",
                        action.name, action.stage, step.stage
                    ),
                )),
                Some(_) => {}
            }
        }
        if let Some(react) = context.react {
            if react.stage(&step.stage).is_none() {
                out.push(loaded.error_at(
                    &at("/stage"),
                    "react",
                    format!("{:?} is not a RE&CT stage", step.stage),
                ));
            }
        }
        lint_durations(loaded, i, out);
        lint_action(loaded, &step.action, &at("/action"), out);
        if let Some(compensation) = &step.compensate {
            if let Some(ontology) = ontology {
                match ontology.technique(compensation.d3fend.trim()) {
                    None => out.push(loaded.error_at(
                        &at("/compensate/d3fend"),
                        "d3fend",
                        format!("{} is not a D3FEND technique id", compensation.d3fend),
                    )),
                    Some(t) if t.tactic.as_deref() != Some("Restore") => {
                        out.push(loaded.warning_at(
                            &at("/compensate/d3fend"),
                            "compensate",
                            format!(
                                "a compensation undoes a step: {} ({}) is not a D3FEND Restore technique",
                                compensation.d3fend, t.name
                            ),
                        ))
                    }
                    Some(_) => {}
                }
            }
            lint_action(loaded, &compensation.action, &at("/compensate/action"), out);
        }
    }
}

fn lint_durations(loaded: &LoadedPlaybook, i: usize, out: &mut Vec<Diagnostic>) {
    let step = &loaded.playbook.steps[i];
    let mut check = |field: &str, text: &str| {
        let parsed = parse_duration(text);
        match parsed {
            None => out.push(loaded.error_at(
                &format!("/steps/{i}{field}"),
                "duration",
                format!("{text:?} is not a duration (a whole number and ms, s, m, h or d)"),
            )),
            Some(duration) if duration > MAX_DURATION => out.push(loaded.error_at(
                &format!("/steps/{i}{field}"),
                "duration",
                format!("{text} is longer than 30 days"),
            )),
            Some(_) => {}
        }
        parsed
    };
    if let Some(timeout) = &step.timeout {
        check("/timeout", timeout);
    }
    if let Some(timeout) = step.approval.as_ref().and_then(|a| a.timeout.as_ref()) {
        check("/approval/timeout", timeout);
    }
    let backoff = check("/retry/backoff", &step.retry.backoff);
    let max_backoff = check("/retry/max_backoff", &step.retry.max_backoff);
    if let (Some(backoff), Some(max)) = (backoff, max_backoff) {
        if backoff > max {
            out.push(loaded.error_at(
                &format!("/steps/{i}/retry"),
                "duration",
                format!(
                    "backoff {} is longer than max_backoff {}",
                    step.retry.backoff, step.retry.max_backoff
                ),
            ));
        }
    }
}

/// The connector checks of `action` (at `at`), from [`crate::action::lint()`]: what
/// preparing it would refuse whatever the values (templates, names, where secrets
/// stand), placed at the field's line; plus a literal `Authorization` header, which is
/// a credential written into the playbook.
fn lint_action(loaded: &LoadedPlaybook, action: &ActionSpec, at: &str, out: &mut Vec<Diagnostic>) {
    let inputs: Vec<&str> = loaded.playbook.inputs.keys().map(String::as_str).collect();
    let connector = match action {
        ActionSpec::Http(http) => {
            for (name, value) in &http.headers {
                if name.eq_ignore_ascii_case("authorization") && !value.contains("{{") {
                    out.push(loaded.warning_at(
                        &format!("{at}/http/headers/{}", super::positions::escape_token(name)),
                        "secret",
                        "a literal Authorization header is a credential written in the playbook: use `auth` or {{ secret.NAME }}".to_owned(),
                    ));
                }
            }
            "http"
        }
        ActionSpec::Email(_) => "email",
        ActionSpec::Command(_) => "command",
    };
    for problem in crate::action::lint(action, &inputs) {
        let pointer = format!("{at}/{connector}{}", field_pointer(&problem.field));
        let check = if problem.message.contains("secret") {
            "secret"
        } else {
            "action"
        };
        let message = format!("{}: {}", problem.field, problem.message);
        out.push(match problem.severity {
            crate::action::Severity::Error => loaded.error_at(&pointer, check, message),
            crate::action::Severity::Warning => loaded.warning_at(&pointer, check, message),
        });
    }
}

/// A connector field as `action::lint` names it (`headers.X-Key`, `body.t[1]`,
/// `args[2]`) → the JSON pointer below the connector (`/headers/X-Key`, `/body/t/1`,
/// `/args/2`). A key holding `.` or `[` maps to its nearest ancestor, which still
/// names the right line of a flow map.
fn field_pointer(field: &str) -> String {
    let dotted = field.replace('[', ".").replace(']', "");
    dotted
        .split('.')
        .filter(|token| !token.is_empty())
        .map(|token| format!("/{}", super::positions::escape_token(token)))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn connector_fields_become_pointers() {
        assert_eq!(super::field_pointer("headers.X-Key"), "/headers/X-Key");
        assert_eq!(super::field_pointer("body.t[1]"), "/body/t/1");
        assert_eq!(super::field_pointer("args[2]"), "/args/2");
        assert_eq!(super::field_pointer("url"), "/url");
    }
}
