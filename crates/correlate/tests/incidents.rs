#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Incident grouping, scoring and likely-next ranking, with the kill chain and group
//! data of the real ATT&CK Enterprise matrix (the newest in the data directory).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use rampart_correlate::{
    group_incidents, kill_chain_from, next_predictor_from, Coverage, IncidentConfig, KillChain,
};
use rampart_event::{Alert, EventMeta, Level, MatchedField};
use rampart_knowledge::Knowledge;
use std::collections::HashSet;
use std::sync::OnceLock;

fn knowledge() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(|| {
        let files = rampart_refdata::discover(&rampart_testkit::data_dir()).unwrap();
        Knowledge::from_files(&files).unwrap()
    })
}

fn chain() -> KillChain {
    kill_chain_from(knowledge())
}

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2019, 3, 19, 10, 0, 0).unwrap() + TimeDelta::minutes(minutes)
}

fn alert(
    rule: &str,
    level: Level,
    host: &str,
    minutes: i64,
    technique: &str,
    user: Option<&str>,
) -> Alert {
    Alert {
        id: String::new(),
        rule_id: rule.into(),
        rule_title: format!("rule {rule}"),
        level,
        status: None,
        techniques: vec![technique.into()],
        // Tactics left to the kill chain: the rule tags only the technique.
        tactics: vec![],
        tags: vec![],
        event: EventMeta {
            source: "x.evtx".into(),
            timestamp: Some(at(minutes)),
            computer: Some(host.into()),
            ..EventMeta::default()
        },
        context: Vec::new(),
        intel: None,
        matched: user
            .map(|u| {
                vec![MatchedField {
                    field: "SubjectUserName".into(),
                    value: u.into(),
                }]
            })
            .unwrap_or_default(),
    }
}

fn ids(alerts: &[Alert]) -> Vec<(String, &Alert)> {
    alerts
        .iter()
        .enumerate()
        .map(|(i, a)| (format!("a{i}"), a))
        .collect()
}

#[test]
fn alerts_split_by_host_and_inactivity() {
    let alerts = vec![
        alert("lsass", Level::High, "WS1", 20, "T1003.001", None),
        alert("psexec", Level::High, "WS1", 0, "T1021.002", None),
        alert("whoami", Level::Low, "WS1", 50, "T1033", None),
        alert("whoami", Level::Low, "WS1", 200, "T1033", None),
        alert("whoami", Level::Low, "DC1", 5, "T1033", None),
    ];
    let pairs = ids(&alerts);
    let incidents = group_incidents(
        pairs.iter().map(|(i, a)| (i.as_str(), *a)),
        &chain(),
        &IncidentConfig::default(),
    );
    assert_eq!(incidents.len(), 3);
    let main = &incidents[0];
    assert_eq!(main.host, "WS1");
    // Timeline in time order whatever the input order.
    let rules: Vec<_> = main.timeline.iter().map(|e| e.rule_id.as_str()).collect();
    assert_eq!(rules, ["psexec", "lsass", "whoami"]);
    assert_eq!(
        (main.first_seen, main.last_seen),
        (Some(at(0)), Some(at(50)))
    );
    // Tactics in matrix order, from the techniques' ATT&CK tactics.
    assert_eq!(
        main.tactics,
        ["credential-access", "discovery", "lateral-movement"]
    );
    assert_eq!(main.techniques, ["T1003.001", "T1033", "T1021.002"]);
    assert_eq!(main.max_level, Level::High);
    // The 200-minute alert is more than an hour after the previous one: its own incident.
    assert!(incidents
        .iter()
        .any(|i| i.host == "WS1" && i.timeline.len() == 1 && i.first_seen == Some(at(200))));
    // A wider window merges it back.
    let wide = IncidentConfig {
        inactivity: TimeDelta::hours(3),
        by_user: false,
    };
    let merged = group_incidents(pairs.iter().map(|(i, a)| (i.as_str(), *a)), &chain(), &wide);
    assert_eq!(merged.len(), 2);
}

#[test]
fn grouping_by_user_splits_a_host() {
    let alerts = vec![
        alert("a", Level::Medium, "WS1", 0, "T1033", Some("alice")),
        alert("b", Level::Medium, "WS1", 1, "T1033", Some("bob")),
    ];
    let pairs = ids(&alerts);
    let by_host = group_incidents(
        pairs.iter().map(|(i, a)| (i.as_str(), *a)),
        &chain(),
        &IncidentConfig::default(),
    );
    assert_eq!(by_host.len(), 1);
    assert_eq!(by_host[0].users, ["alice", "bob"]);
    let config = IncidentConfig {
        by_user: true,
        ..IncidentConfig::default()
    };
    let by_user = group_incidents(
        pairs.iter().map(|(i, a)| (i.as_str(), *a)),
        &chain(),
        &config,
    );
    assert_eq!(by_user.len(), 2);
    assert!(by_user.iter().all(|i| i.user.is_some()));
}

