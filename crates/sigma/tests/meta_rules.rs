//! Correlation rules, filters and multi-document collections, from the specification's
//! own examples (`sigma-specification/tests/schema` and the correlation spec's
//! complete example).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_event::{Event, Level, Value};
use rampart_sigma::{load_rules, load_str, CmpOp, CorrelationType, LoadOptions, RuleSet};
use std::path::Path;

fn schema(path: &str) -> std::path::PathBuf {
    rampart_testkit::data_path(&format!("sigma-specification/tests/schema/{path}"))
}

fn load_one(path: &str) -> RuleSet {
    let (set, diagnostics) = load_rules(&[schema(path)]);
    assert!(diagnostics.is_empty(), "{path}: {diagnostics:?}");
    set
}

/// (file, type, rules, group-by, timespan seconds, condition fields, comparisons)
type CorrelationCase = (
    &'static str,
    CorrelationType,
    &'static [&'static str],
    &'static [&'static str],
    u64,
    &'static [&'static str],
    &'static [(CmpOp, f64)],
);

#[test]
fn correlation_examples_of_every_type() {
    // (file, type, rules, group-by, timespan seconds, condition field, comparisons)
    let cases: [CorrelationCase; 7] = [
        (
            "event_count.yml",
            CorrelationType::EventCount,
            &["5638f7c0-ac70-491d-8465-2a65075e0d86"],
            &["ComputerName"],
            3_600,
            &[],
            &[(CmpOp::Gte, 100.0)],
        ),
        (
            "value_count.yml",
            CorrelationType::ValueCount,
            &["5638f7c0-ac70-491d-8465-2a65075e0d86"],
            &["ComputerName", "WorkstationName"],
            86_400,
            &["User"],
            &[(CmpOp::Gte, 100.0)],
        ),
        (
            "temporal.yml",
            CorrelationType::Temporal,
            &["recon_cmd_a", "recon_cmd_b", "recon_cmd_c"],
            &["ComputerName", "User"],
            300,
            &[],
            &[],
        ),
        (
            "temporal_ordered.yml",
            CorrelationType::TemporalOrdered,
            &["recon_cmd_a", "recon_cmd_b", "recon_cmd_c"],
            &["ComputerName", "User"],
            300,
            &[],
            &[],
        ),
        (
            "value_sum.yml",
            CorrelationType::ValueSum,
            &["website_access"],
            &["SourceIP", "User"],
            3_600,
            &["bytes_sent"],
            &[(CmpOp::Gt, 1_000_000.0)],
        ),
        (
            "value_avg.yml",
            CorrelationType::ValueAvg,
            &["rule_a_id"],
            &["SourceIP", "User"],
            86_400,
            &["BytesOut"],
            &[(CmpOp::Gt, 500.0)],
        ),
        (
            "value_percentile.yml",
            CorrelationType::ValuePercentile,
            &["process_creation"],
            &["ComputerName"],
            86_400,
            &["Image"],
            &[(CmpOp::Lte, 1.0)],
        ),
    ];
    for (file, kind, rules, group_by, timespan, fields, tests) in cases {
        let set = load_one(&format!("correlation/{file}"));
        assert_eq!((set.rules.len(), set.correlations.len()), (0, 1), "{file}");
        let correlation = &set.correlations[0];
        assert_eq!(correlation.kind, kind, "{file}");
        assert_eq!(correlation.rules, rules, "{file}");
        assert_eq!(correlation.group_by, group_by, "{file}");
        assert_eq!(correlation.timespan_secs, timespan, "{file}");
        let (found_fields, found_tests) = correlation
            .condition
            .as_ref()
            .map(|c| (c.fields.clone(), c.tests.clone()))
            .unwrap_or_default();
        assert_eq!(
            (found_fields, found_tests),
            (
                fields.iter().map(|f| f.to_string()).collect(),
                tests.to_vec()
            ),
            "{file}"
        );
    }
}

