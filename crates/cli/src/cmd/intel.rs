//! `rampart intel`: threat-intelligence feeds in the store — import, list, show, stats,
//! expire, remove, and the allow-list.
//!
//! Glue only: readers are `rampart_intel`'s, the tables the store's, joins to ATT&CK
//! `rampart_intel::attribution`'s. Results go to stdout (human lines, or JSON with
//! `--json`), diagnostics and summaries to stderr, escaped. An import that left
//! something out exits with status 3, as a hunt that passed over input does.

use crate::cmd::alerts::StoreArg;
use crate::cmd::hunt::EXIT_SKIPPED_INPUT;
use crate::global::GlobalOpts;
use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand};
use rampart_event::terminal::Escaped;
use rampart_intel::attribution::{Attribution, Attributor, Joined};
use rampart_intel::{Diagnostic, Feed, Indicator, Observable, ObservableKind};
use rampart_knowledge::Knowledge;
use rampart_store::{
    ImportMode, ImportOptions, IndicatorQuery, OpenOptions, SqliteStore, StoredIndicator,
};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

mod read;

/// Arguments of `rampart intel`.
#[derive(Debug, Args)]
pub struct IntelArgs {
    #[command(subcommand)]
    command: IntelCommand,
}

#[derive(Debug, Subcommand)]
enum IntelCommand {
    /// Import feeds (STIX 2.1 bundles, MISP events, plain lists) into the store.
    Import(ImportArgs),
    /// List stored indicators, with what ATT&CK knows of their actors and malware.
    List(ListArgs),
    /// One indicator in full, joined to ATT&CK groups, software and techniques.
    Show(ShowArgs),
    /// Indicators per source and kind; the sources.
    Stats(StatsArgs),
    /// Delete indicators past their `valid_until` (or not imported for a while).
    Expire(ExpireArgs),
    /// Delete a source with its indicators and entities.
    Remove(RemoveArgs),
    /// The allow-list: values that never alert, whatever a feed says.
    Allow(AllowArgs),
    /// TAXII 2.1 servers: list their collections, poll one into the store.
    Taxii(crate::cmd::intel_taxii::TaxiiArgs),
    /// Run newly imported indicators over stored alerts' events and files.
    Retro(crate::cmd::intel_hits::RetroArgs),
    /// Export IoC hits as STIX 2.1 sightings or MISP sightings.
    Sightings(crate::cmd::intel_hits::SightingsArgs),
}

