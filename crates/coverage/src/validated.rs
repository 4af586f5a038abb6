//! Validated coverage: a technique counts only when a rule tagged with it fires on a
//! sample labelled with it.
//!
//! Labels come in three strengths. A technique label (CSV, technique id in a file name,
//! or the tags of the rule a regression sample was recorded for) validates. A tactic
//! label alone (an EVTX-ATTACK-SAMPLES tactic folder) only *corroborates*: the rule
//! fired on an attack of the right tactic, but the sample does not say which technique.
//!
//! A rule firing on the regression sample recorded for that very rule (SigmaHQ's
//! `regression_data` is one sample per rule) is circular: it shows the rule matches
//! the example it was written from, not that it catches the technique elsewhere. Such
//! evidence only *self-validates*, and is counted apart from validation on independent
//! samples (any sample not recorded for the rule that fired), which is what gaps rank
//! on.
//! Labels and tags are compared after rolling sub-techniques up to their parents, so a
//! rule tagged `T1059` firing on a `T1059.001` sample validates `T1059` (not `.001`).

use crate::claimed::resolved_techniques;
use crate::labels::SampleLabel;
use crate::model::{AttackMatrix, IdStatus, RuleInfo};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

/// One sample, its labels and the rules that fired on it.
#[derive(Debug, Clone)]
pub struct SampleRun {
    /// The labelled sample.
    pub label: SampleLabel,
    /// Ids of the rules that fired on it (each once).
    pub fired: BTreeSet<String>,
    /// Event-log channels seen in the sample (used to infer collected log sources).
    pub channels: BTreeMap<String, BTreeSet<u32>>,
    /// Why the sample could not be read, when it could not.
    pub error: Option<String>,
}

/// How strongly a technique is shown to be detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// A rule tagged with it fired on a sample of its tactic only.
    Corroborated,
    /// A rule tagged with it fired only on the regression sample recorded for that
    /// same rule (circular evidence).
    SelfValidated,
    /// A rule tagged with it fired on an independent sample labelled with it.
    Validated,
}

/// Evidence for a technique: this rule fired on this sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Rule id.
    pub rule_id: String,
    /// Sample file.
    pub sample: PathBuf,
}

/// Validation of one technique.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TechniqueValidation {
    /// Technique id.
    pub technique: String,
    /// The strongest confidence reached.
    pub confidence: Confidence,
    /// What showed it (a few examples; `evidence_count` has the total).
    pub evidence: Vec<Evidence>,
    /// How many (rule, sample) pairs showed it.
    pub evidence_count: usize,
}

/// A sample labelled with techniques on which no rule tagged with them fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Miss {
    /// Sample file.
    pub sample: PathBuf,
    /// Its labelled techniques.
    pub techniques: Vec<String>,
    /// Rules that fired on it anyway (tagged otherwise).
    pub fired: Vec<String>,
}

/// What the samples showed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidatedCoverage {
    /// Samples run.
    pub samples: usize,
    /// Samples that could not be read.
    pub unreadable: usize,
    /// Samples on which at least one rule fired.
    pub samples_with_alerts: usize,
    /// Techniques shown, by id.
    pub techniques: BTreeMap<String, TechniqueValidation>,
    /// Labelled samples their techniques' rules missed.
    pub misses: Vec<Miss>,
    /// Techniques labelled in some sample (rolled up), i.e. those validation could reach.
    pub labelled_techniques: BTreeSet<String>,
}

impl ValidatedCoverage {
    /// The confidence reached for a technique, if any.
    pub fn confidence(&self, technique: &str) -> Option<Confidence> {
        self.techniques.get(technique).map(|v| v.confidence)
    }

    /// How many techniques reached exactly `confidence`.
    pub fn count(&self, confidence: Confidence) -> usize {
        self.techniques
            .values()
            .filter(|t| t.confidence == confidence)
            .count()
    }
}

const EVIDENCE_KEPT: usize = 5;

/// Ids with their parents added (`T1059.001` → also `T1059`).
fn with_parents(matrix: &AttackMatrix, ids: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for id in ids {
        if let Some(parent) = matrix.technique(&id).and_then(|t| t.parent.clone()) {
            out.insert(parent);
        } else if let Some((parent, _)) = id.split_once('.') {
            out.insert(parent.to_string());
        }
        out.insert(id);
    }
    out
}

/// Computes validated coverage from sample runs.
pub fn validated_coverage(
    matrix: &AttackMatrix,
    rules: &[RuleInfo],
    runs: &[SampleRun],
) -> ValidatedCoverage {
    let by_id: HashMap<&str, &RuleInfo> = rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let rule_techniques = |id: &str| -> BTreeSet<String> {
        by_id
            .get(id)
            .map(|r| with_parents(matrix, resolved_techniques(matrix, r)))
            .unwrap_or_default()
    };
    let mut techniques: BTreeMap<String, TechniqueValidation> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut labelled_techniques = BTreeSet::new();
    for run in runs {
        // Labels may use retired ids (file names written years ago): use the replacement.
        let mut labelled: BTreeSet<String> = run
            .label
            .techniques
            .iter()
            .map(|id| match matrix.resolve(id) {
                IdStatus::Revoked {
                    replacement: Some(replacement),
                } => replacement,
                _ => id.to_ascii_uppercase(),
            })
            .collect();
        for rule_id in &run.label.rule_ids {
            labelled.extend(rule_techniques(rule_id));
        }
        let labelled = with_parents(matrix, labelled);
        labelled_techniques.extend(labelled.iter().cloned());
        let mut hit_label = false;
        for rule_id in &run.fired {
            let own_sample = run.label.rule_ids.contains(rule_id);
            for technique in rule_techniques(rule_id) {
                let confidence = if labelled.contains(&technique) {
                    hit_label = true;
                    if own_sample {
                        Confidence::SelfValidated
                    } else {
                        Confidence::Validated
                    }
                } else if matrix.technique(&technique).is_some_and(|t| {
                    t.tactics
                        .iter()
                        .any(|tactic| run.label.tactics.contains(tactic))
                }) {
                    Confidence::Corroborated
                } else {
                    continue;
                };
                record(&mut techniques, &technique, confidence, rule_id, run);
            }
        }
        if !labelled.is_empty() && !hit_label && run.error.is_none() {
            misses.push(Miss {
                sample: run.label.path.clone(),
                techniques: labelled.into_iter().collect(),
                fired: run.fired.iter().cloned().collect(),
            });
        }
    }
    ValidatedCoverage {
        samples: runs.len(),
        unreadable: runs.iter().filter(|r| r.error.is_some()).count(),
        samples_with_alerts: runs.iter().filter(|r| !r.fired.is_empty()).count(),
        techniques,
        misses,
        labelled_techniques,
    }
}

