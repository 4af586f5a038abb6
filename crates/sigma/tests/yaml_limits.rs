//! Hostile YAML: alias bombs and deep nesting give one diagnostic for their rule, in
//! bounded time and memory, and never overflow the stack; the other rules still load.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_sigma::{load_rules, load_str, DiagnosticKind, LoadOptions, Severity};
use std::path::Path;

/// A valid rule with `extra` appended at the top level (it starts on line 8).
fn rule_with(extra: &str) -> String {
    format!(
        "title: bomb\nlogsource:\n    product: windows\ndetection:\n    sel:\n        Image: x\n    condition: sel\n{extra}"
    )
}

/// `anchors` anchors, each nesting `depth` flow sequences around the one before:
/// aliases expanded naively nest `anchors * depth` deep. The reported rule was 100
/// anchors of 200 levels (41 KB, 20,000 levels).
fn chained_anchors(anchors: usize, depth: usize) -> String {
    let mut text = String::from("chain:\n");
    for level in 0..anchors {
        let inner = if level == 0 {
            "x".to_string()
        } else {
            format!("*a{}", level - 1)
        };
        text.push_str(&format!(
            "    - &a{level} {}{inner}{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        ));
    }
    rule_with(&text)
}

/// Nine levels of nine aliases of the level before: 9^9 scalars once expanded.
fn billion_laughs() -> String {
    let mut text =
        String::from("laughs:\n    - &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..9 {
        let previous = format!("*l{}", level - 1);
        text.push_str(&format!(
            "    - &l{level} [{}]\n",
            [previous.as_str(); 9].join(", ")
        ));
    }
    rule_with(&text)
}

/// Block sequences nested `depth` deep on one line (`- - - … x`, line 9), no alias.
fn deep_block_nesting(depth: usize) -> String {
    rule_with(&format!("deep:\n    {}x\n", "- ".repeat(depth)))
}

fn only_error(source: &str, name: &str) -> rampart_sigma::Diagnostic {
    let (set, diagnostics) = load_str(source, Path::new(name), &LoadOptions::default());
    assert!(set.rules.is_empty());
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let diagnostic = diagnostics.into_iter().next().unwrap();
    assert_eq!(
        (diagnostic.kind, diagnostic.severity),
        (DiagnosticKind::Yaml, Severity::Error),
        "{diagnostic}"
    );
    diagnostic
}

#[test]
fn the_bombs_are_as_small_as_reported() {
    let chained = chained_anchors(100, 200).len();
    assert!((40_000..44_000).contains(&chained), "{chained}");
    let laughs = billion_laughs().len();
    assert!(laughs < 700, "{laughs}");
}

#[test]
fn chained_anchors_are_a_diagnostic_not_a_stack_overflow() {
    // The reported rule: its first anchor alone already nests too deep.
    let diagnostic = only_error(&chained_anchors(100, 200), "chained.yml");
    assert_eq!(diagnostic.line, 9, "{diagnostic}");
    assert!(diagnostic.message.contains("deeper than"), "{diagnostic}");
    // Anchors of 30 levels each: the third one's alias of the second (60 levels) is
    // the first to go past the limit.
    let diagnostic = only_error(&chained_anchors(100, 30), "chained.yml");
    assert_eq!(diagnostic.line, 11, "{diagnostic}");
    assert!(diagnostic.message.contains("deeper than"), "{diagnostic}");
}

#[test]
fn billion_laughs_is_a_diagnostic_in_bounded_time() {
    let started = std::time::Instant::now();
    let diagnostic = only_error(&billion_laughs(), "laughs.yml");
    assert!(diagnostic.message.contains("alias"), "{diagnostic}");
    assert!((10..=17).contains(&diagnostic.line), "{diagnostic}");
    assert!(started.elapsed().as_secs() < 2, "{:?}", started.elapsed());
}

#[test]
fn deep_nesting_without_aliases_is_a_diagnostic() {
    let diagnostic = only_error(&deep_block_nesting(20_000), "deep.yml");
    assert_eq!(diagnostic.line, 9, "{diagnostic}");
    assert!(diagnostic.message.contains("deeper than"), "{diagnostic}");
    // Nesting a rule could plausibly use still loads.
    let (set, diagnostics) = load_str(
        &deep_block_nesting(40),
        Path::new("fine.yml"),
        &LoadOptions::default(),
    );
    assert_eq!(
        (set.rules.len(), diagnostics.len()),
        (1, 0),
        "{diagnostics:#?}"
    );
}

#[test]
fn a_few_aliases_still_load() {
    let text = "title: shared\nlogsource:\n    product: windows\ndetection:\n    sel:\n        Image|endswith: &tools ['\\a.exe', '\\b.exe']\n    other:\n        OriginalFileName|endswith: *tools\n    condition: sel or other\n";
    let (set, diagnostics) = load_str(text, Path::new("shared.yml"), &LoadOptions::default());
    assert_eq!(
        (set.rules.len(), diagnostics.len()),
        (1, 0),
        "{diagnostics:#?}"
    );
}

#[test]
fn the_other_rules_of_the_folder_load_beside_the_bombs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("chained.yml"), chained_anchors(100, 30)).unwrap();
    std::fs::write(dir.path().join("laughs.yml"), billion_laughs()).unwrap();
    std::fs::write(dir.path().join("deep.yml"), deep_block_nesting(20_000)).unwrap();
    std::fs::write(dir.path().join("good.yml"), rule_with("")).unwrap();
    let (set, diagnostics) = load_rules(&[dir.path().to_path_buf()]);
    assert_eq!(set.rules.len(), 1);
    let mut failed: Vec<String> = diagnostics
        .iter()
        .map(|d| d.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    failed.sort();
    assert_eq!(failed, ["chained.yml", "deep.yml", "laughs.yml"]);
}

/// A map of 100,000 keys (1.4 MB) loads in linear time: each key is checked against
/// the others for duplicates through a set, not a scan of the keys before it (which
/// took over two minutes).
#[test]
fn a_wide_map_loads_in_linear_time() {
    let mut extra = String::from("extra:\n");
    for key in 0..100_000 {
        extra.push_str(&format!("    k{key}: v\n"));
    }
    let started = std::time::Instant::now();
    let (set, diagnostics) = load_str(
        &rule_with(&extra),
        Path::new("wide.yml"),
        &LoadOptions::default(),
    );
    assert_eq!(
        (set.rules.len(), diagnostics.len()),
        (1, 0),
        "{diagnostics:#?}"
    );
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}
