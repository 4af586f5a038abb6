//! `rampart hunt`: run Sigma rules over telemetry files and write one alert per
//! (rule, event).
//!
//! The pipeline itself (parallel reading, scanning with per-thread scratch, the reorder
//! buffer, correlation replay, the store sink) is `rampart_pipeline`'s; this module
//! turns flags into its inputs, and its results into output, progress and a summary.

mod enriched;
pub mod output;
pub mod rules;
mod summary;
mod table;

use crate::cmd::hunt_store;
use crate::cmd::placeholders::PlaceholderArgs;
use crate::global::GlobalOpts;
use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use output::Format;
use rampart_event::terminal::{escape, Escaped};
use rampart_event::{Alert, Level};
use rampart_ingest::{Diagnostic, FieldAliases, FindOptions, Found, ReadOptions};
use rampart_knowledge::Knowledge;
use rampart_pipeline::hunt::{HuntOptions, Observer};
use rampart_pipeline::{EventSource, FileSource, ScanOptions, StoreSink, StoreTee};
use rampart_store::{RunInfo, RunSummary};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use summary::{Summary, Tally};

/// Arguments of `rampart hunt`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when every input was read whole; 1 on an error \
    that stopped the hunt; 3 when the hunt finished but passed over some input (a \
    missing or unreadable path, a symbolic link not followed, a FIFO in a folder, a line \
    or record that could not be read): the warnings above the summary say which; 141 \
    when the reader of the output went away (`| head`) under --store, after every alert \
    was stored."
)]
pub struct HuntArgs {
    /// EVTX or JSON(-lines) files, folders (searched recursively), or `-` for stdin.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// Sigma rule files or folders. Default: the Sigma rule folders in the data directory
    /// and its `tuning` folder (suppressions written by `rampart sigma suppress`).
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// Output format. Default: `table` on a terminal, `jsonl` otherwise.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write alerts to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Only run rules of this level or above.
    #[arg(long, value_name = "LEVEL", default_value = "informational")]
    min_level: Level,
    /// Worker threads (0: one per core; at most 4 per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Extra field aliases for nested JSON input (YAML: `fields: {path: Name}`,
    /// `strip_prefixes: [prefix.]`), taking precedence over the built-in ones.
    #[arg(long, value_name = "FILE")]
    aliases: Option<PathBuf>,
    /// Extra logsource mappings (YAML, the format of the built-in map).
    #[arg(long, value_name = "FILE")]
    logsource: Option<PathBuf>,
    #[command(flatten)]
    placeholders: PlaceholderArgs,
    /// Also keep the alerts in this store (SQLite, created if missing), then regroup
    /// the store's alerts into incidents. Re-running over the same files adds no
    /// duplicates. The store's active threat-intelligence indicators (`rampart intel
    /// import`) are matched beside the rules, its allow-list winning.
    #[arg(long, value_name = "DB")]
    store: Option<PathBuf>,
    /// Keep every field of the event with each alert (stored and written), not only
    /// its context fields (user, process, parent, command line, logon id, hashes, …).
    /// Each value is capped at 4 KiB, an event at 512 fields.
    #[arg(long)]
    full_event: bool,
    /// No closing summary on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Follow symbolic links in input and rule folders (loops are detected and
    /// reported). Without it, links are reported and passed over.
    #[arg(long)]
    follow_links: bool,
    /// Also match the indicators of these threat-intelligence feeds (STIX 2.1 bundles,
    /// MISP events or feed folders, plain lists, CSV, or JSON lines of indicators) in
    /// the same pass as the rules: each hit is an IoC alert (`rule_id`
    /// `intel:<indicator id>`). Repeat for several feeds.
    #[arg(long = "intel", value_name = "FILE")]
    intel: Vec<PathBuf>,
    /// Skip (and report) JSON lines longer than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = rampart_ingest::DEFAULT_MAX_LINE_BYTES)]
    max_line_bytes: usize,
    /// After the alerts and incidents are stored, start the matching playbooks for
    /// them and run their steps until every run is done, failed or waits for an
    /// analyst (`rampart respond approve`). A playbook runs once per alert or incident:
    /// hunting the same files again starts nothing new.
    #[arg(long, requires_all = ["store", "playbooks"])]
    respond: bool,
    /// Playbook files and folders for --respond.
    #[arg(long, value_name = "DIR", requires = "respond")]
    playbooks: Vec<PathBuf>,
    /// The connectors' configuration for --respond (YAML: secrets file, HTTP CA, SMTP
    /// relay, command allow-list).
    #[arg(long, value_name = "FILE", requires = "respond")]
    respond_config: Option<PathBuf>,
}

