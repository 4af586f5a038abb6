//! The JSON Schema of the playbook format (draft 2020-12), shipped in the crate.
//!
//! `schema/playbook-v1.schema.json` is the format's reference: editors can validate
//! against it, and the loader checks every playbook with it before reading it into the
//! model, so a shape error is reported once, in the schema's terms, at the offending
//! line. Meaning (ids that exist, templates naming defined inputs) is the linter's.

use std::sync::OnceLock;

use serde_json::Value;

/// The schema's text.
pub const SCHEMA_V1: &str = include_str!("../../schema/playbook-v1.schema.json");

/// One way a document breaks the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// JSON pointer of the offending value (`/steps/0/action`).
    pub pointer: String,
    /// For an unknown key, the key (its pointer is `pointer` + `/` + key).
    pub unexpected: Vec<String>,
    /// The validator's message.
    pub message: String,
}

/// The compiled schema, built once. `None` only if the shipped schema were broken,
/// which a test rules out.
fn validator() -> Option<&'static jsonschema::Validator> {
    static VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let schema: Value = serde_json::from_str(SCHEMA_V1).ok()?;
            jsonschema::draft202012::options().build(&schema).ok()
        })
        .as_ref()
}

/// Every way `document` breaks the schema, in the validator's order (empty: valid).
pub fn validate(document: &Value) -> Vec<SchemaError> {
    let Some(validator) = validator() else {
        return vec![SchemaError {
            pointer: String::new(),
            unexpected: Vec::new(),
            message: "the built-in playbook schema does not compile".to_owned(),
        }];
    };
    validator
        .iter_errors(document)
        .map(|error| {
            let unexpected = match error.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    unexpected.clone()
                }
                _ => Vec::new(),
            };
            SchemaError {
                pointer: error.instance_path().as_str().to_owned(),
                unexpected,
                message: short_message(&error.to_string()),
            }
        })
        .collect()
}

/// The validator quotes the whole offending value; a step's action can be a screenful,
/// so long messages are cut (on a character boundary).
fn short_message(message: &str) -> String {
    const MAX: usize = 300;
    if message.len() <= MAX {
        return message.to_owned();
    }
    let mut end = MAX;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_schema_compiles() {
        assert!(super::validator().is_some());
    }
}
