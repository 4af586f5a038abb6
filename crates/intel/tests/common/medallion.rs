//! A `medallion` process (OASIS's reference TAXII 2.1 server, the pip package that
//! `.ci/run` installs) started on a free port with its memory backend holding given
//! STIX objects; shared by the TAXII tests of `rampart-intel` and of the CLI.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

pub const COLLECTION: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
pub const USER: &str = "analyst";
pub const PASSWORD: &str = "correct horse battery staple";

pub fn examples() -> PathBuf {
    rampart_testkit::data_dir().join("threat-intel/stix2-json-schemas/examples")
}

/// The objects of one example bundle.
pub fn bundle_objects(relative: &str) -> Vec<Value> {
    let path = examples().join(relative);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let bundle: Value = serde_json::from_str(&text).unwrap();
    bundle["objects"].as_array().unwrap().clone()
}

pub fn ids_of_type(objects: &[Value], kind: &str) -> BTreeSet<String> {
    objects
        .iter()
        .filter(|o| o["type"] == kind)
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A `medallion` process serving one API root (`api1`, also the discovery's
/// default) with one collection, killed when dropped.
pub struct Medallion {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Medallion {
    /// Starts medallion with `objects` in the collection, added one second apart from
    /// 2024-01-01 on (their `date_added`, the order TAXII pages them in).
    pub fn start(objects: &[Value]) -> Medallion {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let manifest: Vec<Value> = objects
            .iter()
            .enumerate()
            .map(|(i, object)| {
                let added = start + chrono::Duration::seconds(i as i64);
                json!({
                    "id": object["id"],
                    "date_added": date_added(added),
                    "version": object.get("modified").or(object.get("created")).unwrap(),
                    "media_type": "application/stix+json;version=2.1",
                })
            })
            .collect();
        let data = json!({
            "/discovery": {
                "title": "Rampart test TAXII server",
                "default": format!("{base}/api1/"),
                "api_roots": [format!("{base}/api1/")],
            },
            "api1": {
                "information": {
                    "title": "Test API root",
                    "versions": ["application/taxii+json;version=2.1"],
                    "max_content_length": 9_765_625,
                },
                "status": [],
                "collections": [{
                    "id": COLLECTION,
                    "title": "OASIS examples",
                    "description": "Indicators of the OASIS STIX 2.1 example bundles",
                    "can_read": true,
                    "can_write": true,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": objects,
                    "manifest": manifest,
                }],
            },
        });
        let data_path = dir.path().join("data.json");
        fs::write(&data_path, serde_json::to_vec(&data).unwrap()).unwrap();
        let config = json!({
            "backend": {
                "module": "medallion.backends.memory_backend",
                "module_class": "MemoryBackend",
                "filename": data_path,
            },
            "users": { USER: PASSWORD },
            "taxii": { "max_page_size": 100 },
        });
        let config_path = dir.path().join("config.json");
        fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();
        let log = dir.path().join("medallion.log");
        let child = Command::new("python3")
            .args(["-m", "medallion.scripts.run", "--port", &port.to_string()])
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::create(dir.path().join("medallion.err")).unwrap())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start python3 for medallion ({e}); `.ci/run` installs it")
            });
        let mut server = Medallion {
            child,
            port,
            log: dir.path().join("medallion.err"),
            _dir: dir,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "medallion exited ({status}) before listening — is it installed \
                     (`python3 -m pip install medallion`, as `.ci/run` does)?\n{}",
                    read_log(&self.log)
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "medallion did not listen within 60 s\n{}",
                read_log(&self.log)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn discovery(&self) -> String {
        format!("http://127.0.0.1:{}/taxii2/", self.port)
    }

    pub fn api_root(&self) -> String {
        format!("http://127.0.0.1:{}/api1/", self.port)
    }

    /// Adds objects to the collection the TAXII way (POST of an envelope).
    pub fn add(&self, objects: &[Value]) {
        let url = format!("{}collections/{COLLECTION}/objects/", self.api_root());
        let body = serde_json::to_string(&json!({ "objects": objects })).unwrap();
        let answer = ureq::post(&url)
            .set("Accept", "application/taxii+json;version=2.1")
            .set("Content-Type", "application/taxii+json;version=2.1")
            .set("Authorization", &basic(USER, PASSWORD))
            .send_string(&body)
            .unwrap();
        let status: Value = serde_json::from_str(&answer.into_string().unwrap()).unwrap();
        assert_eq!(status["success_count"], objects.len(), "{status}");
    }
}

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn read_log(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    text
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn date_added(time: chrono::DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}
