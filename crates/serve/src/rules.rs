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
    let mut paths = source.paths.clone();
    if let Some(tuning) = source.tuning.as_ref().filter(|dir| dir.is_dir()) {
        if !paths.contains(tuning) {
            paths.push(tuning.clone());
        }
    }
    let mut loaded = rampart_pipeline::load_rules(
        &paths,
        &source.options,
        source.min_level,
        source.logsource.as_deref(),
    )?;
    crate::intel::attach(&mut loaded.compiled, source)?;
    for expired in &loaded.expired {
        tracing::warn!("{}", rampart_event::terminal::Escaped(expired));
    }
    for warning in &loaded.compiled.correlation_warnings {
        // Both come from rule files: escaped, as every other rule text on stderr.
        tracing::warn!(
            correlation = %rampart_event::terminal::Escaped(&warning.correlation),
            "correlation not run: {}",
            rampart_event::terminal::Escaped(&warning.message)
        );
    }
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

/// Loads the rules again and swaps them in. A rule of the running set whose new version
/// is broken (its file fails to load, or the compiler rejects it) keeps its running
/// version, named in the report's `kept`; the set is then compiled once more with it.
pub fn reload(source: &RuleSource, current: &ArcSwap<Rules>) -> Result<LoadReport, RulesError> {
    let mut rules = load_with_fallback(source, &current.load())?;
    rules.report.loaded_at = now();
    let report = rules.report.clone();
    current.store(Arc::new(rules));
    Ok(report)
}

fn load_with_fallback(source: &RuleSource, running: &Rules) -> Result<Rules, RulesError> {
    let loaded = load(source);
    let (new, empty_report) = match loaded {
        Ok(rules) => (Some(rules), None),
        Err(RulesError::Empty { report }) => (None, Some(report)),
        Err(other) => return Err(other),
    };
    let (new_set, report) = match (&new, empty_report) {
        (Some(rules), _) => (rules.set.clone(), rules.report.clone()),
        (None, Some(report)) => (rampart_sigma::RuleSet::default(), *report),
        (None, None) => return Err(RulesError::Crashed("no load result".into())),
    };
    let kept = broken_rules(running, &new_set, &report);
    if kept.is_empty() {
        return match new {
            Some(rules) => Ok(rules),
            None => Err(RulesError::Empty {
                report: Box::new(report),
            }),
        };
    }
    let kept_ids: HashSet<&str> = kept.iter().map(|(rule, _)| rule.as_str()).collect();
    let mut set = new_set;
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
    let started = std::time::Instant::now();
    let (mut compiled, rejected) =
        rampart_pipeline::compile_rules(set, source.logsource.as_deref())?;
    crate::intel::set(&mut compiled, new.as_ref().and_then(|r| r.intel().cloned()))?;
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
        rejected,
        millis: report
            .millis
            .saturating_add(duration_millis(started.elapsed())),
        kept,
        ..report
    };
    Ok(Rules { compiled, report })
}

/// The running rules whose new version is broken, with why: (alert id, reasons).
fn broken_rules(
    running: &Rules,
    new_set: &rampart_sigma::RuleSet,
    report: &LoadReport,
) -> Vec<(String, Vec<String>)> {
    let running_rejected: HashSet<&str> = running
        .report
        .rejected
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    let new_rejected: HashMap<&str, &str> = report
        .rejected
        .iter()
        .map(|(id, why)| (id.as_str(), why.as_str()))
        .collect();
    let new_ids: HashSet<String> = new_set.rules.iter().map(|rule| rule.alert_id()).collect();
    let mut broken = Vec::new();
    let mut seen = HashSet::new();
    for rule in &running.set.rules {
        let id = rule.alert_id();
        if running_rejected.contains(id.as_str()) || !seen.insert(id.clone()) {
            continue;
        }
        if let Some(why) = new_rejected.get(id.as_str()) {
            broken.push((
                id,
                vec![format!("rule {} rejected: {why}", rule.alert_id())],
            ));
            continue;
        }
        if new_ids.contains(&id) {
            continue;
        }
        // Gone from the new set: kept only when its file now fails to load (a rule
        // deleted, or moved below the level, is dropped).
        let prefix = format!("{}:", rule.path.display());
        let why: Vec<String> = report
            .failures
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

fn now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

fn duration_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
