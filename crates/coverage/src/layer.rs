//! ATT&CK Navigator layers, format 4.5: claimed, validated and gaps, optionally per platform.
//!
//! The types mirror the Navigator's layer format 4.5 property tables (layer, versions,
//! filters, layout, technique, gradient, legend item, metadata);
//! [`crate::check_layer`] checks a layer's JSON against the rules those tables state,
//! so a test can prove the Navigator would open what we write. One entry is written per
//! (technique, tactic) so that a technique's annotation shows under each of its tactics.

use crate::claimed::ClaimedCoverage;
use crate::gaps::Gap;
use crate::model::AttackMatrix;
use crate::validated::{Confidence, ValidatedCoverage};
use serde::{Deserialize, Serialize};

/// The Navigator version we declare (the format requires at least 4.9.0).
pub const NAVIGATOR_VERSION: &str = "5.2.0";
/// The layer format version.
pub const LAYER_VERSION: &str = "4.5";
const METADATA_RULES: usize = 10;

/// A Navigator layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Layer {
    /// Layer name.
    pub name: String,
    /// Versions of ATT&CK, the Navigator and the format.
    pub versions: Versions,
    /// `enterprise-attack`, `mobile-attack` or `ics-attack`.
    pub domain: String,
    /// Free text.
    pub description: String,
    /// Platform filter.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub filters: Option<Filters>,
    /// 3 = by score, descending.
    pub sorting: u8,
    /// Matrix layout.
    pub layout: Layout,
    /// Hide disabled techniques.
    pub hide_disabled: bool,
    /// Annotated techniques.
    pub techniques: Vec<LayerTechnique>,
    /// Score colours.
    pub gradient: Gradient,
    /// Legend.
    pub legend_items: Vec<LegendItem>,
    /// Layer metadata.
    pub metadata: Vec<Metadata>,
    /// Show the tactic row background.
    pub show_tactic_row_background: bool,
    /// Tactic row background colour.
    pub tactic_row_background: String,
    /// Selecting a technique selects it under every tactic.
    pub select_techniques_across_tactics: bool,
    /// Selecting a technique selects its sub-techniques.
    pub select_subtechniques_with_parent: bool,
    /// Only visible techniques are selected.
    pub select_visible_techniques: bool,
}

/// The `versions` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versions {
    /// ATT&CK major version, e.g. `18`.
    pub attack: String,
    /// Navigator version.
    pub navigator: String,
    /// Layer format version, `4.5`.
    pub layer: String,
}

/// The `filters` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    /// Platforms shown.
    pub platforms: Vec<String>,
}

/// The `layout` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Layout {
    /// `side`, `flat` or `mini`.
    pub layout: String,
    /// Show ATT&CK ids.
    #[serde(rename = "showID")]
    pub show_id: bool,
    /// Show names.
    pub show_name: bool,
    /// Show aggregate scores.
    pub show_aggregate_scores: bool,
    /// Count unscored techniques in aggregates.
    pub count_unscored: bool,
    /// `average`, `min`, `max` or `sum`.
    pub aggregate_function: String,
    /// `none`, `all` or `annotated`.
    pub expanded_subtechniques: String,
}

/// One technique annotation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerTechnique {
    /// `T1059` or `T1059.001`.
    #[serde(rename = "techniqueID")]
    pub technique_id: String,
    /// Tactic shortname.
    pub tactic: String,
    /// Score.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub score: Option<f64>,
    /// Explicit colour (overrides the gradient).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub color: Option<String>,
    /// Comment.
    pub comment: String,
    /// Enabled.
    pub enabled: bool,
    /// Metadata (rule ids and titles, reasons).
    pub metadata: Vec<Metadata>,
    /// Show sub-techniques by default.
    pub show_subtechniques: bool,
}

/// The `gradient` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Gradient {
    /// At least two hex colours.
    pub colors: Vec<String>,
    /// Lower bound.
    pub min_value: f64,
    /// Upper bound (greater than the lower).
    pub max_value: f64,
}

/// A legend item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegendItem {
    /// Label.
    pub label: String,
    /// Colour.
    pub color: String,
}

/// A metadata entry (name + value), or a divider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Metadata {
    /// A name/value pair.
    Pair {
        /// Name.
        name: String,
        /// Value.
        value: String,
    },
    /// A divider line.
    Divider {
        /// Always true.
        divider: bool,
    },
}

fn pair(name: &str, value: impl Into<String>) -> Metadata {
    Metadata::Pair {
        name: name.to_string(),
        value: value.into(),
    }
}

