//! `rampart respond`: playbook runs, approvals, the worker that sends their steps.

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
