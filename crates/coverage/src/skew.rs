//! Version skew: rule tags written for another ATT&CK release than the one loaded.
//!
//! Rules and the ATT&CK bundle are updated separately, so a rule set can be tagged with
//! ids the loaded release does not know yet (rules newer than the data: `T1685`,
//! `stealth` under 18.1) or has revoked since (rules older than the data: `T1562.001`
//! under 19.1). Either way coverage, gaps and kill chains are quietly wrong unless the
//! user is told; [`version_skew`] counts such tags once per rule set so that `hunt`,
//! `coverage` and `sigma lint` can say so once, with the replacement ATT&CK gives for
//! each revoked id and the remedy.

use crate::escape::escape_terminal;
use crate::model::{AttackMatrix, IdStatus, RuleInfo};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What to do about skew, in words.
pub const SKEW_REMEDY: &str =
    "run `rampart data update` to get the current ATT&CK release and rules";

/// How many tags a one-line summary names before it says "and N more".
const NAMED_IN_SUMMARY: usize = 5;

/// Longest tag text a summary repeats (tags are attacker-controlled).
const TAG_TEXT_MAX: usize = 40;

/// One tag the release does not know or has revoked, and how many rules carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkewedTag {
    /// The id or tactic name as tagged (technique ids upper-case).
    pub tag: String,
    /// For a revoked technique: the technique that replaced it (the end of its
    /// `revoked-by` chain), when the release gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    /// Rules carrying the tag.
    pub rules: usize,
}

/// The tags of a rule set that do not match the loaded ATT&CK release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VersionSkew {
    /// The loaded release, e.g. `19.1`.
    pub attack_version: String,
    /// Technique ids the release does not have at all (a newer release, or a typo).
    pub unknown_techniques: Vec<SkewedTag>,
    /// Tactic names the release does not have.
    pub unknown_tactics: Vec<SkewedTag>,
    /// Technique ids the release revoked (an older release), with their replacements.
    pub revoked_techniques: Vec<SkewedTag>,
    /// Rules carrying at least one unknown id or tactic.
    pub rules_with_unknown: usize,
    /// Rules carrying at least one revoked id.
    pub rules_with_revoked: usize,
}

impl VersionSkew {
    /// Whether every tag matches the release.
    pub fn is_empty(&self) -> bool {
        self.unknown_techniques.is_empty()
            && self.unknown_tactics.is_empty()
            && self.revoked_techniques.is_empty()
    }

    /// One line for people: counts, the first tags with their replacements, the
    /// remedy; `None` when there is no skew. Tag text is made printable and cut short.
    pub fn summary(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        if !self.unknown_techniques.is_empty() || !self.unknown_tactics.is_empty() {
            let mut kinds = Vec::new();
            if !self.unknown_techniques.is_empty() {
                kinds.push(format!(
                    "{} technique id(s) ({})",
                    self.unknown_techniques.len(),
                    named(&self.unknown_techniques, |t| printable(&t.tag))
                ));
            }
            if !self.unknown_tactics.is_empty() {
                kinds.push(format!(
                    "{} tactic(s) ({})",
                    self.unknown_tactics.len(),
                    named(&self.unknown_tactics, |t| printable(&t.tag))
                ));
            }
            parts.push(format!(
                "{} rule(s) use {} unknown to ATT&CK {} (from a newer release, or typos), counted for nothing",
                self.rules_with_unknown,
                kinds.join(" and "),
                self.attack_version
            ));
        }
        if !self.revoked_techniques.is_empty() {
            parts.push(format!(
                "{} rule(s) use {} technique id(s) revoked in ATT&CK {}, counted for their replacements ({})",
                self.rules_with_revoked,
                self.revoked_techniques.len(),
                self.attack_version,
                named(&self.revoked_techniques, |t| match &t.replacement {
                    Some(r) => format!("{} → {r}", printable(&t.tag)),
                    None => format!("{} → none", printable(&t.tag)),
                })
            ));
        }
        Some(format!(
            "ATT&CK version skew: {}; {SKEW_REMEDY}",
            parts.join("; ")
        ))
    }
}

/// The first few entries, then how many more.
fn named(tags: &[SkewedTag], show: impl Fn(&SkewedTag) -> String) -> String {
    let mut text: Vec<String> = tags.iter().take(NAMED_IN_SUMMARY).map(show).collect();
    if tags.len() > NAMED_IN_SUMMARY {
        text.push(format!("and {} more", tags.len() - NAMED_IN_SUMMARY));
    }
    text.join(", ")
}

/// Tag text safe for a terminal: at most [`TAG_TEXT_MAX`] characters kept, control
/// characters escaped.
fn printable(text: &str) -> String {
    let mut kept: String = text.chars().take(TAG_TEXT_MAX).collect();
    if kept.len() < text.len() {
        kept.push('…');
    }
    escape_terminal(&kept)
}

