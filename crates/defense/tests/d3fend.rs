#![allow(clippy::unwrap_used, clippy::expect_used)]
//! D3FEND read from the real ontology in the reference data.

use rampart_defense::d3fend::{ArtifactMatch, Ontology};
use rampart_defense::DefenseError;
use std::sync::OnceLock;

fn ontology() -> &'static Ontology {
    static ONTOLOGY: OnceLock<Ontology> = OnceLock::new();
    ONTOLOGY.get_or_init(|| {
        let path = rampart_testkit::data_path("mitre-d3fend/d3fend-protege.ttl");
        let started = std::time::Instant::now();
        let ontology = Ontology::from_ttl_file(&path).unwrap();
        eprintln!("parsed {} in {:?}", path.display(), started.elapsed());
        ontology
    })
}

#[test]
fn tactics_are_the_seven_in_matrix_order() {
    let names: Vec<&str> = ontology()
        .tactics()
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["Model", "Harden", "Detect", "Isolate", "Deceive", "Evict", "Restore"]
    );
    assert!(ontology().tactics().iter().all(|t| t.definition.is_some()));
}

#[test]
fn d3_psa_is_found_in_any_case_with_its_definition_tactic_and_artifacts() {
    let psa = ontology().technique("d3-psa").unwrap();
    assert_eq!(psa.id, "D3-PSA");
    assert_eq!(psa.name, "Process Spawn Analysis");
    assert_eq!(
        psa.tactic.as_deref(),
        Some("Detect"),
        "inherited from Process Analysis"
    );
    assert!(psa.definition.as_deref().unwrap().contains("spawn"));
    assert_eq!(psa.parents, ["ProcessAnalysis"]);
    assert!(psa
        .artifacts
        .iter()
        .any(|r| r.relation == "analyzes" && r.artifact == "Process" && !r.inherited));
    assert!(ontology().technique("ProcessSpawnAnalysis").is_some());
    assert!(ontology().technique("D3-NOPE").is_none());
}

#[test]
fn every_technique_has_an_id_a_name_and_a_tactic_of_the_seven() {
    let tactics: Vec<&str> = ontology()
        .tactics()
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let techniques: Vec<_> = ontology().techniques().collect();
    // The reference README counts 249 techniques with a tactic (475 d3fend-ids minus
    // 226 analytic-method D3A ids, which are not defensive techniques).
    assert_eq!(techniques.len(), 249);
    for t in &techniques {
        assert!(t.id.starts_with("D3-"), "{}", t.id);
        let tactic = t
            .tactic
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no tactic", t.id));
        assert!(tactics.contains(&tactic), "{}: {tactic}", t.id);
    }
}

#[test]
fn artifacts_form_a_hierarchy_under_digital_artifact() {
    let process = ontology().artifact("Process").unwrap();
    assert_eq!(process.name, "Process");
    let auth = ontology().artifact("AuthenticationService").unwrap();
    assert!(!auth.parents.is_empty());
    // Walking up from any artifact reaches the root.
    let mut class = "AuthenticationService".to_owned();
    let mut steps = 0;
    while let Some(parent) = ontology().artifact(&class).and_then(|a| a.parents.first()) {
        class = parent.clone();
        steps += 1;
        assert!(steps < 30);
    }
    assert!(class == "Artifact" || class == "DigitalArtifact", "{class}");
    let ancestors: Vec<&str> = ontology()
        .artifact_ancestors("AuthenticationService")
        .iter()
        .map(|a| a.class.as_str())
        .collect();
    assert!(
        ancestors.contains(&"Process") && ancestors.contains(&"DigitalArtifact"),
        "{ancestors:?}"
    );
    assert!(!ancestors.contains(&"AuthenticationService"));
    assert!(ontology().artifacts().len() > 500);
}

#[test]
fn attack_techniques_carry_their_artifacts_with_inheritance() {
    let lsass = ontology().attack_technique("t1003.001").unwrap();
    assert_eq!(lsass.name, "LSASS Memory");
    let has = |relation: &str, artifact: &str, inherited: bool| {
        lsass
            .artifacts
            .iter()
            .any(|r| r.relation == relation && r.artifact == artifact && r.inherited == inherited)
    };
    assert!(has("accesses", "Process", false));
    assert!(has("accesses", "AuthenticationService", false));
    assert!(has("accesses", "Credential", true), "{:?}", lsass.artifacts);
}

