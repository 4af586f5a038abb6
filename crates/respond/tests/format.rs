#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The playbook format: the starter library validates against the shipped JSON Schema
//! (checked with the `jsonschema` crate directly, not through the loader), the schema
//! refuses what the format forbids, and the loader names file, line and column.

use rampart_respond::playbook::schema::SCHEMA_V1;
use rampart_respond::playbook::{load_paths, parse_playbook, Severity};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn starter_dir() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../playbooks")
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(SCHEMA_V1).unwrap();
    jsonschema::draft202012::options().build(&schema).unwrap()
}

fn yaml_to_json(text: &str) -> Value {
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
    serde_json::to_value(yaml).unwrap()
}

fn schema_errors(validator: &jsonschema::Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// A valid playbook to break in one place at a time.
const MINIMAL: &str = r#"rampart_playbook: 1
id: minimal
title: Minimal
trigger:
  on: incident
  techniques: [T1003]
inputs:
  host: { from: host }
steps:
  - id: kill
    d3fend: D3-PT
    stage: containment
    action:
      command: { program: edr-kill, args: ["{{ inputs.host[0] }}"] }
"#;

#[test]
fn the_schema_is_draft_2020_12_and_the_starter_library_validates() {
    let schema: Value = serde_json::from_str(SCHEMA_V1).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let validator = validator();
    let files = rampart_testkit::files_under(&starter_dir(), "yml");
    assert_eq!(files.len(), 5, "{files:?}");
    for file in &files {
        let document = yaml_to_json(&std::fs::read_to_string(file).unwrap());
        let errors = schema_errors(&validator, &document);
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
    assert!(schema_errors(&validator, &yaml_to_json(MINIMAL)).is_empty());
}

#[test]
fn the_schema_refuses_what_the_format_forbids() {
    let validator = validator();
    let cases: &[(&str, &str, &str)] = &[
        (
            "wrong version",
            "rampart_playbook: 1",
            "rampart_playbook: 2",
        ),
        (
            "unknown top key",
            "title: Minimal",
            "title: Minimal\nauthor: someone",
        ),
        (
            "two connectors in one action",
            "command: { program: edr-kill, args: [\"{{ inputs.host[0] }}\"] }",
            "command: { program: edr-kill }\n      email: { to: [a@b.c], subject: s, body: b }",
        ),
        (
            "no connector",
            "command: { program: edr-kill, args: [\"{{ inputs.host[0] }}\"] }",
            "{}",
        ),
        (
            "unknown step key",
            "stage: containment",
            "stage: containment\n    shell: rm -rf /",
        ),
        ("bad stage", "stage: containment", "stage: contain"),
        (
            "bad D3FEND id shape",
            "d3fend: D3-PT",
            "d3fend: process-termination",
        ),
        ("bad trigger subject", "on: incident", "on: event"),
        (
            "bad technique id",
            "techniques: [T1003]",
            "techniques: [credential-dumping]",
        ),
        ("no steps", "steps:\n", "steps: []\nx:\n"),
        ("bad input source", "from: host", "from: registry"),
        ("field input without field", "from: host", "from: field"),
        (
            "approval role",
            "stage: containment",
            "stage: containment\n    approval: { role: viewer }",
        ),
        (
            "bad duration",
            "stage: containment",
            "stage: containment\n    timeout: 30 seconds",
        ),
        (
            "inline auth",
            "command: { program: edr-kill, args: [\"{{ inputs.host[0] }}\"] }",
            "http: { url: \"https://x.example\", auth: { scheme: bearer, token: abc } }",
        ),
    ];
    for (what, from, to) in cases {
        assert!(
            MINIMAL.contains(from),
            "{what}: {from:?} not in the minimal playbook"
        );
        let text = MINIMAL.replacen(from, to, 1);
        let errors = match serde_yaml::from_str::<serde_yaml::Value>(&text) {
            Ok(yaml) => schema_errors(&validator, &serde_json::to_value(yaml).unwrap()),
            Err(error) => panic!("{what}: the case is not YAML: {error}\n{text}"),
        };
        assert!(!errors.is_empty(), "{what}: the schema accepted\n{text}");
    }
}

#[test]
fn the_loader_names_file_line_and_column() {
    let path = Path::new("bad.yml");
    // An unknown key in the second step's action: the diagnostic points at the key.
    let text = MINIMAL.replace("stage: containment", "stage: containment\n    colour: red");
    let diagnostics = parse_playbook(path, &text).unwrap_err();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let d = &diagnostics[0];
    assert_eq!((d.line, d.column, d.check), (13, 5, "schema"), "{d}");
    assert!(d.message.contains("colour"), "{d}");
    assert_eq!(d.path, path);

    // A later format version is refused before anything else is read.
    let text = MINIMAL.replace("rampart_playbook: 1", "rampart_playbook: 2\nnew_key: x");
    let d = &parse_playbook(path, &text).unwrap_err()[0];
    assert_eq!((d.line, d.column, d.check), (1, 19, "version"), "{d}");
    assert!(
        d.message.contains("version 2 is not supported") && d.message.contains("reads version 1"),
        "{d}"
    );

    // Not a playbook at all.
    let d = &parse_playbook(path, "title: x\n").unwrap_err()[0];
    assert!(d.message.contains("no `rampart_playbook` key"), "{d}");

    // YAML syntax errors have their place too.
    let d = &parse_playbook(path, "rampart_playbook: 1\nid: [unclosed\n").unwrap_err()[0];
    assert_eq!(d.check, "yaml");
    assert!(d.line >= 2, "{d}");

    // Two documents in one file.
    let d = &parse_playbook(path, "---\na: 1\n---\nb: 2\n").unwrap_err()[0];
    assert!(d.message.contains("2 YAML documents"), "{d}");
}

#[test]
fn a_folder_loads_its_good_playbooks_and_reports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yml"), MINIMAL).unwrap();
    // Same id in another file: reported, the first kept.
    std::fs::write(dir.path().join("b.yaml"), MINIMAL).unwrap();
    std::fs::write(dir.path().join("c.yml"), "rampart_playbook: 1\nid: [").unwrap();
    std::fs::write(dir.path().join("d.yml"), [0xff, 0xfe, 0x00]).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a playbook").unwrap();
    std::fs::create_dir(dir.path().join(".hidden")).unwrap();
    std::fs::write(dir.path().join(".hidden/x.yml"), "garbage: [").unwrap();
    std::fs::write(
        dir.path().join("e.yml"),
        "x".repeat(rampart_respond::playbook::load::MAX_FILE_BYTES as usize + 1),
    )
    .unwrap();
    let missing = dir.path().join("missing.yml");
    let set = load_paths(&[dir.path().to_path_buf(), missing.clone()]);
    assert_eq!(set.files, 6, "a, b, c, d, e and the missing file");
    assert_eq!(set.playbooks.len(), 1);
    assert_eq!(set.playbooks[0].path, dir.path().join("a.yml"));
    let by_file = |name: &str| {
        set.diagnostics
            .iter()
            .find(|d| d.path.ends_with(name))
            .unwrap_or_else(|| panic!("no diagnostic for {name}: {:?}", set.diagnostics))
    };
    let duplicate = by_file("b.yaml");
    assert_eq!(duplicate.check, "duplicate-id");
    assert_eq!((duplicate.line, duplicate.column), (2, 5));
    assert!(duplicate.message.contains("a.yml"), "{duplicate}");
    assert_eq!(by_file("c.yml").check, "yaml");
    assert!(by_file("d.yml").message.contains("UTF-8"));
    assert!(by_file("e.yml").message.contains("larger than"));
    assert!(by_file("missing.yml").message.contains("cannot read"));
    assert_eq!(set.diagnostics.len(), 5, "{:?}", set.diagnostics);
    assert!(set
        .diagnostics
        .iter()
        .all(|d| d.severity == Severity::Error));
    assert!(set.has_errors());
}
