#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Validated coverage: SigmaHQ's rules run over SigmaHQ's regression samples and over
//! EVTX-ATTACK-SAMPLES, labels read from the data's own layout.

mod common;

use common::{enterprise, sigma_dirs, sigma_rules};
use rampart_coverage::{
    claimed_coverage, load_labels, resolved_techniques, run_samples, validated_coverage,
    ClaimWeights, Confidence, LabelSource,
};
use rampart_detect::{Engine, LogsourceMap};
use rampart_pipeline::CompiledRules;
use rampart_testkit::data_path;
use std::collections::HashMap;
use std::path::Path;

fn engine() -> CompiledRules {
    let (set, _) = rampart_sigma::load_rules(&sigma_dirs());
    let engine = Engine::compile(&set, &LogsourceMap::builtin()).0;
    CompiledRules::new(engine, set)
}

fn count_files(dir: &Path, ext: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .map(|p| {
            if p.is_dir() {
                count_files(&p, ext)
            } else {
                usize::from(p.extension().is_some_and(|e| e == ext))
            }
        })
        .sum()
}

#[test]
fn regression_samples_validate_the_techniques_of_their_rules() {
    let matrix = enterprise();
    let rules = sigma_rules();
    let regression = data_path("sigma/regression_data");
    let labels = load_labels(&regression, matrix);
    assert!(labels.diagnostics.is_empty(), "{:?}", labels.diagnostics);
    // Every EVTX sample of the suite is labelled with the rule it was recorded for.
    assert_eq!(labels.samples.len(), count_files(&regression, "evtx"));
    assert!(labels
        .samples
        .iter()
        .all(|s| s.source == LabelSource::SigmaRegression && s.rule_ids.len() == 1));

    let runs = run_samples(&engine(), &labels.samples);
    assert!(runs.iter().all(|r| r.error.is_none()));
    let own_rule_fired = runs
        .iter()
        .filter(|r| r.label.rule_ids.iter().all(|id| r.fired.contains(id)))
        .count();
    assert!(
        own_rule_fired * 10 >= runs.len() * 9,
        "only {own_rule_fired} of {} samples fire their own rule",
        runs.len()
    );

    let validated = validated_coverage(matrix, rules, &runs);
    let by_id: HashMap<&str, _> = rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let reached = |confidence: Confidence| -> Vec<&String> {
        validated
            .techniques
            .iter()
            .filter(|(_, v)| v.confidence == confidence)
            .map(|(id, _)| id)
            .collect()
    };
    // Each regression sample was recorded for one rule: that rule firing on it is
    // circular, so most techniques are only self-validated.
    let self_validated = reached(Confidence::SelfValidated);
    let independent = reached(Confidence::Validated);
    assert!(
        self_validated.len() > 60,
        "{} self-validated",
        self_validated.len()
    );
    assert!(
        independent.len() < self_validated.len(),
        "{} independent, {} self-validated",
        independent.len(),
        self_validated.len()
    );
    let recorded_for = |sample: &Path, rule: &str| {
        runs.iter()
            .find(|r| r.label.path == sample)
            .is_some_and(|r| r.label.rule_ids.contains(rule))
    };
    for id in &self_validated {
        for evidence in &validated.techniques[*id].evidence {
            assert!(recorded_for(&evidence.sample, &evidence.rule_id));
        }
    }
    // Independent evidence: a rule firing on a sample recorded for another rule.
    for id in &independent {
        for evidence in &validated.techniques[*id].evidence {
            assert!(!recorded_for(&evidence.sample, &evidence.rule_id));
        }
    }
    let validated_ids: Vec<&String> = self_validated.into_iter().chain(independent).collect();
    // Each piece of evidence is a rule tagged with the technique (or a sub-technique of
    // it) firing on a sample whose own rule is tagged the same way.
    for id in &validated_ids {
        for evidence in &validated.techniques[*id].evidence {
            let tags = resolved_techniques(matrix, by_id[evidence.rule_id.as_str()]);
            assert!(
                tags.iter()
                    .any(|t| t == *id || t.starts_with(&format!("{id}."))),
                "{} does not claim {id}",
                evidence.rule_id
            );
        }
    }
    // Claimed but never validated is most of what is claimed: 200 samples cannot show
    // 400 techniques.
    let claimed = claimed_coverage(matrix, rules, &ClaimWeights::default());
    let never = claimed
        .techniques
        .keys()
        .filter(|id| validated.confidence(id).is_none())
        .count();
    assert!(never > 0 && never < claimed.techniques.len());
    assert!(validated_ids
        .iter()
        .all(|id| claimed.techniques.contains_key(*id)));
}

#[test]
fn attack_samples_folders_label_tactics_and_file_names_techniques() {
    let matrix = enterprise();
    let root = data_path("evtx-attack-samples");
    let labels = load_labels(&root, matrix);
    assert_eq!(labels.samples.len(), count_files(&root, "evtx"));
    let in_folder = |folder: &str| {
        labels
            .samples
            .iter()
            .filter(|s| s.path.parent().and_then(|p| p.file_name()) == Some(folder.as_ref()))
            .collect::<Vec<_>>()
    };
    assert!(in_folder("Credential Access")
        .iter()
        .all(|s| s.tactics.contains("credential-access")));
    // `Other` and `AutomatedTestingTools` name no tactic.
    assert!(in_folder("Other").iter().all(|s| s.tactics.is_empty()));
    let doppelganging = labels
        .samples
        .iter()
        .find(|s| {
            s.path
                .ends_with("Win_4985_T1186_Process_Doppelganging.evtx")
        })
        .unwrap();
    assert!(doppelganging.techniques.contains("T1186"));

    let runs = run_samples(&engine(), &labels.samples);
    let validated = validated_coverage(matrix, sigma_rules(), &runs);
    assert!(validated.samples_with_alerts * 2 > validated.samples);
    // Tactic folders alone can only corroborate.
    let corroborated = validated
        .techniques
        .values()
        .filter(|v| v.confidence == Confidence::Corroborated)
        .count();
    assert!(corroborated > 20, "{corroborated} corroborated");
    // No sample there was recorded for a rule: nothing is self-validated.
    assert_eq!(validated.count(Confidence::SelfValidated), 0);
    for v in validated.techniques.values() {
        for evidence in &v.evidence {
            let run = runs
                .iter()
                .find(|r| r.label.path == evidence.sample)
                .unwrap();
            let technique = matrix.technique(&v.technique).unwrap();
            let tactic_hit = technique
                .tactics
                .iter()
                .any(|t| run.label.tactics.contains(t));
            assert!(tactic_hit || v.confidence == Confidence::Validated);
        }
    }
}
