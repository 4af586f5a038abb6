//! `rampart intel retro` and `rampart intel sightings`: what the indicators find in
//! what was already seen, and the hits sent back to the community.
//!
//! Glue only: the retro-hunt is `pipeline::retro`, the documents
//! `intel::sightings`'s. Results go to stdout, summaries to stderr.

use crate::cmd::alerts::{parse_since, StoreArg};
use crate::cmd::hunt::EXIT_SKIPPED_INPUT;
use crate::global::GlobalOpts;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rampart_event::terminal::{escape, Escaped};
use rampart_ingest::{Diagnostic, FindOptions, Found, ReadOptions};
use rampart_intel::matcher::{Matcher, IOC_RULE_PREFIX};
use rampart_intel::sightings::{misp_sightings, stix_bundle, Hit, Sighter};
use rampart_pipeline::hunt::{HuntOptions, Observer};
use rampart_pipeline::{retro, EventSource, FileSource};
use rampart_store::{AlertQuery, IndicatorQuery, RunInfo, RunSummary, SqliteStore, Store};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `rampart intel retro`.
#[derive(Debug, Args)]
pub struct RetroArgs {
    /// Files or folders (walked as `hunt` walks them) whose events to hunt besides the
    /// stored alerts' (EVTX, JSON lines).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Follow symbolic links in folders (loops are reported).
    #[arg(long)]
    follow_links: bool,
    /// Run the indicators first imported at or after this time (RFC 3339, a date, or
    /// an age such as `7d`); default: those of the last import.
    #[arg(long, value_name = "T", value_parser = parse_since)]
    since: Option<DateTime<Utc>>,
    /// Store the hits as alerts (they group into incidents like any other).
    #[arg(long)]
    save: bool,
    /// One JSON alert per line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArg,
}

/// The sightings formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SightingsFormat {
    /// A STIX 2.1 bundle of `sighting` objects.
    Stix,
    /// MISP sightings (`/sightings/add` bodies).
    Misp,
}

/// Arguments of `rampart intel sightings`.
#[derive(Debug, Args)]
pub struct SightingsArgs {
    /// The document written.
    #[arg(long, value_enum)]
    format: SightingsFormat,
    /// Only hits of events at or after this time (RFC 3339, a date, or an age).
    #[arg(long, value_name = "T", value_parser = parse_since)]
    since: Option<DateTime<Utc>>,
    /// The sighting organisation's name.
    #[arg(long, value_name = "NAME", default_value = "Rampart")]
    identity: String,
    #[command(flatten)]
    store: StoreArg,
}

