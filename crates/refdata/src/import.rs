//! `import`: copying local files (or a folder of them) into the data directory.
//!
//! Files are recognised by the same names [`crate::discover`] uses and go through the
//! same check-then-rename installation as downloads, so a corrupt local file is refused
//! and never replaces a good one.

use crate::discover::{discover, AttackDomain};
use crate::install::{folder_of, install, temp_in, Failure, Installed};
use crate::sigma_import::import_sigma_dir;
use crate::update::ENGAGE_FILES;
use crate::verify::DataKind;
use crate::RefdataError;
use std::fs::File;
use std::path::{Path, PathBuf};

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
/// Nothing recognisable is an error.
pub fn import(data_dir: &Path, source: &Path) -> Result<ImportReport, RefdataError> {
    let candidates = candidates(source)?;
    let sigma_dirs = sigma_candidates(source);
    if candidates.is_empty() && sigma_dirs.is_empty() {
        return Err(RefdataError::NothingToImport(source.to_path_buf()));
    }
    let mut report = ImportReport::default();
    for dir in sigma_dirs {
        match import_sigma_dir(data_dir, &dir) {
            Ok(installed) => report.installed.push(installed),
            Err(failure) => report.failed.push(failure),
        }
    }
    for (kind, path) in candidates {
        match copy_in(data_dir, kind, &path) {
            Ok(installed) => report.installed.push(installed),
            Err(error) => report.failed.push(Failure {
                source: path.display().to_string(),
                error,
            }),
        }
    }
    Ok(report)
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

fn holds_yaml(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            let path = entry.path();
            if path.is_dir() {
                holds_yaml(&path)
            } else {
                path.extension().is_some_and(|x| x == "yml" || x == "yaml")
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

fn copy_in(data_dir: &Path, kind: DataKind, path: &Path) -> Result<Installed, RefdataError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut temp = temp_in(&data_dir.join(folder_of(kind)))?;
    let mut file = File::open(path).map_err(|e| RefdataError::io(path, e))?;
    std::io::copy(&mut file, &mut temp).map_err(|e| RefdataError::io(path, e))?;
    let installed = install(kind, temp, &name, None, path.display().to_string())?;
    if kind == DataKind::D3fendTurtle && installed.summary.version.is_none() {
        copy_changelog(path, &installed.path);
    }
    Ok(installed)
}

/// The source ontology states no version; the changelog beside it is where `status`
/// finds one, so it travels with the ontology. Best effort: the ontology is already in
/// place and a missing changelog only costs the version line.
fn copy_changelog(source: &Path, installed: &Path) {
    let (Some(from), Some(to)) = (source.parent(), installed.parent()) else {
        return;
    };
    let changelog = from.join("CHANGELOG.md");
    if changelog.is_file() {
        let _ = std::fs::copy(&changelog, to.join("CHANGELOG.md"));
    }
}
