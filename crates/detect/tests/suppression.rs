//! Filters that suppress matches: a suppressed match gives no alert and is counted per
//! (rule, filter), never dropped silently; expired filters no longer apply.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use rampart_detect::{Engine, LogsourceMap, SuppressedCount};
use rampart_event::{Alert, Event, EventMeta, Value};
use rampart_sigma::filter::{suppression_filter, today};
use rampart_sigma::{load_rules, load_str, LoadOptions, RuleSet};
use rampart_testkit::data_path;
use std::path::Path;

fn rules(yaml: &str) -> RuleSet {
    let (set, diagnostics) = load_str(yaml, Path::new("test.yml"), &LoadOptions::default());
    assert_eq!(
        set.rules.len() + set.filters.len(),
        yaml.matches("title:").count(),
        "{diagnostics:?}"
    );
    set
}

fn proc_event(fields: &[(&str, &str)]) -> Event {
    let mut event = Event {
        meta: EventMeta {
            channel: Some("Microsoft-Windows-Sysmon/Operational".into()),
            event_id: Some(1),
            ..EventMeta::default()
        },
        fields: Vec::new(),
    };
    event.set("EventID", Value::Int(1));
    for (name, value) in fields {
        event.set(name, Value::Str((*value).into()));
    }
    event
}

fn scan(engine: &Engine, events: &[Event]) -> Vec<Alert> {
    let mut scratch = engine.scratch();
    let mut alerts = Vec::new();
    for event in events {
        engine.scan(event, &mut scratch, &mut |alert| alerts.push(alert));
    }
    alerts
}

fn counts(engine: &Engine) -> Vec<(String, String, u64)> {
    engine
        .suppressed()
        .into_iter()
        .map(|s: SuppressedCount| (s.rule, s.filter_title, s.count))
        .collect()
}

const RULES: &str = "title: Whoami\nid: 11111111-2222-3333-4444-555555555555\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '\\whoami.exe'\n    condition: sel\n---\ntitle: Net\nid: 66666666-2222-3333-4444-555555555555\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '\\net.exe'\n    condition: sel\n---\n";

#[test]
fn suppressed_matches_are_counted_per_rule_and_filter() {
    let yaml = format!(
        "{RULES}title: Not for admins\nlogsource:\n    product: windows\nfilter:\n    rules:\n        - 11111111-2222-3333-4444-555555555555\n        - 66666666-2222-3333-4444-555555555555\n    selection:\n        User: 'admin'\n    condition: not selection\n---\ntitle: Only on servers\nlogsource:\n    product: windows\nfilter:\n    rules:\n        - 11111111-2222-3333-4444-555555555555\n    selection:\n        Computer|startswith: 'srv'\n    condition: selection\n"
    );
    let set = rules(&yaml);
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let whoami = |user: &str, computer: &str| {
        proc_event(&[
            ("Image", "C:\\Windows\\whoami.exe"),
            ("User", user),
            ("Computer", computer),
        ])
    };
    let net = |user: &str| proc_event(&[("Image", "C:\\Windows\\net.exe"), ("User", user)]);
    let events = [
        whoami("bob", "srv1"),                                       // alert
        whoami("ADMIN", "srv1"), // suppressed by the first filter
        whoami("bob", "ws7"),    // suppressed by the second (an including filter)
        whoami("admin", "ws7"),  // suppressed once, by the first filter that excludes it
        net("admin"),            // suppressed
        net("bob"),              // alert
        proc_event(&[("Image", "C:\\calc.exe"), ("User", "admin")]), // no match at all
    ];
    let alerts = scan(&engine, &events);
    let fired: Vec<(&str, &str)> = alerts
        .iter()
        .map(|a| (a.rule_title.as_str(), a.matched[0].value.as_str()))
        .collect();
    assert_eq!(
        fired,
        [
            ("Whoami", "C:\\Windows\\whoami.exe"),
            ("Net", "C:\\Windows\\net.exe")
        ]
    );
    let whoami_id = "11111111-2222-3333-4444-555555555555".to_owned();
    let net_id = "66666666-2222-3333-4444-555555555555".to_owned();
    assert_eq!(
        counts(&engine),
        [
            (whoami_id.clone(), "Not for admins".to_owned(), 2),
            (whoami_id, "Only on servers".to_owned(), 1),
            (net_id, "Not for admins".to_owned(), 1),
        ]
    );
    // Alerts and suppressions together are what the rules matched without filters.
    let (unfiltered, _) = Engine::compile(
        &RuleSet {
            filters: Vec::new(),
            ..set.clone()
        },
        &LogsourceMap::builtin(),
    );
    let total: u64 = engine.suppressed().iter().map(|s| s.count).sum();
    assert_eq!(
        scan(&unfiltered, &events).len(),
        alerts.len() + total as usize
    );
    assert!(unfiltered.suppressed().is_empty());
}

#[test]
fn expired_filters_do_not_suppress_or_count() {
    let fields = vec![("User".to_owned(), "admin".to_owned())];
    let yesterday = today().pred_opt().unwrap();
    let expired = suppression_filter(
        "11111111-2222-3333-4444-555555555555",
        &fields,
        "",
        "",
        Some(yesterday),
    )
    .unwrap();
    let set = rules(&format!("{RULES}{}", expired.yaml));
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let event = proc_event(&[("Image", "C:\\Windows\\whoami.exe"), ("User", "admin")]);
    assert_eq!(scan(&engine, &[event]).len(), 1);
    assert!(engine.suppressed().is_empty());
}

/// The suppression of one real alert, on a real rule set over real events: exactly
/// that alert's pattern goes (counted), the rule's other alerts and every other
/// rule's stay.
#[test]
fn a_suppression_written_from_a_real_alert_removes_just_its_pattern() {
    let (mut set, _) = load_rules(&[data_path("sigma/rules/windows/process_creation")]);
    let events: Vec<Event> = common::evtx_files(&data_path("evtx-attack-samples/Execution"))
        .iter()
        .flat_map(|path| common::read_evtx(path))
        .collect();
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let before = scan(&engine, &events);
    // A rule with alerts of at least two different patterns; suppress the first one's.
    let target = before
        .iter()
        .find(|a| {
            before
                .iter()
                .any(|b| b.rule_id == a.rule_id && b.matched != a.matched)
        })
        .expect("a rule with two different alerts")
        .clone();
    let fields: Vec<(String, String)> = target
        .matched
        .iter()
        .map(|m| (m.field.clone(), m.value.clone()))
        .collect();
    let written = suppression_filter(&target.rule_id, &fields, "test", "tests", None).unwrap();
    let (filters, diagnostics) = load_str(
        &written.yaml,
        Path::new(&written.file_name),
        &LoadOptions::default(),
    );
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    set.filters.extend(filters.filters);
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let after = scan(&engine, &events);

    let same_pattern = |alert: &Alert| {
        alert.rule_id == target.rule_id
            && fields.iter().all(|(field, value)| {
                alert
                    .matched
                    .iter()
                    .any(|m| &m.field == field && m.value.to_lowercase() == value.to_lowercase())
            })
    };
    let expected: Vec<&Alert> = before.iter().filter(|a| !same_pattern(a)).collect();
    let removed = before.len() - expected.len();
    assert!(removed >= 1);
    assert_eq!(after.iter().collect::<Vec<_>>(), expected);
    assert!(after.iter().any(|a| a.rule_id == target.rule_id));
    let suppressed = engine.suppressed();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0].rule, target.rule_id);
    assert_eq!(
        suppressed[0].filter_id.as_deref(),
        Some(written.id.as_str())
    );
    assert_eq!(suppressed[0].count, removed as u64);
}
