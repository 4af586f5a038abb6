//! Importing Sigma rule folders (and SigmaHQ's `regression_data`) as whole trees.
//!
//! A rule folder is copied into a hidden temporary folder beside its destination,
//! checked to hold YAML rules, and then swapped in: the old folder is renamed aside, the
//! new one renamed into place, and the old one removed. A failed copy leaves the old
//! folder as it was. Folders keep their SigmaHQ names under `sigma/` so that
//! [`crate::discover`] recognises the result as a Sigma repository.

use crate::import::refusal;
use crate::install::{Failure, Installed};
use crate::open::ExpansionLimit;
use crate::verify::{DataKind, Summary};
use crate::RefdataError;
use std::fs;
use std::path::Path;

/// Copies one Sigma folder into `<data_dir>/sigma/<its name>`. Only regular files and
/// real folders are copied, and only links that stay inside `tree` (the folder being
/// imported) are followed; every entry left out is added to `refused`. The bytes copied
/// count against `limit`.
pub(crate) fn import_sigma_dir(
    data_dir: &Path,
    source: &Path,
    tree: &Path,
    limit: &ExpansionLimit,
    refused: &mut Vec<Failure>,
) -> Result<Installed, Failure> {
    let failure = |error| Failure {
        source: source.display().to_string(),
        error,
    };
    let name = source
        .file_name()
        .ok_or_else(|| failure(RefdataError::invalid(source, "a Sigma folder needs a name")))?;
    let parent = data_dir.join("sigma");
    fs::create_dir_all(&parent).map_err(|e| failure(RefdataError::io(&parent, e)))?;
    let staging = tempfile::Builder::new()
        .prefix(".rampart-")
        .tempdir_in(&parent)
        .map_err(|e| failure(RefdataError::io(&parent, e)))?;
    let copy = staging.path().join(name);
    let mut copier = Copier {
        tree,
        limit,
        refused,
    };
    let (files, bytes, rules) = copier.copy_tree(source, &copy).map_err(failure)?;
    if rules == 0 {
        return Err(failure(RefdataError::Rejected {
            origin: source.display().to_string(),
            reason: "no Sigma rule (.yml) in this folder".to_owned(),
        }));
    }
    let destination = parent.join(name);
    swap_in(&copy, &destination, staging.path()).map_err(failure)?;
    let mut summary = Summary::default();
    summary.counts.insert("files".to_owned(), files);
    summary.counts.insert("rule files".to_owned(), rules);
    Ok(Installed {
        kind: DataKind::SigmaFolder,
        path: destination,
        source: source.display().to_string(),
        bytes,
        summary,
    })
}

/// What a tree copy needs besides the two folders.
struct Copier<'a> {
    tree: &'a Path,
    limit: &'a ExpansionLimit,
    refused: &'a mut Vec<Failure>,
}

impl Copier<'_> {
    /// Recursively copies `from` to `to`; returns (files, bytes, YAML files). Hidden
    /// entries are skipped like everywhere else in the data directory.
    fn copy_tree(&mut self, from: &Path, to: &Path) -> Result<(u64, u64, u64), RefdataError> {
        fs::create_dir_all(to).map_err(|e| RefdataError::io(to, e))?;
        let (mut files, mut bytes, mut rules) = (0, 0, 0);
        for entry in fs::read_dir(from).map_err(|e| RefdataError::io(from, e))? {
            let entry = entry.map_err(|e| RefdataError::io(from, e))?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let (source, target) = (entry.path(), to.join(entry.file_name()));
            let kind = entry
                .file_type()
                .map_err(|e| RefdataError::io(&source, e))?;
            if kind.is_dir() {
                let (f, b, r) = self.copy_tree(&source, &target)?;
                (files, bytes, rules) = (files + f, bytes + b, rules + r);
                continue;
            }
            if let Some(reason) = self.unfit(&source, kind) {
                self.refused.push(refusal(&source, reason));
                continue;
            }
            let size = fs::metadata(&source)
                .map_err(|e| RefdataError::io(&source, e))?
                .len();
            if size > self.limit.per_file() {
                return Err(RefdataError::Rejected {
                    origin: source.display().to_string(),
                    reason: format!(
                        "larger than {} bytes, the limit per file (--max-expanded)",
                        self.limit.per_file()
                    ),
                });
            }
            self.limit
                .take(size)
                .map_err(|reason| RefdataError::Rejected {
                    origin: source.display().to_string(),
                    reason,
                })?;
            bytes += fs::copy(&source, &target).map_err(|e| RefdataError::io(&source, e))?;
            files += 1;
            if source
                .extension()
                .is_some_and(|x| x == "yml" || x == "yaml")
            {
                rules += 1;
            }
        }
        Ok((files, bytes, rules))
    }

    /// Why an entry that is not a real folder must not be copied, if it must not: only
    /// regular files are, and links only to a regular file inside the imported folder.
    fn unfit(&self, path: &Path, kind: fs::FileType) -> Option<&'static str> {
        if kind.is_file() {
            return None;
        }
        if !kind.is_symlink() {
            return Some("not a regular file (device, pipe or socket)");
        }
        match path.canonicalize() {
            Ok(resolved) if !resolved.starts_with(self.tree) => {
                Some("a symbolic link leading out of the imported folder is not followed")
            }
            Ok(resolved) if resolved.is_file() => None,
            Ok(_) => Some("a symbolic link to a folder is not followed"),
            Err(_) => Some("a symbolic link that leads nowhere"),
        }
    }
}

/// Replaces `destination` with `copy`; `staging` (same parent) holds the old folder
/// while the new one moves in, and is removed with it afterwards.
fn swap_in(copy: &Path, destination: &Path, staging: &Path) -> Result<(), RefdataError> {
    let aside = staging.join(".previous");
    let had_old = destination.exists();
    if had_old {
        fs::rename(destination, &aside).map_err(|e| RefdataError::io(destination, e))?;
    }
    if let Err(e) = fs::rename(copy, destination) {
        if had_old {
            // Put the old folder back: better stale than missing.
            let _ = fs::rename(&aside, destination);
        }
        return Err(RefdataError::io(destination, e));
    }
    Ok(())
}