fn record(
    techniques: &mut BTreeMap<String, TechniqueValidation>,
    technique: &str,
    confidence: Confidence,
    rule_id: &str,
    run: &SampleRun,
) {
    let entry = techniques
        .entry(technique.to_string())
        .or_insert_with(|| TechniqueValidation {
            technique: technique.to_string(),
            confidence,
            evidence: Vec::new(),
            evidence_count: 0,
        });
    if confidence > entry.confidence {
        // Stronger evidence replaces the weaker examples.
        entry.confidence = confidence;
        entry.evidence.clear();
        entry.evidence_count = 0;
    } else if confidence < entry.confidence {
        return;
    }
    entry.evidence_count += 1;
    if entry.evidence.len() < EVIDENCE_KEPT {
        entry.evidence.push(Evidence {
            rule_id: rule_id.to_string(),
            sample: run.label.path.clone(),
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::labels::LabelSource;
    use crate::testing::small_matrix;
    use rampart_event::Level;

    fn run(path: &str, techniques: &[&str], tactics: &[&str], fired: &[&str]) -> SampleRun {
        SampleRun {
            label: SampleLabel {
                path: path.into(),
                techniques: techniques.iter().map(|s| s.to_string()).collect(),
                tactics: tactics.iter().map(|s| s.to_string()).collect(),
                rule_ids: BTreeSet::new(),
                source: LabelSource::Csv,
            },
            fired: fired.iter().map(|s| s.to_string()).collect(),
            channels: BTreeMap::new(),
            error: None,
        }
    }

    #[test]
    fn only_a_matching_label_validates() {
        let matrix = small_matrix();
        let rules = [
            RuleInfo::new("ps", "powershell", Level::High, &["T1059.001"]),
            RuleInfo::new("parent", "interpreter", Level::High, &["T1059"]),
            RuleInfo::new("lsass", "lsass", Level::High, &["T1003.001"]),
        ];
        let runs = [
            run("a.evtx", &["T1059.001"], &[], &["ps", "parent"]),
            // The LSASS rule fires on a persistence sample: no evidence for T1003.
            run("b.evtx", &["T1547"], &["persistence"], &["lsass"]),
            run("c.evtx", &[], &["credential-access"], &["lsass"]),
            // T1086 is revoked in favour of T1059.001: the label follows it.
            run("d.evtx", &["t1086"], &[], &["ps"]),
        ];
        let validated = validated_coverage(&matrix, &rules, &runs);
        assert_eq!(
            validated.confidence("T1059.001"),
            Some(Confidence::Validated)
        );
        assert_eq!(validated.confidence("T1059"), Some(Confidence::Validated));
        assert_eq!(validated.techniques["T1059"].evidence_count, 3);
        assert_eq!(validated.techniques["T1059.001"].evidence_count, 2);
        assert_eq!(
            validated.confidence("T1003.001"),
            Some(Confidence::Corroborated)
        );
        assert_eq!(validated.misses.len(), 1);
        assert_eq!(validated.misses[0].sample, PathBuf::from("b.evtx"));
    }

    #[test]
    fn a_rule_firing_on_its_own_regression_sample_only_self_validates() {
        let matrix = small_matrix();
        let rules = [
            RuleInfo::new("ps", "powershell", Level::High, &["T1059.001"]),
            RuleInfo::new("ps-other", "powershell too", Level::High, &["T1059.001"]),
            RuleInfo::new("lsass", "lsass", Level::High, &["T1003.001"]),
        ];
        let mut own = run("ps/sample.evtx", &[], &[], &["ps"]);
        own.label.rule_ids.insert("ps".into());
        own.label.source = LabelSource::SigmaRegression;
        let mut lsass_own = run("lsass/sample.evtx", &[], &[], &["lsass"]);
        lsass_own.label.rule_ids.insert("lsass".into());
        // Another rule firing on ps's sample is independent evidence for that rule.
        let mut other = run("ps/sample.evtx", &[], &[], &["ps", "ps-other"]);
        other.label.rule_ids.insert("ps".into());

        let alone = validated_coverage(&matrix, &rules, &[own.clone(), lsass_own]);
        assert_eq!(
            alone.confidence("T1059.001"),
            Some(Confidence::SelfValidated)
        );
        assert_eq!(
            alone.confidence("T1003.001"),
            Some(Confidence::SelfValidated)
        );
        assert_eq!(alone.count(Confidence::Validated), 0);
        assert_eq!(alone.count(Confidence::SelfValidated), 4);

        let both = validated_coverage(&matrix, &rules, &[other]);
        assert_eq!(both.confidence("T1059.001"), Some(Confidence::Validated));
        assert_eq!(both.techniques["T1059.001"].evidence[0].rule_id, "ps-other");
    }
}
