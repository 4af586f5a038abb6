#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `rampart sigma suppress | suppressions | unsuppress` on real alerts: the filter
//! written from a stored alert stops that pattern in the next hunt (counted in the
//! summary, not stored), other alerts stay, and removing it brings the alert back.

use rampart_testkit::data_path;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn rampart(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .env("RAMPART_DATA", rampart_testkit::data_dir())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "rampart {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Alert ids of a hunt's JSON lines, and its stderr.
fn hunt(samples: &str, rules: &[&str], db: &Path) -> (Vec<String>, String) {
    let mut args = vec!["hunt", samples, "--format", "jsonl", "--store", text(db)];
    for dir in rules {
        args.extend(["--rules", dir]);
    }
    let output = rampart(&args);
    let ids = lines(&output)
        .iter()
        .map(|alert| alert["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, String::from_utf8(output.stderr).unwrap())
}

#[test]
fn suppress_a_stored_alert_then_take_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let tuning = dir.path().join("tuning");
    let samples = data_path("evtx-attack-samples/Execution");
    let rules = data_path("sigma/rules/windows/process_creation");
    let (samples, rules) = (text(&samples), text(&rules));

    let first_db = dir.path().join("first.db");
    let (before, _) = hunt(samples, &[rules], &first_db);
    let stored = lines(&rampart(&[
        "alerts",
        "list",
        "--store",
        text(&first_db),
        "--json",
    ]));
    assert_eq!(stored.len(), before.len());
    // An alert whose rule also fired with other matched values.
    let target = stored
        .iter()
        .find(|a| {
            stored.iter().any(|b| {
                b["alert"]["rule_id"] == a["alert"]["rule_id"]
                    && b["alert"]["matched"] != a["alert"]["matched"]
            })
        })
        .expect("a rule with two different alerts");
    let target_id = target["id"].as_str().unwrap();
    let rule_id = target["alert"]["rule_id"].as_str().unwrap();

    let written = rampart(&[
        "sigma",
        "suppress",
        "--alert",
        target_id,
        "--store",
        text(&first_db),
        "--dir",
        text(&tuning),
        "--reason",
        "benign test pattern",
        "--expires",
        "2999-01-01",
    ]);
    let filter_id = String::from_utf8(written.stdout).unwrap().trim().to_owned();
    assert_eq!(filter_id.len(), 36, "{filter_id}");

    let listed = lines(&rampart(&[
        "sigma",
        "suppressions",
        "--dir",
        text(&tuning),
        "--json",
    ]));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], filter_id.as_str());
    assert_eq!(listed[0]["state"], "active");
    assert_eq!(listed[0]["rules"][0], rule_id);
    assert_eq!(listed[0]["expires"], "2999-01-01");
    assert_eq!(listed[0]["description"], "benign test pattern");

    // The next hunt: the target is suppressed and counted, the rest is unchanged.
    let second_db = dir.path().join("second.db");
    let (during, summary) = hunt(samples, &[rules, text(&tuning)], &second_db);
    assert!(!during.iter().any(|id| id == target_id));
    let rule_still_fires = lines(&rampart(&[
        "alerts",
        "list",
        "--store",
        text(&second_db),
        "--json",
    ]))
    .iter()
    .any(|a| a["alert"]["rule_id"] == rule_id);
    assert!(rule_still_fires, "only the suppressed pattern is gone");
    let suppressed = before.len() - during.len();
    assert!(suppressed >= 1);
    assert!(during.iter().all(|id| before.contains(id)));
    let line = summary
        .lines()
        .find(|line| line.starts_with("suppressed by filters:"))
        .unwrap_or_else(|| panic!("no suppression line in {summary}"));
    assert!(
        line.starts_with(&format!("suppressed by filters: {suppressed} matches")),
        "{line}"
    );
    assert!(line.contains(&filter_id), "{line}");

    // Taken back: the file is gone and the alert fires again.
    rampart(&["sigma", "unsuppress", &filter_id, "--dir", text(&tuning)]);
    assert!(lines(&rampart(&[
        "sigma",
        "suppressions",
        "--dir",
        text(&tuning),
        "--json"
    ]))
    .is_empty());
    let third_db = dir.path().join("third.db");
    let (after, summary) = hunt(samples, &[rules, text(&tuning)], &third_db);
    assert_eq!(after, before);
    assert!(!summary.contains("suppressed by filters"));
}

#[test]
fn suppressions_default_to_the_data_directory_and_refuse_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hunt.db");
    let samples = data_path("evtx-attack-samples/Execution/Sysmon_Exec_CompiledHTML.evtx");
    let rules = data_path("sigma/rules/windows/process_creation");
    let (ids, _) = hunt(text(&samples), &[text(&rules)], &db);
    assert!(!ids.is_empty());
    let data_dir = dir.path().join("data");

    let base = |extra: &[&str]| {
        let mut args = vec![
            "--data-dir".to_owned(),
            text(&data_dir).to_owned(),
            "sigma".to_owned(),
            "suppress".to_owned(),
            "--store".to_owned(),
            text(&db).to_owned(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };

    let mut unknown = base(&["--alert"]);
    unknown.push("no-such-alert\u{1b}[31m".to_owned());
    let message = fails(&refs(&unknown));
    assert!(message.contains("no alert"), "{message}");
    assert!(
        !message.contains('\u{1b}'),
        "attacker text is escaped: {message}"
    );

    let mut missing = base(&["--field", "NoSuchField", "--alert"]);
    missing.push(ids[0].clone());
    let message = fails(&refs(&missing));
    assert!(message.contains("NoSuchField"), "{message}");

    let mut past = base(&["--expires", "2001-01-01", "--alert"]);
    past.push(ids[0].clone());
    fails(&refs(&past));
    assert!(
        !data_dir.join("tuning").exists(),
        "nothing written on failure"
    );

    let mut good = base(&["--field", "Computer", "--alert"]);
    good.push(ids[0].clone());
    rampart(&refs(&good));
    let files: Vec<_> = std::fs::read_dir(data_dir.join("tuning"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].starts_with("mf_suppress_") && files[0].ends_with(".yml"));
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Runs a command that must fail; returns its stderr.
fn fails(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .output()
        .unwrap();
    assert!(!output.status.success(), "{args:?} succeeded");
    String::from_utf8(output.stderr).unwrap()
}
