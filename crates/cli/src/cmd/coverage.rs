//! `rampart coverage`.

use crate::global::GlobalOpts;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `rampart coverage`.
#[derive(Debug, Args)]
pub struct CoverageArgs {}

/// Runs `rampart coverage`.
pub fn run(_args: CoverageArgs, _global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rampart coverage` is not available in this build yet")
}
