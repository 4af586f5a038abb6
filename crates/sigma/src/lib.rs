//! Sigma rules: YAML into a checked rule model, with diagnostics for what cannot be loaded.
//!
//! This crate owns the meaning of a Sigma rule and nothing else: it reads rule files,
//! checks them against the Sigma 2.1 specification and produces a [`RuleSet`] of
//! [`Rule`]s, [`Correlation`]s and [`Filter`]s. Loading never stops at a bad rule: each
//! one becomes a [`Diagnostic`] (file, line, kind, reason) and the rest loads.
//!
//! Transformation modifiers (base64, utf16, windash, expand, …) are applied here, at
//! load time, so that consumers see only a handful of string operations, number and
//! network comparisons. That keeps the compiled matcher in `rampart-detect` small, and
//! gives it an exact, obvious oracle to be tested against: [`Rule::matches`].
//!
//! YAML is read with an event parser so that every node keeps its line number; rule
//! authors get diagnostics that point at the offending line.

mod condition;
mod detection;
mod diagnostic;
mod document;
mod eval;
pub mod filter;
mod fuzz;
mod load;
mod model;
mod modifiers;
mod yaml;

pub use condition::{parse_condition, ConditionError};
pub use diagnostic::{Diagnostic, DiagnosticKind, Problem, Severity};
pub use document::attack_tags;
pub use eval::trimmed_for;
pub use fuzz::{fuzz_condition_parser, fuzz_rule_parser, fuzz_rule_yaml};
pub use model::{
    Aliases, AttackTags, CmpOp, Condition, Correlation, CorrelationCondition, CorrelationType,
    Detection, FieldItem, FieldMap, FieldPattern, Filter, GlobPart, LogSource, Related, Rule,
    RuleSet, Search, Selector, StringOp, TimePart, ValuePattern,
};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Settings for loading rules.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Values for `|expand` placeholders, by name without the `%` signs. A rule using
    /// a placeholder that is not listed here is rejected.
    pub placeholders: HashMap<String, Vec<String>>,
    /// Follow symbolic links in rule folders (a link back to a folder being walked is
    /// reported, not followed again). Off by default: links are reported and passed
    /// over, so a link loop cannot load every rule again or hang the walk.
    pub follow_links: bool,
}

/// Loads every `.yml`/`.yaml` file under the given files and folders (recursively).
///
/// Returns what loaded and a diagnostic for everything that did not; a broken file or
/// rule never stops the others from loading.
pub fn load_rules(paths: &[PathBuf]) -> (RuleSet, Vec<Diagnostic>) {
    load_rules_with(paths, &LoadOptions::default())
}

/// [`load_rules`] with explicit options.
///
/// Every document that fails to load gives exactly one error diagnostic, so the number
/// of documents read is the number loaded plus the number of error diagnostics.
pub fn load_rules_with(paths: &[PathBuf], options: &LoadOptions) -> (RuleSet, Vec<Diagnostic>) {
    load::load(paths, options)
}

/// Loads the documents of one rule file's text, as if read from `path`.
pub fn load_str(source: &str, path: &Path, options: &LoadOptions) -> (RuleSet, Vec<Diagnostic>) {
    let (items, mut diagnostics) = load::load_source(source, path, options);
    let set = load::into_set(items);
    load::expiry_warnings(&set, filter::today(), &mut diagnostics);
    (set, diagnostics)
}
