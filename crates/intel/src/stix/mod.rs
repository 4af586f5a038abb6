//! STIX 2.1: bundles (and bare lists of objects, and any object with an `objects`
//! list, such as a TAXII 2.1 envelope) read into a [`Feed`], and the patterning
//! language ([`pattern`]).
//!
//! What is read: `indicator`s with `pattern_type` `stix` (others are reported), and
//! the objects that give them context — `malware`, `tool`, `intrusion-set`,
//! `threat-actor`, `attack-pattern` (ATT&CK ids from `external_references` whose
//! `source_name` is `mitre-attack`, `mitre-mobile-attack` or `mitre-ics-attack`),
//! `campaign`, `report` — joined through `relationship`s into each indicator's
//! [`IntelContext`]:
//!
//! - the objects the indicator `indicates`;
//! - for malware and tools among them: the intrusion sets, threat actors and campaigns
//!   that `use` them (either direction: bundles write both) or they are `attributed-to`,
//!   and the attack patterns they use;
//! - for each actor reached: the actors it is `attributed-to` or that are attributed to
//!   it (one step, not the whole chain), and the attack patterns it uses;
//! - for campaigns: their name as a report, the actors they are attributed to, the
//!   attack patterns they use;
//! - `report`s whose `object_refs` name the indicator.
//!
//! An actor's other malware is not added: it does not tell what this indicator is.
//! Revoked objects are left out; of several versions of an object, the latest
//! `modified` is kept. A pattern of several alternatives (`[a] OR [b]`) gives one
//! indicator per alternative, ids `<stix id>#1`, `#2`… in the order of the
//! alternatives' sorted observables.

pub mod pattern;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::diagnostics::Diagnostics;
use crate::{
    file_label, read_capped, shorten, DiagnosticKind, Entity, EntityKind, Error, Feed, Indicator,
    IntelContext, ReadOptions,
};

/// Reads the STIX 2.1 bundle (or JSON list of STIX objects) at `path`.
pub fn read_bundle(path: &Path) -> Result<Feed, Error> {
    read_bundle_with(path, &ReadOptions::default())
}

/// [`read_bundle`] within `options`.
pub fn read_bundle_with(path: &Path, options: &ReadOptions) -> Result<Feed, Error> {
    // The file's bytes are dropped once cut into objects, before the feed is built.
    let objects = {
        let bytes = read_capped(path, options)?;
        parse_objects(&bytes, path)?
    };
    Ok(build_feed(
        &objects,
        path,
        &format!("stix:{}", file_label(path)),
    ))
}

/// Reads a STIX 2.1 bundle held in memory; `source` names the feed (`stix:<name>`,
/// `taxii:<collection>`), and diagnostics' locations start with it.
pub fn read_bundle_bytes(bytes: &[u8], source: &str) -> Result<Feed, Error> {
    let path = Path::new(source);
    let objects = parse_objects(bytes, path)?;
    Ok(build_feed(&objects, path, source))
}

fn parse_objects(bytes: &[u8], path: &Path) -> Result<Objects, Error> {
    parse_document(bytes).map_err(|error| match error {
        DocumentError::Json(source) => Error::Json {
            path: path.to_path_buf(),
            format: "STIX",
            line: source.line(),
            column: source.column(),
            source,
        },
        DocumentError::Shape(reason) => Error::Shape {
            path: path.to_path_buf(),
            format: "STIX bundle",
            reason,
        },
    })
}

fn build_feed(objects: &Objects, path: &Path, source: &str) -> Feed {
    let location = path.display().to_string();
    let mut diagnostics = Diagnostics::new(location.clone());
    for (number, id, message) in &objects.problems {
        let at = match id {
            Some(id) => format!("{location}: object {number} ({})", shorten(id)),
            None => format!("{location}: object {number}"),
        };
        diagnostics.push(DiagnosticKind::Malformed, at, message.clone());
    }
    let graph = Graph::new(objects);
    let mut feed = Feed {
        source: source.to_owned(),
        ..Feed::default()
    };
    for object in objects.live() {
        if let Some(kind) = entity_kind(&object.kind) {
            feed.entities.push(Entity {
                id: object.id.clone(),
                kind,
                name: object.name.clone().unwrap_or_default(),
                aliases: object
                    .aliases
                    .iter()
                    .chain(&object.x_mitre_aliases)
                    .filter(|alias| Some(*alias) != object.name.as_ref())
                    .cloned()
                    .collect(),
                attack_ids: object.attack_ids(),
            });
        }
        if object.kind == "indicator" {
            let at = format!("{location}: {}", shorten(&object.id));
            read_indicator(object, &graph, source, &at, &mut feed, &mut diagnostics);
        }
    }
    feed.diagnostics = diagnostics.finish();
    feed
}

