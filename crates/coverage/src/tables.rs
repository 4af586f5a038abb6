//! The ranked gaps as CSV and Markdown tables, and the rule-set diff.

use crate::claimed::ClaimedCoverage;
use crate::error::CoverageError;
use crate::escape::{escape_markdown, spreadsheet_safe};
use crate::gaps::Gap;
use crate::model::AttackMatrix;
use serde::Serialize;
use std::path::Path;

fn kind_name(gap: &Gap) -> String {
    format!("{:?}", gap.kind).to_lowercase()
}

/// The gaps as CSV (rank, technique, name, tactics, kind, priority, claimed, groups,
/// countermeasures, reasons); list cells are `;`-separated.
pub fn gaps_csv(gaps: &[Gap]) -> Result<String, CoverageError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| CoverageError::Io {
        path: Path::new("<gaps csv>").to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    };
    writer
        .write_record([
            "rank",
            "technique",
            "name",
            "tactics",
            "kind",
            "priority",
            "claimed",
            "groups",
            "countermeasures",
            "reasons",
        ])
        .map_err(io)?;
    for gap in gaps {
        let cells = [
            gap.rank.to_string(),
            gap.technique.clone(),
            gap.name.clone(),
            gap.tactics.join(";"),
            kind_name(gap),
            format!("{:.3}", gap.priority),
            format!("{:.3}", gap.claimed),
            gap.groups.join(";"),
            gap.countermeasures.join(";"),
            gap.reasons.join("; "),
        ];
        writer
            .write_record(cells.into_iter().map(spreadsheet_safe))
            .map_err(io)?;
    }
    let bytes = writer.into_inner().map_err(|e| io(e.into_error().into()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The gaps as a Markdown table.
pub fn gaps_markdown(gaps: &[Gap]) -> String {
    let mut out = String::from("| # | Technique | Name | Kind | Priority | Claimed | Groups | Why |\n|---:|---|---|---|---:|---:|---|---|\n");
    for gap in gaps {
        let groups = if gap.groups.len() > 5 {
            format!("{} +{}", gap.groups[..5].join(", "), gap.groups.len() - 5)
        } else {
            gap.groups.join(", ")
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {:.2} | {:.2} | {} | {} |\n",
            gap.rank,
            escape_markdown(&gap.technique),
            escape_markdown(&gap.name),
            kind_name(gap),
            gap.priority,
            gap.claimed,
            escape_markdown(&groups),
            escape_markdown(&gap.reasons.join("; "))
        ));
    }
    out
}

/// One technique gained or lost between two rule sets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffEntry {
    /// Technique id.
    pub technique: String,
    /// Technique name.
    pub name: String,
    /// Claimed score in the old set.
    pub old_score: f64,
    /// Claimed score in the new set.
    pub new_score: f64,
    /// Rules claiming it in the old set.
    pub old_rules: usize,
    /// Rules claiming it in the new set.
    pub new_rules: usize,
}

/// What changed in claimed coverage between two rule sets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageDiff {
    /// Claimed in the new set only.
    pub gained: Vec<DiffEntry>,
    /// Claimed in the old set only.
    pub lost: Vec<DiffEntry>,
    /// Claimed in both, with a higher score now.
    pub stronger: Vec<DiffEntry>,
    /// Claimed in both, with a lower score now.
    pub weaker: Vec<DiffEntry>,
}