/// Counts the tags of `rules` that `matrix`'s release does not know or has revoked.
pub fn version_skew(matrix: &AttackMatrix, rules: &[RuleInfo]) -> VersionSkew {
    let mut unknown_techniques: BTreeMap<String, usize> = BTreeMap::new();
    let mut unknown_tactics: BTreeMap<String, usize> = BTreeMap::new();
    let mut revoked: BTreeMap<String, usize> = BTreeMap::new();
    let (mut rules_with_unknown, mut rules_with_revoked) = (0, 0);
    for rule in rules {
        let (mut has_unknown, mut has_revoked) = (false, false);
        let techniques: BTreeSet<String> = rule
            .techniques
            .iter()
            .map(|t| t.to_ascii_uppercase())
            .collect();
        for id in techniques {
            match matrix.resolve(&id) {
                IdStatus::Unknown => {
                    has_unknown = true;
                    *unknown_techniques.entry(id).or_default() += 1;
                }
                IdStatus::Revoked { .. } => {
                    has_revoked = true;
                    *revoked.entry(id).or_default() += 1;
                }
                IdStatus::Active | IdStatus::Deprecated => {}
            }
        }
        let tactics: BTreeSet<&String> = rule.tactics.iter().collect();
        for tactic in tactics {
            if matrix.tactic(tactic).is_none() {
                has_unknown = true;
                *unknown_tactics.entry(tactic.clone()).or_default() += 1;
            }
        }
        rules_with_unknown += usize::from(has_unknown);
        rules_with_revoked += usize::from(has_revoked);
    }
    let list = |counts: BTreeMap<String, usize>, replace: bool| -> Vec<SkewedTag> {
        let mut tags: Vec<SkewedTag> = counts
            .into_iter()
            .map(|(tag, rules)| SkewedTag {
                replacement: match matrix.resolve(&tag) {
                    IdStatus::Revoked { replacement } if replace => replacement,
                    _ => None,
                },
                tag,
                rules,
            })
            .collect();
        // Most used first: those are the ones worth fixing first.
        tags.sort_by(|a, b| b.rules.cmp(&a.rules).then_with(|| a.tag.cmp(&b.tag)));
        tags
    };
    VersionSkew {
        attack_version: matrix.attack_version.clone(),
        unknown_techniques: list(unknown_techniques, false),
        unknown_tactics: list(unknown_tactics, false),
        revoked_techniques: list(revoked, true),
        rules_with_unknown,
        rules_with_revoked,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::testing::small_matrix;
    use rampart_event::Level;

    #[test]
    fn counts_unknown_and_revoked_tags_once_per_rule() {
        let matrix = small_matrix();
        let mut newer = RuleInfo::new("r1", "newer", Level::High, &["T1685", "T1685"]);
        newer.tactics = vec!["stealth".into(), "execution".into()];
        let older = RuleInfo::new("r2", "older", Level::High, &["T1086", "T1059.001"]);
        let also_older = RuleInfo::new("r3", "older too", Level::High, &["t1086"]);
        let skew = version_skew(&matrix, &[newer, older, also_older]);
        assert_eq!(skew.rules_with_unknown, 1);
        assert_eq!(skew.rules_with_revoked, 2);
        assert_eq!(
            skew.unknown_techniques,
            [SkewedTag {
                tag: "T1685".into(),
                replacement: None,
                rules: 1
            }]
        );
        assert_eq!(skew.unknown_tactics[0].tag, "stealth");
        assert_eq!(
            skew.revoked_techniques,
            [SkewedTag {
                tag: "T1086".into(),
                replacement: Some("T1059.001".into()),
                rules: 2
            }]
        );
        let line = skew.summary().unwrap();
        assert!(line.contains("ATT&CK 18.1"), "{line}");
        assert!(line.contains("T1086 → T1059.001"), "{line}");
        assert!(line.contains("`rampart data update`"), "{line}");
    }

    #[test]
    fn no_skew_no_summary_and_hostile_tags_are_printable() {
        let matrix = small_matrix();
        let good = RuleInfo::new("r1", "good", Level::High, &["T1059.001"]);
        assert_eq!(version_skew(&matrix, &[good]).summary(), None);
        let mut hostile = RuleInfo::new("r2", "bad", Level::High, &[]);
        hostile.tactics = vec![format!("x\u{1b}[31m{}", "y".repeat(100))];
        let line = version_skew(&matrix, &[hostile]).summary().unwrap();
        assert!(!line.contains('\u{1b}') && line.contains("\\x1b"), "{line}");
        assert!(!line.contains(&"y".repeat(50)), "{line}");
    }
}