/// A bundle's objects: the latest version of each (by `modified`) in the order they
/// first appear, and what could not be read.
#[derive(Default)]
struct Objects {
    list: Vec<StixObject>,
    index: HashMap<String, usize>,
    /// Object number (from 1), id when known, and what is wrong.
    problems: Vec<(usize, Option<String>, String)>,
    count: usize,
}

impl Objects {
    fn add(&mut self, parsed: Result<StixObject, (Option<String>, serde_json::Error)>) {
        self.count += 1;
        let object = match parsed {
            Ok(object) => object,
            Err((id, error)) => {
                self.problems.push((
                    self.count,
                    id,
                    format!("not a STIX object this reader understands: {error}"),
                ));
                return;
            }
        };
        if object.id.is_empty() || object.kind.is_empty() {
            self.problems
                .push((self.count, None, "object without type or id".to_owned()));
            return;
        }
        match self.index.get(&object.id) {
            Some(&at) => {
                if self.list[at].modified < object.modified {
                    self.list[at] = object;
                }
            }
            None => {
                self.index.insert(object.id.clone(), self.list.len());
                self.list.push(object);
            }
        }
    }

    /// The object `id`, unless revoked.
    fn get(&self, id: &str) -> Option<&StixObject> {
        self.index
            .get(id)
            .map(|&at| &self.list[at])
            .filter(|object| !object.revoked)
    }

    /// Every object not revoked, in bundle order.
    fn live(&self) -> impl Iterator<Item = &StixObject> {
        self.list.iter().filter(|object| !object.revoked)
    }
}

fn entity_kind(stix_type: &str) -> Option<EntityKind> {
    Some(match stix_type {
        "intrusion-set" => EntityKind::IntrusionSet,
        "threat-actor" => EntityKind::ThreatActor,
        "malware" => EntityKind::Malware,
        "tool" => EntityKind::Tool,
        "attack-pattern" => EntityKind::AttackPattern,
        "campaign" => EntityKind::Campaign,
        _ => return None,
    })
}

