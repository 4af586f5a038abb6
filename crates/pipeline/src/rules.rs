//! Loading and compiling a rule set.
//!
//! [`load_rules`] reads Sigma rule files, keeps the rules at a minimum level and
//! compiles them; what happened on the way (load failures, rules the compiler
//! rejected, rules below the level) comes back beside the compiled set so the caller
//! can show it; [`read_rules`] is its first half, for a caller that assembles the set
//! before [`compile_rules`]. The compiled set, [`CompiledRules`], is immutable and held in an
//! [`Arc`]: a service compiles the next version aside and swaps the `Arc`, and
//! batches already being scanned finish on the version they started with.

use crate::Error;
use rampart_correlate::sigma::{AlertCorrelator, CorrelationEngine, CorrelationWarning};
use rampart_detect::{CompileDiagnosticKind, Engine, LogsourceMap};
use rampart_event::{Alert, Level};
use rampart_intel::matcher::Matcher;
use rampart_sigma::{LoadOptions, RuleSet, Severity};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A compiled rule set and what happened on the way.
pub struct LoadedRules {
    /// The compiled rules, shareable between threads and swappable as a whole.
    pub compiled: Arc<CompiledRules>,
    /// Alert ids of the rules that loaded (before `min_level` and compilation).
    pub loaded_ids: HashSet<String>,
    /// Alert ids the compiler rejected, with its reason.
    pub rejected: Vec<(String, String)>,
    /// Rule documents that failed to load.
    pub failed: usize,
    /// Why they failed (one line each, with file and line).
    pub failures: Vec<String>,
    /// Filters past their `expires` day, which no longer apply (one line each).
    pub expired: Vec<String>,
    /// Rules left out for their level.
    pub below_level: usize,
    /// Time spent loading and compiling.
    pub elapsed: Duration,
}

/// The engine, the rules it was compiled from and what correlations need of them.
pub struct CompiledRules {
    /// The compiled detection rules.
    pub engine: Engine,
    /// The rules kept (at the minimum level or above), with correlations and filters:
    /// the store records them and the correlation engine runs the correlations.
    pub set: RuleSet,
    /// Alert (rule) ids whose alerts some correlation takes as input.
    listened: HashSet<String>,
    /// Alert (rule) ids whose own alerts `generate: false` withholds.
    suppressed: HashSet<String>,
    /// Problems with the correlation rules (references to unknown rules).
    pub correlation_warnings: Vec<CorrelationWarning>,
    /// Threat-intelligence indicators run on every event right after the rules.
    intel: Option<Arc<Matcher>>,
}

impl CompiledRules {
    /// Wraps an engine compiled from `set`, working out which rules correlations listen
    /// to and which of them `generate: false` silences.
    pub fn new(engine: Engine, set: RuleSet) -> Self {
        let mut listened = HashSet::new();
        let mut suppressed = HashSet::new();
        let mut correlation_warnings = Vec::new();
        if !set.correlations.is_empty() {
            let (correlations, warnings) = CorrelationEngine::new(&set.correlations, &set.rules);
            correlation_warnings = warnings;
            for rule in &set.rules {
                let id = rule.alert_id();
                if correlations.is_suppressed(&id) {
                    suppressed.insert(id.clone());
                }
                if correlations.listens_to(&id) {
                    listened.insert(id);
                }
            }
        }
        CompiledRules {
            engine,
            set,
            listened,
            suppressed,
            correlation_warnings,
            intel: None,
        }
    }

    /// The same rules with `matcher`'s indicators run on every event right after them
    /// (in the same pass, on the same thread), their hits becoming IoC alerts.
    pub fn with_intel(mut self, matcher: Arc<Matcher>) -> Self {
        self.intel = Some(matcher);
        self
    }

    /// Sets (or with `None` clears) the indicators run after the rules; for a set that
    /// is already in an [`Arc`], before it is shared (`Arc::get_mut`).
    pub fn set_intel(&mut self, matcher: Option<Arc<Matcher>>) {
        self.intel = matcher;
    }

    /// The indicators run after the rules, if any.
    pub fn intel(&self) -> Option<&Arc<Matcher>> {
        self.intel.as_ref()
    }

    /// Whether the set has correlation rules.
    pub fn has_correlations(&self) -> bool {
        !self.set.correlations.is_empty()
    }

    /// A correlator with empty windows for this set's correlations (None without any),
    /// for one replay of a hunt's alerts.
    pub fn correlator(&self) -> Option<AlertCorrelator> {
        AlertCorrelator::new(&self.set).map(|(correlator, _warnings)| correlator)
    }

    /// Whether some correlation takes this detection alert as input.
    pub fn listens_to(&self, alert: &Alert) -> bool {
        self.listened.contains(&alert.rule_id)
    }

    /// Whether `generate: false` withholds this detection alert from the output.
    pub fn suppressed(&self, alert: &Alert) -> bool {
        self.suppressed.contains(&alert.rule_id)
    }
}

