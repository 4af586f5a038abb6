//! `rampart hunt --intel` on a real sample: indicators built from values really in
//! the EVTX (a SHA-256 from a Sysmon `Hashes` field, a URL inside command lines, a
//! contacted host's parent domain, a CIDR network of destination addresses, a file
//! name and a domain together) raise exactly the expected IoC alerts, leave the Sigma
//! alerts unchanged, and reach the store and the host's incident.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ok;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// mshta launched through rundll32 JavaScript, fetching a payload and scheduling a task
/// (Sysmon 1, 3, 11; 8 events).
fn sample() -> PathBuf {
    rampart_testkit::data_path(
        "evtx-attack-samples/Execution/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx",
    )
}

fn rules() -> PathBuf {
    rampart_testkit::data_path("sigma/rules/windows")
}

fn indicator(id: &str, observables: &[(&str, &str)], extra: Value) -> Value {
    let mut indicator = json!({
        "id": id,
        "source": "test:intel.jsonl",
        "all_of": observables
            .iter()
            .map(|(kind, value)| json!({"kind": kind, "value": value}))
            .collect::<Vec<_>>(),
        "detect": true,
    });
    if let (Some(target), Value::Object(extra)) = (indicator.as_object_mut(), extra) {
        target.extend(extra);
    }
    indicator
}

