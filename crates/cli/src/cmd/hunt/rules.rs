//! Which rules to load, shared by `rampart hunt`, `rampart sigma test` and
//! `rampart incidents`; loading and compiling them is the pipeline's.

use crate::global::GlobalOpts;
use anyhow::Context;
use rampart_event::Level;
pub use rampart_pipeline::LoadedRules;
use rampart_sigma::LoadOptions;
use std::path::{Path, PathBuf};

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
    let dirs = rule_paths(paths, global)?;
    let tuning = crate::cmd::sigma::suppress::default_tuning_dir(global);
    Ok(rampart_pipeline::with_tuning(
        dirs,
        (!explicit).then_some(tuning.as_path()),
    ))
}

/// Loads and compiles the rules under `paths` ([`rampart_pipeline::load_rules`]).
pub fn load_engine(
    paths: &[PathBuf],
    options: &LoadOptions,
    min_level: Level,
    logsource_file: Option<&Path>,
) -> anyhow::Result<LoadedRules> {
    Ok(rampart_pipeline::load_rules(
        paths,
        options,
        min_level,
        logsource_file,
    )?)
}
