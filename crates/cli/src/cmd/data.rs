//! `rampart data`: what reference data is installed, updating it from MITRE, importing
//! local files.
//!
//! The work is done by `rampart-refdata`; this module turns its reports into text or
//! JSON and draws download progress on stderr when stderr is a terminal. Exit codes:
//! 0 when everything is in order, 1 when a file is broken or a download/import failed
//! (the files that did succeed are kept).

use crate::global::GlobalOpts;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rampart_refdata::{
    AttackDomain, DataKind, Failure, FileStatus, ImportOptions, Installed, Progress, SourceGroup,
    Status, UpdateOptions,
};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `rampart data`.
#[derive(Debug, Args)]
pub struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// What is installed: files found, versions, object counts, sizes, SHA-256.
    Status {
        /// Print JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// Download MITRE's published ATT&CK, D3FEND and ENGAGE files into the data
    /// directory. Each file is checked before it replaces the old one.
    Update {
        /// ATT&CK version to fetch, e.g. 18.1 (default: the latest release). It
        /// replaces the other versions Rampart installed before, so it is the one used.
        #[arg(long, value_name = "VERSION")]
        attack_version: Option<String>,
        /// A mirror to fetch from instead of MITRE, laid out like a data directory
        /// (URL/mitre-attack/enterprise-attack-18.1.json, URL/mitre-d3fend/d3fend.ttl,
        /// URL/mitre-engage/attack_mapping.json, …). `--from` is the same flag.
        #[arg(long, alias = "from", env = "RAMPART_DATA_URL", value_name = "URL")]
        base_url: Option<String>,
        /// Fetch only these sources (repeatable); all of them by default.
        #[arg(long, value_enum, value_name = "SOURCE")]
        only: Vec<Source>,
        /// The most bytes one file may take, downloaded and once decompressed; a
        /// server sending more is cut off and the file refused.
        #[arg(long, value_name = "BYTES", default_value_t = rampart_refdata::DEFAULT_MAX_EXPANDED)]
        max_expanded: u64,
    },
    /// Copy local files (one file, or a folder searched by file name) into the data
    /// directory, checking each. Sigma rule folders (rules, rules-emerging-threats, …)
    /// and SigmaHQ's regression_data found in a folder are copied whole under sigma/.
    Import {
        /// A file (enterprise-attack-18.1.json, d3fend.ttl, attack_mapping.json, …) or a
        /// folder holding such files (for instance a SigmaHQ checkout).
        path: PathBuf,
        /// The most bytes one file may expand to once decompressed, and all imported
        /// files together; a file beyond it (a gzip bomb) is refused as it is read.
        #[arg(long, value_name = "BYTES", default_value_t = rampart_refdata::DEFAULT_MAX_EXPANDED)]
        max_expanded: u64,
    },
}

/// A family of files for `--only`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Source {
    Attack,
    D3fend,
    Engage,
}

impl From<Source> for SourceGroup {
    fn from(source: Source) -> SourceGroup {
        match source {
            Source::Attack => SourceGroup::Attack,
            Source::D3fend => SourceGroup::D3fend,
            Source::Engage => SourceGroup::Engage,
        }
    }
}

/// Runs `rampart data`.
pub fn run(args: DataArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let data_dir = global.data_dir();
    match args.command {
        DataCommand::Status { json } => status(&data_dir, json),
        DataCommand::Update {
            attack_version,
            base_url,
            only,
            max_expanded,
        } => {
            let options = UpdateOptions {
                attack_version,
                base_url,
                only: only.into_iter().map(SourceGroup::from).collect(),
                max_expanded: Some(max_expanded),
            };
            let mut bars = Bars::new(std::io::stderr().is_terminal());
            let report = rampart_refdata::update(&data_dir, &options, &mut |p| bars.show(p));
            summarise(&data_dir, &report.installed, &report.failed)
        }
        DataCommand::Import { path, max_expanded } => {
            let options = ImportOptions { max_expanded };
            let report = rampart_refdata::import(&data_dir, &path, &options)
                .with_context(|| format!("importing {}", path.display()))?;
            summarise(&data_dir, &report.installed, &report.failed)
        }
    }
}

