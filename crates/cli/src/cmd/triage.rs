//! `rampart alerts triage` and `rampart incidents triage`: an analyst's change to an
//! alert or incident, without the service. The store checks the change and writes it
//! with its audit rows; this module only turns flags into a `TriageChange`.

use crate::cmd::alerts::StoreArg;
use crate::global::GlobalOpts;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;
use rampart_event::terminal::Escaped;
use rampart_store::{Subject, TriageChange, TriageRecord, TriageState, Verdict};
use std::process::ExitCode;

/// The flags of a triage command.
#[derive(Debug, Args)]
pub struct TriageArgs {
    /// The alert or incident id (any case).
    #[arg(value_name = "ID")]
    id: String,
    /// The new state.
    #[arg(long, value_name = "STATE", value_parser = state_parser())]
    state: Option<TriageState>,
    /// The verdict (required with `--state closed`).
    #[arg(long, value_name = "VERDICT", value_parser = verdict_parser())]
    verdict: Option<Verdict>,
    /// Why (required with `--state closed`).
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    /// Assign to someone (`--assign ''` unassigns).
    #[arg(long, value_name = "NAME")]
    assign: Option<String>,
    /// Add a tag (repeatable).
    #[arg(long, value_name = "TAG")]
    tag: Vec<String>,
    /// Remove a tag (repeatable).
    #[arg(long, value_name = "TAG")]
    untag: Vec<String>,
    /// Add a comment.
    #[arg(long, value_name = "TEXT")]
    comment: Option<String>,
    /// Who is acting (recorded in the audit). Default: `$USER`.
    #[arg(long, value_name = "NAME")]
    actor: Option<String>,
    /// Print the resulting record as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArg,
}

/// Triage state names as clap checks them (and `--help` lists them).
pub fn state_parser() -> impl TypedValueParser<Value = TriageState> {
    PossibleValuesParser::new(["new", "acknowledged", "in-progress", "closed"])
        .try_map(|name| name.parse::<TriageState>())
}

fn verdict_parser() -> impl TypedValueParser<Value = Verdict> {
    PossibleValuesParser::new(["true-positive", "benign-true-positive", "false-positive"])
        .try_map(|name| name.parse::<Verdict>())
}

/// Which kind of subject the command triages.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `alerts triage`.
    Alert,
    /// `incidents triage`.
    Incident,
}

/// Runs a triage command.
pub fn run(kind: Kind, args: TriageArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let subject = match kind {
        Kind::Alert => Subject::Alert(args.id.clone()),
        Kind::Incident => Subject::Incident(args.id.clone()),
    };
    let actor = args
        .actor
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| anyhow::anyhow!("no actor: pass --actor NAME (USER is not set)"))?;
    let change = TriageChange {
        state: args.state,
        verdict: args.verdict,
        reason: args.reason,
        assignee: args
            .assign
            .map(|a| Some(a).filter(|a| !a.trim().is_empty())),
        add_tags: args.tag,
        remove_tags: args.untag,
        comment: args.comment,
    };
    let mut store = rampart_store::open(&args.store.path(global))?;
    let record = store.triage(&subject, &actor, &change)?;
    if args.json {
        println!("{}", serde_json::to_string(&record)?);
    } else {
        eprintln!("{}", describe(&record));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line for people: `alert 1f… closed (false-positive: admin script), assigned to …`.
pub fn describe(record: &TriageRecord) -> String {
    let mut line = format!("{} {}", Escaped(&record.subject.to_string()), record.state);
    if let Some(verdict) = record.verdict {
        line.push_str(&format!(
            " ({verdict}: {})",
            Escaped(record.reason.as_deref().unwrap_or(""))
        ));
    }
    if let Some(assignee) = &record.assignee {
        line.push_str(&format!(", assigned to {}", Escaped(assignee)));
    }
    if !record.tags.is_empty() {
        line.push_str(&format!(", tags {}", Escaped(&record.tags.join(","))));
    }
    line
}

/// A subject's triage and comments for `show`: one line each, escaped.
pub fn write_triage(
    out: &mut impl std::io::Write,
    record: &TriageRecord,
    comments: &[rampart_store::Comment],
) -> std::io::Result<()> {
    writeln!(out, "triage: {}", describe(record))?;
    for comment in comments {
        writeln!(
            out,
            "  {} {}: {}",
            comment.at.format("%Y-%m-%d %H:%M:%S"),
            Escaped(&comment.actor),
            Escaped(&comment.text)
        )?;
    }
    Ok(())
}
