#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `rampart data status|update|import` end to end, on the real reference data and a
//! local HTTP server (never the internet).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

fn rampart(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("RAMPART_DATA_URL")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Serves files of the reference data under mirror paths, one request per connection;
/// `corrupt` paths get half their bytes.
fn serve(routes: Vec<(String, std::path::PathBuf)>, corrupt: Vec<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let body = routes.iter().find(|(p, _)| *p == path).map(|(_, file)| {
                let bytes = std::fs::read(file).unwrap();
                if corrupt.contains(&path) {
                    bytes[..bytes.len() / 2].to_vec()
                } else {
                    bytes
                }
            });
            let (status, body) = match body {
                Some(body) => ("200 OK", body),
                None => ("404 Not Found", Vec::new()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    base
}

fn d3fend_and_engage_routes() -> Vec<(String, std::path::PathBuf)> {
    let data = rampart_testkit::data_dir();
    let mut routes = vec![(
        "/mitre-d3fend/d3fend.ttl".to_owned(),
        data.join("mitre-d3fend/d3fend-protege.ttl"),
    )];
    for entry in std::fs::read_dir(data.join("mitre-engage/Data/json")).unwrap() {
        let entry = entry.unwrap();
        routes.push((
            format!("/mitre-engage/{}", entry.file_name().to_string_lossy()),
            entry.path(),
        ));
    }
    routes
}

#[test]
fn status_json_reports_the_shared_data() {
    let output = rampart(&rampart_testkit::data_dir(), &["data", "status", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let files = status["files"].as_array().unwrap();
    let enterprise = files
        .iter()
        .find(|f| f["kind"] == "attack-enterprise")
        .unwrap();
    // 19.1, the highest version in the folder; counts from its README.
    assert_eq!(enterprise["version"], "19.1");
    assert_eq!(enterprise["counts"]["attack-pattern"], 858);
    assert_eq!(enterprise["counts"]["attack-pattern (active)"], 697);
    assert_eq!(enterprise["sha256"].as_str().unwrap().len(), 64);
    let d3fend = files.iter().find(|f| f["kind"] == "d3fend-turtle").unwrap();
    assert_eq!(d3fend["version"], "1.2.0");
    assert_eq!(
        files.iter().filter(|f| f["kind"] == "engage-json").count(),
        12
    );
    assert_eq!(status["sigma_rule_dirs"].as_array().unwrap().len(), 4);
}

#[test]
fn status_text_is_a_readable_summary() {
    let output = rampart(&rampart_testkit::data_dir(), &["data", "status"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("ATT&CK enterprise    19.1 (from x-mitre-collection)"),
        "{text}"
    );
    assert!(
        text.contains("858 techniques (697 active), 189 groups"),
        "{text}"
    );
    assert!(
        text.contains("31 activities, 793 ATT&CK mappings"),
        "{text}"
    );
    assert!(text.contains("sigma/rules-emerging-threats"), "{text}");
    assert!(
        !text.contains("rules-placeholder") && !text.contains("deprecated"),
        "{text}"
    );
}

#[test]
fn an_empty_or_missing_data_dir_says_how_to_fill_it() {
    let dir = tempfile::tempdir().unwrap();
    for data_dir in [dir.path().to_path_buf(), dir.path().join("missing")] {
        let output = rampart(&data_dir, &["data", "status"]);
        assert_eq!(output.status.code(), Some(1));
        let message = stderr(&output);
        assert!(
            message.contains(&data_dir.display().to_string()),
            "{message}"
        );
        assert!(
            message.contains("rampart data update") && message.contains("rampart data import"),
            "{message}"
        );
    }
}

#[test]
fn import_then_status_shows_the_imported_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = rampart_testkit::data_dir();
    let output = rampart(
        dir.path(),
        &[
            "data",
            "import",
            data.join("mitre-attack/ics-attack-18.1.json")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("1 installed, 0 failed"),
        "{}",
        stdout(&output)
    );
    let status = stdout(&rampart(dir.path(), &["data", "status"]));
    assert!(
        status.contains("mitre-attack/ics-attack-18.1.json"),
        "{status}"
    );
    assert!(
        status.contains("Missing: ATT&CK Enterprise, D3FEND, ENGAGE"),
        "{status}"
    );

    let output = rampart(
        dir.path(),
        &["data", "import", data.join("mitre-car").to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no ATT&CK, D3FEND, ENGAGE or Sigma file found"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn update_from_a_local_mirror_and_a_corrupt_one() {
    let dir = tempfile::tempdir().unwrap();
    let base = serve(d3fend_and_engage_routes(), Vec::new());
    let output = rampart(
        dir.path(),
        &[
            "data",
            "update",
            "--base-url",
            &base,
            "--only",
            "d3fend",
            "--only",
            "engage",
        ],
    );
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("13 installed, 0 failed"),
        "{}",
        stdout(&output)
    );
    let ttl = dir.path().join("mitre-d3fend/d3fend.ttl");
    let before = std::fs::read(&ttl).unwrap();

    let corrupt = serve(
        d3fend_and_engage_routes(),
        vec!["/mitre-d3fend/d3fend.ttl".to_owned()],
    );
    let output = rampart(
        dir.path(),
        &["data", "update", "--base-url", &corrupt, "--only", "d3fend"],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("FAILED") && text.contains("d3fend.ttl") && text.contains("previous file"),
        "{text}"
    );
    assert_eq!(
        std::fs::read(&ttl).unwrap(),
        before,
        "the old ontology must be untouched"
    );
    let status = rampart(dir.path(), &["data", "status"]);
    assert!(status.status.success(), "{}", stdout(&status));
}

#[test]
fn a_garbage_newer_bundle_and_a_truncated_mobile_one_leave_enterprise_working() {
    let dir = tempfile::tempdir().unwrap();
    let data = rampart_testkit::data_dir();
    let attack = dir.path().join("mitre-attack");
    std::fs::create_dir_all(&attack).unwrap();
    std::os::unix::fs::symlink(
        data.join("mitre-attack/enterprise-attack-18.1.json.gz"),
        attack.join("enterprise-attack-18.1.json.gz"),
    )
    .unwrap();
    std::fs::write(dir.path().join("enterprise-attack-99.0.json"), b"garbage").unwrap();
    let mobile =
        rampart_refdata::read_maybe_gzip(&data.join("mitre-attack/mobile-attack-18.1.json.gz"))
            .unwrap();
    std::fs::write(
        attack.join("mobile-attack-18.1.json"),
        &mobile[..mobile.len() / 2],
    )
    .unwrap();

    let output = rampart(dir.path(), &["attack", "show", "T1003"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("OS Credential Dumping"),
        "{}",
        stdout(&output)
    );
    let warnings = stderr(&output);
    assert!(
        warnings.contains("enterprise-attack-99.0.json") && warnings.contains("not a STIX bundle"),
        "{warnings}"
    );
    assert!(
        warnings.contains("mobile-attack-18.1.json") && warnings.contains("mobile not loaded"),
        "{warnings}"
    );
}

#[test]
fn update_from_a_local_mirror_fills_an_empty_data_dir_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let data = rampart_testkit::data_dir();
    let mut routes = d3fend_and_engage_routes();
    for (domain, file) in [
        ("enterprise", "enterprise-attack-18.1.json.gz"),
        ("mobile", "mobile-attack-18.1.json.gz"),
        ("ics", "ics-attack-18.1.json"),
    ] {
        routes.push((
            format!("/mitre-attack/{domain}-attack.json"),
            data.join("mitre-attack").join(file),
        ));
    }
    let mirror = serve(routes, Vec::new());
    let output = rampart(dir.path(), &["data", "update", "--from", &mirror]);
    assert!(
        output.status.success(),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("16 installed, 0 failed"),
        "{}",
        stdout(&output)
    );
    let status = rampart(dir.path(), &["data", "status"]);
    assert!(status.status.success(), "{}", stdout(&status));
    let show = rampart(dir.path(), &["attack", "show", "T1003"]);
    assert!(show.status.success(), "{}", stderr(&show));
    assert!(stdout(&show).contains("OS Credential Dumping"));
}

#[test]
fn the_demo_without_reference_data_stops_with_one_sentence_before_building() {
    let empty = tempfile::tempdir().unwrap();
    let script = rampart_testkit::workspace_root().join("scripts/demo.sh");
    let started = std::time::Instant::now();
    let output = Command::new("bash")
        .arg(&script)
        .env("RAMPART_DATA", empty.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(output.stdout.is_empty(), "{}", stdout(&output));
    let message = stderr(&output);
    assert_eq!(message.trim_end().lines().count(), 1, "{message}");
    for needle in [
        empty.path().to_str().unwrap(),
        "ATT&CK: missing",
        "data update",
        "data import",
        "EVTX_ATTACK_SAMPLES",
    ] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
    // Nothing was built: the stop comes first.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    // With ATT&CK and rules but no samples, it names the samples.
    let partial = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        rampart_testkit::data_path("mitre-attack"),
        partial.path().join("mitre-attack"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        rampart_testkit::data_path("sigma"),
        partial.path().join("sigma"),
    )
    .unwrap();
    let output = Command::new("bash")
        .arg(&script)
        .env("RAMPART_DATA", partial.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("ATT&CK: found") && message.contains("evtx-attack-samples: missing"),
        "{message}"
    );
}
