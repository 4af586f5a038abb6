#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Sigma correlation rules at run time: the specification's own examples and each
//! correlation type with true and false cases, window expiry and ordering.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rampart_correlate::sigma::{CorrelationAlert, CorrelationEngine};
use rampart_event::{Event, Value};
use rampart_sigma::{load_str, LoadOptions, RuleSet};
use std::path::Path;

fn t(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap() + TimeDelta::seconds(seconds)
}

fn event(fields: &[(&str, &str)]) -> Event {
    let mut event = Event::default();
    for (name, value) in fields {
        event.set(name, Value::Str((*value).into()));
    }
    event
}

fn load(yaml: &str) -> RuleSet {
    let (set, diagnostics) = load_str(yaml, Path::new("test.yml"), &LoadOptions::default());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    set
}

fn engine(set: &RuleSet) -> CorrelationEngine {
    let (engine, warnings) = CorrelationEngine::new(&set.correlations, &set.rules);
    assert!(warnings.is_empty(), "{warnings:?}");
    engine
}

/// The YAML of the spec's complete example ("Failed Logins Followed by Successful Login").
fn spec_example() -> String {
    let spec = std::fs::read_to_string(rampart_testkit::data_path(
        "sigma-specification/specification/sigma-correlation-rules-specification.md",
    ))
    .unwrap();
    let section = spec
        .split("### Failed Logins Followed by Successful Login")
        .nth(1)
        .unwrap();
    let block = section.split("```yml").nth(1).unwrap();
    block.split("```").next().unwrap().to_string()
}

/// One rule match: rule id, seconds after the start, event fields.
type Hit<'a> = (&'a str, i64, &'a [(&'a str, &'a str)]);

const FAILED: &str = "53ba33fd-3a50-4468-a5ef-c583635cfa92";
const SUCCESS: &str = "4d0a2c83-c62c-4ed4-b475-c7e23a9269b8";