fn read_indicator(
    object: &StixObject,
    graph: &Graph<'_>,
    source: &str,
    at: &str,
    feed: &mut Feed,
    diagnostics: &mut Diagnostics,
) {
    if let Some(pattern_type) = object.pattern_type.as_deref().filter(|t| *t != "stix") {
        diagnostics.push(
            DiagnosticKind::UnsupportedPattern,
            at.to_owned(),
            format!(
                "pattern type {:?} (only stix patterns are read)",
                shorten(pattern_type)
            ),
        );
        return;
    }
    let Some(text) = object.pattern.as_deref() else {
        diagnostics.push(
            DiagnosticKind::Malformed,
            at.to_owned(),
            "indicator without a pattern".to_owned(),
        );
        return;
    };
    let parsed = match pattern::parse(text) {
        Ok(parsed) => parsed,
        Err(error) => {
            diagnostics.push(
                DiagnosticKind::PatternSyntax,
                at.to_owned(),
                error.to_string(),
            );
            return;
        }
    };
    let alternatives = match pattern::to_observables(&parsed) {
        Ok(alternatives) => alternatives,
        Err(unsupported) => {
            diagnostics.push(unsupported.kind, at.to_owned(), unsupported.reason);
            return;
        }
    };
    let mut times = [None, None];
    for (slot, (field, value)) in [
        ("valid_from", &object.valid_from),
        ("valid_until", &object.valid_until),
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(value) = value {
            match DateTime::parse_from_rfc3339(value) {
                Ok(time) => times[slot] = Some(time.with_timezone(&Utc)),
                Err(error) => {
                    diagnostics.push(
                        DiagnosticKind::Malformed,
                        at.to_owned(),
                        format!("{field} is not an RFC 3339 timestamp: {error}"),
                    );
                    return;
                }
            }
        }
    }
    let confidence = match object.confidence {
        None => None,
        Some(value) if (0.0..=100.0).contains(&value) => Some(value.round() as u8),
        Some(_) => {
            diagnostics.push(
                DiagnosticKind::Malformed,
                at.to_owned(),
                "confidence outside 0–100 ignored".to_owned(),
            );
            None
        }
    };
    let context = graph.context(&object.id);
    let entries = crate::context_entries(&context) + object.labels.len();
    let count = alternatives.len();
    for (index, all_of) in alternatives.into_iter().enumerate() {
        let keep_context = diagnostics.spend_context(entries);
        let id = if count == 1 {
            object.id.clone()
        } else {
            format!("{}#{}", object.id, index + 1)
        };
        feed.indicators.push(Indicator {
            id,
            source: source.to_owned(),
            all_of,
            name: object.name.clone(),
            description: object.description.clone(),
            confidence,
            labels: if keep_context {
                object.labels.clone()
            } else {
                Vec::new()
            },
            valid_from: times[0],
            valid_until: times[1],
            first_seen: None,
            last_seen: None,
            detect: true,
            context: if keep_context {
                context.clone()
            } else {
                IntelContext::default()
            },
        });
    }
}

/// The properties of a STIX object this reader uses; others are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StixObject {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    modified: Option<String>,
    name: Option<String>,
    description: Option<String>,
    pattern: Option<String>,
    pattern_type: Option<String>,
    valid_from: Option<String>,
    valid_until: Option<String>,
    confidence: Option<f64>,
    labels: Vec<String>,
    revoked: bool,
    aliases: Vec<String>,
    x_mitre_aliases: Vec<String>,
    external_references: Vec<ExternalReference>,
    relationship_type: Option<String>,
    source_ref: Option<String>,
    target_ref: Option<String>,
    object_refs: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExternalReference {
    source_name: String,
    external_id: Option<String>,
}

impl StixObject {
    /// ATT&CK ids of its `mitre-attack` (and mobile / ICS) external references.
    fn attack_ids(&self) -> Vec<String> {
        self.external_references
            .iter()
            .filter(|reference| {
                matches!(
                    reference.source_name.as_str(),
                    "mitre-attack" | "mitre-mobile-attack" | "mitre-ics-attack"
                )
            })
            .filter_map(|reference| reference.external_id.clone())
            .collect()
    }
}

/// The bundle's relationships, indexed both ways.
struct Graph<'a> {
    objects: &'a Objects,
    /// id → (relationship type, other id, whether the id is the source).
    edges: HashMap<&'a str, Vec<(&'a str, &'a str, bool)>>,
    /// indicator id → names of reports listing it.
    reports: HashMap<&'a str, Vec<&'a str>>,
    /// indicated object id → the context it gives.
    cache: RefCell<HashMap<String, IntelContext>>,
}

impl<'a> Graph<'a> {
    /// The graph of `objects`, relationships taken in bundle order so contexts
    /// list names in the same order on every read.
    fn new(objects: &'a Objects) -> Self {
        let mut edges: HashMap<&str, Vec<(&str, &str, bool)>> = HashMap::new();
        let mut reports: HashMap<&str, Vec<&str>> = HashMap::new();
        for object in objects.live() {
            match object.kind.as_str() {
                "relationship" => {
                    let (Some(kind), Some(source), Some(target)) = (
                        object.relationship_type.as_deref(),
                        object.source_ref.as_deref(),
                        object.target_ref.as_deref(),
                    ) else {
                        continue;
                    };
                    edges.entry(source).or_default().push((kind, target, true));
                    edges.entry(target).or_default().push((kind, source, false));
                }
                "report" => {
                    if let Some(name) = object.name.as_deref() {
                        for reference in &object.object_refs {
                            reports.entry(reference.as_str()).or_default().push(name);
                        }
                    }
                }
                _ => {}
            }
        }
        Graph {
            objects,
            edges,
            reports,
            cache: RefCell::new(HashMap::new()),
        }
    }

