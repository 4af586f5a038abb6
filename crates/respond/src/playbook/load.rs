//! Reading playbook files and folders.
//!
//! A file goes through four gates, each reporting where it failed: YAML syntax (with
//! nesting capped), the format version (`rampart_playbook: 1`; any other version is
//! refused before anything else is read, since its keys may mean other things), the
//! JSON Schema, and finally the model. A bad file is a diagnostic and the others load;
//! of two playbooks with one id the first (in path order) is kept.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::diagnostic::Diagnostic;
use super::positions::{escape_token, positions, Positions};
use super::{schema, Playbook, FORMAT_VERSION};

/// The largest playbook file read; real ones are a few KiB.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// How deep a folder is searched for playbooks.
const MAX_FOLDER_DEPTH: usize = 16;

/// A playbook and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedPlaybook {
    /// The file.
    pub path: PathBuf,
    /// The playbook.
    pub playbook: Playbook,
    /// Where each of its nodes starts, for findings about it.
    pub positions: Positions,
}

impl LoadedPlaybook {
    /// A diagnostic about the node at `pointer` (`/steps/0/d3fend`).
    pub fn error_at(&self, pointer: &str, check: &'static str, message: String) -> Diagnostic {
        Diagnostic::error(&self.path, self.positions.value(pointer), check, message)
    }

    /// A warning about the node at `pointer`.
    pub fn warning_at(&self, pointer: &str, check: &'static str, message: String) -> Diagnostic {
        Diagnostic::warning(&self.path, self.positions.value(pointer), check, message)
    }
}

/// The playbooks read from some paths, and what was wrong with the rest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlaybookSet {
    /// Playbooks that passed every gate, ids distinct, in path order.
    pub playbooks: Vec<LoadedPlaybook>,
    /// Files or places that did not.
    pub diagnostics: Vec<Diagnostic>,
    /// Playbook files looked at.
    pub files: usize,
}

impl PlaybookSet {
    /// The playbook with this id.
    pub fn get(&self, id: &str) -> Option<&LoadedPlaybook> {
        self.playbooks.iter().find(|p| p.playbook.id == id)
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == super::Severity::Error)
    }
}

/// Reads every playbook in `paths`: files as given (whatever their extension), folders
/// searched for `*.yml` / `*.yaml` (hidden entries and symbolic links inside them passed
/// over), in sorted order.
pub fn load_paths<P: AsRef<Path>>(paths: &[P]) -> PlaybookSet {
    let mut set = PlaybookSet::default();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for path in paths {
        for file in playbook_files(path.as_ref(), &mut set.diagnostics) {
            set.files += 1;
            match load_file(&file) {
                Ok(loaded) => match seen.get(&loaded.playbook.id) {
                    Some(first) => {
                        let message = format!(
                            "playbook id {:?} is already used by {}; this one is not loaded",
                            loaded.playbook.id,
                            first.display()
                        );
                        set.diagnostics
                            .push(loaded.error_at("/id", "duplicate-id", message));
                    }
                    None => {
                        seen.insert(loaded.playbook.id.clone(), file.clone());
                        set.playbooks.push(loaded);
                    }
                },
                Err(diagnostics) => set.diagnostics.extend(diagnostics),
            }
        }
    }
    set
}

/// The playbook files of one path.
fn playbook_files(path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    let walk = walkdir::WalkDir::new(path)
        .max_depth(MAX_FOLDER_DEPTH)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0 || !entry.file_name().to_string_lossy().starts_with('.')
        });
    for entry in walk {
        match entry {
            Ok(entry) if entry.file_type().is_file() => {
                let name = entry.file_name().to_string_lossy();
                if name.ends_with(".yml") || name.ends_with(".yaml") {
                    files.push(entry.into_path());
                }
            }
            Ok(_) => {}
            Err(error) => {
                let place = error.path().unwrap_or(path).to_path_buf();
                diagnostics.push(Diagnostic::error(
                    place,
                    (0, 0),
                    "read",
                    format!("cannot list: {error}"),
                ));
            }
        }
    }
    files
}

/// Reads one playbook file.
pub fn load_file(path: &Path) -> Result<LoadedPlaybook, Vec<Diagnostic>> {
    let whole_file = |message: String| vec![Diagnostic::error(path, (0, 0), "read", message)];
    let file = std::fs::File::open(path).map_err(|e| whole_file(format!("cannot read: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| whole_file(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(whole_file(format!(
            "larger than {MAX_FILE_BYTES} bytes: not read"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        whole_file(format!(
            "not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    parse_playbook(path, &text)
}

/// Reads one playbook from its text; `path` names it in diagnostics.
pub fn parse_playbook(path: &Path, text: &str) -> Result<LoadedPlaybook, Vec<Diagnostic>> {
    let (positions, documents) =
        positions(text).map_err(|e| vec![Diagnostic::error(path, e.place, "yaml", e.message)])?;
    if documents > 1 {
        return Err(vec![Diagnostic::error(
            path,
            (0, 0),
            "yaml",
            format!("holds {documents} YAML documents; a playbook file holds one"),
        )]);
    }
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|error| {
        let place = error
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        vec![Diagnostic::error(
            path,
            place,
            "yaml",
            format!("invalid YAML: {error}"),
        )]
    })?;
    let document = serde_json::to_value(&yaml).map_err(|error| {
        vec![Diagnostic::error(
            path,
            (0, 0),
            "yaml",
            format!("not representable as JSON (keys must be text): {error}"),
        )]
    })?;
    check_version(path, &document, &positions)?;
    let errors = schema::validate(&document);
    if !errors.is_empty() {
        return Err(errors
            .into_iter()
            .map(|error| {
                let place = match error.unexpected.first() {
                    Some(key) => positions.key(&format!("{}/{}", error.pointer, escape_token(key))),
                    None => positions.value(&error.pointer),
                };
                let at = if error.pointer.is_empty() {
                    String::new()
                } else {
                    format!(" (at {})", error.pointer)
                };
                Diagnostic::error(path, place, "schema", format!("{}{at}", error.message))
            })
            .collect());
    }
    let playbook: Playbook = serde_json::from_value(document)
        .map_err(|error| vec![Diagnostic::error(path, (0, 0), "schema", error.to_string())])?;
    Ok(LoadedPlaybook {
        path: path.to_path_buf(),
        playbook,
        positions,
    })
}

/// Refuses a document that is not a playbook of this format version: a later version's
/// keys may mean other things, so nothing else of it is read.
fn check_version(
    path: &Path,
    document: &Value,
    positions: &Positions,
) -> Result<(), Vec<Diagnostic>> {
    let refuse = |pointer: &str, message: String| {
        Err(vec![Diagnostic::error(
            path,
            positions.value(pointer),
            "version",
            message,
        )])
    };
    let Some(map) = document.as_object() else {
        return refuse(
            "",
            "not a playbook: a playbook is a map starting with `rampart_playbook: 1`".to_owned(),
        );
    };
    match map.get("rampart_playbook") {
        None => refuse(
            "",
            format!("not a playbook: no `rampart_playbook` key (format version {FORMAT_VERSION} expected)"),
        ),
        Some(Value::Number(n)) if n.as_u64() == Some(u64::from(FORMAT_VERSION)) => Ok(()),
        Some(Value::Number(n)) => refuse(
            "/rampart_playbook",
            format!(
                "playbook format version {n} is not supported: this build reads version {FORMAT_VERSION}"
            ),
        ),
        Some(other) => refuse(
            "/rampart_playbook",
            format!("`rampart_playbook` must be the format version number {FORMAT_VERSION}, not {other}"),
        ),
    }
}
