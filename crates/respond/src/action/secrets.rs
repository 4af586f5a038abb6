//! Secrets: named values (API tokens, `user:password` pairs, webhook URLs) from a
//! secrets file and the environment, never from playbook text. A prepared request
//! names them (`{{ secret.NAME }}`); only a connector's `send` puts the values in, and
//! [`Secrets::redact`] takes them back out of anything shown, stored or audited.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::template::is_name;
use crate::RespondError;

/// The environment variables a secret may come from: `RAMPART_SECRET_<NAME>`
/// (the name compared without case).
pub const ENV_PREFIX: &str = "RAMPART_SECRET_";

/// The secrets a responder knows. Its `Debug` shows names only.
#[derive(Clone, Default)]
pub struct Secrets {
    /// Lower-cased name → value.
    values: BTreeMap<String, String>,
    /// Every form of every value that [`Secrets::redact`] replaces, longest first,
    /// with its name.
    forms: Vec<(String, String)>,
    /// One automaton over the forms, so that text is redacted in one pass and a
    /// replacement is never searched again.
    finder: Option<aho_corasick::AhoCorasick>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Secrets {
    /// No secrets.
    pub fn new() -> Secrets {
        Secrets::default()
    }

    /// The secrets of `file` (when given) and of the `RAMPART_SECRET_*` variables
    /// among `env`; a variable wins over the file. The file is YAML, `name: value`
    /// per line; on Unix it is refused when group or others may read or write it.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Secrets, RespondError> {
        let mut secrets = Secrets::new();
        if let Some(path) = file {
            for (name, value) in read_file(path)? {
                secrets
                    .insert(&name, &value)
                    .map_err(|message| invalid(path, message))?;
            }
        }
        for (key, value) in env {
            let Some(name) = key.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            secrets
                .insert(name, &value)
                .map_err(|message| RespondError::Secrets {
                    path: PathBuf::from(format!("${key}")),
                    message,
                })?;
        }
        Ok(secrets)
    }

    /// Adds or replaces a secret. Names are ASCII letters, digits, `_` and `-`,
    /// compared without case; an empty value is refused (it could not be redacted).
    pub fn insert(&mut self, name: &str, value: &str) -> Result<(), String> {
        if !is_name(name) {
            return Err(format!(
                "secret name {name:?} is not letters, digits, '_' and '-'"
            ));
        }
        if value.is_empty() {
            return Err(format!("secret {name:?} is empty"));
        }
        let mut values = self.values.clone();
        values.insert(name.to_ascii_lowercase(), value.to_owned());
        let forms = redaction_forms(&values);
        // Fails closed: a set of secrets that cannot be searched is refused, never
        // kept unredactable.
        let finder = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(forms.iter().map(|(form, _)| form))
            .map_err(|error| format!("secrets cannot be indexed for redaction: {error}"))?;
        self.values = values;
        self.forms = forms;
        self.finder = Some(finder);
        Ok(())
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The names, lower-cased and sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// The length of the longest form [`Secrets::redact`] replaces (0 with no secrets).
    pub fn longest_form(&self) -> usize {
        self.forms.first().map_or(0, |(form, _)| form.len())
    }

    /// `text` with every secret value — as it is, in base64 (basic auth), JSON-escaped
    /// and percent-encoded — replaced by `[secret:NAME]`. Used for everything shown,
    /// stored or audited: responses, errors, dry runs.
    pub fn redact(&self, text: &str) -> String {
        let Some(finder) = &self.finder else {
            return text.to_owned();
        };
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for found in finder.find_iter(text) {
            out.push_str(&text[last..found.start()]);
            out.push_str("[secret:");
            out.push_str(&self.forms[found.pattern().as_usize()].1);
            out.push(']');
            last = found.end();
        }
        out.push_str(&text[last..]);
        out
    }
}

/// Each value's forms, longest first so that a secret containing another is replaced
/// whole.
fn redaction_forms(values: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut forms = Vec::new();
    for (name, value) in values {
        let json = serde_json::to_string(value).unwrap_or_default();
        let json = json
            .strip_prefix('"')
            .and_then(|json| json.strip_suffix('"'))
            .unwrap_or(value)
            .to_owned();
        let percent: String = value
            .bytes()
            .map(|byte| {
                if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                    (byte as char).to_string()
                } else {
                    format!("%{byte:02X}")
                }
            })
            .collect();
        let base64 = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
        for form in [value.clone(), json, percent, base64] {
            if !forms.iter().any(|(known, _)| *known == form) {
                forms.push((form, name.clone()));
            }
        }
    }
    forms.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    forms
}

