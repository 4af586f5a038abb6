#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Enrichment of known alerts against the real ATT&CK (19.1, as discovered), D3FEND and ENGAGE data.

use rampart_enrich::{ocsf, Enricher, PyramidLevel, TagStatus};
use rampart_event::{Alert, EventMeta, Level, MatchedField};
use rampart_knowledge::Knowledge;
use std::sync::OnceLock;

fn knowledge() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(|| {
        let files = rampart_refdata::discover(&rampart_testkit::data_dir()).unwrap();
        Knowledge::from_files(&files).unwrap()
    })
}

/// The alert SigmaHQ's "LSASS Access From Non System Account"-style rules raise when
/// mimikatz opens lsass, tagged with a current, a revoked and an unknown technique.
fn lsass_alert() -> Alert {
    Alert {
        id: String::new(),
        rule_id: "test-lsass".into(),
        rule_title: "Credential dumping tool accessing LSASS".into(),
        level: Level::High,
        status: Some("test".into()),
        techniques: vec!["T1003.001".into(), "T1086".into(), "T9999".into()],
        tactics: vec!["credential-access".into()],
        tags: vec![
            "attack.credential-access".into(),
            "attack.t1003.001".into(),
            "attack.t1086".into(),
            "attack.t9999".into(),
        ],
        event: EventMeta {
            source: "Credential Access/lsass.evtx".into(),
            timestamp: Some("2019-03-19T10:00:00Z".parse().unwrap()),
            computer: Some("WS1".into()),
            channel: Some("Microsoft-Windows-Sysmon/Operational".into()),
            provider: None,
            event_id: Some(10),
            record_id: Some(7),
        },
        context: Vec::new(),
        intel: None,
        matched: vec![
            MatchedField {
                field: "TargetImage".into(),
                value: "C:\\Windows\\system32\\lsass.exe".into(),
            },
            MatchedField {
                field: "SourceImage".into(),
                value: "C:\\tools\\mimikatz.exe".into(),
            },
        ],
    }
}

#[test]
fn lsass_memory_alert_gets_full_context() {
    let enricher = Enricher::new(knowledge());
    let enriched = enricher.enrich(&lsass_alert());
    let contexts = &enriched.enrichment.techniques;
    let lsass = contexts
        .iter()
        .find(|c| c.technique.id == "T1003.001")
        .unwrap();
    assert_eq!(lsass.technique.name, "LSASS Memory");
    assert_eq!(
        lsass.technique.url.as_deref(),
        Some("https://attack.mitre.org/techniques/T1003/001")
    );
    assert_eq!(lsass.parent.as_ref().unwrap().id, "T1003");
    assert_eq!(lsass.parent.as_ref().unwrap().name, "OS Credential Dumping");
    let tactics: Vec<_> = lsass
        .tactics
        .iter()
        .map(|t| (t.id.as_str(), t.shortname.as_str()))
        .collect();
    assert_eq!(tactics, [("TA0006", "credential-access")]);
    // LSASS dumping is among the most widely used techniques in ATT&CK's group data.
    assert!(lsass.groups.count >= 20, "{}", lsass.groups.count);
    assert_eq!(lsass.groups.top.len(), rampart_enrich::TOP_GROUPS);
    assert!(lsass.groups.top.iter().all(|g| g.id.starts_with('G')));
    assert!(lsass
        .mitigations
        .iter()
        .any(|m| m.name == "Credential Access Protection"));
    assert!(lsass
        .detection_strategies
        .iter()
        .all(|d| d.id.starts_with("DET")));
    assert!(!lsass.detection_strategies.is_empty());
    assert!(
        lsass
            .d3fend
            .get("Detect")
            .is_some_and(|l| l.iter().all(|c| c.id.starts_with("D3-"))),
        "{:?}",
        lsass.d3fend.keys()
    );
    assert!(lsass.engage.iter().all(|a| a.id.starts_with("EAC")));
}

#[test]
fn stale_and_unknown_tags_are_resolved_or_flagged() {
    let enricher = Enricher::new(knowledge());
    let enriched = enricher.enrich(&lsass_alert());
    let tags = &enriched.enrichment.tags;
    assert_eq!(tags.len(), 3);
    assert_eq!(tags[0].status, TagStatus::Active);
    assert_eq!(
        tags[1].status,
        TagStatus::Revoked {
            replaced_by: "T1059.001".into()
        }
    );
    assert!(matches!(tags[2].status, TagStatus::Unknown { .. }));
    assert!(tags[1].is_issue() && tags[2].is_issue());
    // The revoked tag contributes its replacement's context; the unknown one none.
    let ids: Vec<_> = enriched
        .enrichment
        .techniques
        .iter()
        .map(|c| c.technique.id.as_str())
        .collect();
    assert_eq!(ids, ["T1003.001", "T1059.001"]);
}