/// Compares the claimed coverage of two rule sets.
pub fn diff_coverage(
    matrix: &AttackMatrix,
    old: &ClaimedCoverage,
    new: &ClaimedCoverage,
) -> CoverageDiff {
    let mut diff = CoverageDiff {
        gained: Vec::new(),
        lost: Vec::new(),
        stronger: Vec::new(),
        weaker: Vec::new(),
    };
    let ids: std::collections::BTreeSet<&String> =
        old.techniques.keys().chain(new.techniques.keys()).collect();
    for id in ids {
        let (before, after) = (old.techniques.get(id), new.techniques.get(id));
        let entry = DiffEntry {
            technique: id.clone(),
            name: matrix
                .technique(id)
                .map(|t| crate::gaps::full_name(matrix, t))
                .unwrap_or_default(),
            old_score: before.map_or(0.0, |c| c.score),
            new_score: after.map_or(0.0, |c| c.score),
            old_rules: before.map_or(0, |c| c.rules.len()),
            new_rules: after.map_or(0, |c| c.rules.len()),
        };
        match (before.is_some(), after.is_some()) {
            (false, true) => diff.gained.push(entry),
            (true, false) => diff.lost.push(entry),
            _ if entry.new_score > entry.old_score + 1e-9 => diff.stronger.push(entry),
            _ if entry.new_score + 1e-9 < entry.old_score => diff.weaker.push(entry),
            _ => {}
        }
    }
    diff
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claimed::{claimed_coverage, ClaimWeights};
    use crate::gaps::{rank_gaps, GapInputs, GapOptions};
    use crate::model::RuleInfo;
    use crate::testing::small_matrix;
    use rampart_event::Level;

    #[test]
    fn diff_reports_gained_and_lost() {
        let matrix = small_matrix();
        let old = [
            RuleInfo::new("a", "a", Level::High, &["T1070"]),
            RuleInfo::new("b", "b", Level::Low, &["T1003.001"]),
        ];
        let new = [
            RuleInfo::new("b", "b", Level::High, &["T1003.001"]),
            RuleInfo::new("c", "c", Level::High, &["T1547"]),
        ];
        let weights = ClaimWeights::default();
        let diff = diff_coverage(
            &matrix,
            &claimed_coverage(&matrix, &old, &weights),
            &claimed_coverage(&matrix, &new, &weights),
        );
        let ids = |list: &[DiffEntry]| list.iter().map(|e| e.technique.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&diff.gained), ["T1547"]);
        assert_eq!(ids(&diff.lost), ["T1070"]);
        assert_eq!(ids(&diff.stronger), ["T1003", "T1003.001"]);
        assert_eq!(diff.stronger[1].name, "OS Credential Dumping: LSASS Memory");
    }

    /// The gaps of the small test matrix when no rule claims anything.
    fn small_gaps() -> Vec<crate::Gap> {
        let matrix = small_matrix();
        let claimed = claimed_coverage(&matrix, &[], &ClaimWeights::default());
        let inputs = GapInputs {
            claimed: &claimed,
            validated: None,
            visibility: None,
        };
        rank_gaps(&matrix, &inputs, &GapOptions::default())
    }

    #[test]
    fn tables_have_a_row_per_gap_and_escape_cells() {
        let mut gaps = small_gaps();
        gaps[0].name = "a|b".into();
        let markdown = gaps_markdown(&gaps);
        assert_eq!(markdown.lines().count(), gaps.len() + 2);
        assert!(markdown.contains("a\\|b"));
        let csv = gaps_csv(&gaps).map_err(|e| e.to_string());
        let csv = csv.as_deref().unwrap_or_default();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(reader.records().count(), gaps.len());
    }

    #[test]
    fn csv_cells_a_spreadsheet_would_run_are_prefixed() {
        let mut gaps = small_gaps();
        gaps[0].name = "=cmd|' /C calc'!A0".into();
        gaps[0].reasons = vec!["@SUM(1)".into()];
        let csv = gaps_csv(&gaps).map_err(|e| e.to_string());
        let csv = csv.as_deref().unwrap_or_default();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let first = reader.records().next().and_then(Result::ok);
        let first = first.as_ref();
        assert_eq!(first.and_then(|r| r.get(2)), Some("'=cmd|' /C calc'!A0"));
        assert_eq!(first.and_then(|r| r.get(9)), Some("'@SUM(1)"));
    }
}