#[test]
fn lsass_memory_is_countered_by_detect_techniques_over_processes() {
    let countermeasures = ontology().countermeasures("T1003.001");
    assert!(!countermeasures.is_empty());
    let psa = countermeasures
        .iter()
        .find(|c| {
            c.id == "D3-PSA" && c.artifact == "Process" && c.artifact_match == ArtifactMatch::Same
        })
        .unwrap();
    assert_eq!(psa.tactic, "Detect");
    assert_eq!(psa.attack_relation, "accesses");
    assert_eq!(psa.defense_relation, "analyzes");
    // Through the hierarchy: the attacked AuthenticationService is a kind of Process.
    assert!(countermeasures.iter().any(|c| c.id == "D3-PSA"
        && c.attack_artifact == "Authentication Service"
        && c.artifact_match == ArtifactMatch::AttackArtifactIsSubclass));
    // Sorted by tactic order: no Harden entry after a Detect one.
    let orders: Vec<u32> = countermeasures
        .iter()
        .map(|c| {
            ontology()
                .tactics()
                .iter()
                .find(|t| t.name == c.tactic)
                .unwrap()
                .order
        })
        .collect();
    assert!(orders.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn countermeasures_agree_with_the_derived_cross_check_table() {
    // The derived CSV joins the same way plus the reverse direction; every pair we
    // infer for T1003.001 must be in it, and its same/sub-class rows must all be ours.
    let csv = std::fs::read_to_string(rampart_testkit::data_path(
        "mitre-d3fend/derived/d3fend-attack-inferred.csv",
    ))
    .unwrap();
    let expected: std::collections::BTreeSet<&str> = csv
        .lines()
        .filter(|l| l.contains(",T1003.001,") && !l.contains(",def-artifact-is-subclass,"))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let ours: std::collections::BTreeSet<String> = ontology()
        .countermeasures("T1003.001")
        .into_iter()
        .map(|c| c.id)
        .collect();
    let ours: std::collections::BTreeSet<&str> = ours.iter().map(String::as_str).collect();
    assert_eq!(ours, expected);
}

#[test]
fn the_reverse_lookup_agrees_with_the_forward_one() {
    let countered = ontology().countered_techniques("d3-psa");
    assert!(countered
        .iter()
        .any(|c| c.attack_id == "T1003.001" && c.attack_name == "LSASS Memory"));
    // Every reverse entry is a forward entry, and the reverse covers every forward one.
    for entry in &countered {
        assert!(ontology()
            .countermeasures(&entry.attack_id)
            .contains(&entry.via));
    }
    let forward: usize = ontology()
        .attack_techniques()
        .iter()
        .map(|t| {
            ontology()
                .countermeasures(&t.id)
                .iter()
                .filter(|c| c.id == "D3-PSA")
                .count()
        })
        .sum();
    assert_eq!(countered.len(), forward);
    assert!(ontology().countered_techniques("D3-NOPE").is_empty());
}

#[test]
fn all_inferred_pairs_agree_with_the_derived_cross_check_table() {
    // The README's table was derived independently (rdflib); its same-artifact and
    // attacked-artifact-is-subclass rows are the joins D3FEND's query makes.
    let csv = std::fs::read_to_string(rampart_testkit::data_path(
        "mitre-d3fend/derived/d3fend-attack-inferred.csv",
    ))
    .unwrap();
    let expected: std::collections::BTreeSet<(String, String)> = csv
        .lines()
        .skip(1)
        .filter(|l| !l.contains(",def-artifact-is-subclass,"))
        .map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            (fields[0].to_owned(), fields[8].to_owned())
        })
        .collect();
    let ours: std::collections::BTreeSet<(String, String)> = ontology()
        .attack_techniques()
        .iter()
        .flat_map(|t| {
            ontology()
                .countermeasures(&t.id)
                .into_iter()
                .map(move |c| (c.id, t.id.clone()))
        })
        .collect();
    let missing: Vec<_> = expected.difference(&ours).take(5).collect();
    let extra: Vec<_> = ours.difference(&expected).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    assert!(ours.len() > 5_000, "{}", ours.len());
}

