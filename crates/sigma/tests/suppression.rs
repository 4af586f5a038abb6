//! Suppressions written as Sigma 2.1 filters: the YAML reads back as exactly the
//! values given, whatever text an attacker put into them, and expiry is honoured.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Days, NaiveDate};
use rampart_event::{Event, Value};
use rampart_sigma::filter::{suppression_filter, today, SuppressionError};
use rampart_sigma::{
    load_str, DiagnosticKind, FieldPattern, LoadOptions, RuleSet, Search, Severity, StringOp,
};
use std::path::Path;

const RULE_ID: &str = "5f6e3b4a-8c1d-4e2f-9a0b-1c2d3e4f5a6b";

/// A rule that fires on every event with `EventID: 1`.
fn rule() -> String {
    format!(
        "title: Any process\nid: {RULE_ID}\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        EventID: 1\n    condition: sel\n"
    )
}

/// Values an attacker controls: Sigma wildcards and escapes, YAML syntax, quotes,
/// control characters, YAML line breaks, a byte-order mark, astral characters.
fn hostile() -> Vec<(String, String)> {
    [
        ("Image", "C:\\Windows\\*\\evil?.exe"),
        (
            "CommandLine",
            "cmd /c \"echo '*' \\\\server\\share\\\" & whoami\r\nnext\tline",
        ),
        (
            "User",
            "- item: {a: [b]} # not a comment &anchor *alias !!tag %TAG",
        ),
        (
            "ParentImage",
            "\u{0}\u{7}\u{1b}[31m\u{7f}\u{85}\u{2028}\u{2029}\u{feff}\u{fffe}end",
        ),
        (
            "Description",
            "🦀 ünïcode — ∗ and ＊ and a trailing backslash \\",
        ),
        ("weird \"name\": with: colons", "  padded  "),
        ("Product", ""),
    ]
    .into_iter()
    .map(|(f, v)| (f.to_owned(), v.to_owned()))
    .collect()
}

fn load(yaml: &str) -> (RuleSet, Vec<rampart_sigma::Diagnostic>) {
    load_str(yaml, Path::new("mf_test.yml"), &LoadOptions::default())
}

fn event(fields: &[(String, String)]) -> Event {
    let mut event = Event::default();
    event.set("EventID", Value::Int(1));
    for (name, value) in fields {
        event.set(name, Value::Str(value.as_str().into()));
    }
    event
}

/// Whether the rule still fires on the event once the written filter is applied.
fn fires(filter_yaml: &str, event: &Event) -> bool {
    let (mut set, diagnostics) = load(&format!("{}---\n{filter_yaml}", rule()));
    assert!(
        diagnostics.iter().all(|d| d.severity == Severity::Warning),
        "{diagnostics:?}"
    );
    assert_eq!((set.rules.len(), set.filters.len()), (1, 1));
    set.apply_filters();
    set.rules[0].matches(event)
}

#[test]
fn hostile_values_read_back_exactly() {
    let fields = hostile();
    let written = suppression_filter(
        RULE_ID,
        &fields,
        "benign: \"backup\" job\nsecond line",
        "analyst \u{1b}[1m",
        None,
    )
    .unwrap();
    let (set, diagnostics) = load(&written.yaml);
    assert!(diagnostics.is_empty(), "{diagnostics:?}\n{}", written.yaml);
    assert_eq!(set.filters.len(), 1);
    let filter = &set.filters[0];
    assert_eq!(filter.id.as_deref(), Some(written.id.as_str()));
    assert_eq!(filter.rules, [RULE_ID]);
    assert_eq!(
        filter.description.as_deref(),
        Some("benign: \"backup\" job\nsecond line")
    );
    assert_eq!(filter.date.as_deref(), Some(today().to_string().as_str()));
    assert_eq!(filter.expires, None);
    // One map, one equality per field, with exactly the text given.
    let Some(Search::Maps(maps)) = filter.detection.search("selection") else {
        panic!("no selection map: {}", written.yaml);
    };
    assert_eq!(maps.len(), 1);
    let items = &maps[0].0;
    assert_eq!(items.len(), fields.len());
    for ((name, value), item) in fields.iter().zip(items) {
        assert_eq!(&item.field, name);
        let FieldPattern::Any(patterns) = &item.pattern else {
            panic!("{name}: {:?}", item.pattern);
        };
        assert_eq!(patterns.len(), 1, "{name}");
        assert_eq!(patterns[0].op, StringOp::Equals, "{name}: {patterns:?}");
        assert_eq!(&patterns[0].text, value, "{name}");
    }
}

#[test]
fn the_filter_suppresses_exactly_the_values_given() {
    let fields = hostile();
    let written = suppression_filter(RULE_ID, &fields, "", "", None).unwrap();
    assert!(!fires(&written.yaml, &event(&fields)));
    // Each field must match: change any one and the rule fires again, including a
    // value that the wildcards of an unescaped filter would still have matched.
    for at in 0..fields.len() {
        let mut changed = fields.clone();
        changed[at].1 = changed[at].1.replace(['*', '?'], "xyz") + "x";
        assert!(fires(&written.yaml, &event(&changed)), "{}", fields[at].0);
    }
    let mut wildcard_read = fields.clone();
    wildcard_read[0].1 = "C:\\Windows\\System32\\evilA.exe".to_owned();
    assert!(fires(&written.yaml, &event(&wildcard_read)));
}

