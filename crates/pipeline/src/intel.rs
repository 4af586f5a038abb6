//! Loading threat-intelligence indicators for a hunt or the service: read from feed
//! files one indicator at a time into one matcher, which [`crate::CompiledRules`]
//! then runs on every event right after the rules.

use crate::Error;
use chrono::{DateTime, Utc};
use rampart_intel::matcher::{ContextId, IndicatorCore, LoadStats, Matcher, MatcherBuilder};
use rampart_intel::{Indicator, Observable};
use std::collections::{HashMap, HashSet};
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
/// line at a time), or any feed `rampart_intel::read_path` reads (STIX 2.1 bundles,
/// MISP events and feed folders, plain lists and CSV). A record that cannot be read
/// is a problem in the result (with the reader's diagnostics) and the rest goes on; a
/// file that cannot be opened or read is an error (its indicators would be missed
/// silently).
pub fn load_indicator_files(
    files: &[PathBuf],
    allow: &[Observable],
    now: DateTime<Utc>,
) -> Result<IntelLoad, Error> {
    load(files, None, allow.to_vec(), now)
}

/// Like [`load_indicator_files`], adding the active indicators of the store at `db`
/// (those meant for detection, valid at `now`), the store's allow-list winning over
/// the files' indicators and its own. A store that does not exist yet holds none and is
/// not created here.
pub fn load_indicators(
    files: &[PathBuf],
    db: Option<&Path>,
    now: DateTime<Utc>,
) -> Result<IntelLoad, Error> {
    let store = match db {
        Some(db) if db.exists() => Some(rampart_store::SqliteStore::open(db)?),
        _ => None,
    };
    let allow = match &store {
        Some(store) => store.allow_list()?,
        None => Vec::new(),
    };
    load(files, store.as_ref(), allow, now)
}

/// Reads the store's active indicators, then the files', into one matcher.
fn load(
    files: &[PathBuf],
    store: Option<&rampart_store::SqliteStore>,
    allow: Vec<Observable>,
    now: DateTime<Utc>,
) -> Result<IntelLoad, Error> {
    let started = Instant::now();
    let mut builder = MatcherBuilder::new(&allow, now);
    let mut read = 0;
    let mut problems = Vec::new();
    if let Some(store) = store {
        read += add_stored(store, &mut builder)?;
    }
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

/// Indicators handed from the reading thread to the building one at a time.
const BATCH: usize = 4096;

/// One active indicator, owned, on its way to the builder.
struct Owned {
    id: String,
    name: Option<String>,
    confidence: Option<u8>,
    all_of: Vec<Observable>,
    context: i64,
}

/// A batch: the shared parts first seen in it, then its indicators.
#[derive(Default)]
struct Batch {
    contexts: Vec<(i64, rampart_store::StoredContext)>,
    indicators: Vec<Owned>,
}

/// The store's active indicators into `builder`, each shared part decoded once (a
/// million indicators share a few hundred of them). Reading the store (SQLite, JSON)
/// and building the matcher (normalising, hashing) take about as long as each other,
/// so they overlap: this thread reads, a second one builds.
fn add_stored(
    store: &rampart_store::SqliteStore,
    builder: &mut MatcherBuilder,
) -> Result<u64, Error> {
    let now = builder.now();
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(4);
    std::thread::scope(|scope| {
        let building = scope.spawn(move || {
            let mut contexts: HashMap<i64, Option<ContextId>> = HashMap::new();
            for batch in receiver {
                for (seq, stored) in batch.contexts {
                    let id = builder.add_context(&stored.source, &stored.labels, &stored.context);
                    contexts.insert(seq, id);
                }
                for owned in batch.indicators {
                    let core = IndicatorCore {
                        id: &owned.id,
                        name: owned.name.as_deref(),
                        confidence: owned.confidence,
                        // The store hands over only indicators meant for detection
                        // and valid now.
                        detect: true,
                        valid_from: None,
                        valid_until: None,
                        all_of: &owned.all_of,
                    };
                    match contexts.get(&owned.context).copied().flatten() {
                        Some(context) => builder.add_core(&core, context),
                        None => builder.count_over_limit(),
                    }
                }
            }
        });
        let mut seen: HashSet<i64> = HashSet::new();
        let mut batch = Batch::default();
        let read = store.for_each_active_match(now, |active| {
            if seen.insert(active.context) {
                batch
                    .contexts
                    .push((active.context, store.intel_context(active.context)?));
            }
            batch.indicators.push(Owned {
                id: active.id.to_owned(),
                name: active.name.map(str::to_owned),
                confidence: active.confidence,
                all_of: active.all_of.to_vec(),
                context: active.context,
            });
            if batch.indicators.len() == BATCH {
                // The builder stopping early only happens when it panicked, which
                // the join below reports.
                let _ = sender.send(std::mem::take(&mut batch));
            }
            Ok(())
        });
        let _ = sender.send(batch);
        drop(sender);
        if let Err(panic) = building.join() {
            std::panic::resume_unwind(panic);
        }
        Ok(read?)
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
    let lines = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("jsonl" | "ndjson")
    );
    if !lines {
        let feed = rampart_intel::read_path(path).map_err(|source| Error::IntelFeed {
            path: path.to_path_buf(),
            source,
        })?;
        for diagnostic in &feed.diagnostics {
            problems.push(format!("{}: {}", diagnostic.location, diagnostic.message));
        }
        let count = feed.indicators.len() as u64;
        feed.indicators.into_iter().for_each(add);
        return Ok(count);
    }
    let file = std::fs::File::open(path).map_err(failed)?;
    let mut reader = std::io::BufReader::new(file);
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
