//! Broken rules become diagnostics naming file and line; everything else still loads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_sigma::{load_rules, load_str, DiagnosticKind, LoadOptions, Severity};
use std::path::{Path, PathBuf};

/// A rule whose detection section is `detection` (indented by four spaces).
fn rule(detection: &str) -> String {
    format!("title: broken\nlogsource:\n    product: windows\ndetection:\n{detection}\n")
}

/// Broken files, with the diagnostic kind and the 1-based line each must report.
fn broken_files() -> Vec<(&'static str, String, DiagnosticKind, usize)> {
    vec![
        ("bad_yaml.yml", "title: x\ndetection:\n    sel: [a, b\n    condition: sel\n".into(), DiagnosticKind::Yaml, 4),
        ("unknown_modifier.yml", rule("    sel:\n        Image|endswth: '.exe'\n    condition: sel"), DiagnosticKind::UnknownModifier, 6),
        ("missing_search.yml", rule("    sel:\n        Image: a\n    condition: sel and not filter"), DiagnosticKind::UnknownSearch, 7),
        ("bad_regex.yml", rule("    sel:\n        Image|re: '(unclosed'\n    condition: sel"), DiagnosticKind::InvalidRegex, 6),
        ("bad_condition.yml", rule("    sel:\n        Image: a\n    condition: sel and or sel"), DiagnosticKind::InvalidCondition, 7),
        ("aggregation.yml", rule("    sel:\n        Image: a\n    condition: sel | count() by Host > 5"), DiagnosticKind::Unsupported, 7),
        ("no_condition.yml", rule("    sel:\n        Image: a"), DiagnosticKind::MissingAttribute, 5),
        ("null_in_list.yml", rule("    sel:\n        Image:\n            - a\n            - null\n    condition: sel"), DiagnosticKind::InvalidValue, 8),
        ("bad_cidr.yml", rule("    sel:\n        Ip|cidr: 10.0.0.0/33\n    condition: sel"), DiagnosticKind::InvalidValue, 6),
        ("bad_level.yml", format!("level: severe\n{}", rule("    sel:\n        A: a\n    condition: sel")), DiagnosticKind::InvalidAttribute, 1),
        ("no_title.yml", "logsource:\n    product: windows\ndetection:\n    sel:\n        A: a\n    condition: sel\n".into(), DiagnosticKind::MissingAttribute, 1),
        ("placeholder.yml", rule("    sel:\n        User|expand: '%Admins%'\n    condition: sel"), DiagnosticKind::Placeholder, 6),
        ("base64_wildcard.yml", rule("    sel:\n        A|contains|base64: 'abc'\n    condition: sel"), DiagnosticKind::InvalidModifier, 6),
    ]
}

#[test]
fn broken_rules_are_reported_and_good_ones_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let sigma = rampart_testkit::data_path("sigma/rules/windows/process_creation");
    let good: Vec<PathBuf> = std::fs::read_dir(&sigma)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yml"))
        .take(25)
        .collect();
    for path in &good {
        std::fs::copy(path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let broken = broken_files();
    for (name, text, _, _) in &broken {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    std::fs::write(dir.path().join("notes.txt"), "not a rule").unwrap();

    let (set, diagnostics) = load_rules(&[dir.path().to_path_buf()]);
    assert_eq!(set.rules.len(), good.len());
    assert_eq!(diagnostics.len(), broken.len(), "{diagnostics:#?}");
    for (name, _, kind, line) in &broken {
        let diagnostic = diagnostics
            .iter()
            .find(|d| d.path.file_name().is_some_and(|file| file == *name))
            .unwrap_or_else(|| panic!("no diagnostic for {name}"));
        assert_eq!(
            (diagnostic.kind, diagnostic.line, diagnostic.severity),
            (*kind, *line, Severity::Error),
            "{name}: {diagnostic}"
        );
        assert!(!diagnostic.message.is_empty());
        assert!(diagnostic.to_string().contains(name));
    }
}

#[test]
fn a_bad_document_does_not_lose_the_others_of_its_file() {
    let text = format!(
        "{}---\n{}---\n{}",
        rule("    a:\n        A: 1\n    condition: a"),
        rule("    a:\n        A|nope: 1\n    condition: a"),
        rule("    a:\n        A: 3\n    condition: a")
    );
    let (set, diagnostics) = load_str(&text, Path::new("three.yml"), &LoadOptions::default());
    assert_eq!(set.rules.len(), 2);
    assert_eq!(diagnostics.len(), 1);
    // The second document's title is on line 9; its `A|nope` key five lines later.
    assert_eq!(
        (diagnostics[0].kind, diagnostics[0].line),
        (DiagnosticKind::UnknownModifier, 14)
    );
    assert_eq!(set.rules[1].line, 17);
}

#[test]
fn missing_paths_are_io_diagnostics() {
    let (set, diagnostics) = load_rules(&[PathBuf::from("no/such/rules.yml")]);
    assert!(set.rules.is_empty());
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].kind, DiagnosticKind::Io);
}
