//! Files into a [`RuleSet`]: walking folders, reading files in parallel, multi-document
//! collections, and turning every failure into a diagnostic.

use crate::diagnostic::{Diagnostic, DiagnosticKind, Problem, Severity};
use crate::document::{parse_document, Item};
use crate::model::RuleSet;
use crate::yaml::{parse_documents, Document, Node, NodeKind};
use crate::LoadOptions;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Every `.yml`/`.yaml` file under the given paths, sorted within each folder so that
/// load order (and so diagnostics) is stable. A file named in `paths` is read whatever
/// it is (a FIFO too: the user asked for it); in folders only regular files are, and
/// symbolic links only with `follow_links` (with loop detection), each one passed over
/// getting a diagnostic.
pub(crate) fn rule_files(
    paths: &[PathBuf],
    follow_links: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, follow_links, &mut files, diagnostics);
        } else {
            files.push(path.clone());
        }
    }
    files
}

/// Whether a symbolic link leads to a folder (which could hold rules).
fn links_to_folder(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_dir())
}

fn walk(
    dir: &Path,
    follow_links: bool,
    files: &mut Vec<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let skipped = |path: &Path, message: &str| {
        Problem::new(DiagnosticKind::Io, 0, message).in_file(path.to_path_buf(), Severity::Warning)
    };
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(follow_links)
        .sort_by_file_name();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(dir);
                let message = match (error.loop_ancestor(), error.io_error()) {
                    (Some(ancestor), _) => format!(
                        "symbolic link loop back to {}: not followed again",
                        ancestor.display()
                    ),
                    (None, Some(io)) => format!("cannot read folder entry: {io}"),
                    (None, None) => "cannot read folder entry".to_string(),
                };
                // A folder that cannot be read hides its rules: an error, not a warning.
                diagnostics.push(match error.loop_ancestor() {
                    Some(_) => skipped(path, &message),
                    None => io_diagnostic(path, &message),
                });
                continue;
            }
        };
        let kind = entry.file_type();
        let path = entry.path();
        if kind.is_dir() {
            continue;
        }
        if kind.is_symlink() && (is_rule_file(path) || links_to_folder(path)) {
            let message = "symbolic link not followed (see --follow-links)";
            diagnostics.push(skipped(path, message));
        } else if kind.is_symlink() || !is_rule_file(path) {
            // Other files (READMEs, test data) are not rules.
        } else if !kind.is_file() {
            let message = "not a regular file (a FIFO, socket or device): skipped";
            diagnostics.push(skipped(path, message));
        } else {
            files.push(path.to_path_buf());
        }
    }
}

fn is_rule_file(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| ext.eq_ignore_ascii_case("yml") || ext.eq_ignore_ascii_case("yaml"))
}

fn io_diagnostic(path: &Path, message: &str) -> Diagnostic {
    Problem::new(DiagnosticKind::Io, 0, message).in_file(path.to_path_buf(), Severity::Error)
}

/// Loads files in parallel; results keep file order.
pub(crate) fn load(paths: &[PathBuf], options: &LoadOptions) -> (RuleSet, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let files = rule_files(paths, options.follow_links, &mut diagnostics);
    let results: Vec<(Vec<Item>, Vec<Diagnostic>)> = files
        .par_iter()
        .map(|path| match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(source) => load_source(&source, path, options),
                Err(_) => (
                    Vec::new(),
                    vec![io_diagnostic(path, "the file is not UTF-8 text")],
                ),
            },
            Err(error) => (
                Vec::new(),
                vec![io_diagnostic(path, &format!("cannot read file: {error}"))],
            ),
        })
        .collect();
    let mut all_items = Vec::new();
    for (items, file_diagnostics) in results {
        all_items.extend(items);
        diagnostics.extend(file_diagnostics);
    }
    let set = into_set(all_items);
    expiry_warnings(&set, crate::filter::today(), &mut diagnostics);
    (set, diagnostics)
}

/// A warning for each filter whose `expires` date has come: it loaded (and is listed)
/// but no longer applies.
pub(crate) fn expiry_warnings(
    set: &RuleSet,
    today: chrono::NaiveDate,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for filter in &set.filters {
        if let Some(expires) = filter.expires.filter(|_| !filter.active_on(today)) {
            diagnostics.push(
                Problem::new(
                    DiagnosticKind::Expired,
                    filter.line,
                    format!("the filter expired on {expires} and no longer applies"),
                )
                .in_file(filter.path.clone(), Severity::Warning),
            );
        }
    }
}