/// More worker threads than this per core add start-up time and memory (each thread
/// keeps blocks of events in flight) and no speed: the hunt is CPU-bound.
const MAX_THREADS_PER_CORE: usize = 4;

/// Exit status of a hunt that ran to its end but passed over some input (an
/// unreadable or skipped file, a record that could not be read): not a clean run.
pub const EXIT_SKIPPED_INPUT: u8 = 3;

/// Runs `rampart hunt`.
pub fn run(args: HuntArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let pool = worker_pool(args.threads)?;
    pool.install(|| hunt(args, global))
}

/// The hunt's own thread pool of `requested` threads (0: rayon's default, one per
/// core), bounded by [`MAX_THREADS_PER_CORE`] with a warning. A pool of its own rather
/// than rayon's global one: the global pool can be configured once per process and
/// its failure to start surfaced only as a later panic; this one's error is returned.
fn worker_pool(requested: usize) -> anyhow::Result<rayon::ThreadPool> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let most = cores.saturating_mul(MAX_THREADS_PER_CORE);
    let threads = if requested > most {
        eprintln!(
            "warning: --threads {requested} is more than {MAX_THREADS_PER_CORE} per core; \
             using {most}"
        );
        most
    } else {
        requested
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|index| format!("rampart-hunt-{index}"))
        .build()
        .with_context(|| format!("cannot start {threads} worker threads"))
}