#[test]
fn ecs_threat_fields_nest_subtechniques_under_parents() {
    let enricher = Enricher::new(knowledge());
    let enriched = enricher.enrich(&lsass_alert());
    let threat = &enriched.threat;
    assert_eq!(threat.framework, "MITRE ATT&CK");
    assert_eq!(threat.technique.id, ["T1003", "T1059"]);
    assert_eq!(
        threat.technique.name,
        ["OS Credential Dumping", "Command and Scripting Interpreter"]
    );
    assert_eq!(threat.technique.subtechnique.id, ["T1003.001", "T1059.001"]);
    // Tactics come from the rule's own tactic tags when it has them.
    assert_eq!(threat.tactic.id, ["TA0006"]);
    assert_eq!(threat.tactic.name, ["Credential Access"]);
    let json = serde_json::to_value(&enriched).unwrap();
    assert_eq!(
        json["threat"]["technique"]["subtechnique"]["id"][0],
        "T1003.001"
    );
    assert_eq!(json["@timestamp"], "2019-03-19T10:00:00Z");
    assert_eq!(json["enrichment"]["tags"][1]["status"], "revoked");
}

#[test]
fn pyramid_level_comes_from_what_matched() {
    let enricher = Enricher::new(knowledge());
    // mimikatz is ATT&CK software (S0002): the alert hinges on a tool.
    assert_eq!(
        enricher.enrich(&lsass_alert()).enrichment.pyramid.level,
        PyramidLevel::Tool
    );
    let mut behaviour = lsass_alert();
    behaviour.matched = vec![MatchedField {
        field: "CommandLine".into(),
        value: "rundll32 comsvcs.dll MiniDump".into(),
    }];
    assert_eq!(
        enricher.enrich(&behaviour).enrichment.pyramid.level,
        PyramidLevel::Ttp
    );
}

#[test]
fn technique_context_is_computed_once_and_shared() {
    let enricher = Enricher::new(knowledge());
    let first = enricher.enrich(&lsass_alert());
    let second = enricher.enrich(&lsass_alert());
    assert_eq!(enricher.cached_techniques(), 3);
    assert!(std::sync::Arc::ptr_eq(
        &first.enrichment.techniques[0],
        &second.enrichment.techniques[0]
    ));
}

#[test]
fn ocsf_detection_finding_has_attacks_and_d3fend() {
    let enricher = Enricher::new(knowledge());
    let enriched = enricher.enrich(&lsass_alert());
    let finding = ocsf::detection_finding(&enriched, "abc", &enricher.attack_version());
    assert_eq!(finding["class_uid"], 2004);
    assert_eq!(finding["type_uid"], 200401);
    assert_eq!(finding["severity_id"], 4);
    assert_eq!(finding["finding_info"]["analytic"]["uid"], "test-lsass");
    let attacks = finding["finding_info"]["attacks"].as_array().unwrap();
    let lsass = attacks
        .iter()
        .find(|a| a["sub_technique"]["uid"] == "T1003.001")
        .unwrap();
    assert_eq!(lsass["technique"]["uid"], "T1003");
    assert_eq!(lsass["tactic"]["uid"], "TA0006");
    assert_eq!(lsass["version"], "19.1");
    let countermeasures = finding["unmapped"]["countermeasures"].as_array().unwrap();
    assert!(countermeasures
        .iter()
        .any(|c| c["d3f_tactic"]["name"] == "Detect" && c["techniques"][0] == "T1003.001"));
    assert_eq!(finding["device"]["hostname"], "WS1");
}

