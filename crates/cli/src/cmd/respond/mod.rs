//! `rampart respond`: playbooks, what to do about an incident, playbook runs,
//! approvals, the worker that sends their steps.

mod lint;
mod plan;
pub mod runs;

use crate::global::GlobalOpts;
use clap::{Args, Subcommand};
use rampart_store::Decision;
use std::process::ExitCode;

/// Arguments of `rampart respond`.
#[derive(Debug, Args)]
pub struct RespondArgs {
    #[command(subcommand)]
    command: RespondCommand,
}

#[derive(Debug, Subcommand)]
enum RespondCommand {
    /// Check playbooks: schema, then D3FEND, RE&CT and ATT&CK ids, templates, secrets,
    /// durations. Exit status 3 when any error.
    Lint(lint::LintArgs),
    /// The countermeasures answering a stored incident, by D3FEND tactic, ranked; each
    /// runnable (a playbook step carries it out) or advice.
    Plan(plan::PlanArgs),
    /// Start a playbook for an incident (or, with --dry-run, show what it would send).
    Run(runs::RunArgs),
    /// List runs, newest first.
    Runs(runs::RunsArgs),
    /// One run: its steps, decisions and audit entries.
    Show(runs::ShowArgs),
    /// Approve a step waiting for approval.
    Approve(runs::DecideArgs),
    /// Reject a step waiting for approval (its run ends, rejected).
    Reject(runs::DecideArgs),
    /// Cancel an unfinished run.
    Cancel(runs::RunIdArgs),
    /// Undo a finished run: the compensations of its done steps, newest first.
    Compensate(runs::RunIdArgs),
    /// Send the steps of live runs until SIGTERM (resuming what a stopped worker left).
    Worker(runs::WorkerArgs),
}

/// Runs `rampart respond`.
pub fn run(args: RespondArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    match args.command {
        RespondCommand::Lint(args) => lint::run(args, global),
        RespondCommand::Plan(args) => plan::run(args, global),
        RespondCommand::Run(args) => runs::run(args, global),
        RespondCommand::Runs(args) => runs::runs(args, global),
        RespondCommand::Show(args) => runs::show(args, global),
        RespondCommand::Approve(args) => runs::decide(args, Decision::Approve, global),
        RespondCommand::Reject(args) => runs::decide(args, Decision::Reject, global),
        RespondCommand::Cancel(args) => runs::cancel(args, global),
        RespondCommand::Compensate(args) => runs::compensate(args, global),
        RespondCommand::Worker(args) => runs::worker(args, global),
    }
}

/// RE&CT from the data directory, or `None` with a warning saying why.
fn load_react(global: &GlobalOpts) -> Option<rampart_respond::react::React> {
    let data_dir = global.data_dir();
    let dir = match rampart_refdata::discover(&data_dir) {
        Ok(files) => files.react_dir,
        Err(error) => {
            tracing::warn!("{}", rampart_event::error_chain(&error));
            None
        }
    };
    let Some(dir) = dir else {
        tracing::warn!(
            "no RE&CT folder (response_actions/, response_stages/) in {}",
            data_dir.display()
        );
        return None;
    };
    match rampart_respond::react::React::from_dir(&dir) {
        Ok(react) => {
            for warning in &react.warnings {
                tracing::warn!("{warning}");
            }
            Some(react)
        }
        Err(error) => {
            tracing::warn!("RE&CT not loaded: {}", rampart_event::error_chain(&error));
            None
        }
    }
}