/// Rules read from their files and kept for their level, not compiled yet (a reload
/// assembles its set from them and the running rules before compiling once).
pub struct ReadRules {
    /// The rules at the minimum level or above, with correlations and filters.
    pub set: RuleSet,
    /// Alert ids of the rules that loaded (before `min_level`).
    pub loaded_ids: HashSet<String>,
    /// Why rule documents failed to load (one line each, with file and line).
    pub failures: Vec<String>,
    /// Filters past their `expires` day, which no longer apply (one line each).
    pub expired: Vec<String>,
    /// Rules left out for their level.
    pub below_level: usize,
}

/// Reads the rules under `paths` (with `options`' placeholder values) and keeps those
/// at `min_level` or above. A rule that fails to load is explained, never an error.
pub fn read_rules(paths: &[PathBuf], options: &LoadOptions, min_level: Level) -> ReadRules {
    let (mut set, diagnostics) = rampart_sigma::load_rules_with(paths, options);
    let failures: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    let expired: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.kind == rampart_sigma::DiagnosticKind::Expired)
        .map(|d| d.to_string())
        .collect();
    let loaded_ids = set.rules.iter().map(|rule| rule.alert_id()).collect();
    let before = set.rules.len();
    set.rules.retain(|rule| rule.level >= min_level);
    let below_level = before - set.rules.len();
    ReadRules {
        set,
        loaded_ids,
        failures,
        expired,
        below_level,
    }
}

/// Loads the rules under `paths` (with `options`' placeholder values), keeps those at
/// `min_level` or above, and compiles them with the built-in logsource map extended by
/// `logsource_file`. A rule that fails to load or compile is counted and explained in
/// the result, never an error; only an unreadable logsource map is.
pub fn load_rules(
    paths: &[PathBuf],
    options: &LoadOptions,
    min_level: Level,
    logsource_file: Option<&Path>,
) -> Result<LoadedRules, Error> {
    let started = Instant::now();
    let map = logsource_map(logsource_file)?;
    let read = read_rules(paths, options, min_level);
    let (compiled, rejected) = compile(read.set, &map);
    Ok(LoadedRules {
        compiled,
        loaded_ids: read.loaded_ids,
        rejected,
        failed: read.failures.len(),
        failures: read.failures,
        expired: read.expired,
        below_level: read.below_level,
        elapsed: started.elapsed(),
    })
}

/// `paths` with the tuning folder (suppression filters) added, when it exists and is
/// not listed already: the rule paths a hunt or the service loads.
pub fn with_tuning(mut paths: Vec<PathBuf>, tuning: Option<&Path>) -> Vec<PathBuf> {
    if let Some(tuning) = tuning.filter(|dir| dir.is_dir()) {
        if !paths.iter().any(|path| path == tuning) {
            paths.push(tuning.to_path_buf());
        }
    }
    paths
}

/// Rules the compiler rejected: (alert id, reason).
pub type Rejected = Vec<(String, String)>;

/// Compiles a rule set assembled by the caller (e.g. a reload that keeps the previous
/// version of a rule whose new one does not load) with the built-in logsource map
/// extended by `logsource_file`. Returns the compiled set and the rules the compiler
/// rejected, with its reason; only an unreadable logsource map is an error.
pub fn compile_rules(
    set: RuleSet,
    logsource_file: Option<&Path>,
) -> Result<(Arc<CompiledRules>, Rejected), Error> {
    let map = logsource_map(logsource_file)?;
    Ok(compile(set, &map))
}

fn logsource_map(logsource_file: Option<&Path>) -> Result<LogsourceMap, Error> {
    let mut map = LogsourceMap::builtin();
    if let Some(file) = logsource_file {
        map.extend_from_file(file)
            .map_err(|source| Error::Logsource {
                path: file.to_path_buf(),
                source,
            })?;
    }
    Ok(map)
}

fn compile(set: RuleSet, map: &LogsourceMap) -> (Arc<CompiledRules>, Rejected) {
    let (engine, compile_diagnostics) = Engine::compile(&set, map);
    let rejected = compile_diagnostics
        .into_iter()
        .filter(|d| d.kind == CompileDiagnosticKind::Rejected)
        .map(|d| (d.rule, d.message))
        .collect();
    (Arc::new(CompiledRules::new(engine, set)), rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tuning_folder_is_added_once_and_only_when_it_exists() {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules");
        let tuning = dir.path().join("tuning");
        let paths = vec![rules.clone()];
        assert_eq!(
            with_tuning(paths.clone(), Some(&tuning)),
            paths,
            "no folder"
        );
        std::fs::create_dir(&tuning).unwrap();
        assert_eq!(
            with_tuning(paths.clone(), Some(&tuning)),
            [rules.clone(), tuning.clone()]
        );
        let listed = vec![tuning.clone(), rules];
        assert_eq!(with_tuning(listed.clone(), Some(&tuning)), listed);
        assert_eq!(with_tuning(paths.clone(), None), paths);
    }
}