fn hunt(args: HuntArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let rule_paths = rules::rule_paths_with_tuning(args.rules.clone(), global)?;
    let mut load_options = args.placeholders.load_options()?;
    load_options.follow_links = args.follow_links;
    let mut rules = rules::load_engine(
        &rule_paths,
        &load_options,
        args.min_level,
        args.logsource.as_deref(),
    )?;
    // Indicators come from `--intel` files and from the store's active ones; a hunt
    // with neither runs the rules alone.
    let intel = if args.intel.is_empty() && args.store.is_none() {
        None
    } else {
        let load = rampart_pipeline::load_indicators(
            &args.intel,
            args.store.as_deref(),
            chrono::Utc::now(),
        )?;
        (load.read > 0 || !args.intel.is_empty()).then_some(load)
    };
    if let Some(load) = &intel {
        for problem in &load.problems {
            eprintln!("warning: {}", escape(problem));
        }
        let matcher = Arc::clone(&load.matcher);
        match Arc::get_mut(&mut rules.compiled) {
            Some(compiled) => compiled.set_intel(Some(matcher)),
            None => anyhow::bail!("internal error: the compiled rules are already shared"),
        }
    }
    let compiled = Arc::clone(&rules.compiled);
    if compiled.engine.rule_count() == 0 {
        anyhow::bail!("{}", no_rules_message(&rules));
    }
    let aliases = match &args.aliases {
        Some(path) => FieldAliases::with_user_file(path)?,
        None => FieldAliases::builtin(),
    };
    let options = ReadOptions {
        aliases: Arc::new(aliases),
        max_line_bytes: args.max_line_bytes,
        ..ReadOptions::default()
    };
    let find = FindOptions {
        follow_links: args.follow_links,
    };
    let Found {
        inputs,
        skipped: inputs_skipped,
    } = rampart_ingest::inputs(&args.paths, find);
    for skipped in &inputs_skipped {
        eprintln!("warning: input skipped: {}", escape(&skipped.to_string()));
    }

    let stdout_is_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let format = args.format.unwrap_or(if stdout_is_terminal {
        Format::Table
    } else {
        Format::Jsonl
    });
    let out: Box<dyn Write + Send> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    // The graph lives as long as the process: the enriched sinks borrow it from
    // threads that the output buffer hands them to. A table of IoC alerts names the
    // ATT&CK groups their intelligence joins to.
    let table_joins =
        format == Format::Table && intel.as_ref().is_some_and(|l| !l.matcher.is_empty());
    let knowledge: Option<&'static Knowledge> =
        if format.needs_knowledge() || args.store.is_some() || table_joins {
            hunt_store::load_knowledge(global).map(|k| &*Box::leak(Box::new(k)))
        } else {
            None
        };
    // Rule tags from another ATT&CK release skew every tactic and kill chain: the
    // summary says so once. Checked on its own thread while the inputs are scanned:
    // loading the graph, when the output does not need it anyway, takes most of a second.
    let version_skew = (!args.quiet).then(|| {
        let rule_tags: Vec<rampart_coverage::RuleInfo> = compiled
            .set
            .rules
            .iter()
            .map(rampart_coverage::rule_info)
            .collect();
        let global = GlobalOpts {
            data_dir: Some(global.data_dir()),
            ..global.clone()
        };
        std::thread::spawn(move || version_skew_line(knowledge, &global, &rule_tags))
    });
    let mut sink = output::sink(format, out, knowledge)?;
    let output_error: Arc<Mutex<Option<std::io::Error>>> = Arc::new(Mutex::new(None));
    let store = match &args.store {
        Some(db) => {
            let info = RunInfo {
                command: "hunt".into(),
                inputs: args.paths.iter().map(|p| p.display().to_string()).collect(),
                rule_sources: rule_paths.iter().map(|p| p.display().to_string()).collect(),
            };
            let mut store_sink = StoreSink::open(db, info)?;
            store_sink.record_rules(&hunt_store::rule_infos(&compiled.set))?;
            let shared = Arc::new(Mutex::new(store_sink));
            sink = Box::new(StoreTee::new(sink, shared.clone(), output_error.clone()));
            Some(shared)
        }
        None => None,
    };
    if compiled.has_correlations() {
        for warning in &compiled.correlation_warnings {
            eprintln!(
                "warning: correlation {}: {}",
                Escaped(&warning.correlation),
                Escaped(&warning.message)
            );
        }
    }
    let options = Arc::new(options);
    let sources: Vec<FileSource> = inputs
        .into_iter()
        .map(|input| FileSource {
            input,
            options: Arc::clone(&options),
        })
        .collect();

    let progress = progress_bar(&sources);
    let watch = Watch {
        tally: Mutex::new(Tally::default()),
        progress: progress.as_ref(),
    };
    let started = Instant::now();
    let hunt_options = HuntOptions {
        scan: ScanOptions {
            full_event: args.full_event,
            ..ScanOptions::default()
        },
    };
    let report =
        rampart_pipeline::hunt::run(&compiled, &sources, sink.as_mut(), hunt_options, &watch)
            .context("writing alerts")?;
    drop(sink);
    let tally = watch
        .tally
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let alerts = report.alerts;
    let scan_time = started.elapsed();
    let events_read = report.events;
    if let Some(progress) = &progress {
        progress.finish_and_clear();
    }

    let unreadable = report.unreadable + inputs_skipped.len();
    let records_skipped = report.records_skipped;
    if !args.quiet {
        Summary {
            files: sources.len(),
            unreadable,
            records_skipped,
            events: events_read,
            bytes: report.bytes,
            input_problems: report.problems,
            rules: compiled.engine.rule_count(),
            rules_failed: rules.failed,
            rules_rejected: rules.rejected.len(),
            rules_below_level: rules.below_level,
            rules_time: rules.elapsed,
            intel: intel.as_ref().map(summary::IntelSummary::of),
            scan_time,
            alerts,
            tally,
            version_skew: version_skew.and_then(|check| {
                check.join().unwrap_or_else(|_| {
                    Some("rule tags not checked against ATT&CK: the check failed".into())
                })
            }),
            suppressed: rules
                .compiled
                .engine
                .suppressed()
                .into_iter()
                .filter(|s| s.count > 0)
                .collect(),
        }
        .print();
    }
    if let Some(store) = store {
        let store_sink = match Arc::try_unwrap(store) {
            Ok(mutex) => mutex
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            Err(_) => anyhow::bail!("internal error: the store is still shared after the hunt"),
        };
        let summary = RunSummary {
            files: sources.len() as u64,
            events: events_read,
            rules_loaded: compiled.engine.rule_count() as u64,
            alerts,
        };
        let report = store_sink.finish(summary, knowledge)?;
        if !args.quiet {
            eprintln!("{report}");
        }
        if args.respond {
            respond(&args, &report, knowledge)?;
        }
    }
    // The store tee keeps going when the output fails; the failure is reported now
    // that every alert is stored and the run is finished.
    let output_error = output_error
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    match output_error {
        // The reader of stdout went away (`| head`): the status a shell reports for a
        // filter ended by SIGPIPE, without a message.
        Some(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(ExitCode::from(EXIT_BROKEN_PIPE))
        }
        Some(error) => Err(anyhow::Error::new(error).context("writing alerts")),
        None => Ok(if unreadable > 0 || records_skipped > 0 {
            ExitCode::from(EXIT_SKIPPED_INPUT)
        } else {
            ExitCode::SUCCESS
        }),
    }
}

