#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `rampart intel taxii` against OASIS's reference TAXII 2.1 server, medallion:
//! collections, a poll into a real store, an incremental poll from the stored cursor,
//! credentials from the environment or a file, a wrong password.

#[path = "../../intel/tests/common/medallion.rs"]
mod medallion;

use std::process::{Command, Output};

use medallion::{bundle_objects, Medallion, COLLECTION, PASSWORD, USER};
use serde_json::Value;

fn rampart(args: &[&str], password: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rampart"));
    command
        .arg("--data-dir")
        .arg(rampart_testkit::data_dir())
        .args(args)
        .env_remove("RAMPART_LOG")
        .env_remove("RAMPART_TAXII_TOKEN");
    match password {
        Some(password) => command.env("RAMPART_TAXII_PASSWORD", password),
        None => command.env_remove("RAMPART_TAXII_PASSWORD"),
    };
    command.output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn polls_a_collection_into_the_store_and_then_only_what_is_new() {
    let objects = bundle_objects("threat-reports/apt1.json");
    let server = Medallion::start(&objects);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("rampart.db");
    let store = store.to_str().unwrap();
    let discovery = server.discovery();

    let listed = rampart(
        &[
            "intel",
            "taxii",
            "collections",
            &discovery,
            "--user",
            USER,
            "--json",
        ],
        Some(PASSWORD),
    );
    assert!(listed.status.success(), "{}", stderr(&listed));
    let collection: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(collection["id"], COLLECTION);
    assert_eq!(collection["can_read"], true);

    let poll = [
        "intel",
        "taxii",
        "poll",
        &discovery,
        "--collection",
        COLLECTION,
        "--user",
        USER,
        "--limit",
        "20",
        "--store",
        store,
        "--json",
    ];
    let first = rampart(&poll, Some(PASSWORD));
    // Two X.509 indicators cannot be matched: reported, exit status 3.
    assert_eq!(first.status.code(), Some(3), "{}", stderr(&first));
    let report: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(report["objects"], objects.len());
    assert_eq!(report["pages"], objects.len().div_ceil(20));
    assert_eq!(report["complete"], true);
    assert_eq!(report["indicators"], 10);
    assert_eq!(report["outcome"]["added"], 10);
    assert_eq!(report["diagnostics"].as_array().unwrap().len(), 2);
    let source = report["source"].as_str().unwrap().to_owned();
    assert_eq!(
        source,
        format!("taxii:{}collections/{COLLECTION}/", server.api_root())
    );
    let cursor = report["cursor"].as_str().unwrap().to_owned();

    // The store holds them under the collection's source, with its cursor.
    let stats = rampart(&["intel", "list", "--store", store, "--json"], None);
    assert!(stats.status.success(), "{}", stderr(&stats));
    let listed: Vec<Value> = String::from_utf8_lossy(&stats.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(listed.len(), 10);

    // New objects on the server: the next poll brings only them.
    let added = bundle_objects("indicators-for-C2-with-COA.json");
    server.add(&added);
    let second = rampart(&poll, Some(PASSWORD));
    assert!(second.status.success(), "{}", stderr(&second));
    let report: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(report["polled_from"], cursor.as_str());
    assert_eq!(report["objects"], added.len());
    assert_eq!(report["outcome"]["added"], 2);
    assert!(report["cursor"].as_str().unwrap() > cursor.as_str());

    // The password from a file; a wrong one is the server's refusal, said plainly.
    let secret = dir.path().join("password");
    std::fs::write(&secret, "not the password\n").unwrap();
    let denied = rampart(
        &[
            "intel",
            "taxii",
            "poll",
            &discovery,
            "--collection",
            COLLECTION,
            "--user",
            USER,
            "--password-file",
            secret.to_str().unwrap(),
            "--store",
            store,
        ],
        None,
    );
    assert_eq!(denied.status.code(), Some(1));
    let message = stderr(&denied);
    assert!(message.contains("refused access"), "{message}");
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(!message.contains("not the password"), "{message}");

    // --user without any password is refused before anything is sent.
    let missing = rampart(
        &["intel", "taxii", "collections", &discovery, "--user", USER],
        None,
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("RAMPART_TAXII_PASSWORD"));
}
