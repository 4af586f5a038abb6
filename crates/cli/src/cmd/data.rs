//! `rampart data`.

use crate::global::GlobalOpts;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `rampart data`.
#[derive(Debug, Args)]
pub struct DataArgs {}

/// Runs `rampart data`.
pub fn run(_args: DataArgs, _global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rampart data` is not available in this build yet")
}
