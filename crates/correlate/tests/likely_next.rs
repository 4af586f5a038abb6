#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Likely-next behaviour on concrete incidents, with the real ATT&CK Enterprise matrix.

use rampart_correlate::{
    kill_chain_from, next_predictor_from, Actor, ActorKind, KillChain, NextPredictor, Tactic,
    ThreatActorsBuilder,
};
use rampart_knowledge::Knowledge;
use std::collections::HashSet;
use std::sync::OnceLock;

fn knowledge() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(|| {
        let files = rampart_refdata::discover(&rampart_testkit::data_dir()).unwrap();
        Knowledge::from_files(&files).unwrap()
    })
}

fn chain() -> KillChain {
    kill_chain_from(knowledge())
}

fn predictor() -> &'static NextPredictor {
    static PREDICTOR: OnceLock<NextPredictor> = OnceLock::new();
    PREDICTOR.get_or_init(|| next_predictor_from(knowledge()))
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Ransomware that got to Impact: what comes next lies at Impact, or is evasion.
#[test]
fn after_impact_nothing_earlier_and_no_spearphishing() {
    let chain = chain();
    let observed = ids(&["T1059.001", "T1003.001", "T1021.002", "T1486", "T1490"]);
    let next = predictor().predict(&observed, &HashSet::new(), 10);
    assert!(!next.is_empty());
    let impact = chain.position("impact").unwrap();
    for n in &next {
        assert!(!n.technique.starts_with("T1566"), "{next:#?}");
        let tactics = chain.tactics_of(&n.technique);
        assert!(
            tactics.iter().any(|t| t == "stealth"
                || t == "defense-impairment"
                || chain.position(t).unwrap() >= impact),
            "{} ({tactics:?}) lies before impact",
            n.technique
        );
    }
}

/// Host telemetry cannot see reconnaissance or resource development; nothing observed
/// is suggested again.
#[test]
fn never_pre_compromise_nor_already_seen() {
    let chain = chain();
    let observed = ids(&["T1566.001", "T1204.002", "T1059.001"]);
    let next = predictor().predict(&observed, &HashSet::new(), 30);
    assert!(next.len() >= 10);
    for n in &next {
        assert!(!observed.contains(&n.technique));
        let tactics = chain.tactics_of(&n.technique);
        assert!(
            tactics
                .iter()
                .any(|t| t != "reconnaissance" && t != "resource-development"),
            "{} is pre-compromise",
            n.technique
        );
    }
}

/// Two different incidents get different suggestions: they are conditioned on what was
/// seen, not the same popular few.
#[test]
fn different_incidents_get_different_suggestions() {
    let top = |observed: &[&str]| -> Vec<String> {
        predictor()
            .predict(&ids(observed), &HashSet::new(), 10)
            .into_iter()
            .map(|n| n.technique)
            .collect()
    };
    let phishing = top(&["T1566.001", "T1204.002"]);
    let ransomware = top(&["T1021.001", "T1486"]);
    let shared = phishing.iter().filter(|t| ransomware.contains(t)).count();
    assert!(shared <= 3, "{phishing:?} {ransomware:?}");
}

/// Rules tagged with ids ATT&CK 19 revoked (`T1562.001` → `T1685`), in any case and
/// with stray spaces, are read as their successors: the successor is not suggested as
/// news and the ranking is the one its current id gives.
#[test]
fn revoked_and_oddly_written_ids_count_as_their_current_technique() {
    let current = predictor().predict(&ids(&["T1685", "T1486"]), &HashSet::new(), 10);
    let revoked = predictor().predict(&ids(&[" t1562.001 ", "t1486"]), &HashSet::new(), 10);
    assert!(!current.is_empty());
    assert_eq!(current, revoked);
    assert!(
        revoked.iter().all(|n| n.technique != "T1685"),
        "{revoked:#?}"
    );
}

/// Suggestions are current ATT&CK techniques, each explained by the groups or
/// campaigns that support it.
#[test]
fn suggestions_are_active_techniques_with_their_supporters() {
    let matrix = knowledge().enterprise();
    let next = predictor().predict(&ids(&["T1059.001", "T1003.001"]), &HashSet::new(), 10);
    assert_eq!(next.len(), 10);
    for n in &next {
        let nodes = matrix.by_attack_id(&n.technique);
        assert!(
            nodes.iter().any(|node| matrix.is_active(*node)),
            "{} is not an active technique",
            n.technique
        );
        assert!(!n.supported_by.is_empty() && n.supporters >= n.supported_by.len());
        for support in &n.supported_by {
            assert!(support.id.starts_with('G') || support.id.starts_with('C'));
            assert!(!support.shared.is_empty(), "{support:?}");
            assert!(support.share > 0.0 && support.share <= 1.0);
        }
    }
}

