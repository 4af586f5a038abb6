//! Detection coverage: what the rules claim, what samples prove, what to build next.
//!
//! Coverage reads two things, an ATT&CK domain ([`AttackMatrix`]) and a rule set
//! ([`RuleInfo`]), both reduced to plain data by small adapters so that every
//! computation here is a pure function that hand-made cases can test. From them it
//! derives claimed coverage (weighted tags), validated coverage (rules firing on
//! labelled samples), visibility (log sources collected vs. those ATT&CK's analytics
//! need), one ranked gap list with reasons, and IoA lint findings. Writers turn the
//! results into ATT&CK Navigator layers (format 4.5), a self-contained HTML report with
//! an SVG heatmap, and CSV/Markdown tables. Samples are run through the compiled rules
//! by `rampart-pipeline` ([`run_samples`]); everything else is computation over plain
//! data.

mod claimed;
mod document;
mod error;
mod escape;
mod from_knowledge;
mod from_sigma;
mod gaps;
mod heatmap;
mod labels;
mod layer;
mod layer_check;
mod lint;
mod model;
mod report;
mod samples;
mod skew;
mod tables;
mod validated;
mod visibility;

#[cfg(test)]
mod testing;

pub use claimed::{
    claimed_coverage, resolved_techniques, ClaimWeights, ClaimedCoverage, PlatformCoverage,
    RuleClaim, TacticCoverage, TagIssue, TechniqueClaim,
};
pub use document::{claimed_document, matrix_with_countermeasures, CoverageDocument};
pub use error::CoverageError;
pub use escape::{escape, escape_markdown, escape_terminal, spreadsheet_safe};
pub use from_knowledge::matrix_from_knowledge;
pub use from_sigma::rule_info;
pub use gaps::{
    full_name, rank_gaps, resolve_groups, resolve_tactics, Factors, Gap, GapInputs, GapKind,
    GapOptions, GapWeights, DEFAULT_TACTIC_ORDER,
};
pub use heatmap::{heatmap_svg, score_color};
pub use labels::{load_labels, technique_ids_in, LabelSource, Labels, SampleLabel};
pub use layer::{
    claimed_layer, gaps_layer, validated_layer, Layer, LAYER_VERSION, NAVIGATOR_VERSION,
};
pub use layer_check::check_layer;
pub use lint::{lint_rules, LintFinding, LintKind, LintOptions, LintReport};
pub use model::{
    Analytic, AttackMatrix, Countermeasure, Group, IdStatus, LogSourceKey, LogSourceNeed, RuleInfo,
    Tactic, Technique,
};
pub use report::{html_report, ReportInput};
pub use samples::run_samples;
pub use skew::{version_skew, SkewedTag, VersionSkew, SKEW_REMEDY};
pub use tables::{diff_coverage, gaps_csv, gaps_markdown, CoverageDiff, DiffEntry};
pub use validated::{
    validated_coverage, Confidence, Evidence, Miss, SampleRun, TechniqueValidation,
    ValidatedCoverage,
};
pub use visibility::{
    attack_source_for_channel, visibility, Collected, TechniqueVisibility, Visibility,
};
