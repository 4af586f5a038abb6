//! `rampart sigma check`: diagnostics, summary, JSON and exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn rampart(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .output()
        .expect("rampart runs")
}

fn path_arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn all_of_sigmahq_rules_folder_loads_and_exits_zero() {
    let rules = rampart_testkit::data_path("sigma/rules");
    let output = rampart(&["sigma", "check", path_arg(&rules), "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["rules"], 3_141);
    assert_eq!(report["loaded"], 3_141);
    assert_eq!(report["failed"], 0);
}

#[test]
fn a_broken_rule_is_reported_with_file_and_line_and_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let good = rampart_testkit::data_path(
        "sigma/rules/windows/process_creation/proc_creation_win_certutil_download.yml",
    );
    std::fs::copy(&good, dir.path().join("good.yml")).unwrap();
    std::fs::write(
        dir.path().join("broken.yml"),
        "title: broken\nlogsource:\n    product: windows\ndetection:\n    sel:\n        Image|endwith: x\n    condition: sel\n",
    )
    .unwrap();

    let output = rampart(&["sigma", "check", path_arg(dir.path())]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("broken.yml:6: error [unknown-modifier]"),
        "{text}"
    );
    assert!(text.contains("`|endwith`"), "{text}");
    assert!(text.contains("rules: 2\n"), "{text}");
    assert!(text.contains("loaded: 1 "), "{text}");
    assert!(
        text.contains("failed: 1\n  unknown-modifier: 1\n"),
        "{text}"
    );

    let output = rampart(&["sigma", "check", path_arg(dir.path()), "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (
            report["rules"].as_u64(),
            report["loaded"].as_u64(),
            report["failed"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(report["failed_by_kind"]["unknown-modifier"], 1);
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["line"], 6);
    assert_eq!(diagnostic["kind"], "unknown-modifier");
    assert!(diagnostic["path"].as_str().unwrap().ends_with("broken.yml"));
}

#[test]
fn placeholders_given_on_the_command_line_are_expanded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("placeholder.yml"),
        "title: admins\nlogsource:\n    product: windows\ndetection:\n    sel:\n        User|expand: '%Administrators%'\n    condition: sel\n",
    )
    .unwrap();
    let without = rampart(&["sigma", "check", path_arg(dir.path())]);
    assert_eq!(without.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&without.stdout).contains("placeholder: 1"));
    let with = rampart(&[
        "sigma",
        "check",
        path_arg(dir.path()),
        "--placeholder",
        "Administrators=adm_*",
        "--placeholder",
        "%Administrators%=root",
    ]);
    assert!(
        with.status.success(),
        "{}",
        String::from_utf8_lossy(&with.stdout)
    );
}

/// `ln -s . self` twice in a rules folder loaded every rule again through each link
/// (and two such links hung the walk); a FIFO named `*.yml` hung it too. Now links are
/// reported and passed over (or, with --follow-links, followed with each loop
/// reported), the FIFO is reported, and the one rule loads once.
#[test]
fn symlink_loops_and_fifos_in_a_rules_folder_neither_repeat_nor_hang() {
    let dir = tempfile::tempdir().unwrap();
    let good = rampart_testkit::data_path(
        "sigma/rules/windows/process_creation/proc_creation_win_certutil_download.yml",
    );
    std::fs::copy(&good, dir.path().join("good.yml")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("self")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("again")).unwrap();
    let fifo = dir.path().join("pipe.yml");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for (follow, note) in [
        (false, "symbolic link not followed"),
        (true, "symbolic link loop"),
    ] {
        let mut args = vec!["sigma", "check", path_arg(dir.path()), "--json"];
        if follow {
            args.push("--follow-links");
        }
        let output = rampart(&args);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["rules"], 1, "{stdout}");
        assert_eq!(report["loaded"], 1, "{stdout}");
        assert_eq!(stdout.matches(note).count(), 2, "{stdout}");
        assert!(stdout.contains("not a regular file"), "{stdout}");
    }
}

/// The two YAML bombs of the hardening issue, beside a good rule: a 41 KB rule of 100
/// anchors each nesting 200 deep around the one before, and a 600-byte billion laughs.
fn yaml_bombs_beside(dir: &Path, good: &Path) {
    let rule = |extra: &str| {
        format!("title: bomb\nlogsource:\n    product: windows\ndetection:\n    sel:\n        Image: x\n    condition: sel\n{extra}")
    };
    let mut chain = String::from("chain:\n");
    for level in 0..100 {
        let inner = match level {
            0 => "x".to_string(),
            _ => format!("*a{}", level - 1),
        };
        chain.push_str(&format!(
            "    - &a{level} {}{inner}{}\n",
            "[".repeat(200),
            "]".repeat(200)
        ));
    }
    let mut laughs =
        String::from("laughs:\n    - &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..9 {
        let previous = format!("*l{}", level - 1);
        laughs.push_str(&format!(
            "    - &l{level} [{}]\n",
            [previous.as_str(); 9].join(", ")
        ));
    }
    std::fs::write(dir.join("chained.yml"), rule(&chain)).unwrap();
    std::fs::write(dir.join("laughs.yml"), rule(&laughs)).unwrap();
    std::fs::copy(good, dir.join("good.yml")).unwrap();
}

#[test]
fn yaml_bombs_are_diagnostics_and_the_good_rule_loads() {
    let dir = tempfile::tempdir().unwrap();
    let good = rampart_testkit::data_path(
        "sigma/rules/windows/process_creation/proc_creation_win_certutil_download.yml",
    );
    yaml_bombs_beside(dir.path(), &good);
    let output = rampart(&["sigma", "check", path_arg(dir.path()), "--json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (report["rules"].as_u64(), report["loaded"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(report["failed_by_kind"]["yaml"], 2);
    let mut places: Vec<(String, u64)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let path = d["path"].as_str().unwrap();
            let file = Path::new(path).file_name().unwrap().to_string_lossy();
            (file.into_owned(), d["line"].as_u64().unwrap())
        })
        .collect();
    places.sort();
    // The chain's first item already nests too deep; the laughs run out of alias
    // budget on their fifth line of aliases.
    assert_eq!(
        places,
        [
            ("chained.yml".to_string(), 9),
            ("laughs.yml".to_string(), 13)
        ]
    );
}

#[test]
fn hunt_runs_the_good_rule_beside_yaml_bombs() {
    let dir = tempfile::tempdir().unwrap();
    let good = rampart_testkit::data_path(
        "sigma/rules/windows/builtin/security/win_security_audit_log_cleared.yml",
    );
    yaml_bombs_beside(dir.path(), &good);
    let sample = rampart_testkit::data_path(
        "evtx-attack-samples/Defense Evasion/DE_1102_security_log_cleared.evtx",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["hunt", path_arg(&sample), "--rules", path_arg(dir.path())])
        .args(["--format", "jsonl"])
        .env("RAMPART_DATA", rampart_testkit::data_dir())
        .output()
        .unwrap();
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{errors}");
    assert!(errors.contains("2 failed to load"), "{errors}");
    let alerts = String::from_utf8_lossy(&output.stdout);
    assert!(
        alerts.contains("d99b79d2-0a6f-4f46-ad8b-260b6e17f982"),
        "{alerts}"
    );
}
