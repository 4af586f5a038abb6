//! `rampart sigma`: rule checking, linting and the regression suite.

mod check;
mod lint;
mod test;

use crate::global::GlobalOpts;
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// Arguments of `rampart sigma`.
#[derive(Debug, Args)]
pub struct SigmaArgs {
    #[command(subcommand)]
    command: SigmaCommand,
}

#[derive(Debug, Subcommand)]
enum SigmaCommand {
    /// Load rules and report every one that cannot be loaded, with the reason.
    Check(check::CheckArgs),
    /// Run SigmaHQ's regression data: each rule must match its EVTX sample.
    Test(test::TestArgs),
    /// IoA hygiene: ATT&CK tagging, unknown/revoked ids, near-duplicate rules.
    Lint(lint::LintArgs),
}

/// Runs `rampart sigma`.
pub fn run(args: SigmaArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    match args.command {
        SigmaCommand::Check(args) => check::run(args, global),
        SigmaCommand::Test(args) => test::run(args, global),
        SigmaCommand::Lint(args) => lint::run(args, global),
    }
}
