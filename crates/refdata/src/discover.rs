//! Finding the input files in a data directory by name, wherever they sit in it.
//!
//! Names rather than fixed paths: the same code reads a directory filled by
//! `rampart data update`, a hand-made one, and the shared reference data checkout, whose
//! folders are laid out by upstream project rather than by Rampart.

use crate::head::check_bundle_head;
use crate::RefdataError;
use std::fs;
use std::path::{Path, PathBuf};

/// Folders deeper than this are not searched: it bounds the walk if a symbolic link
/// points back up the tree.
const MAX_DEPTH: usize = 12;

/// Sigma rule folders that are not run by default, and why:
/// - `rules-placeholder`: their `%placeholder%` values only mean something after a
///   conversion pipeline fills them; run as is they would match the literal text.
/// - `rules-compliance`: they flag configuration gaps (CIS, NIST), not attacker
///   behaviour, and carry no ATT&CK technique to enrich or measure coverage with.
/// - `deprecated`, `unsupported`: SigmaHQ itself keeps them out of its release packages.
///
/// Everything else named `rules` or `rules-*` (core, emerging threats, threat hunting,
/// DFIR) is what SigmaHQ's "all rules" release package ships, so a SigmaHQ user finds
/// the same rule set here.
const EXCLUDED_SIGMA_DIRS: &[&str] = &[
    "rules-placeholder",
    "rules-compliance",
    "deprecated",
    "unsupported",
];

/// The input files found in a data directory. Every path is absolute or relative exactly
/// as the data directory given to [`discover`] was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataFiles {
    /// The data directory searched.
    pub root: PathBuf,
    /// ATT&CK Enterprise STIX bundle (`enterprise-attack*.json[.gz]`), the highest
    /// version whose head passes the bundle check (see [`DataFiles::warnings`]).
    pub enterprise: Option<PathBuf>,
    /// ATT&CK Mobile STIX bundle (`mobile-attack*.json[.gz]`), highest version.
    pub mobile: Option<PathBuf>,
    /// ATT&CK ICS STIX bundle (`ics-attack*.json[.gz]`), highest version.
    pub ics: Option<PathBuf>,
    /// D3FEND ontology in Turtle (`d3fend*.ttl`; `d3fend.ttl` preferred).
    pub d3fend_ttl: Option<PathBuf>,
    /// D3FEND ontology in JSON-LD (`d3fend.json`).
    pub d3fend_jsonld: Option<PathBuf>,
    /// The folder holding ENGAGE's JSON files (`attack_mapping.json`, `activities.json`, …).
    pub engage_dir: Option<PathBuf>,
    /// Sigma rule folders (`rules`, `rules-emerging-threats`, `rules-threat-hunting`, …),
    /// sorted; see the module notes for the folders left out.
    pub sigma_rule_dirs: Vec<PathBuf>,
    /// SigmaHQ's `regression_data` folder (rule test cases).
    pub sigma_regression_dir: Option<PathBuf>,
    /// The RE&CT folder: the one holding `response_actions/` and `response_stages/`
    /// (incident-response actions and stages, read by the responder).
    pub react_dir: Option<PathBuf>,
    /// Files named like an ATT&CK bundle that were passed over because their first bytes
    /// are not a bundle of that domain: one message each, naming the file and why.
    pub warnings: Vec<String>,
}

impl DataFiles {
    /// Whether nothing at all was found.
    pub fn is_empty(&self) -> bool {
        self.enterprise.is_none()
            && self.mobile.is_none()
            && self.ics.is_none()
            && self.d3fend_ttl.is_none()
            && self.d3fend_jsonld.is_none()
            && self.engage_dir.is_none()
            && self.sigma_rule_dirs.is_empty()
            && self.sigma_regression_dir.is_none()
            && self.react_dir.is_none()
    }
}

/// The three ATT&CK domains, each published as its own STIX bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttackDomain {
    /// Enterprise ATT&CK.
    Enterprise,
    /// Mobile ATT&CK.
    Mobile,
    /// ATT&CK for ICS.
    Ics,
}

impl AttackDomain {
    /// All domains, in the order ATT&CK lists them.
    pub const ALL: [AttackDomain; 3] = [
        AttackDomain::Enterprise,
        AttackDomain::Mobile,
        AttackDomain::Ics,
    ];

