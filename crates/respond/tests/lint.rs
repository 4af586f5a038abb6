#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `respond lint` against the real ATT&CK, D3FEND and RE&CT: the starter library is
//! clean, and each check fires at the right place on a playbook broken for it.

use rampart_knowledge::Knowledge;
use rampart_respond::playbook::{
    lint, lint_set, load_paths, parse_playbook, LintContext, Severity,
};
use rampart_respond::react::React;
use std::path::Path;
use std::sync::OnceLock;

fn knowledge() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(|| {
        let files = rampart_refdata::discover(&rampart_testkit::data_dir()).unwrap();
        Knowledge::from_files(&files).unwrap()
    })
}

fn react() -> &'static React {
    static REACT: OnceLock<React> = OnceLock::new();
    REACT.get_or_init(|| {
        let files = rampart_refdata::discover(&rampart_testkit::data_dir()).unwrap();
        let react = React::from_dir(&files.react_dir.expect("RE&CT found by discover")).unwrap();
        assert!(react.warnings.is_empty(), "{:?}", react.warnings);
        react
    })
}

fn context() -> LintContext<'static> {
    LintContext {
        knowledge: Some(knowledge()),
        react: Some(react()),
    }
}

#[test]
fn reference_data_is_found_and_read() {
    let react = react();
    assert_eq!(react.actions().count(), 216);
    assert_eq!(react.stages().len(), 6);
    let lock = react.action("RA3601").unwrap();
    assert_eq!(
        (lock.name.as_str(), lock.stage.as_str()),
        ("lock user account", "containment")
    );
    assert_eq!(react.stage("lessons_learned").unwrap().id, "RS0006");
    let phishing = react.playbooks_for("T1566.001");
    assert_eq!(phishing.len(), 1);
    assert_eq!(phishing[0].stages["containment"][0], "RA3101");
    // Every RE&CT id the D3FEND table names exists, in a stage fitting the tactic.
    for (d3fend, actions) in rampart_respond::react::D3FEND_TO_REACT {
        let technique = knowledge().d3fend().unwrap().technique(d3fend);
        assert!(technique.is_some(), "{d3fend} is not in D3FEND");
        for id in *actions {
            assert!(
                react.action(id).is_some(),
                "{d3fend} → {id} is not in RE&CT"
            );
        }
    }
}