#[test]
fn chained_correlations_in_one_collection() {
    // The "Failed Logins Followed by Successful Login" example of the correlation spec.
    let text = "title: Correlation - Multiple Failed Logins Followed by Successful Login\nid: b180ead8-d58f-40b2-ae54-c8940995b9b6\nstatus: experimental\ncorrelation:\n    type: temporal_ordered\n    rules:\n        - multiple_failed_login\n        - successful_login\n    group-by:\n        - User\n    timespan: 10m\nfalsepositives:\n    - Unlikely\nlevel: high\n---\ntitle: Multiple failed logons\nid: a8418a5a-5fc4-46b5-b23b-6c73beb19d41\nname: multiple_failed_login\ncorrelation:\n    type: event_count\n    rules:\n        - failed_login\n    group-by:\n        - User\n    timespan: 10m\n    condition:\n        gte: 10\n---\ntitle: Single failed login\nid: 53ba33fd-3a50-4468-a5ef-c583635cfa92\nname: failed_login\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID:\n            - 529\n            - 4625\n    condition: selection\n---\ntitle: Successful login\nid: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8\nname: successful_login\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID:\n            - 528\n            - 4624\n    condition: selection\n";
    let (set, diagnostics) = load_str(
        text,
        Path::new("mr_failed_then_success.yml"),
        &LoadOptions::default(),
    );
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(set.correlations.len(), 2);
    assert_eq!(set.rules.len(), 2);
    let outer = &set.correlations[0];
    assert_eq!(
        (outer.kind, outer.level, outer.timespan_secs),
        (CorrelationType::TemporalOrdered, Some(Level::High), 600)
    );
    assert!(outer.condition.is_none());
    let inner = &set.correlations[1];
    assert_eq!(inner.name.as_deref(), Some("multiple_failed_login"));
    // Every name a correlation refers to is defined in the collection.
    let names: Vec<&str> = set
        .rules
        .iter()
        .filter_map(|r| r.name.as_deref())
        .chain(set.correlations.iter().filter_map(|c| c.name.as_deref()))
        .collect();
    for reference in outer.rules.iter().chain(&inner.rules) {
        assert!(
            names.contains(&reference.as_str()),
            "{reference} is not defined"
        );
    }
    assert_eq!(set.rules[0].logsource.service.as_deref(), Some("security"));
}

#[test]
fn correlation_aliases_and_bad_correlations() {
    let text = "title: aliases\ncorrelation:\n    type: temporal\n    rules:\n        - internal_error\n        - new_network_connection\n    group-by:\n        - internal_ip\n    timespan: 10s\n    aliases:\n        internal_ip:\n            internal_error: destination.ip\n            new_network_connection: source.ip\n";
    let (set, diagnostics) = load_str(text, Path::new("a.yml"), &LoadOptions::default());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let aliases = &set.correlations[0].aliases;
    assert_eq!(aliases[0].0, "internal_ip");
    assert_eq!(
        aliases[0].1,
        vec![
            ("internal_error".to_string(), "destination.ip".to_string()),
            (
                "new_network_connection".to_string(),
                "source.ip".to_string()
            )
        ]
    );
    let broken = [
        ("title: t\ncorrelation:\n    type: sometimes\n    rules: [a]\n    timespan: 1h\n", 3),
        ("title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 1h\n", 3),
        ("title: t\ncorrelation:\n    type: value_count\n    rules: [a]\n    timespan: soon\n    condition: {gte: 2, field: User}\n", 5),
        ("title: t\ncorrelation:\n    type: value_sum\n    rules: [a]\n    timespan: 1h\n    condition: {gte: 2}\n", 3),
    ];
    for (text, line) in broken {
        let (set, diagnostics) = load_str(text, Path::new("bad.yml"), &LoadOptions::default());
        assert!(set.correlations.is_empty(), "{text}");
        assert_eq!(diagnostics.len(), 1, "{text}");
        assert_eq!(diagnostics[0].line, line, "{text}: {}", diagnostics[0]);
    }
}

fn event(fields: &[(&str, &str)]) -> Event {
    let mut event = Event::default();
    for (name, value) in fields {
        event.set(name, Value::Str((*value).into()));
    }
    event
}