fn base_layer(
    matrix: &AttackMatrix,
    name: String,
    description: String,
    platform: Option<&str>,
) -> Layer {
    let major = matrix
        .attack_version
        .split('.')
        .next()
        .unwrap_or_default()
        .to_string();
    Layer {
        name,
        versions: Versions {
            attack: major,
            navigator: NAVIGATOR_VERSION.to_string(),
            layer: LAYER_VERSION.to_string(),
        },
        domain: matrix.domain.clone(),
        description,
        filters: platform.map(|p| Filters {
            platforms: vec![p.to_string()],
        }),
        sorting: 3,
        layout: Layout {
            layout: "side".into(),
            show_id: true,
            show_name: true,
            show_aggregate_scores: true,
            count_unscored: false,
            aggregate_function: "max".into(),
            expanded_subtechniques: "annotated".into(),
        },
        hide_disabled: false,
        techniques: Vec::new(),
        gradient: Gradient {
            colors: vec!["#ffffff".into(), "#66b1ff".into()],
            min_value: 0.0,
            max_value: 100.0,
        },
        legend_items: Vec::new(),
        metadata: vec![pair("generator", "rampart coverage")],
        show_tactic_row_background: true,
        tactic_row_background: "#dddddd".into(),
        select_techniques_across_tactics: true,
        select_subtechniques_with_parent: false,
        select_visible_techniques: false,
    }
}

fn on_platform(matrix: &AttackMatrix, id: &str, platform: Option<&str>) -> bool {
    match (platform, matrix.technique(id)) {
        (None, Some(_)) => true,
        (Some(p), Some(t)) => t.platforms.iter().any(|x| x.eq_ignore_ascii_case(p)),
        (_, None) => false,
    }
}

fn entries(
    matrix: &AttackMatrix,
    id: &str,
    make: impl Fn(&str) -> LayerTechnique,
) -> Vec<LayerTechnique> {
    matrix
        .technique(id)
        .map(|t| t.tactics.iter().map(|tactic| make(tactic)).collect())
        .unwrap_or_default()
}

fn round(score: f64) -> f64 {
    (score * 100.0).round()
}

/// The claimed-coverage layer: score = claimed score × 100, metadata = the rules.
pub fn claimed_layer(
    matrix: &AttackMatrix,
    claimed: &ClaimedCoverage,
    platform: Option<&str>,
) -> Layer {
    let suffix = platform.map(|p| format!(" ({p})")).unwrap_or_default();
    let mut layer = base_layer(
        matrix,
        format!("Rampart claimed coverage{suffix}"),
        format!(
            "Techniques the {} rules are tagged with, weighted by level and status (ATT&CK {}).",
            claimed.rules, matrix.attack_version
        ),
        platform,
    );
    layer.gradient.colors = vec!["#fff7bc".into(), "#a1d99b".into(), "#31a354".into()];
    layer.legend_items = vec![
        LegendItem {
            label: "weak claim (low level / experimental)".into(),
            color: "#fff7bc".into(),
        },
        LegendItem {
            label: "strong claim (stable, high)".into(),
            color: "#31a354".into(),
        },
    ];
    for claim in claimed.techniques.values() {
        if !on_platform(matrix, &claim.technique, platform) {
            continue;
        }
        let mut metadata: Vec<Metadata> = claim
            .rules
            .iter()
            .take(METADATA_RULES)
            .map(|r| pair(&r.rule_id, r.title.clone()))
            .collect();
        if claim.rules.len() > METADATA_RULES {
            metadata.push(pair(
                "more rules",
                (claim.rules.len() - METADATA_RULES).to_string(),
            ));
        }
        layer
            .techniques
            .extend(entries(matrix, &claim.technique, |tactic| LayerTechnique {
                technique_id: claim.technique.clone(),
                tactic: tactic.to_string(),
                score: Some(round(claim.score)),
                color: None,
                comment: format!(
                    "{} rule(s), claimed score {:.2}",
                    claim.rules.len(),
                    claim.score
                ),
                enabled: true,
                metadata: metadata.clone(),
                show_subtechniques: false,
            }));
    }
    layer
}

const VALIDATED_COLOR: &str = "#31a354";
const CORROBORATED_COLOR: &str = "#fec44f";
const UNVALIDATED_COLOR: &str = "#f03b20";
const SELF_VALIDATED_COLOR: &str = "#9e9ac8";