/// Sorts loaded items into a rule set.
pub(crate) fn into_set(items: Vec<Item>) -> RuleSet {
    let mut set = RuleSet::default();
    for item in items {
        match item {
            Item::Rule(rule) => set.rules.push(*rule),
            Item::Correlation(correlation) => set.correlations.push(*correlation),
            Item::Filter(filter) => set.filters.push(*filter),
        }
    }
    set
}

/// Loads the documents of one file's text. Each document that fails gives exactly one
/// error diagnostic; the file's other documents still load.
pub(crate) fn load_source(
    source: &str,
    path: &Path,
    options: &LoadOptions,
) -> (Vec<Item>, Vec<Diagnostic>) {
    let located = |problem: Problem| problem.in_file(path.to_path_buf(), Severity::Error);
    let documents = match parse_documents(source) {
        Ok(documents) => documents,
        Err(problem) => return (Vec::new(), vec![located(problem)]),
    };
    let placeholders = |name: &str| options.placeholders.get(name).cloned();
    let mut items = Vec::new();
    let mut diagnostics = Vec::new();
    for (root, line) in
        merge_collection(documents, &mut |problem| diagnostics.push(located(problem)))
    {
        match parse_document(&root, path, line, &placeholders) {
            Ok(item) => items.push(item),
            Err(problem) => diagnostics.push(located(problem)),
        }
    }
    (items, diagnostics)
}

/// Resolves `action: global / reset / repeat` of Sigma 1 multi-document collections
/// into plain documents, with the line each one starts on.
fn merge_collection(
    documents: Vec<Document>,
    report: &mut dyn FnMut(Problem),
) -> Vec<(Node, usize)> {
    let mut global: Option<Node> = None;
    let mut merged = Vec::new();
    for document in documents {
        if document.root.is_null() {
            continue;
        }
        // The rule's line is its first attribute's, not the `---` before it.
        let line_of_root = document.root.line;
        let action = document
            .root
            .get("action")
            .map(|node| (node.as_str().unwrap_or_default().to_string(), node.line));
        let root = without_key(document.root, "action");
        match action {
            None => {}
            Some((action, _)) if action == "global" => {
                global = Some(match global.take() {
                    Some(existing) => merge(existing, root),
                    None => root,
                });
                continue;
            }
            Some((action, _)) if action == "reset" => {
                global = None;
                continue;
            }
            Some((action, line)) if action == "repeat" => {
                // `repeat` builds on the document before it, as merged.
                let Some(base) = merged.last().map(|(node, _): &(Node, usize)| node.clone()) else {
                    report(Problem::new(
                        DiagnosticKind::InvalidAttribute,
                        line,
                        "`action: repeat` with no document before it to repeat",
                    ));
                    continue;
                };
                merged.push((merge(base, root), line_of_root));
                continue;
            }
            Some((action, line)) => {
                report(Problem::new(
                    DiagnosticKind::InvalidAttribute,
                    line,
                    format!("unknown `action: {action}` (expected global, reset or repeat)"),
                ));
                continue;
            }
        }
        let full = match &global {
            Some(global) => merge(global.clone(), root),
            None => root,
        };
        merged.push((full, line_of_root));
    }
    merged
}

fn without_key(node: Node, key: &str) -> Node {
    match node.kind {
        NodeKind::Map(entries) => Node {
            line: node.line,
            kind: NodeKind::Map(
                entries
                    .into_iter()
                    .filter(|(k, _)| k.as_str() != Some(key))
                    .collect(),
            ),
        },
        kind => Node {
            line: node.line,
            kind,
        },
    }
}

/// Deep merge: maps merge key by key (recursively), anything else is replaced.
fn merge(base: Node, overlay: Node) -> Node {
    match (base.kind, overlay.kind) {
        (NodeKind::Map(mut entries), NodeKind::Map(extra)) => {
            for (key, value) in extra {
                match entries
                    .iter()
                    .position(|(k, _)| k.as_str().is_some() && k.as_str() == key.as_str())
                {
                    Some(at) => {
                        let (existing_key, existing) = entries.remove(at);
                        entries.insert(at, (existing_key, merge(existing, value)));
                    }
                    None => entries.push((key, value)),
                }
            }
            Node {
                line: overlay.line.min(base.line).max(1),
                kind: NodeKind::Map(entries),
            }
        }
        (_, kind) => Node {
            line: overlay.line,
            kind,
        },
    }
}
