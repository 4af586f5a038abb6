//! Writing coverage results: files (layers, HTML, gap tables), JSON and the summary.

use super::RunArgs;
use anyhow::Context;
use rampart_coverage::{
    claimed_layer, gaps_csv, gaps_layer, gaps_markdown, html_report, validated_layer, Confidence,
    CoverageDiff, Layer, ReportInput, Visibility,
};
use rampart_event::terminal::{escape, Escaped};
use std::path::{Path, PathBuf};

/// `println!` into a string, so output is written once and a closed pipe is harmless.
macro_rules! emit {
    ($out:expr) => {
        $out.push('\n')
    };
    ($out:expr, $($arg:tt)*) => {{
        $out.push_str(&format!($($arg)*));
        $out.push('\n');
    }};
}

pub(super) use rampart_coverage::CoverageDocument as Results;

fn sibling(base: &Path, suffix: &str) -> PathBuf {
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    base.with_file_name(format!("{stem}{suffix}.json"))
}

fn write_json(path: &Path, layer: &Layer, written: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(layer)?;
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path.to_path_buf());
    Ok(())
}

fn write_layers(
    base: &Path,
    suffix: &str,
    results: &Results<'_>,
    platform: Option<&str>,
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let claimed_path = if suffix.is_empty() {
        base.to_path_buf()
    } else {
        sibling(base, suffix)
    };
    write_json(
        &claimed_path,
        &claimed_layer(results.matrix, results.claimed, platform),
        written,
    )?;
    write_json(
        &sibling(base, &format!("{suffix}.gaps")),
        &gaps_layer(results.matrix, results.gaps, platform),
        written,
    )?;
    if let Some(validated) = results.validated {
        let layer = validated_layer(results.matrix, results.claimed, validated, platform);
        write_json(
            &sibling(base, &format!("{suffix}.validated")),
            &layer,
            written,
        )?;
    }
    Ok(())
}

/// Writes every file the flags ask for and lists them on stderr.
pub(super) fn write_files(args: &RunArgs, results: &Results<'_>) -> anyhow::Result<()> {
    let mut written = Vec::new();
    if let Some(base) = &args.layer {
        write_layers(base, "", results, results.platform, &mut written)?;
        if args.per_platform {
            for platform in results.matrix.platforms() {
                let suffix = format!(".{}", platform.to_lowercase().replace([' ', '/'], "-"));
                write_layers(base, &suffix, results, Some(&platform), &mut written)?;
            }
        }
    }
    if let Some(path) = &args.html {
        let html = html_report(&ReportInput {
            title: "Rampart detection coverage",
            matrix: results.matrix,
            claimed: results.claimed,
            validated: results.validated,
            gaps: results.gaps,
            lint: Some(results.lint),
            platform: results.platform,
        });
        std::fs::write(path, html).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path.clone());
    }
    if let Some(path) = &args.gaps_csv {
        std::fs::write(path, gaps_csv(results.gaps)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path.clone());
    }
    if let Some(path) = &args.gaps_md {
        std::fs::write(path, gaps_markdown(results.gaps))
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path.clone());
    }
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// The human summary on stdout.
pub(super) fn print_summary(results: &Results<'_>, top: usize) -> anyhow::Result<()> {
    let mut out = String::new();
    let (parents, parents_total) = results.claimed.parent_totals(results.matrix);
    let (all, all_total) = results.claimed.all_totals(results.matrix);
    emit!(
        out,
        "ATT&CK {} {}: {} rules ({} mapped to techniques) claim {parents} of {parents_total} parent techniques ({} %) and {all} of {all_total} techniques incl. sub-techniques ({} %)",
        results.matrix.domain,
        results.matrix.attack_version,
        results.claimed.rules,
        results.claimed.rules_with_technique,
        percent(parents, parents_total),
        percent(all, all_total)
    );
    if let Some(skew) = results.skew.summary() {
        emit!(out, "warning: {skew}");
    }
    emit!(out);
    emit!(out, "{:<24} {:>9} {:>14}", "tactic", "claimed", "with subs");
    for row in &results.claimed.by_tactic {
        emit!(
            out,
            "{:<24} {:>4}/{:<4} {:>7}/{:<6}",
            Escaped(&row.name),
            row.covered,
            row.techniques,
            row.covered_with_subtechniques,
            row.with_subtechniques
        );
    }
    if let Some(v) = results.validated {
        let validated = v.count(Confidence::Validated);
        let self_validated = v.count(Confidence::SelfValidated);
        let corroborated = v.count(Confidence::Corroborated);
        let never: Vec<&String> = results
            .claimed
            .techniques
            .keys()
            .filter(|id| v.confidence(id).is_none())
            .collect();
        emit!(out);
        emit!(
        out,
            "validated: {} samples ({} unreadable, {} with alerts): {validated} techniques validated on independent samples, {self_validated} self-validated only (by their own rules' regression samples), {corroborated} corroborated, {} claimed but never validated, {} labelled samples missed",
            v.samples, v.unreadable, v.samples_with_alerts, never.len(), v.misses.len()
        );
    }
    if let Some(seen) = results.visibility {
        let count = |want: Visibility| seen.values().filter(|t| t.visibility == want).count();
        emit!(
            out,
            "visibility: {} visible, {} blind, {} without analytics",
            count(Visibility::Visible),
            count(Visibility::Blind),
            count(Visibility::NoAnalytics)
        );
    }
    emit!(out);
    emit!(
        out,
        "top {} of {} gaps:",
        top.min(results.gaps.len()),
        results.gaps.len()
    );
    for gap in results.gaps.iter().take(top) {
        emit!(
            out,
            "{:>3}. {:<10} {:<50} {:>5.2}  {}",
            gap.rank,
            Escaped(&gap.technique),
            truncate(&escape(&gap.name), 50),
            gap.priority,
            Escaped(&gap.reasons.join("; "))
        );
    }
    emit!(out);
    emit!(
        out,
        "lint: {} findings over {} rules ({})",
        results.lint.findings.len(),
        results.lint.rules,
        results
            .lint
            .counts
            .iter()
            .map(|(k, v)| format!("{} {v}", Escaped(k)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    super::load::print_text(&out)
}

/// `part` of `whole` in whole percent (0 when there is no whole).
fn percent(part: usize, whole: usize) -> usize {
    (part * 100).checked_div(whole).unwrap_or(0)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

/// The human form of `coverage diff`.
pub(super) fn print_diff(diff: &CoverageDiff) -> anyhow::Result<()> {
    let mut out = String::new();
    for (label, list) in [
        ("gained", &diff.gained),
        ("lost", &diff.lost),
        ("stronger", &diff.stronger),
        ("weaker", &diff.weaker),
    ] {
        emit!(out, "{label}: {}", list.len());
        for entry in list.iter() {
            emit!(
                out,
                "  {:<10} {:<60} {:.2} -> {:.2} ({} -> {} rules)",
                Escaped(&entry.technique),
                truncate(&escape(&entry.name), 60),
                entry.old_score,
                entry.new_score,
                entry.old_rules,
                entry.new_rules
            );
        }
    }
    super::load::print_text(&out)
}
