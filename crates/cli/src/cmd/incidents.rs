//! `rampart incidents`.

use crate::global::GlobalOpts;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `rampart incidents`.
#[derive(Debug, Args)]
pub struct IncidentsArgs {}

/// Runs `rampart incidents`.
pub fn run(_args: IncidentsArgs, _global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rampart incidents` is not available in this build yet")
}
