#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `update` and `import` against a local HTTP server serving the reference data — never
//! the internet — and against corrupt downloads that must leave the old files alone.

use rampart_refdata::{
    discover, import, sha256_of, status, update, update_urls, AttackDomain, ImportOptions,
    Progress, SourceGroup, UpdateOptions,
};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What the test server answers for a path.
#[derive(Clone)]
enum Reply {
    /// 200 with this body.
    Body(Vec<u8>),
    /// 200 announcing `declared` bytes but sending only the body, then closing.
    ShortBody { body: Vec<u8>, declared: usize },
}

/// A minimal HTTP/1.1 server on 127.0.0.1: one thread, one request per connection,
/// 404 for unknown paths. Routes can be changed while it runs.
struct Server {
    base: String,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let served = Arc::clone(&routes);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .to_owned();
                let reply = served.lock().unwrap().get(&path).cloned();
                let (head, body) = match reply {
                    Some(Reply::Body(body)) => (
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n", body.len()),
                        body,
                    ),
                    Some(Reply::ShortBody { body, declared }) => (
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\n"),
                        body,
                    ),
                    None => (
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n".to_owned(),
                        Vec::new(),
                    ),
                };
                let _ = stream.write_all(format!("{head}Connection: close\r\n\r\n").as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        Server { base, routes }
    }

    fn serve(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_owned(), reply);
    }

    fn serve_file(&self, path: &str, file: &Path) {
        self.serve(path, Reply::Body(std::fs::read(file).unwrap()));
    }

    fn options(&self, only: &[SourceGroup], attack_version: Option<&str>) -> UpdateOptions {
        UpdateOptions {
            attack_version: attack_version.map(str::to_owned),
            base_url: Some(self.base.clone()),
            only: only.to_vec(),
            max_expanded: None,
        }
    }
}

fn data(relative: &str) -> PathBuf {
    rampart_testkit::data_path(relative)
}

/// Serves the reference data laid out as a mirror (the layout `update` expects).
fn mirror_of_reference_data(server: &Server, attack_version: &str) {
    for (domain, file) in [
        ("enterprise", "mitre-attack/enterprise-attack-18.1.json.gz"),
        ("mobile", "mitre-attack/mobile-attack-18.1.json.gz"),
        ("ics", "mitre-attack/ics-attack-18.1.json"),
    ] {
        // The mirror path has no .gz: the enterprise and mobile bodies are gzip anyway,
        // which `update` must notice by content.
        server.serve_file(
            &format!("/mitre-attack/{domain}-attack-{attack_version}.json"),
            &data(file),
        );
    }
    server.serve_file(
        "/mitre-d3fend/d3fend.ttl",
        &data("mitre-d3fend/d3fend-protege.ttl"),
    );
    for file in rampart_refdata::ENGAGE_FILES {
        server.serve_file(
            &format!("/mitre-engage/{file}"),
            &data(&format!("mitre-engage/Data/json/{file}")),
        );
    }
}

fn hidden_leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(hidden_leftovers(&path));
        } else if entry.file_name().to_string_lossy().starts_with('.') {
            out.push(path);
        }
    }
    out
}

#[test]
fn official_urls_follow_mitres_published_layout() {
    let urls = update_urls(&UpdateOptions {
        attack_version: Some("18.1".to_owned()),
        ..UpdateOptions::default()
    });
    assert!(urls.contains(
        &"https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/enterprise-attack/enterprise-attack-18.1.json".to_owned()
    ));
    assert!(urls.contains(&"https://d3fend.mitre.org/ontologies/d3fend.ttl".to_owned()));
    assert!(urls.contains(
        &"https://raw.githubusercontent.com/mitre/engage/main/Data/json/attack_mapping.json"
            .to_owned()
    ));
    let latest = update_urls(&UpdateOptions {
        only: vec![SourceGroup::Attack],
        ..UpdateOptions::default()
    });
    assert_eq!(latest.len(), 3);
    assert!(
        latest[0].ends_with("/enterprise-attack/enterprise-attack.json"),
        "{}",
        latest[0]
    );
}

