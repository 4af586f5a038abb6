//! Where scanning time goes: the EVTX-ATTACK-SAMPLES corpus scanned with SigmaHQ
//! `rules/`, timed per route (channel and event id), with how many rules each route
//! holds and how many the prefilter lets through. A tool for profiling the engine, not
//! a benchmark of record (see `benches/scan.rs` and `bench/hunt.sh` for those).
//!
//! `cargo run --release -p rampart-detect --example scan_by_route`
//! `PASSES=3 valgrind --tool=callgrind target/release/examples/scan_by_route` scans the
//! corpus that many times and prints only the alert count, for instruction counts: the
//! difference between two pass counts is the steady-state cost of that many passes.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use rampart_detect::{Engine, LogsourceMap};
use rampart_event::Event;
use rampart_testkit::data_path;
use std::collections::HashMap;
use std::time::Instant;

/// Per route: events, seconds, rules evaluated, rules routed, alerts.
#[derive(Default)]
struct RouteCost {
    events: usize,
    seconds: f64,
    evaluated: usize,
    routed: usize,
    alerts: usize,
}

fn scan_all(engine: &Engine, events: &[Event], scratch: &mut rampart_detect::Scratch) -> usize {
    let mut alerts = 0usize;
    for event in events {
        engine.scan(event, scratch, &mut |_| alerts += 1);
    }
    alerts
}

fn main() {
    let (set, _) = rampart_sigma::load_rules(&[data_path("sigma/rules")]);
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    engine.prepare_all();
    let events: Vec<_> = common::evtx_files(&data_path("evtx-attack-samples"))
        .iter()
        .flat_map(|f| common::read_evtx(f))
        .collect();
    let mut scratch = engine.scratch();
    if let Some(passes) = std::env::var("PASSES").ok().and_then(|p| p.parse().ok()) {
        let alerts: usize = (0..passes)
            .map(|_| scan_all(&engine, &events, &mut scratch))
            .sum();
        println!("{alerts} alerts");
        return;
    }

    // Whole passes, the best of several: the corpus's events in turn, as a hunt sees
    // them (each route's automata colder than when one event is repeated).
    let best = (0..15)
        .map(|_| {
            let start = Instant::now();
            scan_all(&engine, &events, &mut scratch);
            start.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min);
    println!(
        "best of 15 passes: {:.2} ms ({:.3} us/event, {} events)",
        best * 1e3,
        best * 1e6 / events.len() as f64,
        events.len()
    );

    const REPEATS: u32 = 20;
    let mut by_route: HashMap<(String, u32), RouteCost> = HashMap::new();
    let mut total = 0.0;
    for event in &events {
        let channel = event.meta.channel.as_deref().unwrap_or("-").to_string();
        let key = (channel, event.meta.event_id.unwrap_or(0));
        let start = Instant::now();
        let mut alerts = 0usize;
        for _ in 0..REPEATS {
            engine.scan(event, &mut scratch, &mut |_| alerts += 1);
        }
        let seconds = start.elapsed().as_secs_f64() / f64::from(REPEATS);
        total += seconds;
        let (evaluated, skipped) = engine.candidate_stats(event, &mut scratch);
        let cost = by_route.entry(key).or_default();
        cost.events += 1;
        cost.seconds += seconds;
        cost.evaluated += evaluated;
        cost.routed += evaluated + skipped;
        cost.alerts += alerts / REPEATS as usize;
    }
    let mut rows: Vec<_> = by_route.into_iter().collect();
    rows.sort_by(|a, b| b.1.seconds.total_cmp(&a.1.seconds));
    println!("share  events  us/event  evaluated/event  routed/event  alerts  route");
    for ((channel, id), cost) in rows.iter().take(25) {
        let per = |n: usize| n as f64 / cost.events as f64;
        println!(
            "{:5.1}% {:6} {:9.2} {:16.1} {:13.1} {:7}  {channel} {id}",
            100.0 * cost.seconds / total,
            cost.events,
            cost.seconds * 1e6 / cost.events as f64,
            per(cost.evaluated),
            per(cost.routed),
            cost.alerts,
        );
    }
}
