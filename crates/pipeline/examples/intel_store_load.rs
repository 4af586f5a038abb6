//! The start-up cost of a store's indicators: how long `hunt --store` and the service
//! take, and how much memory, to turn a store's active indicators into a ready matcher.
//!
//! `cargo run --release -p rampart-pipeline --example intel_store_load -- import DB [COUNT]`
//! imports COUNT (default 1,000,000) generated indicators into the store DB;
//! `… -- load DB` (a fresh process, so its peak memory is the load's alone) streams the
//! store's active indicators into a matcher and prints the time, the indicators kept and
//! the process's peak resident memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The allocator of the `rampart` binary, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use rampart_intel::Feed;
use rampart_store::{ImportMode, SqliteStore};
use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let now = chrono::Utc::now();
    match args.as_slice() {
        [verb, db, rest @ ..] if verb == "import" => {
            let count: usize = rest.first().map_or(Ok(1_000_000), |n| n.parse())?;
            let feed = Feed {
                source: "synthetic".into(),
                indicators: rampart_intel::synthetic::indicators(count, 1, now).collect(),
                ..Feed::default()
            };
            let mut store = SqliteStore::open(Path::new(db))?;
            let started = Instant::now();
            let outcome = store.import_feed(&feed, ImportMode::Replace)?;
            println!(
                "import: {} added in {:.2} s",
                outcome.added,
                started.elapsed().as_secs_f64()
            );
        }
        [verb, db] if verb == "load" => {
            let started = Instant::now();
            let load = rampart_pipeline::load_indicators(&[], Some(Path::new(db)), now)?;
            let elapsed = started.elapsed();
            println!(
                "load: {} read, {} in the matcher, {:.2} s, peak RSS {} MiB",
                load.read,
                load.matcher.len(),
                elapsed.as_secs_f64(),
                rampart_testkit::peak_rss_kib() / 1024
            );
        }
        _ => return Err("usage: intel_store_load import DB [COUNT] | load DB".into()),
    }
    Ok(())
}
