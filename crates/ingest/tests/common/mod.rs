//! Helpers shared by the ingest integration tests.
#![allow(dead_code, clippy::expect_used)]

use rampart_event::Event;
use rampart_ingest::{inputs, Collector, Diagnostic, FindOptions, Input, ReadOptions, ReadStats};
use std::path::Path;

/// Everything one input yields, in input order.
pub fn read_input(
    input: &Input,
    options: &ReadOptions,
) -> (Vec<Event>, Vec<Diagnostic>, ReadStats) {
    let collector = Collector::new();
    let stats = input.read(options, &collector).expect("input opens");
    let (events, diagnostics) = collector.into_parts();
    (events, diagnostics, stats)
}

/// Everything one path (file or directory) yields.
pub fn read_path(path: &Path) -> (Vec<Event>, Vec<Diagnostic>) {
    let mut events = Vec::new();
    let mut diagnostics = Vec::new();
    let found = inputs(&[path], FindOptions::default());
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
    for input in found.inputs {
        let (e, d, _) = read_input(&input, &ReadOptions::default());
        events.extend(e);
        diagnostics.extend(d);
    }
    (events, diagnostics)
}

/// An event's fields sorted by name, for comparisons that ignore field order.
pub fn sorted_fields(event: &Event) -> Vec<(String, String)> {
    let mut fields: Vec<_> = event
        .fields
        .iter()
        .map(|(name, value)| (name.to_string(), format!("{value:?}")))
        .collect();
    fields.sort();
    fields
}