#[test]
fn unknown_attack_ids_have_no_countermeasures() {
    assert!(ontology().countermeasures("T9999").is_empty());
}

#[test]
fn a_turtle_syntax_error_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d3fend.ttl");
    std::fs::write(
        &path,
        "@prefix : <http://d3fend.mitre.org/ontologies/d3fend.owl#> .\n:A a :B .\n:C :d :e :f .\n:G a :H .\n",
    )
    .unwrap();
    let error = Ontology::from_ttl_file(&path).unwrap_err();
    match &error {
        DefenseError::Syntax { line, .. } => assert_eq!(*line, 3, "{error}"),
        other => panic!("expected a syntax error, got {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains("d3fend.ttl:3:"), "{message}");
}

#[test]
fn valid_turtle_that_is_not_d3fend_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.ttl");
    std::fs::write(&path, "<http://a> <http://b> <http://c> .\n").unwrap();
    let message = Ontology::from_ttl_file(&path).unwrap_err().to_string();
    assert!(
        message.contains("other.ttl") && message.contains("no D3FEND technique"),
        "{message}"
    );
}

#[test]
fn the_model_survives_a_serde_round_trip() {
    let json = serde_json::to_string(ontology()).unwrap();
    let back: Ontology = serde_json::from_str(&json).unwrap();
    assert_eq!(back.technique("D3-PSA"), ontology().technique("D3-PSA"));
    assert_eq!(
        back.countermeasures("T1003.001"),
        ontology().countermeasures("T1003.001")
    );
}

/// Writes the reference ontology as JSON-LD with oxigraph's serializer, as a stand-in for
/// the published `d3fend.json` (not in the reference data).
fn ontology_as_jsonld(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("d3fend.json");
    let mut serializer = oxjsonld::JsonLdSerializer::new()
        .with_prefix("d3f", "http://d3fend.mitre.org/ontologies/d3fend.owl#")
        .unwrap()
        .with_prefix("rdfs", "http://www.w3.org/2000/01/rdf-schema#")
        .unwrap()
        .with_prefix("owl", "http://www.w3.org/2002/07/owl#")
        .unwrap()
        .for_writer(std::io::BufWriter::new(
            std::fs::File::create(&out).unwrap(),
        ));
    let ttl = std::fs::File::open(rampart_testkit::data_path(
        "mitre-d3fend/d3fend-protege.ttl",
    ))
    .unwrap();
    for triple in oxttl::TurtleParser::new().for_reader(std::io::BufReader::new(ttl)) {
        let triple = triple.unwrap();
        serializer
            .serialize_quad(&oxrdf::Quad::new(
                triple.subject,
                triple.predicate,
                triple.object,
                oxrdf::GraphName::DefaultGraph,
            ))
            .unwrap();
    }
    serializer.finish().unwrap().into_inner().unwrap();
    out
}

#[test]
fn json_ld_gives_the_same_model_as_turtle() {
    let dir = tempfile::tempdir().unwrap();
    let path = ontology_as_jsonld(dir.path());
    let started = std::time::Instant::now();
    let from_json = Ontology::from_jsonld_file(&path).unwrap();
    eprintln!("parsed JSON-LD in {:?}", started.elapsed());
    let turtle = ontology();
    assert_eq!(from_json.tactics(), turtle.tactics());
    assert!(from_json.techniques().eq(turtle.techniques()));
    assert_eq!(from_json.artifacts(), turtle.artifacts());
    assert_eq!(from_json.attack_techniques(), turtle.attack_techniques());
    assert_eq!(
        from_json.countermeasures("T1003.001"),
        turtle.countermeasures("T1003.001")
    );

    // Cut in half, it is a syntax error naming the file.
    let text = std::fs::read(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let error = Ontology::from_jsonld_file(&path).unwrap_err();
    assert!(matches!(error, DefenseError::Syntax { .. }), "{error:?}");
    assert!(error.to_string().contains("d3fend.json"), "{error}");
}
