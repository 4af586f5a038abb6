//! A load generator for `rampart serve`: sends a JSON-lines file to
//! `POST /api/v1/events` in batches, in a loop over the file, and prints a JSON summary
//! (events/s, batch answer latency percentiles, 429 answers) on stdout.
//!
//! ```text
//! cargo run --release -p rampart-serve --example loadgen -- \
//!     --url http://127.0.0.1:8700 --token TOKEN --file events.jsonl \
//!     --rate max|N --connections C --duration S --batch B [--events N] [--distinct]
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
//! `--distinct` makes every event sent new, however many times the file is sent: pass
//! `p` over the file (from 0) adds `p` × 10¹² to each line's `EventRecordID` and `p`
//! days to its `SystemTime`, so every alert id is new (the store grows as it would
//! under hours of real telemetry) and event time moves on, as a live stream's does,
//! without reaching the future (the service's watermark ignores times ahead of its
//! clock). Pass 0 is the file as it is. Lines are rewritten as text, each body when it
//! is sent, so a long run needs no larger file.
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
    distinct: bool,
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
    let mut distinct = false;
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
            "--distinct" => distinct = true,
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
        distinct,
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

/// The file's non-blank lines.
fn lines(file: &Path) -> Result<Vec<Vec<u8>>, String> {
    let text = std::fs::read(file).map_err(|error| format!("{}: {error}", file.display()))?;
    let lines: Vec<Vec<u8>> = text
        .split(|&byte| byte == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .map(<[u8]>::to_vec)
        .collect();
    if lines.is_empty() {
        return Err(format!("{}: no lines", file.display()));
    }
    Ok(lines)
}

/// What the connections send: body `k` holds lines `k × batch ..` of the file sent
/// over and over.
enum Bodies {
    /// The file cut once into bodies of `batch` lines (wrapping round at its end),
    /// sent as they are: every pass repeats the same events.
    Fixed(Vec<Vec<u8>>),
    /// Each body rendered when it is sent, every pass's events made new.
    Distinct(DistinctLines),
}

impl Bodies {
    fn new(lines: Vec<Vec<u8>>, batch: usize, distinct: bool) -> Bodies {
        if distinct {
            return Bodies::Distinct(DistinctLines::new(lines));
        }
        let count = lines.len().div_ceil(batch);
        Bodies::Fixed(
            (0..count)
                .map(|index| {
                    let mut body = Vec::new();
                    for line in lines.iter().cycle().skip(index * batch).take(batch) {
                        body.extend_from_slice(line);
                        body.push(b'\n');
                    }
                    body
                })
                .collect(),
        )
    }

    /// Body `k`: borrowed when fixed, else rendered into `scratch`.
    fn body<'a>(&'a self, k: u64, batch: usize, scratch: &'a mut Vec<u8>) -> &'a [u8] {
        match self {
            Bodies::Fixed(bodies) => &bodies[(k % bodies.len() as u64) as usize],
            Bodies::Distinct(lines) => {
                lines.render(k, batch, scratch);
                scratch
            }
        }
    }
}

/// How much pass `p` adds to a line's `EventRecordID`: more than any record id of a
/// pass (the bench's files raise theirs by 10⁷ per copy of the corpus).
const RECORD_STEP: u64 = 1_000_000_000_000;
/// The fixed-width head of a `SystemTime` value that is shifted; the fraction and zone
/// after it are kept as written.
const TIME_HEAD: &str = "%Y-%m-%dT%H:%M:%S";
const TIME_HEAD_LEN: usize = 19;

/// The file's lines, each with where its record id and event time are, so that a pass
/// over it can be rewritten without parsing JSON.
struct DistinctLines {
    lines: Vec<DistinctLine>,
}

struct DistinctLine {
    text: Vec<u8>,
    record: Option<(std::ops::Range<usize>, u64)>,
    time: Option<(std::ops::Range<usize>, chrono::NaiveDateTime)>,
}

impl DistinctLines {
    fn new(lines: Vec<Vec<u8>>) -> DistinctLines {
        let lines: Vec<DistinctLine> = lines.into_iter().map(DistinctLine::new).collect();
        let unchanged = lines
            .iter()
            .filter(|line| line.record.is_none() && line.time.is_none())
            .count();
        if unchanged > 0 {
            eprintln!(
                "loadgen: {unchanged} lines have neither an EventRecordID nor a SystemTime: \
                 they repeat on every pass"
            );
        }
        DistinctLines { lines }
    }

    /// Body `k` of `batch` lines into `out`, line `g` of the stream being line
    /// `g mod n` of the file in pass `g div n`.
    fn render(&self, k: u64, batch: usize, out: &mut Vec<u8>) {
        out.clear();
        let count = self.lines.len() as u64;
        let first = k * batch as u64;
        for index in first..first + batch as u64 {
            let line = &self.lines[(index % count) as usize];
            line.render(index / count, out);
            out.push(b'\n');
        }
    }
}

impl DistinctLine {
    fn new(text: Vec<u8>) -> DistinctLine {
        let record = find_value(&text, b"\"EventRecordID\":").and_then(|start| {
            let digits = text[start..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let value = std::str::from_utf8(&text[start..start + digits]).ok()?;
            Some((start..start + digits, value.parse().ok()?))
        });
        let time = find_value(&text, b"\"SystemTime\":").and_then(|start| {
            let start = start + usize::from(text.get(start) == Some(&b'"'));
            let head = text.get(start..start + TIME_HEAD_LEN)?;
            let parsed =
                chrono::NaiveDateTime::parse_from_str(std::str::from_utf8(head).ok()?, TIME_HEAD)
                    .ok()?;
            Some((start..start + TIME_HEAD_LEN, parsed))
        });
        DistinctLine { text, record, time }
    }

    fn render(&self, pass: u64, out: &mut Vec<u8>) {
        if pass == 0 {
            out.extend_from_slice(&self.text);
            return;
        }
        let mut spans: Vec<(std::ops::Range<usize>, String)> = Vec::with_capacity(2);
        if let Some((span, record)) = &self.record {
            spans.push((span.clone(), (record + pass * RECORD_STEP).to_string()));
        }
        if let Some((span, time)) = &self.time {
            let moved = i64::try_from(pass)
                .ok()
                .and_then(chrono::TimeDelta::try_days)
                .and_then(|by| time.checked_add_signed(by))
                .unwrap_or(*time);
            spans.push((span.clone(), moved.format(TIME_HEAD).to_string()));
        }
        spans.sort_by_key(|(span, _)| span.start);
        let mut at = 0;
        for (span, text) in spans {
            out.extend_from_slice(&self.text[at..span.start]);
            out.extend_from_slice(text.as_bytes());
            at = span.end;
        }
        out.extend_from_slice(&self.text[at..]);
    }
}

/// Where the value after `key` starts (spaces skipped).
fn find_value(text: &[u8], key: &[u8]) -> Option<usize> {
    let at = memchr::memmem::find(text, key)? + key.len();
    Some(at + text[at..].iter().take_while(|b| **b == b' ').count())
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
    let bodies = Arc::new(Bodies::new(
        lines(&options.file)?,
        options.batch,
        options.distinct,
    ));
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
                let mut scratch = Vec::new();
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
                    let body = bodies.body(k, batch as usize, &mut scratch);
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
        "distinct": options.distinct,
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
