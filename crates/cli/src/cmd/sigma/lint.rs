//! `rampart sigma lint`.

use crate::global::GlobalOpts;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `rampart sigma lint`.
#[derive(Debug, Args)]
pub struct LintArgs {}

/// Runs `rampart sigma lint`.
pub fn run(_args: LintArgs, _global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rampart sigma lint` is not available in this build yet")
}
