//! Loading and compiling the rule set, shared by `rampart hunt` and `rampart sigma test`.

use crate::global::GlobalOpts;
use anyhow::Context;
use rampart_detect::{CompileDiagnosticKind, Engine, LogsourceMap};
use rampart_event::Level;
use rampart_sigma::{LoadOptions, RuleSet, Severity};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A compiled rule set and what happened on the way.
pub struct LoadedRules {
    /// The compiled rules.
    pub engine: Engine,
    /// The rules kept (at `min_level` or above), with correlations and filters: the
    /// store records them and the correlation engine runs the correlations.
    pub set: RuleSet,
    /// Alert ids of the rules that loaded (before `min_level` and compilation).
    pub loaded_ids: HashSet<String>,
    /// Alert ids the compiler rejected, with its reason.
    pub rejected: Vec<(String, String)>,
    /// Rule documents that failed to load.
    pub failed: usize,
    /// Why they failed (one line each, with file and line).
    pub failures: Vec<String>,
    /// Rules left out for their level.
    pub below_level: usize,
    /// Time spent loading and compiling.
    pub elapsed: Duration,
}

/// `paths`, or the Sigma rule folders found in the data directory.
pub fn rule_paths(paths: Vec<PathBuf>, global: &GlobalOpts) -> anyhow::Result<Vec<PathBuf>> {
    if !paths.is_empty() {
        return Ok(paths);
    }
    let data_dir = global.data_dir();
    let files = rampart_refdata::discover(&data_dir)
        .with_context(|| format!("looking for Sigma rules in {}", data_dir.display()))?;
    if files.sigma_rule_dirs.is_empty() {
        anyhow::bail!(
            "no Sigma rule folders found under {} (pass --rules DIR or --data-dir)",
            data_dir.display()
        );
    }
    Ok(files.sigma_rule_dirs)
}

/// [`rule_paths`], plus the tuning folder of suppressions (`rampart sigma suppress`)
/// when no paths were given and the folder exists: what `hunt` loads.
pub fn rule_paths_with_tuning(
    paths: Vec<PathBuf>,
    global: &GlobalOpts,
) -> anyhow::Result<Vec<PathBuf>> {
    let explicit = !paths.is_empty();
    let mut dirs = rule_paths(paths, global)?;
    let tuning = crate::cmd::sigma::suppress::default_tuning_dir(global);
    if !explicit && tuning.is_dir() && !dirs.contains(&tuning) {
        dirs.push(tuning);
    }
    Ok(dirs)
}

/// Loads the rules under `paths` (with `options`' placeholder values), keeps those at
/// `min_level` or above, and compiles them with the built-in logsource map extended by
/// `logsource_file`.
pub fn load_engine(
    paths: &[PathBuf],
    options: &LoadOptions,
    min_level: Level,
    logsource_file: Option<&Path>,
) -> anyhow::Result<LoadedRules> {
    let started = Instant::now();
    let mut map = LogsourceMap::builtin();
    if let Some(file) = logsource_file {
        map.extend_from_file(file)
            .with_context(|| format!("reading logsource map {}", file.display()))?;
    }
    let (mut set, diagnostics) = rampart_sigma::load_rules_with(paths, options);
    for expired in diagnostics
        .iter()
        .filter(|d| d.kind == rampart_sigma::DiagnosticKind::Expired)
    {
        tracing::warn!("{}", rampart_event::terminal::Escaped(&expired.to_string()));
    }
    let failures: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    let loaded_ids = set.rules.iter().map(|rule| rule.alert_id()).collect();
    let before = set.rules.len();
    set.rules.retain(|rule| rule.level >= min_level);
    let below_level = before - set.rules.len();
    let (engine, compile_diagnostics) = Engine::compile(&set, &map);
    let rejected = compile_diagnostics
        .into_iter()
        .filter(|d| d.kind == CompileDiagnosticKind::Rejected)
        .map(|d| (d.rule, d.message))
        .collect();
    Ok(LoadedRules {
        engine,
        set,
        loaded_ids,
        rejected,
        failed: failures.len(),
        failures,
        below_level,
        elapsed: started.elapsed(),
    })
}
