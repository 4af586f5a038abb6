//! SigmaHQ rules on real Windows events from EVTX-ATTACK-SAMPLES, through the engine
//! and the reference evaluator alike.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use rampart_detect::{Engine, LogsourceMap};
use rampart_event::Event;
use rampart_sigma::{load_rules, RuleSet};
use rampart_testkit::data_path;

fn rule(relative: &str) -> RuleSet {
    let (set, diagnostics) = load_rules(&[data_path(&format!("sigma/rules/{relative}"))]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    set
}

/// The events the engine alerts on in `sample`, checked against the reference
/// evaluator on every event.
fn alerting_events(set: &RuleSet, sample: &str) -> Vec<Event> {
    let (engine, _) = Engine::compile(set, &LogsourceMap::builtin());
    let events: Vec<Event> =
        common::read_evtx(&data_path(&format!("evtx-attack-samples/{sample}")));
    assert!(!events.is_empty());
    let mut scratch = engine.scratch();
    let mut records = Vec::new();
    for event in &events {
        let mut alerts = 0;
        engine.scan(event, &mut scratch, &mut |_| alerts += 1);
        let view = engine.renamed_view(event);
        let reference = engine
            .routed_rules(event)
            .into_iter()
            .filter(|&r| set.rules[r].matches(&view))
            .count();
        assert_eq!(
            alerts, reference,
            "engine and reference disagree: {event:?}"
        );
        if alerts > 0 {
            records.push(event.clone());
        }
    }
    records
}

/// Windows writes Security 4624's `LogonProcessName` as `NtLmSsp ` (trailing space);
/// the rule says `NtLmSsp`, as its author read the value.
#[test]
fn pass_the_hash_matches_the_padded_logon_process_name() {
    let set = rule("windows/builtin/security/account_management/win_security_pass_the_hash_2.yml");
    for sample in [
        "Lateral Movement/ImpersonateUser-via local Pass The Hash Sysmon and Security.evtx",
        "Privilege Escalation/privexchange_dirkjan.evtx",
    ] {
        let alerting = alerting_events(&set, sample);
        assert_eq!(alerting.len(), 1, "{sample}");
        // The value itself is kept as written.
        let name = alerting[0].get("LogonProcessName").and_then(|v| v.as_str());
        assert_eq!(name, Some("NtLmSsp "), "{sample}");
    }
}
