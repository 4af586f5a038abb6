//! `rampart attack`.

use crate::global::GlobalOpts;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `rampart attack`.
#[derive(Debug, Args)]
pub struct AttackArgs {}

/// Runs `rampart attack`.
pub fn run(_args: AttackArgs, _global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rampart attack` is not available in this build yet")
}
