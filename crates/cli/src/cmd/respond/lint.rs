//! `rampart respond lint PATH… [--json]`.
//!
//! Exit status 0 when no error was found (warnings allowed), 3 when any playbook file
//! has an error, as for a hunt that passed over input.

use crate::cmd::hunt::EXIT_SKIPPED_INPUT;
use crate::global::GlobalOpts;
use clap::Args;
use rampart_event::terminal::Escaped;
use rampart_respond::playbook::{lint_set, load_paths, LintContext};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `rampart respond lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Playbook files or folders (searched for `*.yml`, `*.yaml`).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `rampart respond lint`.
pub fn run(args: LintArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let set = load_paths(&args.paths);
    let knowledge = match crate::cmd::attack::load_knowledge(global) {
        Ok(knowledge) => Some(knowledge),
        Err(error) => {
            tracing::warn!("{}", rampart_event::error_chain(error.as_ref()));
            None
        }
    };
    let react = super::load_react(global);
    let report = lint_set(
        &set,
        LintContext {
            knowledge: knowledge.as_ref(),
            react: react.as_ref(),
        },
    );
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        // Paths and messages quote the files' text: escaped for the terminal.
        for diagnostic in &report.diagnostics {
            writeln!(out, "{}", Escaped(&diagnostic.to_string()))?;
        }
        for note in &report.notes {
            eprintln!("note: {note}");
        }
        eprintln!(
            "{} playbook(s) in {} file(s): {} error(s), {} warning(s)",
            report.playbooks.len(),
            report.files,
            report.errors,
            report.warnings
        );
    }
    out.flush()?;
    Ok(if report.errors > 0 {
        ExitCode::from(EXIT_SKIPPED_INPUT)
    } else {
        ExitCode::SUCCESS
    })
}
