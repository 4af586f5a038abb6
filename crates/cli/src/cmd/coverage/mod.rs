//! `rampart coverage`: claimed and validated coverage, visibility, ranked gaps, Navigator
//! layers, the HTML report; `rampart coverage diff OLD NEW`.

pub(crate) mod load;
mod output;

use crate::cmd::attack::parse_domain;
use crate::global::GlobalOpts;
use anyhow::Context;
use clap::{Args, Subcommand};
use rampart_coverage::{
    claimed_coverage, diff_coverage, lint_rules, load_labels, rank_gaps, resolve_groups,
    resolve_tactics, run_samples, validated_coverage, visibility, ClaimWeights, Collected,
    GapInputs, GapOptions, GapWeights, LintOptions,
};
use rampart_event::terminal::Escaped;
use rampart_knowledge::Domain;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `rampart coverage`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CoverageArgs {
    #[command(subcommand)]
    command: Option<CoverageCommand>,
    #[command(flatten)]
    run: Box<RunArgs>,
}

#[derive(Debug, Subcommand)]
enum CoverageCommand {
    /// Techniques gained and lost between two rule sets (folders or files).
    Diff {
        /// The old rule set.
        old: PathBuf,
        /// The new rule set.
        new: PathBuf,
        /// enterprise, mobile or ics.
        #[arg(long, default_value = "enterprise", value_parser = parse_domain)]
        domain: Domain,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Options of a coverage run.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Rule folders or files (default: the Sigma rule folders of the data directory).
    #[arg(long, num_args = 1.., value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// enterprise, mobile or ics.
    #[arg(long, default_value = "enterprise", value_parser = parse_domain)]
    domain: Domain,
    /// Labelled samples to validate on: SigmaHQ regression_data, an
    /// EVTX-ATTACK-SAMPLES-style folder, or a `path,technique` CSV.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    samples: Vec<PathBuf>,
    /// The log sources you collect, one per line (`WinEventLog:Sysmon EventCode=1,3`);
    /// without it, inferred from the samples' channels when samples are given.
    #[arg(long, value_name = "FILE")]
    collected: Option<PathBuf>,
    /// Threat groups to rank gaps for (names, aliases or G ids, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "GROUPS")]
    groups: Vec<String>,
    /// A file of threat groups, one per line.
    #[arg(long, value_name = "FILE")]
    groups_file: Option<PathBuf>,
    /// Only techniques of this platform (e.g. Windows).
    #[arg(long)]
    platform: Option<String>,
    /// Tactic priority, most important first (comma-separated; default Persistence,
    /// Privilege Escalation, Defense Evasion (from ATT&CK 19: Stealth, Defense
    /// Impairment), Credential Access, Lateral Movement, Exfiltration, Command and
    /// Control).
    #[arg(long, value_delimiter = ',', value_name = "TACTICS")]
    tactic_order: Vec<String>,
    /// Gap weights, e.g. `threat=3,tactic=2,coverage=2,confidence=1,visibility=0.5,countermeasures=0.5`.
    #[arg(long, value_name = "WEIGHTS")]
    weights: Option<String>,
    /// Write Navigator 4.5 layers: FILE (claimed), FILE's stem + `.gaps.json`, and
    /// `.validated.json` when samples are given.
    #[arg(long, value_name = "FILE")]
    layer: Option<PathBuf>,
    /// With --layer, also one set of layers per platform (`.windows.json`, …).
    #[arg(long)]
    per_platform: bool,
    /// Write the HTML report.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write the ranked gaps as CSV.
    #[arg(long, value_name = "FILE")]
    gaps_csv: Option<PathBuf>,
    /// Write the ranked gaps as a Markdown table.
    #[arg(long, value_name = "FILE")]
    gaps_md: Option<PathBuf>,
    /// Print everything as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Gap rows in the summary on stdout.
    #[arg(long, default_value_t = 20)]
    top: usize,
}

/// Runs `rampart coverage`.
pub fn run(args: CoverageArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(CoverageCommand::Diff {
            old,
            new,
            domain,
            json,
        }) => diff(global, old, new, domain, json),
        None => run_coverage(*args.run, global),
    }
}