    /// `(relationship type, other object, whether `id` is the source)` of each
    /// relationship of `id` whose other end is still in the bundle.
    fn neighbours(&self, id: &str) -> impl Iterator<Item = (&'a str, &'a StixObject, bool)> + '_ {
        self.edges
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|(kind, other, outgoing)| {
                self.objects.get(other).map(|o| (*kind, o, *outgoing))
            })
    }

    /// What `indicator` indicates. Each indicated object's part is worked out once
    /// per bundle and cached: a feed of many indicators of one malware used by one
    /// well-described actor costs that walk once, not once per indicator.
    fn context(&self, indicator: &str) -> IntelContext {
        let mut context = ContextBuilder::default();
        for name in self.reports.get(indicator).into_iter().flatten() {
            context.add(Field::Reports, name);
        }
        for (kind, target, outgoing) in self.neighbours(indicator) {
            if kind != "indicates" || !outgoing {
                continue;
            }
            let cached = self.cache.borrow().get(&target.id).cloned();
            let part = cached.unwrap_or_else(|| {
                let part = self.target_context(target);
                self.cache
                    .borrow_mut()
                    .insert(target.id.clone(), part.clone());
                part
            });
            context.merge(&part);
        }
        context.out
    }

    fn target_context(&self, target: &StixObject) -> IntelContext {
        let mut context = ContextBuilder::default();
        match target.kind.as_str() {
            "malware" | "tool" => self.malware(target, &mut context),
            "intrusion-set" | "threat-actor" => self.actor(target, true, &mut context),
            "campaign" => self.campaign(target, &mut context),
            "attack-pattern" => context.attack_pattern(target),
            _ => {}
        }
        context.out
    }

    fn malware(&self, malware: &StixObject, context: &mut ContextBuilder) {
        if !context.seen.insert(malware.id.clone()) {
            return;
        }
        if let Some(name) = &malware.name {
            context.add(Field::Malware, name);
        }
        context.attack_ids(malware);
        for (kind, other, outgoing) in self.neighbours(&malware.id) {
            match (kind, other.kind.as_str()) {
                ("uses", "intrusion-set" | "threat-actor") => self.actor(other, true, context),
                ("attributed-to", "intrusion-set" | "threat-actor") if outgoing => {
                    self.actor(other, true, context)
                }
                ("uses", "campaign") => self.campaign(other, context),
                ("uses", "attack-pattern") => context.attack_pattern(other),
                _ => {}
            }
        }
    }

    /// An actor, and when `follow` the actors one attribution step away.
    fn actor(&self, actor: &StixObject, follow: bool, context: &mut ContextBuilder) {
        if !context.seen.insert(actor.id.clone()) {
            return;
        }
        if let Some(name) = &actor.name {
            context.add(Field::Actors, name);
        }
        context.attack_ids(actor);
        for (kind, other, _) in self.neighbours(&actor.id) {
            match (kind, other.kind.as_str()) {
                ("uses", "attack-pattern") => context.attack_pattern(other),
                ("attributed-to", "intrusion-set" | "threat-actor") if follow => {
                    self.actor(other, false, context)
                }
                _ => {}
            }
        }
    }

    fn campaign(&self, campaign: &StixObject, context: &mut ContextBuilder) {
        if !context.seen.insert(campaign.id.clone()) {
            return;
        }
        if let Some(name) = &campaign.name {
            context.add(Field::Reports, name);
        }
        context.attack_ids(campaign);
        for (kind, other, outgoing) in self.neighbours(&campaign.id) {
            match (kind, other.kind.as_str()) {
                ("attributed-to", "intrusion-set" | "threat-actor") if outgoing => {
                    self.actor(other, true, context)
                }
                ("uses", "attack-pattern") => context.attack_pattern(other),
                _ => {}
            }
        }
    }
}

/// The lists of an [`IntelContext`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Actors,
    Malware,
    AttackIds,
    Reports,
}

