//! `import`: copying local files (or a folder of them) into the data directory.
//!
//! Files are recognised by the same names [`crate::discover`] uses and go through the
//! same check-then-rename installation as downloads, so a corrupt local file is refused
//! and never replaces a good one.
//!
//! The imported folder may come from anyone: nothing outside it is copied (a symbolic link
//! leading out of it is refused, not followed), only regular files are copied, and the
//! bytes read are bounded ([`ImportOptions::max_expanded`]) so that a gzip bomb is
//! refused as it is decompressed, before it fills memory or disk.

use crate::discover::{discover, AttackDomain};
use crate::install::{folder_of, install, temp_in, Failure, Installed};
use crate::open::{ExpansionLimit, DEFAULT_MAX_EXPANDED};
use crate::sigma_import::import_sigma_dir;
use crate::update::ENGAGE_FILES;
use crate::verify::DataKind;
use crate::RefdataError;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

/// How `import` bounds what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// The most bytes one file may hold once decompressed, and all the imported files
    /// together (Sigma folders count their copied bytes).
    pub max_expanded: u64,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            max_expanded: DEFAULT_MAX_EXPANDED,
        }
    }
}

/// What `import` did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Files now in place.
    pub installed: Vec<Installed>,
    /// Files refused; for each, the previous file (if any) is unchanged.
    pub failed: Vec<Failure>,
}

/// The kind a file name denotes, if Rampart knows it.
fn kind_of_name(name: &str) -> Option<DataKind> {
    if let Some(domain) = AttackDomain::of_file_name(name) {
        Some(DataKind::Attack(domain))
    } else if name.starts_with("d3fend") && name.ends_with(".ttl") {
        Some(DataKind::D3fendTurtle)
    } else if name == "d3fend.json" {
        Some(DataKind::D3fendJsonLd)
    } else if ENGAGE_FILES.contains(&name) {
        Some(DataKind::EngageJson)
    } else {
        None
    }
}

/// Copies the MITRE files at `source` (one file, or a folder searched like a data
/// directory) into `data_dir`, checking each; Sigma rule folders and SigmaHQ's
/// `regression_data` found in a folder are copied as whole trees under `sigma/`.
/// Nothing recognisable is an error. What is refused (a link out of the folder, a file
/// that is not regular, one that expands beyond the limit) is reported as a failure and
/// the rest is imported.
pub fn import(
    data_dir: &Path,
    source: &Path,
    options: &ImportOptions,
) -> Result<ImportReport, RefdataError> {
    let candidates = candidates(source)?;
    let sigma_dirs = sigma_candidates(source);
    if candidates.is_empty() && sigma_dirs.is_empty() {
        return Err(RefdataError::NothingToImport(source.to_path_buf()));
    }
    let limit = ExpansionLimit::new(options.max_expanded, options.max_expanded);
    let tree = source.is_dir().then(|| Tree::new(source)).transpose()?;
    let mut report = ImportReport::default();
    for dir in sigma_dirs {
        if let Some(refusal) = tree.as_ref().and_then(|t| t.refuses(&dir)) {
            report.failed.push(refusal);
            continue;
        }
        let root = tree.as_ref().map_or(source, |t| t.root.as_path());
        match import_sigma_dir(data_dir, &dir, root, &limit, &mut report.failed) {
            Ok(installed) => report.installed.push(installed),
            Err(failure) => report.failed.push(failure),
        }
    }
    for (kind, path) in candidates {
        if let Some(refusal) = tree.as_ref().and_then(|t| t.refuses(&path)) {
            report.failed.push(refusal);
            continue;
        }
        match copy_in(data_dir, kind, &path, &limit) {
            Ok(installed) => report.installed.push(installed),
            Err(error) => report.failed.push(Failure {
                source: path.display().to_string(),
                error,
            }),
        }
    }
    Ok(report)
}

/// The imported folder, resolved: nothing outside it is copied.
struct Tree {
    root: PathBuf,
}

impl Tree {
    fn new(source: &Path) -> Result<Tree, RefdataError> {
        let root = source
            .canonicalize()
            .map_err(|e| RefdataError::io(source, e))?;
        Ok(Tree { root })
    }

    /// Why `path` (found by walking the folder) must not be imported, if it must not.
    fn refuses(&self, path: &Path) -> Option<Failure> {
        let reason = match path.canonicalize() {
            Ok(resolved) if resolved.starts_with(&self.root) => return None,
            Ok(_) => "a symbolic link leading out of the imported folder is not followed",
            Err(_) => "cannot be resolved inside the imported folder",
        };
        Some(refusal(path, reason))
    }
}