#[test]
fn the_starter_library_lints_clean() {
    let set =
        load_paths(&[std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../playbooks")]);
    let report = lint_set(&set, context());
    assert_eq!(report.playbooks.len(), 5);
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    let shown: Vec<String> = report.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!((report.errors, report.warnings), (0, 0), "{shown:#?}");
}

const BASE: &str = r#"rampart_playbook: 1
id: broken
title: Broken on purpose
trigger:
  on: incident
  techniques: [T1003]
  tactics: [credential-access]
inputs:
  host: { from: host }
  users: { from: user }
conditions:
  - { input: host, present: true }
steps:
  - id: lock
    d3fend: D3-AL
    stage: containment
    react: RA3601
    approval: { role: analyst, timeout: 1h }
    action:
      http:
        url: "https://idp.example.org/lock"
        headers: { Authorization: "Bearer {{ secret.IDP }}" }
        body: { user: "{{ inputs.users[0] }}", incident: "{{ incident.id }}" }
    compensate:
      d3fend: D3-RUAA
      action:
        email: { to: [soc@example.org], subject: "unlock {{ inputs.users }}", body: "run {{ run.id }}" }
"#;

/// Lints `BASE` with one replacement; returns (severity, check, line, message) of each
/// finding.
fn findings(from: &str, to: &str) -> Vec<(Severity, &'static str, usize, String)> {
    assert!(BASE.contains(from), "{from:?} not in the base playbook");
    let text = BASE.replacen(from, to, 1);
    let loaded = parse_playbook(Path::new("broken.yml"), &text)
        .unwrap_or_else(|d| panic!("does not load: {d:?}\n{text}"));
    lint(&loaded, context())
        .into_iter()
        .map(|d| (d.severity, d.check, d.line, d.message))
        .collect()
}

fn one(from: &str, to: &str) -> (Severity, &'static str, usize, String) {
    let mut found = findings(from, to);
    assert_eq!(found.len(), 1, "{from:?} → {to:?}: {found:#?}");
    found.remove(0)
}

#[test]
fn each_check_fires_at_its_place() {
    assert!(findings("x", "x").is_empty(), "{:#?}", findings("x", "x"));

    let (severity, check, line, message) = one("d3fend: D3-AL", "d3fend: D3-NOPE");
    assert_eq!((severity, check, line), (Severity::Error, "d3fend", 15));
    assert!(message.contains("D3-NOPE"), "{message}");

    let (_, check, line, message) = one("react: RA3601", "react: RA5601");
    assert_eq!((check, line), ("react", 17));
    assert!(
        message.contains("stage recovery") && message.contains("containment"),
        "{message}"
    );
    assert_eq!(one("react: RA3601", "react: RA9999").1, "react");

    let (severity, check, line, message) = one("techniques: [T1003]", "techniques: [T1086]");
    assert_eq!((severity, check, line), (Severity::Warning, "technique", 6));
    assert!(
        message.contains("revoked") && message.contains("T1059.001"),
        "{message}"
    );
    let (severity, _, _, message) = one("techniques: [T1003]", "techniques: [T9999]");
    assert_eq!(severity, Severity::Error, "{message}");
    assert!(findings("techniques: [T1003]", "techniques: [T1003, T1003.001]").is_empty());

    let (_, check, line, _) = one(
        "tactics: [credential-access]",
        "tactics: [credential-theft]",
    );
    assert_eq!((check, line), ("tactic", 7));

    let (_, check, line, message) = one("{{ inputs.users[0] }}", "{{ inputs.accounts[0] }}");
    assert_eq!((check, line), ("template", 23));
    assert!(message.contains("\"accounts\""), "{message}");
    assert_eq!(one("{{ incident.id }}", "{{ env.HOME }}").1, "template");
    assert_eq!(one("{{ incident.id }}", "{{ incident.id").1, "template");

    // Secrets only in header values: URL, body, e-mail and command arguments refuse them.
    assert_eq!(
        one(
            "https://idp.example.org/lock",
            "https://idp.example.org/lock?key={{ secret.IDP }}"
        )
        .1,
        "secret"
    );
    assert_eq!(one("{{ incident.id }}", "{{ secret.IDP }}").1, "secret");
    assert_eq!(one("run {{ run.id }}", "{{ secret.IDP }}").1, "secret");
    let (severity, check, _, _) = one("Bearer {{ secret.IDP }}", "Bearer 0123456789abcdef");
    assert_eq!((severity, check), (Severity::Warning, "secret"));

    assert_eq!(one("timeout: 1h", "timeout: 99999999d").1, "duration");
    let found = findings(
        "approval: { role: analyst, timeout: 1h }",
        "approval: { role: analyst }\n    retry: { backoff: 10m, max_backoff: 1m }",
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].1, found[0].2), ("duration", 19));
    assert!(
        found[0].3.contains("longer than max_backoff"),
        "{}",
        found[0].3
    );
}

#[test]
fn approvals_compensations_conditions_and_triggers_are_checked() {
    let found = findings("    approval: { role: analyst, timeout: 1h }\n", "");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].0, found[0].1), (Severity::Warning, "approval"));
    assert!(found[0].3.contains("Evict"), "{}", found[0].3);

    let (severity, check, _, message) = one("d3fend: D3-RUAA", "d3fend: D3-PT");
    assert_eq!((severity, check), (Severity::Warning, "compensate"));
    assert!(message.contains("Restore"), "{message}");

    assert_eq!(one("input: host,", "input: hosts,").1, "condition");
    assert_eq!(
        one("on: incident", "on: alert\n  min_score: 10").1,
        "trigger",
        "an alert trigger with a score never fires"
    );

    let duplicate = BASE.replace("steps:\n", "steps:\n  - id: lock\n    d3fend: D3-AL\n    stage: containment\n    approval: { role: admin }\n    action: { command: { program: lock, args: [\"{{ inputs.users[0] }}\"] } }\n");
    let loaded = parse_playbook(Path::new("dup.yml"), &duplicate).unwrap();
    let found = lint(&loaded, context());
    assert!(
        found
            .iter()
            .any(|d| d.check == "step" && d.message.contains("twice")),
        "{found:#?}"
    );
}

#[test]
fn missing_reference_data_is_said_once() {
    let set =
        load_paths(&[std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../playbooks")]);
    let report = lint_set(&set, LintContext::default());
    assert_eq!(report.errors, 0);
    assert_eq!(report.notes.len(), 2, "{:?}", report.notes);
}