#[test]
fn filters_parse_and_apply_to_the_rules_they_name() {
    let set = load_one("filter/filter_1.yml");
    assert_eq!(set.filters.len(), 1);
    let filter = &set.filters[0];
    assert_eq!(
        filter.rules,
        [
            "6f3e2987-db24-4c78-a860-b4f4095a7095",
            "df0841c0-9846-4e9f-ad8a-7df91571771b"
        ]
    );
    assert_eq!(
        filter.logsource.category.as_deref(),
        Some("process_creation")
    );
    assert_eq!(filter.detection.searches.len(), 1);

    let rules = "title: rar\nid: 6f3e2987-db24-4c78-a860-b4f4095a7095\nlogsource: {category: process_creation, product: windows}\ndetection:\n    selection:\n        Image|endswith: '\\rar.exe'\n    condition: selection\n---\ntitle: other\nid: 11111111-2222-3333-4444-555555555555\nlogsource: {category: process_creation, product: windows}\ndetection:\n    selection:\n        Image|endswith: '\\rar.exe'\n    condition: selection\n---\ntitle: excluding filter\nlogsource: {category: process_creation, product: windows}\nfilter:\n    rules: [6f3e2987-db24-4c78-a860-b4f4095a7095]\n    selection:\n        User|startswith: 'adm_'\n    condition: not selection\n";
    let (mut set, diagnostics) = load_str(rules, Path::new("f.yml"), &LoadOptions::default());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(set.apply_filters(), 1);
    let admin = event(&[("Image", "C:\\rar.exe"), ("User", "adm_bob")]);
    let user = event(&[("Image", "C:\\rar.exe"), ("User", "bob")]);
    assert!(!set.rules[0].matches(&admin));
    assert!(set.rules[0].matches(&user));
    // The rule the filter does not name is untouched.
    assert!(set.rules[1].matches(&admin));
}

#[test]
fn collections_with_global_repeat_and_reset() {
    let text = "action: global\ntitle: shared\nlogsource:\n    product: windows\ndetection:\n    selection:\n        EventID: 1\n    condition: selection and specific\n---\nlogsource:\n    service: sysmon\ndetection:\n    specific:\n        Image|endswith: '\\a.exe'\n---\naction: repeat\ndetection:\n    specific:\n        Image|endswith: '\\b.exe'\n---\naction: reset\n---\ntitle: alone\nlogsource:\n    product: linux\ndetection:\n    s:\n        A: x\n    condition: s\n";
    let (set, diagnostics) = load_str(text, Path::new("collection.yml"), &LoadOptions::default());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(set.rules.len(), 3);
    let (first, second, third) = (&set.rules[0], &set.rules[1], &set.rules[2]);
    assert_eq!(
        (
            first.title.as_str(),
            first.logsource.product.as_deref(),
            first.logsource.service.as_deref()
        ),
        ("shared", Some("windows"), Some("sysmon"))
    );
    let a = event(&[("EventID", "1"), ("Image", "C:\\a.exe")]);
    let b = event(&[("EventID", "1"), ("Image", "C:\\b.exe")]);
    assert!(first.matches(&a) && !first.matches(&b));
    assert!(second.matches(&b) && !second.matches(&a));
    assert_eq!(second.logsource.service.as_deref(), Some("sysmon"));
    // After the reset the global part no longer applies.
    assert_eq!(
        (third.title.as_str(), third.logsource.product.as_deref()),
        ("alone", Some("linux"))
    );
    assert_eq!(third.detection.searches.len(), 1);
}

#[test]
fn rule_metadata_and_attack_tags() {
    let set = load_one("rules/rule_1.yml");
    let rule = &set.rules[0];
    assert_eq!(
        rule.id.as_deref(),
        Some("545a5da6-f103-4919-a519-e9aec1026ee4")
    );
    assert_eq!(rule.level, Level::High);
    assert_eq!(rule.status.as_deref(), Some("test"));
    assert_eq!(rule.date.as_deref(), Some("2017-05-09"));
    assert_eq!(rule.related[0].kind, "similar");
    assert_eq!(rule.attack.techniques, ["T1211", "T1562.001"]);
    assert_eq!(rule.attack.tactics, ["defense-evasion"]);
    assert_eq!(rule.logsource.service.as_deref(), Some("application"));
    assert_eq!(rule.references.len(), 2);
    let tags: Vec<String> = [
        "attack.credential_access",
        "attack.s0002",
        "attack.g0016",
        "cve.2021-44228",
        "attack.t1003.001",
        // A data source (one SigmaHQ rule carries it) and a tactic by id are ids, not
        // tactic names: `ds0005` was once counted as an unknown tactic.
        "attack.ds0005",
        "attack.ta0006",
    ]
    .map(String::from)
    .to_vec();
    let attack = rampart_sigma::attack_tags(&tags);
    assert_eq!(attack.tactics, ["credential-access"]);
    assert_eq!(attack.other_ids, ["S0002", "G0016", "DS0005", "TA0006"]);
    assert_eq!(attack.techniques, ["T1003.001"]);
}