/// `--json` and `--store`, shared by every subcommand.
#[derive(Debug, Args)]
struct Common {
    /// JSON instead of human lines (one object per line; one document for `stats` and
    /// `show`).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// Feed files: STIX 2.1 bundles, MISP events or feed folders, lists (one indicator
    /// per line) or CSV.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// Store everything under this source name (the files' indicators together);
    /// default: each file its own source (`stix:<file>`, `misp:<event uuid>`,
    /// `list:<file>`).
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// The feed is the whole source: its stored indicators the feed no longer holds are
    /// removed (the default).
    #[arg(long, conflicts_with = "merge")]
    replace: bool,
    /// Add to the source: nothing stored is removed.
    #[arg(long)]
    merge: bool,
    /// The kind of every value in a plain list (default: guessed per line).
    #[arg(long, value_name = "KIND", value_parser = kind_parser())]
    kind: Option<ObservableKind>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only this source's indicators.
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// Only indicators with an observable of this kind.
    #[arg(long, value_name = "KIND", value_parser = kind_parser())]
    kind: Option<ObservableKind>,
    /// Only indicators with this value (normalised as feeds are: `hxxp`, `[.]` undone,
    /// case folded where the kind ignores case). With a kind, for that kind only.
    #[arg(long, value_name = "V")]
    value: Option<String>,
    /// At most this many.
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: usize,
    /// Skip this many first.
    #[arg(long, value_name = "N", default_value_t = 0)]
    offset: usize,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// The indicator id (`intel list` shows it).
    #[arg(value_name = "ID")]
    id: String,
    /// The source, when several hold this id.
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct StatsArgs {
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct ExpireArgs {
    /// Also delete indicators no import has held for this many days.
    #[arg(long, value_name = "DAYS")]
    older_than: Option<u32>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct RemoveArgs {
    /// The source to delete (`intel stats` lists them).
    #[arg(long, value_name = "NAME")]
    source: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct AllowArgs {
    #[command(subcommand)]
    command: AllowCommand,
}

#[derive(Debug, Subcommand)]
enum AllowCommand {
    /// Add a value (or change its reason).
    Add(AllowAddArgs),
    /// Take a value off the list.
    Remove(AllowValueArgs),
    /// The list, by kind and value.
    List(AllowListArgs),
}

#[derive(Debug, Args)]
struct AllowValueArgs {
    /// What the value is.
    #[arg(value_name = "KIND", value_parser = kind_parser())]
    kind: ObservableKind,
    /// The value (normalised as feeds' values are).
    #[arg(value_name = "VALUE")]
    value: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Args)]
struct AllowAddArgs {
    #[command(flatten)]
    value: AllowValueArgs,
    /// Why it is allowed (`our mail gateway`).
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
}

#[derive(Debug, Args)]
struct AllowListArgs {
    #[command(flatten)]
    common: Common,
}

/// Kind names as the store writes them (`sha256`, `file-name`), listed in `--help`.
fn kind_parser() -> impl TypedValueParser<Value = ObservableKind> {
    PossibleValuesParser::new(ObservableKind::ALL.map(ObservableKind::name)).try_map(|name| {
        ObservableKind::from_name(&name).ok_or_else(|| format!("unknown kind `{name}`"))
    })
}

/// Runs `rampart intel`.
pub fn run(args: IntelArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    match args.command {
        IntelCommand::Import(args) => import(args, global),
        IntelCommand::List(args) => list(args, global),
        IntelCommand::Show(args) => show(args, global),
        IntelCommand::Stats(args) => stats(args, global),
        IntelCommand::Expire(args) => expire(args, global),
        IntelCommand::Remove(args) => remove(args, global),
        IntelCommand::Allow(args) => allow(args, global),
        IntelCommand::Taxii(args) => crate::cmd::intel_taxii::run(args, global),
        IntelCommand::Retro(args) => crate::cmd::intel_hits::retro(args, global),
        IntelCommand::Sightings(args) => crate::cmd::intel_hits::sightings(args, global),
    }
}

fn open_write(common: &Common, global: &GlobalOpts) -> anyhow::Result<SqliteStore> {
    Ok(SqliteStore::open(&common.store.path(global))?)
}

fn open_read(common: &Common, global: &GlobalOpts) -> anyhow::Result<SqliteStore> {
    let options = OpenOptions {
        read_only: true,
        ..OpenOptions::default()
    };
    Ok(SqliteStore::open_with(
        &common.store.path(global),
        &options,
    )?)
}

/// One imported source, as `import --json` writes it.
#[derive(Debug, Serialize)]
struct ImportReport<'a> {
    source: &'a str,
    paths: Vec<String>,
    #[serde(flatten)]
    outcome: rampart_store::ImportOutcome,
    diagnostics: &'a [Diagnostic],
}

fn import(args: ImportArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let mode = if args.merge {
        ImportMode::Merge
    } else {
        ImportMode::Replace
    };
    let mut store = open_write(&args.common, global)?;
    let mut feeds: Vec<(Vec<PathBuf>, Feed)> = Vec::new();
    let mut unreadable = 0usize;
    for path in &args.paths {
        match read::read_feed(path, args.kind) {
            Ok(feed) => feeds.push((vec![path.clone()], feed)),
            Err(error) => {
                // A file that cannot be read at all (not JSON, too large, missing):
                // reported, and the other files imported; what is stored of its
                // source stays as it was.
                unreadable += 1;
                let message = rampart_event::error_chain(&error);
                eprintln!("error: {}", Escaped(&message));
            }
        }
    }
    // One source named on the command line holds every file's indicators: imported
    // as one feed, so that replacing with the second file does not drop the first's.
    if let Some(source) = &args.source {
        let mut joined = Feed {
            source: source.clone(),
            ..Feed::default()
        };
        let mut paths = Vec::new();
        for (mut from, feed) in feeds.drain(..) {
            paths.append(&mut from);
            joined.indicators.extend(feed.indicators);
            joined.entities.extend(feed.entities);
            joined.diagnostics.extend(feed.diagnostics);
        }
        if !paths.is_empty() {
            feeds.push((paths, joined));
        }
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut diagnostics, mut stored) = (0usize, 0u64);
    for (paths, feed) in &feeds {
        for diagnostic in &feed.diagnostics {
            eprintln!(
                "warning: {}: {}: {}",
                Escaped(&diagnostic.location),
                kind_text(diagnostic),
                Escaped(&diagnostic.message)
            );
        }
        diagnostics += feed.diagnostics.len();
        let options = ImportOptions {
            location: Some(
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ..ImportOptions::default()
        };
        let outcome = store
            .import_feed_with(feed, mode, &options)
            .with_context(|| format!("importing {}", feed.source))?;
        stored += outcome.added + outcome.updated + outcome.unchanged;
        if args.common.json {
            let report = ImportReport {
                source: &feed.source,
                paths: paths.iter().map(|p| p.display().to_string()).collect(),
                outcome,
                diagnostics: &feed.diagnostics,
            };
            serde_json::to_writer(&mut out, &report)?;
            writeln!(out)?;
        } else {
            writeln!(
                out,
                "{}: {} added, {} updated, {} unchanged, {} removed; {} entities; {} diagnostic(s)",
                Escaped(&feed.source),
                outcome.added,
                outcome.updated,
                outcome.unchanged,
                outcome.removed,
                outcome.entities,
                feed.diagnostics.len()
            )?;
        }
    }
    out.flush()?;
    eprintln!(
        "{} source(s) imported into {}: {stored} indicator(s) in them; {diagnostics} diagnostic(s), {unreadable} unreadable input(s)",
        feeds.len(),
        args.common.store.path(global).display()
    );
    Ok(if diagnostics > 0 || unreadable > 0 {
        ExitCode::from(EXIT_SKIPPED_INPUT)
    } else {
        ExitCode::SUCCESS
    })
}

/// A diagnostic kind as words.
fn kind_text(diagnostic: &Diagnostic) -> String {
    serde_json::to_value(diagnostic.kind)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('-', " ")))
        .unwrap_or_else(|| "problem".into())
}

/// An indicator with its joins, as `list --json` and `show --json` write it.
#[derive(Debug, Serialize)]
struct IndicatorView<'a> {
    #[serde(flatten)]
    stored: &'a StoredIndicator,
    #[serde(skip_serializing_if = "Option::is_none")]
    attribution: Option<Attribution>,
}

