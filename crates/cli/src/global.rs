//! Options shared by every subcommand.

use clap::Args;
use std::path::PathBuf;

/// Options shared by every subcommand.
#[derive(Debug, Args)]
pub struct GlobalOpts {
    /// Directory holding the reference data (ATT&CK, D3FEND, ENGAGE, Sigma rules).
    /// Files are found in it by name, recursively.
    #[arg(long, global = true, env = "RAMPART_DATA", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// More log output on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl GlobalOpts {
    /// The data directory: `--data-dir`, else `RAMPART_DATA`, else the platform data
    /// directory (e.g. `~/.local/share/rampart`).
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| {
            dirs::data_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("rampart")
        })
    }
}

/// Logs go to stderr so that stdout stays machine-readable.
pub fn init_logging(opts: &GlobalOpts) {
    let default = match opts.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RAMPART_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
