//! `rampart sigma`: rule checking, linting and the regression suite.

mod check;
mod lint;
pub mod suppress;
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
    /// Suppress a stored alert's pattern: write a Sigma filter into the tuning folder
    /// (prints its id). Loaded with the rules from the next hunt or reload on.
    Suppress(suppress::SuppressArgs),
    /// List the tuning folder's filters, active or expired.
    Suppressions(suppress::ListArgs),
    /// Remove a suppression (deletes its filter file).
    Unsuppress(suppress::UnsuppressArgs),
}

/// Runs `rampart sigma`.
pub fn run(args: SigmaArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    match args.command {
        SigmaCommand::Check(args) => check::run(args, global),
        SigmaCommand::Test(args) => test::run(args, global),
        SigmaCommand::Lint(args) => lint::run(args, global),
        SigmaCommand::Suppress(args) => suppress::suppress(args, global),
        SigmaCommand::Suppressions(args) => suppress::list(args, global),
        SigmaCommand::Unsuppress(args) => suppress::unsuppress(args, global),
    }
}
