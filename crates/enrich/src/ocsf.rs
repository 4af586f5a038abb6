//! OCSF Detection Finding (class 2004) serialisation of an enriched alert.
//!
//! Mapping: `finding_info.analytic` is the Sigma rule. `finding_info.attacks[]` holds
//! OCSF 1.5 `attack` objects, each with `technique` (the parent), `sub_technique` and
//! `version`: per technique, one entry per tactic (`tactic`), then one per ATT&CK
//! mitigation (`mitigation`: `uid`, `name`, `src_url`), so every mitigation appears
//! once and none is paired with a tactic it has nothing to do with. D3FEND
//! countermeasures answer the technique, not one of its mitigations, so they are not
//! put in `mitigation.countermeasures`: each appears once per finding under
//! `unmapped.countermeasures` (OCSF `d3fend` objects, `d3f_tactic` and `d3f_technique`,
//! plus the `techniques` it answers). `device.hostname`, `time` (epoch ms) and
//! `severity_id` (1 informational … 5 critical) come from the alert; everything else
//! Rampart knows (groups, ENGAGE, pyramid level, tag issues) goes under `unmapped`.
//! An IoC alert's indicator is `unmapped.intel`, and what its intelligence joins to in
//! ATT&CK (groups, software, techniques, the groups' techniques, unresolved names)
//! `unmapped.intel.attribution`; the techniques it names are in `attacks` like a rule's.

use crate::context::TechniqueContext;
use crate::enricher::EnrichedAlert;
use rampart_event::Level;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

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
            let tactic = json!({ "uid": tactic.id, "name": tactic.name, "src_url": tactic.url });
            attacks.push(attack(context, "tactic", tactic, attack_version));
        }
        for mitigation in &context.mitigations {
            let mitigation =
                json!({ "uid": mitigation.id, "name": mitigation.name, "src_url": mitigation.url });
            attacks.push(attack(context, "mitigation", mitigation, attack_version));
        }
        if context.tactics.is_empty() && context.mitigations.is_empty() {
            attacks.push(Value::Object(attack_base(context, attack_version)));
        }
    }
    let level = alert.rule.level;
    let time = alert.timestamp.map(|t| t.timestamp_millis());
    let mut finding = json!({
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
            "countermeasures": countermeasures(&alert.enrichment.techniques),
        },
    });
    // An IoC hit: the indicator, its feed and what it indicates, beside the rest of
    // what OCSF has no place for.
    // Its ATT&CK joins go with it (`unmapped.intel.attribution`): OCSF's `attacks`
    // hold techniques, and the groups and software are not observed behaviour.
    if let (Some(intel), Some(unmapped)) = (&alert.intel, finding.get_mut("unmapped")) {
        unmapped["intel"] = json!(intel);
        if let Some(attribution) = &alert.enrichment.attribution {
            unmapped["intel"]["attribution"] = json!(attribution);
        }
    }
    finding
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

/// Each D3FEND countermeasure of the alert's techniques once, as an OCSF `d3fend`
/// object with the techniques it answers, in D3FEND tactic then id order.
fn countermeasures(contexts: &[Arc<TechniqueContext>]) -> Vec<Value> {
    let mut answered: BTreeMap<(&str, &str), (&str, Vec<&str>)> = BTreeMap::new();
    for context in contexts {
        for (tactic, list) in &context.d3fend {
            for countermeasure in list {
                let (_, techniques) = answered
                    .entry((tactic.as_str(), countermeasure.id.as_str()))
                    .or_insert((countermeasure.name.as_str(), Vec::new()));
                if !techniques.contains(&context.technique.id.as_str()) {
                    techniques.push(&context.technique.id);
                }
            }
        }
    }
    answered
        .into_iter()
        .map(|((tactic, id), (name, techniques))| {
            json!({
                "d3f_tactic": { "name": tactic },
                "d3f_technique": { "uid": id, "name": name },
                "techniques": techniques,
            })
        })
        .collect()
}

/// An `attack` object for the technique of `context` with `key` (`tactic` or
/// `mitigation`) set to `value`.
fn attack(context: &TechniqueContext, key: &str, value: Value, version: &str) -> Value {
    let mut map = attack_base(context, version);
    map.insert(key.into(), value);
    Value::Object(map)
}

/// The technique, sub-technique and ATT&CK version of an `attack` object.
fn attack_base(context: &TechniqueContext, version: &str) -> Map<String, Value> {
    let (technique, sub_technique) = technique_objects(context);
    let mut map = Map::new();
    map.insert("technique".into(), technique);
    if let Some(sub) = sub_technique {
        map.insert("sub_technique".into(), sub);
    }
    map.insert("version".into(), Value::String(version.to_string()));
    map
}
