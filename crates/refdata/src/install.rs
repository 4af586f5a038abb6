//! Installing a checked file into the data directory, atomically.
//!
//! A new file is first written to a hidden temporary file in its destination folder
//! (hidden, so [`crate::discover`] never sees it), checked with [`verify`], and only
//! then renamed over its final name. A rename within one folder is atomic, so readers
//! see either the old file or the new one, and a failed download or a corrupt file
//! leaves the old one untouched; the temporary file is removed when dropped.

use crate::discover::AttackDomain;
use crate::open::file_is_gzip;
use crate::open::ExpansionLimit;
use crate::verify::{verify_within, DataKind, Summary};
use crate::RefdataError;
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// Where each kind of file goes inside the data directory.
pub(crate) fn folder_of(kind: DataKind) -> &'static str {
    match kind {
        DataKind::Attack(_) => "mitre-attack",
        DataKind::D3fendTurtle | DataKind::D3fendJsonLd => "mitre-d3fend",
        DataKind::EngageJson => "mitre-engage",
        DataKind::SigmaFolder => "sigma",
    }
}

/// A file put in place by `update` or `import`.
#[derive(Debug, Clone, Serialize)]
pub struct Installed {
    /// What the file is.
    pub kind: DataKind,
    /// Its final path in the data directory.
    pub path: PathBuf,
    /// Where it came from (URL or local path).
    pub source: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// What the check found in it.
    pub summary: Summary,
}

/// A file that could not be put in place; nothing was changed for it.
#[derive(Debug)]
pub struct Failure {
    /// Where it was to come from (URL or local path).
    pub source: String,
    /// Why it failed.
    pub error: RefdataError,
}

/// A temporary file in `folder`, created (with the folder) for a file about to be installed.
pub(crate) fn temp_in(folder: &Path) -> Result<NamedTempFile, RefdataError> {
    fs::create_dir_all(folder).map_err(|e| RefdataError::io(folder, e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".rampart-").suffix(".part");
    // Temporary files are private by default; the installed file is ordinary data.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    builder
        .tempfile_in(folder)
        .map_err(|e| RefdataError::io(folder, e))
}

/// Checks `temp` as `kind` and renames it into place.
///
/// `name` is the final file name for everything but ATT&CK bundles, which are named
/// after the version they declare (`enterprise-attack-18.1.json`, `.json.gz` when the
/// content is gzip) so that [`crate::discover`] can pick the newest. `expected_version`
/// (a pinned ATT&CK version) must match the version the bundle declares. The check reads
/// at most what `limit` allows.
pub(crate) fn install(
    kind: DataKind,
    temp: NamedTempFile,
    name: &str,
    expected_version: Option<&str>,
    source: String,
    limit: &ExpansionLimit,
) -> Result<Installed, RefdataError> {
    let summary = verify_within(kind, temp.path(), limit)
        .map_err(|e| e.about_origin(temp.path(), &source))?;
    let folder = temp
        .path()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let final_name = match kind {
        DataKind::Attack(domain) => {
            if let (Some(expected), Some(found)) = (expected_version, summary.version.as_deref()) {
                if expected != found {
                    return Err(RefdataError::invalid(
                        temp.path(),
                        format!(
                            "ATT&CK {expected} was asked for but {source} declares version {found}"
                        ),
                    ));
                }
            }
            let version = summary.version.as_deref().or(expected_version);
            attack_file_name(domain, version, file_is_gzip(temp.path())?)
        }
        _ => name.to_owned(),
    };
    let path = folder.join(final_name);
    let bytes = temp.as_file().metadata().map(|m| m.len()).unwrap_or(0);
    temp.persist(&path)
        .map_err(|e| RefdataError::io(&path, e.error))?;
    if let DataKind::Attack(domain) = kind {
        remove_other_versions(domain, &path);
    }
    Ok(Installed {
        kind,
        path,
        source,
        bytes,
        summary,
    })
}

/// Removes the other bundles of `domain` from the folder `installed` went into.
///
/// That folder is Rampart's own (`mitre-attack/`), and [`crate::discover`] prefers the
/// highest version: without this, pinning an older release (`--attack-version 17.0`)
/// would install it and go on using the newer one. Bundles elsewhere in the data
/// directory are the user's and stay. Best effort: a file that cannot be removed only
/// means the choice falls back to the highest version.
fn remove_other_versions(domain: AttackDomain, installed: &Path) {
    let Some(folder) = installed.parent() else {
        return;
    };
    for entry in fs::read_dir(folder).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path != installed
            && !name.starts_with('.')
            && AttackDomain::of_file_name(&name) == Some(domain)
        {
            if let Err(e) = fs::remove_file(&path) {
                tracing::warn!(
                    "could not remove the replaced bundle {}: {e}",
                    path.display()
                );
            }
        }
    }
}

/// `enterprise-attack-18.1.json[.gz]`, or `enterprise-attack.json` without a version.
fn attack_file_name(domain: AttackDomain, version: Option<&str>, gzip: bool) -> String {
    let stem = domain.file_stem();
    // The version comes from downloaded content: only a plain dotted number may reach a
    // file name, so a hostile bundle cannot name a path outside the folder.
    let version = version.filter(|v| {
        !v.is_empty()
            && v.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    let base = match version {
        Some(v) => format!("{stem}-{v}.json"),
        None => format!("{stem}.json"),
    };
    if gzip {
        format!("{base}.gz")
    } else {
        base
    }
}