#[test]
fn ids_are_stable_across_regrouping() {
    let alerts = vec![alert("a", Level::Medium, "WS1", 0, "T1033", None)];
    let pairs = ids(&alerts);
    let first = group_incidents(
        pairs.iter().map(|(i, a)| (i.as_str(), *a)),
        &chain(),
        &IncidentConfig::default(),
    );
    let again = group_incidents(
        pairs.iter().map(|(i, a)| (i.as_str(), *a)),
        &chain(),
        &IncidentConfig::default(),
    );
    assert_eq!(first[0].id, again[0].id);
    assert!(first[0].id.starts_with("INC-"));
}

#[test]
fn score_grows_with_severity_breadth_and_reach() {
    let chain = chain();
    let score = |alerts: Vec<Alert>| {
        let pairs = ids(&alerts);
        group_incidents(
            pairs.iter().map(|(i, a)| (i.as_str(), *a)),
            &chain,
            &IncidentConfig::default(),
        )[0]
        .score
    };
    let base = score(vec![alert("a", Level::Medium, "H", 0, "T1033", None)]);
    let severe = score(vec![alert("a", Level::Critical, "H", 0, "T1033", None)]);
    let broader = score(vec![
        alert("a", Level::Medium, "H", 0, "T1033", None),
        alert("a", Level::Medium, "H", 1, "T1082", None),
    ]);
    // Same level and one technique each, but impact lies further along the matrix.
    let further = score(vec![alert("a", Level::Medium, "H", 0, "T1486", None)]);
    assert!(
        severe > base && broader > base && further > base,
        "{base} {severe} {broader} {further}"
    );
    // The same rule firing again adds nothing.
    let repeated = score(vec![
        alert("a", Level::Medium, "H", 0, "T1033", None),
        alert("a", Level::Medium, "H", 1, "T1033", None),
    ]);
    assert_eq!(repeated, base);
}

#[test]
fn likely_next_ranks_what_groups_using_the_observed_techniques_also_use() {
    let predictor = next_predictor_from(knowledge());
    assert!(predictor.actors().len() > 150);
    let observed = vec!["T1003.001".to_string(), "T1021.002".to_string()];
    let covered: HashSet<String> = ["T1105".to_string(), "T1003".to_string()].into();
    let next = predictor.predict(&observed, &covered, 10);
    assert_eq!(next.len(), 10);
    for pair in next.windows(2) {
        assert!(pair[0].likelihood >= pair[1].likelihood);
    }
    for n in &next {
        assert!(n.likelihood > 0.0 && n.likelihood <= 1.0);
        assert!(!observed.contains(&n.technique));
        // The observed sub-technique's parent is not news.
        assert_ne!(n.technique, "T1003");
        assert!(n.name.is_some(), "{n:?}");
        assert!(n.supporters >= n.supported_by.len() && !n.supported_by.is_empty());
    }
    for n in &next {
        let expected = if covered.contains(&n.technique) {
            Coverage::Covered
        } else if n.technique.starts_with("T1003.") {
            Coverage::ParentOnly
        } else {
            Coverage::NotCovered
        };
        assert_eq!(n.coverage, expected, "{n:?}");
    }
    // The incident has reached lateral movement: other routes of it come first (Remote
    // Desktop among them), and nothing lies behind it.
    assert_eq!(
        next[0].tactic.as_deref(),
        Some("lateral-movement"),
        "{next:?}"
    );
    assert!(next.iter().any(|n| n.technique == "T1021.001"), "{next:?}");
    let line = next[0].describe();
    assert!(
        line.starts_with(&next[0].technique) && line.contains(" — "),
        "{line}"
    );
}

#[test]
fn likely_next_is_empty_without_evidence() {
    let predictor = next_predictor_from(knowledge());
    assert!(predictor
        .predict(&["T9999".to_string()], &HashSet::new(), 5)
        .is_empty());
}

/// An IoC alert's group tags make its incident attributed; a Sigma rule's do not.
#[test]
fn ioc_alerts_attribute_their_incident() {
    let mut ioc = alert(
        "intel:indicator--1",
        Level::High,
        "WS1",
        5,
        "T1059.001",
        None,
    );
    ioc.tags = vec![
        "attack.g0016".into(),
        "attack.t1059.001".into(),
        "attack.gx".into(),
    ];
    let mut sigma = alert("apt29-rule", Level::High, "WS1", 0, "T1003.001", None);
    sigma.tags = vec!["attack.g0007".into()];
    assert_eq!(rampart_correlate::attributed_groups(&ioc), ["G0016"]);
    assert!(rampart_correlate::attributed_groups(&sigma).is_empty());
    let incidents = group_incidents(
        [("a", &sigma), ("b", &ioc)],
        &chain(),
        &IncidentConfig::default(),
    );
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].attributed, ["G0016"]);
    assert_eq!(incidents[0].timeline[1].attributed, ["G0016"]);
}
