//! A load generator for `rampart serve`: sends a JSON-lines file to
//! `POST /api/v1/events` in batches, in a loop over the file, and prints a JSON summary
//! (events/s, batch answer latency percentiles, 429 answers) on stdout.
//!
//! ```text
//! cargo run --release -p rampart-serve --example loadgen -- \
//!     --url http://127.0.0.1:8700 --token TOKEN --file events.jsonl \
//!     --rate max|N --connections C --duration S --batch B [--events N]
//! cargo run --release -p rampart-serve --example loadgen -- \
//!     --evtx-to-jsonl EVTX_DIR OUT.jsonl
//! ```
//!
//! `--store DB` instead of `--token` creates an ingest-only token in that store;
//! `--new-token DB` only creates one and prints it.
//! `--rate max` runs closed-loop: each connection sends its next batch when the answer
//! to the last one came. `--rate N` (events per second) runs open-loop: batch k is due
//! at start + k × batch ÷ N, and its latency runs from that due time, not from the time
//! it was actually sent, so a slow server is not hidden by the sender waiting for it
//! (no coordinated omission). A 429 answer is counted and the batch is sent again after
//! a short pause; its latency runs on. The answer comes after the batch's alerts are
//! committed, so its latency bounds the time from an event's arrival to its alert
//! being queryable.
//!
//! `--evtx-to-jsonl` writes every record of the EVTX files under a folder (sorted by
//! path) as one JSON line, the way `evtx_dump -o jsonl` does.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Options {
    url: String,
    token: String,
    file: PathBuf,
    rate: Option<f64>,
    connections: usize,
    duration: Duration,
    batch: usize,
    events: Option<u64>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = if args.first().map(String::as_str) == Some("--new-token") {
        match args.get(1) {
            Some(db) => new_token(Path::new(db)).map(|token| println!("{token}")),
            None => Err("usage: loadgen --new-token DB".to_string()),
        }
    } else if args.first().map(String::as_str) == Some("--evtx-to-jsonl") {
        match (args.get(1), args.get(2)) {
            (Some(dir), Some(out)) => evtx_to_jsonl(Path::new(dir), Path::new(out)),
            _ => Err("usage: loadgen --evtx-to-jsonl EVTX_DIR OUT.jsonl".to_string()),
        }
    } else {
        parse(&args).and_then(|options| run(&options))
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("loadgen: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut url = None;
    let mut token = None;
    let mut store = None;
    let mut file = None;
    let mut rate = None;
    let mut connections = 2;
    let mut duration = Duration::from_secs(10);
    let mut batch = 1000;
    let mut events = None;
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut value = || {
            iter.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let number = |text: String| {
            text.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n > 0.0)
                .ok_or_else(|| format!("{flag}: `{text}` is not a positive number"))
        };
        match flag.as_str() {
            "--url" => url = Some(value()?.trim_end_matches('/').to_string()),
            "--token" => token = Some(value()?),
            "--store" => store = Some(PathBuf::from(value()?)),
            "--file" => file = Some(PathBuf::from(value()?)),
            "--rate" => {
                let text = value()?;
                rate = if text == "max" {
                    None
                } else {
                    Some(number(text)?)
                };
            }
            "--connections" => connections = number(value()?)? as usize,
            "--duration" => duration = Duration::from_secs_f64(number(value()?)?),
            "--batch" => batch = number(value()?)? as usize,
            "--events" => events = Some(number(value()?)? as u64),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let token = match (token, store) {
        (Some(token), _) => token,
        (None, Some(store)) => new_token(&store)?,
        (None, None) => return Err("give --token or --store".to_string()),
    };
    Ok(Options {
        url: url.ok_or("give --url")?,
        token,
        file: file.ok_or("give --file")?,
        rate,
        connections: connections.max(1),
        duration,
        batch: batch.max(1),
        events,
    })
}

/// A new ingest-only token in the store at `db`.
fn new_token(db: &Path) -> Result<String, String> {
    let mut store = rampart_store::open(db)
        .map_err(|error| format!("cannot open store {}: {error}", db.display()))?;
    Ok(store
        .create_token(rampart_store::Role::IngestOnly, "loadgen")
        .map_err(|error| format!("cannot create a token: {error}"))?
        .1)
}

/// The file's lines cut into bodies of exactly `batch` lines, wrapping around at the
/// end of the file.
fn bodies(file: &Path, batch: usize) -> Result<Vec<Vec<u8>>, String> {
    let text = std::fs::read(file).map_err(|error| format!("{}: {error}", file.display()))?;
    let lines: Vec<&[u8]> = text
        .split(|&byte| byte == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .collect();
    if lines.is_empty() {
        return Err(format!("{}: no lines", file.display()));
    }
    let count = lines.len().div_ceil(batch);
    Ok((0..count)
        .map(|index| {
            let mut body = Vec::new();
            for line in lines.iter().cycle().skip(index * batch).take(batch) {
                body.extend_from_slice(line);
                body.push(b'\n');
            }
            body
        })
        .collect())
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    events: u64,
    alerts: u64,
    batches: u64,
    too_many: u64,
    errors: u64,
    first_error: Option<String>,
}

fn run(options: &Options) -> Result<(), String> {
    let bodies = Arc::new(bodies(&options.file, options.batch)?);
    let url = format!("{}/api/v1/events", options.url);
    let auth = format!("Bearer {}", options.token);
    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let batch = options.batch as u64;
    let limit_batches = options.events.map(|events| events.div_ceil(batch));
    let interval = options.rate.map(|rate| batch as f64 / rate);
    let start = Instant::now();
    let deadline = start + options.duration;
    let workers: Vec<_> = (0..options.connections)
        .map(|_| {
            let (bodies, url, auth) = (Arc::clone(&bodies), url.clone(), auth.clone());
            let (next, stop, tally) = (Arc::clone(&next), Arc::clone(&stop), Arc::clone(&tally));
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(120))
                    .build();
                let mut mine = Tally::default();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if limit_batches.is_some_and(|limit| k >= limit) || stop.load(Ordering::Relaxed)
                    {
                        break;
                    }
                    let due = match interval {
                        Some(interval) => start + Duration::from_secs_f64(k as f64 * interval),
                        None => Instant::now(),
                    };
                    if due >= deadline || Instant::now() >= deadline {
                        break;
                    }
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let body = &bodies[(k % bodies.len() as u64) as usize];
                    loop {
                        let answer = agent
                            .post(&url)
                            .set("Authorization", &auth)
                            .set("Content-Type", "application/x-ndjson")
                            .send_bytes(body);
                        match answer {
                            Ok(response) => {
                                let text = response.into_string().unwrap_or_default();
                                let value: serde_json::Value =
                                    serde_json::from_str(&text).unwrap_or_default();
                                mine.events += value["accepted"].as_u64().unwrap_or(0);
                                mine.alerts += value["alerts"].as_u64().unwrap_or(0);
                                mine.batches += 1;
                                mine.latencies_us.push(due.elapsed().as_micros() as u64);
                                break;
                            }
                            Err(ureq::Error::Status(429, _)) => {
                                mine.too_many += 1;
                                std::thread::sleep(Duration::from_millis(20));
                            }
                            Err(error) => {
                                mine.errors += 1;
                                mine.first_error.get_or_insert_with(|| error.to_string());
                                if mine.errors > 100 {
                                    stop.store(true, Ordering::Relaxed);
                                }
                                break;
                            }
                        }
                    }
                }
                if let Ok(mut total) = tally.lock() {
                    total.latencies_us.append(&mut mine.latencies_us);
                    total.events += mine.events;
                    total.alerts += mine.alerts;
                    total.batches += mine.batches;
                    total.too_many += mine.too_many;
                    total.errors += mine.errors;
                    if total.first_error.is_none() {
                        total.first_error = mine.first_error;
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker
            .join()
            .map_err(|_| "a sender thread panicked".to_string())?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut tally = std::mem::take(&mut *tally.lock().map_err(|_| "poisoned tally")?);
    tally.latencies_us.sort_unstable();
    let percentile = |p: f64| -> f64 {
        let sorted = &tally.latencies_us;
        if sorted.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
    };
    let summary = serde_json::json!({
        "url": url,
        "file": options.file.display().to_string(),
        "rate": options.rate.map_or(serde_json::json!("max"), |rate| serde_json::json!(rate)),
        "connections": options.connections,
        "batch": options.batch,
        "seconds": elapsed,
        "batches": tally.batches,
        "events": tally.events,
        "events_per_second": tally.events as f64 / elapsed,
        "alerts": tally.alerts,
        "status_429": tally.too_many,
        "errors": tally.errors,
        "first_error": tally.first_error,
        "latency_ms": {
            "p50": percentile(50.0),
            "p90": percentile(90.0),
            "p99": percentile(99.0),
            "p999": percentile(99.9),
            "max": percentile(100.0),
        },
    });
    println!("{summary}");
    if tally.errors > 0 {
        return Err(format!("{} requests failed", tally.errors));
    }
    Ok(())
}

fn evtx_to_jsonl(dir: &Path, out: &Path) -> Result<(), String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries =
            std::fs::read_dir(&folder).map_err(|error| format!("{}: {error}", folder.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(kind) if kind.is_file() && path.extension().is_some_and(|e| e == "evtx") => {
                    files.push(path)
                }
                _ => {}
            }
        }
    }
    files.sort();
    let output =
        std::fs::File::create(out).map_err(|error| format!("{}: {error}", out.display()))?;
    let mut output = BufWriter::new(output);
    let mut records = 0u64;
    for file in &files {
        let Ok(mut parser) = evtx::EvtxParser::from_path(file) else {
            eprintln!("loadgen: {}: not readable as EVTX, skipped", file.display());
            continue;
        };
        for record in parser.records_json_value().flatten() {
            writeln!(output, "{}", record.data).map_err(|error| error.to_string())?;
            records += 1;
        }
    }
    output.flush().map_err(|error| error.to_string())?;
    eprintln!("loadgen: {records} records from {} files", files.len());
    Ok(())
}
