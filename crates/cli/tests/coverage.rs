//! `rampart coverage` and `rampart sigma lint`, run as a user would, on the real data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{json, rampart};
use rampart_coverage::check_layer;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn gap_order(report: &Value) -> Vec<String> {
    report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["technique"].as_str().unwrap().to_string())
        .collect()
}

fn lint_rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../coverage/tests/data/lint")
}

#[test]
fn json_report_adds_up_and_sigmahq_tags_are_active_in_19_1() {
    let report = json(&["coverage", "--json"]);
    let summary = &report["summary"];
    assert_eq!(report["attack_version"], "19.1");
    let claimed = summary["parent_techniques_claimed"].as_u64().unwrap();
    let total = summary["parent_techniques_total"].as_u64().unwrap();
    assert!(claimed > 100 && claimed < total, "{claimed}/{total}");
    let by_tactic = report["claimed"]["by_tactic"].as_array().unwrap();
    // 19.1 split Defense Evasion into Stealth and Defense Impairment: 15 tactics.
    assert_eq!(by_tactic.len(), 15);
    // SigmaHQ's rules are tagged for ATT&CK 19: under 19.1 every technique tag is active.
    let issues = report["claimed"]["tag_issues"].as_array().unwrap();
    assert!(issues.is_empty(), "{issues:?}");
    // Gaps are ranked 1..n by falling priority.
    let gaps = report["gaps"].as_array().unwrap();
    for (i, pair) in gaps.windows(2).enumerate() {
        assert_eq!(pair[0]["rank"].as_u64().unwrap(), i as u64 + 1);
        assert!(pair[0]["priority"].as_f64() >= pair[1]["priority"].as_f64());
    }
}

#[test]
fn groups_change_the_ranking() {
    let default = gap_order(&json(&["coverage", "--json"]));
    let report = json(&["coverage", "--json", "--groups", "Cozy Bear"]);
    let apt29 = gap_order(&report);
    assert_ne!(default[..10], apt29[..10]);
    assert_eq!(report["groups"], serde_json::json!(["G0016"]));
    // With one group selected, its techniques come first.
    let top = &report["gaps"][0];
    assert_eq!(top["groups"], serde_json::json!(["APT29"]));
    let error = rampart(&["coverage", "--groups", "NoSuchGroup"]);
    assert!(!error.status.success());
    assert!(String::from_utf8_lossy(&error.stderr).contains("NoSuchGroup"));
}

#[test]
fn writes_layers_html_and_tables() {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("cov.json");
    let html = dir.path().join("cov.html");
    let csv = dir.path().join("gaps.csv");
    let md = dir.path().join("gaps.md");
    let output = rampart(&[
        "coverage",
        "--layer",
        layer.to_str().unwrap(),
        "--per-platform",
        "--html",
        html.to_str().unwrap(),
        "--gaps-csv",
        csv.to_str().unwrap(),
        "--gaps-md",
        md.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut layers = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("cov.") && name.ends_with(".json") {
            let value: Value =
                serde_json::from_slice(&std::fs::read(entry.path()).unwrap()).unwrap();
            assert_eq!(check_layer(&value), Vec::<String>::new(), "{name}");
            layers += 1;
        }
    }
    // claimed + gaps, for all platforms and for each of Enterprise's platforms.
    assert!(layers >= 2 * 8, "{layers} layers");
    assert!(dir.path().join("cov.windows.gaps.json").is_file());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("Prioritised gaps"));
    let rows = std::fs::read_to_string(&csv).unwrap().lines().count();
    let md_rows = std::fs::read_to_string(&md).unwrap().lines().count();
    assert_eq!(rows + 1, md_rows);
}

