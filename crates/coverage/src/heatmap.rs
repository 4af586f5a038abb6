//! The ATT&CK matrix as an SVG heatmap: tactics as columns, parent techniques as cells
//! coloured by claimed coverage, each cell ending in a strip of small squares, one per
//! sub-technique, coloured the same way. A dot marks validation when samples were run.
//!
//! The SVG is plain markup with no script, so it renders the same in a browser, in a
//! headless screenshot, and when the HTML report is mailed around. Hovering a cell shows
//! its `<title>`: id, name, score, rules, sub-techniques.

use crate::claimed::ClaimedCoverage;
use crate::escape::escape;
use crate::model::{AttackMatrix, Technique};
use crate::validated::{Confidence, ValidatedCoverage};
use std::fmt::Write;

/// Marker of a technique validated only on its own rules' regression samples.
pub(crate) const SELF_VALIDATED_MARKER: &str = "#6f42c1";

const COLUMN_WIDTH: u32 = 126;
const GAP: u32 = 5;
const HEADER_HEIGHT: u32 = 46;
const CELL_HEIGHT: u32 = 30;
const CELL_GAP: u32 = 3;
const SUB_SQUARE: u32 = 6;

/// The colour of a claimed score: light grey when unclaimed, then from pale to deep green.
pub fn score_color(score: f64) -> String {
    if score <= 0.0 {
        return "#e9ecef".to_string();
    }
    // Interpolate pale green (#d9f0d3) → deep green (#1b7837).
    let t = score.clamp(0.0, 1.0);
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(0xd9, 0x1b),
        mix(0xf0, 0x78),
        mix(0xd3, 0x37)
    )
}

fn text_color(score: f64) -> &'static str {
    if score > 0.6 {
        "#ffffff"
    } else {
        "#212529"
    }
}

