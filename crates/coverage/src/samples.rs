//! Running the compiled rule set over labelled samples (the input of validation).
//!
//! Samples are small (a few MB at most), so each is read whole and scanned on one
//! thread by the pipeline (the same reading and scanning as `sigma test`), and samples
//! run in parallel over the rayon pool. An unreadable sample is kept with its error:
//! it counts as run but proves nothing.

use crate::labels::SampleLabel;
use crate::validated::SampleRun;
use rampart_pipeline::{CompiledRules, ScanOptions};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// Runs `rules` over every labelled sample. Every match counts, including those of
/// rules a correlation's `generate: false` keeps out of a hunt's output: a sample
/// validates the rule that fires on it.
pub fn run_samples(rules: &CompiledRules, labels: &[SampleLabel]) -> Vec<SampleRun> {
    labels
        .par_iter()
        .map(|label| run_one(rules, label))
        .collect()
}

fn run_one(rules: &CompiledRules, label: &SampleLabel) -> SampleRun {
    let mut run = SampleRun {
        label: label.clone(),
        fired: BTreeSet::new(),
        channels: BTreeMap::new(),
        error: None,
    };
    let events = match rampart_pipeline::samples::read_sample(&label.path) {
        Ok((events, _diagnostics)) => events,
        Err(e) => {
            run.error = Some(rampart_event::error_chain(&e));
            return run;
        }
    };
    for event in &events {
        if let Some(channel) = &event.meta.channel {
            let ids = run.channels.entry(channel.to_string()).or_default();
            ids.extend(event.meta.event_id);
        }
    }
    let options = ScanOptions {
        all_matches: true,
        ..ScanOptions::default()
    };
    let scanned = rules.scan_events(&events, options);
    run.fired
        .extend(scanned.alerts.into_iter().map(|alert| alert.rule_id));
    run
}