#[test]
fn a_good_update_fills_an_empty_data_dir_that_discover_then_finds() {
    let server = Server::start();
    mirror_of_reference_data(&server, "18.1");
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("rampart");
    let mut events = Vec::new();
    let report = update(&data_dir, &server.options(&[], Some("18.1")), &mut |p| {
        events.push(match p {
            Progress::Started { .. } => "started",
            Progress::Downloaded { .. } => "downloaded",
            Progress::Verifying { .. } => "verifying",
            Progress::Installed(_) => "installed",
            Progress::Failed(_) => "failed",
        })
    });
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(
        report.installed.len(),
        3 + 1 + rampart_refdata::ENGAGE_FILES.len()
    );
    assert_eq!(
        events.iter().filter(|e| **e == "installed").count(),
        report.installed.len()
    );
    assert!(events.contains(&"downloaded") && events.contains(&"verifying"));

    let files = discover(&data_dir).unwrap();
    // Gzip bodies are stored under a .gz name, plain ones without.
    assert!(files
        .enterprise
        .as_ref()
        .unwrap()
        .ends_with("mitre-attack/enterprise-attack-18.1.json.gz"));
    assert!(files
        .ics
        .as_ref()
        .unwrap()
        .ends_with("mitre-attack/ics-attack-18.1.json"));
    assert!(files
        .d3fend_ttl
        .as_ref()
        .unwrap()
        .ends_with("mitre-d3fend/d3fend.ttl"));
    assert!(files.engage_dir.as_ref().unwrap().ends_with("mitre-engage"));
    // Installed files are byte-for-byte what was served.
    assert_eq!(
        sha256_of(files.enterprise.as_ref().unwrap()).unwrap(),
        sha256_of(&data("mitre-attack/enterprise-attack-18.1.json.gz")).unwrap()
    );
    assert!(hidden_leftovers(&data_dir).is_empty());

    let status = status(&files);
    assert!(status.is_healthy(), "{status:?}");
    let enterprise = &status.files[0];
    assert_eq!(enterprise.version.as_deref(), Some("18.1"));
    assert_eq!(enterprise.version_from, Some("x-mitre-collection"));
    // Counts from mitre-attack/README.md.
    assert_eq!(enterprise.counts["attack-pattern"], 835);
    assert_eq!(enterprise.counts["attack-pattern (active)"], 691);
    assert_eq!(enterprise.counts["intrusion-set"], 187);
}

#[test]
fn corrupt_or_failed_downloads_leave_the_old_files_untouched() {
    let server = Server::start();
    mirror_of_reference_data(&server, "18.1");
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path();
    let good = update(
        data_dir,
        &server.options(&[SourceGroup::D3fend, SourceGroup::Engage], None),
        &mut |_| {},
    );
    assert!(good.failed.is_empty(), "{:?}", good.failed);
    let ttl = data_dir.join("mitre-d3fend/d3fend.ttl");
    let mapping = data_dir.join("mitre-engage/attack_mapping.json");
    let activities = data_dir.join("mitre-engage/activities.json");
    let before: Vec<String> = [&ttl, &mapping, &activities]
        .iter()
        .map(|p| sha256_of(p).unwrap())
        .collect();

    // A Turtle file cut in the middle of a statement.
    let text = std::fs::read(data("mitre-d3fend/d3fend-protege.ttl")).unwrap();
    server.serve(
        "/mitre-d3fend/d3fend.ttl",
        Reply::Body(text[..text.len() / 2].to_vec()),
    );
    // Truncated JSON.
    let json = std::fs::read(data("mitre-engage/Data/json/attack_mapping.json")).unwrap();
    server.serve(
        "/mitre-engage/attack_mapping.json",
        Reply::Body(json[..json.len() / 3].to_vec()),
    );
    // The connection drops before the announced length.
    let acts = std::fs::read(data("mitre-engage/Data/json/activities.json")).unwrap();
    server.serve(
        "/mitre-engage/activities.json",
        Reply::ShortBody {
            body: acts[..1000].to_vec(),
            declared: acts.len(),
        },
    );
    // And a file the mirror does not have.
    server
        .routes
        .lock()
        .unwrap()
        .remove("/mitre-engage/references.json");

    let report = update(
        data_dir,
        &server.options(&[SourceGroup::D3fend, SourceGroup::Engage], None),
        &mut |_| {},
    );
    let failed: Vec<&str> = report
        .failed
        .iter()
        .map(|f| f.source.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "d3fend.ttl",
            "activities.json",
            "attack_mapping.json",
            "references.json"
        ]
    );
    let messages: Vec<String> = report.failed.iter().map(|f| f.error.to_string()).collect();
    assert!(
        messages[0].contains("d3fend.ttl") && messages[0].contains("line"),
        "{}",
        messages[0]
    );
    assert!(messages[2].contains("invalid JSON"), "{}", messages[2]);
    assert!(messages[3].contains("404"), "{}", messages[3]);
    // The other ENGAGE files still updated.
    assert_eq!(
        report.installed.len(),
        rampart_refdata::ENGAGE_FILES.len() - 3
    );

    let after: Vec<String> = [&ttl, &mapping, &activities]
        .iter()
        .map(|p| sha256_of(p).unwrap())
        .collect();
    assert_eq!(before, after);
    assert!(
        hidden_leftovers(data_dir).is_empty(),
        "{:?}",
        hidden_leftovers(data_dir)
    );
    assert!(status(&discover(data_dir).unwrap()).is_healthy());
}

