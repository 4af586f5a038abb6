//! The running rule set: loaded and compiled aside, then swapped in whole.
//!
//! Handlers and the detection thread read the current [`Rules`] through an
//! [`arc_swap::ArcSwap`]: a batch is scanned with the set it started with, and the
//! next batch sees the new one. A reload that would break a rule which loads in the
//! running set keeps the running set and reports why.

use crate::config::RuleSource;
use arc_swap::ArcSwap;
use rampart_correlate::sigma::AlertCorrelator;
use rampart_detect::{CompileDiagnosticKind, Engine, LogsourceMap};
use rampart_sigma::{RuleSet, Severity};
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A compiled rule set and what happened while loading it.
pub struct Rules {
    /// The compiled rules.
    pub engine: Engine,
    /// The rules that run, with correlations and filters.
    pub set: RuleSet,
    /// The correlation rules' view of the set (which alerts they listen to, which
    /// base rules do not `generate`), when there are correlations.
    pub correlator: Option<AlertCorrelator>,
    /// What the load reported.
    pub report: LoadReport,
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
    /// The logsource map file could not be read.
    #[error("cannot extend the logsource map")]
    Logsource {
        /// Why.
        #[source]
        source: rampart_detect::LogsourceError,
    },
    /// No rule loaded at all.
    #[error("no rules to run: none of the rules under the given paths loaded")]
    Empty {
        /// What the load reported.
        report: Box<LoadReport>,
    },
    /// The reload task itself failed.
    #[error("the reload task failed: {0}")]
    Crashed(String),
    /// The new set breaks rules that the running set has.
    #[error("reload refused: {} new problem(s); the running rules are kept", problems.len())]
    NewProblems {
        /// The problems the running set does not have.
        problems: Vec<String>,
        /// What the refused load reported.
        report: Box<LoadReport>,
    },
}

/// Loads and compiles the rules `source` names. Blocking (seconds for the full SigmaHQ
/// set): call it off the async threads.
pub fn load(source: &RuleSource) -> Result<Rules, RulesError> {
    let started = Instant::now();
    let mut map = LogsourceMap::builtin();
    if let Some(file) = &source.logsource {
        map.extend_from_file(file)
            .map_err(|source| RulesError::Logsource { source })?;
    }
    let (mut set, diagnostics) = rampart_sigma::load_rules_with(&source.paths, &source.options);
    let failures: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    let before = set.rules.len();
    set.rules.retain(|rule| rule.level >= source.min_level);
    let below_level = before - set.rules.len();
    let (engine, compile_diagnostics) = Engine::compile(&set, &map);
    let rejected: Vec<(String, String)> = compile_diagnostics
        .into_iter()
        .filter(|d| d.kind == CompileDiagnosticKind::Rejected)
        .map(|d| (d.rule, d.message))
        .collect();
    let correlator = AlertCorrelator::new(&set).map(|(correlator, warnings)| {
        for warning in warnings {
            tracing::warn!(
                correlation = %warning.correlation,
                "correlation not run: {}",
                warning.message
            );
        }
        correlator
    });
    let report = LoadReport {
        rules: engine.rule_count(),
        correlations: set.correlations.len(),
        failures,
        rejected,
        below_level,
        millis: duration_millis(started.elapsed()),
        loaded_at: SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs()),
    };
    if report.rules == 0 {
        return Err(RulesError::Empty {
            report: Box::new(report),
        });
    }
    Ok(Rules {
        engine,
        set,
        correlator,
        report,
    })
}

/// Loads the rules again and swaps them in, unless the new set has problems the
/// running one does not (a rule file broken by an edit): then the running set stays.
pub fn reload(source: &RuleSource, current: &ArcSwap<Rules>) -> Result<LoadReport, RulesError> {
    let rules = load(source)?;
    let running = current.load().report.problems();
    let new: Vec<String> = rules
        .report
        .problems()
        .into_iter()
        .filter(|problem| !running.contains(problem))
        .collect();
    if !new.is_empty() {
        return Err(RulesError::NewProblems {
            problems: new,
            report: Box::new(rules.report),
        });
    }
    let report = rules.report.clone();
    current.store(Arc::new(rules));
    Ok(report)
}

fn duration_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
