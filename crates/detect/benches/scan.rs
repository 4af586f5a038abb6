//! Loading + compiling all SigmaHQ `rules/`, and scanning the EVTX-ATTACK-SAMPLES
//! corpus (parsed beforehand, so only matching is measured) with them.
//!
//! `cargo bench -p rampart-detect --bench scan`

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rampart_detect::{Engine, LogsourceMap};
use rampart_testkit::data_path;
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let rules = vec![data_path("sigma/rules")];
    let map = LogsourceMap::builtin();
    let mut group = c.benchmark_group("detect");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("load_rules", |b| {
        b.iter(|| rampart_sigma::load_rules(&rules))
    });
    let (set, _) = rampart_sigma::load_rules(&rules);
    group.bench_function("compile", |b| b.iter(|| Engine::compile(&set, &map)));
    group.bench_function("compile_and_prepare_all", |b| {
        b.iter(|| {
            let (engine, _) = Engine::compile(&set, &map);
            engine.prepare_all();
            engine
        })
    });
    let (engine, _) = Engine::compile(&set, &map);

    let events: Vec<_> = common::evtx_files(&data_path("evtx-attack-samples"))
        .iter()
        .flat_map(|f| common::read_evtx(f))
        .collect();
    group.throughput(Throughput::Elements(events.len() as u64));
    let mut scratch = engine.scratch();
    // The first pass also builds the automata of the routes the corpus uses.
    for pass in ["first", "second"] {
        let start = std::time::Instant::now();
        let mut alerts = 0usize;
        for event in &events {
            engine.scan(event, &mut scratch, &mut |_| alerts += 1);
        }
        eprintln!(
            "{pass} pass: {:?}, {} events, {alerts} alerts",
            start.elapsed(),
            events.len()
        );
    }
    group.bench_function("scan_evtx_attack_samples", |b| {
        b.iter(|| {
            let mut alerts = 0usize;
            for event in &events {
                engine.scan(event, &mut scratch, &mut |_| alerts += 1);
            }
            alerts
        })
    });
    group.finish();
}

criterion_group!(scan, benches);
criterion_main!(scan);