fn status(data_dir: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let files = rampart_refdata::discover(data_dir)?;
    let status = rampart_refdata::status(&files);
    if json {
        emit(&format!("{}\n", serde_json::to_string_pretty(&status)?))?;
    } else {
        // File names and versions come from the data folder: nothing but line breaks
        // reaches the terminal raw.
        let text = render_status(&status);
        emit(&rampart_event::terminal::escape_keeping_newlines(&text))?;
    }
    Ok(if status.is_healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Writes to stdout; a closed pipe (`rampart data status | head`) ends quietly.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// A path shown relative to the data directory when it lies inside it.
fn short(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn render_status(status: &Status) -> String {
    let mut out = format!("Data directory: {}\n", status.root.display());
    for file in status
        .files
        .iter()
        .filter(|f| f.kind != DataKind::EngageJson)
    {
        let version = match (&file.version, file.version_from) {
            (Some(v), Some(from)) => format!("{v} (from {from})"),
            (Some(v), None) => v.clone(),
            _ => "version unknown".to_owned(),
        };
        out += &format!(
            "\n{:<20} {}\n    {}  {}\n",
            file.kind.label(),
            version,
            short(&status.root, &file.path),
            human_bytes(file.bytes),
        );
        if let Some(sha) = &file.sha256 {
            out += &format!("    sha256 {sha}\n");
        }
        let counts = counts_line(file);
        if !counts.is_empty() {
            out += &format!("    {counts}\n");
        }
        if let Some(problem) = &file.problem {
            out += &format!("    PROBLEM: {problem}\n");
        }
    }
    out += &render_engage(status);
    for warning in &status.passed_over {
        out += &format!("\nPROBLEM: {warning}\n");
    }
    if !status.sigma_rule_dirs.is_empty() {
        out += "\nSigma rules\n";
        for dir in &status.sigma_rule_dirs {
            out += &format!(
                "    {:<40} {:>5} rule files  {}\n",
                short(&status.root, &dir.path),
                dir.yaml_files,
                human_bytes(dir.bytes)
            );
        }
    }
    if let Some(dir) = &status.sigma_regression_dir {
        out += &format!(
            "Sigma regression data\n    {}  ({} YAML files)\n",
            short(&status.root, &dir.path),
            dir.yaml_files
        );
    }
    let missing: Vec<&str> = [
        (
            DataKind::Attack(AttackDomain::Enterprise),
            "ATT&CK Enterprise",
        ),
        (DataKind::D3fendTurtle, "D3FEND"),
        (DataKind::EngageJson, "ENGAGE"),
    ]
    .into_iter()
    .filter(|(kind, _)| !status.files.iter().any(|f| f.kind == *kind))
    .map(|(_, name)| name)
    .collect();
    if !missing.is_empty() {
        out += &format!(
            "\nMissing: {} (fetch with `rampart data update`)\n",
            missing.join(", ")
        );
    }
    out
}

/// ENGAGE is a dozen small JSON files: one block, one line per file.
fn render_engage(status: &Status) -> String {
    let files: Vec<&FileStatus> = status
        .files
        .iter()
        .filter(|f| f.kind == DataKind::EngageJson)
        .collect();
    let Some(first) = files.first() else {
        return String::new();
    };
    let entries = |name: &str| {
        files
            .iter()
            .find(|f| f.path.file_name().is_some_and(|n| n == name))
            .and_then(|f| f.counts.get("entries").copied())
            .unwrap_or(0)
    };
    let folder = first.path.parent().unwrap_or(&first.path);
    let mut out = format!(
        "\nENGAGE               version not stated in its files\n    {}  {} files, {}\n    {} goals, {} approaches, {} activities, {} ATT&CK mappings\n",
        short(&status.root, folder),
        files.len(),
        human_bytes(files.iter().map(|f| f.bytes).sum()),
        entries("goals.json"),
        entries("approaches.json"),
        entries("activities.json"),
        entries("attack_mapping.json"),
    );
    for file in files {
        let name = file.path.file_name().unwrap_or_default().to_string_lossy();
        let sha = file.sha256.as_deref().unwrap_or("-");
        out += &format!("    sha256 {sha}  {name}\n");
        if let Some(problem) = &file.problem {
            out += &format!("    PROBLEM: {problem}\n");
        }
    }
    out
}

/// The counts a reader looks for first; the JSON output has them all.
fn counts_line(file: &FileStatus) -> String {
    let count = |key: &str| file.counts.get(key).copied().unwrap_or(0);
    match file.kind {
        DataKind::Attack(_) => format!(
            "{} techniques ({} active), {} groups, {} campaigns, {} software, {} mitigations, {} detection strategies",
            count("attack-pattern"),
            count("attack-pattern (active)"),
            count("intrusion-set"),
            count("campaign"),
            count("malware") + count("tool"),
            count("course-of-action"),
            count("x-mitre-detection-strategy"),
        ),
        _ => file
            .counts
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Prints what `update`/`import` installed and what failed; exit 1 on any failure.
fn summarise(
    data_dir: &Path,
    installed: &[Installed],
    failed: &[Failure],
) -> anyhow::Result<ExitCode> {
    let mut out = String::new();
    for file in installed {
        let version = file.summary.version.as_deref().unwrap_or("-");
        out += &format!(
            "installed  {:<20} {:<8} {}\n",
            file.kind.label(),
            version,
            short(data_dir, &file.path)
        );
    }
    for failure in failed {
        out += &format!("FAILED     {}\n", failure.error);
    }
    out += &format!(
        "{} installed, {} failed, in {}\n",
        installed.len(),
        failed.len(),
        data_dir.display()
    );
    emit(&out)?;
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Download progress on stderr: a bar per file on a terminal, nothing otherwise (the
/// summary on stdout says what happened).
struct Bars {
    enabled: bool,
    bars: HashMap<String, ProgressBar>,
}

impl Bars {
    fn new(enabled: bool) -> Bars {
        Bars {
            enabled,
            bars: HashMap::new(),
        }
    }

    fn show(&mut self, progress: Progress<'_>) {
        if !self.enabled {
            return;
        }
        match progress {
            Progress::Started { url, total } => {
                let bar = match total {
                    Some(total) => ProgressBar::new(total).with_style(
                        ProgressStyle::with_template(
                            "{msg:30!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    ),
                    None => ProgressBar::new_spinner().with_style(
                        ProgressStyle::with_template("{msg:30!} {spinner} {bytes} {bytes_per_sec}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    ),
                };
                bar.set_message(url.rsplit('/').next().unwrap_or(url).to_owned());
                self.bars.insert(url.to_owned(), bar);
            }
            Progress::Downloaded { url, bytes } => {
                if let Some(bar) = self.bars.get(url) {
                    bar.set_position(bytes);
                }
            }
            Progress::Verifying { url } => {
                if let Some(bar) = self.bars.get(url) {
                    bar.set_message(format!(
                        "checking {}",
                        url.rsplit('/').next().unwrap_or(url)
                    ));
                }
            }
            Progress::Installed(installed) => {
                if let Some(bar) = self.bars.remove(&installed.source) {
                    bar.finish_and_clear();
                }
            }
            Progress::Failed(failure) => {
                if let Some(bar) = self.bars.remove(&failure.source) {
                    bar.abandon();
                }
            }
        }
    }
}