/// An [`IntelContext`] being built: objects visited, and each list's values kept once
/// (a hash set beside the lists, so long lists cost linear time).
#[derive(Default)]
struct ContextBuilder {
    out: IntelContext,
    seen: HashSet<String>,
    listed: HashSet<(Field, String)>,
}

impl ContextBuilder {
    fn add(&mut self, field: Field, value: &str) {
        if self.listed.insert((field, value.to_owned())) {
            let list = match field {
                Field::Actors => &mut self.out.actors,
                Field::Malware => &mut self.out.malware,
                Field::AttackIds => &mut self.out.attack_ids,
                Field::Reports => &mut self.out.reports,
            };
            list.push(value.to_owned());
        }
    }

    fn merge(&mut self, part: &IntelContext) {
        for (field, values) in [
            (Field::Actors, &part.actors),
            (Field::Malware, &part.malware),
            (Field::AttackIds, &part.attack_ids),
            (Field::Reports, &part.reports),
        ] {
            for value in values {
                self.add(field, value);
            }
        }
    }

    fn attack_ids(&mut self, object: &StixObject) {
        for id in object.attack_ids() {
            self.add(Field::AttackIds, &id);
        }
    }

    fn attack_pattern(&mut self, pattern: &StixObject) {
        if self.seen.insert(pattern.id.clone()) {
            self.attack_ids(pattern);
        }
    }
}

// ---------------------------------------------------------------------------------
// The document, object by object

enum DocumentError {
    Json(serde_json::Error),
    Shape(String),
}

/// The bundle's objects, each cut out of the document as raw JSON text and added to
/// the collection as it is read: no generic JSON tree is ever built.
fn parse_document(bytes: &[u8]) -> Result<Objects, DocumentError> {
    let mut objects = Objects::default();
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let top = deserializer
        .deserialize_any(TopVisitor(&mut objects))
        .map_err(DocumentError::Json)?;
    deserializer.end().map_err(DocumentError::Json)?;
    match top {
        Top::Objects => Ok(objects),
        Top::NotBundle(kind) => Err(DocumentError::Shape(match kind {
            Some(kind) => format!("a single {:?} object, not a bundle", shorten(&kind)),
            None => "an object without `objects` or `type`".to_owned(),
        })),
        Top::Other(what) => Err(DocumentError::Shape(format!(
            "{what}, not a bundle or list of objects"
        ))),
    }
}

enum Top {
    Objects,
    NotBundle(Option<String>),
    Other(&'static str),
}

struct TopVisitor<'c>(&'c mut Objects);

impl<'de> Visitor<'de> for TopVisitor<'_> {
    type Value = Top;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a STIX bundle or a list of STIX objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Top, A::Error> {
        ObjectsSeed(self.0).visit_seq(seq).map(|()| Top::Objects)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut objects = false;
        let mut kind = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "objects" => {
                    map.next_value_seed(ObjectsSeed(&mut *self.0))?;
                    objects = true;
                }
                "type" => kind = Some(map.next_value::<String>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(match kind {
            _ if objects => Top::Objects,
            Some(kind) if kind == "bundle" => Top::Objects,
            kind => Top::NotBundle(kind),
        })
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Top, E> {
        Ok(Top::Other("a string"))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Top, E> {
        Ok(Top::Other("a boolean"))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Top, E> {
        Ok(Top::Other("a number"))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Top, E> {
        Ok(Top::Other("a number"))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Top, E> {
        Ok(Top::Other("a number"))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Top, E> {
        Ok(Top::Other("null"))
    }
}

/// The id of an object that does not read as a [`StixObject`], for its diagnostic.
#[derive(Deserialize)]
struct IdOnly {
    id: Option<String>,
}

struct ObjectsSeed<'c>(&'c mut Objects);

impl<'de> DeserializeSeed<'de> for ObjectsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ObjectsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of STIX objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // An object of the wrong shape is one diagnostic; the others are read.
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            let parsed = serde_json::from_str::<StixObject>(raw.get()).map_err(|error| {
                let id = serde_json::from_str::<IdOnly>(raw.get())
                    .ok()
                    .and_then(|object| object.id);
                (id, error)
            });
            self.0.add(parsed);
        }
        Ok(())
    }
}
