//! Threat-intelligence indicators run beside the rules: read again with every load of
//! the rules (start-up, SIGHUP, the reload API), so a reload also picks up new or
//! expired indicators, and attached to the compiled set before it is swapped in.

use crate::config::RuleSource;
use crate::rules::RulesError;
use rampart_pipeline::CompiledRules;
use std::sync::Arc;

/// Reads `source`'s indicator files and attaches their matcher to `compiled` (a set
/// just compiled, not yet shared). Nothing to do without indicator files.
pub(crate) fn attach(
    compiled: &mut Arc<CompiledRules>,
    source: &RuleSource,
) -> Result<(), RulesError> {
    if source.intel.is_empty() {
        return Ok(());
    }
    let load = rampart_pipeline::load_indicator_files(&source.intel, &[], chrono::Utc::now())?;
    for problem in &load.problems {
        tracing::warn!("{}", rampart_event::terminal::Escaped(problem));
    }
    let stats = load.stats();
    tracing::info!(
        indicators = stats.loaded,
        read = load.read,
        expired = stats.expired,
        unusable = stats.unusable,
        millis = load.elapsed.as_millis() as u64,
        "indicators loaded"
    );
    set(compiled, Some(load.matcher))
}

/// Attaches `matcher` to a set just compiled.
pub(crate) fn set(
    compiled: &mut Arc<CompiledRules>,
    matcher: Option<Arc<rampart_intel::matcher::Matcher>>,
) -> Result<(), RulesError> {
    match Arc::get_mut(compiled) {
        Some(rules) => {
            rules.set_intel(matcher);
            Ok(())
        }
        None => Err(RulesError::Crashed(
            "the compiled rules were shared before their indicators were attached".into(),
        )),
    }
}