/// Tens of thousands of junk tags from hostile rules change nothing and cost little.
#[test]
fn junk_technique_tags_do_not_change_the_ranking() {
    let real = ids(&["T1566.001", "T1204.002"]);
    let mut noisy: Vec<String> = (0..50_000).map(|i| format!("T9{i:05}.{i}")).collect();
    noisy.extend(real.clone());
    noisy.push("not a technique \u{1b}[31m".into());
    noisy.push(String::new());
    let clean = predictor().predict(&real, &HashSet::new(), 10);
    assert_eq!(predictor().predict(&noisy, &HashSet::new(), 10), clean);
}

/// Names come from a threat-intelligence feed: terminal control sequences in them are
/// written out escaped in the line for people, never sent to the terminal.
#[test]
fn hostile_names_are_escaped_in_the_line_for_people() {
    let tactic = |shortname: &str| Tactic {
        shortname: shortname.into(),
        id: None,
        name: None,
    };
    let mut chain = KillChain::new(vec![tactic("execution"), tactic("impact")]);
    chain.add_technique("T1059", vec!["execution".into()]);
    chain.add_technique("T1486", vec!["impact".into()]);
    let mut actors = ThreatActorsBuilder::new();
    let actor = Actor {
        id: "G9999".into(),
        name: "Evil\u{1b}]0;pwned\u{7}".into(),
        kind: ActorKind::Group,
    };
    actors.add_actor(actor, ids(&["T1059", "T1486"]));
    actors.add_name("T1486", "Data Encrypted\u{1b}[2J");
    let predictor = NextPredictor::new(actors.build(), chain);
    let next = predictor.predict(&ids(&["T1059"]), &HashSet::new(), 5);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].technique, "T1486");
    let line = next[0].describe();
    assert!(!line.chars().any(char::is_control), "{line:?}");
    assert!(line.contains("Evil\\x1b]0;pwned"), "{line}");
}

/// An incident whose IoC alert is attributed to APT29 (G0016): APT29's techniques come
/// first, each explained by the attribution, and the ranking without it differs.
#[test]
fn an_attributed_actor_ranks_its_techniques_first() {
    let knowledge = knowledge();
    let apt29 = knowledge.find("G0016").unwrap();
    let matrix = knowledge.matrix_of(apt29);
    let used: HashSet<String> = matrix
        .techniques_of_group(apt29.node.index)
        .into_iter()
        .filter_map(|(t, _)| {
            matrix
                .meta(rampart_knowledge::NodeRef {
                    kind: rampart_knowledge::Kind::Technique,
                    index: t,
                })
                .map(|m| m.attack_id.clone())
        })
        .collect();
    let observed = ids(&["T1059.001", "T1486"]);
    let plain = predictor().predict(&observed, &HashSet::new(), 10);
    let attributed =
        predictor().predict_attributed(&observed, &ids(&["g0016"]), &HashSet::new(), 10);
    assert_eq!(attributed.len(), 10);
    for next in &attributed {
        assert!(used.contains(&next.technique), "{next:#?}");
        assert_eq!(next.attributed_to, ["G0016"]);
        assert!(next.describe().contains("IoC attributed to G0016"));
        assert!(next.supported_by.iter().any(|s| s.id == "G0016"));
    }
    assert!(plain.iter().all(|n| n.attributed_to.is_empty()));
    assert_ne!(
        plain.iter().map(|n| &n.technique).collect::<Vec<_>>(),
        attributed.iter().map(|n| &n.technique).collect::<Vec<_>>()
    );
    // An IoC alert alone (no technique observed) still gets the actor's techniques.
    let only_ioc = predictor().predict_attributed(&[], &ids(&["G0016"]), &HashSet::new(), 5);
    assert_eq!(only_ioc.len(), 5);
    assert!(only_ioc.iter().all(|n| used.contains(&n.technique)));
    // Feeds name actors their own way: MISP's "APT 29", an alias.
    for name in ["APT 29", "the dukes", "Cozy Bear"] {
        assert_eq!(
            predictor().predict_attributed(&observed, &ids(&[name]), &HashSet::new(), 10),
            attributed,
            "{name}"
        );
    }
    // Unknown or non-group ids change nothing.
    assert_eq!(
        predictor().predict_attributed(&observed, &ids(&["G9999", "S0518"]), &HashSet::new(), 10),
        plain
    );
}
