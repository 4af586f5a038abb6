//! `rampart attack`: show, search and list ATT&CK objects, D3FEND techniques and
//! ENGAGE activities.
//!
//! Exit codes: 0 on success, 2 when the id, name or filter asked for is unknown (the
//! message names the nearest matches), 1 for any other failure (no data, bad file).

use crate::global::GlobalOpts;
use anyhow::Context;
use clap::{Args, Subcommand};
use rampart_event::terminal::Escaped;
use rampart_knowledge::{CacheStatus, Domain, Knowledge, Report, ShowError};
use serde::Serialize;
use std::process::ExitCode;

/// Arguments of `rampart attack`.
#[derive(Debug, Args)]
pub struct AttackArgs {
    #[command(subcommand)]
    command: AttackCommand,
}

#[derive(Debug, Subcommand)]
enum AttackCommand {
    /// Everything about one object: technique (T…), group (G…), software (S…),
    /// mitigation (M…), tactic (TA…), campaign (C…), detection strategy (DET…),
    /// D3FEND technique (D3-… or its class name), ENGAGE activity (EAC…), or a name
    /// or alias.
    Show {
        /// The id (any case), name or alias.
        id: String,
        /// Print JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// Ranked full-text search over names, aliases and descriptions of ATT&CK objects,
    /// D3FEND techniques and ENGAGE activities (marked by kind).
    Search {
        /// Words to look for.
        text: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// At most this many results.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Active techniques of a domain, optionally under a tactic or on a platform.
    List {
        /// enterprise, mobile or ics.
        #[arg(long, default_value = "enterprise", value_parser = parse_domain)]
        domain: Domain,
        /// Tactic short name, TA id or name (e.g. `persistence`, `TA0003`).
        #[arg(long)]
        tactic: Option<String>,
        /// Platform (e.g. `Windows`, `Linux`), any case.
        #[arg(long)]
        platform: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Parses a `--domain` argument (shared by every command that takes one).
pub(crate) fn parse_domain(text: &str) -> Result<Domain, String> {
    Domain::parse(text)
        .ok_or_else(|| format!("unknown domain {text:?}: use enterprise, mobile or ics"))
}

/// Runs `rampart attack`.
pub fn run(args: AttackArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let knowledge = load_knowledge(global)?;
    match args.command {
        AttackCommand::Show { id, json } => show(&knowledge, &id, json),
        AttackCommand::Search { text, json, limit } => search(&knowledge, &text, json, limit),
        AttackCommand::List {
            domain,
            tactic,
            platform,
            json,
        } => list(
            &knowledge,
            domain,
            tactic.as_deref(),
            platform.as_deref(),
            json,
        ),
    }
}

/// Loads the knowledge graph of the data directory through its cache, logging what
/// could not be loaded.
pub(crate) fn load_knowledge(global: &GlobalOpts) -> anyhow::Result<Knowledge> {
    let data_dir = global.data_dir();
    let (knowledge, status) = Knowledge::load(&data_dir).with_context(|| {
        format!(
            "cannot load the knowledge graph from {}",
            data_dir.display()
        )
    })?;
    match status {
        CacheStatus::Fresh => tracing::debug!("knowledge graph read from cache"),
        CacheStatus::Rebuilt { reason } => {
            tracing::info!("knowledge graph rebuilt ({reason} cache)")
        }
        CacheStatus::NotWritten { error, .. } => {
            tracing::warn!("knowledge graph could not be cached: {error}")
        }
    }
    for warning in knowledge.warnings() {
        tracing::warn!("{warning}");
    }
    Ok(knowledge)
}

/// Prints an "unknown" message with suggestions and returns exit code 2.
pub(crate) fn unknown(what: &str, query: &str, nearest: &[(String, String)]) -> ExitCode {
    let mut message = format!("error: unknown {what} {query:?}");
    if nearest.is_empty() {
        message.push_str(" (no close match)");
    } else {
        let list: Vec<String> = nearest
            .iter()
            .map(|(id, name)| format!("{} ({})", Escaped(id), Escaped(name)))
            .collect();
        message.push_str(&format!("; nearest matches: {}", list.join(", ")));
    }
    eprintln!("{message}");
    ExitCode::from(2)
}

fn show(knowledge: &Knowledge, query: &str, json: bool) -> anyhow::Result<ExitCode> {
    match knowledge.show(query) {
        Ok(report) => print(&report, json),
        Err(ShowError::Empty) => {
            eprintln!("error: no id or name given (e.g. `rampart attack show T1003.001`)");
            Ok(ExitCode::from(2))
        }
        Err(ShowError::NotLoaded("D3FEND")) => {
            anyhow::bail!("D3FEND is not loaded (no d3fend*.ttl in the data directory)")
        }
        Err(ShowError::NotLoaded(_)) => {
            anyhow::bail!("ENGAGE is not loaded (no ENGAGE JSON in the data directory)")
        }
        Err(ShowError::Unknown {
            what,
            query,
            nearest,
        }) => Ok(unknown(what, &query, &nearest)),
        Err(other) => Err(other.into()),
    }
}

fn print(report: &Report, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", rampart_knowledge::text::report(report));
    }
    Ok(ExitCode::SUCCESS)
}

/// One row of `attack search --json`.
#[derive(Serialize)]
struct SearchRow {
    id: String,
    name: String,
    /// `technique`, `group`, …, `d3fend-technique` or `engage-activity`.
    kind: &'static str,
    /// The ATT&CK domain, or `d3fend` / `engage`.
    domain: &'static str,
    score: f64,
}

fn search(knowledge: &Knowledge, text: &str, json: bool, limit: usize) -> anyhow::Result<ExitCode> {
    let rows: Vec<SearchRow> = knowledge
        .search_all(text, limit)
        .into_iter()
        .map(|hit| SearchRow {
            id: hit.id,
            name: hit.name,
            kind: hit.kind,
            domain: hit.source,
            score: (hit.score * 100.0).round() / 100.0,
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() {
        println!("no match for {text:?}");
    } else {
        for row in &rows {
            let line = format!(
                "{:<11} {:<19} {:<10} {}",
                Escaped(&row.id),
                row.kind,
                row.domain,
                Escaped(&row.name)
            );
            println!("{}", rampart_knowledge::text::escape(&line));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One row of `attack list --json`.
#[derive(Serialize)]
struct ListRow<'a> {
    id: &'a str,
    name: &'a str,
    tactics: &'a [String],
    platforms: &'a [String],
    is_subtechnique: bool,
    url: Option<&'a str>,
}

fn list(
    knowledge: &Knowledge,
    domain: Domain,
    tactic: Option<&str>,
    platform: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let Some(matrix) = knowledge.matrix(domain) else {
        anyhow::bail!(
            "no ATT&CK {domain} bundle ({domain}-attack*.json[.gz]) in the data directory"
        );
    };
    if let Some(wanted) = tactic {
        if matrix.tactic_shortname(wanted).is_none() {
            let known: Vec<&str> = matrix
                .tactics
                .iter()
                .filter(|t| t.meta.status == rampart_knowledge::Status::Active)
                .map(|t| t.shortname.as_str())
                .collect();
            eprintln!(
                "error: unknown {domain} tactic {wanted:?}; known tactics: {}",
                Escaped(&known.join(", "))
            );
            return Ok(ExitCode::from(2));
        }
    }
    let techniques = matrix.techniques_filtered(tactic, platform);
    let rows: Vec<ListRow> = techniques
        .iter()
        .map(|&i| {
            let t = &matrix.techniques[i as usize];
            ListRow {
                id: &t.meta.attack_id,
                name: &t.meta.name,
                tactics: &t.tactics,
                platforms: &t.platforms,
                is_subtechnique: t.is_subtechnique,
                url: t.meta.url.as_deref(),
            }
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for row in &rows {
            println!(
                "{:<11} {:<55} {}",
                Escaped(row.id),
                Escaped(row.name),
                Escaped(&row.tactics.join(", "))
            );
        }
        eprintln!("{} techniques", rows.len());
    }
    Ok(ExitCode::SUCCESS)
}
