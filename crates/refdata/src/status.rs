//! `status`: what the data directory holds, checked and summarised.

use crate::discover::{attack_version_from_name, DataFiles};
use crate::verify::{verify, DataKind};
use crate::RefdataError;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

/// One data file, checked.
#[derive(Debug, Clone, Serialize)]
pub struct FileStatus {
    /// What the file is.
    pub kind: DataKind,
    /// Where it is.
    pub path: PathBuf,
    /// Size on disk in bytes.
    pub bytes: u64,
    /// SHA-256 of the bytes on disk (compressed, if the file is), lower-case hex.
    pub sha256: Option<String>,
    /// The version, when known.
    pub version: Option<String>,
    /// Where the version was read: `x-mitre-collection`, `owl:versionInfo`,
    /// `file name` or `CHANGELOG.md`.
    pub version_from: Option<&'static str>,
    /// Object counts (see [`crate::Summary::counts`]).
    pub counts: BTreeMap<String, u64>,
    /// Why the file failed its check, if it did.
    pub problem: Option<String>,
}

/// A Sigma rules folder.
#[derive(Debug, Clone, Serialize)]
pub struct DirStatus {
    /// Where it is.
    pub path: PathBuf,
    /// YAML files in it (recursively).
    pub yaml_files: u64,
    /// Their total size in bytes.
    pub bytes: u64,
}

/// Everything `status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The data directory.
    pub root: PathBuf,
    /// The MITRE files Rampart would use, checked.
    pub files: Vec<FileStatus>,
    /// Sigma rule folders.
    pub sigma_rule_dirs: Vec<DirStatus>,
    /// SigmaHQ's regression test folder.
    pub sigma_regression_dir: Option<DirStatus>,
    /// Files named like ATT&CK bundles that discovery passed over, with why.
    pub passed_over: Vec<String>,
}

impl Status {
    /// Whether every file passed its check and none was passed over.
    pub fn is_healthy(&self) -> bool {
        self.files.iter().all(|f| f.problem.is_none()) && self.passed_over.is_empty()
    }
}

/// Checks and summarises every file [`crate::discover`] found. A file that fails its
/// check is reported with its problem; the others are still checked.
pub fn status(files: &DataFiles) -> Status {
    let mut entries: Vec<(DataKind, PathBuf)> = Vec::new();
    for (kind, path) in [
        (
            DataKind::Attack(crate::AttackDomain::Enterprise),
            &files.enterprise,
        ),
        (DataKind::Attack(crate::AttackDomain::Mobile), &files.mobile),
        (DataKind::Attack(crate::AttackDomain::Ics), &files.ics),
        (DataKind::D3fendTurtle, &files.d3fend_ttl),
        (DataKind::D3fendJsonLd, &files.d3fend_jsonld),
    ] {
        if let Some(path) = path {
            entries.push((kind, path.clone()));
        }
    }
    if let Some(dir) = &files.engage_dir {
        let mut jsons: Vec<PathBuf> = fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        jsons.sort();
        entries.extend(jsons.into_iter().map(|p| (DataKind::EngageJson, p)));
    }
    Status {
        root: files.root.clone(),
        files: entries
            .into_iter()
            .map(|(kind, path)| file_status(kind, path))
            .collect(),
        sigma_rule_dirs: files
            .sigma_rule_dirs
            .iter()
            .map(|d| dir_status(d))
            .collect(),
        sigma_regression_dir: files.sigma_regression_dir.as_deref().map(dir_status),
        passed_over: files.warnings.clone(),
    }
}

fn file_status(kind: DataKind, path: PathBuf) -> FileStatus {
    let bytes = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let (sha256, hash_problem) = match sha256_of(&path) {
        Ok(hash) => (Some(hash), None),
        Err(e) => (None, Some(rampart_event::error_chain(&e))),
    };
    let (summary, problem) = match verify(kind, &path) {
        Ok(summary) => (summary, hash_problem),
        Err(e) => (Default::default(), Some(rampart_event::error_chain(&e))),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (version, version_from) = match (summary.version, kind) {
        (Some(v), DataKind::Attack(_)) => (Some(v), Some("x-mitre-collection")),
        (Some(v), _) => (Some(v), Some("owl:versionInfo")),
        (None, DataKind::Attack(_)) => match attack_version_from_name(&name) {
            Some(v) => (Some(v), Some("file name")),
            None => (None, None),
        },
        (None, DataKind::D3fendTurtle) => match changelog_version(&path) {
            Some(v) => (Some(v), Some("CHANGELOG.md")),
            None => (None, None),
        },
        (None, _) => (None, None),
    };
    FileStatus {
        kind,
        path,
        bytes,
        sha256,
        version,
        version_from,
        counts: summary.counts,
        problem,
    }
}

/// The newest release in a D3FEND `CHANGELOG.md` beside the ontology: the source
/// ontology (`d3fend-protege.ttl`) carries no `owl:versionInfo`, the release build adds it.
fn changelog_version(ontology: &Path) -> Option<String> {
    let text = fs::read_to_string(ontology.parent()?.join("CHANGELOG.md")).ok()?;
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("## Version")?;
        let version = rest
            .trim_start_matches([' ', '-'])
            .split_whitespace()
            .next()?;
        Some(version.to_owned())
    })
}

/// SHA-256 of a file's bytes, streamed.
pub fn sha256_of(path: &Path) -> Result<String, RefdataError> {
    let mut file = File::open(path).map_err(|e| RefdataError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| RefdataError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn dir_status(dir: &Path) -> DirStatus {
    let mut status = DirStatus {
        path: dir.to_path_buf(),
        yaml_files: 0,
        bytes: 0,
    };
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in fs::read_dir(&next).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                status.yaml_files += 1;
                status.bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    status
}
