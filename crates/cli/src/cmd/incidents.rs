//! `rampart incidents`: list the stored incidents, or show one with its kill-chain
//! view, technique context and likely next techniques.
//!
//! Incidents are grouped when alerts are stored (`rampart hunt --store`,
//! `rampart alerts import`); `rampart incidents rebuild` regroups with another window.

use crate::cmd::alerts::{GroupingArgs, StoreArg};
use crate::cmd::hunt_store::{load_knowledge, rebuild_incidents, rule_infos};
use crate::global::GlobalOpts;
use clap::{Args, Subcommand};
use rampart_correlate::{kill_chain_from, next_predictor_from, Incident, KillChain, NextTechnique};
use rampart_enrich::{Enricher, TechniqueContext};
use rampart_event::terminal::Escaped;
use rampart_knowledge::Knowledge;
use rampart_store::{
    Comment, IncidentQuery, Store, StoredIncident, Subject, TriageRecord, TriageState,
};
use serde::Serialize;
use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;

/// How many likely next techniques `show` lists.
const NEXT_LIMIT: usize = 8;

/// Arguments of `rampart incidents`.
#[derive(Debug, Args)]
pub struct IncidentsArgs {
    #[command(subcommand)]
    command: IncidentsCommand,
}

#[derive(Debug, Subcommand)]
enum IncidentsCommand {
    /// List incidents, highest score first.
    List(ListArgs),
    /// Show one incident: timeline, tactics, techniques with context, likely next.
    Show(ShowArgs),
    /// Regroup all stored alerts into incidents (triage follows each incident's alerts).
    Rebuild(RebuildArgs),
    /// Triage an incident: state, verdict and reason, assignee, tags, comment (audited).
    Triage(crate::cmd::triage::TriageArgs),
    /// Triage metrics: time to acknowledge and close, alerts and false positives per rule.
    Metrics(MetricsArgs),
}

#[derive(Debug, Args)]
struct MetricsArgs {
    /// The whole metrics document as JSON.
    #[arg(long)]
    json: bool,
    /// Rules to list, most false positives first.
    #[arg(long, value_name = "N", default_value_t = 20)]
    rules: usize,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// At most this many incidents.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Only incidents in this triage state.
    #[arg(long, value_name = "STATE", value_parser = crate::cmd::triage::state_parser())]
    state: Option<TriageState>,
    /// One JSON object per incident per line (without the timeline).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// Incident id (`INC-…`, any case).
    id: String,
    /// One JSON document.
    #[arg(long)]
    json: bool,
    /// Timeline lines to print (all with --json).
    #[arg(long, value_name = "N", default_value_t = 40)]
    timeline: usize,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(Debug, Args)]
struct RebuildArgs {
    #[command(flatten)]
    grouping: GroupingArgs,
    #[command(flatten)]
    store: StoreArg,
}

/// Runs `rampart incidents`.
pub fn run(args: IncidentsArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    match args.command {
        IncidentsCommand::List(args) => list(args, global),
        IncidentsCommand::Show(args) => show(args, global),
        IncidentsCommand::Rebuild(args) => rebuild(args, global),
        IncidentsCommand::Metrics(args) => metrics(args, global),
        IncidentsCommand::Triage(args) => {
            crate::cmd::triage::run(crate::cmd::triage::Kind::Incident, args, global)
        }
    }
}

/// An incident without its timeline, for listings.
#[derive(Serialize)]
struct Summary<'a> {
    id: &'a str,
    host: &'a str,
    user: Option<&'a str>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    score: f64,
    max_level: &'a str,
    alerts: usize,
    rules: usize,
    tactics: &'a [String],
    techniques: &'a [String],
    state: TriageState,
}

fn summary(incident: &Incident, state: TriageState) -> Summary<'_> {
    Summary {
        state,
        id: &incident.id,
        host: &incident.host,
        user: incident.user.as_deref(),
        first_seen: incident.first_seen.map(|t| t.to_rfc3339()),
        last_seen: incident.last_seen.map(|t| t.to_rfc3339()),
        score: incident.score,
        max_level: incident.max_level.as_str(),
        alerts: incident.alert_count(),
        rules: incident.rules,
        tactics: &incident.tactics,
        techniques: &incident.techniques,
    }
}

