//! `rampart alerts`.

use crate::global::GlobalOpts;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `rampart alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {}

/// Runs `rampart alerts`.
pub fn run(_args: AlertsArgs, _global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rampart alerts` is not available in this build yet")
}
