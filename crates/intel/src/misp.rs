//! MISP: event JSON (the API's `{"response":[{"Event":…}]}`, the bare
//! `{"Event":…}`, and a list of `{"Event":…}`) and MISP feed folders (`manifest.json` plus one `<uuid>.json` event
//! per entry; an optional `hashes.csv` is a lookup aid and not read).
//!
//! Attribute types and the kinds they give (attributes inside MISP objects alike):
//!
//! | MISP type | kind |
//! |---|---|
//! | `md5` `sha1` `sha256` `sha512` `imphash` | that hash |
//! | `ip-src` `ip-dst`, and `…|port` (the port dropped) | `ip` |
//! | `domain` `hostname` `hostname|port` | `domain` |
//! | `domain|ip` | two indicators, the domain (`<uuid>#domain`) and the IP (`<uuid>#ip`) |
//! | `url` | `url` |
//! | `email` `email-src` `email-dst` `email-reply-to` | `email` |
//! | `filename` | `file-name` |
//! | `filename|md5` `|sha1` `|sha256` `|sha512` `|imphash` | the hash alone: a name is the weakest indicator and trivially changed, and requiring both would miss a renamed copy |
//! | `regkey`, `regkey|value` (the key) | `registry-key` |
//! | `link` | no indicator: the link joins the event's reports |
//!
//! Any other type (`text`, `mutex`, `yara`, `uri` — a path without host —, …) is
//! reported once per type and event with its count, as an `UnsupportedType`
//! diagnostic. Deleted attributes are left out.
//!
//! `to_ids` becomes [`Indicator::detect`]; the event's `info` and `link`s its
//! reports; the comment the description; tags other than galaxy tags the labels.
//! MISP has no confidence; the event's threat level stands in: High (1) → 85,
//! Medium (2) → 60, Low (3) → 35, Undefined (4) → none.
//!
//! Galaxies (on the event, its tags, or an attribute): threat-actor and intrusion-set
//! galaxies give actors; malware, tool and malware-family galaxies give malware;
//! ATT&CK attack-pattern galaxies give ATT&CK ids. The id of an ATT&CK cluster is
//! taken from its value (`PowerShell - T1086`) or its `meta.external_id`. Each cluster
//! is also an [`Entity`].

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::diagnostics::Diagnostics;
use crate::normalize::normalize;
use crate::{
    file_label, read_capped, shorten, DiagnosticKind, Entity, EntityKind, Error, Feed, Indicator,
    IntelContext, Observable, ObservableKind, ReadOptions,
};

/// The file naming a MISP feed folder's events.
pub const MANIFEST: &str = "manifest.json";

/// Reads the MISP event JSON at `path` (either envelope; a `response` with several
/// events gives them all).
pub fn read_event(path: &Path) -> Result<Feed, Error> {
    read_event_with(path, &ReadOptions::default())
}

/// [`read_event`] within `options`.
pub fn read_event_with(path: &Path, options: &ReadOptions) -> Result<Feed, Error> {
    let bytes = read_capped(path, options)?;
    read_event_bytes_at(&bytes, path, None)
}

/// Reads MISP event JSON held in memory; `label` names it in diagnostics.
pub fn read_event_bytes(bytes: &[u8], label: &str) -> Result<Feed, Error> {
    read_event_bytes_at(bytes, Path::new(label), None)
}

fn read_event_bytes_at(bytes: &[u8], path: &Path, source: Option<&str>) -> Result<Feed, Error> {
    let events = parse_events(bytes, path)?;
    let source = match (source, events.as_slice()) {
        (Some(source), _) => source.to_owned(),
        (None, [event]) if !event.uuid.is_empty() => format!("misp:{}", event.uuid),
        (None, _) => format!("misp:{}", file_label(path)),
    };
    let mut feed = Feed {
        source,
        ..Feed::default()
    };
    let mut diagnostics = Diagnostics::new(path.display().to_string());
    let mut seen_entities = HashSet::new();
    for event in &events {
        read_one_event(event, path, &mut feed, &mut seen_entities, &mut diagnostics);
    }
    feed.diagnostics = diagnostics.finish();
    Ok(feed)
}

