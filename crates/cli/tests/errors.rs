//! The error convention, held for every error type of the workspace that has a cause:
//! the message says only its own context, the cause is `source()`, and
//! `event::error_chain` prints the cause once. Twelve variants used to write their
//! cause into their message as well, and the command line hid the doubling with a
//! substring check that could drop a real cause.

use std::error::Error;
use std::path::PathBuf;

use rampart_event::error_chain;

const CAUSE: &str = "the disk caught fire";

fn cause() -> std::io::Error {
    std::io::Error::other(CAUSE)
}

fn path() -> PathBuf {
    PathBuf::from("some/input.file")
}

/// Every error of the workspace whose cause is an I/O error, built with the same cause.
fn errors_with_io_causes() -> Vec<(&'static str, Box<dyn Error + 'static>)> {
    vec![
        (
            "CoverageError::Io",
            Box::new(rampart_coverage::CoverageError::Io {
                path: path(),
                source: cause(),
            }),
        ),
        (
            "DefenseError::Io",
            Box::new(rampart_defense::DefenseError::Io {
                path: path(),
                source: cause(),
            }),
        ),
        (
            "LogsourceError::Read",
            Box::new(rampart_detect::LogsourceError::Read {
                path: "logsources.yml".into(),
                source: cause(),
            }),
        ),
        (
            "IngestError::Access",
            Box::new(rampart_ingest::IngestError::Access {
                path: path(),
                source: cause(),
            }),
        ),
        (
            "IngestError::Walk",
            Box::new(rampart_ingest::IngestError::Walk {
                path: path(),
                source: cause(),
            }),
        ),
        (
            "IngestError::Read",
            Box::new(rampart_ingest::IngestError::Read {
                path: "-".into(),
                source: cause(),
            }),
        ),
        (
            "AliasFileError::Read",
            Box::new(rampart_ingest::AliasFileError::Read {
                path: path(),
                source: cause(),
            }),
        ),
        (
            "KnowledgeError::Read",
            Box::new(rampart_knowledge::KnowledgeError::Read {
                path: path(),
                source: cause(),
            }),
        ),
        (
            "KnowledgeError::Gzip",
            Box::new(rampart_knowledge::KnowledgeError::Gzip {
                path: path(),
                source: cause(),
            }),
        ),
        (
            "RefdataError::Io",
            Box::new(rampart_refdata::RefdataError::Io {
                path: path(),
                source: cause(),
            }),
        ),
        (
            "StoreError(Io)",
            Box::new(rampart_store::StoreError::new(
                path(),
                rampart_store::StoreErrorKind::Io(cause()),
            )),
        ),
    ]
}

#[test]
fn a_message_never_repeats_its_cause_and_the_chain_prints_it_once() {
    for (name, error) in errors_with_io_causes() {
        let message = error.to_string();
        assert!(
            !message.contains(CAUSE),
            "{name}: the message repeats its cause: {message}"
        );
        assert!(
            message.contains("some/input.file")
                || message.contains("logsources.yml")
                || message.contains('-'),
            "{name}: the message does not name its input: {message}"
        );
        let chain = error_chain(error.as_ref());
        assert_eq!(
            chain.matches(CAUSE).count(),
            1,
            "{name}: the chain must print the cause once: {chain}"
        );
    }
}

#[test]
fn parser_causes_keep_their_place_in_the_chain() {
    let json =
        serde_json::from_str::<serde_json::Value>("{\n  \"a\": ").expect_err("truncated JSON");
    let json_text = json.to_string();
    let error = rampart_knowledge::KnowledgeError::Json {
        path: path(),
        source: json,
    };
    assert!(!error.to_string().contains(&json_text), "{error}");
    let chain = error_chain(&error);
    assert!(chain.ends_with(&json_text), "{chain}");
    assert!(chain.contains("line 2"), "{chain}");

    let yaml = serde_yaml::from_str::<serde_yaml::Value>("a: [b").expect_err("bad YAML");
    let yaml_text = yaml.to_string();
    let error = rampart_ingest::AliasFileError::Parse {
        path: path(),
        source: yaml,
    };
    assert!(!error.to_string().contains(&yaml_text), "{error}");
    assert!(error_chain(&error).ends_with(&yaml_text));
}
