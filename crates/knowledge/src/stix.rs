//! Reading an ATT&CK STIX 2.1 bundle into flat, typed raw objects.
//!
//! One flat struct covers every object type: serde fills the fields a type has and
//! skips every field we do not name, which parses the 50 MB Enterprise bundle in one
//! pass without building a generic JSON tree. Only when that strict pass fails on a
//! type mismatch do we fall back to a tree, object by object, so a single odd object
//! becomes a warning instead of losing the whole bundle.

use crate::error::KnowledgeError;
use flate2::read::GzDecoder;
use serde::Deserialize;
use std::io::Read;
use std::path::Path;

/// A STIX bundle: only its objects matter.
#[derive(Debug, Deserialize)]
struct RawBundle {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    objects: Vec<RawObject>,
}

/// The same bundle with objects left as JSON trees (the lenient fallback).
#[derive(Debug, Deserialize)]
struct LooseBundle {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    objects: Vec<serde_json::Value>,
}

/// `external_references[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawExternalRef {
    pub source_name: String,
    pub external_id: Option<String>,
    pub url: Option<String>,
}

/// `kill_chain_phases[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawKillChainPhase {
    pub kill_chain_name: String,
    pub phase_name: String,
}

/// `x_mitre_log_sources[]` of a data component.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawLogSource {
    pub name: String,
    pub channel: String,
}

/// `x_mitre_log_source_references[]` of an analytic.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawLogSourceRef {
    pub x_mitre_data_component_ref: String,
    pub name: String,
    pub channel: String,
}

/// Any STIX object, with the union of the fields Rampart reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawObject {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub name: String,
    pub description: String,
    pub modified: String,
    pub revoked: bool,
    pub x_mitre_deprecated: bool,
    pub x_mitre_version: String,
    pub x_mitre_attack_spec_version: String,
    pub external_references: Vec<RawExternalRef>,
    pub kill_chain_phases: Vec<RawKillChainPhase>,
    pub x_mitre_platforms: Vec<String>,
    pub x_mitre_is_subtechnique: bool,
    pub aliases: Vec<String>,
    pub x_mitre_aliases: Vec<String>,
    pub x_mitre_shortname: String,
    pub tactic_refs: Vec<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub x_mitre_data_source_ref: String,
    pub x_mitre_log_sources: Vec<RawLogSource>,
    pub x_mitre_analytic_refs: Vec<String>,
    pub x_mitre_log_source_references: Vec<RawLogSourceRef>,
    pub relationship_type: String,
    pub source_ref: String,
    pub target_ref: String,
}

impl RawObject {
    /// The ATT&CK id and page from the `mitre-attack` external reference (older
    /// Mobile and ICS objects say `mitre-mobile-attack` / `mitre-ics-attack`).
    pub fn attack_reference(&self) -> Option<&RawExternalRef> {
        let with_id = |r: &&RawExternalRef| r.external_id.is_some();
        self.external_references
            .iter()
            .filter(with_id)
            .find(|r| r.source_name == "mitre-attack")
            .or_else(|| {
                self.external_references.iter().filter(with_id).find(|r| {
                    r.source_name.starts_with("mitre-") && r.source_name.ends_with("-attack")
                })
            })
    }
}

/// The objects of a bundle, and warnings about objects that could not be read.
#[derive(Debug, Default)]
pub(crate) struct ParsedBundle {
    pub objects: Vec<RawObject>,
    pub warnings: Vec<String>,
}

/// Reads a file whole, decompressing it when its name ends in `.gz`.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, KnowledgeError> {
    read_maybe_gzip_within(path, rampart_refdata::DEFAULT_MAX_EXPANDED)
}