fn run(engine: &mut CorrelationEngine, hits: &[Hit<'_>]) -> Vec<CorrelationAlert> {
    let mut fired = Vec::new();
    for (rule, at, fields) in hits {
        fired.extend(engine.observe(rule, t(*at), &event(fields)));
    }
    fired.extend(engine.finish());
    fired
}

fn titles(fired: &[CorrelationAlert]) -> Vec<&str> {
    fired.iter().map(|a| a.title.as_str()).collect()
}

#[test]
fn spec_example_brute_force_then_success_fires() {
    let set = load(&spec_example());
    assert_eq!((set.rules.len(), set.correlations.len()), (2, 2));
    let mut engine = engine(&set);
    let alice: &[(&str, &str)] = &[("User", "alice")];
    let mut hits: Vec<Hit<'_>> = (0..10).map(|i| (FAILED, i * 30, alice)).collect();
    hits.push((SUCCESS, 400, alice));
    let fired = run(&mut engine, &hits);
    assert_eq!(
        titles(&fired),
        [
            "Multiple failed logons",
            "Correlation - Multiple Failed Logins Followed by Successful Login"
        ]
    );
    let last = &fired[1];
    assert_eq!(last.group, [("User".to_string(), "alice".to_string())]);
    assert_eq!(last.level, rampart_event::Level::High);
    assert_eq!(last.kind, "temporal_ordered");
    // Base rules referenced with the default `generate: false` do not alert alone.
    assert!(engine.is_suppressed(FAILED) && engine.is_suppressed(SUCCESS));
    // Both base rules feed a correlation; an unrelated rule id does not.
    assert!(engine.listens_to(FAILED) && engine.listens_to(SUCCESS));
    assert!(!engine.listens_to("00000000-0000-0000-0000-000000000000"));
}

#[test]
fn spec_example_needs_ten_failures_of_the_same_user() {
    let set = load(&spec_example());
    let mut engine = engine(&set);
    let mut hits: Vec<Hit<'_>> = (0..9)
        .map(|i| (FAILED, i * 30, &[("User", "alice")][..]))
        .collect();
    hits.push((FAILED, 280, &[("User", "bob")]));
    hits.push((SUCCESS, 400, &[("User", "alice")]));
    assert!(run(&mut engine, &hits).is_empty());
}

#[test]
fn spec_example_success_before_failures_is_out_of_order() {
    let set = load(&spec_example());
    let mut engine = engine(&set);
    let alice: &[(&str, &str)] = &[("User", "alice")];
    let mut hits: Vec<Hit<'_>> = vec![(SUCCESS, 0, alice)];
    hits.extend((1..=10).map(|i| (FAILED, i * 30, alice)));
    assert_eq!(titles(&run(&mut engine, &hits)), ["Multiple failed logons"]);
}

#[test]
fn spec_example_success_after_the_window_does_not_fire() {
    let set = load(&spec_example());
    let mut engine = engine(&set);
    let alice: &[(&str, &str)] = &[("User", "alice")];
    let mut hits: Vec<Hit<'_>> = (0..10).map(|i| (FAILED, i * 30, alice)).collect();
    // The burst completed at 270 s; 10 minutes later the window has expired.
    hits.push((SUCCESS, 270 + 601, alice));
    assert_eq!(titles(&run(&mut engine, &hits)), ["Multiple failed logons"]);
}

const BASE: &str = r#"
title: Recon A
id: 00000000-0000-0000-0000-00000000000a
name: recon_a
logsource: {product: windows, category: process_creation}
detection: {sel: {Image|endswith: '\whoami.exe'}, condition: sel}
---
title: Recon B
id: 00000000-0000-0000-0000-00000000000b
name: recon_b
logsource: {product: windows, category: process_creation}
detection: {sel: {Image|endswith: '\net.exe'}, condition: sel}
---
title: Recon C
id: 00000000-0000-0000-0000-00000000000c
name: recon_c
logsource: {product: windows, category: process_creation}
detection: {sel: {Image|endswith: '\ipconfig.exe'}, condition: sel}
"#;

fn with_base(correlation: &str) -> RuleSet {
    load(&format!("{BASE}---\n{correlation}"))
}

const A: &str = "00000000-0000-0000-0000-00000000000a";
const B: &str = "00000000-0000-0000-0000-00000000000b";
const C: &str = "00000000-0000-0000-0000-00000000000c";

#[test]
fn temporal_needs_all_rules_within_the_timespan_in_any_order() {
    let yaml = "title: Recon burst\ncorrelation:\n  type: temporal\n  rules: [recon_a, recon_b, recon_c]\n  group-by: [ComputerName, User]\n  timespan: 5m\n";
    let host: &[(&str, &str)] = &[("ComputerName", "ws1"), ("User", "eve")];
    let mut e = engine(&with_base(yaml));
    let fired = run(&mut e, &[(C, 0, host), (A, 60, host), (B, 120, host)]);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].rules, ["recon_a", "recon_b", "recon_c"]);
    // C falls out of the 5-minute window before B arrives.
    let mut e = engine(&with_base(yaml));
    assert!(run(&mut e, &[(C, 0, host), (A, 200, host), (B, 301, host)]).is_empty());
    // Another user on the same host is another group.
    let mut e = engine(&with_base(yaml));
    let other: &[(&str, &str)] = &[("ComputerName", "ws1"), ("User", "bob")];
    assert!(run(&mut e, &[(C, 0, host), (A, 60, host), (B, 120, other)]).is_empty());
}