fn diff(
    global: &GlobalOpts,
    old: PathBuf,
    new: PathBuf,
    domain: Domain,
    json: bool,
) -> anyhow::Result<ExitCode> {
    for path in [&old, &new] {
        anyhow::ensure!(path.exists(), "rule set {} does not exist", path.display());
    }
    let matrix = load::load_matrix(global, domain)?;
    let weights = ClaimWeights::default();
    let (_, old_rules) = load::load_rules(&[old]);
    let (_, new_rules) = load::load_rules(&[new]);
    let result = diff_coverage(
        &matrix,
        &claimed_coverage(&matrix, &old_rules, &weights),
        &claimed_coverage(&matrix, &new_rules, &weights),
    );
    if json {
        load::print_out(&format!("{}\n", serde_json::to_string_pretty(&result)?))?;
    } else {
        output::print_diff(&result)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn run_coverage(args: RunArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let matrix = load::load_matrix(global, args.domain)?;
    let dirs = load::rule_dirs(global, &args.rules)?;
    let (set, rules) = load::load_rules(&dirs);
    let mut claimed = claimed_coverage(&matrix, &rules, &ClaimWeights::default());
    if let Some(platform) = &args.platform {
        claimed = claimed.for_platform(&matrix, platform);
    }

    let mut validated = None;
    let mut inferred = Collected::default();
    if !args.samples.is_empty() {
        let mut labels = Vec::new();
        for path in &args.samples {
            let found = load_labels(path, &matrix);
            for problem in &found.diagnostics {
                eprintln!("warning: {}", Escaped(&problem.to_string()));
            }
            labels.extend(found.samples);
        }
        anyhow::ensure!(
            !labels.is_empty(),
            "no labelled samples found in the --samples paths"
        );
        let (engine, _diagnostics) =
            rampart_detect::Engine::compile(&set, &rampart_detect::LogsourceMap::builtin());
        let compiled = rampart_pipeline::CompiledRules::new(engine, set);
        let runs = run_samples(&compiled, &labels);
        for run in &runs {
            if let Some(error) = &run.error {
                let warning = format!("{}: {error}", run.label.path.display());
                eprintln!("warning: {}", Escaped(&warning));
            }
            for (channel, ids) in &run.channels {
                inferred.add(channel, ids.iter().copied());
            }
        }
        validated = Some(validated_coverage(&matrix, &rules, &runs));
    }
    let collected = match &args.collected {
        Some(file) => Some(Collected::from_file(file)?),
        None if validated.is_some() => Some(inferred),
        None => None,
    };
    let seen = collected
        .as_ref()
        .map(|c| visibility(&matrix, c, args.platform.as_deref()));

    let mut group_names = args.groups.clone();
    if let Some(file) = &args.groups_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read the groups file {}", file.display()))?;
        group_names.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or_default().trim().to_string())
                .filter(|l| !l.is_empty()),
        );
    }
    let options = GapOptions {
        groups: resolve_groups(&matrix, &group_names)?,
        platform: args.platform.clone(),
        tactic_order: resolve_tactics(&matrix, &args.tactic_order)?,
        weights: match &args.weights {
            Some(text) => GapWeights::parse(text)?,
            None => GapWeights::default(),
        },
    };
    let gaps = rank_gaps(
        &matrix,
        &GapInputs {
            claimed: &claimed,
            validated: validated.as_ref(),
            visibility: seen.as_ref(),
        },
        &options,
    );
    let lint = lint_rules(&matrix, &rules, &LintOptions::default());
    // Lint has counted the skew already; the summary and JSON say the same.
    let skew = &lint.version_skew;
    if args.json {
        // Said once on stderr too: JSON on stdout is read by programs, not people.
        if let Some(line) = skew.summary() {
            eprintln!("warning: {line}");
        }
    }
    let results = output::Results {
        matrix: &matrix,
        claimed: &claimed,
        validated: validated.as_ref(),
        visibility: seen.as_ref(),
        gaps: &gaps,
        lint: &lint,
        skew,
        platform: args.platform.as_deref(),
        groups: &options.groups,
    };
    output::write_files(&args, &results)?;
    if args.json {
        load::print_out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&results.json())?
        ))?;
    } else {
        output::print_summary(&results, args.top)?;
    }
    Ok(ExitCode::SUCCESS)
}
