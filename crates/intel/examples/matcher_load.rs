//! Builds a matcher over generated indicators and reports the time it took and the
//! process's peak memory: the load figures in BENCHMARKS.md.
//!
//! `cargo run --release -p rampart-intel --example matcher_load -- [COUNT] [--write FILE]`
//!
//! With `--write FILE` the indicators are also written as JSON lines (the format
//! `rampart hunt --intel` reads), to measure a hunt with them.

use rampart_intel::matcher::MatcherBuilder;
use std::io::Write;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut count = 1_000_000usize;
    let mut write = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--write" => write = args.next(),
            number => count = number.parse()?,
        }
    }
    let now = chrono::Utc::now();
    if let Some(path) = write {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for indicator in rampart_intel::synthetic::indicators(count, 1, now) {
            serde_json::to_writer(&mut out, &indicator)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        println!("wrote {count} indicators to {path}");
        return Ok(());
    }
    // Generating alone, to tell its share of the build time below.
    let started = Instant::now();
    let generated = rampart_intel::synthetic::indicators(count, 1, now).count();
    let generation = started.elapsed();
    let before = rampart_testkit::peak_rss_kib();
    let started = Instant::now();
    let mut builder = MatcherBuilder::new(&[], now);
    for indicator in rampart_intel::synthetic::indicators(count, 1, now) {
        builder.add(&indicator);
    }
    let matcher = builder.build();
    let elapsed = started.elapsed();
    let stats = matcher.stats();
    println!(
        "indicators: {generated} generated, {} loaded; build (generation included): {:.3} s; \
         generation alone: {:.3} s",
        stats.loaded,
        elapsed.as_secs_f64(),
        generation.as_secs_f64()
    );
    println!(
        "matcher heap (estimate): {:.1} MiB; peak RSS: {:.1} MiB (before: {:.1} MiB)",
        matcher.heap_bytes() as f64 / 1048576.0,
        rampart_testkit::peak_rss_kib() as f64 / 1024.0,
        before as f64 / 1024.0
    );
    Ok(())
}