#[test]
fn temporal_ordered_requires_the_listed_order() {
    let yaml = "title: Ordered recon\ncorrelation:\n  type: temporal_ordered\n  rules: [recon_a, recon_b]\n  group-by: [ComputerName]\n  timespan: 1m\n";
    let host: &[(&str, &str)] = &[("ComputerName", "ws1")];
    let mut e = engine(&with_base(yaml));
    assert_eq!(run(&mut e, &[(A, 0, host), (B, 30, host)]).len(), 1);
    let mut e = engine(&with_base(yaml));
    assert!(run(&mut e, &[(B, 0, host), (A, 30, host)]).is_empty());
    let mut e = engine(&with_base(yaml));
    assert!(run(&mut e, &[(A, 0, host), (B, 61, host)]).is_empty());
    // A late A restarts the chain: A(0) … A(50), B(100) is within a minute of the second A.
    let mut e = engine(&with_base(yaml));
    assert_eq!(
        run(&mut e, &[(A, 0, host), (A, 50, host), (B, 100, host)]).len(),
        1
    );
}

#[test]
fn event_count_fires_once_the_threshold_is_reached_in_a_sliding_window() {
    let yaml = "title: Many whoami\ncorrelation:\n  type: event_count\n  rules: [recon_a]\n  group-by: [ComputerName]\n  timespan: 1m\n  condition: {gte: 3}\n";
    let host: &[(&str, &str)] = &[("ComputerName", "ws1")];
    let mut e = engine(&with_base(yaml));
    let fired = run(
        &mut e,
        &[(A, 0, host), (A, 50, host), (A, 70, host), (A, 100, host)],
    );
    // 0 expires before 70; 50, 70, 100 are three within one minute.
    assert_eq!(fired.len(), 1);
    assert_eq!((fired[0].events, fired[0].value), (3, 3.0));
    assert_eq!((fired[0].first_seen, fired[0].last_seen), (t(50), t(100)));
    let mut e = engine(&with_base(yaml));
    assert!(run(&mut e, &[(A, 0, host), (A, 61, host), (A, 122, host)]).is_empty());
}

#[test]
fn event_count_below_a_limit_is_judged_when_the_window_closes() {
    let yaml = "title: Rare whoami\ncorrelation:\n  type: event_count\n  rules: [recon_a]\n  group-by: [ComputerName]\n  timespan: 1h\n  condition: {lt: 3}\n";
    let ws1: &[(&str, &str)] = &[("ComputerName", "ws1")];
    let ws2: &[(&str, &str)] = &[("ComputerName", "ws2")];
    let mut e = engine(&with_base(yaml));
    let fired = run(
        &mut e,
        &[
            (A, 0, ws1),
            (A, 10, ws1),
            (A, 20, ws2),
            (A, 30, ws2),
            (A, 40, ws2),
        ],
    );
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].group[0].1, "ws1");
}

#[test]
fn value_count_counts_distinct_values() {
    let yaml = "title: Spray\ncorrelation:\n  type: value_count\n  rules: [recon_b]\n  group-by: [ComputerName]\n  timespan: 1d\n  condition: {field: User, gte: 3}\n";
    let u = |user: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![("ComputerName", "dc1"), ("User", user)]
    };
    let (a, b, c) = (u("a"), u("b"), u("c"));
    let mut e = engine(&with_base(yaml));
    assert!(run(&mut e, &[(B, 0, &a), (B, 10, &a), (B, 20, &b), (B, 30, &b)]).is_empty());
    let mut e = engine(&with_base(yaml));
    let fired = run(&mut e, &[(B, 0, &a), (B, 10, &a), (B, 20, &b), (B, 30, &c)]);
    assert_eq!(fired[0].value, 3.0);
}

