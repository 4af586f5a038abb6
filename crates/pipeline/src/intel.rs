//! Loading threat-intelligence indicators for a hunt or the service: read from feed
//! files one indicator at a time into one matcher, which [`crate::CompiledRules`]
//! then runs on every event right after the rules.

use crate::Error;
use chrono::{DateTime, Utc};
use rampart_intel::matcher::{LoadStats, Matcher, MatcherBuilder};
use rampart_intel::{Feed, Indicator, Observable};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The indicators loaded and what happened on the way.
#[derive(Debug)]
pub struct IntelLoad {
    /// The matcher (empty when no indicator was usable).
    pub matcher: Arc<Matcher>,
    /// Indicators read.
    pub read: u64,
    /// Records that could not be read, one line each with file and line.
    pub problems: Vec<String>,
    /// Time to read them and build the matcher.
    pub elapsed: Duration,
}

impl IntelLoad {
    /// What the matcher kept and left out.
    pub fn stats(&self) -> LoadStats {
        self.matcher.stats()
    }
}

/// Reads the indicators of `files` into one matcher of those valid at `now`, `allow`
/// winning over them. Files are JSON lines of indicators (`.jsonl`, `.ndjson`, read one
/// line at a time) or a feed document (the intel model's JSON). A record that cannot
/// be read is a problem in the result and the rest goes on; a file that cannot be
/// opened or read is an error (its indicators would be missed silently).
pub fn load_indicator_files(
    files: &[PathBuf],
    allow: &[Observable],
    now: DateTime<Utc>,
) -> Result<IntelLoad, Error> {
    let started = Instant::now();
    let mut builder = MatcherBuilder::new(allow, now);
    let mut read = 0;
    let mut problems = Vec::new();
    for path in files {
        read += read_file(path, &mut problems, &mut |indicator| {
            builder.add(&indicator)
        })?;
    }
    Ok(IntelLoad {
        matcher: Arc::new(builder.build()),
        read,
        problems,
        elapsed: started.elapsed(),
    })
}

fn read_file(
    path: &Path,
    problems: &mut Vec<String>,
    add: &mut dyn FnMut(Indicator),
) -> Result<u64, Error> {
    let failed = |source: std::io::Error| Error::Intel {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(failed)?;
    let lines = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("jsonl" | "ndjson")
    );
    let mut reader = std::io::BufReader::new(file);
    if !lines {
        let feed: Feed = serde_json::from_reader(reader)
            .map_err(|e| failed(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        let count = feed.indicators.len() as u64;
        feed.indicators.into_iter().for_each(add);
        return Ok(count);
    }
    let mut read = 0;
    let mut line = String::new();
    let mut number = 0u64;
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(failed)? == 0 {
            break;
        }
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Indicator>(&line) {
            Ok(indicator) => {
                read += 1;
                add(indicator);
            }
            Err(error) => problems.push(format!(
                "{}:{number}: not an indicator: {error}",
                path.display()
            )),
        }
    }
    Ok(read)
}