/// Cuts a name to fit a cell (SVG text does not wrap).
fn fit(name: &str, max_chars: usize) -> String {
    if name.chars().count() <= max_chars {
        name.to_string()
    } else {
        let cut: String = name.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

/// Long labels are squeezed to the cell width (SVG text neither wraps nor clips): an
/// attribute pair for texts longer than `chars` characters, empty otherwise.
fn squeeze(text: &str, chars: usize, width: u32) -> String {
    if text.chars().count() > chars {
        format!(r#" textLength="{width}" lengthAdjust="spacingAndGlyphs""#)
    } else {
        String::new()
    }
}

/// Renders the heatmap of `matrix` (only techniques on `platform`, when given).
pub fn heatmap_svg(
    matrix: &AttackMatrix,
    claimed: &ClaimedCoverage,
    validated: Option<&ValidatedCoverage>,
    platform: Option<&str>,
) -> String {
    let on_platform = |t: &Technique| {
        platform.is_none_or(|p| t.platforms.iter().any(|x| x.eq_ignore_ascii_case(p)))
    };
    let columns: Vec<(&crate::model::Tactic, Vec<&Technique>)> = matrix
        .tactics
        .iter()
        .map(|tactic| {
            let mut techniques: Vec<&Technique> = matrix
                .parents_in_tactic(&tactic.shortname)
                .filter(|t| on_platform(t))
                .collect();
            techniques.sort_by(|a, b| a.name.cmp(&b.name));
            (tactic, techniques)
        })
        .collect();
    let rows = columns.iter().map(|(_, t)| t.len()).max().unwrap_or(0) as u32;
    let width = columns.len() as u32 * (COLUMN_WIDTH + GAP);
    let height = HEADER_HEIGHT + rows * (CELL_HEIGHT + CELL_GAP) + 4;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="ATT&amp;CK matrix heatmap" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">"##
    );
    for (column, (tactic, techniques)) in columns.iter().enumerate() {
        let x = column as u32 * (COLUMN_WIDTH + GAP);
        let claimed_here = techniques
            .iter()
            .filter(|t| claimed.score(&t.id) > 0.0)
            .count();
        let _ = write!(
            svg,
            r##"<g class="tactic"><rect x="{x}" y="0" width="{COLUMN_WIDTH}" height="{h}" rx="3" fill="#343a40"/><text x="{tx}" y="18" fill="#ffffff" font-size="10.5" font-weight="600" text-anchor="middle"{squeeze}>{name}</text><text x="{tx}" y="34" fill="#ced4da" font-size="11" text-anchor="middle">{claimed_here}/{total} claimed</text></g>"##,
            h = HEADER_HEIGHT - 6,
            tx = x + COLUMN_WIDTH / 2,
            name = escape(&fit(&tactic.name, 24)),
            squeeze = squeeze(&tactic.name, 17, COLUMN_WIDTH - 8),
            total = techniques.len(),
        );
        for (row, technique) in techniques.iter().enumerate() {
            let y = HEADER_HEIGHT + row as u32 * (CELL_HEIGHT + CELL_GAP);
            cell(&mut svg, matrix, claimed, validated, technique, x, y);
        }
    }
    svg.push_str("</svg>");
    svg
}

fn cell(
    svg: &mut String,
    matrix: &AttackMatrix,
    claimed: &ClaimedCoverage,
    validated: Option<&ValidatedCoverage>,
    technique: &Technique,
    x: u32,
    y: u32,
) {
    let score = claimed.score(&technique.id);
    let rules = claimed
        .techniques
        .get(&technique.id)
        .map_or(0, |c| c.rules.len());
    let mut tooltip = format!(
        "{} {}\nclaimed score {:.2}, {rules} rule(s)",
        technique.id, technique.name, score
    );
    let confidence = validated.and_then(|v| v.confidence(&technique.id));
    if let Some(v) = validated {
        let _ = write!(
            tooltip,
            "\n{}",
            match confidence {
                Some(Confidence::Validated) => "validated on an independent labelled sample",
                Some(Confidence::SelfValidated) => {
                    "self-validated only (its rules fired on their own regression samples)"
                }
                Some(Confidence::Corroborated) => "corroborated by a sample of its tactic",
                None if rules > 0 && v.samples > 0 => "claimed, never validated",
                None => "not validated",
            }
        );
    }
    for sub in &technique.subtechniques {
        if let Some(s) = matrix.technique(sub) {
            let _ = write!(
                tooltip,
                "\n  {} {}: {:.2}",
                s.id,
                s.name,
                claimed.score(&s.id)
            );
        }
    }
    let _ = write!(
        svg,
        r##"<g class="technique" data-id="{id}"><title>{tip}</title><rect x="{x}" y="{y}" width="{COLUMN_WIDTH}" height="{CELL_HEIGHT}" rx="2" fill="{fill}" stroke="#adb5bd" stroke-width="0.5"/><text x="{tx}" y="{ty}" font-size="9.5" fill="{ink}"{squeeze}>{name}</text>"##,
        id = escape(&technique.id),
        tip = escape(&tooltip),
        fill = score_color(score),
        tx = x + 4,
        ty = y + 12,
        ink = text_color(score),
        name = escape(&fit(&technique.name, 26)),
        squeeze = squeeze(&fit(&technique.name, 26), 22, COLUMN_WIDTH - 8),
    );
    // One small square per sub-technique, on the cell's second line.
    for (i, sub) in technique.subtechniques.iter().take(15).enumerate() {
        let sx = x + 4 + i as u32 * (SUB_SQUARE + 1);
        let sub_score = claimed.score(sub);
        let _ = write!(
            svg,
            r##"<rect x="{sx}" y="{sy}" width="{SUB_SQUARE}" height="{SUB_SQUARE}" fill="{fill}" stroke="#6c757d" stroke-width="0.4"/>"##,
            sy = y + CELL_HEIGHT - SUB_SQUARE - 5,
            fill = score_color(sub_score),
        );
    }
    let marker = match (validated, confidence) {
        (Some(_), Some(Confidence::Validated)) => Some("#0d6efd"),
        (Some(_), Some(Confidence::SelfValidated)) => Some(SELF_VALIDATED_MARKER),
        (Some(_), Some(Confidence::Corroborated)) => Some("#fd7e14"),
        (Some(v), None) if rules > 0 && v.samples > 0 => Some("#dc3545"),
        _ => None,
    };
    if let Some(color) = marker {
        let _ = write!(
            svg,
            r##"<circle cx="{cx}" cy="{cy}" r="4" fill="{color}" stroke="#ffffff" stroke-width="1"/>"##,
            cx = x + COLUMN_WIDTH - 8,
            cy = y + CELL_HEIGHT - 8,
        );
    }
    svg.push_str("</g>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claimed::{claimed_coverage, ClaimWeights};
    use crate::model::RuleInfo;
    use crate::testing::small_matrix;
    use rampart_event::Level;

    #[test]
    fn cells_follow_tactics_and_escape_names() {
        let mut matrix = small_matrix();
        if let Some(t) = matrix.techniques.get_mut("T1070") {
            t.name = "Indicator <Removal> & \"Co\"".into();
        }
        let rules = [RuleInfo::new("r", "x", Level::High, &["T1053.005"])];
        let claimed = claimed_coverage(&matrix, &rules, &ClaimWeights::default());
        let svg = heatmap_svg(&matrix, &claimed, None, None);
        // T1053 sits under three tactics, so three cells.
        assert_eq!(svg.matches(r#"data-id="T1053""#).count(), 3);
        assert!(svg.contains("Indicator &lt;Removal&gt; &amp; &quot;Co&quot;"));
        assert!(!svg.contains("<Removal>"));
        assert_eq!(score_color(0.0), "#e9ecef");
        assert_eq!(score_color(1.0), "#1b7837");
    }
}