/// 128 + SIGPIPE (13): how a shell reports a filter whose output pipe closed.
const EXIT_BROKEN_PIPE: u8 = 141;

/// Whether a hunt with these arguments must outlive a closed stdout: with `--store`,
/// the alerts go on into the store, so SIGPIPE must not end the process.
pub fn survives_closed_stdout(args: &HuntArgs) -> bool {
    args.store.is_some()
}

/// The version-skew warning for the rules' tags against ATT&CK Enterprise (the domain
/// Sigma rules are written for), using the graph already loaded or loading it.
fn version_skew_line(
    knowledge: Option<&Knowledge>,
    global: &GlobalOpts,
    rules: &[rampart_coverage::RuleInfo],
) -> Option<String> {
    let loaded;
    let knowledge = match knowledge {
        Some(knowledge) => knowledge,
        None => match crate::cmd::attack::load_knowledge(global) {
            Ok(knowledge) => {
                loaded = knowledge;
                &loaded
            }
            Err(error) => {
                return Some(format!(
                    "rule tags not checked against ATT&CK: {}",
                    rampart_event::error_chain(error.as_ref())
                ))
            }
        },
    };
    let graph = knowledge.matrix(rampart_knowledge::Domain::Enterprise)?;
    let matrix = rampart_coverage::matrix_from_knowledge(graph, |_| Vec::new());
    rampart_coverage::version_skew(&matrix, rules).summary()
}

/// Why a hunt has no rules to run, with the first load failures (the usual cause: a
/// placeholder without values, a rule file with a typo).
fn no_rules_message(rules: &rules::LoadedRules) -> String {
    const SHOWN: usize = 5;
    let mut message =
        String::from("no rules to run: none of the rules under the given paths loaded");
    if rules.below_level > 0 {
        message.push_str(&format!(" ({} below --min-level)", rules.below_level));
    }
    // One line per problem, whatever the rule files' names and text hold.
    for failure in rules.failures.iter().take(SHOWN) {
        message.push_str("\n  ");
        message.push_str(&escape(failure));
    }
    for (rule, why) in rules.rejected.iter().take(SHOWN) {
        message.push_str(&format!(
            "\n  rule {} rejected: {}",
            Escaped(rule),
            Escaped(why)
        ));
    }
    let more =
        rules.failures.len().saturating_sub(SHOWN) + rules.rejected.len().saturating_sub(SHOWN);
    if more > 0 {
        message.push_str(&format!(
            "\n  … and {more} more (run `rampart sigma check`)"
        ));
    }
    message
}

