//! `rampart alerts`: list stored alerts, show one with its context, or import hunt
//! JSON lines into the store.
//!
//! The store is `--store DB`, else `rampart.db` in the data directory (see
//! [`crate::cmd::hunt_store::default_store_path`]).

use crate::cmd::hunt_store::{default_store_path, load_knowledge, StoreSink};
use crate::global::GlobalOpts;
use anyhow::Context;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use clap::{Args, Subcommand};
use rampart_correlate::IncidentConfig;
use rampart_enrich::{ocsf, Enricher};
use rampart_event::terminal::escape as escape_controls;
use rampart_event::terminal::Escaped;
use rampart_event::{Alert, AlertIntel, Level};
use rampart_store::{AlertQuery, OpenOptions, RunInfo, RunSummary, Store, StoredAlert};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `rampart alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    command: AlertsCommand,
}

#[derive(Debug, Subcommand)]
enum AlertsCommand {
    /// List stored alerts, oldest event first.
    List(ListArgs),
    /// Add alerts from `rampart hunt --format jsonl` output (files or `-`) to the store,
    /// then regroup incidents.
    Import(ImportArgs),
    /// List the hunt runs and imports recorded in the store; an unfinished run that is
    /// not still going was interrupted (its committed alerts are kept).
    Runs(RunsArgs),
    /// Show one stored alert by id: rule, techniques, event, matched and context fields.
    Show(ShowArgs),
    /// Triage an alert: state, verdict and reason, assignee, tags, comment (audited).
    Triage(crate::cmd::triage::TriageArgs),
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// The alert id (as `alerts list --json`, hunt output and OCSF `finding_info.uid`
    /// give it).
    #[arg(value_name = "ID")]
    id: String,
    /// One JSON object (`{"id", "run", "alert": <hunt alert>}`).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(Debug, Args)]
struct RunsArgs {
    /// One JSON object per run per line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArg,
}

/// The store option shared by the `alerts` and `incidents` subcommands.
#[derive(Debug, Args)]
pub struct StoreArg {
    /// The store file. Default: `rampart.db` in the data directory.
    #[arg(long, value_name = "DB")]
    pub store: Option<PathBuf>,
}

impl StoreArg {
    /// The store path to use.
    pub fn path(&self, global: &GlobalOpts) -> PathBuf {
        self.store
            .clone()
            .unwrap_or_else(|| default_store_path(global))
    }

    /// Opens the store for reading.
    pub fn open_read(&self, global: &GlobalOpts) -> anyhow::Result<Box<dyn Store>> {
        let options = OpenOptions {
            read_only: true,
            ..OpenOptions::default()
        };
        Ok(rampart_store::open_with(&self.path(global), &options)?)
    }
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only alerts at or after this time: RFC 3339 (`2019-03-19T10:00:00Z`), a date
    /// (`2019-03-19`), or an age (`90m`, `24h`, `7d`).
    #[arg(long, value_name = "T", value_parser = parse_since)]
    since: Option<DateTime<Utc>>,
    /// Only alerts at this level or above.
    #[arg(long, value_name = "L")]
    level: Option<Level>,
    /// Only alerts tagged with this technique (a parent also matches its sub-techniques).
    #[arg(long, value_name = "T")]
    technique: Option<String>,
    /// Only alerts from this host (any case).
    #[arg(long, value_name = "H")]
    host: Option<String>,
    /// Only alerts of this rule id.
    #[arg(long, value_name = "ID")]
    rule: Option<String>,
    /// Only alerts in this triage state.
    #[arg(long, value_name = "STATE", value_parser = crate::cmd::triage::state_parser())]
    state: Option<rampart_store::TriageState>,
    /// Only alerts before this time (same forms as --since).
    #[arg(long, value_name = "T", value_parser = parse_since)]
    until: Option<DateTime<Utc>>,
    /// Skip this many alerts first.
    #[arg(long, value_name = "N")]
    offset: Option<usize>,
    /// At most this many alerts.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// One JSON object per line (`{"id", "run", "alert": <hunt alert>}`).
    #[arg(long)]
    json: bool,
    /// Output enriched records instead: `native` (JSON lines with ECS `threat.*` and
    /// ATT&CK/D3FEND/ENGAGE context, schema in `rampart-enrich`) or `ocsf` (OCSF
    /// Detection Finding, class 2004).
    #[arg(long, value_enum, value_name = "FORMAT")]
    enrich: Option<EnrichFormat>,
    #[command(flatten)]
    store: StoreArg,
}

/// Enriched output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EnrichFormat {
    /// Native enriched JSON lines.
    Native,
    /// OCSF Detection Finding JSON lines.
    Ocsf,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// JSON-lines files of alerts, or `-` for stdin.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    grouping: GroupingArgs,
    #[command(flatten)]
    store: StoreArg,
}

/// How alerts are grouped into incidents, shared by `alerts import` and
/// `incidents rebuild` so the two always group alike.
#[derive(Debug, Args)]
pub struct GroupingArgs {
    /// A gap longer than this between two alerts of a host starts a new incident.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    window: TimeDelta,
    /// Also split incidents by the user the alerts name.
    #[arg(long)]
    by_user: bool,
}

impl GroupingArgs {
    /// The incident grouping these flags ask for.
    pub fn config(&self) -> IncidentConfig {
        IncidentConfig {
            inactivity: self.window,
            by_user: self.by_user,
        }
    }
}

/// Runs `rampart alerts`.
pub fn run(args: AlertsArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    match args.command {
        AlertsCommand::List(args) => list(args, global),
        AlertsCommand::Import(args) => import(args, global),
        AlertsCommand::Runs(args) => runs(args, global),
        AlertsCommand::Show(args) => show(args, global),
        AlertsCommand::Triage(args) => {
            crate::cmd::triage::run(crate::cmd::triage::Kind::Alert, args, global)
        }
    }
}

fn show(args: ShowArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = args.store.open_read(global)?;
    let Some(stored) = store.alert(&args.id)? else {
        anyhow::bail!(
            "no alert {} in {}",
            escape_controls(&args.id),
            store.location().display()
        );
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        serde_json::to_writer(&mut out, &stored)?;
        writeln!(out)?;
    } else {
        write_alert_details(&mut out, &stored)?;
        if let Some(intel) = &stored.alert.intel {
            write_alert_intel(&mut out, intel, global)?;
        }
        let subject = rampart_store::Subject::Alert(stored.id.clone());
        if let Some(record) = store.triage_record(&subject)? {
            crate::cmd::triage::write_triage(&mut out, &record, &store.comments(&subject)?)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// One alert for a person: every value from the event is escaped, as it is
/// attacker-controlled and goes to a terminal.
fn write_alert_details(out: &mut impl Write, stored: &StoredAlert) -> std::io::Result<()> {
    let alert = &stored.alert;
    let event = &alert.event;
    let opt = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    let rows: [(&str, String); 12] = [
        ("alert", stored.id.clone()),
        ("run", stored.run.to_string()),
        ("rule", format!("{} ({})", alert.rule_title, alert.rule_id)),
        (
            "level",
            format!(
                "{} (status {})",
                alert.level,
                alert.status.as_deref().unwrap_or("-")
            ),
        ),
        ("techniques", alert.techniques.join(", ")),
        ("tactics", alert.tactics.join(", ")),
        (
            "time",
            opt(event
                .timestamp
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))),
        ),
        ("host", opt(event.computer.as_ref().map(|c| c.to_string()))),
        (
            "channel",
            opt(event.channel.as_ref().map(|c| c.to_string())),
        ),
        (
            "provider",
            opt(event.provider.as_ref().map(|c| c.to_string())),
        ),
        (
            "event",
            format!(
                "id {}, record {}",
                opt(event.event_id.map(|id| id.to_string())),
                opt(event.record_id.map(|id| id.to_string()))
            ),
        ),
        ("source", event.source.to_string()),
    ];
    for (name, value) in &rows {
        writeln!(out, "{name:<11} {}", escape_controls(value))?;
    }
    for (title, fields) in [
        (
            "matched",
            alert
                .matched
                .iter()
                .map(|m| (m.field.as_str(), m.value.as_str()))
                .collect::<Vec<_>>(),
        ),
        (
            "context",
            alert
                .context
                .iter()
                .map(|c| (c.field.as_str(), c.value.as_str()))
                .collect(),
        ),
    ] {
        writeln!(out, "{title}:")?;
        if fields.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for (field, value) in fields {
            writeln!(
                out,
                "  {}: {}",
                escape_controls(field),
                escape_controls(value)
            )?;
        }
    }
    Ok(())
}

/// An IoC alert's indicator, what its feed says it indicates, and what that joins to
/// in ATT&CK (the graph is loaded only for an alert whose feed names something).
fn write_alert_intel(
    out: &mut impl Write,
    intel: &AlertIntel,
    global: &GlobalOpts,
) -> anyhow::Result<()> {
    writeln!(out, "intel:")?;
    writeln!(
        out,
        "  indicator: {} from {}",
        Escaped(&intel.indicator_id),
        Escaped(&intel.source)
    )?;
    if let Some(confidence) = intel.confidence {
        writeln!(out, "  confidence: {confidence}")?;
    }
    for observable in &intel.observables {
        writeln!(
            out,
            "  observable: {} {} in {}",
            Escaped(&observable.kind),
            Escaped(&observable.value),
            Escaped(&observable.field)
        )?;
    }
    for (label, values) in [
        ("actors", &intel.actors),
        ("malware", &intel.malware),
        ("ATT&CK ids", &intel.attack_ids),
        ("reports", &intel.reports),
    ] {
        if !values.is_empty() {
            let values: Vec<String> = values.iter().map(|v| Escaped(v).to_string()).collect();
            writeln!(out, "  {label}: {}", values.join(", "))?;
        }
    }
    if intel.actors.is_empty() && intel.malware.is_empty() && intel.attack_ids.is_empty() {
        return Ok(());
    }
    let Some(knowledge) = load_knowledge(global) else {
        return Ok(());
    };
    if let Some(attribution) = Enricher::new(&knowledge).attribution(intel) {
        writeln!(out, "attributed:")?;
        for line in crate::cmd::intel::attribution_lines(&attribution, true) {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

fn runs(args: RunsArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = args.store.open_read(global)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for run in store.runs()? {
        if args.json {
            serde_json::to_writer(&mut out, &run)?;
            writeln!(out)?;
            continue;
        }
        let end = run
            .finished_at
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| "unfinished".into());
        writeln!(
            out,
            "{:>4}  {}  {:<19}  {:>6} added  {} {}",
            run.id,
            run.started_at.format("%Y-%m-%d %H:%M:%S"),
            end,
            run.alerts_added,
            Escaped(&run.info.command),
            Escaped(&run.info.inputs.join(" "))
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn list(args: ListArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = args.store.open_read(global)?;
    let query = AlertQuery {
        since: args.since,
        min_level: args.level,
        technique: args.technique,
        host: args.host,
        limit: args.limit,
        rule: args.rule,
        state: args.state,
        until: args.until,
        offset: args.offset,
    };
    let alerts = store.alerts(&query)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if let Some(format) = args.enrich {
        let Some(knowledge) = load_knowledge(global) else {
            anyhow::bail!("enrichment needs the ATT&CK data (see --data-dir)");
        };
        let enricher = Enricher::new(&knowledge);
        let version = enricher.attack_version();
        for stored in &alerts {
            let enriched = enricher.enrich(&stored.alert);
            match format {
                EnrichFormat::Native => serde_json::to_writer(&mut out, &enriched)?,
                EnrichFormat::Ocsf => serde_json::to_writer(
                    &mut out,
                    &ocsf::detection_finding(&enriched, &stored.id, &version),
                )?,
            }
            writeln!(out)?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    for stored in &alerts {
        if args.json {
            serde_json::to_writer(&mut out, stored)?;
            writeln!(out)?;
        } else {
            let a = &stored.alert;
            writeln!(
                out,
                "{}  {:<13} {:<12} {:<16} {:<24} {}",
                a.event
                    .timestamp
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_else(|| "-".repeat(19)),
                a.level.as_str(),
                stored.state.as_str(),
                Escaped(a.event.computer.as_deref().unwrap_or("-")),
                Escaped(&a.techniques.join(",")),
                Escaped(&a.rule_title)
            )?;
        }
    }
    out.flush()?;
    if !args.json {
        eprintln!("{} alert(s)", alerts.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn import(args: ImportArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let path = args.store.path(global);
    let info = RunInfo {
        command: "alerts import".into(),
        inputs: args.files.iter().map(|f| f.display().to_string()).collect(),
        rule_sources: Vec::new(),
    };
    let mut sink = StoreSink::open(&path, info)?.with_incident_config(args.grouping.config());
    let mut summary = RunSummary::default();
    let mut bad_lines = 0u64;
    for file in &args.files {
        summary.files += 1;
        read_alerts(file, |line, parsed| match parsed {
            Ok(alert) => {
                summary.alerts += 1;
                Ok(sink.write(&alert)?)
            }
            Err(error) => {
                bad_lines += 1;
                let warning = format!("{}:{line}: not an alert: {error}", file.display());
                eprintln!("warning: {}", Escaped(&warning));
                Ok(())
            }
        })?;
    }
    let knowledge = load_knowledge(global);
    let report = sink.finish(summary, knowledge.as_ref())?;
    eprintln!("{report}");
    Ok(if bad_lines > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Calls `each` with every line's number and parsed alert; blank lines are skipped.
fn read_alerts(
    file: &Path,
    mut each: impl FnMut(usize, Result<Alert, serde_json::Error>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let reader: Box<dyn BufRead> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?,
        ))
    };
    for (index, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        each(index + 1, serde_json::from_str(&line))?;
    }
    Ok(())
}

/// `90s`, `30m`, `24h`, `7d`.
pub fn parse_duration(text: &str) -> Result<TimeDelta, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit (use s, m, h or d)"))?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("`{text}` does not start with a number"))?;
    // The `try_` constructors: the infallible ones panic on a number too large.
    let duration = match unit {
        "s" => TimeDelta::try_seconds(number),
        "m" => TimeDelta::try_minutes(number),
        "h" => TimeDelta::try_hours(number),
        "d" => TimeDelta::try_days(number),
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in `{text}` (use s, m, h or d)"
            ))
        }
    };
    duration.ok_or_else(|| format!("`{text}` is too long a duration"))
}

pub(crate) fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    parse_duration(text)
        .ok()
        .and_then(|age| Utc::now().checked_sub_signed(age))
        .ok_or_else(|| {
            format!("`{text}` is not a time (RFC 3339), a date (YYYY-MM-DD) or an age (24h)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_overlong_ones_are_errors_not_panics() {
        assert_eq!(parse_duration("90s"), Ok(TimeDelta::seconds(90)));
        assert_eq!(parse_duration("7d"), Ok(TimeDelta::days(7)));
        assert!(parse_duration("9223372036854775807d").is_err_and(|e| e.contains("too long")));
        assert!(parse_since("9223372036854775807s").is_err());
        assert!(parse_duration("5x").is_err_and(|e| e.contains("unknown unit")));
    }
}
