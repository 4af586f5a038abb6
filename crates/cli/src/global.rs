//! Options shared by every subcommand.

use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Options shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Directory holding the reference data (ATT&CK, D3FEND, ENGAGE, Sigma rules).
    /// Files are found in it by name, recursively.
    #[arg(long, global = true, env = "RAMPART_DATA", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// More log output on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Colour in log output: `auto` (only on a terminal, and not when `NO_COLOR` is
    /// set), `always` or `never`.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// When to write ANSI colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour a terminal, unless `NO_COLOR` is set to something.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream that `is_terminal` or not: escape sequences in a
    /// file or a pipe are noise to whatever reads it (<https://no-color.org>).
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal && !matches!(std::env::var_os("NO_COLOR"), Some(v) if !v.is_empty())
            }
        }
    }
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
        .with_ansi(opts.color.enabled(std::io::stderr().is_terminal()))
        .init();
}