/// A byte-counting bar, only when a person watches stderr.
fn progress_bar(sources: &[FileSource]) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let total: u64 = sources.iter().filter_map(EventSource::size).sum();
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// What the hunt shows while it runs: the per-rule tally, progress and warnings.
struct Watch<'a> {
    tally: Mutex<Tally>,
    progress: Option<&'a ProgressBar>,
}

impl Watch<'_> {
    /// Writes a warning on stderr, on one line whatever the input made it hold.
    fn warn(&self, line: &str) {
        let line = escape(line);
        match self.progress {
            Some(progress) => progress.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

impl Observer for Watch<'_> {
    fn alerts(&self, alerts: &[Alert]) {
        let mut tally = Tally::default();
        alerts.iter().for_each(|alert| tally.add(alert));
        self.tally
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .merge(tally);
    }

    fn diagnostic(&self, diagnostic: Diagnostic) {
        self.warn(&format!("warning: {diagnostic}"));
    }

    fn source_failed(&self, _source: &str, error: &(dyn std::error::Error + 'static)) {
        self.warn(&format!(
            "warning: input skipped: {}",
            rampart_event::error_chain(error)
        ));
    }

    fn source_done(&self, source: &dyn EventSource) {
        if let Some(progress) = self.progress {
            progress.inc(source.size().unwrap_or(0));
        }
    }
}

/// `--respond`: starts the matching playbooks for what the hunt stored and runs them
/// until each is done, failed or waits for an analyst; a summary on stderr.
fn respond(
    args: &HuntArgs,
    report: &rampart_pipeline::StoreReport,
    knowledge: Option<&Knowledge>,
) -> anyhow::Result<()> {
    use rampart_event::terminal;
    use rampart_respond::auto;
    let set = rampart_respond::playbook::load_paths(&args.playbooks);
    for diagnostic in &set.diagnostics {
        eprintln!("{}", terminal::escape(&diagnostic.to_string()));
    }
    let playbooks = set
        .playbooks
        .into_iter()
        .map(|loaded| Arc::new(loaded.playbook))
        .collect();
    let connectors = auto::connectors_from_file(args.respond_config.as_deref())
        .context("cannot set up the response connectors")?;
    let actions: Arc<dyn rampart_respond::engine::Actions> = Arc::new(connectors);
    let starter = auto::AutoStarter::new(
        playbooks,
        Arc::new(auto::pyramid_classifier(knowledge)),
        actions.clone(),
        "rampart hunt",
    );
    let mut store = rampart_store::SqliteStore::open(&report.path)?;
    let started = auto::start_for_hunt(&starter, &mut store, report.run)?;
    drop(store);
    for error in &started.errors {
        eprintln!("response not started: {}", terminal::escape(error));
    }
    let runs: Vec<_> = started.started.iter().map(|s| s.run).collect();
    let (stats, states) = auto::run_until_settled(
        &report.path,
        actions,
        rampart_respond::engine::RunnerConfig {
            poll: std::time::Duration::from_millis(50),
            ..Default::default()
        },
        &runs,
    )?;
    if !args.quiet {
        eprintln!(
            "respond: {} run(s) started ({} already run, {} with conditions not met); {} request(s) sent, {} step(s) done, {} failed",
            runs.len(),
            started.already_running,
            started.conditions_failed,
            stats.sent,
            stats.done,
            stats.failed
        );
        for run in &states {
            eprintln!(
                "  run {} {} for {} {}: {}",
                run.id,
                terminal::escape(&run.playbook_id),
                run.subject_kind,
                terminal::escape(&run.subject_id),
                run.state
            );
        }
    }
    Ok(())
}