/// `groups.top` names the groups most specifically tied to the technique, not the
/// first five by id: every group ATT&CK relates to LSASS dumping directly comes before
/// any that reach it only through software or campaigns, and among the direct ones the
/// five with the fewest techniques in all are chosen (checked here against each
/// group's own view).
#[test]
fn top_groups_are_the_most_specific_direct_users() {
    let k = knowledge();
    let enriched = Enricher::new(k).enrich(&lsass_alert());
    let lsass = enriched
        .enrichment
        .techniques
        .iter()
        .find(|c| c.technique.id == "T1003.001")
        .unwrap();
    let report = k.technique_report(k.find("T1003.001").unwrap());
    let techniques_of = |id: &str| {
        k.group_report(k.find(id).unwrap())
            .unwrap()
            .techniques
            .len()
    };
    let mut direct: Vec<(usize, String)> = report
        .groups
        .iter()
        .filter(|g| g.direct)
        .map(|g| (techniques_of(&g.id), g.id.clone()))
        .collect();
    assert!(direct.len() > rampart_enrich::TOP_GROUPS, "{direct:?}");
    direct.sort();
    let top: Vec<(usize, String)> = lsass
        .groups
        .top
        .iter()
        .map(|g| (techniques_of(&g.id), g.id.clone()))
        .collect();
    assert_eq!(top.len(), rampart_enrich::TOP_GROUPS);
    assert!(
        top.iter()
            .all(|(_, id)| direct.iter().any(|(_, d)| d == id)),
        "{top:?}"
    );
    // Fewest techniques first: the top's counts are the smallest direct counts.
    let smallest: Vec<usize> = direct.iter().take(top.len()).map(|(n, _)| *n).collect();
    let counts: Vec<usize> = top.iter().map(|(n, _)| *n).collect();
    assert_eq!(counts, smallest, "top {top:?}, direct {direct:?}");
    // Not the old choice: the first five direct groups by id.
    let mut by_id: Vec<&String> = direct.iter().map(|(_, id)| id).collect();
    by_id.sort();
    let top_ids: Vec<&String> = top.iter().map(|(_, id)| id).collect();
    assert_ne!(top_ids, by_id[..top.len()].to_vec());
    assert_eq!(lsass.groups.count, report.groups.len());
}

/// One definition of a distinct countermeasure: the enriched alert counts what
/// `attack show` lists (one per D3FEND technique), not one per artifact path.
#[test]
fn enriched_countermeasures_match_the_technique_view() {
    let k = knowledge();
    let enriched = Enricher::new(k).enrich(&lsass_alert());
    let lsass = enriched
        .enrichment
        .techniques
        .iter()
        .find(|c| c.technique.id == "T1003.001")
        .unwrap();
    let report = k.technique_report(k.find("T1003.001").unwrap());
    let in_alert: usize = lsass.d3fend.values().map(Vec::len).sum();
    assert_eq!(in_alert, report.countermeasures.len());
    let mut ids: Vec<&str> = report
        .countermeasures
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        report.countermeasures.len(),
        "one entry per D3FEND technique"
    );
    let paths: usize = report.countermeasures.iter().map(|c| c.paths.len()).sum();
    assert_eq!(paths, k.countermeasures(k.find("T1003.001").unwrap()).len());
}

/// Every ATT&CK mitigation of every technique once (not only the lowest id), and each
/// D3FEND countermeasure once per finding (not once per tactic of each technique).
#[test]
fn ocsf_lists_each_mitigation_and_countermeasure_once() {
    let enricher = Enricher::new(knowledge());
    let mut alert = lsass_alert();
    // Valid Accounts sits under four tactics.
    alert.techniques = vec!["T1003.001".into(), "T1078".into()];
    let enriched = enricher.enrich(&alert);
    let finding = ocsf::detection_finding(&enriched, "abc", &enricher.attack_version());
    let attacks = finding["finding_info"]["attacks"].as_array().unwrap();
    let technique_of = |a: &serde_json::Value| {
        let sub = &a["sub_technique"]["uid"];
        if sub.is_string() {
            sub.clone()
        } else {
            a["technique"]["uid"].clone()
        }
    };
    for context in &enriched.enrichment.techniques {
        let id = context.technique.id.as_str();
        let mut listed: Vec<&str> = attacks
            .iter()
            .filter(|a| technique_of(a) == id)
            .filter_map(|a| a["mitigation"]["uid"].as_str())
            .collect();
        listed.sort_unstable();
        let mut known: Vec<&str> = context.mitigations.iter().map(|m| m.id.as_str()).collect();
        known.sort_unstable();
        assert_eq!(listed, known, "mitigations of {id}, each once");
        let tactics: Vec<&str> = attacks
            .iter()
            .filter(|a| technique_of(a) == id)
            .filter_map(|a| a["tactic"]["uid"].as_str())
            .collect();
        assert_eq!(tactics.len(), context.tactics.len(), "tactics of {id}");
    }
    let lsass: Vec<&str> = attacks
        .iter()
        .filter(|a| technique_of(a) == "T1003.001")
        .filter_map(|a| a["mitigation"]["uid"].as_str())
        .collect();
    assert!(
        lsass.contains(&"M1043") && lsass.contains(&"M1017"),
        "{lsass:?}"
    );

    let text = finding.to_string();
    let mut countermeasures: Vec<String> = enriched
        .enrichment
        .techniques
        .iter()
        .flat_map(|c| c.d3fend.values().flatten().map(|d| d.id.clone()))
        .collect();
    countermeasures.sort();
    countermeasures.dedup();
    assert!(!countermeasures.is_empty());
    for id in &countermeasures {
        let needle = format!("\"uid\":\"{id}\"");
        assert_eq!(text.matches(&needle).count(), 1, "{id} once in {text}");
    }
}