/// Runs `rampart intel retro`.
pub fn retro(args: RetroArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let path = args.store.path(global);
    let store = SqliteStore::open(&path)?;
    let since = match args.since {
        Some(since) => Some(since),
        None => store
            .intel_sources()?
            .iter()
            .filter_map(|source| source.last_import)
            .max(),
    };
    let Some(since) = since else {
        eprintln!("no indicators in {}: nothing to run", path.display());
        return Ok(ExitCode::SUCCESS);
    };
    let indicators: Vec<_> = store
        .search_indicators(&IndicatorQuery::default())?
        .into_iter()
        .filter(|stored| stored.first_imported >= since)
        .map(|stored| stored.indicator)
        .collect();
    let now = Utc::now();
    let matcher = Arc::new(Matcher::new(&indicators, &store.allow_list()?, now));
    let Found {
        inputs,
        skipped: inputs_skipped,
    } = rampart_ingest::inputs(
        &args.paths,
        FindOptions {
            follow_links: args.follow_links,
        },
    );
    for skipped in &inputs_skipped {
        eprintln!("warning: input skipped: {}", escape(&skipped.to_string()));
    }
    let options = Arc::new(ReadOptions::default());
    let files: Vec<FileSource> = inputs
        .into_iter()
        .map(|input| FileSource {
            input,
            options: Arc::clone(&options),
        })
        .collect();

    // Progress only for a person watching: stored alerts counted as their pages are
    // scanned, then the files' bytes.
    let progress = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {pos} stored alerts {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let mut stored = retro::StoredAlerts::new(store);
    if let Some(bar) = &progress {
        let bar = bar.clone();
        stored = stored.with_progress(move |alerts| bar.inc(alerts));
    }
    let watch = Watch {
        progress: progress.clone(),
        files: &files,
    };
    let report = retro::run(
        Arc::clone(&matcher),
        &stored,
        &files,
        HuntOptions::default(),
        &watch,
    )?;
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let mut store = stored.into_store();

    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for alert in &report.alerts {
        if args.json {
            serde_json::to_writer(&mut out, alert)?;
            writeln!(out)?;
        } else {
            let time = alert
                .event
                .timestamp
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_else(|| "-".into());
            writeln!(
                out,
                "{time}  {:<8}  {}  {}",
                alert.level,
                Escaped(alert.event.computer.as_deref().unwrap_or("-")),
                Escaped(&alert.rule_title)
            )?;
        }
    }
    out.flush()?;
    if args.save && !report.alerts.is_empty() {
        let run = store.begin_run(&RunInfo {
            command: "intel retro".into(),
            inputs: args.paths.iter().map(|f| f.display().to_string()).collect(),
            rule_sources: Vec::new(),
        })?;
        store.insert_alerts(run, &report.alerts)?;
        store.finish_run(
            run,
            &RunSummary {
                files: files.len() as u64,
                events: report.files.events + report.stored_events,
                alerts: report.alerts.len() as u64,
                ..RunSummary::default()
            },
        )?;
    }
    eprintln!(
        "{} indicator(s) first imported since {} ({} matchable) over {} stored alert(s) \
         ({} event(s)) and {} file event(s): {} new hit(s){}",
        indicators.len(),
        since.format("%Y-%m-%d %H:%M:%S"),
        matcher.len(),
        report.stored_alerts,
        report.stored_events,
        report.files.events,
        report.alerts.len(),
        if args.save { ", saved" } else { "" }
    );
    Ok(
        if report.files.unreadable > 0
            || report.files.records_skipped > 0
            || !inputs_skipped.is_empty()
        {
            ExitCode::from(EXIT_SKIPPED_INPUT)
        } else {
            ExitCode::SUCCESS
        },
    )
}

/// What a retro-hunt shows while it runs: warnings above the progress, which moves to
/// the files' bytes once the stored alerts are done.
struct Watch<'a> {
    progress: Option<ProgressBar>,
    files: &'a [FileSource],
}

impl Watch<'_> {
    fn warn(&self, line: &str) {
        let line = escape(line);
        match &self.progress {
            Some(progress) => progress.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

impl Observer for Watch<'_> {
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
        let Some(progress) = &self.progress else {
            return;
        };
        match source.size() {
            Some(bytes) => progress.inc(bytes),
            // The stored alerts are done: the bar turns to the files' bytes.
            None if !self.files.is_empty() && progress.length().is_none() => {
                let total: u64 = self.files.iter().filter_map(EventSource::size).sum();
                progress.set_position(0);
                progress.set_length(total);
                progress.set_style(
                    ProgressStyle::with_template(
                        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
            }
            None => {}
        }
    }
}

/// Runs `rampart intel sightings`.
pub fn sightings(args: SightingsArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = args.store.open_read(global)?;
    let now = Utc::now();
    let query = AlertQuery {
        since: args.since,
        ..AlertQuery::default()
    };
    let hits: Vec<Hit> = store
        .alerts(&query)?
        .iter()
        .filter(|stored| stored.alert.rule_id.starts_with(IOC_RULE_PREFIX))
        .filter_map(|stored| Hit::from_alert(&stored.alert, now))
        .collect();
    let sighter = Sighter {
        name: args.identity,
        now,
    };
    let document = match args.format {
        SightingsFormat::Stix => stix_bundle(&hits, &sighter),
        SightingsFormat::Misp => misp_sightings(&hits, &sighter),
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &document)?;
    writeln!(out)?;
    eprintln!("{} IoC hit(s) exported", hits.len());
    Ok(ExitCode::SUCCESS)
}