/// The validated-coverage layer: validated on independent samples green, corroborated
/// amber, self-validated (own regression sample only) lilac, claimed but never
/// validated red.
pub fn validated_layer(
    matrix: &AttackMatrix,
    claimed: &ClaimedCoverage,
    validated: &ValidatedCoverage,
    platform: Option<&str>,
) -> Layer {
    let suffix = platform.map(|p| format!(" ({p})")).unwrap_or_default();
    let mut layer = base_layer(
        matrix,
        format!("Rampart validated coverage{suffix}"),
        format!(
            "Techniques a rule tagged with them detected on {} labelled samples.",
            validated.samples
        ),
        platform,
    );
    layer.gradient.colors = vec![
        UNVALIDATED_COLOR.into(),
        CORROBORATED_COLOR.into(),
        VALIDATED_COLOR.into(),
    ];
    layer.legend_items = vec![
        LegendItem {
            label: "validated on an independent labelled sample".into(),
            color: VALIDATED_COLOR.into(),
        },
        LegendItem {
            label: "self-validated only (own regression sample)".into(),
            color: SELF_VALIDATED_COLOR.into(),
        },
        LegendItem {
            label: "corroborated (tactic label only)".into(),
            color: CORROBORATED_COLOR.into(),
        },
        LegendItem {
            label: "claimed, never validated".into(),
            color: UNVALIDATED_COLOR.into(),
        },
    ];
    for claim in claimed.techniques.values() {
        if !on_platform(matrix, &claim.technique, platform) {
            continue;
        }
        let found = validated.techniques.get(&claim.technique);
        let (score, color, comment) = match found.map(|v| v.confidence) {
            Some(Confidence::Validated) => (100.0, VALIDATED_COLOR, "validated"),
            Some(Confidence::SelfValidated) => (
                25.0,
                SELF_VALIDATED_COLOR,
                "self-validated only: fired on its own regression sample",
            ),
            Some(Confidence::Corroborated) => (
                50.0,
                CORROBORATED_COLOR,
                "corroborated by a sample of its tactic",
            ),
            None => (0.0, UNVALIDATED_COLOR, "claimed, never validated"),
        };
        let metadata: Vec<Metadata> = found
            .map(|v| {
                v.evidence
                    .iter()
                    .map(|e| pair(&e.rule_id, e.sample.display().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        layer
            .techniques
            .extend(entries(matrix, &claim.technique, |tactic| LayerTechnique {
                technique_id: claim.technique.clone(),
                tactic: tactic.to_string(),
                score: Some(score),
                color: Some(color.to_string()),
                comment: comment.to_string(),
                enabled: true,
                metadata: metadata.clone(),
                show_subtechniques: false,
            }));
    }
    layer
}

/// The gaps layer: score = priority as a percentage of the top gap's.
pub fn gaps_layer(matrix: &AttackMatrix, gaps: &[Gap], platform: Option<&str>) -> Layer {
    let suffix = platform.map(|p| format!(" ({p})")).unwrap_or_default();
    let mut layer = base_layer(
        matrix,
        format!("Rampart prioritised gaps{suffix}"),
        "Detection gaps ranked by threat, tactic priority, coverage, confidence, visibility and D3FEND countermeasures.".into(),
        platform,
    );
    layer.gradient.colors = vec!["#ffffff".into(), "#fdae6b".into(), "#e6550d".into()];
    layer.legend_items = vec![
        LegendItem {
            label: "low priority gap".into(),
            color: "#fdae6b".into(),
        },
        LegendItem {
            label: "top priority gap".into(),
            color: "#e6550d".into(),
        },
    ];
    let top = gaps
        .iter()
        .map(|g| g.priority)
        .fold(0.0, f64::max)
        .max(f64::EPSILON);
    for gap in gaps
        .iter()
        .filter(|g| on_platform(matrix, &g.technique, platform))
    {
        let mut metadata = vec![
            pair("rank", gap.rank.to_string()),
            pair("kind", format!("{:?}", gap.kind).to_lowercase()),
        ];
        metadata.push(Metadata::Divider { divider: true });
        metadata.extend(gap.reasons.iter().map(|r| pair("reason", r.clone())));
        layer
            .techniques
            .extend(entries(matrix, &gap.technique, |tactic| LayerTechnique {
                technique_id: gap.technique.clone(),
                tactic: tactic.to_string(),
                score: Some((gap.priority / top * 100.0).round()),
                color: None,
                comment: format!("#{} {}", gap.rank, gap.reasons.join("; ")),
                enabled: true,
                metadata: metadata.clone(),
                show_subtechniques: false,
            }));
    }
    layer
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::claimed::{claimed_coverage, ClaimWeights};
    use crate::layer_check::check_layer;
    use crate::model::RuleInfo;
    use crate::testing::small_matrix;
    use rampart_event::Level;

    #[test]
    fn claimed_layer_has_one_entry_per_tactic_and_passes() {
        let matrix = small_matrix();
        let rules = [RuleInfo::new("r1", "schtasks", Level::High, &["T1053.005"])];
        let claimed = claimed_coverage(&matrix, &rules, &ClaimWeights::default());
        let layer = claimed_layer(&matrix, &claimed, Some("Windows"));
        // T1053 and T1053.005, each under execution, persistence and privilege-escalation.
        assert_eq!(layer.techniques.len(), 6);
        let json = serde_json::to_value(&layer).unwrap();
        assert_eq!(check_layer(&json), Vec::<String>::new());
        let back: Layer = serde_json::from_value(json).unwrap();
        assert_eq!(back, layer);
    }
}