#[test]
fn a_download_beyond_the_limit_is_cut_off_compressed_or_not() {
    use std::io::Write as _;
    let server = Server::start();
    // A plain body larger than the limit, and a small gzip body that expands beyond it.
    let mut big = b"[".to_vec();
    big.extend(std::iter::repeat_n(b' ', 3 << 20));
    big.extend(b"]");
    server.serve("/mitre-engage/goals.json", Reply::Body(big));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"@prefix d3f: <http://d3fend.mitre.org/ontologies/d3fend.owl#> .\n")
        .unwrap();
    gz.write_all(&vec![b'\n'; 8 << 20]).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    server.serve("/mitre-d3fend/d3fend.ttl", Reply::Body(bomb));
    let dir = tempfile::tempdir().unwrap();
    let options = UpdateOptions {
        max_expanded: Some(1 << 20),
        ..server.options(&[SourceGroup::D3fend, SourceGroup::Engage], None)
    };
    let report = update(dir.path(), &options, &mut |_| {});
    let message_for = |name: &str| {
        report
            .failed
            .iter()
            .find(|f| f.source.ends_with(name))
            .map(|f| f.error.to_string())
            .unwrap_or_else(|| panic!("{name} did not fail"))
    };
    let goals = message_for("/goals.json");
    assert!(goals.contains("body exceeds 1048576 bytes"), "{goals}");
    let ttl = message_for("/d3fend.ttl");
    assert!(
        ttl.contains("d3fend.ttl") && ttl.contains("more than 1048576 bytes"),
        "{ttl}"
    );
    assert!(!dir.path().join("mitre-engage/goals.json").exists());
    assert!(!dir.path().join("mitre-d3fend/d3fend.ttl").exists());
    assert!(
        hidden_leftovers(dir.path()).is_empty(),
        "{:?}",
        hidden_leftovers(dir.path())
    );
}

#[test]
fn a_pinned_version_must_match_what_the_bundle_declares() {
    let server = Server::start();
    // The mirror wrongly serves 18.1 content as 17.0.
    server.serve_file(
        "/mitre-attack/ics-attack-17.0.json",
        &data("mitre-attack/ics-attack-18.1.json"),
    );
    let dir = tempfile::tempdir().unwrap();
    let report = update(
        dir.path(),
        &server.options(&[SourceGroup::Attack], Some("17.0")),
        &mut |_| {},
    );
    let ics = report
        .failed
        .iter()
        .find(|f| f.source.ends_with("ics-attack-17.0.json"))
        .unwrap();
    assert!(
        ics.error.to_string().contains("declares version 18.1"),
        "{}",
        ics.error
    );
    assert!(report.installed.is_empty());
    assert!(hidden_leftovers(dir.path()).is_empty());
}

#[test]
fn import_copies_checked_files_and_refuses_corrupt_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    // A folder: the ENGAGE JSON of the reference data.
    let report = import(&data_dir, &data("mitre-engage"), &ImportOptions::default()).unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.installed.len(), rampart_refdata::ENGAGE_FILES.len());
    // A single file, gzip, keeps its version name.
    let report = import(
        &data_dir,
        &data("mitre-attack/mobile-attack-18.1.json.gz"),
        &ImportOptions::default(),
    )
    .unwrap();
    assert!(report.installed[0]
        .path
        .ends_with("mitre-attack/mobile-attack-18.1.json.gz"));
    let files = discover(&data_dir).unwrap();
    assert!(files.engage_dir.is_some() && files.mobile.is_some());

    // A corrupt ATT&CK file is refused and the good one stays.
    let bad_dir = dir.path().join("bad");
    std::fs::create_dir_all(&bad_dir).unwrap();
    let bad = bad_dir.join("mobile-attack-18.1.json.gz");
    std::fs::write(&bad, [0x1f, 0x8b, 0x08, 0x00, 1, 2, 3]).unwrap();
    let before = sha256_of(files.mobile.as_ref().unwrap()).unwrap();
    let report = import(&data_dir, &bad, &ImportOptions::default()).unwrap();
    assert_eq!(report.failed.len(), 1);
    assert!(
        report.failed[0].error.to_string().contains("mobile-attack"),
        "{}",
        report.failed[0].error
    );
    assert_eq!(sha256_of(files.mobile.as_ref().unwrap()).unwrap(), before);
    assert!(hidden_leftovers(&data_dir).is_empty());

    // Nothing recognisable.
    let message = import(&data_dir, &data("mitre-car"), &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("mitre-car") && message.contains("no ATT&CK"),
        "{message}"
    );
    assert!(AttackDomain::of_file_name("mobile-attack-18.1.json.gz").is_some());
}

