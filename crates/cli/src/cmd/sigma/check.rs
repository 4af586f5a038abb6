//! `rampart sigma check`: load rules, print every diagnostic and a summary.

use crate::cmd::placeholders::PlaceholderArgs;
use crate::global::GlobalOpts;
use anyhow::Context;
use clap::Args;
use rampart_event::terminal::Escaped;
use rampart_sigma::{load_rules_with, Diagnostic, RuleSet, Severity};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Arguments of `rampart sigma check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Rule files or folders (searched recursively for .yml/.yaml). Default: the
    /// SigmaHQ rule folders (`rules`, `rules-*`) found under the data directory.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Print the diagnostics and the summary as one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    placeholders: PlaceholderArgs,
    /// Follow symbolic links in rule folders (loops are detected and reported).
    /// Without it, links are reported and passed over.
    #[arg(long)]
    follow_links: bool,
}

/// Runs `rampart sigma check`; exits non-zero when any rule failed to load.
pub fn run(args: CheckArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let paths = if args.paths.is_empty() {
        default_rule_folders(global)?
    } else {
        args.paths
    };
    let mut options = args.placeholders.load_options()?;
    options.follow_links = args.follow_links;
    let started = Instant::now();
    let (set, diagnostics) = load_rules_with(&paths, &options);
    let summary = Summary::new(&set, &diagnostics, started.elapsed());
    if args.json {
        println!("{}", summary.to_json(&diagnostics));
    } else {
        for diagnostic in &diagnostics {
            // One line each, whatever the rule's file name and text hold.
            println!("{}", Escaped(&diagnostic.to_string()));
        }
        summary.print();
    }
    Ok(if summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The Sigma rule folders reference-data discovery finds (the same set `hunt` and
/// `coverage` run by default: SigmaHQ's release package, no placeholder or compliance
/// rules).
fn default_rule_folders(global: &GlobalOpts) -> anyhow::Result<Vec<PathBuf>> {
    let data_dir = global.data_dir();
    let folders = rampart_refdata::discover(&data_dir)
        .with_context(|| format!("cannot search {} for rules", data_dir.display()))?
        .sigma_rule_dirs;
    if folders.is_empty() {
        anyhow::bail!(
            "no rule folders given and none found under {} (pass PATH or --data-dir)",
            data_dir.display()
        );
    }
    Ok(folders)
}

/// What was loaded and what failed, counted.
struct Summary {
    rules: usize,
    correlations: usize,
    filters: usize,
    failed: usize,
    warnings: usize,
    by_kind: BTreeMap<&'static str, usize>,
    elapsed: Duration,
}

impl Summary {
    fn new(set: &RuleSet, diagnostics: &[Diagnostic], elapsed: Duration) -> Self {
        let mut by_kind = BTreeMap::new();
        let mut failed = 0;
        for diagnostic in diagnostics {
            if diagnostic.severity == Severity::Error {
                failed += 1;
                *by_kind.entry(diagnostic.kind.as_str()).or_default() += 1;
            }
        }
        Summary {
            rules: set.rules.len(),
            correlations: set.correlations.len(),
            filters: set.filters.len(),
            failed,
            warnings: diagnostics.len() - failed,
            by_kind,
            elapsed,
        }
    }

    fn loaded(&self) -> usize {
        self.rules + self.correlations + self.filters
    }

    fn print(&self) {
        let total = self.loaded() + self.failed;
        println!("rules: {total}");
        println!(
            "loaded: {} ({} rules, {} correlations, {} filters)",
            self.loaded(),
            self.rules,
            self.correlations,
            self.filters
        );
        println!("failed: {}", self.failed);
        for (kind, count) in &self.by_kind {
            println!("  {kind}: {count}");
        }
        if self.warnings > 0 {
            println!("warnings: {}", self.warnings);
        }
        println!("time: {} ms", self.elapsed.as_millis());
    }

    fn to_json(&self, diagnostics: &[Diagnostic]) -> serde_json::Value {
        let diagnostics: Vec<serde_json::Value> = diagnostics
            .iter()
            .map(|d| {
                serde_json::json!({
                    "path": d.path.display().to_string(),
                    "line": d.line,
                    "severity": d.severity.as_str(),
                    "kind": d.kind.as_str(),
                    "message": d.message,
                })
            })
            .collect();
        serde_json::json!({
            "rules": self.loaded() + self.failed,
            "loaded": self.loaded(),
            "failed": self.failed,
            "detection_rules": self.rules,
            "correlations": self.correlations,
            "filters": self.filters,
            "warnings": self.warnings,
            "failed_by_kind": self.by_kind,
            "elapsed_ms": self.elapsed.as_millis() as u64,
            "diagnostics": diagnostics,
        })
    }
}