    /// The file-name stem MITRE publishes the domain under, e.g. `enterprise-attack`.
    pub fn file_stem(self) -> &'static str {
        match self {
            AttackDomain::Enterprise => "enterprise-attack",
            AttackDomain::Mobile => "mobile-attack",
            AttackDomain::Ics => "ics-attack",
        }
    }

    /// The domain whose bundle a file name denotes, if any.
    pub fn of_file_name(name: &str) -> Option<AttackDomain> {
        AttackDomain::ALL.into_iter().find(|domain| {
            name.starts_with(domain.file_stem())
                && (name.ends_with(".json") || name.ends_with(".json.gz"))
        })
    }
}

/// The ATT&CK version a bundle's file name carries (`enterprise-attack-18.1.json.gz` →
/// `18.1`), or `None` for an unversioned name.
pub fn attack_version_from_name(name: &str) -> Option<String> {
    let domain = AttackDomain::of_file_name(name)?;
    let rest = name.strip_prefix(domain.file_stem())?;
    let rest = rest
        .strip_suffix(".json.gz")
        .or_else(|| rest.strip_suffix(".json"))?;
    let version = rest.strip_prefix('-')?;
    let looks_numeric = !version.is_empty()
        && version
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    looks_numeric.then(|| version.to_owned())
}

