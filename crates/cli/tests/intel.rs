//! `rampart intel` as a user runs it: importing ESET's real lists into a store,
//! listing, statistics, the allow-list, removal, and the exit status of an import that
//! left something out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{ok, rampart};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn eset(path: &str) -> PathBuf {
    rampart_testkit::data_dir()
        .join("threat-intel/eset-malware-ioc")
        .join(path)
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn import_list_stats_and_remove_a_real_hash_list() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("intel.db");
    let list = eset("dukes/samples.sha256");
    let lines = std::fs::read_to_string(&list)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    let imported = json_lines(
        &ok(&[
            "intel",
            "import",
            text(&list),
            "--kind",
            "sha256",
            "--store",
            text(&store),
            "--json",
        ])
        .stdout,
    );
    assert_eq!(imported.len(), 1);
    assert_eq!(imported[0]["source"], "list:samples.sha256");
    assert_eq!(imported[0]["added"], lines);
    // Again: every indicator unchanged, none removed.
    let again = json_lines(
        &ok(&[
            "intel",
            "import",
            text(&list),
            "--store",
            text(&store),
            "--json",
        ])
        .stdout,
    );
    assert_eq!(again[0]["unchanged"], lines);
    assert_eq!(again[0]["added"], 0);

    let stats: Value =
        serde_json::from_slice(&ok(&["intel", "stats", "--store", text(&store), "--json"]).stdout)
            .unwrap();
    assert_eq!(stats["stats"]["indicators"], lines);
    assert_eq!(stats["stats"]["counts"][0]["kind"], "sha256");
    assert_eq!(stats["sources"][0]["imports"], 2);

    let first_hash = std::fs::read_to_string(&list)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_string();
    // Found by value in any case, as the store keeps it lower-cased.
    let upper = first_hash.to_ascii_uppercase();
    let found = json_lines(
        &ok(&[
            "intel",
            "list",
            "--value",
            &upper,
            "--store",
            text(&store),
            "--json",
        ])
        .stdout,
    );
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0]["indicator"]["all_of"][0]["value"],
        first_hash.as_str()
    );
    let human = ok(&["intel", "list", "--limit", "2", "--store", text(&store)]);
    assert_eq!(String::from_utf8_lossy(&human.stdout).lines().count(), 2);

    let removed = ok(&[
        "intel",
        "remove",
        "--source",
        "list:samples.sha256",
        "--store",
        text(&store),
    ]);
    assert!(String::from_utf8_lossy(&removed.stdout).contains(&format!("{lines} indicator")));
    let again = rampart(&[
        "intel",
        "remove",
        "--source",
        "list:samples.sha256",
        "--store",
        text(&store),
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no intel source"));
}

/// Bad lines and unreadable files are reported (escaped), the rest imported, and the
/// exit status is 3 as for a hunt that passed over input.
#[test]
fn an_import_with_diagnostics_exits_3_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("intel.db");
    let list = dir.path().join("mixed.txt");
    std::fs::write(
        &list,
        "# a comment\nevil[.]example\nhxxp://bad.example/x\n203.0.113.0/24\nnot-a-thing\x1b[31m\n0123\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.txt");
    let output = rampart(&[
        "intel",
        "import",
        text(&list),
        text(&missing),
        "--store",
        text(&store),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains('\x1b'), "{stderr}");
    assert!(stderr.contains("missing.txt"), "{stderr}");
    assert!(stderr.contains("mixed.txt:5"), "{stderr}");
    let report = json_lines(&output.stdout);
    assert_eq!(report[0]["added"], 3);
    assert_eq!(report[0]["diagnostics"].as_array().unwrap().len(), 2);
    let listed = json_lines(&ok(&["intel", "list", "--store", text(&store), "--json"]).stdout);
    let mut values: Vec<&str> = listed
        .iter()
        .map(|i| i["indicator"]["all_of"][0]["value"].as_str().unwrap())
        .collect();
    values.sort();
    assert_eq!(
        values,
        ["203.0.113.0/24", "evil.example", "http://bad.example/x"]
    );
}

#[test]
fn the_allow_list_adds_lists_and_removes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("intel.db");
    let added = ok(&[
        "intel",
        "allow",
        "add",
        "domain",
        "Scanner.Corp[.]Example",
        "--reason",
        "our scanner",
        "--store",
        text(&store),
        "--json",
    ]);
    let added: Value = serde_json::from_slice(&added.stdout).unwrap();
    assert_eq!(added["added"], true);
    assert_eq!(added["value"], "scanner.corp.example");
    let listed =
        json_lines(&ok(&["intel", "allow", "list", "--store", text(&store), "--json"]).stdout);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["reason"], "our scanner");
    let bad = rampart(&[
        "intel",
        "allow",
        "add",
        "md5",
        "xyz",
        "--store",
        text(&store),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    ok(&[
        "intel",
        "allow",
        "remove",
        "domain",
        "scanner.corp.example",
        "--store",
        text(&store),
    ]);
    let listed =
        json_lines(&ok(&["intel", "allow", "list", "--store", text(&store), "--json"]).stdout);
    assert!(listed.is_empty());
}