/// A path left out of the import on purpose, for the report.
pub(crate) fn refusal(path: &Path, reason: &str) -> Failure {
    Failure {
        source: path.display().to_string(),
        error: RefdataError::Rejected {
            origin: path.display().to_string(),
            reason: reason.to_owned(),
        },
    }
}

/// Sigma folders under `source` worth copying: rule folders holding at least one rule
/// (SigmaHQ's `rules-dfir` is a placeholder README) and the regression data.
fn sigma_candidates(source: &Path) -> Vec<PathBuf> {
    if !source.is_dir() {
        return Vec::new();
    }
    let Ok(found) = discover(source) else {
        return Vec::new();
    };
    found
        .sigma_rule_dirs
        .into_iter()
        .chain(found.sigma_regression_dir)
        .filter(|dir| holds_yaml(dir))
        .collect()
}

/// Links are not followed: a link to a parent folder would recurse forever.
fn holds_yaml(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => holds_yaml(&path),
                Ok(kind) if kind.is_file() => {
                    path.extension().is_some_and(|x| x == "yml" || x == "yaml")
                }
                _ => false,
            }
        })
}

fn candidates(source: &Path) -> Result<Vec<(DataKind, PathBuf)>, RefdataError> {
    if source.is_file() {
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(kind_of_name(&name)
            .map(|kind| vec![(kind, source.to_path_buf())])
            .unwrap_or_default());
    }
    let found = match discover(source) {
        Ok(found) => found,
        Err(RefdataError::EmptyDir(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for path in [
        &found.enterprise,
        &found.mobile,
        &found.ics,
        &found.d3fend_ttl,
        &found.d3fend_jsonld,
    ]
    .into_iter()
    .flatten()
    {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(kind) = kind_of_name(&name) {
            out.push((kind, path.clone()));
        }
    }
    if let Some(dir) = &found.engage_dir {
        for file in ENGAGE_FILES {
            let path = dir.join(file);
            if path.is_file() {
                out.push((DataKind::EngageJson, path));
            }
        }
    }
    Ok(out)
}

fn copy_in(
    data_dir: &Path,
    kind: DataKind,
    path: &Path,
    limit: &ExpansionLimit,
) -> Result<Installed, RefdataError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Opening a FIFO or a device would block or never end: only regular files.
    let metadata = fs::metadata(path).map_err(|e| RefdataError::io(path, e))?;
    if !metadata.is_file() {
        return Err(RefdataError::Rejected {
            origin: path.display().to_string(),
            reason: "not a regular file".to_owned(),
        });
    }
    let mut temp = temp_in(&data_dir.join(folder_of(kind)))?;
    let file = File::open(path).map_err(|e| RefdataError::io(path, e))?;
    // The stored bytes are bounded too: the expanded ones are counted by the check.
    let copied = std::io::copy(&mut file.take(limit.per_file() + 1), &mut temp)
        .map_err(|e| RefdataError::io(path, e))?;
    if copied > limit.per_file() {
        return Err(RefdataError::Rejected {
            origin: path.display().to_string(),
            reason: format!(
                "larger than {} bytes, the limit per file (--max-expanded)",
                limit.per_file()
            ),
        });
    }
    let installed = install(kind, temp, &name, None, path.display().to_string(), limit)?;
    if kind == DataKind::D3fendTurtle && installed.summary.version.is_none() {
        copy_changelog(path, &installed.path);
    }
    Ok(installed)
}

/// D3FEND's changelog is a few KiB; anything much larger is not it.
const MAX_CHANGELOG_BYTES: u64 = 1 << 20;

/// The source ontology states no version; the changelog beside it is where `status`
/// finds one, so it travels with the ontology. Best effort: the ontology is already in
/// place and a missing changelog only costs the version line.
fn copy_changelog(source: &Path, installed: &Path) {
    let (Some(from), Some(to)) = (source.parent(), installed.parent()) else {
        return;
    };
    let changelog = from.join("CHANGELOG.md");
    // Only a regular file, never a link: it could lead anywhere on this machine.
    let regular = fs::symlink_metadata(&changelog)
        .is_ok_and(|m| m.file_type().is_file() && m.len() <= MAX_CHANGELOG_BYTES);
    if regular {
        let _ = std::fs::copy(&changelog, to.join("CHANGELOG.md"));
    }
}