#[test]
fn the_latest_release_is_named_after_the_version_it_declares() {
    let server = Server::start();
    // Unpinned, `update` asks for MITRE's unversioned "latest" file name.
    server.serve_file(
        "/mitre-attack/ics-attack.json",
        &data("mitre-attack/ics-attack-18.1.json"),
    );
    let dir = tempfile::tempdir().unwrap();
    let report = update(
        dir.path(),
        &server.options(&[SourceGroup::Attack], None),
        &mut |_| {},
    );
    // Enterprise and Mobile are not on this mirror: 404, reported, nothing written.
    assert_eq!(report.failed.len(), 2);
    assert!(report
        .failed
        .iter()
        .all(|f| f.error.to_string().contains("404")));
    assert_eq!(report.installed.len(), 1);
    assert!(report.installed[0]
        .path
        .ends_with("mitre-attack/ics-attack-18.1.json"));
    assert_eq!(report.installed[0].summary.version.as_deref(), Some("18.1"));
    let files = discover(dir.path()).unwrap();
    assert!(files.enterprise.is_none() && files.mobile.is_none());
    assert_eq!(files.ics, Some(report.installed[0].path.clone()));
}

#[test]
fn import_copies_sigma_rule_folders_whole_and_replaces_them_on_reimport() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let sigma = data("sigma");
    for round in 0..2 {
        let report = import(&data_dir, &sigma, &ImportOptions::default()).unwrap();
        assert!(
            report.failed.is_empty(),
            "round {round}: {:?}",
            report.failed
        );
        let names: Vec<String> = report
            .installed
            .iter()
            .map(|i| i.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        // rules-dfir holds only a README upstream: nothing to copy.
        assert_eq!(
            names,
            [
                "rules",
                "rules-emerging-threats",
                "rules-threat-hunting",
                "regression_data"
            ]
        );
    }
    let theirs = status(&discover(&sigma).unwrap());
    let ours = status(&discover(&data_dir).unwrap());
    let count = |s: &rampart_refdata::Status, name: &str| {
        s.sigma_rule_dirs
            .iter()
            .find(|d| d.path.ends_with(name))
            .map(|d| (d.yaml_files, d.bytes))
            .unwrap()
    };
    for name in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        assert_eq!(count(&ours, name), count(&theirs, name), "{name}");
    }
    assert_eq!(
        ours.sigma_regression_dir.as_ref().unwrap().yaml_files,
        theirs.sigma_regression_dir.as_ref().unwrap().yaml_files
    );
    assert!(
        hidden_leftovers(&data_dir).is_empty(),
        "{:?}",
        hidden_leftovers(&data_dir)
    );
    let staging: Vec<_> = std::fs::read_dir(data_dir.join("sigma"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(staging.is_empty(), "staging folders left behind");
}

#[test]
fn pinning_an_older_release_replaces_the_newer_one() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    server.serve_file(
        "/mitre-attack/ics-attack-18.1.json",
        &data("mitre-attack/ics-attack-18.1.json"),
    );
    let report = update(
        dir.path(),
        &server.options(&[SourceGroup::Attack], Some("18.1")),
        &mut |_| {},
    );
    assert_eq!(report.installed.len(), 1);

    // A 17.0 bundle: the ICS file with its collection version rewritten.
    let text = std::fs::read_to_string(data("mitre-attack/ics-attack-18.1.json")).unwrap();
    let older = text.replacen(
        "\"x_mitre_version\": \"18.1\"",
        "\"x_mitre_version\": \"17.0\"",
        1,
    );
    assert_ne!(older, text);
    server.serve(
        "/mitre-attack/ics-attack-17.0.json",
        Reply::Body(older.into_bytes()),
    );
    let report = update(
        dir.path(),
        &server.options(&[SourceGroup::Attack], Some("17.0")),
        &mut |_| {},
    );
    assert_eq!(report.installed.len(), 1, "{:?}", report.failed);

    let files = discover(dir.path()).unwrap();
    assert!(files
        .ics
        .as_ref()
        .unwrap()
        .ends_with("mitre-attack/ics-attack-17.0.json"));
    assert!(!dir
        .path()
        .join("mitre-attack/ics-attack-18.1.json")
        .exists());
    assert_eq!(status(&files).files[0].version.as_deref(), Some("17.0"));
}
