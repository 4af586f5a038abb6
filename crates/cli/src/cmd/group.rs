//! `rampart group`.

use crate::global::GlobalOpts;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `rampart group`.
#[derive(Debug, Args)]
pub struct GroupArgs {}

/// Runs `rampart group`.
pub fn run(_args: GroupArgs, _global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rampart group` is not available in this build yet")
}
