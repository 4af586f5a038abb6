//! `rampart hunt`.

use crate::global::GlobalOpts;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `rampart hunt`.
#[derive(Debug, Args)]
pub struct HuntArgs {}

/// Runs `rampart hunt`.
pub fn run(_args: HuntArgs, _global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rampart hunt` is not available in this build yet")
}
