//! Threat-intelligence indicators (feed files and the store's active indicators) run
//! beside the rules: read again with every load of the rules (start-up, SIGHUP, the
//! reload API), so a reload also picks up new or expired indicators, and attached to
//! the compiled set before it is swapped in.

use crate::config::RuleSource;
use crate::rules::RulesError;
use rampart_pipeline::CompiledRules;
use std::sync::Arc;

/// Reads `source`'s indicator files and the store's active indicators and attaches
/// their matcher to `compiled` (a set just compiled, not yet shared). Nothing to do
/// when neither holds an indicator.
pub(crate) fn attach(
    compiled: &mut Arc<CompiledRules>,
    source: &RuleSource,
) -> Result<(), RulesError> {
    let load = rampart_pipeline::load_indicators(
        &source.intel,
        source.intel_store.as_deref(),
        chrono::Utc::now(),
    )?;
    if load.read == 0 && source.intel.is_empty() {
        return Ok(());
    }
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
