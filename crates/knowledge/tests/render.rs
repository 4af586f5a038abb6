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
    assert!(text.contains("LSASS\\u{1b}[2J\\u{7}é"), "{text}");
    assert!(
        text.contains("Dumps\\u{1b}]0;owned\\u{7} memory é"),
        "{text}"
    );
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