fn invalid(path: &Path, message: String) -> RespondError {
    RespondError::Secrets {
        path: path.to_owned(),
        message,
    }
}

fn read_file(path: &Path) -> Result<Vec<(String, String)>, RespondError> {
    let read = |source| RespondError::ReadConfig {
        path: path.to_owned(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(read)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(invalid(
                path,
                format!(
                    "group or others may access it (mode {:o}); allow its owner only (chmod 600)",
                    mode & 0o777
                ),
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let text = std::fs::read_to_string(path).map_err(read)?;
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let document: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|error| {
        // serde_yaml's message can quote the offending text: a secret. Say where only.
        let place = error
            .location()
            .map(|at| format!("line {}, column {}", at.line(), at.column()))
            .unwrap_or_else(|| "somewhere".to_owned());
        invalid(path, format!("not YAML ({place})"))
    })?;
    let serde_yaml::Value::Mapping(mapping) = document else {
        return Err(invalid(path, "not a mapping of name: value".to_owned()));
    };
    let mut out = Vec::new();
    for (key, value) in mapping {
        let serde_yaml::Value::String(name) = key else {
            return Err(invalid(path, "a name that is not text".to_owned()));
        };
        let value = match value {
            serde_yaml::Value::String(value) => value,
            serde_yaml::Value::Number(number) => number.to_string(),
            serde_yaml::Value::Bool(flag) => flag.to_string(),
            _ => return Err(invalid(path, format!("secret {name:?} is not text"))),
        };
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn redaction_covers_every_form_and_debug_shows_names_only() {
        let mut secrets = Secrets::new();
        secrets.insert("Api", "tok\"en/+=1").unwrap();
        secrets.insert("basic", "user:pa ss").unwrap();
        let basic = base64::engine::general_purpose::STANDARD.encode("user:pa ss");
        let text = format!(
            "a tok\"en/+=1 b tok\\\"en/+=1 c tok%22en%2F%2B%3D1 d Basic {basic} e user:pa ss"
        );
        let redacted = secrets.redact(&text);
        assert_eq!(
            redacted,
            "a [secret:api] b [secret:api] c [secret:api] d Basic [secret:basic] e [secret:basic]"
        );
        let debug = format!("{secrets:?}");
        assert!(debug.contains("api") && !debug.contains("tok") && !debug.contains("pa ss"));
        assert_eq!(secrets.get("API"), Some("tok\"en/+=1"));
        // A replacement is not searched again, even when a secret is part of it.
        secrets.insert("short", "secret").unwrap();
        assert_eq!(secrets.redact("a secret"), "a [secret:short]");
    }

    #[test]
    fn environment_wins_and_names_are_checked() {
        let secrets = Secrets::load(
            None,
            [
                ("RAMPART_SECRET_HIVE_KEY".to_owned(), "k1".to_owned()),
                ("HOME".to_owned(), "/root".to_owned()),
            ],
        )
        .unwrap();
        assert_eq!(secrets.names().collect::<Vec<_>>(), ["hive_key"]);
        assert!(Secrets::load(None, [("RAMPART_SECRET_A B".into(), "x".into())]).is_err());
        assert!(Secrets::load(None, [("RAMPART_SECRET_E".into(), String::new())]).is_err());
    }
}
