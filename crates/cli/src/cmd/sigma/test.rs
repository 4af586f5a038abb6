//! `rampart sigma test`: SigmaHQ's regression data, run through the real pipeline.
//!
//! Each test case folder holds an `info.yml` naming a rule id and EVTX samples (often
//! with the exact `match_count` expected). The whole rule set is compiled once, as
//! `rampart hunt` compiles it, so routing, field renames and the prefilter are tested
//! too; each sample is read by the EVTX reader and only the named rule's alerts counted.
//!
//! Counting follows SigmaHQ's own runner: fewer matches than `match_count` (or none
//! when it is absent) fails; more is reported as a warning, because several samples
//! hold more matching events than their `match_count` says (e.g. three writes of an
//! AnyDesk config file where one is counted).

use crate::cmd::hunt::rules::{load_engine, rule_paths};
use crate::cmd::placeholders::PlaceholderArgs;
use crate::global::GlobalOpts;
use anyhow::Context;
use clap::Args;
use rampart_event::terminal::Escaped;
use rampart_event::Level;
use rampart_pipeline::{CompiledRules, ScanOptions};
use rayon::prelude::*;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `rampart sigma test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Sigma rule files or folders. Default: the Sigma rule folders in the data directory.
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// SigmaHQ's `regression_data` folder. Default: the one in the data directory.
    #[arg(long, value_name = "DIR")]
    regression: Option<PathBuf>,
    /// Extra logsource mappings (YAML, the format of the built-in map).
    #[arg(long, value_name = "FILE")]
    logsource: Option<PathBuf>,
    #[command(flatten)]
    placeholders: PlaceholderArgs,
    /// Follow symbolic links in rule folders (loops are detected and reported).
    /// Without it, links are reported and passed over.
    #[arg(long)]
    follow_links: bool,
}

/// `info.yml` of one test case (only what the suite needs).
#[derive(Debug, Deserialize)]
struct Info {
    #[serde(default)]
    rule_metadata: Vec<RuleMetadata>,
    #[serde(default)]
    regression_tests_info: Vec<TestInfo>,
}

#[derive(Debug, Deserialize)]
struct RuleMetadata {
    id: String,
}

#[derive(Debug, Deserialize)]
struct TestInfo {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    match_count: Option<u64>,
    #[serde(default)]
    path: Option<String>,
}

/// One sample to run.
#[derive(Debug)]
struct Case {
    rule_id: String,
    sample: PathBuf,
    expected: Option<u64>,
}

/// Why a case failed (or, for a warning, what is odd about it).
#[derive(Debug)]
struct Failure {
    rule_id: String,
    sample: PathBuf,
    reason: String,
}

/// Runs `rampart sigma test`; exits non-zero when any case failed.
pub fn run(args: TestArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let regression = match args.regression {
        Some(dir) => dir,
        None => {
            let data_dir = global.data_dir();
            rampart_refdata::discover(&data_dir)?
                .sigma_regression_dir
                .with_context(|| {
                    format!(
                        "no regression_data folder under {} (pass --regression DIR)",
                        data_dir.display()
                    )
                })?
        }
    };
    let mut options = args.placeholders.load_options()?;
    options.follow_links = args.follow_links;
    let rules = load_engine(
        &rule_paths(args.rules, global)?,
        &options,
        Level::Informational,
        args.logsource.as_deref(),
    )?;
    let (cases, mut failures) = collect_cases(&regression);
    let results: Vec<Outcome> = cases
        .par_iter()
        .map(|case| run_case(case, &rules.compiled))
        .collect();
    let mut passed = 0;
    let mut warnings = Vec::new();
    for (case, result) in cases.iter().zip(results) {
        match result {
            Outcome::Pass => passed += 1,
            Outcome::Warn(warning) => {
                passed += 1;
                warnings.push(warning);
            }
            Outcome::Fail(mut failure) => {
                if !rules.loaded_ids.contains(&case.rule_id) {
                    failure
                        .reason
                        .push_str(" (the rule did not load: see `rampart sigma check`)");
                } else if let Some((_, why)) =
                    rules.rejected.iter().find(|(id, _)| *id == case.rule_id)
                {
                    failure
                        .reason
                        .push_str(&format!(" (the compiler rejected the rule: {why})"));
                }
                failures.push(failure);
            }
        }
    }
    warnings.sort_by(|a, b| a.sample.cmp(&b.sample));
    for warning in &warnings {
        println!(
            "WARN {} {}: {}",
            Escaped(&warning.rule_id),
            Escaped(&warning.sample.display().to_string()),
            Escaped(&warning.reason)
        );
    }
    failures.sort_by(|a, b| a.sample.cmp(&b.sample));
    for failure in &failures {
        println!(
            "FAIL {} {}: {}",
            Escaped(&failure.rule_id),
            Escaped(&failure.sample.display().to_string()),
            Escaped(&failure.reason)
        );
    }
    println!("{passed} passed, {} failed", failures.len());
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Every EVTX case under `root`; a case folder whose `info.yml` cannot be used is a
/// failure of its own, so that a broken suite never passes silently.
fn collect_cases(root: &Path) -> (Vec<Case>, Vec<Failure>) {
    let mut infos = Vec::new();
    find_infos(root, &mut infos);
    infos.sort();
    let mut cases = Vec::new();
    let mut failures = Vec::new();
    for info_path in infos {
        let dir = info_path.parent().unwrap_or(root).to_path_buf();
        let info: Info = match std::fs::read_to_string(&info_path)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_yaml::from_str(&text).map_err(|e| e.to_string()))
        {
            Ok(info) => info,
            Err(reason) => {
                failures.push(Failure {
                    rule_id: "?".into(),
                    sample: info_path.clone(),
                    reason: format!("unreadable info.yml: {reason}"),
                });
                continue;
            }
        };
        let Some(rule) = info.rule_metadata.first() else {
            continue;
        };
        for test in &info.regression_tests_info {
            if test.kind.as_deref().is_some_and(|kind| kind != "evtx") {
                continue;
            }
            // `path` is relative to the Sigma repository; the sample sits beside info.yml.
            let file_name = test
                .path
                .as_deref()
                .and_then(|path| Path::new(path).file_name())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(format!("{}.evtx", rule.id)));
            cases.push(Case {
                rule_id: rule.id.clone(),
                sample: dir.join(file_name),
                expected: test.match_count,
            });
        }
    }
    (cases, failures)
}

fn find_infos(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            find_infos(&path, found);
        } else if path.file_name().is_some_and(|name| name == "info.yml") {
            found.push(path);
        }
    }
}

/// How one case went.
enum Outcome {
    Pass,
    Warn(Failure),
    Fail(Failure),
}

/// Runs one case.
fn run_case(case: &Case, rules: &CompiledRules) -> Outcome {
    let failure = |reason: String| Failure {
        rule_id: case.rule_id.clone(),
        sample: case.sample.clone(),
        reason,
    };
    let fail = |reason: String| Outcome::Fail(failure(reason));
    let (events, diagnostics) = match rampart_pipeline::samples::read_sample(&case.sample) {
        Ok(read) => read,
        Err(error) => return fail(format!("sample unreadable: {error}")),
    };
    let options = ScanOptions {
        all_matches: true,
        ..ScanOptions::default()
    };
    let got = rules
        .scan_events(&events, options)
        .alerts
        .iter()
        .filter(|alert| alert.rule_id == case.rule_id)
        .count() as u64;
    let problems = if diagnostics.is_empty() {
        String::new()
    } else {
        format!(" ({} problems reading the sample)", diagnostics.len())
    };
    match case.expected {
        Some(expected) if got < expected => {
            fail(format!("expected {expected} matches, got {got}{problems}"))
        }
        Some(expected) if got > expected => Outcome::Warn(failure(format!(
            "expected {expected} matches, got {got} (more than expected)"
        ))),
        None if got == 0 => fail(format!("expected at least 1 match, got 0{problems}")),
        _ => Outcome::Pass,
    }
}
