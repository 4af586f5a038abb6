//! The running rule set: loaded and compiled aside, then swapped in whole.
//!
//! Handlers and the detection thread read the current [`Rules`] through an
//! [`arc_swap::ArcSwap`]: a batch is scanned with the set it started with, and the
//! next batch sees the new one. A reload swaps in every rule that loads and compiles;
//! a rule whose new version does not (its file fails to load, or the compiler rejects
//! it) keeps the version that runs now, matched by rule id (by file path when the
//! broken file's id cannot be read), and the report names it with the reason.

use crate::config::RuleSource;
use arc_swap::ArcSwap;
use rampart_pipeline::CompiledRules;
use rampart_sigma::RuleSet;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A compiled rule set (the pipeline's, shared with `hunt`) and what happened while
/// loading it. Dereferences to [`CompiledRules`]: `rules.engine`, `rules.set`.
pub struct Rules {
    /// The compiled rules.
    pub compiled: Arc<CompiledRules>,
    /// What the load reported.
    pub report: LoadReport,
}

impl std::ops::Deref for Rules {
    type Target = CompiledRules;

    fn deref(&self) -> &CompiledRules {
        &self.compiled
    }
}

/// What one load (start-up or reload) reported: shown by the API and the log.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// Rules compiled and running.
    pub rules: usize,
    /// Correlation rules.
    pub correlations: usize,
    /// Rule documents that failed to load, one line each with file and line.
    pub failures: Vec<String>,
    /// Rules the compiler rejected: (rule id, reason).
    pub rejected: Vec<(String, String)>,
    /// Rules below the minimum level.
    pub below_level: usize,
    /// Load and compile time in milliseconds.
    pub millis: u64,
    /// When the load finished (seconds since the Unix epoch).
    pub loaded_at: u64,
    /// Rules that run an older version because their new one did not load or compile.
    pub kept: Vec<KeptRule>,
}

/// A rule a reload left at the version that ran before, because the new one is broken.
#[derive(Debug, Clone, Serialize)]
pub struct KeptRule {
    /// The rule's (alert) id.
    pub id: String,
    /// The title of the version that runs.
    pub title: String,
    /// The rule file.
    pub path: String,
    /// Why the new version was not taken: the load failures of its file (with file and
    /// line) or the compiler's reason.
    pub why: Vec<String>,
}

impl LoadReport {
    /// Every problem as one line: load failures, then rejections.
    pub fn problems(&self) -> BTreeSet<String> {
        self.failures
            .iter()
            .cloned()
            .chain(
                self.rejected
                    .iter()
                    .map(|(rule, why)| format!("rule {rule} rejected: {why}")),
            )
            .collect()
    }
}

/// Why rules could not be (re)loaded.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The rules could not be loaded at all (an unreadable logsource map).
    #[error("cannot load the rules")]
    Load(#[from] rampart_pipeline::Error),
    /// No rule loaded at all.
    #[error("no rules to run: none of the rules under the given paths loaded")]
    Empty {
        /// What the load reported.
        report: Box<LoadReport>,
    },
    /// The reload task itself failed.
    #[error("the reload task failed: {0}")]
    Crashed(String),
}

/// Loads and compiles the rules `source` names. Blocking (seconds for the full SigmaHQ
/// set): call it off the async threads.
pub fn load(source: &RuleSource) -> Result<Rules, RulesError> {
    let paths = rampart_pipeline::with_tuning(source.paths.clone(), source.tuning.as_deref());
    let mut loaded = rampart_pipeline::load_rules(
        &paths,
        &source.options,
        source.min_level,
        source.logsource.as_deref(),
    )?;
    crate::intel::attach(&mut loaded.compiled, source)?;
    warn(&loaded.expired, &loaded.compiled);
    let report = LoadReport {
        rules: loaded.compiled.engine.rule_count(),
        correlations: loaded.compiled.set.correlations.len(),
        failures: loaded.failures,
        rejected: loaded.rejected,
        below_level: loaded.below_level,
        millis: duration_millis(loaded.elapsed),
        loaded_at: now(),
        kept: Vec::new(),
    };
    if report.rules == 0 {
        return Err(RulesError::Empty {
            report: Box::new(report),
        });
    }
    Ok(Rules {
        compiled: loaded.compiled,
        report,
    })
}

/// Logs what loading found that does not stop it: expired filters, correlations that
/// cannot run.
fn warn(expired: &[String], compiled: &CompiledRules) {
    for expired in expired {
        tracing::warn!("{}", rampart_event::terminal::Escaped(expired));
    }
    for warning in &compiled.correlation_warnings {
        // Both come from rule files: escaped, as every other rule text on stderr.
        tracing::warn!(
            correlation = %rampart_event::terminal::Escaped(&warning.correlation),
            "correlation not run: {}",
            rampart_event::terminal::Escaped(&warning.message)
        );
    }
}

/// Loads the rules again and swaps them in. A rule of the running set whose new version
/// is broken (its file fails to load, or the compiler rejects it) keeps its running
/// version, named in the report's `kept`.
pub fn reload(source: &RuleSource, current: &ArcSwap<Rules>) -> Result<LoadReport, RulesError> {
    let rules = load_with_fallback(source, &current.load())?;
    let report = rules.report.clone();
    current.store(Arc::new(rules));
    Ok(report)
}