#[test]
fn diff_reports_techniques_gained_and_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    std::fs::create_dir_all(&old).unwrap();
    std::fs::create_dir_all(&new).unwrap();
    let source = lint_rules_dir();
    // old claims LSASS Memory and PowerShell; new only PowerShell (plus an unknown id).
    for (name, target) in [
        ("two_techniques.yml", &old),
        ("deprecated.yml", &old),
        ("good.yml", &new),
        ("unknown.yml", &new),
    ] {
        std::fs::copy(source.join(name), target.join(name)).unwrap();
    }
    let ids = |diff: &Value, key: &str| {
        diff[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["technique"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    let diff = json(&["coverage", "diff", old, new, "--json"]);
    assert_eq!(ids(&diff, "lost"), ["T1003", "T1003.001"]);
    assert!(ids(&diff, "gained").is_empty());
    let reverse = json(&["coverage", "diff", new, old, "--json"]);
    assert_eq!(ids(&reverse, "gained"), ["T1003", "T1003.001"]);
    let missing = rampart(&["coverage", "diff", old, "no/such/rules"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such/rules"));
}

#[test]
fn lint_flags_the_bad_rules_and_exits_nonzero() {
    let dir = lint_rules_dir();
    let output = rampart(&["sigma", "lint", "--rules", dir.to_str().unwrap(), "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["rules"], 9);
    for kind in [
        "no-technique",
        "multiple-techniques",
        "tactic-mismatch",
        "revoked-technique",
        "deprecated-technique",
        "unknown-technique",
        "unknown-tactic",
        "near-duplicate",
    ] {
        assert_eq!(report["counts"][kind], 1, "{kind}: {}", report["counts"]);
    }
    // T1999, `evasion` and the revoked T1086, said once for the set with the successor.
    assert_eq!(report["counts"]["version-skew"], 1);
    let human = rampart(&["sigma", "lint", "--rules", dir.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert_eq!(text.matches("[version-skew]").count(), 1, "{text}");
    assert!(text.contains("rule set [version-skew]") && text.contains("T1086 → T1059.001"));
    let good = dir.join("good.yml");
    let clean = rampart(&["sigma", "lint", "--rules", good.to_str().unwrap()]);
    assert_eq!(clean.status.code(), Some(0));
}

#[test]
fn collected_log_sources_decide_visibility() {
    let dir = tempfile::tempdir().unwrap();
    let none = dir.path().join("none.txt");
    let sysmon = dir.path().join("sysmon.txt");
    let bad = dir.path().join("bad.txt");
    std::fs::write(&none, "# we collect nothing yet\n").unwrap();
    std::fs::write(&sysmon, "WinEventLog:Sysmon EventCode=1\n").unwrap();
    std::fs::write(
        &bad,
        "WinEventLog:Security\nWinEventLog:Sysmon EventCode=x\n",
    )
    .unwrap();
    let visibility = |file: &Path| {
        let report = json(&[
            "coverage",
            "--json",
            "--platform",
            "Windows",
            "--collected",
            file.to_str().unwrap(),
        ]);
        report["visibility"].clone()
    };
    let blind = visibility(&none);
    let kinds = |v: &Value, kind: &str| {
        v.as_object()
            .unwrap()
            .values()
            .filter(|t| t["visibility"] == kind)
            .count()
    };
    assert_eq!(kinds(&blind, "visible"), 0);
    assert!(kinds(&blind, "blind") > 400);
    let seen = visibility(&sysmon);
    assert_eq!(seen["T1059.001"]["visibility"], "visible");
    assert!(kinds(&seen, "visible") > 100 && kinds(&seen, "blind") > 100);
    // What is still missing never includes the one source collected.
    for technique in seen.as_object().unwrap().values() {
        for need in technique["missing"].as_array().unwrap() {
            assert!(!(need["name"] == "WinEventLog:Sysmon" && need["channel"] == "EventCode=1"));
        }
    }
    let error = rampart(&["coverage", "--collected", bad.to_str().unwrap()]);
    assert!(!error.status.success());
    assert!(String::from_utf8_lossy(&error.stderr).contains("line 2"));
}

#[test]
fn csv_labelled_samples_validate_and_write_a_validated_layer() {
    let dir = tempfile::tempdir().unwrap();
    let regression =
        rampart_testkit::data_path("sigma/regression_data/rules/windows/file/file_event");
    // A Task Manager LSASS dump, labelled correctly first and then as something else.
    let sample = regression
        .join("file_event_win_taskmgr_lsass_dump/69ca12af-119d-44ed-b50f-a47af0ebc364.evtx");
    let labels = dir.path().join("labels.csv");
    std::fs::write(
        &labels,
        format!("path,technique\n{0},T1003.001\n", sample.display()),
    )
    .unwrap();
    let layer = dir.path().join("cov.json");
    let report = json(&[
        "coverage",
        "--json",
        "--samples",
        labels.to_str().unwrap(),
        "--layer",
        layer.to_str().unwrap(),
    ]);
    assert_eq!(report["validated"]["samples"], 1);
    let lsass = &report["validated"]["techniques"]["T1003.001"];
    assert_eq!(lsass["confidence"], "validated", "{}", report["validated"]);
    assert_eq!(
        report["validated"]["techniques"]["T1003"]["confidence"],
        "validated"
    );
    // Everything else claimed is called out as never validated.
    let never = report["claimed_never_validated"].as_array().unwrap();
    assert!(never.len() > 300 && !never.iter().any(|t| t == "T1003.001"));
    let validated: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("cov.validated.json")).unwrap())
            .unwrap();
    assert_eq!(check_layer(&validated), Vec::<String>::new());

    // The same sample labelled as Scheduled Task validates nothing.
    std::fs::write(&labels, format!("{},T1053.005\n", sample.display())).unwrap();
    let wrong = json(&["coverage", "--json", "--samples", labels.to_str().unwrap()]);
    assert_eq!(
        wrong["validated"]["techniques"].as_object().unwrap().len(),
        0
    );
    assert_eq!(wrong["validated"]["misses"].as_array().unwrap().len(), 1);
}

#[test]
fn weights_tactic_order_and_groups_file_steer_the_ranking() {
    let dir = tempfile::tempdir().unwrap();
    let groups = dir.path().join("groups.txt");
    std::fs::write(&groups, "# our threat model\nFIN7\n").unwrap();
    let from_file = json(&[
        "coverage",
        "--json",
        "--groups-file",
        groups.to_str().unwrap(),
    ]);
    let from_flag = json(&["coverage", "--json", "--groups", "fin7"]);
    assert_eq!(gap_order(&from_file), gap_order(&from_flag));
    // Tactic order alone (threat weight 0): the first tactic's techniques lead.
    let exfil = json(&[
        "coverage",
        "--json",
        "--weights",
        "threat=0,coverage=0,countermeasures=0",
        "--tactic-order",
        "Exfiltration",
    ]);
    let top = &exfil["gaps"][0];
    assert!(
        top["tactics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "exfiltration"),
        "{top}"
    );
    let bad = rampart(&["coverage", "--weights", "speed=9"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("speed"));
}

/// A folder of rules tagged for ATT&CK 18: ids 19.1 revoked, and the old tactic.
fn rules_tagged_for_18(dir: &Path) {
    for (name, tags) in [
        ("tamper.yml", "[attack.defense-evasion, attack.t1562.001]"),
        ("tamper_too.yml", "[attack.t1562.001]"),
        ("clear.yml", "[attack.t1070.001]"),
    ] {
        std::fs::write(
            dir.join(name),
            format!(
                "title: {name}\nid: 00000000-0000-4000-8000-{:012}\nstatus: test\ntags: {tags}\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID: 1102\n    condition: selection\nlevel: high\n",
                name.len()
            ),
        )
        .unwrap();
    }
}

#[test]
fn coverage_says_version_skew_once_with_successors_and_remedy() {
    let dir = tempfile::tempdir().unwrap();
    rules_tagged_for_18(dir.path());
    let rules = dir.path().to_str().unwrap();

    let human = rampart(&["coverage", "--rules", rules]);
    assert!(human.status.success());
    let text = String::from_utf8_lossy(&human.stdout);
    assert_eq!(text.matches("ATT&CK version skew").count(), 1, "{text}");
    for part in [
        "3 rule(s) use 2 technique id(s) revoked in ATT&CK 19.1",
        "T1562.001 → T1685",
        "T1070.001 → T1685.005",
        "tactic(s) (defense-evasion)",
        "`rampart data update`",
    ] {
        assert!(text.contains(part), "{part:?} not in {text}");
    }

    let output = rampart(&["coverage", "--rules", rules, "--json"]);
    assert!(output.status.success());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let skew = &report["version_skew"];
    assert_eq!(skew["rules_with_revoked"], 3);
    assert_eq!(skew["revoked_techniques"][0]["tag"], "T1562.001");
    assert_eq!(skew["revoked_techniques"][0]["replacement"], "T1685");
    assert_eq!(skew["revoked_techniques"][0]["rules"], 2);
    assert_eq!(skew["unknown_tactics"][0]["tag"], "defense-evasion");
    assert!(skew["remedy"]
        .as_str()
        .unwrap()
        .contains("rampart data update"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("ATT&CK version skew").count(), 1, "{stderr}");
    // The successors are claimed, so none is a gap "no rule claims it".
    for gap in report["gaps"].as_array().unwrap() {
        let id = gap["technique"].as_str().unwrap();
        assert!(!id.starts_with("T1562") && id != "T1070.001", "{id}");
        if id == "T1685" || id == "T1685.005" {
            let reasons = gap["reasons"].to_string();
            assert!(!reasons.contains("no rule claims it"), "{id}: {reasons}");
        }
    }

    // The same rules under SigmaHQ's own 19.1 tags: no skew said.
    let lint = lint_rules_dir().join("good.yml");
    let clean = rampart(&["coverage", "--rules", lint.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&clean.stdout).contains("version skew"));
}

#[test]
fn ids_of_19_under_18_1_loaded_by_path_are_said_unknown() {
    // A data folder holding only ATT&CK 18.1 (linked, not copied).
    let data = tempfile::tempdir().unwrap();
    let attack = data.path().join("mitre-attack");
    std::fs::create_dir_all(&attack).unwrap();
    let name = "enterprise-attack-18.1.json.gz";
    std::os::unix::fs::symlink(
        rampart_testkit::data_path(&format!("mitre-attack/{name}")),
        attack.join(name),
    )
    .unwrap();
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("tamper.yml"),
        "title: Tamper\nid: 00000000-0000-4000-8000-000000000001\nstatus: test\ntags: [attack.stealth, attack.defense-impairment, attack.t1685]\nlogsource:\n    product: windows\n    service: security\ndetection:\n    selection:\n        EventID: 1102\n    condition: selection\nlevel: high\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
            .arg("--data-dir")
            .arg(data.path())
            .args(args)
            .args(["--rules", rules.path().to_str().unwrap()])
            .env("XDG_CACHE_HOME", common::cache_home())
            .env_remove("RAMPART_LOG")
            .output()
            .unwrap()
    };
    let output = run(&["coverage", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["attack_version"], "18.1");
    let skew = &report["version_skew"];
    assert_eq!(skew["unknown_techniques"][0]["tag"], "T1685");
    assert_eq!(skew["unknown_tactics"].as_array().unwrap().len(), 2);
    assert!(skew["summary"]
        .as_str()
        .unwrap()
        .contains("unknown to ATT&CK 18.1"));

    let lint = run(&["sigma", "lint", "--json"]);
    let report: Value = serde_json::from_slice(&lint.stdout).unwrap();
    assert_eq!(report["counts"]["version-skew"], 1);
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "version-skew")
        .unwrap();
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("T1685") && message.contains("rampart data update"),
        "{message}"
    );
}

#[test]
fn headline_labels_parents_and_subtechniques_and_claimed_not_covered() {
    let report = json(&["coverage", "--json"]);
    let summary = &report["summary"];
    let parents = summary["parent_techniques_claimed_percent"]
        .as_u64()
        .unwrap();
    let all = summary["techniques_incl_subtechniques_claimed_percent"]
        .as_u64()
        .unwrap();
    // Parents alone flatter the figure: sub-techniques are claimed far less often.
    assert!(parents > all + 10, "{parents} % vs {all} %");
    assert_eq!(
        summary["techniques_incl_subtechniques_total"].as_u64(),
        Some(697)
    );

    let human = String::from_utf8_lossy(&rampart(&["coverage"]).stdout).into_owned();
    assert!(
        human.contains("parent techniques") && human.contains("techniques incl. sub-techniques"),
        "{human}"
    );

    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let output = rampart(&["coverage", "--html", html.to_str().unwrap()]);
    assert!(output.status.success());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("parent techniques claimed"));
    assert!(page.contains("techniques incl. sub-techniques claimed"));
    assert!(!page.contains("of the matrix claimed"));
    assert!(
        !page.contains(" covered</text>"),
        "matrix headers say claimed"
    );
    assert!(page.contains(" claimed</text>"));
}

#[test]
fn attack_text_in_the_human_summary_cannot_drive_the_terminal() {
    // A feed is attacker-controlled: a technique name carrying escape sequences.
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("enterprise-attack.json"),
        r#"{"type": "bundle", "objects": [
        {"type": "x-mitre-tactic", "id": "x-mitre-tactic--1", "name": "Exec\u001b[2Jution",
         "x_mitre_shortname": "execution", "x_mitre_domains": ["enterprise-attack"],
         "external_references": [{"source_name": "mitre-attack", "external_id": "TA0002"}]},
        {"type": "attack-pattern", "id": "attack-pattern--1", "name": "Evil\u001b]0;owned\u0007\nfake line",
         "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
         "external_references": [{"source_name": "mitre-attack", "external_id": "T0001"}]}
    ]}"#,
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["coverage", "--rules"])
        .arg(lint_rules_dir().join("good.yml"))
        .env("XDG_CACHE_HOME", common::cache_home())
        .env_remove("RAMPART_LOG")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(
        text.contains("Evil\\x1b]0;owned\\x07\\nfake line"),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.starts_with("fake line")), "{text}");
}