#[test]
fn value_sum_and_avg_aggregate_numbers() {
    let sum = "title: Exfil\ncorrelation:\n  type: value_sum\n  rules: [recon_c]\n  group-by: [User]\n  timespan: 1h\n  condition: {field: bytes_sent, gt: 1000}\n";
    let avg = "title: Big average\ncorrelation:\n  type: value_avg\n  rules: [recon_c]\n  group-by: [User]\n  timespan: 1h\n  condition: {field: bytes_sent, gt: 500}\n";
    let n = |bytes: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![("User", "eve"), ("bytes_sent", bytes)]
    };
    let (small, big) = (n("400"), n("700"));
    let mut e = engine(&with_base(sum));
    assert_eq!(run(&mut e, &[(C, 0, &small), (C, 10, &big)]).len(), 1);
    let mut e = engine(&with_base(sum));
    assert!(run(&mut e, &[(C, 0, &small), (C, 10, &small)]).is_empty());
    let mut e = engine(&with_base(avg));
    let fired = run(&mut e, &[(C, 0, &small), (C, 10, &big), (C, 20, &big)]);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].value, 600.0);
    let mut e = engine(&with_base(avg));
    assert!(run(&mut e, &[(C, 0, &small), (C, 10, &small), (C, 20, &big)]).is_empty());
}

#[test]
fn value_percentile_finds_rare_values() {
    let yaml = "title: Rare process\ncorrelation:\n  type: value_percentile\n  rules: [recon_a]\n  group-by: [ComputerName]\n  timespan: 24h\n  condition: {field: Image, lte: 10}\n";
    let common: Vec<(&str, &str)> = vec![("ComputerName", "ws1"), ("Image", "svchost.exe")];
    let rare: Vec<(&str, &str)> = vec![("ComputerName", "ws1"), ("Image", "evil.exe")];
    let mut hits: Vec<Hit<'_>> = (0..19).map(|i| (A, i, common.as_slice())).collect();
    hits.push((A, 30, rare.as_slice()));
    let mut e = engine(&with_base(yaml));
    let fired = run(&mut e, &hits);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].value, 5.0);
    let mut e = engine(&with_base(yaml));
    assert!(run(&mut e, &hits[..19]).is_empty());
}

#[test]
fn aliases_group_different_fields_of_different_rules() {
    let yaml = "title: Error then connection\ncorrelation:\n  type: temporal\n  rules: [recon_a, recon_b]\n  group-by: [internal_ip]\n  timespan: 10s\n  aliases:\n    internal_ip:\n      recon_a: destination.ip\n      recon_b: source.ip\n";
    let mut e = engine(&with_base(yaml));
    let fired = run(
        &mut e,
        &[
            (A, 0, &[("destination.ip", "10.0.0.5")]),
            (B, 5, &[("source.ip", "10.0.0.5")]),
        ],
    );
    assert_eq!(fired.len(), 1);
    assert_eq!(
        fired[0].group,
        [("internal_ip".to_string(), "10.0.0.5".to_string())]
    );
    let mut e = engine(&with_base(yaml));
    assert!(run(
        &mut e,
        &[
            (A, 0, &[("destination.ip", "10.0.0.5")]),
            (B, 5, &[("source.ip", "10.0.0.6")])
        ]
    )
    .is_empty());
}

#[test]
fn generate_true_keeps_base_rules_alerting_and_unknown_references_warn() {
    let yaml = "title: Gen\ncorrelation:\n  type: event_count\n  rules: [recon_a, no_such_rule]\n  group-by: [ComputerName]\n  timespan: 1m\n  condition: {gte: 2}\n  generate: true\n";
    let set = with_base(yaml);
    let (engine, warnings) = CorrelationEngine::new(&set.correlations, &set.rules);
    assert!(!engine.is_suppressed(A));
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("no_such_rule"));
}

#[test]
fn expired_groups_are_dropped_so_state_stays_bounded() {
    let yaml = "title: Many whoami\ncorrelation:\n  type: event_count\n  rules: [recon_a]\n  group-by: [ComputerName]\n  timespan: 1m\n  condition: {gte: 1000}\n";
    let mut e = engine(&with_base(yaml));
    let hosts: Vec<String> = (0..20_000).map(|i| format!("host{i}")).collect();
    for (i, host) in hosts.iter().enumerate() {
        // One event per host, ten seconds apart: at most six hosts are ever in a window.
        e.observe(A, t(i as i64 * 10), &event(&[("ComputerName", host)]));
    }
    let bound =
        rampart_correlate::sigma::GROUP_SOFT_LIMIT + rampart_correlate::sigma::SWEEP_EVERY as usize;
    assert!(e.open_groups() <= bound, "{}", e.open_groups());
    assert!(
        hosts.len() > 2 * bound,
        "the test must exceed the bound to show expiry"
    );
}