/// Orders versions numerically (`9.0` < `18.1`); an unversioned file ranks lowest
/// because nothing says how recent it is.
fn version_key(path: &Path) -> Vec<u64> {
    let name = file_name(path);
    attack_version_from_name(&name)
        .map(|v| v.split('.').filter_map(|p| p.parse().ok()).collect())
        .unwrap_or_default()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Finds Rampart's inputs in `data_dir`, recursively and by file name.
///
/// A missing directory, or one in which nothing is recognised, is an error that says how
/// to fill it.
pub fn discover(data_dir: &Path) -> Result<DataFiles, RefdataError> {
    if data_dir.exists() && !data_dir.is_dir() {
        return Err(RefdataError::invalid(
            data_dir,
            "is a file, not a data directory (--data-dir / RAMPART_DATA name a folder)",
        ));
    }
    if !data_dir.is_dir() {
        return Err(RefdataError::MissingDir(data_dir.to_path_buf()));
    }
    let mut found = Found::default();
    walk(data_dir, 0, false, &mut found)?;
    let files = found.into_data_files(data_dir);
    if files.is_empty() {
        return Err(RefdataError::EmptyDir(data_dir.to_path_buf()));
    }
    Ok(files)
}

/// Every candidate seen during the walk, before choosing among duplicates.
#[derive(Default)]
struct Found {
    /// Folders already walked, resolved: a link back to one of them is not walked again
    /// (links to the parent would otherwise multiply the walk at every level).
    visited: std::collections::HashSet<PathBuf>,
    attack: Vec<(AttackDomain, PathBuf)>,
    d3fend_ttl: Vec<PathBuf>,
    d3fend_jsonld: Vec<PathBuf>,
    engage_dirs: Vec<PathBuf>,
    sigma_rule_dirs: Vec<PathBuf>,
    sigma_regression_dirs: Vec<PathBuf>,
    react_dirs: Vec<PathBuf>,
}

impl Found {
    fn into_data_files(mut self, root: &Path) -> DataFiles {
        let mut warnings = Vec::new();
        let mut best_attack = |domain: AttackDomain| {
            let mut candidates: Vec<&PathBuf> = self
                .attack
                .iter()
                .filter(|(d, _)| *d == domain)
                .map(|(_, p)| p)
                .collect();
            // Highest version first; among equals, the shortest then first path, so the
            // choice does not depend on directory listing order.
            candidates.sort_by(|a, b| {
                version_key(b)
                    .cmp(&version_key(a))
                    .then_with(|| a.as_os_str().len().cmp(&b.as_os_str().len()))
                    .then_with(|| a.cmp(b))
            });
            // A file only wins once its head looks like a bundle of the domain: a stray
            // `enterprise-attack-99.0.json` must not hide the real one.
            let mut passed_over = Vec::new();
            let chosen =
                candidates
                    .into_iter()
                    .find(|path| match check_bundle_head(domain, path) {
                        Ok(()) => true,
                        Err(reason) => {
                            passed_over.push(format!("{}: {reason}", path.display()));
                            false
                        }
                    });
            for skipped in passed_over {
                let next = match chosen {
                    Some(path) => format!("using {} instead", path.display()),
                    None => "no other candidate".to_owned(),
                };
                let warning = format!("ignoring {skipped}; {next}");
                tracing::warn!("{warning}");
                warnings.push(warning);
            }
            chosen.cloned()
        };
        let enterprise = best_attack(AttackDomain::Enterprise);
        let mobile = best_attack(AttackDomain::Mobile);
        let ics = best_attack(AttackDomain::Ics);
        self.d3fend_ttl
            .sort_by_key(|p| (file_name(p) != "d3fend.ttl", p.clone()));
        self.d3fend_jsonld.sort();
        self.engage_dirs.sort();
        self.sigma_rule_dirs.sort();
        self.sigma_regression_dirs.sort();
        self.react_dirs.sort();
        DataFiles {
            root: root.to_path_buf(),
            enterprise,
            mobile,
            ics,
            d3fend_ttl: self.d3fend_ttl.first().cloned(),
            d3fend_jsonld: self.d3fend_jsonld.first().cloned(),
            engage_dir: self.engage_dirs.first().cloned(),
            sigma_rule_dirs: self.sigma_rule_dirs,
            sigma_regression_dir: self.sigma_regression_dirs.first().cloned(),
            react_dir: self.react_dirs.first().cloned(),
            warnings,
        }
    }
}

/// `in_tests` is set below a `test`/`tests` folder: Sigma rules found there are test
/// fixtures (the Sigma specification's schema tests hold a `rules` folder), not rules
/// to run.
fn walk(dir: &Path, depth: usize, in_tests: bool, found: &mut Found) -> Result<(), RefdataError> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    if let Ok(resolved) = dir.canonicalize() {
        if !found.visited.insert(resolved) {
            return Ok(());
        }
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        // The data directory itself must be readable; an unreadable sub-folder is skipped
        // so that one stray folder does not hide every other file.
        Err(e) if depth == 0 => return Err(RefdataError::io(dir, e)),
        Err(e) => {
            tracing::warn!("skipping {}: {e}", dir.display());
            return Ok(());
        }
    };
    let mut subdirs = Vec::new();
    let mut names = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        // Hidden entries are skipped: version-control folders, and the temporary files
        // `update` writes before it renames them into place.
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            subdirs.push((name, path));
        } else if path.is_file() {
            names.push(name.clone());
            classify_file(&name, path, found);
        } else if path.symlink_metadata().is_ok_and(|meta| !meta.is_symlink()) {
            // A FIFO, socket or device: opening it to check a bundle's head would block.
            tracing::warn!("skipping {}: not a regular file", path.display());
        }
    }
    if names.iter().any(|n| n == "attack_mapping.json")
        && names.iter().any(|n| n == "activities.json")
    {
        found.engage_dirs.push(dir.to_path_buf());
    }
    if subdirs.iter().any(|(name, _)| name == "response_actions")
        && subdirs.iter().any(|(name, _)| name == "response_stages")
    {
        found.react_dirs.push(dir.to_path_buf());
    }
    let looks_like_sigma_repo = !in_tests && subdirs.iter().any(|(name, _)| name == "rules");
    for (name, path) in subdirs {
        if looks_like_sigma_repo && name == "regression_data" {
            // Its `rules` sub-folder holds test cases, not rules: do not descend.
            found.sigma_regression_dirs.push(path);
        } else if looks_like_sigma_repo && is_sigma_rules_dir_name(&name) {
            if !EXCLUDED_SIGMA_DIRS.contains(&name.as_str()) {
                found.sigma_rule_dirs.push(path);
            }
        } else if !(looks_like_sigma_repo && EXCLUDED_SIGMA_DIRS.contains(&name.as_str())) {
            let in_tests = in_tests || name == "tests" || name == "test";
            walk(&path, depth + 1, in_tests, found)?;
        }
    }
    Ok(())
}

fn is_sigma_rules_dir_name(name: &str) -> bool {
    name == "rules" || name.starts_with("rules-")
}

fn classify_file(name: &str, path: PathBuf, found: &mut Found) {
    if let Some(domain) = AttackDomain::of_file_name(name) {
        found.attack.push((domain, path));
    } else if name.starts_with("d3fend") && name.ends_with(".ttl") {
        found.d3fend_ttl.push(path);
    } else if name == "d3fend.json" {
        found.d3fend_jsonld.push(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_names() {
        let cases = [
            ("enterprise-attack-18.1.json.gz", Some("18.1")),
            ("mobile-attack-9.0.json", Some("9.0")),
            ("ics-attack.json", None),
            ("enterprise-attack-latest.json", None),
            ("enterprise-attack-18.1.json.tmp", None),
        ];
        for (name, expected) in cases {
            assert_eq!(
                attack_version_from_name(name).as_deref(),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn higher_versions_rank_higher() {
        let older = version_key(Path::new("x/enterprise-attack-9.0.json"));
        let newer = version_key(Path::new("x/enterprise-attack-18.1.json"));
        let unversioned = version_key(Path::new("x/enterprise-attack.json"));
        assert!(newer > older && older > unversioned);
    }
}