fn list(args: ListArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = args.store.open_read(global)?;
    let incidents = store.incidents_page(&IncidentQuery {
        state: args.state,
        limit: args.limit,
        ..IncidentQuery::default()
    })?;
    for StoredIncident {
        incident, state, ..
    } in &incidents
    {
        if args.json {
            println!("{}", serde_json::to_string(&summary(incident, *state))?);
        } else {
            println!(
                "{:<14} {:>6.1}  {:<8} {:<12} {:<16} {:>5} alert(s)  {} → {}  {}",
                incident.id,
                incident.score,
                incident.max_level.as_str(),
                state.as_str(),
                Escaped(&incident.host),
                incident.alert_count(),
                time(incident.first_seen),
                time(incident.last_seen),
                Escaped(&incident.tactics.join(" > "))
            );
        }
    }
    if !args.json {
        eprintln!("{} incident(s)", incidents.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

/// The full view `show --json` prints.
#[derive(Serialize)]
struct Detail<'a> {
    #[serde(flatten)]
    incident: &'a Incident,
    tactic_names: Vec<String>,
    technique_context: Vec<Arc<TechniqueContext>>,
    likely_next: Vec<NextTechnique>,
    coverage_source: &'static str,
    triage: Option<TriageRecord>,
    comments: Vec<Comment>,
}

fn show(args: ShowArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = args.store.open_read(global)?;
    let Some(mut incident) = store.incident(&args.id)? else {
        anyhow::bail!(
            "no incident `{}` in {} (see `rampart incidents list`)",
            Escaped(&args.id),
            args.store.path(global).display()
        );
    };
    let knowledge = load_knowledge(global);
    let (covered, coverage_source) = covered_techniques(store.as_ref(), global);
    // The service stores the likely next techniques it ranked; shown when the
    // knowledge graph is not there to rank them afresh (and never twice in the JSON).
    let stored_next = std::mem::take(&mut incident.likely_next);
    let mut detail = detail(
        &incident,
        stored_next,
        knowledge.as_ref(),
        &covered,
        coverage_source,
    );
    let subject = Subject::Incident(incident.id.clone());
    detail.triage = store.triage_record(&subject)?;
    detail.comments = store.comments(&subject)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&detail)?);
    } else {
        print_detail(&detail, args.timeline);
    }
    Ok(ExitCode::SUCCESS)
}

fn detail<'a>(
    incident: &'a Incident,
    stored_next: Vec<NextTechnique>,
    knowledge: Option<&Knowledge>,
    covered: &HashSet<String>,
    coverage_source: &'static str,
) -> Detail<'a> {
    let Some(knowledge) = knowledge else {
        return Detail {
            incident,
            tactic_names: incident.tactics.clone(),
            technique_context: Vec::new(),
            likely_next: stored_next,
            coverage_source,
            triage: None,
            comments: Vec::new(),
        };
    };
    let chain: KillChain = kill_chain_from(knowledge);
    let enricher = Enricher::new(knowledge);
    let technique_context = incident
        .techniques
        .iter()
        .filter_map(|t| enricher.technique(t).1)
        .collect();
    let predictor = next_predictor_from(knowledge);
    Detail {
        incident,
        tactic_names: incident
            .tactics
            .iter()
            .map(|t| {
                chain
                    .tactic(t)
                    .and_then(|t| t.name.clone())
                    .unwrap_or_else(|| t.clone())
            })
            .collect(),
        technique_context,
        likely_next: predictor.predict_attributed(
            &incident.techniques,
            &incident.attributed,
            covered,
            NEXT_LIMIT,
        ),
        coverage_source,
        triage: None,
        comments: Vec::new(),
    }
}

/// Techniques the rules cover: those recorded in the store by hunt runs, else those of
/// the Sigma rules in the data directory.
fn covered_techniques(store: &dyn Store, global: &GlobalOpts) -> (HashSet<String>, &'static str) {
    let mut rules = store.rules().unwrap_or_default();
    let mut source = "rules recorded in the store";
    if rules.is_empty() {
        if let Ok(paths) = crate::cmd::hunt::rules::rule_paths(Vec::new(), global) {
            let (set, _) = rampart_sigma::load_rules(&paths);
            rules = rule_infos(&set);
            source = "Sigma rules in the data directory";
        }
    }
    if rules.is_empty() {
        return (HashSet::new(), "no rules found: coverage unknown");
    }
    let covered = rules
        .into_iter()
        .flat_map(|r| r.techniques)
        .map(|t| t.to_ascii_uppercase())
        .collect();
    (covered, source)
}

