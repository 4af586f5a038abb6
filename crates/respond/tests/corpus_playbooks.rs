#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The starter playbooks on real incidents: SigmaHQ's Windows rules hunted over
//! EVTX-ATTACK-SAMPLES files, grouped as the store groups them. Each playbook's trigger
//! fires where the corpus has its attack (and not elsewhere), its inputs are what the
//! events say, and the plan of an incident marks what the playbooks carry out.
//!
//! Which corpus files: credential dumping — comsvcs.dll MiniDump of LSASS; ransomware
//! precursors — a payload run from a volume shadow copy (T1490; the corpus has no
//! shadow-copy deletion or encryption); SMB lateral movement — PsExec over the IPC$
//! share (5145); scheduled task — a task created by an mshta/rundll32 dropper;
//! phishing payload — the corpus has no phishing delivery (T1566), so the alert trigger
//! is shown on its user-execution alert (T1204.002, a WMI-spawned rundll32).

mod corpus;

use corpus::{alerts_of, hunt, incidents, knowledge, react};
use rampart_correlate::Incident;
use rampart_enrich::PyramidClassifier;
use rampart_event::Alert;
use rampart_respond::plan::{plan, PlanOptions, Purpose};
use rampart_respond::playbook::{
    extract_inputs, failed_conditions, load_paths, Playbook, PlaybookSet, SubjectRef,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

fn starter() -> &'static PlaybookSet {
    static SET: OnceLock<PlaybookSet> = OnceLock::new();
    SET.get_or_init(|| {
        let set = load_paths(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("../../playbooks")]);
        assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics);
        set
    })
}

fn playbook(id: &str) -> &'static Playbook {
    &starter().get(id).unwrap().playbook
}

fn pyramid() -> PyramidClassifier {
    let software = &knowledge().enterprise().software;
    PyramidClassifier::new(
        software
            .iter()
            .flat_map(|s| std::iter::once(s.meta.name.clone()).chain(s.aliases.iter().cloned())),
    )
}

/// The ids of the starter playbooks whose trigger fires on `incident`.
fn firing(incident: &Incident, alerts: &[Alert]) -> Vec<String> {
    let pyramid = pyramid();
    starter()
        .playbooks
        .iter()
        .filter(|p| {
            p.playbook
                .trigger
                .matches_incident(incident, alerts, &pyramid)
        })
        .map(|p| p.playbook.id.clone())
        .collect()
}

/// The one incident of `files` holding `technique`, with its alerts.
fn incident_with(files: &[&str], technique: &str) -> (Incident, Vec<Alert>) {
    let alerts = hunt(files);
    let found: Vec<Incident> = incidents(&alerts)
        .into_iter()
        .filter(|i| i.techniques.iter().any(|t| t == technique))
        .collect();
    assert_eq!(found.len(), 1, "{files:?}: {found:#?}");
    let incident = found.into_iter().next().unwrap();
    let members = alerts_of(&incident, &alerts);
    assert_eq!(members.len(), incident.alert_count());
    (incident, members)
}

fn inputs_of(id: &str, incident: &Incident, alerts: &[Alert]) -> BTreeMap<String, Vec<String>> {
    let playbook = playbook(id);
    let inputs = extract_inputs(playbook, SubjectRef::Incident { incident, alerts });
    assert!(inputs.left_out.is_empty(), "{:?}", inputs.left_out);
    assert!(
        failed_conditions(playbook, &inputs.values).is_empty(),
        "{id}: {:?}",
        failed_conditions(playbook, &inputs.values)
    );
    inputs.values
}

