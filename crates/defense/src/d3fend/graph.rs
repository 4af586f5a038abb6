//! The ontology's triples, indexed by subject for the few questions the model asks.
//!
//! Only what Rampart uses is kept: labels, definitions, ids, types, the class hierarchy,
//! OWL `someValuesFrom` restrictions and direct object-property assertions. Terms in the
//! D3FEND namespace are keyed by their local name (`ProcessSpawnAnalysis`), other IRIs
//! by the full IRI, blank nodes by `_:` and their id.

use oxrdf::{NamedOrBlankNode, Term, Triple};
use std::collections::{HashMap, HashSet, VecDeque};

const D3F: &str = "http://d3fend.mitre.org/ontologies/d3fend.owl#";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const RDFS_LABEL: &str = "http://www.w3.org/2000/01/rdf-schema#label";
const RDFS_SUBCLASS_OF: &str = "http://www.w3.org/2000/01/rdf-schema#subClassOf";
const OWL_ON_PROPERTY: &str = "http://www.w3.org/2002/07/owl#onProperty";
const OWL_SOME_VALUES_FROM: &str = "http://www.w3.org/2002/07/owl#someValuesFrom";
const OWL_VERSION_INFO: &str = "http://www.w3.org/2002/07/owl#versionInfo";
const OWL_ONTOLOGY: &str = "http://www.w3.org/2002/07/owl#Ontology";

/// A link from a class to another class: `(property, target)`, both as keys.
pub(super) type Link = (String, String);

/// The indexed triples.
#[derive(Default)]
pub(super) struct Graph {
    labels: HashMap<String, String>,
    definitions: HashMap<String, String>,
    d3fend_ids: HashMap<String, String>,
    attack_ids: HashMap<String, String>,
    display_orders: HashMap<String, i64>,
    types: HashMap<String, Vec<String>>,
    superclasses: HashMap<String, Vec<String>>,
    restrictions: HashMap<String, Vec<String>>,
    on_property: HashMap<String, String>,
    some_values_from: HashMap<String, String>,
    assertions: HashMap<String, Vec<Link>>,
    version_infos: HashMap<String, String>,
    pub(super) triples: usize,
}

fn key_of_subject(subject: &NamedOrBlankNode) -> String {
    match subject {
        NamedOrBlankNode::NamedNode(node) => key_of_iri(node.as_str()),
        NamedOrBlankNode::BlankNode(node) => format!("_:{}", node.as_str()),
    }
}

fn key_of_iri(iri: &str) -> String {
    iri.strip_prefix(D3F).unwrap_or(iri).to_owned()
}

impl Graph {
    /// Adds one triple to the indexes (triples the model does not use are counted and
    /// dropped).
    pub(super) fn add(&mut self, triple: Triple) {
        self.triples += 1;
        let subject = key_of_subject(&triple.subject);
        let predicate = triple.predicate.as_str();
        match triple.object {
            Term::Literal(literal) => {
                let value = literal.value();
                let slot = match predicate {
                    RDFS_LABEL => &mut self.labels,
                    OWL_VERSION_INFO => &mut self.version_infos,
                    p if p.strip_prefix(D3F) == Some("definition") => &mut self.definitions,
                    p if p.strip_prefix(D3F) == Some("d3fend-id") => &mut self.d3fend_ids,
                    p if p.strip_prefix(D3F) == Some("attack-id") => &mut self.attack_ids,
                    p if p.strip_prefix(D3F) == Some("display-order") => {
                        if let Ok(order) = value.trim().parse() {
                            self.display_orders.insert(subject, order);
                        }
                        return;
                    }
                    _ => return,
                };
                // The first value wins: a class with two labels keeps a stable one.
                slot.entry(subject).or_insert_with(|| value.to_owned());
            }
            Term::NamedNode(node) => {
                let object = key_of_iri(node.as_str());
                match predicate {
                    RDF_TYPE => self.types.entry(subject).or_default().push(object),
                    RDFS_SUBCLASS_OF => self.superclasses.entry(subject).or_default().push(object),
                    OWL_ON_PROPERTY => {
                        self.on_property.insert(subject, object);
                    }
                    OWL_SOME_VALUES_FROM => {
                        self.some_values_from.insert(subject, object);
                    }
                    p => {
                        if let Some(property) = p.strip_prefix(D3F) {
                            self.assertions
                                .entry(subject)
                                .or_default()
                                .push((property.to_owned(), object));
                        }
                    }
                }
            }
            Term::BlankNode(node) if predicate == RDFS_SUBCLASS_OF => {
                self.restrictions
                    .entry(subject)
                    .or_default()
                    .push(format!("_:{}", node.as_str()));
            }
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }

    pub(super) fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    pub(super) fn definition(&self, key: &str) -> Option<&str> {
        self.definitions.get(key).map(String::as_str)
    }

    pub(super) fn display_order(&self, key: &str) -> Option<i64> {
        self.display_orders.get(key).copied()
    }

    pub(super) fn d3fend_ids(&self) -> impl Iterator<Item = (&str, &str)> {
        self.d3fend_ids
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub(super) fn attack_ids(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attack_ids
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Subjects declared `rdf:type` of `class`.
    pub(super) fn instances_of<'a>(&'a self, class: &'a str) -> impl Iterator<Item = &'a str> {
        self.types
            .iter()
            .filter(move |(_, types)| types.iter().any(|t| t == class))
            .map(|(subject, _)| subject.as_str())
    }

    /// The `owl:versionInfo` of the ontology header, if any.
    pub(super) fn ontology_version(&self) -> Option<&str> {
        self.instances_of(OWL_ONTOLOGY)
            .find_map(|ontology| self.version_infos.get(ontology))
            .map(String::as_str)
    }

    /// Every named class that has a superclass (the classes the model cares about).
    pub(super) fn classes(&self) -> impl Iterator<Item = &str> {
        self.superclasses.keys().map(String::as_str)
    }

    /// Direct named superclasses.
    pub(super) fn parents(&self, class: &str) -> &[String] {
        self.superclasses
            .get(class)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// All named superclasses, nearest first (breadth-first, without repeats).
    pub(super) fn ancestors(&self, class: &str) -> Vec<&str> {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut order = Vec::new();
        let mut queue: VecDeque<&str> = self.parents(class).iter().map(String::as_str).collect();
        while let Some(next) = queue.pop_front() {
            if next == class || !seen.insert(next) {
                continue;
            }
            order.push(next);
            queue.extend(self.parents(next).iter().map(String::as_str));
        }
        order
    }

    /// The class's own links: its `someValuesFrom` restrictions and its direct
    /// object-property assertions (the published build states restrictions both ways).
    pub(super) fn own_links(&self, class: &str) -> Vec<Link> {
        let mut links: Vec<Link> = self
            .restrictions
            .get(class)
            .into_iter()
            .flatten()
            .filter_map(|restriction| {
                let property = self.on_property.get(restriction)?;
                let filler = self.some_values_from.get(restriction)?;
                Some((property.clone(), filler.clone()))
            })
            .collect();
        links.extend(self.assertions.get(class).into_iter().flatten().cloned());
        links
    }
}