/// The feed: five indicators that match, three that must not (expired, not for
/// detection, a value absent from the sample), and one unreadable line.
fn write_feed(dir: &Path) -> PathBuf {
    let feed = [
        indicator(
            "ioc-sha256-mshta",
            &[(
                "sha256",
                "949485ba939953642714ae6831d7dcb261691cac7cbb8c1a9220333801f60820",
            )],
            json!({"context": {"actors": ["APT 29"], "attack_ids": ["T1218.005", "G0016"]}}),
        ),
        // Defanged, as feeds publish them.
        indicator(
            "ioc-url-talsk",
            &[("url", "hxxps://hotelesms[.]com/talsk.txt")],
            json!({"confidence": 60}),
        ),
        indicator(
            "ioc-domain-hostgator",
            &[("domain", "hostgator[.]com")],
            json!({"confidence": 30}),
        ),
        indicator(
            "ioc-net-inwi",
            &[("ip", "105.73.6.0/24")],
            json!({"confidence": 90}),
        ),
        indicator(
            "ioc-pair",
            &[("file-name", "MSHTA.EXE"), ("domain", "inwitelecom.net")],
            json!({}),
        ),
        indicator(
            "ioc-expired",
            &[("ip", "108.179.232.58")],
            json!({"valid_until": "2020-01-01T00:00:00Z"}),
        ),
        indicator(
            "ioc-context-only",
            &[("domain", "inwitelecom.net")],
            json!({"detect": false}),
        ),
        indicator(
            "ioc-absent",
            &[("domain", "notinthesample.example")],
            json!({}),
        ),
    ];
    let mut text: String = feed.iter().map(|i| format!("{i}\n")).collect();
    text.push_str("{\"not\": \"an indicator\"}\n");
    let path = dir.join("intel.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn hunt(dir: &Path, name: &str, extra: &[&str]) -> (Vec<Value>, String) {
    let out = dir.join(name);
    let sample = sample();
    let rules = rules();
    let mut args = vec![
        "hunt",
        sample.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--format",
        "jsonl",
        "--output",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let output = ok(&args);
    (
        jsonl(&out),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn is_ioc(alert: &Value) -> bool {
    alert["rule_id"].as_str().unwrap().starts_with("intel:")
}

#[test]
fn iocs_from_the_sample_raise_exactly_their_alerts_beside_unchanged_rule_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let feed = write_feed(dir.path());
    let (plain, _) = hunt(dir.path(), "plain.jsonl", &[]);
    let (with_intel, stderr) = hunt(
        dir.path(),
        "intel.jsonl",
        &["--intel", feed.to_str().unwrap()],
    );

    // The rules' alerts are exactly those of the hunt without indicators.
    let rule_alerts: Vec<&Value> = with_intel.iter().filter(|a| !is_ioc(a)).collect();
    assert!(!plain.is_empty(), "the sample fires Sigma rules");
    assert_eq!(rule_alerts, plain.iter().collect::<Vec<_>>());

    let mut iocs: Vec<(u64, String, String, String)> = with_intel
        .iter()
        .filter(|a| is_ioc(a))
        .map(|a| {
            let matched: Vec<String> = a["matched"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["field"].as_str().unwrap().to_string())
                .collect();
            (
                a["event"]["record_id"].as_u64().unwrap(),
                a["rule_id"].as_str().unwrap().to_string(),
                a["level"].as_str().unwrap().to_string(),
                matched.join("+"),
            )
        })
        .collect();
    iocs.sort();
    let expected = [
        (4125, "intel:ioc-url-talsk", "medium", "CommandLine"),
        (
            4126,
            "intel:ioc-url-talsk",
            "medium",
            "CommandLine+ParentCommandLine",
        ),
        (4127, "intel:ioc-sha256-mshta", "medium", "Hashes"),
        (
            4127,
            "intel:ioc-url-talsk",
            "medium",
            "CommandLine+ParentCommandLine",
        ),
        (
            4128,
            "intel:ioc-domain-hostgator",
            "low",
            "DestinationHostname",
        ),
        (4129, "intel:ioc-url-talsk", "medium", "ParentCommandLine"),
        (4131, "intel:ioc-net-inwi", "high", "DestinationIp"),
        (
            4131,
            "intel:ioc-pair",
            "medium",
            "Image+DestinationHostname",
        ),
        (4132, "intel:ioc-net-inwi", "high", "DestinationIp"),
        (
            4132,
            "intel:ioc-pair",
            "medium",
            "Image+DestinationHostname",
        ),
    ]
    .map(|(record, rule, level, fields)| {
        (
            record,
            rule.to_string(),
            level.to_string(),
            fields.to_string(),
        )
    });
    assert_eq!(iocs, expected);

    // The hit carries the indicator, where it was found and what it indicates.
    let hash_hit = with_intel
        .iter()
        .find(|a| a["rule_id"] == "intel:ioc-sha256-mshta")
        .unwrap();
    assert_eq!(
        hash_hit["rule_title"],
        "IoC sha256 949485ba939953642714ae6831d7dcb261691cac7cbb8c1a9220333801f60820 from test:intel.jsonl"
    );
    assert_eq!(hash_hit["techniques"], json!(["T1218.005"]));
    assert_eq!(hash_hit["intel"]["actors"], json!(["APT 29"]));
    assert_eq!(hash_hit["intel"]["observables"][0]["field"], "Hashes");
    let domain_hit = with_intel
        .iter()
        .find(|a| a["rule_id"] == "intel:ioc-domain-hostgator")
        .unwrap();
    assert_eq!(domain_hit["matched"][0]["value"], "gator4243.hostgator.com");
    assert_eq!(
        domain_hit["intel"]["observables"][0]["value"],
        "hostgator.com"
    );

    // The summary says what was loaded, left out and hit; the bad line is reported.
    assert!(
        stderr.contains("intel: 6 indicators loaded of 8 read")
            && stderr.contains("10 IoC hits")
            && stderr.contains("1 not for detection")
            && stderr.contains("1 expired"),
        "{stderr}"
    );
    assert!(
        stderr.contains("intel.jsonl:9: not an indicator"),
        "{stderr}"
    );
}

#[test]
fn ioc_alerts_are_stored_enriched_and_join_the_hosts_incident() {
    let dir = tempfile::tempdir().unwrap();
    let feed = write_feed(dir.path());
    let db = dir.path().join("rampart.db");
    let db = db.to_str().unwrap();
    let (alerts, _) = hunt(
        dir.path(),
        "alerts.jsonl",
        &["--intel", feed.to_str().unwrap(), "--store", db, "--quiet"],
    );
    let ioc_ids: Vec<String> = alerts
        .iter()
        .filter(|a| is_ioc(a))
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ioc_ids.len(), 10);

    let stored: Vec<Value> = String::from_utf8_lossy(
        &ok(&["alerts", "list", "--store", db, "--json", "--limit", "1000"]).stdout,
    )
    .lines()
    .map(|line| serde_json::from_str(line).unwrap())
    .collect();
    for id in &ioc_ids {
        let row = stored
            .iter()
            .find(|row| row["id"] == id.as_str())
            .unwrap_or_else(|| panic!("IoC alert {id} stored"));
        assert!(row["alert"]["intel"]["indicator_id"].is_string(), "{row}");
    }

    // Every IoC alert is in the timeline of one of the host's incidents.
    let incidents: Vec<Value> =
        String::from_utf8_lossy(&ok(&["incidents", "list", "--json", "--store", db]).stdout)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
    let mut in_incidents = Vec::new();
    for incident in &incidents {
        let id = incident["id"].as_str().unwrap().to_lowercase();
        let detail: Value = serde_json::from_slice(
            &ok(&["incidents", "show", &id, "--json", "--store", db]).stdout,
        )
        .unwrap();
        for entry in detail["timeline"].as_array().unwrap() {
            if entry["rule_id"].as_str().unwrap().starts_with("intel:") {
                in_incidents.push(entry["alert_id"].as_str().unwrap().to_string());
            }
        }
    }
    in_incidents.sort();
    let mut expected = ioc_ids.clone();
    expected.sort();
    assert_eq!(in_incidents, expected);

    // Native output: the pyramid level follows the indicator's kind.
    let native = dir.path().join("native.jsonl");
    let sample = sample();
    let rules = rules();
    ok(&[
        "hunt",
        sample.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--intel",
        feed.to_str().unwrap(),
        "--format",
        "native",
        "--quiet",
        "--output",
        native.to_str().unwrap(),
    ]);
    let native = jsonl(&native);
    let level_of = |rule: &str| {
        native
            .iter()
            .find(|a| a["rule"]["id"] == rule)
            .map(|a| a["enrichment"]["pyramid"]["level"].clone())
            .unwrap()
    };
    assert_eq!(level_of("intel:ioc-sha256-mshta"), "hash_value");
    assert_eq!(level_of("intel:ioc-net-inwi"), "ip_address");
    assert_eq!(level_of("intel:ioc-domain-hostgator"), "domain_name");
    assert_eq!(level_of("intel:ioc-url-talsk"), "network_artifact");
    let url_hit = native
        .iter()
        .find(|a| a["rule"]["id"] == "intel:ioc-url-talsk")
        .unwrap();
    assert_eq!(url_hit["intel"]["indicator_id"], "ioc-url-talsk");
}

#[test]
fn misp_events_and_stix_bundles_load_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let misp = rampart_testkit::data_path(
        "threat-intel/eset-malware-ioc/stantinko/stantinko.misp-event.json",
    );
    let stix = rampart_testkit::data_path(
        "threat-intel/stix2-json-schemas/examples/threat-reports/poisonivy.json",
    );
    for feed in [misp, stix] {
        let (alerts, stderr) = hunt(
            dir.path(),
            "feed.jsonl",
            &["--intel", feed.to_str().unwrap()],
        );
        let line = stderr
            .lines()
            .find(|line| line.starts_with("intel: "))
            .unwrap_or_else(|| panic!("no intel summary: {stderr}"));
        let loaded: u64 = line["intel: ".len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .replace(',', "")
            .parse()
            .unwrap();
        assert!(loaded > 0, "{}: {line}", feed.display());
        // Neither feed names anything this sample did.
        assert!(!alerts.iter().any(is_ioc), "{line}");
    }
}

/// The store's indicators (`rampart intel import`) are matched by `hunt --store` without
/// `--intel`, and its allow-list wins: an allowed domain raises nothing until it is
/// taken off the list.
#[test]
fn hunt_with_a_store_matches_its_imported_indicators_and_its_allow_list_wins() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let db = db.to_str().unwrap();
    let list = dir.path().join("iocs.txt");
    std::fs::write(
        &list,
        "# a vendor list, defanged as published\n\
         949485ba939953642714ae6831d7dcb261691cac7cbb8c1a9220333801f60820\n\
         105.73.6.0/24\n\
         hostgator[.]com\n",
    )
    .unwrap();
    ok(&["intel", "import", list.to_str().unwrap(), "--store", db]);
    ok(&[
        "intel",
        "allow",
        "add",
        "domain",
        "hostgator.com",
        "--store",
        db,
    ]);

    let kinds = |alerts: &[Value]| -> Vec<String> {
        let mut kinds: Vec<String> = alerts
            .iter()
            .filter(|a| is_ioc(a))
            .flat_map(|a| a["intel"]["observables"].as_array().unwrap().clone())
            .map(|o| o["kind"].as_str().unwrap().to_string())
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds
    };
    let (alerts, stderr) = hunt(dir.path(), "allowed.jsonl", &["--store", db]);
    assert_eq!(kinds(&alerts), ["ip", "sha256"], "{stderr}");
    let (plain, _) = hunt(dir.path(), "plain.jsonl", &[]);
    let rule_alerts: Vec<&Value> = alerts.iter().filter(|a| !is_ioc(a)).collect();
    assert_eq!(rule_alerts, plain.iter().collect::<Vec<_>>());

    ok(&[
        "intel",
        "allow",
        "remove",
        "domain",
        "hostgator.com",
        "--store",
        db,
    ]);
    let (alerts, stderr) = hunt(dir.path(), "all.jsonl", &["--store", db]);
    assert_eq!(kinds(&alerts), ["domain", "ip", "sha256"], "{stderr}");
}

/// ESET's Operation Ghost MISP event as it is, but with its attributes marked for
/// detection: ESET publishes them `to_ids: false` (context only), and a team hunting
/// the white paper's infrastructure would flip them. Galaxies, names and ids are
/// untouched: "APT 29" and the ATT&CK ids as ESET wrote them (several revoked since).
fn operation_ghost_for_detection(dir: &Path) -> PathBuf {
    let path = rampart_testkit::data_path(
        "threat-intel/eset-malware-ioc/dukes/misp-dukes-operation-ghost-event.json",
    );
    let mut event: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let attributes = event["response"][0]["Event"]["Attribute"]
        .as_array_mut()
        .unwrap();
    for attribute in attributes.iter_mut() {
        attribute["to_ids"] = json!(true);
    }
    let copy = dir.join("operation-ghost.json");
    std::fs::write(&copy, serde_json::to_vec(&event).unwrap()).unwrap();
    copy
}

/// An IoC hit on one of Operation Ghost's domains is enriched with what the event
/// says, joined to ATT&CK: MISP's "APT 29" is the group APT29 (G0016) in ECS
/// `threat.group` and in the attribution (named as ESET wrote it), the techniques the
/// event names are the alert's at their current ids (the revoked T1086 as T1059.001),
/// APT29's own techniques are listed apart as the group's, and OCSF carries the same
/// under `unmapped.intel.attribution`.
#[test]
fn an_operation_ghost_hit_is_joined_to_apt29_in_native_and_ocsf_output() {
    let dir = tempfile::tempdir().unwrap();
    let feed = operation_ghost_for_detection(dir.path());
    let events = dir.path().join("dns.jsonl");
    std::fs::write(
        &events,
        concat!(
            r#"{"EventID":22,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1.example","#,
            r#""EventRecordID":7,"UtcTime":"2019-10-17 09:12:03.117","QueryName":"publiccouncil.org","#,
            r#""Image":"C:\\Windows\\System32\\rundll32.exe"}"#,
            "\n",
            r#"{"EventID":22,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1.example","#,
            r#""EventRecordID":8,"QueryName":"example.org","Image":"C:\\Windows\\explorer.exe"}"#,
            "\n"
        ),
    )
    .unwrap();
    let output = |format: &str| -> Vec<Value> {
        let out = dir.path().join(format!("{format}.jsonl"));
        let rules = rules();
        ok(&[
            "hunt",
            events.to_str().unwrap(),
            "--rules",
            rules.to_str().unwrap(),
            "--intel",
            feed.to_str().unwrap(),
            "--format",
            format,
            "--quiet",
            "--output",
            out.to_str().unwrap(),
        ]);
        jsonl(&out)
            .into_iter()
            .filter(|a| {
                let rule = if format == "ocsf" {
                    &a["finding_info"]["analytic"]["uid"]
                } else {
                    &a["rule"]["id"]
                };
                rule.as_str().unwrap().starts_with("intel:")
            })
            .collect()
    };

    let native = output("native");
    assert_eq!(native.len(), 1, "one hit, on record 7: {native:?}");
    let hit = &native[0];
    assert_eq!(hit["event"]["record_id"], 7);
    assert_eq!(hit["intel"]["actors"], json!(["APT 29"]));
    assert_eq!(hit["threat"]["group"]["id"], json!(["G0016"]));
    assert_eq!(hit["threat"]["group"]["name"], json!(["APT29"]));
    assert_eq!(
        hit["threat"]["group"]["reference"],
        json!(["https://attack.mitre.org/groups/G0016"])
    );
    // ECS's indicator-match shape: what matched, where, and from which feed.
    let enrichment = &hit["threat"]["enrichments"][0];
    assert_eq!(enrichment["indicator"]["type"], "domain-name");
    assert_eq!(enrichment["indicator"]["provider"], hit["intel"]["source"]);
    assert_eq!(enrichment["matched"]["atomic"], "publiccouncil.org");
    assert_eq!(enrichment["matched"]["field"], "QueryName");
    assert_eq!(enrichment["matched"]["id"], hit["intel"]["indicator_id"]);
    assert_eq!(enrichment["matched"]["type"], "indicator_match_rule");
    let attribution = &hit["enrichment"]["attribution"];
    assert_eq!(attribution["groups"][0]["id"], "G0016");
    assert_eq!(attribution["groups"][0]["named_as"], json!(["APT 29"]));
    let named = |id: &str| {
        attribution["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == id)
            .cloned()
    };
    let powershell = named("T1059.001").expect("the revoked T1086 at its current id");
    assert!(
        powershell["named_as"].to_string().contains("T1086"),
        "{powershell}"
    );
    // The named techniques are the alert's own (ECS and the technique context) …
    let ecs_subtechniques = hit["threat"]["technique"]["subtechnique"]["id"].to_string();
    assert!(
        ecs_subtechniques.contains("T1059.001"),
        "{ecs_subtechniques}"
    );
    assert!(hit["enrichment"]["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["technique"]["id"] == "T1059.001"));
    // … the group's techniques are listed apart, not claimed as observed.
    let group_techniques: Vec<&str> = attribution["group_techniques"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(group_techniques.len() > 20, "{group_techniques:?}");
    let claimed = hit["threat"]["technique"].to_string();
    let apart: Vec<&&str> = group_techniques
        .iter()
        .filter(|t| !claimed.contains(**t))
        .collect();
    assert!(
        !apart.is_empty(),
        "some of APT29's techniques are not the hit's"
    );

    let ocsf = output("ocsf");
    assert_eq!(ocsf.len(), 1);
    let finding = &ocsf[0];
    assert_eq!(finding["finding_info"]["uid"], hit["id"]);
    let joined = &finding["unmapped"]["intel"]["attribution"];
    assert_eq!(joined["groups"], attribution["groups"]);
    assert_eq!(joined["group_techniques"], attribution["group_techniques"]);
    assert!(finding["finding_info"]["attacks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["sub_technique"]["uid"] == "T1059.001"));
}

/// The README's threat-intelligence walkthrough, command for command as the README
/// writes them (read from it, `$RAMPART_DATA` and `$TI` expanded, the store put in a
/// temporary folder): the import, a hunt of the demo corpus that hits the bundle's
/// hash and joins it to APT29 (G0016), the host's incident whose likely next
/// techniques come from the attribution, and the IoC alert with its joins.
#[test]
fn the_readme_walkthrough_hits_joins_and_predicts_what_it_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme
        .split("## Threat intelligence: from an IoC to the actor's next techniques")
        .nth(1)
        .expect("the README's walkthrough section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    assert!(
        block.starts_with("TI=$RAMPART_DATA/threat-intel\n"),
        "{block}"
    );
    let commands: Vec<&str> = block
        .lines()
        .filter(|line| line.starts_with("rampart "))
        .collect();
    assert_eq!(commands.len(), 4, "{commands:?}");

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ti.db");
    let data = rampart_testkit::data_dir();
    let mut outputs = Vec::new();
    for command in &commands {
        let expanded = command
            .replace("$TI", "$RAMPART_DATA/threat-intel")
            .replace("$RAMPART_DATA", data.to_str().unwrap())
            .replace("ti.db", db.to_str().unwrap());
        let args: Vec<&str> = expanded.split_whitespace().skip(1).collect();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
            .current_dir(&root)
            .arg("--data-dir")
            .arg(&data)
            .args(&args)
            .env("XDG_CACHE_HOME", common::cache_home())
            .env_remove("RAMPART_LOG")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        outputs.push((output.status.code(), stdout, stderr));
    }

    // The import: the MISP event's "text" attributes are reported (exit 3).
    let (status, stdout, stderr) = &outputs[0];
    assert_eq!(*status, Some(3), "{stderr}");
    assert!(
        stdout.contains("stix:walkthrough-apt29.json: 1 added"),
        "{stdout}"
    );
    // The hunt: the hash hits four records, each joined to APT29.
    let (status, stdout, stderr) = &outputs[1];
    assert_eq!(*status, Some(0), "{stderr}");
    let hits: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains("IoC sha256 949485ba"))
        .collect();
    assert_eq!(hits.len(), 4, "{stderr}");
    assert!(
        hits.iter().all(|line| line.contains(" → APT29 (G0016)")),
        "{hits:?}"
    );
    assert!(hits.iter().any(|line| line.contains(" 4127 ")), "{hits:?}");
    assert!(stderr.contains("4 IoC hits"), "{stderr}");
    // The incident holds the hit, and its likely next techniques start with APT29's.
    let (status, stdout, stderr) = &outputs[2];
    assert_eq!(*status, Some(0), "{stderr}");
    assert!(stdout.contains("IoC sha256 949485ba"), "{stdout}");
    let first_next = stdout
        .lines()
        .find(|line| line.trim_start().starts_with("likely next: T"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        first_next.contains("IoC attributed to G0016") && first_next.contains("APT29"),
        "{first_next}"
    );
    // The alert: the feed's actor and its join.
    let (status, stdout, stderr) = &outputs[3];
    assert_eq!(*status, Some(0), "{stderr}");
    assert!(stdout.contains("  actors: APT29\n"), "{stdout}");
    assert!(stdout.contains("  groups: APT29 (G0016)\n"), "{stdout}");
    assert!(
        stdout.contains("  techniques: Mshta (T1218.005)\n"),
        "{stdout}"
    );
}
