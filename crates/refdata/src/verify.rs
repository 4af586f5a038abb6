//! Checking that a file holds what its kind promises, and summarising it.
//!
//! The same checks serve `status` (report), `update` and `import` (refuse to install a
//! file that fails them). They parse the whole file with the real parser for its format
//! — a truncated download fails here, not later in the knowledge graph — but keep only
//! counts and a version, so they stay cheap.

use crate::discover::AttackDomain;
use crate::open::{open_within, ExpansionLimit};
use crate::RefdataError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

/// What kind of reference file a path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataKind {
    /// An ATT&CK STIX 2.1 bundle of one domain.
    Attack(AttackDomain),
    /// The D3FEND ontology in Turtle.
    D3fendTurtle,
    /// The D3FEND ontology in JSON-LD.
    D3fendJsonLd,
    /// One of ENGAGE's JSON files.
    EngageJson,
    /// A Sigma rule folder (or SigmaHQ's `regression_data`), imported as a whole.
    SigmaFolder,
}

impl DataKind {
    /// A stable machine name: `attack-enterprise`, `attack-mobile`, `attack-ics`,
    /// `d3fend-turtle`, `d3fend-jsonld`, `engage-json` (the `--json` output uses it).
    pub fn key(self) -> &'static str {
        match self {
            DataKind::Attack(AttackDomain::Enterprise) => "attack-enterprise",
            DataKind::Attack(AttackDomain::Mobile) => "attack-mobile",
            DataKind::Attack(AttackDomain::Ics) => "attack-ics",
            DataKind::D3fendTurtle => "d3fend-turtle",
            DataKind::D3fendJsonLd => "d3fend-jsonld",
            DataKind::EngageJson => "engage-json",
            DataKind::SigmaFolder => "sigma-folder",
        }
    }

    /// A short human name, e.g. `ATT&CK enterprise`.
    pub fn label(self) -> String {
        match self {
            DataKind::Attack(domain) => {
                format!("ATT&CK {}", domain.file_stem().trim_end_matches("-attack"))
            }
            DataKind::D3fendTurtle => "D3FEND (Turtle)".to_owned(),
            DataKind::D3fendJsonLd => "D3FEND (JSON-LD)".to_owned(),
            DataKind::EngageJson => "ENGAGE".to_owned(),
            DataKind::SigmaFolder => "Sigma".to_owned(),
        }
    }
}

impl Serialize for DataKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.key())
    }
}

/// What a successful check learnt about a file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The version the content declares (ATT&CK collection version, D3FEND
    /// `owl:versionInfo`), if any.
    pub version: Option<String>,
    /// Object counts by kind: STIX types for ATT&CK (plus `attack-pattern (active)`),
    /// `triples` and `d3fend-ids` for D3FEND, `entries` for ENGAGE files.
    pub counts: BTreeMap<String, u64>,
}

/// Checks a file of the given kind and summarises it; a file that fails is rejected with
/// a message naming it and saying why.
pub fn verify(kind: DataKind, path: &Path) -> Result<Summary, RefdataError> {
    verify_within(kind, path, &ExpansionLimit::default())
}

/// [`verify`] reading at most what `limit` allows: a file that expands beyond it is
/// rejected as it is decompressed.
pub fn verify_within(
    kind: DataKind,
    path: &Path,
    limit: &ExpansionLimit,
) -> Result<Summary, RefdataError> {
    match kind {
        DataKind::Attack(_) => verify_attack_bundle(path, limit),
        DataKind::D3fendTurtle => verify_turtle(path, limit),
        DataKind::D3fendJsonLd => verify_jsonld(path, limit),
        DataKind::EngageJson => verify_engage_json(path, limit),
        DataKind::SigmaFolder => Err(RefdataError::invalid(
            path,
            "Sigma folders are checked as they are copied, not as single files",
        )),
    }
}

#[derive(Deserialize)]
struct BundleHead {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    objects: Vec<ObjectHead>,
}

/// Only what the counts need; every other field of a STIX object is skipped unread.
#[derive(Deserialize)]
struct ObjectHead {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    revoked: bool,
    #[serde(default)]
    x_mitre_deprecated: bool,
    #[serde(default)]
    x_mitre_version: Option<String>,
}

