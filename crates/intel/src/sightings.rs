//! Sightings: the IoC hits of a SOC sent back to the community that shared the
//! indicators — as STIX 2.1 `sighting` objects in a bundle, or as MISP sightings.
//!
//! A sighting says "seen here, this often, between these times"; it names the
//! indicator and the sighting organisation, never the hosts or events (those stay in
//! the SOC). STIX sightings are one per indicator over the window exported, with a
//! deterministic id (same indicator, same sighter, same window → same id), so a
//! re-export is recognised as the same sighting; MISP counts sightings one by one, so
//! its export is one sighting per hit.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rampart_event::Alert;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{Observable, ObservableKind};

/// One IoC hit: an indicator seen in an event at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The indicator's id (a STIX `indicator--…`, a MISP attribute UUID, …).
    pub indicator_id: String,
    /// Its source.
    pub source: String,
    /// Its name, when it has one.
    pub name: Option<String>,
    /// Its observables (the indicator's values that matched).
    pub observables: Vec<Observable>,
    /// When the event happened.
    pub time: DateTime<Utc>,
}

impl Hit {
    /// The hit an IoC alert records (its `intel` part, event time — or `fallback`
    /// when the event had none); `None` for alerts of rules. Observables of kinds this
    /// version does not know are left out.
    pub fn from_alert(alert: &Alert, fallback: DateTime<Utc>) -> Option<Hit> {
        let intel = alert.intel.as_deref()?;
        Some(Hit {
            indicator_id: intel.indicator_id.clone(),
            source: intel.source.clone(),
            name: intel.name.clone(),
            observables: intel
                .observables
                .iter()
                .filter_map(|o| {
                    Some(Observable {
                        kind: ObservableKind::from_name(&o.kind)?,
                        value: o.value.clone(),
                    })
                })
                .collect(),
            time: alert.event.timestamp.unwrap_or(fallback),
        })
    }
}

/// Who sights, and when the export is made.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighter {
    /// The sighting organisation's name (a STIX `identity`, the MISP `source`).
    pub name: String,
    /// The export's time (`created` / `modified` of the STIX objects).
    pub now: DateTime<Utc>,
}

/// Namespace of the ids derived here (a fixed random UUID: Rampart's).
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a4e_93b5_4d0e_8a47_52f3_c9e1_0b6d);

/// A STIX 2.1 bundle: the sighter's `identity`, one `sighting` per indicator hit (with
/// count, first and last seen), and an `indicator` (pattern written from its
/// observables) for each indicator that did not come with a STIX id of its own.
pub fn stix_bundle(hits: &[Hit], sighter: &Sighter) -> Value {
    let now = timestamp(sighter.now);
    let identity_id = format!("identity--{}", name_uuid(&["identity", &sighter.name]));
    let mut objects = vec![json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": now,
        "modified": now,
        "name": sighter.name,
        "identity_class": "organization",
    })];
    for group in by_indicator(hits).values() {
        let first = group
            .iter()
            .map(|hit| hit.time)
            .min()
            .unwrap_or(sighter.now);
        let last = group
            .iter()
            .map(|hit| hit.time)
            .max()
            .unwrap_or(sighter.now);
        let hit = group[0];
        let indicator_ref = match stix_indicator_id(&hit.indicator_id) {
            Some(id) => id,
            None => {
                let id = format!(
                    "indicator--{}",
                    name_uuid(&["indicator", &hit.source, &hit.indicator_id])
                );
                let mut indicator = json!({
                    "type": "indicator",
                    "spec_version": "2.1",
                    "id": id,
                    "created": now,
                    "modified": now,
                    "pattern": pattern(&hit.observables),
                    "pattern_type": "stix",
                    "valid_from": timestamp(first),
                    "description": format!("{} (indicator {})", hit.source, hit.indicator_id),
                });
                if let Some(name) = &hit.name {
                    indicator["name"] = json!(name);
                }
                objects.push(indicator);
                id
            }
        };
        let sighting_id = format!(
            "sighting--{}",
            name_uuid(&[
                "sighting",
                &sighter.name,
                &indicator_ref,
                &timestamp(first),
                &timestamp(last),
            ])
        );
        objects.push(json!({
            "type": "sighting",
            "spec_version": "2.1",
            "id": sighting_id,
            "created": now,
            "modified": now,
            "first_seen": timestamp(first),
            "last_seen": timestamp(last),
            "count": group.len().min(999_999_999),
            "sighting_of_ref": indicator_ref,
            "where_sighted_refs": [identity_id],
            "created_by_ref": identity_id,
        }));
    }
    let ids: Vec<&str> = objects
        .iter()
        .filter_map(|object| object["id"].as_str())
        .collect();
    let mut name = vec!["bundle", now.as_str()];
    name.extend(ids);
    let bundle_id = format!("bundle--{}", name_uuid(&name));
    json!({
        "type": "bundle",
        "id": bundle_id,
        "objects": objects,
    })
}

