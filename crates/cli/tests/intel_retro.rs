#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `rampart intel retro` and `rampart intel sightings` on the real corpus: Sigma alerts
//! stored by a hunt, then an indicator imported afterwards found in their events and in
//! the file, saved, and exported as a STIX sighting and MISP sightings. A folder is
//! walked as `hunt` walks one: the same record met twice is one hit.

mod common;

use common::{ok, rampart};
use rampart_testkit::data_path;
use serde_json::Value;

#[test]
fn an_indicator_imported_after_the_hunt_finds_its_events_and_is_sighted() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("rampart.db");
    let store = store.to_str().unwrap();
    let sample = data_path(
        "evtx-attack-samples/Execution/exec_sysmon_1_11_lolbin_rundll32_openurl_FileProtocolHandler.evtx",
    );
    let sample = sample.to_str().unwrap();
    let rules = data_path("sigma/rules/windows/process_creation");
    ok(&[
        "hunt",
        sample,
        "--rules",
        rules.to_str().unwrap(),
        "--store",
        store,
        "--quiet",
    ]);

    let list = dir.path().join("images.txt");
    std::fs::write(&list, "rundll32.exe\n").unwrap();
    let imported = rampart(&[
        "intel",
        "import",
        list.to_str().unwrap(),
        "--kind",
        "file-name",
        "--store",
        store,
    ]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );

    let lines = |output: &std::process::Output| -> Vec<Value> {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    };
    let ids = |hits: &[Value]| -> Vec<String> {
        let mut ids: Vec<String> = hits
            .iter()
            .map(|hit| hit["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let of_file = lines(&ok(&["intel", "retro", sample, "--store", store, "--json"]));

    // The sample twice in a folder tree: walked, and each hit reported once.
    let folder = dir.path().join("logs");
    std::fs::create_dir_all(folder.join("older")).unwrap();
    std::fs::copy(sample, folder.join("today.evtx")).unwrap();
    std::fs::copy(sample, folder.join("older").join("copy.evtx")).unwrap();
    let retro = ok(&[
        "intel",
        "retro",
        folder.to_str().unwrap(),
        "--store",
        store,
        "--save",
        "--json",
    ]);
    let hits = lines(&retro);
    assert_eq!(ids(&hits), ids(&of_file));
    let summary = String::from_utf8_lossy(&retro.stderr);
    assert!(summary.contains("new hit(s), saved"), "{summary}");
    assert!(
        !hits.is_empty(),
        "{}",
        String::from_utf8_lossy(&retro.stderr)
    );
    assert!(hits
        .iter()
        .all(|hit| hit["rule_id"].as_str().unwrap().starts_with("intel:")));
    assert!(hits
        .iter()
        .all(|hit| hit["intel"]["observables"][0]["value"] == "rundll32.exe"));

    // Saved: a second retro finds nothing new.
    let again = ok(&["intel", "retro", sample, "--store", store, "--json"]);
    assert!(
        again.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );

    let bundle: Value = serde_json::from_slice(
        &ok(&["intel", "sightings", "--format", "stix", "--store", store]).stdout,
    )
    .unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    let sightings: Vec<&Value> = objects.iter().filter(|o| o["type"] == "sighting").collect();
    assert_eq!(sightings.len(), 1);
    assert_eq!(sightings[0]["count"], hits.len());
    let indicator = objects.iter().find(|o| o["type"] == "indicator").unwrap();
    assert_eq!(indicator["pattern"], "[file:name = 'rundll32.exe']");
    assert_eq!(sightings[0]["sighting_of_ref"], indicator["id"]);

    let misp: Value = serde_json::from_slice(
        &ok(&["intel", "sightings", "--format", "misp", "--store", store]).stdout,
    )
    .unwrap();
    assert_eq!(misp["Sighting"].as_array().unwrap().len(), hits.len());
}