/// The new rules, with the running version of each rule whose new one is broken. The
/// set is compiled once: rules whose file fails to load are replaced before compiling.
/// Only a rule whose new version loads and the compiler then rejects costs a second
/// compile (rare: the compiler takes what the loader checked, bar a few logsource and
/// modifier combinations).
fn load_with_fallback(source: &RuleSource, running: &Rules) -> Result<Rules, RulesError> {
    let started = std::time::Instant::now();
    let logsource = source.logsource.as_deref();
    let paths = rampart_pipeline::with_tuning(source.paths.clone(), source.tuning.as_deref());
    let read = rampart_pipeline::read_rules(&paths, &source.options, source.min_level);
    let mut kept = failed_to_load(running, &read.set, &read.failures);
    let mut set = read.set;
    keep_running(&mut set, running, &kept);
    let (mut compiled, mut rejected) = rampart_pipeline::compile_rules(set, logsource)?;
    let newly_rejected = rejected_anew(running, &rejected, &kept);
    if !newly_rejected.is_empty() {
        kept.extend(newly_rejected);
        let mut set = compiled.set.clone();
        keep_running(&mut set, running, &kept);
        (compiled, rejected) = rampart_pipeline::compile_rules(set, logsource)?;
    }
    crate::intel::attach(&mut compiled, source)?;
    warn(&read.expired, &compiled);
    let titles: HashMap<String, (String, String)> = running
        .set
        .rules
        .iter()
        .map(|rule| {
            (
                rule.alert_id(),
                (rule.title.clone(), rule.path.display().to_string()),
            )
        })
        .collect();
    let kept = kept
        .into_iter()
        .map(|(id, why)| {
            let (title, path) = titles.get(&id).cloned().unwrap_or_default();
            KeptRule {
                id,
                title,
                path,
                why,
            }
        })
        .collect();
    let report = LoadReport {
        rules: compiled.engine.rule_count(),
        correlations: compiled.set.correlations.len(),
        failures: read.failures,
        rejected,
        below_level: read.below_level,
        millis: duration_millis(started.elapsed()),
        loaded_at: now(),
        kept,
    };
    if report.rules == 0 {
        return Err(RulesError::Empty {
            report: Box::new(report),
        });
    }
    Ok(Rules { compiled, report })
}

/// Replaces, in `set`, the rules named in `kept` by their running versions.
fn keep_running(set: &mut RuleSet, running: &Rules, kept: &[(String, Vec<String>)]) {
    if kept.is_empty() {
        return;
    }
    let kept_ids: HashSet<&str> = kept.iter().map(|(rule, _)| rule.as_str()).collect();
    set.rules
        .retain(|rule| !kept_ids.contains(rule.alert_id().as_str()));
    set.rules.extend(
        running
            .set
            .rules
            .iter()
            .filter(|rule| kept_ids.contains(rule.alert_id().as_str()))
            .cloned(),
    );
}

/// The running rules gone from the new set because their file now fails to load, with
/// the failures: (alert id, reasons). A rule deleted, or moved below the level, is
/// dropped, not kept.
fn failed_to_load(
    running: &Rules,
    new_set: &RuleSet,
    failures: &[String],
) -> Vec<(String, Vec<String>)> {
    let new_ids: HashSet<String> = new_set.rules.iter().map(|rule| rule.alert_id()).collect();
    let mut broken = Vec::new();
    let mut seen = HashSet::new();
    for rule in running_compiled(running) {
        let id = rule.alert_id();
        if new_ids.contains(&id) || !seen.insert(id.clone()) {
            continue;
        }
        let prefix = format!("{}:", rule.path.display());
        let why: Vec<String> = failures
            .iter()
            .filter(|failure| failure.starts_with(&prefix))
            .cloned()
            .collect();
        if !why.is_empty() {
            broken.push((id, why));
        }
    }
    broken
}

/// The running rules the compiler rejected in their new version (and not kept
/// already): (alert id, reason).
fn rejected_anew(
    running: &Rules,
    rejected: &[(String, String)],
    kept: &[(String, Vec<String>)],
) -> Vec<(String, Vec<String>)> {
    let rejected: HashMap<&str, &str> = rejected
        .iter()
        .map(|(id, why)| (id.as_str(), why.as_str()))
        .collect();
    let kept: HashSet<&str> = kept.iter().map(|(id, _)| id.as_str()).collect();
    let mut broken = Vec::new();
    let mut seen = HashSet::new();
    for rule in running_compiled(running) {
        let id = rule.alert_id();
        if kept.contains(id.as_str()) || !seen.insert(id.clone()) {
            continue;
        }
        if let Some(why) = rejected.get(id.as_str()) {
            broken.push((id.clone(), vec![format!("rule {id} rejected: {why}")]));
        }
    }
    broken
}

/// The running rules that compiled (a rule the running set's compiler rejected has no
/// working version to keep).
fn running_compiled(running: &Rules) -> impl Iterator<Item = &rampart_sigma::Rule> {
    let rejected: HashSet<&str> = running
        .report
        .rejected
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    running
        .set
        .rules
        .iter()
        .filter(move |rule| !rejected.contains(rule.alert_id().as_str()))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

fn duration_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