/// MISP sightings: one per hit, each a body for MISP's `/sightings/add` — the
/// attribute's `uuid` when the indicator is a MISP attribute (its id a UUID), and
/// always its `values`, with `type` `"0"` (a sighting), `source` and `timestamp`.
pub fn misp_sightings(hits: &[Hit], sighter: &Sighter) -> Value {
    let mut sightings = Vec::with_capacity(hits.len());
    for hit in hits {
        let mut sighting = json!({
            "values": hit.observables.iter().map(|o| o.value.as_str()).collect::<Vec<_>>(),
            "type": "0",
            "source": sighter.name,
            "timestamp": hit.time.timestamp(),
        });
        if let Ok(uuid) = Uuid::parse_str(&hit.indicator_id) {
            sighting["uuid"] = json!(uuid.hyphenated().to_string());
        }
        sightings.push(sighting);
    }
    json!({ "Sighting": sightings })
}

/// Hits grouped by indicator (source and id), in a stable order.
fn by_indicator(hits: &[Hit]) -> BTreeMap<(&str, &str), Vec<&Hit>> {
    let mut groups: BTreeMap<(&str, &str), Vec<&Hit>> = BTreeMap::new();
    for hit in hits {
        groups
            .entry((hit.source.as_str(), hit.indicator_id.as_str()))
            .or_default()
            .push(hit);
    }
    groups
}

/// The STIX id of an indicator read from STIX (`indicator--<uuid>`, possibly with a
/// suffix naming one alternative of its pattern); `None` for other feeds' ids.
fn stix_indicator_id(id: &str) -> Option<String> {
    let rest = id.strip_prefix("indicator--")?;
    let uuid = rest.get(..36)?;
    Uuid::parse_str(uuid).ok()?;
    Some(format!("indicator--{}", uuid.to_ascii_lowercase()))
}

/// A STIX pattern of one observation in which every observable holds.
fn pattern(observables: &[Observable]) -> String {
    let comparisons: Vec<String> = observables
        .iter()
        .map(|observable| {
            format!(
                "{} = '{}'",
                object_path(observable),
                observable.value.replace('\\', "\\\\").replace('\'', "\\'")
            )
        })
        .collect();
    format!("[{}]", comparisons.join(" AND "))
}

/// The STIX object path of an observable kind's value.
fn object_path(observable: &Observable) -> &'static str {
    match observable.kind {
        ObservableKind::Md5 => "file:hashes.MD5",
        ObservableKind::Sha1 => "file:hashes.'SHA-1'",
        ObservableKind::Sha256 => "file:hashes.'SHA-256'",
        ObservableKind::Sha512 => "file:hashes.'SHA-512'",
        ObservableKind::Imphash => "file:extensions.'windows-pebinary-ext'.imphash",
        ObservableKind::Ip if observable.value.contains(':') => "ipv6-addr:value",
        ObservableKind::Ip => "ipv4-addr:value",
        ObservableKind::Domain => "domain-name:value",
        ObservableKind::Url => "url:value",
        ObservableKind::Email => "email-addr:value",
        ObservableKind::FileName => "file:name",
        ObservableKind::RegistryKey => "windows-registry-key:key",
        ObservableKind::CommandLine => "process:command_line",
    }
}

/// A STIX timestamp (UTC, milliseconds).
fn timestamp(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A name-based (version 5) UUID of `parts`, each length-prefixed so that no two
/// different lists give the same name.
fn name_uuid(parts: &[&str]) -> Uuid {
    let mut name = Vec::new();
    for part in parts {
        name.extend_from_slice(&(part.len() as u64).to_be_bytes());
        name.extend_from_slice(part.as_bytes());
    }
    Uuid::new_v5(&NAMESPACE, &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_quotes_and_backslashes() {
        let observables = [
            Observable {
                kind: ObservableKind::RegistryKey,
                value: "hkey_local_machine\\software\\it's".into(),
            },
            Observable {
                kind: ObservableKind::Ip,
                value: "2001:db8::/32".into(),
            },
        ];
        assert_eq!(
            pattern(&observables),
            "[windows-registry-key:key = 'hkey_local_machine\\\\software\\\\it\\'s' AND \
             ipv6-addr:value = '2001:db8::/32']"
        );
    }

    #[test]
    fn stix_ids_are_recognised() {
        let id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
        assert_eq!(stix_indicator_id(id).as_deref(), Some(id));
        assert_eq!(
            stix_indicator_id(&format!("{id}#2")).as_deref(),
            Some(id),
            "an alternative of a pattern sights its indicator"
        );
        assert_eq!(
            stix_indicator_id("5d2f3c9a-0b1c-4d2e-8f3a-1b2c3d4e5f60"),
            None
        );
        assert_eq!(stix_indicator_id("indicator--nope"), None);
    }
}