fn verify_attack_bundle(path: &Path, limit: &ExpansionLimit) -> Result<Summary, RefdataError> {
    let mut reader = open_within(path, limit)?;
    // Serde's message for a JSON list here ("expected a string") would hide the point.
    if first_non_blank(&mut reader).map_err(|e| read_error(path, &e))? != Some(b'{') {
        return Err(RefdataError::invalid(
            path,
            "not a STIX bundle (the file does not start with a JSON object)",
        ));
    }
    let bundle: BundleHead = parse_json(path, reader)?;
    if bundle.kind != "bundle" {
        return Err(RefdataError::invalid(
            path,
            format!("not a STIX bundle (top-level type is {:?})", bundle.kind),
        ));
    }
    let mut summary = Summary::default();
    for object in &bundle.objects {
        *summary.counts.entry(object.kind.clone()).or_default() += 1;
        if object.kind == "attack-pattern" && !object.revoked && !object.x_mitre_deprecated {
            *summary
                .counts
                .entry("attack-pattern (active)".to_owned())
                .or_default() += 1;
        }
        if object.kind == "x-mitre-collection" && summary.version.is_none() {
            summary.version = object.x_mitre_version.clone();
        }
    }
    if !summary.counts.contains_key("attack-pattern") {
        return Err(RefdataError::invalid(
            path,
            "STIX bundle holds no attack-pattern: not an ATT&CK bundle",
        ));
    }
    Ok(summary)
}

fn verify_turtle(path: &Path, limit: &ExpansionLimit) -> Result<Summary, RefdataError> {
    const D3FEND_ID: &str = "http://d3fend.mitre.org/ontologies/d3fend.owl#d3fend-id";
    const VERSION_INFO: &str = "http://www.w3.org/2002/07/owl#versionInfo";
    let reader = open_within(path, limit)?;
    let mut summary = Summary::default();
    let (mut triples, mut ids) = (0u64, 0u64);
    for triple in oxttl::TurtleParser::new().for_reader(reader) {
        let triple = triple.map_err(|e| match e {
            oxttl::TurtleParseError::Syntax(e) => {
                let start = e.location().start;
                RefdataError::invalid(
                    path,
                    format!(
                        "line {}, column {}: {}",
                        start.line + 1,
                        start.column + 1,
                        e.message()
                    ),
                )
            }
            oxttl::TurtleParseError::Io(e) => RefdataError::io(path, e),
        })?;
        triples += 1;
        match triple.predicate.as_str() {
            D3FEND_ID => ids += 1,
            VERSION_INFO if summary.version.is_none() => {
                if let oxrdf::Term::Literal(literal) = &triple.object {
                    summary.version = Some(literal.value().to_owned());
                }
            }
            _ => {}
        }
    }
    if ids == 0 {
        return Err(RefdataError::invalid(
            path,
            format!("{triples} triples but no d3f:d3fend-id: not the D3FEND ontology"),
        ));
    }
    summary.counts.insert("triples".to_owned(), triples);
    summary.counts.insert("d3fend-ids".to_owned(), ids);
    Ok(summary)
}

fn verify_jsonld(path: &Path, limit: &ExpansionLimit) -> Result<Summary, RefdataError> {
    let value: serde_json::Value = parse_json(path, open_within(path, limit)?)?;
    let nodes = value
        .get("@graph")
        .and_then(|g| g.as_array())
        .or_else(|| value.as_array())
        .ok_or_else(|| RefdataError::invalid(path, "JSON-LD without a @graph array"))?;
    let mut summary = Summary::default();
    summary
        .counts
        .insert("nodes".to_owned(), nodes.len() as u64);
    Ok(summary)
}

fn verify_engage_json(path: &Path, limit: &ExpansionLimit) -> Result<Summary, RefdataError> {
    let value: serde_json::Value = parse_json(path, open_within(path, limit)?)?;
    let entries = match &value {
        serde_json::Value::Array(items) => items.len(),
        serde_json::Value::Object(map) => map.len(),
        _ => {
            return Err(RefdataError::invalid(
                path,
                "expected a JSON list or object",
            ))
        }
    };
    let mut summary = Summary::default();
    summary.counts.insert("entries".to_owned(), entries as u64);
    Ok(summary)
}

/// Parses JSON as it is read rather than from a copy in memory: a file padded to the
/// size limit (a gzip bomb of blanks) then costs time up to the limit, not memory.
fn parse_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    reader: impl BufRead,
) -> Result<T, RefdataError> {
    serde_json::from_reader(reader).map_err(|e| {
        if e.is_io() {
            read_error(path, &e)
        } else {
            RefdataError::invalid(path, format!("invalid JSON: {e}"))
        }
    })
}

fn read_error(path: &Path, error: &dyn std::fmt::Display) -> RefdataError {
    RefdataError::invalid(path, format!("cannot read: {error}"))
}

/// The first byte that is not JSON whitespace, without consuming it.
fn first_non_blank(reader: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(None);
        }
        match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(at) => return Ok(Some(buffer[at])),
            None => {
                let blank = buffer.len();
                reader.consume(blank);
            }
        }
    }
}
