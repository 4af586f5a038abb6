//! Loads a generated but realistic mix of indicators into a fresh store and times it:
//! `import_feed` of all of them (one transaction), the same feed again (every indicator
//! unchanged), and `active_indicators`. Prints the figures BENCHMARKS.md records.
//!
//! `cargo run --release -p rampart-store --example intel_load -- [COUNT] [DIR]`
//! (default 1,000,000 indicators, a temporary directory).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeDelta, Utc};
use rampart_intel::{Feed, Indicator, IntelContext, Observable, ObservableKind};
use rampart_store::{ImportMode, SqliteStore};
use std::time::Instant;

/// A small deterministic generator (xorshift), so runs compare.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut text = String::with_capacity(digits);
        while text.len() < digits {
            text.push_str(&format!("{:016x}", self.next()));
        }
        text.truncate(digits);
        text
    }
}

/// The mix of a large commercial feed: mostly file hashes, then domains, addresses and
/// URLs; one in ten with actor or malware context, one in a hundred an AND of two.
fn generate(count: usize) -> Feed {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let now = Utc::now();
    let indicators = (0..count)
        .map(|n| {
            let roll = rng.next() % 100;
            let (kind, value) = match roll {
                0..=39 => (ObservableKind::Sha256, rng.hex(64)),
                40..=51 => (ObservableKind::Md5, rng.hex(32)),
                52..=59 => (ObservableKind::Sha1, rng.hex(40)),
                60..=74 => (ObservableKind::Domain, format!("{}.example", rng.hex(10))),
                75..=84 => {
                    let v = rng.next();
                    let ip = format!(
                        "{}.{}.{}.{}",
                        v >> 24 & 255,
                        v >> 16 & 255,
                        v >> 8 & 255,
                        v & 255
                    );
                    (ObservableKind::Ip, ip)
                }
                85..=96 => (
                    ObservableKind::Url,
                    format!("http://{}.example/{}/payload.bin", rng.hex(8), rng.hex(12)),
                ),
                _ => (
                    ObservableKind::Email,
                    format!("{}@{}.example", rng.hex(6), rng.hex(6)),
                ),
            };
            let mut all_of = vec![Observable { kind, value }];
            if n % 100 == 0 {
                all_of.push(Observable {
                    kind: ObservableKind::FileName,
                    value: format!("{}.dll", rng.hex(8)),
                });
            }
            let context = if n % 10 == 0 {
                IntelContext {
                    actors: vec!["APT 29".into()],
                    malware: vec!["PolyglotDuke".into()],
                    attack_ids: vec!["T1086".into()],
                    reports: vec!["Operation Ghost".into()],
                }
            } else {
                IntelContext::default()
            };
            Indicator {
                id: format!("indicator--{n:012}"),
                source: "bench:mix".into(),
                all_of,
                name: None,
                description: None,
                confidence: Some((rng.next() % 101) as u8),
                labels: vec!["malicious-activity".into()],
                valid_from: Some(now - TimeDelta::days(30)),
                valid_until: (n % 5 == 0).then(|| now + TimeDelta::days(60)),
                first_seen: None,
                last_seen: None,
                detect: n % 20 != 0,
                context,
            }
        })
        .collect();
    Feed {
        source: "bench:mix".into(),
        indicators,
        ..Feed::default()
    }
}

/// Peak resident memory of this process, from the kernel.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map_or(1_000_000, |c| c.parse().unwrap());
    let temp = tempfile::tempdir().unwrap();
    let dir = args
        .next()
        .map_or_else(|| temp.path().to_path_buf(), Into::into);
    let path = dir.join("intel-bench.db");
    let _ = std::fs::remove_file(&path);
    let started = Instant::now();
    let feed = generate(count);
    println!(
        "generated {count} indicators in {:.2?} (peak RSS {:.0} MiB)",
        started.elapsed(),
        peak_rss_mib()
    );
    let mut store = SqliteStore::open(&path).unwrap();

    let started = Instant::now();
    let outcome = store.import_feed(&feed, ImportMode::Replace).unwrap();
    println!(
        "import_feed (fresh): {:.2?} — {} added (peak RSS {:.0} MiB)",
        started.elapsed(),
        outcome.added,
        peak_rss_mib()
    );
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("store file: {:.0} MiB", size as f64 / (1024.0 * 1024.0));

    let started = Instant::now();
    let outcome = store.import_feed(&feed, ImportMode::Replace).unwrap();
    println!(
        "import_feed (again, all unchanged): {:.2?} — {} unchanged (peak RSS {:.0} MiB)",
        started.elapsed(),
        outcome.unchanged,
        peak_rss_mib()
    );
    drop(feed);

    let started = Instant::now();
    let active = store.active_indicators(Utc::now()).unwrap();
    println!(
        "active_indicators: {:.2?} — {} active (peak RSS {:.0} MiB)",
        started.elapsed(),
        active.len(),
        peak_rss_mib()
    );
}