#[test]
fn a_field_named_twice_matches_either_value() {
    let fields = vec![
        ("User".to_owned(), "alice".to_owned()),
        ("User".to_owned(), "bob".to_owned()),
    ];
    let written = suppression_filter(RULE_ID, &fields, "", "", None).unwrap();
    let user = |name: &str| event(&[("User".to_owned(), name.to_owned())]);
    assert!(!fires(&written.yaml, &user("alice")));
    assert!(!fires(&written.yaml, &user("bob")));
    assert!(fires(&written.yaml, &user("carol")));
}

#[test]
fn ids_are_uuid_v4_and_file_names_follow_the_specification() {
    let fields = vec![("User".to_owned(), "alice".to_owned())];
    let a = suppression_filter(RULE_ID, &fields, "", "", None).unwrap();
    let b = suppression_filter(RULE_ID, &fields, "", "", None).unwrap();
    assert_ne!(a.id, b.id);
    for written in [&a, &b] {
        let parts: Vec<&str> = written.id.split('-').collect();
        let lengths: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        assert_eq!(lengths, [8, 4, 4, 4, 12], "{}", written.id);
        assert!(written
            .id
            .chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert!(parts[2].starts_with('4'), "{}", written.id);
        assert!(
            matches!(&parts[3][..1], "8" | "9" | "a" | "b"),
            "{}",
            written.id
        );
        // 10 to 70 characters of a-z, 0-9 and `_`, `mf_` prefix, `.yml`.
        let stem = written.file_name.strip_suffix(".yml").unwrap();
        assert!(stem.starts_with("mf_") && (10..=70).contains(&stem.len()));
        assert!(stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
    }
}

#[test]
fn an_expired_filter_is_reported_and_no_longer_applies() {
    let fields = vec![("User".to_owned(), "alice".to_owned())];
    let alice = event(&fields);
    let yesterday = today().checked_sub_days(Days::new(1)).unwrap();
    let tomorrow = today().checked_add_days(Days::new(1)).unwrap();

    let active = suppression_filter(RULE_ID, &fields, "", "", Some(tomorrow)).unwrap();
    let (set, diagnostics) = load(&active.yaml);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(set.filters[0].expires, Some(tomorrow));
    assert!(set.filters[0].is_active());
    assert!(!fires(&active.yaml, &alice));

    // Expiring today: no longer applies today.
    for day in [today(), yesterday] {
        let expired = suppression_filter(RULE_ID, &fields, "", "", Some(day)).unwrap();
        let (set, diagnostics) = load(&expired.yaml);
        assert_eq!(
            set.filters.len(),
            1,
            "an expired filter still loads, to be listed"
        );
        assert!(!set.filters[0].is_active());
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(diagnostics[0].kind, DiagnosticKind::Expired);
        assert_eq!(diagnostics[0].severity, Severity::Warning);
        assert!(diagnostics[0].message.contains(&day.to_string()));
        assert!(fires(&expired.yaml, &alice), "expired on {day}");
    }
    let day = NaiveDate::from_ymd_opt(2030, 1, 2).unwrap();
    let filter = &load(
        &suppression_filter(RULE_ID, &fields, "", "", Some(day))
            .unwrap()
            .yaml,
    )
    .0
    .filters[0];
    assert!(filter.active_on(NaiveDate::from_ymd_opt(2030, 1, 1).unwrap()));
    assert!(!filter.active_on(day));
}

#[test]
fn a_bad_expiry_rejects_the_filter() {
    let fields = vec![("User".to_owned(), "alice".to_owned())];
    let written = suppression_filter(RULE_ID, &fields, "", "", None).unwrap();
    let yaml = written
        .yaml
        .replace("logsource:", "expires: next tuesday\nlogsource:");
    let (set, diagnostics) = load(&yaml);
    assert!(set.filters.is_empty());
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].kind, DiagnosticKind::InvalidAttribute);
    assert_eq!(diagnostics[0].line, 4, "{}", diagnostics[0]);
}

#[test]
fn unusable_suppressions_are_refused() {
    let one = vec![("User".to_owned(), "alice".to_owned())];
    assert_eq!(
        suppression_filter(RULE_ID, &[], "", "", None),
        Err(SuppressionError::NoFields)
    );
    assert_eq!(
        suppression_filter(" ", &one, "", "", None),
        Err(SuppressionError::NoRule)
    );
    for name in ["", "Image|re", "CommandLine|contains|all"] {
        let fields = vec![(name.to_owned(), "x".to_owned())];
        assert_eq!(
            suppression_filter(RULE_ID, &fields, "", "", None),
            Err(SuppressionError::FieldName(name.to_owned()))
        );
    }
}
