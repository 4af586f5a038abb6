//! `rampart sigma lint`: IoA hygiene of a rule set against ATT&CK.
//!
//! Exit code 0 when there is nothing to report, 1 when there are findings (so CI can
//! gate on it), errors as usual.

use crate::cmd::attack::parse_domain;
use crate::cmd::coverage::load;
use crate::global::GlobalOpts;
use clap::Args;
use rampart_coverage::{escape_terminal, lint_rules, LintOptions};
use rampart_knowledge::Domain;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `rampart sigma lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Rule folders or files (default: the Sigma rule folders of the data directory).
    #[arg(long, num_args = 1.., value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// enterprise, mobile or ics.
    #[arg(long, default_value = "enterprise", value_parser = parse_domain)]
    domain: Domain,
    /// Similarity (0–1) at or above which two rules on one logsource are near-duplicates.
    #[arg(long, default_value_t = 0.5)]
    duplicate_threshold: f64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `rampart sigma lint`.
pub fn run(args: LintArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.duplicate_threshold),
        "--duplicate-threshold must be between 0 and 1"
    );
    let matrix = load::load_matrix(global, args.domain)?;
    let dirs = load::rule_dirs(global, &args.rules)?;
    let (_, rules) = load::load_rules(&dirs);
    let report = lint_rules(
        &matrix,
        &rules,
        &LintOptions {
            duplicate_threshold: args.duplicate_threshold,
        },
    );
    if args.json {
        load::print_out(&format!("{}\n", serde_json::to_string_pretty(&report)?))?;
    } else {
        let mut text = String::new();
        // Paths, titles and tags are the rule author's text: escaped for the terminal.
        for finding in &report.findings {
            let place = if finding.path.is_empty() {
                "rule set".to_string()
            } else {
                format!(
                    "{}: {}",
                    escape_terminal(&finding.path),
                    escape_terminal(&finding.title)
                )
            };
            text.push_str(&format!(
                "{place} [{}]: {}\n",
                finding.kind.as_str(),
                escape_terminal(&finding.message)
            ));
        }
        load::print_text(&text)?;
        let counts: Vec<String> = report
            .counts
            .iter()
            .map(|(kind, count)| format!("{kind} {count}"))
            .collect();
        eprintln!(
            "{} rules, {} findings{}",
            report.rules,
            report.findings.len(),
            if counts.is_empty() {
                String::new()
            } else {
                format!(" ({})", counts.join(", "))
            }
        );
    }
    Ok(if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
