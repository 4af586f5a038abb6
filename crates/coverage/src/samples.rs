//! Running the compiled rule set over labelled samples (the input of validation).
//!
//! Samples are small (a few MB at most), so each is read whole with the ingest
//! collector and scanned on one thread, and samples run in parallel over the rayon pool.
//! An unreadable sample is kept with its error: it counts as run but proves nothing.

use crate::labels::SampleLabel;
use crate::validated::SampleRun;
use rampart_detect::Engine;
use rampart_ingest::{Collector, Input, ReadOptions};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// Runs `engine` over every labelled sample.
pub fn run_samples(engine: &Engine, labels: &[SampleLabel]) -> Vec<SampleRun> {
    let options = ReadOptions {
        parallel: false,
        ..ReadOptions::default()
    };
    labels
        .par_iter()
        .map(|label| run_one(engine, label, &options))
        .collect()
}

fn run_one(engine: &Engine, label: &SampleLabel, options: &ReadOptions) -> SampleRun {
    let mut run = SampleRun {
        label: label.clone(),
        fired: BTreeSet::new(),
        channels: BTreeMap::new(),
        error: None,
    };
    let input = match Input::file(&label.path) {
        Ok(input) => input,
        Err(e) => {
            run.error = Some(rampart_event::error_chain(&e));
            return run;
        }
    };
    let collector = Collector::new();
    if let Err(e) = input.read(options, &collector) {
        run.error = Some(rampart_event::error_chain(&e));
        return run;
    }
    let (events, _diagnostics) = collector.into_parts();
    let mut scratch = engine.scratch();
    for event in &events {
        if let Some(channel) = &event.meta.channel {
            let ids = run.channels.entry(channel.to_string()).or_default();
            ids.extend(event.meta.event_id);
        }
        engine.scan(event, &mut scratch, &mut |alert| {
            run.fired.insert(alert.rule_id);
        });
    }
    run
}