fn print_detail(detail: &Detail<'_>, timeline: usize) {
    let incident = detail.incident;
    println!(
        "{}  host {}{}  score {:.1}  max level {}",
        Escaped(&incident.id),
        Escaped(&incident.host),
        incident
            .user
            .as_deref()
            .map(|u| format!(" user {}", Escaped(u)))
            .unwrap_or_default(),
        incident.score,
        incident.max_level.as_str()
    );
    println!(
        "seen {} → {}  {} alert(s) from {} rule(s)",
        time(incident.first_seen),
        time(incident.last_seen),
        incident.alert_count(),
        incident.rules
    );
    if !incident.users.is_empty() {
        println!("users: {}", Escaped(&incident.users.join(", ")));
    }
    if let Some(record) = &detail.triage {
        let mut text = Vec::new();
        // Writing to memory cannot fail.
        let _ = crate::cmd::triage::write_triage(&mut text, record, &detail.comments);
        print!("{}", String::from_utf8_lossy(&text));
    }
    println!(
        "\nkill chain: {}",
        Escaped(&detail.tactic_names.join(" → "))
    );
    println!("\ntechniques:");
    for id in &incident.techniques {
        match detail
            .technique_context
            .iter()
            .find(|c| &c.technique.id == id)
        {
            Some(c) => {
                let d3fend: usize = c.d3fend.values().map(Vec::len).sum();
                println!(
                    "  {:<10} {}  [{}; {} group(s); {} mitigation(s); {} D3FEND countermeasure(s)]",
                    Escaped(id),
                    Escaped(&c.technique.name),
                    Escaped(
                        &c.tactics
                            .iter()
                            .map(|t| t.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    c.groups.count,
                    c.mitigations.len(),
                    d3fend
                );
            }
            None => println!("  {:<10} (not in the loaded ATT&CK)", Escaped(id)),
        }
    }
    println!("\ntimeline:");
    for entry in incident.timeline.iter().take(timeline) {
        println!(
            "  {}  {:<13} {:<22} {}",
            time(entry.time),
            entry.level.as_str(),
            Escaped(&entry.techniques.join(",")),
            Escaped(&entry.rule_title)
        );
    }
    if incident.timeline.len() > timeline {
        println!(
            "  … {} more (use --timeline N or --json)",
            incident.timeline.len() - timeline
        );
    }
    if incident.unlisted > 0 {
        println!(
            "  … and {} alert(s) counted but not listed (past the timeline cap)",
            incident.unlisted
        );
    }
    if !detail.likely_next.is_empty() {
        println!("\nlikely next (coverage from {}):", detail.coverage_source);
        for next in &detail.likely_next {
            println!("  likely next: {}", Escaped(&next.describe()));
        }
    }
}

fn rebuild(args: RebuildArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let path = args.store.path(global);
    let mut store = rampart_store::open(&path)?;
    let knowledge = load_knowledge(global);
    let chain = knowledge.as_ref().map(kill_chain_from).unwrap_or_default();
    let config = args.grouping.config();
    let (alerts, incidents) = rebuild_incidents(store.as_mut(), &chain, &config)?;
    eprintln!(
        "store {}: {alerts} alert(s) grouped into {incidents} incident(s)",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn metrics(args: MetricsArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let store = args.store.open_read(global)?;
    let metrics = store.triage_metrics()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&metrics)?);
        return Ok(ExitCode::SUCCESS);
    }
    let stats = |name: &str, d: &rampart_store::DurationStats| {
        let secs = |s: Option<f64>| s.map_or_else(|| "-".into(), |s| format!("{s:.0}s"));
        println!(
            "{name:<28} {:>5} done  median {:>8}  mean {:>8}",
            d.count,
            secs(d.median_secs),
            secs(d.mean_secs)
        );
    };
    stats(
        "incidents: time to ack",
        &metrics.incident_time_to_acknowledge,
    );
    stats("incidents: time to close", &metrics.incident_time_to_close);
    stats("alerts: time to ack", &metrics.alert_time_to_acknowledge);
    stats("alerts: time to close", &metrics.alert_time_to_close);
    println!("\nrules (most false positives first):");
    for rule in metrics.rules.iter().take(args.rules) {
        println!(
            "  {:>6} alert(s)  {:>5} judged  {:>5} false positive(s)  {:>6}  {}",
            rule.alerts,
            rule.with_verdict,
            rule.false_positives,
            rule.false_positive_rate
                .map_or_else(|| "-".into(), |r| format!("{:.0}%", r * 100.0)),
            Escaped(&rule.rule_id)
        );
    }
    Ok(ExitCode::SUCCESS)
}