fn parse_events(bytes: &[u8], path: &Path) -> Result<Vec<Event>, Error> {
    let json = |source: serde_json::Error| Error::Json {
        path: path.to_path_buf(),
        format: "MISP",
        line: source.line(),
        column: source.column(),
        source,
    };
    // A bare list of `{"Event": …}` (as some exports write) or one envelope.
    let first = bytes
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .copied();
    if first == Some(b'[') {
        let items: Vec<ResponseItem> = serde_json::from_slice(bytes).map_err(json)?;
        return Ok(items.into_iter().map(|item| item.event).collect());
    }
    let envelope: Envelope = serde_json::from_slice(bytes).map_err(json)?;
    let shape = |reason: &str| Error::Shape {
        path: path.to_path_buf(),
        format: "MISP event",
        reason: reason.to_owned(),
    };
    match (envelope.event, envelope.response) {
        (Some(event), _) => Ok(vec![event]),
        (None, Some(Response(items))) => Ok(items.into_iter().map(|item| item.event).collect()),
        (None, None) => Err(shape("neither an `Event` nor a `response` with events")),
    }
}

/// Reads the MISP feed folder at `path`: every event its `manifest.json` lists. An
/// event that cannot be read is a diagnostic; the others are read.
pub fn read_feed_dir(path: &Path) -> Result<Feed, Error> {
    read_feed_dir_with(path, &ReadOptions::default())
}

/// [`read_feed_dir`] within `options` (the cap applies to each file).
pub fn read_feed_dir_with(path: &Path, options: &ReadOptions) -> Result<Feed, Error> {
    let manifest_path = path.join(MANIFEST);
    let bytes = read_capped(&manifest_path, options)?;
    let manifest: BTreeMap<String, serde::de::IgnoredAny> = serde_json::from_slice(&bytes)
        .map_err(|source| Error::Json {
            path: manifest_path.clone(),
            format: "MISP manifest",
            line: source.line(),
            column: source.column(),
            source,
        })?;
    let mut feed = Feed {
        source: format!("misp-feed:{}", file_label(path)),
        ..Feed::default()
    };
    let mut diagnostics = Diagnostics::new(path.display().to_string());
    let mut seen_entities = HashSet::new();
    for uuid in manifest.keys() {
        // The manifest names files: only plain UUIDs, never a path out of the folder.
        if uuid.is_empty() || !uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            diagnostics.push(
                DiagnosticKind::Malformed,
                manifest_path.display().to_string(),
                format!("manifest entry {:?} is not an event UUID", shorten(uuid)),
            );
            continue;
        }
        let event_path = path.join(format!("{uuid}.json"));
        let events =
            read_capped(&event_path, options).and_then(|bytes| parse_events(&bytes, &event_path));
        match events {
            Ok(events) => {
                for event in &events {
                    read_one_event(
                        event,
                        &event_path,
                        &mut feed,
                        &mut seen_entities,
                        &mut diagnostics,
                    );
                }
            }
            Err(error) => diagnostics.add(error.to_diagnostic()),
        }
    }
    feed.diagnostics = diagnostics.finish();
    Ok(feed)
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Event")]
    event: Option<Event>,
    response: Option<Response>,
}

/// The API's `response`: a list of `{"Event": …}`, or one. Read with a visitor
/// rather than an untagged enum, which would buffer the whole response and lose the
/// place of an error inside it.
struct Response(Vec<ResponseItem>);

impl<'de> Deserialize<'de> for Response {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ResponseVisitor;

        impl<'de> serde::de::Visitor<'de> for ResponseVisitor {
            type Value = Response;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of events or one event")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Response, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Response(items))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Response, A::Error> {
                let item =
                    ResponseItem::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Response(vec![item]))
            }
        }

        deserializer.deserialize_any(ResponseVisitor)
    }
}

