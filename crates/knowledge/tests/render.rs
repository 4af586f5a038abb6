//! Every object of every domain renders, as text and as JSON, without panicking: the
//! descriptions are attacker-controlled text full of multi-byte characters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_knowledge::{text, Hit, Knowledge, Report};
use std::sync::OnceLock;

fn knowledge() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(|| {
        let files = rampart_refdata::discover(&rampart_testkit::data_dir()).unwrap();
        Knowledge::from_files(&files).unwrap()
    })
}

fn render_both(report: &Report, what: &str) -> String {
    let rendered = text::report(report);
    assert!(rendered.ends_with('\n'), "{what}: {rendered}");
    let json = serde_json::to_value(report).unwrap();
    assert!(json.is_object(), "{what}");
    rendered
}

#[test]
fn every_attack_object_of_every_domain_renders_as_text_and_json() {
    let k = knowledge();
    let mut rendered = 0;
    let mut domains = Vec::new();
    for matrix in k.matrices() {
        domains.push(matrix.domain);
        for node in matrix.nodes() {
            let hit = Hit {
                domain: matrix.domain,
                node,
            };
            let what = format!("{} {:?}", matrix.domain, node);
            let report = k.report(hit).expect(&what);
            let text = render_both(&report, &what);
            let meta = matrix.meta(node).unwrap();
            assert!(text.contains(&meta.attack_id), "{what}: {text}");
            if let Report::Group(group) = &report {
                assert_eq!(text::group(group), text);
            }
            rendered += 1;
        }
    }
    assert_eq!(
        domains.len(),
        3,
        "Enterprise, Mobile and ICS are all loaded"
    );
    eprintln!("{rendered} objects rendered");
    assert!(rendered > 6_000, "{rendered} objects");
}

/// The objects of the report in the issue: their descriptions start a Markdown run
/// with a multi-byte character (a no-break space, a right single quote).
#[test]
fn descriptions_with_multibyte_text_render_as_plain_text() {
    let k = knowledge();
    for id in ["T1547.006", "S0330", "S1216"] {
        let hit = k.find(id).unwrap();
        let text = text::report(&k.report(hit).unwrap());
        assert!(!text.contains("(Citation:"), "{id}: {text}");
        assert!(!text.contains("](http"), "{id}: {text}");
    }
    let panda = text::report(&k.report(k.find("S0330").unwrap()).unwrap());
    assert!(
        panda.contains("Zeus Panda’s original source code"),
        "{panda}"
    );
}

#[test]
fn control_characters_are_escaped_in_text() {
    let k = knowledge();
    let mut report = k.report(k.find("T1003.001").unwrap()).unwrap();
    let Report::Technique(technique) = &mut report else {
        panic!("T1003.001 is a technique");
    };
    technique.common.name = "LSASS\u{1b}[2J\u{7}é".to_owned();
    technique.common.description = "Dumps\u{1b}]0;owned\u{7} [memory](https://x) é".to_owned();
    let text = text::report(&report);
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text}");
    assert!(text.contains("LSASS\\x1b[2J\\x07é"), "{text}");
    assert!(text.contains("Dumps\\x1b]0;owned\\x07 memory é"), "{text}");
}

#[test]
fn every_d3fend_technique_renders_as_text_and_json() {
    let k = knowledge();
    let ontology = k.d3fend().expect("D3FEND is in the reference data");
    let mut rendered = 0;
    for technique in ontology.techniques() {
        let report = k.d3fend_report(&technique.id).expect(&technique.id);
        let text = render_both(&Report::D3fend(Box::new(report)), &technique.id);
        assert!(text.starts_with(&technique.id), "{text}");
        rendered += 1;
    }
    assert!(rendered > 200, "{rendered} D3FEND techniques");
}

/// The ids of a list of related objects in a report's JSON.
fn listed_ids(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Deprecated and revoked objects are kept so that old ids resolve, but no list of
/// live relations of any report names them (T1053 used to list deprecated T1053.004,
/// T1574 revoked T1574.002).
#[test]
fn no_report_lists_a_withdrawn_object() {
    let k = knowledge();
    let keys = [
        "subtechniques",
        "groups",
        "software",
        "mitigations",
        "detection_strategies",
        "assets",
        "techniques",
        "campaigns",
        "analytics",
    ];
    let mut withdrawn = Vec::new();
    for matrix in k.matrices() {
        for node in matrix.nodes() {
            let hit = Hit {
                domain: matrix.domain,
                node,
            };
            let json = serde_json::to_value(k.report(hit).unwrap()).unwrap();
            let mut lists: Vec<&serde_json::Value> = keys.iter().map(|key| &json[key]).collect();
            if let Some(strategies) = json["detection_strategies"].as_array() {
                lists.extend(strategies.iter().map(|s| &s["analytics"]));
            }
            for id in lists.into_iter().flat_map(listed_ids) {
                // An analytic's own view lists itself.
                if json["id"] == id.as_str() {
                    continue;
                }
                let Some(&related) = matrix.by_attack_id(&id).first() else {
                    continue;
                };
                if !matrix.is_active(related) {
                    withdrawn.push(format!("{} lists {id}", json["id"]));
                }
            }
        }
    }
    assert!(withdrawn.is_empty(), "{withdrawn:#?}");
}

#[test]
fn every_engage_activity_renders_as_text_and_json() {
    let k = knowledge();
    let engage = k.engage().expect("ENGAGE is in the reference data");
    let mut rendered = 0;
    for activity in engage.activities() {
        let report = k.engage_report(&activity.id).expect(&activity.id);
        assert_eq!(report.kind, "engage-activity");
        let text = render_both(&Report::Engage(Box::new(report)), &activity.id);
        assert!(text.starts_with(&activity.id), "{text}");
        rendered += 1;
    }
    assert!(rendered > 20, "{rendered} ENGAGE activities");
}

/// A D3FEND technique's countered techniques are the inverse of the countermeasures
/// of each technique: every technique D3-PSA counters lists D3-PSA, and every
/// technique listing D3-PSA is among those it counters.
#[test]
fn d3fend_counters_are_the_inverse_of_countermeasures() {
    let k = knowledge();
    let psa = k.d3fend_report("d3-psa").unwrap();
    assert!(
        psa.url.ends_with("/d3f:ProcessSpawnAnalysis/"),
        "{}",
        psa.url
    );
    let countered: Vec<(String, String)> = psa
        .counters
        .iter()
        .map(|c| (c.domain.to_owned(), c.id.clone()))
        .collect();
    assert!(countered.len() > 10, "{countered:?}");
    let mut listing = Vec::new();
    for matrix in k.matrices() {
        for index in matrix.techniques_filtered(None, None) {
            let hit = Hit {
                domain: matrix.domain,
                node: rampart_knowledge::NodeRef {
                    kind: rampart_knowledge::Kind::Technique,
                    index,
                },
            };
            let report = k.technique_report(hit);
            if report.countermeasures.iter().any(|c| c.id == "D3-PSA") {
                listing.push((matrix.domain.as_str().to_owned(), report.common.id));
            }
        }
    }
    listing.sort_by(|a, b| {
        let rank = |d: &str| rampart_knowledge::Domain::parse(d).map(|d| d as usize);
        (rank(&a.0), &a.1).cmp(&(rank(&b.0), &b.1))
    });
    assert_eq!(countered, listing);
}
