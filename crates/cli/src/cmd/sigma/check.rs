//! `rampart sigma check`.

use crate::global::GlobalOpts;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `rampart sigma check`.
#[derive(Debug, Args)]
pub struct CheckArgs {}

/// Runs `rampart sigma check`.
pub fn run(_args: CheckArgs, _global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rampart sigma check` is not available in this build yet")
}