#[test]
fn a_fired_correlation_becomes_an_alert_on_its_host() {
    let yaml = "title: Many whoami\nid: 11111111-0000-0000-0000-000000000000\ntags: [attack.discovery, attack.t1033]\nlevel: high\ncorrelation:\n  type: event_count\n  rules: [recon_a]\n  group-by: [ComputerName]\n  timespan: 1m\n  condition: {gte: 2}\n";
    let host: &[(&str, &str)] = &[("ComputerName", "ws9")];
    let mut e = engine(&with_base(yaml));
    let fired = run(&mut e, &[(A, 0, host), (A, 1, host)]);
    let alert = fired[0].to_alert();
    assert_eq!(alert.rule_id, "11111111-0000-0000-0000-000000000000");
    assert_eq!(alert.event.computer.as_deref(), Some("ws9"));
    assert_eq!(alert.techniques, ["T1033"]);
    assert_eq!(alert.event.timestamp, Some(t(1)));
}

#[test]
fn alert_correlator_groups_by_the_event_header_and_returns_alerts() {
    use rampart_correlate::sigma::AlertCorrelator;
    use rampart_event::{Alert, EventMeta, Level};
    let yaml = "title: Many whoami\nlevel: high\ncorrelation:\n  type: event_count\n  rules: [recon_a]\n  group-by: [Computer]\n  timespan: 1m\n  condition: {gte: 2}\n";
    let set = with_base(yaml);
    let (correlator, warnings) = AlertCorrelator::new(&set).unwrap();
    assert!(warnings.is_empty());
    let hit = |seconds: i64, host: &str| {
        let meta = EventMeta {
            timestamp: Some(t(seconds)),
            computer: Some(host.into()),
            ..EventMeta::default()
        };
        let alert = Alert {
            id: String::new(),
            rule_id: A.into(),
            rule_title: "Recon A".into(),
            level: Level::Low,
            status: None,
            techniques: vec![],
            tactics: vec![],
            tags: vec![],
            event: meta.clone(),
            context: Vec::new(),
            intel: None,
            matched: vec![],
        };
        (
            alert,
            Event {
                meta,
                fields: vec![],
            },
        )
    };
    let (a1, e1) = hit(0, "ws1");
    let (a2, e2) = hit(5, "ws2");
    let (a3, e3) = hit(10, "ws1");
    assert!(correlator.suppressed(&a1));
    assert!(correlator.observe(&a1, &e1).is_empty());
    assert!(correlator.observe(&a2, &e2).is_empty());
    let fired = correlator.observe(&a3, &e3);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].event.computer.as_deref(), Some("ws1"));
    assert_eq!(fired[0].level, Level::High);
    assert!(correlator.finish().is_empty());
    assert!(AlertCorrelator::new(&load(BASE)).is_none());
}

#[test]
fn a_timespan_beyond_the_clock_range_is_an_unbounded_window_not_a_panic() {
    // 10^17 seconds parses as a u64 but is past the largest TimeDelta.
    let yaml = "title: Ever-open recon\ncorrelation:\n  type: temporal\n  rules: [recon_a, recon_b]\n  group-by: [ComputerName]\n  timespan: 100000000000000000s\n";
    let host: &[(&str, &str)] = &[("ComputerName", "ws1")];
    let mut e = engine(&with_base(yaml));
    let ten_years = 10 * 365 * 86_400;
    assert_eq!(run(&mut e, &[(A, 0, host), (B, ten_years, host)]).len(), 1);
}
