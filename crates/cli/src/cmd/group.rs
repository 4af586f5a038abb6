//! `rampart group`: a threat group and what it uses.
//!
//! Exit codes as for `rampart attack`: 2 when no group goes by the name asked for.

use super::attack::{load_knowledge, unknown};
use crate::global::GlobalOpts;
use clap::{Args, Subcommand};
use rampart_knowledge::{Kind, Resolution};
use std::process::ExitCode;

/// Arguments of `rampart group`.
#[derive(Debug, Args)]
pub struct GroupArgs {
    #[command(subcommand)]
    command: GroupCommand,
}

#[derive(Debug, Subcommand)]
enum GroupCommand {
    /// A group's techniques (direct and through software or campaigns, marked which),
    /// software and campaigns.
    Show {
        /// Group id (G0016), name (APT29) or alias (Cozy Bear), any case.
        name: String,
        /// Print JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `rampart group`.
pub fn run(args: GroupArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let GroupCommand::Show { name, json } = args.command;
    let knowledge = load_knowledge(global)?;
    let resolution = knowledge.resolve(&name);
    let hit = match (&resolution, resolution.named()) {
        (_, Some(hit)) if hit.node.kind == Kind::Group => hit,
        (Resolution::Unknown { .. }, _) => {
            // Suggest groups only: the overall nearest names may all be techniques.
            let nearest: Vec<(String, String)> = knowledge
                .nearest(&name, 200)
                .into_iter()
                .filter(|s| s.id.starts_with('G'))
                .take(5)
                .map(|s| (s.id, s.name))
                .collect();
            return Ok(unknown("group", &name, &nearest));
        }
        (_, Some(other)) => {
            let kind = other.node.kind.as_str();
            eprintln!(
                "error: {name:?} is a {kind}, not a group (try `rampart attack show {name}`)"
            );
            return Ok(ExitCode::from(2));
        }
        (_, None) => return Ok(unknown("group", &name, &[])),
    };
    let Some(report) = knowledge.group_report(hit) else {
        return Ok(unknown("group", &name, &[]));
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", rampart_knowledge::text::group(&report));
    }
    Ok(ExitCode::SUCCESS)
}
