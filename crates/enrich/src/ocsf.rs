//! OCSF Detection Finding (class 2004) serialisation of an enriched alert.
//!
//! Mapping: `finding_info.analytic` is the Sigma rule; `finding_info.attacks[]` has one
//! entry per (technique, tactic) pair with `technique` (the parent), `sub_technique`,
//! `tactic` and `version`; when ATT&CK lists mitigations, the entry's `mitigation` is the
//! first one and carries the technique's D3FEND countermeasures as `countermeasures[]`
//! (`d3f_tactic`, `d3f_technique`). `device.hostname`, `time` (epoch ms) and
//! `severity_id` (1 informational … 5 critical) come from the alert; everything else
//! Rampart knows (groups, ENGAGE, pyramid level, tag issues) goes under `unmapped`.

use crate::context::TechniqueContext;
use crate::enricher::EnrichedAlert;
use rampart_event::Level;
use serde_json::{json, Map, Value};

/// OCSF schema version the output follows.
pub const OCSF_VERSION: &str = "1.5.0";

/// The OCSF severity id of a Sigma level.
pub fn severity_id(level: Level) -> u8 {
    match level {
        Level::Informational => 1,
        Level::Low => 2,
        Level::Medium => 3,
        Level::High => 4,
        Level::Critical => 5,
    }
}

/// An enriched alert as an OCSF Detection Finding. `uid` is the alert's identity
/// (its stable id, which is also the store's id); `attack_version` the ATT&CK
/// version loaded.
pub fn detection_finding(alert: &EnrichedAlert, uid: &str, attack_version: &str) -> Value {
    let mut attacks = Vec::new();
    for context in &alert.enrichment.techniques {
        for tactic in &context.tactics {
            attacks.push(attack(context, tactic, attack_version));
        }
        if context.tactics.is_empty() {
            attacks.push(attack_without_tactic(context, attack_version));
        }
    }
    let level = alert.rule.level;
    let time = alert.timestamp.map(|t| t.timestamp_millis());
    json!({
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": 1,
        "activity_name": "Create",
        "type_uid": 200401,
        "type_name": "Detection Finding: Create",
        "severity_id": severity_id(level),
        "severity": capitalised(level.as_str()),
        "status_id": 1,
        "status": "New",
        "time": time,
        "metadata": {
            "version": OCSF_VERSION,
            "product": { "name": "Rampart", "vendor_name": "Rampart" },
            "log_name": alert.event.channel,
        },
        "finding_info": {
            "uid": uid,
            "title": alert.rule.name,
            "analytic": {
                "uid": alert.rule.id,
                "name": alert.rule.name,
                "type_id": 1,
                "type": "Rule",
            },
            "attacks": attacks,
            "types": alert.rule.tags,
        },
        "device": {
            "hostname": alert.event.computer,
            "type_id": 0,
        },
        "evidences": [{
            "data": alert.matched.iter().map(|m| (m.field.clone(), Value::String(m.value.clone()))).collect::<Map<_, _>>(),
        }],
        "unmapped": {
            "source": &*alert.event.source,
            "event_id": alert.event.event_id,
            "record_id": alert.event.record_id,
            "context": alert.context.iter().map(|c| (c.field.clone(), Value::String(c.value.clone()))).collect::<Map<_, _>>(),
            "pyramid": alert.enrichment.pyramid,
            "tags": alert.enrichment.tags,
            "groups": alert.enrichment.techniques.iter().map(|c| json!({"technique": c.technique.id, "count": c.groups.count, "top": c.groups.top})).collect::<Vec<_>>(),
            "engage": alert.enrichment.techniques.iter().map(|c| json!({"technique": c.technique.id, "activities": c.engage})).collect::<Vec<_>>(),
        },
    })
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn technique_objects(context: &TechniqueContext) -> (Value, Option<Value>) {
    let t = &context.technique;
    let this = json!({ "uid": t.id, "name": t.name, "src_url": t.url });
    match &context.parent {
        Some(parent) => (
            json!({ "uid": parent.id, "name": parent.name, "src_url": parent.url }),
            Some(this),
        ),
        None => (this, None),
    }
}

fn mitigation(context: &TechniqueContext) -> Option<Value> {
    let first = context.mitigations.first()?;
    let countermeasures: Vec<Value> = context
        .d3fend
        .iter()
        .flat_map(|(tactic, list)| {
            list.iter().map(move |c| {
                json!({
                    "d3f_tactic": { "name": tactic },
                    "d3f_technique": { "uid": c.id, "name": c.name },
                })
            })
        })
        .collect();
    Some(json!({
        "uid": first.id,
        "name": first.name,
        "src_url": first.url,
        "countermeasures": countermeasures,
    }))
}

fn attack(context: &TechniqueContext, tactic: &crate::context::TacticRef, version: &str) -> Value {
    let mut value = attack_without_tactic(context, version);
    if let Value::Object(map) = &mut value {
        map.insert(
            "tactic".into(),
            json!({ "uid": tactic.id, "name": tactic.name, "src_url": tactic.url }),
        );
    }
    value
}

fn attack_without_tactic(context: &TechniqueContext, version: &str) -> Value {
    let (technique, sub_technique) = technique_objects(context);
    let mut map = Map::new();
    map.insert("technique".into(), technique);
    if let Some(sub) = sub_technique {
        map.insert("sub_technique".into(), sub);
    }
    if let Some(mitigation) = mitigation(context) {
        map.insert("mitigation".into(), mitigation);
    }
    map.insert("version".into(), Value::String(version.to_string()));
    Value::Object(map)
}
