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

/// A SOC without Sysmon: WmiPrvSE spawning notepad, logged only as Security 4688
/// (NTLM relay sample). The rule filters `LogonId: null` and SYSTEM's `0x3e7`; with
/// `LogonId` unmapped every 4688 event was filtered out.
#[test]
fn wmiprvse_spawning_process_fires_on_security_4688() {
    let set = rule("windows/process_creation/proc_creation_win_wmiprvse_spawning_process.yml");
    let alerting = alerting_events(
        &set,
        "Privilege Escalation/NTLM2SelfRelay-med0x2e-security_4624_4688.evtx",
    );
    assert_eq!(alerting.len(), 1);
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let view = engine.renamed_view(&alerting[0]);
    let field = |name: &str| view.get(name).map(|v| v.to_text());
    assert_eq!(
        field("Image").as_deref(),
        Some("C:\\Windows\\System32\\notepad.exe")
    );
    assert_eq!(field("LogonId").as_deref(), Some("0x3e4"));
    assert_eq!(field("User").as_deref(), Some("WINLAB\\WIND10$"));
    assert_eq!(field("ProcessId").as_deref(), Some("476"));
    assert_eq!(field("ParentProcessId").as_deref(), Some("3724"));
    assert_eq!(field("IntegrityLevel").as_deref(), Some("High"));
    // The raw fields are still there for Security rules.
    assert_eq!(field("NewProcessId").as_deref(), Some("0x1dc"));

    // The WmiPrvSE process itself, started by SYSTEM's logon session, is filtered.
    let target_host = alerting_events(&set, "Lateral Movement/LM_WMI_4624_4688_TargetHost.evtx");
    assert!(target_host.is_empty());
}

/// Every 4688 event of the samples gets the taxonomy's fields in Sysmon's forms.
#[test]
fn security_4688_fields_take_sysmon_forms() {
    let set = rule("windows/process_creation/proc_creation_win_wmiprvse_spawning_process.yml");
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let mut seen = 0;
    for sample in [
        "Credential Access/tutto_malseclogon.evtx",
        "Lateral Movement/LM_WMI_4624_4688_TargetHost.evtx",
    ] {
        for event in common::read_evtx(&data_path(&format!("evtx-attack-samples/{sample}"))) {
            if event.get("EventID").map(|v| v.to_text()).as_deref() != Some("4688") {
                continue;
            }
            seen += 1;
            let view = engine.renamed_view(&event);
            let text = |name: &str| view.get(name).map(|v| v.to_text()).unwrap_or_default();
            let hex = |name: &str| {
                let raw = event.get(name).unwrap().to_text();
                i64::from_str_radix(raw.trim_start_matches("0x"), 16)
                    .unwrap()
                    .to_string()
            };
            assert_eq!(text("ProcessId"), hex("NewProcessId"));
            assert_eq!(text("ParentProcessId"), hex("ProcessId"));
            assert_eq!(
                text("LogonId"),
                event.get("SubjectLogonId").unwrap().to_text()
            );
            let user = format!(
                "{}\\{}",
                event.get("SubjectDomainName").unwrap().to_text(),
                event.get("SubjectUserName").unwrap().to_text()
            );
            assert_eq!(text("User"), user);
            if let Some(label) = event.get("MandatoryLabel") {
                let expected = match label.to_text().as_str() {
                    "S-1-16-8192" => "Medium",
                    "S-1-16-12288" => "High",
                    "S-1-16-16384" => "System",
                    other => panic!("unexpected label {other}"),
                };
                assert_eq!(text("IntegrityLevel"), expected);
            }
        }
    }
    assert!(seen >= 8, "{seen}");
}
