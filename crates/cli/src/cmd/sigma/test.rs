//! `rampart sigma test`.

use crate::global::GlobalOpts;
use clap::Args;
use std::process::ExitCode;

/// Arguments of `rampart sigma test`.
#[derive(Debug, Args)]
pub struct TestArgs {}

/// Runs `rampart sigma test`.
pub fn run(_args: TestArgs, _global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rampart sigma test` is not available in this build yet")
}