#[derive(Deserialize)]
struct ResponseItem {
    #[serde(rename = "Event")]
    event: Event,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Event {
    uuid: String,
    info: String,
    threat_level_id: Option<Value>,
    #[serde(rename = "Attribute")]
    attributes: Vec<Attribute>,
    #[serde(rename = "Object")]
    objects: Vec<MispObject>,
    #[serde(rename = "Galaxy")]
    galaxies: Vec<Galaxy>,
    #[serde(rename = "Tag")]
    tags: Vec<Tag>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MispObject {
    #[serde(rename = "Attribute")]
    attributes: Vec<Attribute>,
    deleted: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Attribute {
    uuid: String,
    #[serde(rename = "type")]
    kind: String,
    value: Option<Value>,
    to_ids: Option<Value>,
    comment: Option<String>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    deleted: Option<Value>,
    #[serde(rename = "Galaxy")]
    galaxies: Vec<Galaxy>,
    #[serde(rename = "Tag")]
    tags: Vec<Tag>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Galaxy {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "GalaxyCluster")]
    clusters: Vec<Cluster>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Cluster {
    uuid: String,
    value: String,
    meta: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Tag {
    name: String,
}

/// MISP writes booleans as `true`, `1` or `"1"` depending on version.
fn truthy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::Number(number)) => number.as_i64().is_some_and(|n| n != 0),
        Some(Value::String(text)) => matches!(text.as_str(), "1" | "true" | "True"),
        _ => false,
    }
}

/// Threat level → confidence (see the module documentation).
fn confidence(threat_level: Option<&Value>) -> Option<u8> {
    let level = match threat_level? {
        Value::Number(number) => number.as_i64()?,
        Value::String(text) => text.trim().parse().ok()?,
        _ => return None,
    };
    match level {
        1 => Some(85),
        2 => Some(60),
        3 => Some(35),
        _ => None,
    }
}

/// What one attribute type gives.
enum Mapping {
    /// One observable of this kind from the part of the value at this index (`|`-split).
    One(ObservableKind, usize),
    /// `domain|ip`: two indicators.
    DomainAndIp,
    /// A link: context, no indicator.
    Link,
    /// No indicator kind.
    Unsupported,
}

fn mapping(attribute_type: &str) -> Mapping {
    use ObservableKind as K;
    match attribute_type {
        "md5" => Mapping::One(K::Md5, 0),
        "sha1" => Mapping::One(K::Sha1, 0),
        "sha256" => Mapping::One(K::Sha256, 0),
        "sha512" => Mapping::One(K::Sha512, 0),
        "imphash" => Mapping::One(K::Imphash, 0),
        "ip-src" | "ip-dst" | "ip-src|port" | "ip-dst|port" => Mapping::One(K::Ip, 0),
        "domain" | "hostname" | "hostname|port" => Mapping::One(K::Domain, 0),
        "domain|ip" => Mapping::DomainAndIp,
        "url" => Mapping::One(K::Url, 0),
        "email" | "email-src" | "email-dst" | "email-reply-to" => Mapping::One(K::Email, 0),
        "filename" => Mapping::One(K::FileName, 0),
        "filename|md5" => Mapping::One(K::Md5, 1),
        "filename|sha1" => Mapping::One(K::Sha1, 1),
        "filename|sha256" => Mapping::One(K::Sha256, 1),
        "filename|sha512" => Mapping::One(K::Sha512, 1),
        "filename|imphash" => Mapping::One(K::Imphash, 1),
        "regkey" | "regkey|value" => Mapping::One(K::RegistryKey, 0),
        "link" => Mapping::Link,
        _ => Mapping::Unsupported,
    }
}

/// The attribute's value as text (MISP writes some as numbers).
fn value_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn read_one_event(
    event: &Event,
    path: &Path,
    feed: &mut Feed,
    seen_entities: &mut HashSet<String>,
    diagnostics: &mut Diagnostics,
) {
    let event_location = format!("{}: event {}", path.display(), shorten(&event.uuid));
    let mut context = IntelContext::default();
    if !event.info.is_empty() {
        context.reports.push(event.info.clone());
    }
    let mut clusters: Vec<(&str, &Cluster)> = Vec::new();
    for galaxy in &event.galaxies {
        clusters.extend(
            galaxy
                .clusters
                .iter()
                .map(|cluster| (galaxy.kind.as_str(), cluster)),
        );
    }
    let tag_clusters: Vec<(String, Cluster)> = event
        .tags
        .iter()
        .filter_map(|tag| galaxy_tag(&tag.name))
        .filter(|(kind, cluster)| {
            !clusters
                .iter()
                .any(|(k, c)| *k == kind.as_str() && c.value == cluster.value)
        })
        .collect();
    clusters.extend(
        tag_clusters
            .iter()
            .map(|(kind, cluster)| (kind.as_str(), cluster)),
    );
    for (galaxy_type, cluster) in &clusters {
        apply_cluster(galaxy_type, cluster, &mut context, feed, seen_entities);
    }
    let event_labels: Vec<String> = event
        .tags
        .iter()
        .filter(|tag| !tag.name.starts_with("misp-galaxy:"))
        .map(|tag| tag.name.clone())
        .collect();
    let attributes: Vec<&Attribute> = event
        .attributes
        .iter()
        .chain(
            event
                .objects
                .iter()
                .filter(|object| !truthy(object.deleted.as_ref()))
                .flat_map(|object| &object.attributes),
        )
        .filter(|attribute| !truthy(attribute.deleted.as_ref()))
        .collect();
    for attribute in &attributes {
        if let (Mapping::Link, Some(link)) = (
            mapping(&attribute.kind),
            value_text(attribute.value.as_ref()),
        ) {
            push_unique(&mut context.reports, &link);
        }
    }
    let confidence = confidence(event.threat_level_id.as_ref());
    let mut unsupported: BTreeMap<&str, usize> = BTreeMap::new();
    for attribute in attributes {
        let location = format!("{}: attribute {}", path.display(), shorten(&attribute.uuid));
        let parts: Vec<(ObservableKind, usize, &str)> = match mapping(&attribute.kind) {
            Mapping::Link => continue,
            Mapping::Unsupported => {
                *unsupported.entry(attribute.kind.as_str()).or_default() += 1;
                continue;
            }
            Mapping::One(kind, part) => vec![(kind, part, "")],
            Mapping::DomainAndIp => vec![
                (ObservableKind::Domain, 0, "#domain"),
                (ObservableKind::Ip, 1, "#ip"),
            ],
        };
        let Some(value) = value_text(attribute.value.as_ref()) else {
            diagnostics.push(
                DiagnosticKind::Malformed,
                location,
                "attribute without a value".to_owned(),
            );
            continue;
        };
        let mut attribute_context = context.clone();
        for galaxy in &attribute.galaxies {
            for cluster in &galaxy.clusters {
                apply_cluster(
                    &galaxy.kind,
                    cluster,
                    &mut attribute_context,
                    feed,
                    seen_entities,
                );
            }
        }
        let mut labels = event_labels.clone();
        labels.extend(
            attribute
                .tags
                .iter()
                .filter(|tag| !tag.name.starts_with("misp-galaxy:"))
                .map(|tag| tag.name.clone()),
        );
        let (shared_context, shared_labels) = if diagnostics
            .spend_context(crate::context_entries(&attribute_context) + labels.len())
        {
            (attribute_context, labels)
        } else {
            (IntelContext::default(), Vec::new())
        };
        let pieces: Vec<&str> = value.split('|').collect();
        for (kind, part, suffix) in parts {
            let Some(raw) = pieces.get(part) else {
                diagnostics.push(
                    DiagnosticKind::InvalidValue,
                    location.clone(),
                    format!(
                        "a {} value needs {} parts separated by |",
                        shorten(&attribute.kind),
                        part + 1
                    ),
                );
                continue;
            };
            let normalized = match normalize(kind, raw) {
                Ok(normalized) => normalized,
                Err(error) => {
                    diagnostics.push(
                        DiagnosticKind::InvalidValue,
                        location.clone(),
                        error.to_string(),
                    );
                    continue;
                }
            };
            feed.indicators.push(Indicator {
                id: format!("{}{suffix}", attribute.uuid),
                source: feed.source.clone(),
                all_of: vec![Observable {
                    kind,
                    value: normalized,
                }],
                name: None,
                description: attribute
                    .comment
                    .clone()
                    .filter(|comment| !comment.is_empty()),
                confidence,
                labels: shared_labels.clone(),
                valid_from: None,
                valid_until: None,
                first_seen: timestamp(attribute.first_seen.as_deref()),
                last_seen: timestamp(attribute.last_seen.as_deref()),
                detect: truthy(attribute.to_ids.as_ref()),
                context: shared_context.clone(),
            });
        }
    }
    for (attribute_type, count) in unsupported {
        diagnostics.push(
            DiagnosticKind::UnsupportedType,
            event_location.clone(),
            format!(
                "{count} attribute(s) of type {:?} left out: no indicator kind Rampart matches",
                shorten(attribute_type)
            ),
        );
    }
}

fn timestamp(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

/// A galaxy tag (`misp-galaxy:threat-actor="APT 29"`) as a galaxy type and cluster.
fn galaxy_tag(name: &str) -> Option<(String, Cluster)> {
    let rest = name.strip_prefix("misp-galaxy:")?;
    let (kind, value) = rest.split_once('=')?;
    let value = value.trim_matches('"');
    Some((
        kind.to_owned(),
        Cluster {
            uuid: String::new(),
            value: value.to_owned(),
            meta: None,
        },
    ))
}

/// What a galaxy's clusters are, from the galaxy type.
fn galaxy_role(galaxy_type: &str) -> Option<EntityKind> {
    if galaxy_type.contains("attack-pattern") {
        Some(EntityKind::AttackPattern)
    } else if galaxy_type.contains("intrusion-set") {
        Some(EntityKind::IntrusionSet)
    } else if galaxy_type.contains("threat-actor") || galaxy_type.contains("activity-group") {
        Some(EntityKind::ThreatActor)
    } else if galaxy_type.contains("tool") {
        Some(EntityKind::Tool)
    } else if galaxy_type.contains("malware")
        || matches!(
            galaxy_type,
            "malpedia" | "rat" | "ransomware" | "backdoor" | "banker" | "stealer" | "botnet"
        )
    {
        Some(EntityKind::Malware)
    } else {
        None
    }
}

/// Splits `Name - T1086` (or `- G0016`, `- S0154`, `- T1059.001`) into name and id.
fn split_attack_id(value: &str) -> (&str, Option<&str>) {
    if let Some((name, id)) = value.rsplit_once(" - ") {
        if is_attack_id(id) {
            return (name.trim(), Some(id));
        }
    }
    (value, None)
}

fn is_attack_id(text: &str) -> bool {
    let bytes = text.as_bytes();
    let main_ok = |digits: &[u8]| digits.len() == 4 && digits.iter().all(u8::is_ascii_digit);
    match bytes {
        [b'T' | b'G' | b'S' | b'M' | b'C' | b'D' | b'A', rest @ ..] => match rest.len() {
            4 => main_ok(rest),
            8 => main_ok(&rest[..4]) && rest[4] == b'.' && rest[5..].iter().all(u8::is_ascii_digit),
            _ => false,
        },
        _ => false,
    }
}

fn apply_cluster(
    galaxy_type: &str,
    cluster: &Cluster,
    context: &mut IntelContext,
    feed: &mut Feed,
    seen_entities: &mut HashSet<String>,
) {
    let Some(kind) = galaxy_role(galaxy_type) else {
        return;
    };
    let (name, id_in_value) = split_attack_id(&cluster.value);
    let mut attack_ids: Vec<String> = id_in_value.map(str::to_owned).into_iter().collect();
    let meta = cluster.meta.as_ref();
    for id in meta_strings(meta, "external_id") {
        if is_attack_id(&id) && !attack_ids.contains(&id) {
            attack_ids.push(id);
        }
    }
    match kind {
        EntityKind::AttackPattern => {}
        EntityKind::IntrusionSet | EntityKind::ThreatActor => {
            push_unique(&mut context.actors, name)
        }
        _ => push_unique(&mut context.malware, name),
    }
    for id in &attack_ids {
        push_unique(&mut context.attack_ids, id);
    }
    let entity_id = if cluster.uuid.is_empty() {
        format!("misp-galaxy:{galaxy_type}={}", cluster.value)
    } else {
        cluster.uuid.clone()
    };
    if seen_entities.insert(entity_id.clone()) {
        feed.entities.push(Entity {
            id: entity_id,
            kind,
            name: name.to_owned(),
            aliases: meta_strings(meta, "synonyms"),
            attack_ids,
        });
    }
}

/// `meta.<key>` as strings (a list or a single string).
fn meta_strings(meta: Option<&Value>, key: &str) -> Vec<String> {
    match meta.and_then(|meta| meta.get(key)) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(text)) => vec![text.clone()],
        _ => Vec::new(),
    }
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|kept| kept == value) {
        list.push(value.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_ids_are_split_from_cluster_values() {
        assert_eq!(
            split_attack_id("PowerShell - T1086"),
            ("PowerShell", Some("T1086"))
        );
        assert_eq!(
            split_attack_id("DNS - T1071.004"),
            ("DNS", Some("T1071.004"))
        );
        assert_eq!(split_attack_id("APT29 - G0016"), ("APT29", Some("G0016")));
        assert_eq!(split_attack_id("APT 29"), ("APT 29", None));
        assert_eq!(split_attack_id("A - B - T12"), ("A - B - T12", None));
    }

    #[test]
    fn every_envelope_reads() {
        let event = r#"{"uuid": "e1", "info": "x", "Attribute": [
            {"uuid": "a1", "type": "domain|ip", "value": "Evil.Example|203.0.113.7", "to_ids": "1"},
            {"uuid": "a2", "type": "filename|sha1", "value": "a.exe|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "to_ids": 0},
            {"uuid": "a3", "type": "mutex", "value": "x"}, {"uuid": "a4", "type": "mutex", "value": "y"},
            {"uuid": "a5", "type": "ip-dst", "value": "203.0.113.8", "deleted": true}]}"#;
        for document in [
            format!(r#"{{"Event": {event}}}"#),
            format!(r#"{{"response": [{{"Event": {event}}}]}}"#),
            format!(r#"{{"response": {{"Event": {event}}}}}"#),
            format!(r#"  [{{"Event": {event}}}]"#),
        ] {
            let feed = match read_event_bytes(document.as_bytes(), "test") {
                Ok(feed) => feed,
                Err(error) => panic!("{document}: {error}"),
            };
            assert_eq!(feed.source, "misp:e1");
            let got: Vec<(&str, &str, bool)> = feed
                .indicators
                .iter()
                .map(|i| (i.id.as_str(), i.all_of[0].value.as_str(), i.detect))
                .collect();
            assert_eq!(
                got,
                [
                    ("a1#domain", "evil.example", true),
                    ("a1#ip", "203.0.113.7", true),
                    ("a2", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
                ]
            );
            assert_eq!(feed.diagnostics.len(), 1);
            assert!(feed.diagnostics[0]
                .message
                .starts_with("2 attribute(s) of type \"mutex\""));
        }
        assert!(matches!(
            read_event_bytes(b"{}", "empty"),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            read_event_bytes(b"{\"response\": 5}", "odd"),
            Err(Error::Json { .. })
        ));
    }

    #[test]
    fn contexts_past_the_budget_are_left_off_and_counted() {
        let document = br#"{"Event": {"uuid": "e1", "info": "Report", "Tag": [{"name": "tlp:white"}],
            "Galaxy": [{"type": "threat-actor", "GalaxyCluster": [{"uuid": "c1", "value": "APT 29"}]}],
            "Attribute": [
              {"uuid": "a1", "type": "domain", "value": "a.example"},
              {"uuid": "a2", "type": "domain", "value": "b.example"},
              {"uuid": "a3", "type": "domain", "value": "c.example"}]}}"#;
        let events = match parse_events(document, Path::new("t.json")) {
            Ok(events) => events,
            Err(error) => panic!("{error}"),
        };
        let mut feed = Feed::default();
        // Each indicator carries three entries (report, actor, label): two fit in seven.
        let mut diagnostics = Diagnostics::new("t.json").with_context_budget(7);
        read_one_event(
            &events[0],
            Path::new("t.json"),
            &mut feed,
            &mut HashSet::new(),
            &mut diagnostics,
        );
        let actors: Vec<usize> = feed
            .indicators
            .iter()
            .map(|i| i.context.actors.len() + i.labels.len())
            .collect();
        assert_eq!(actors, [2, 2, 0]);
        let diagnostics = diagnostics.finish();
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].kind, DiagnosticKind::Limit);
        assert!(diagnostics[0]
            .message
            .starts_with("1 indicators kept without"));
    }

    #[test]
    fn threat_levels_map_to_confidence() {
        assert_eq!(confidence(Some(&Value::from("1"))), Some(85));
        assert_eq!(confidence(Some(&Value::from(3))), Some(35));
        assert_eq!(confidence(Some(&Value::from("4"))), None);
        assert_eq!(confidence(None), None);
    }
}