/// [`read_maybe_gzip`], refusing a gzip stream that expands beyond `max_expanded`
/// bytes: a bomb of a few KiB in the data folder must not fill memory (the largest
/// real bundle, Enterprise, is about 53 MB expanded).
fn read_maybe_gzip_within(path: &Path, max_expanded: u64) -> Result<Vec<u8>, KnowledgeError> {
    let raw = std::fs::read(path).map_err(|source| KnowledgeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let gzipped = path.extension().is_some_and(|ext| ext == "gz");
    // Gzip is recognised by its magic bytes too: a renamed file still loads.
    if gzipped || raw.starts_with(&[0x1f, 0x8b]) {
        let gzip_error = |source| KnowledgeError::Gzip {
            path: path.to_path_buf(),
            source,
        };
        // Compressed ATT&CK bundles expand about six-fold.
        let expected = raw.len().saturating_mul(6).min(max_expanded as usize);
        let mut out = Vec::with_capacity(expected);
        GzDecoder::new(raw.as_slice())
            .take(max_expanded.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(gzip_error)?;
        if out.len() as u64 > max_expanded {
            return Err(gzip_error(std::io::Error::other(format!(
                "expands beyond {max_expanded} bytes"
            ))));
        }
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses the bytes of a bundle read from `path` (named in errors).
pub(crate) fn parse_bundle(path: &Path, bytes: &[u8]) -> Result<ParsedBundle, KnowledgeError> {
    match serde_json::from_slice::<RawBundle>(bytes) {
        Ok(bundle) => {
            check_bundle_type(path, &bundle.kind)?;
            Ok(ParsedBundle {
                objects: bundle.objects,
                warnings: Vec::new(),
            })
        }
        // A syntax error or truncation cannot be recovered object by object.
        Err(error) if error.is_syntax() || error.is_eof() || error.is_io() => {
            Err(KnowledgeError::Json {
                path: path.to_path_buf(),
                source: error,
            })
        }
        Err(_) => parse_leniently(path, bytes),
    }
}

/// The slow path: each object on its own, bad ones reported and skipped.
fn parse_leniently(path: &Path, bytes: &[u8]) -> Result<ParsedBundle, KnowledgeError> {
    let bundle: LooseBundle =
        serde_json::from_slice(bytes).map_err(|source| KnowledgeError::Json {
            path: path.to_path_buf(),
            source,
        })?;
    check_bundle_type(path, &bundle.kind)?;
    let mut parsed = ParsedBundle::default();
    for (position, value) in bundle.objects.into_iter().enumerate() {
        let id = value
            .get("id")
            .and_then(|id| id.as_str())
            .unwrap_or("(no id)")
            .to_owned();
        match RawObject::deserialize(value) {
            Ok(object) => parsed.objects.push(object),
            Err(error) => parsed.warnings.push(format!(
                "{}: object #{position} ({id}) skipped: {error}",
                path.display()
            )),
        }
    }
    Ok(parsed)
}

fn check_bundle_type(path: &Path, kind: &str) -> Result<(), KnowledgeError> {
    if kind == "bundle" {
        Ok(())
    } else {
        Err(KnowledgeError::Bundle {
            path: path.to_path_buf(),
            message: format!("expected a STIX bundle (\"type\": \"bundle\"), found type {kind:?}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::read_maybe_gzip_within;
    use crate::KnowledgeError;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    #[test]
    fn a_gzip_bomb_in_the_data_folder_is_refused_at_the_limit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("enterprise-attack-99.0.json.gz");
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        let head = br#"{"type": "bundle", "objects": ["#;
        encoder.write_all(head).expect("gzip");
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..16 {
            encoder.write_all(&spaces).expect("gzip");
        }
        std::fs::write(&path, encoder.finish().expect("gzip")).expect("write");

        let error = read_maybe_gzip_within(&path, 4 << 20).expect_err("a bomb");
        assert!(matches!(error, KnowledgeError::Gzip { .. }), "{error:?}");
        let chain = rampart_event::error_chain(&error);
        assert!(chain.contains("expands beyond 4194304 bytes"), "{chain}");
        // Within a limit it fits, the same file reads whole.
        let bytes = read_maybe_gzip_within(&path, 32 << 20).expect("within the limit");
        assert_eq!(bytes.len(), head.len() + (16 << 20));
    }
}
