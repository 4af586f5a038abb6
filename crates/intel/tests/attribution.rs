//! Attribution on ESET's real MISP events against ATT&CK 19.1: Operation Ghost's
//! "APT 29" is G0016, its revoked technique ids map to today's, and names ATT&CK does
//! not know are reported.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_intel::attribution::{name_key, Attributor};
use rampart_intel::{Entity, EntityKind, IntelContext};
use rampart_knowledge::Knowledge;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

fn knowledge() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(|| {
        let files = rampart_refdata::discover(&rampart_testkit::data_dir()).unwrap();
        Knowledge::from_files(&files).unwrap()
    })
}

fn eset(path: &str) -> PathBuf {
    rampart_testkit::data_dir()
        .join("threat-intel/eset-malware-ioc")
        .join(path)
}

/// The galaxy clusters of a MISP event file as entities (threat actors as intrusion
/// sets with their synonyms, ATT&CK patterns by their `Name - Txxxx` values).
fn galaxy_entities(path: &str) -> Vec<Entity> {
    let text = std::fs::read_to_string(eset(path)).unwrap();
    let document: Value = serde_json::from_str(&text).unwrap();
    let event = document
        .get("Event")
        .or_else(|| document.pointer("/response/0/Event"))
        .unwrap();
    let mut entities = Vec::new();
    for galaxy in event["Galaxy"].as_array().unwrap() {
        let kind = match galaxy["type"].as_str().unwrap() {
            "threat-actor" | "mitre-intrusion-set" => EntityKind::IntrusionSet,
            t if t.contains("attack-pattern") => EntityKind::AttackPattern,
            t if t.contains("malware") => EntityKind::Malware,
            t if t.contains("tool") => EntityKind::Tool,
            _ => continue,
        };
        for cluster in galaxy["GalaxyCluster"].as_array().unwrap() {
            let synonyms = cluster
                .pointer("/meta/synonyms")
                .and_then(Value::as_array)
                .map(|s| {
                    s.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            entities.push(Entity {
                id: cluster["uuid"].as_str().unwrap().to_string(),
                kind,
                name: cluster["value"].as_str().unwrap().to_string(),
                aliases: synonyms,
                attack_ids: vec![],
            });
        }
    }
    entities
}

#[test]
fn names_are_compared_by_letters_and_digits() {
    assert_eq!(name_key("APT 29"), "apt29");
    assert_eq!(name_key("The-Dukes"), "thedukes");
}

#[test]
fn operation_ghost_joins_apt_29_to_g0016_and_revoked_ids_to_current_ones() {
    let entities = galaxy_entities("dukes/misp-dukes-operation-ghost-event.json");
    assert!(entities.iter().any(|e| e.name == "APT 29"));
    let attributor = Attributor::new(knowledge());
    let attribution = attributor.entities(&entities);
    assert_eq!(attribution.group_ids(), ["G0016"]);
    assert_eq!(attribution.groups[0].name, "APT29");
    assert_eq!(attribution.groups[0].named_as, ["APT 29"]);
    let technique = |id: &str| attribution.techniques.iter().find(|t| t.id == id);
    // PowerShell - T1086, revoked by T1059.001.
    let powershell = technique("T1059.001").expect("T1086 → T1059.001");
    assert_eq!(powershell.named_as, ["T1086"]);
    assert!(technique("T1086").is_none());
    // Spearphishing Attachment - T1193 → T1566.001; Rundll32 - T1085 → T1218.011.
    assert!(technique("T1566.001").is_some());
    assert!(technique("T1218.011").is_some());
    // Current ids stay as they are.
    assert!(technique("T1027").is_some_and(|t| t.named_as.is_empty()));
    // The group's own techniques come with it.
    assert!(attribution.group_techniques.len() > 20);
    assert!(attribution
        .group_techniques
        .iter()
        .any(|t| t == "T1059.001"));
    // Scripting (T1064) was deprecated without a successor: still a known id, kept.
    assert!(technique("T1064").is_some());
}

#[test]
fn aliases_malware_names_and_unknown_names() {
    let attributor = Attributor::new(knowledge());
    let context = IntelContext {
        actors: vec![
            "the dukes".into(),
            "Cozy Bear".into(),
            "Nobody Known 77".into(),
        ],
        malware: vec![
            "PolyglotDuke".into(),
            "regduke".into(),
            "NotInAttack".into(),
        ],
        attack_ids: vec!["G0016".into(), "S0518".into(), "T9999".into()],
        reports: vec!["Operation Ghost".into()],
    };
    let attribution = attributor.context(&context);
    assert_eq!(attribution.group_ids(), ["G0016"]);
    let mut named = attribution.groups[0].named_as.clone();
    named.sort();
    assert_eq!(named, ["Cozy Bear", "the dukes"]);
    let software: Vec<&str> = attribution.software.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(software, ["S0511", "S0518"]);
    assert_eq!(
        attribution.unresolved,
        ["Nobody Known 77", "NotInAttack", "T9999"]
    );
}

/// Every threat-actor cluster in ESET's events is either joined or reported.
#[test]
fn every_eset_actor_is_joined_or_reported() {
    let attributor = Attributor::new(knowledge());
    let mut joined = 0;
    let mut reported = 0;
    for entry in walk(&eset("")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        let Ok(document) = serde_json::from_str::<Value>(&text) else {
            continue; // the one malformed event; its reader reports it
        };
        if document
            .get("Event")
            .or_else(|| document.pointer("/response/0/Event"))
            .and_then(|e| e.get("Galaxy"))
            .is_none()
        {
            continue;
        }
        let relative = entry.strip_prefix(eset("")).unwrap().to_str().unwrap();
        let actors: Vec<Entity> = galaxy_entities(relative)
            .into_iter()
            .filter(|e| e.kind == EntityKind::IntrusionSet)
            .collect();
        for actor in &actors {
            let attribution = attributor.entities(std::slice::from_ref(actor));
            match (attribution.groups.len(), attribution.unresolved.as_slice()) {
                (1, []) => joined += 1,
                (0, [name]) if name == &actor.name => reported += 1,
                other => panic!("{relative}: {} gave {other:?}", actor.name),
            }
        }
    }
    eprintln!("ESET actors: {joined} joined to ATT&CK groups, {reported} unresolved");
    assert!(joined >= 5, "joined {joined}, unresolved {reported}");
    assert!(reported >= 1, "some ESET actor names are not in ATT&CK");
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    files.sort();
    files
}