/// The knowledge graph, loaded only when some indicator says something to join.
fn knowledge_for(indicators: &[StoredIndicator], global: &GlobalOpts) -> Option<Knowledge> {
    let needed = indicators.iter().any(|s| {
        let c = &s.indicator.context;
        !(c.actors.is_empty() && c.malware.is_empty() && c.attack_ids.is_empty())
    });
    if needed {
        crate::cmd::hunt_store::load_knowledge(global)
    } else {
        None
    }
}

fn list(args: ListArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = open_read(&args.common, global)?;
    let value = args
        .value
        .as_deref()
        .map(|v| read::normalize_query(args.kind, v));
    let query = IndicatorQuery {
        source: args.source.clone(),
        id: None,
        kind: args.kind,
        value,
        offset: Some(args.offset),
        limit: Some(args.limit),
    };
    let found = store.search_indicators(&query)?;
    let knowledge = knowledge_for(&found, global);
    let attributor = knowledge.as_ref().map(Attributor::new);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for stored in &found {
        let attribution = attributor
            .as_ref()
            .map(|a| a.indicator(&stored.indicator))
            .filter(|a| !a.is_empty());
        if args.common.json {
            serde_json::to_writer(
                &mut out,
                &IndicatorView {
                    stored,
                    attribution,
                },
            )?;
            writeln!(out)?;
        } else {
            writeln!(out, "{}", indicator_line(&stored.indicator))?;
            if let Some(attribution) = &attribution {
                for line in attribution_lines(attribution, false) {
                    writeln!(out, "    {line}")?;
                }
            }
        }
    }
    out.flush()?;
    if !args.common.json {
        eprintln!("{} indicator(s)", found.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// One line: source, id, observables, detection or context, confidence, validity.
fn indicator_line(indicator: &Indicator) -> String {
    let observables: Vec<String> = indicator
        .all_of
        .iter()
        .map(|o| format!("{}={}", o.kind.name(), Escaped(&o.value)))
        .collect();
    let mut line = format!(
        "{}  {}  {}  {}",
        Escaped(&indicator.source),
        Escaped(&indicator.id),
        observables.join(" AND "),
        if indicator.detect {
            "detect"
        } else {
            "context"
        }
    );
    if let Some(confidence) = indicator.confidence {
        line.push_str(&format!("  confidence {confidence}"));
    }
    if let Some(until) = indicator.valid_until {
        line.push_str(&format!("  valid until {}", until.format("%Y-%m-%d %H:%M")));
    }
    line
}

/// `APT29 (G0016, named APT 29)`.
fn joined_text(joined: &Joined) -> String {
    let mut text = format!("{} ({}", Escaped(&joined.name), Escaped(&joined.id));
    if !joined.named_as.is_empty() {
        let names: Vec<String> = joined
            .named_as
            .iter()
            .map(|n| Escaped(n).to_string())
            .collect();
        text.push_str(&format!(", named {}", names.join(", ")));
    }
    text.push(')');
    text
}

/// The joins as lines; `full` also lists the groups' techniques.
pub(crate) fn attribution_lines(attribution: &Attribution, full: bool) -> Vec<String> {
    let list = |items: &[Joined]| -> String {
        items.iter().map(joined_text).collect::<Vec<_>>().join("; ")
    };
    let mut lines = Vec::new();
    if !attribution.groups.is_empty() {
        lines.push(format!("groups: {}", list(&attribution.groups)));
    }
    if !attribution.software.is_empty() {
        lines.push(format!("software: {}", list(&attribution.software)));
    }
    if !attribution.techniques.is_empty() {
        lines.push(format!("techniques: {}", list(&attribution.techniques)));
    }
    if !attribution.group_techniques.is_empty() {
        if full {
            lines.push(format!(
                "the groups' techniques: {}",
                attribution.group_techniques.join(", ")
            ));
        } else {
            lines.push(format!(
                "the groups' techniques: {} (intel show ID lists them)",
                attribution.group_techniques.len()
            ));
        }
    }
    if !attribution.unresolved.is_empty() {
        let names: Vec<String> = attribution
            .unresolved
            .iter()
            .map(|n| Escaped(n).to_string())
            .collect();
        lines.push(format!("not in ATT&CK: {}", names.join(", ")));
    }
    lines
}

fn show(args: ShowArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = open_read(&args.common, global)?;
    let query = IndicatorQuery {
        source: args.source.clone(),
        id: Some(args.id.clone()),
        ..IndicatorQuery::default()
    };
    let found = store.search_indicators(&query)?;
    if found.is_empty() {
        anyhow::bail!(
            "no indicator {} in the store (see `rampart intel list`)",
            Escaped(&args.id)
        );
    }
    let knowledge = knowledge_for(&found, global);
    let attributor = knowledge.as_ref().map(Attributor::new);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for stored in &found {
        let attribution = attributor.as_ref().map(|a| a.indicator(&stored.indicator));
        if args.common.json {
            serde_json::to_writer_pretty(
                &mut out,
                &IndicatorView {
                    stored,
                    attribution,
                },
            )?;
            writeln!(out)?;
            continue;
        }
        let indicator = &stored.indicator;
        writeln!(out, "{}", indicator_line(indicator))?;
        let text = |label: &str, value: Option<&String>| -> Option<String> {
            value.map(|v| format!("  {label}: {}", Escaped(v)))
        };
        for line in [
            text("name", indicator.name.as_ref()),
            text("description", indicator.description.as_ref()),
        ]
        .into_iter()
        .flatten()
        {
            writeln!(out, "{line}")?;
        }
        let time = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
        writeln!(
            out,
            "  imported first {}, last {}",
            time(stored.first_imported),
            time(stored.last_imported)
        )?;
        let context = &indicator.context;
        for (label, values) in [
            ("actors", &context.actors),
            ("malware", &context.malware),
            ("ATT&CK ids", &context.attack_ids),
            ("reports", &context.reports),
            ("labels", &indicator.labels),
        ] {
            if !values.is_empty() {
                let values: Vec<String> = values.iter().map(|v| Escaped(v).to_string()).collect();
                writeln!(out, "  {label}: {}", values.join(", "))?;
            }
        }
        if let Some(attribution) = &attribution {
            for line in attribution_lines(attribution, true) {
                writeln!(out, "  {line}")?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn stats(args: StatsArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = open_read(&args.common, global)?;
    let stats = store.intel_stats(Utc::now())?;
    let sources = store.intel_sources()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.common.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({"stats": stats, "sources": sources}),
        )?;
        writeln!(out)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{:<40}  {:<12}  {:>10}  {:>8}  {:>8}  {:>8}",
        "source", "kind", "indicators", "detect", "context", "expired"
    )?;
    for count in &stats.counts {
        writeln!(
            out,
            "{:<40}  {:<12}  {:>10}  {:>8}  {:>8}  {:>8}",
            Escaped(&count.source).to_string(),
            count.kind.name(),
            count.indicators,
            count.detect,
            count.context_only,
            count.expired
        )?;
    }
    writeln!(out)?;
    for source in &sources {
        let last = source
            .last_import
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "{}  ({}) {} indicator(s), {} entities, {} diagnostic(s) at its last import {last}{}{}",
            Escaped(&source.name),
            Escaped(&source.kind),
            source.indicators,
            source.entities,
            source.diagnostics,
            source
                .location
                .as_deref()
                .map(|l| format!(" from {}", Escaped(l)))
                .unwrap_or_default(),
            source
                .cursor
                .as_deref()
                .map(|c| format!(", cursor {}", Escaped(c)))
                .unwrap_or_default(),
        )?;
    }
    out.flush()?;
    eprintln!(
        "{} indicator(s) from {} source(s), {} entities, {} allow-list entries",
        stats.indicators,
        sources.len(),
        stats.entities,
        stats.allowed
    );
    Ok(ExitCode::SUCCESS)
}

fn expire(args: ExpireArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let mut store = open_write(&args.common, global)?;
    let now = Utc::now();
    let expired = store.expire(now)?;
    let not_imported = match args.older_than {
        Some(days) => store.expire_not_imported_since(now - TimeDelta::days(i64::from(days)))?,
        None => 0,
    };
    if args.common.json {
        println!(
            "{}",
            serde_json::json!({"expired": expired, "not_imported": not_imported})
        );
    } else {
        println!("{expired} indicator(s) past their validity deleted");
        if let Some(days) = args.older_than {
            println!("{not_imported} indicator(s) not imported for {days} day(s) deleted");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn remove(args: RemoveArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let mut store = open_write(&args.common, global)?;
    let Some(removed) = store.remove_source(&args.source)? else {
        anyhow::bail!(
            "no intel source {} in the store (see `rampart intel stats`)",
            Escaped(&args.source)
        );
    };
    if args.common.json {
        println!(
            "{}",
            serde_json::json!({"source": args.source, "removed": removed})
        );
    } else {
        println!(
            "{}: removed with its {removed} indicator(s)",
            Escaped(&args.source)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn allow(args: AllowArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let observable = |value: &AllowValueArgs| -> anyhow::Result<Observable> {
        Ok(Observable {
            kind: value.kind,
            value: read::normalize_value(value.kind, &value.value)
                .with_context(|| format!("allow-list value {}", Escaped(&value.value)))?,
        })
    };
    match args.command {
        AllowCommand::Add(add) => {
            let entry = observable(&add.value)?;
            let mut store = open_write(&add.value.common, global)?;
            let new = store.allow(&entry, add.reason.as_deref())?;
            report_allow(&add.value.common, &entry, "added", new)
        }
        AllowCommand::Remove(value) => {
            let entry = observable(&value)?;
            let mut store = open_write(&value.common, global)?;
            let removed = store.disallow(&entry)?;
            report_allow(&value.common, &entry, "removed", removed)
        }
        AllowCommand::List(list) => {
            let store = open_read(&list.common, global)?;
            let entries = store.allow_entries()?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for entry in &entries {
                if list.common.json {
                    serde_json::to_writer(&mut out, entry)?;
                    writeln!(out)?;
                } else {
                    writeln!(
                        out,
                        "{:<12}  {}  added {}{}",
                        entry.observable.kind.name(),
                        Escaped(&entry.observable.value),
                        entry.added.format("%Y-%m-%d %H:%M"),
                        entry
                            .reason
                            .as_deref()
                            .map(|r| format!("  ({})", Escaped(r)))
                            .unwrap_or_default()
                    )?;
                }
            }
            out.flush()?;
            if !list.common.json {
                eprintln!("{} allow-list entries", entries.len());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn report_allow(
    common: &Common,
    entry: &Observable,
    action: &str,
    changed: bool,
) -> anyhow::Result<ExitCode> {
    if common.json {
        println!(
            "{}",
            serde_json::json!({"kind": entry.kind, "value": entry.value, action: changed})
        );
    } else if changed {
        println!("{} {} {action}", entry.kind.name(), Escaped(&entry.value));
    } else {
        println!(
            "{} {} unchanged ({})",
            entry.kind.name(),
            Escaped(&entry.value),
            if action == "added" {
                "already on the list; reason updated"
            } else {
                "not on the list"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