#[test]
fn credential_dumping_fires_on_an_lsass_minidump_with_its_inputs() {
    let (incident, alerts) = incident_with(
        &["Credential Access/sysmon_10_1_memdump_comsvcs_minidump.evtx"],
        "T1003.001",
    );
    assert_eq!(firing(&incident, &alerts), ["credential-dumping"]);
    let inputs = inputs_of("credential-dumping", &incident, &alerts);
    assert_eq!(inputs["host"], ["MSEDGEWIN10"]);
    assert_eq!(inputs["users"], ["MSEDGEWIN10\\IEUser"]);
    assert_eq!(
        inputs["processes"][0],
        "C:\\Windows\\System32\\rundll32.exe"
    );
    assert!(
        inputs["hashes"].contains(&"f3ba3415dd068a8871f285570bea2e29874cbff1".to_owned()),
        "{:?}",
        inputs["hashes"]
    );
    assert!(inputs["hashes"]
        .iter()
        .all(|h| h.len() == 32 || h.len() == 40 || h.len() == 64));

    // The same incident under stricter triggers: a criterion that does not hold stops it.
    let pyramid = pyramid();
    let mut trigger = playbook("credential-dumping").trigger.clone();
    trigger.min_level = Some("critical".into());
    assert!(!trigger.matches_incident(&incident, &alerts, &pyramid));
    trigger.min_level = None;
    trigger.hosts = vec!["WS-*".into()];
    assert!(!trigger.matches_incident(&incident, &alerts, &pyramid));
    trigger.hosts = vec!["msedge*".into()];
    assert!(trigger.matches_incident(&incident, &alerts, &pyramid));
    trigger.pyramid = vec!["hash_value".into()];
    assert!(!trigger.matches_incident(&incident, &alerts, &pyramid));
    trigger.pyramid = vec!["ttp".into()];
    assert!(trigger.matches_incident(&incident, &alerts, &pyramid));
    trigger.min_score = Some(incident.score + 1.0);
    assert!(!trigger.matches_incident(&incident, &alerts, &pyramid));
}

#[test]
fn ransomware_precursors_fire_on_a_payload_run_from_a_shadow_copy() {
    let (incident, alerts) = incident_with(
        &["Execution/sysmon_exec_from_vss_persistence.evtx"],
        "T1490",
    );
    // The shadow copies were made to read the SAM and NTDS: credential access too.
    assert_eq!(
        firing(&incident, &alerts),
        ["credential-dumping", "ransomware-precursors"]
    );
    let inputs = inputs_of("ransomware-precursors", &incident, &alerts);
    assert_eq!(inputs["host"], ["IEWIN7"]);
    assert!(
        inputs["processes"].contains(&"C:\\Windows\\System32\\wbem\\WMIC.exe".to_owned()),
        "{:?}",
        inputs["processes"]
    );
    assert!(
        inputs["command_lines"]
            .iter()
            .any(|c| c.contains("HarddiskVolumeShadowCopy7")),
        "{:?}",
        inputs["command_lines"]
    );
    assert!(!inputs["hashes"].is_empty());
}

#[test]
fn smb_lateral_movement_fires_on_psexec_over_ipc_with_the_source_address() {
    let (incident, alerts) = incident_with(
        &["Lateral Movement/LM_renamed_psexecsvc_5145.evtx"],
        "T1021.002",
    );
    assert_eq!(firing(&incident, &alerts), ["lateral-movement-smb"]);
    let inputs = inputs_of("lateral-movement-smb", &incident, &alerts);
    assert_eq!(inputs["host"], ["IEWIN7"]);
    assert_eq!(inputs["sources"], ["10.0.2.16"]);
    assert_eq!(inputs["users"], ["IEUser"]);
    assert_eq!(inputs["shares"], ["\\\\*\\IPC$"]);
}

#[test]
fn scheduled_task_fires_on_a_dropper_task() {
    let (incident, alerts) = incident_with(
        &["Execution/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx"],
        "T1053.005",
    );
    assert_eq!(firing(&incident, &alerts), ["malicious-scheduled-task"]);
    let inputs = inputs_of("malicious-scheduled-task", &incident, &alerts);
    assert_eq!(inputs["host"], ["IEWIN7"]);
    // Sysmon process events only: no 4698 record, so no TaskName field.
    assert!(inputs["tasks"].is_empty());
    assert!(
        inputs["command_lines"]
            .iter()
            .any(|c| c.contains("schtasks")),
        "{:?}",
        inputs["command_lines"]
    );
}

#[test]
fn the_phishing_payload_trigger_fires_on_alerts_only() {
    let alerts = hunt(&["Credential Access/sysmon_10_1_memdump_comsvcs_minidump.evtx"]);
    let pyramid = pyramid();
    let trigger = &playbook("phishing-payload").trigger;
    let fired: Vec<&Alert> = alerts
        .iter()
        .filter(|a| trigger.matches_alert(a, &pyramid))
        .collect();
    assert_eq!(fired.len(), 1, "{fired:#?}");
    assert_eq!(fired[0].rule_title, "Suspicious WmiPrvSE Child Process");
    let inputs = extract_inputs(playbook("phishing-payload"), SubjectRef::Alert(fired[0]));
    assert_eq!(inputs.values["host"], ["MSEDGEWIN10"]);
    assert_eq!(inputs.values["users"], ["MSEDGEWIN10\\IEUser"]);
    assert!(inputs.values["domains"].is_empty());
    assert!(!inputs.values["hashes"].is_empty());
    // No incident trigger fires on an alert, and no alert trigger on an incident.
    for loaded in &starter().playbooks {
        let incident_playbook = loaded.playbook.id != "phishing-payload";
        for alert in &alerts {
            assert!(!(incident_playbook && loaded.playbook.trigger.matches_alert(alert, &pyramid)));
        }
    }
}

#[test]
fn the_plan_of_an_lsass_dump_ranks_countermeasures_and_marks_the_runnable() {
    let (incident, _) = incident_with(
        &["Credential Access/sysmon_10_1_memdump_comsvcs_minidump.evtx"],
        "T1003.001",
    );
    let likely_next = rampart_respond::plan::likely_next_of(&incident, knowledge(), 8);
    let playbooks: Vec<&Playbook> = starter().playbooks.iter().map(|p| &p.playbook).collect();
    let plan = plan(
        &incident,
        &likely_next,
        knowledge(),
        Some(react()),
        &playbooks,
        PlanOptions { per_group: 50 },
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    assert_eq!(plan.techniques.len(), incident.techniques.len());
    let dump = plan
        .techniques
        .iter()
        .find(|t| t.id == "T1003.001")
        .unwrap();
    assert!(
        dump.mitigations.iter().any(|m| m.id == "M1025"),
        "{:?}",
        dump.mitigations
    );
    let tactics: Vec<&str> = plan.groups.iter().map(|g| g.tactic.as_str()).collect();
    assert_eq!(
        tactics,
        ["Isolate", "Evict", "Restore", "Deceive", "Detect", "Harden", "Model"]
    );
    for group in &plan.groups {
        for pair in group.countermeasures.windows(2) {
            assert!(
                pair[0].answers.len() >= pair[1].answers.len(),
                "{}",
                group.tactic
            );
        }
        let respond = ["Isolate", "Evict", "Restore", "Deceive"].contains(&group.tactic.as_str());
        assert_eq!(
            group.purpose == Purpose::Respond,
            respond,
            "{}",
            group.tactic
        );
    }
    let evict = &plan.groups[1];
    let kill = evict
        .countermeasures
        .iter()
        .find(|c| c.id == "D3-PT")
        .unwrap();
    assert!(kill.runnable);
    assert!(
        kill.steps
            .contains(&"credential-dumping/end-process".to_owned()),
        "{:?}",
        kill.steps
    );
    assert!(kill.answers.contains(&"T1003.001".to_owned()));
    // Restore is runnable through compensations; RE&CT actions come from the table.
    let restore = &plan.groups[2];
    let restore_file = restore
        .countermeasures
        .iter()
        .find(|c| c.id == "D3-RF")
        .unwrap();
    assert!(restore_file
        .steps
        .contains(&"ransomware-precursors/quarantine-payload/compensate".to_owned()));
    let revoke = evict
        .countermeasures
        .iter()
        .find(|c| c.id == "D3-CR")
        .unwrap();
    assert_eq!(revoke.react_actions[0].id, "RA4601");
    // Deceive holds ENGAGE activities; Detect and Harden are advice here.
    assert!(plan.groups[3]
        .countermeasures
        .iter()
        .any(|c| c.id.starts_with("EAC")));
    assert!(plan.groups[4..]
        .iter()
        .flat_map(|g| &g.countermeasures)
        .all(|c| !c.runnable));
    // Likely next techniques count, after the incident's own.
    assert!(!plan.likely_next.is_empty());
    assert!(plan.groups[6]
        .countermeasures
        .iter()
        .any(|c| c.answers.is_empty() && !c.answers_next.is_empty()));
}
