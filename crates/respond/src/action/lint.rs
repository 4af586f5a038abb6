//! Static checks of an action, for the playbook linter: what [`super::prepare()`]
//! would refuse whatever the values, found before any run.

use super::prepare::BuiltIn;
use super::template::{is_name, Reference, Segment, Template};
use crate::playbook::ActionSpec;

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// `prepare` refuses the action whatever the values.
    Error,
    /// `prepare` refuses it for some values (a command argument led by a value that may
    /// start with `-`).
    Warning,
}

/// One problem of an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// The field: `url`, `headers.X-Key`, `body.title`, `args[2]`, `subject`, …
    pub field: String,
    /// One sentence.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

fn error(field: &str, message: String) -> Problem {
    Problem {
        severity: Severity::Error,
        field: field.to_owned(),
        message,
    }
}

/// The problems of `action` given the playbook's declared `inputs`: unparsable
/// templates, unknown names (inputs, built-in templates, auth schemes, methods;
/// programs are checked at run time against the allow-list), secrets where they may
/// not stand, URLs that are not http(s) (errors), and command arguments whose value
/// comes first without a literal `--` before them (warnings: refused at run time when
/// the value starts with `-`).
pub fn lint(action: &ActionSpec, inputs: &[&str]) -> Vec<Problem> {
    let mut problems = Vec::new();
    match action {
        ActionSpec::Http(http) => {
            if let Some(name) = &http.template {
                if BuiltIn::from_name(name).is_none() {
                    problems.push(error(
                        "template",
                        format!("{name:?} is not one of {}", BuiltIn::NAMES.join(", ")),
                    ));
                }
            }
            if let Some(method) = &http.method {
                let method = method.to_ascii_uppercase();
                if !super::prepare::METHODS.contains(&method.as_str()) {
                    problems.push(error("method", format!("{method:?} is not supported")));
                }
            }
            if let Some(url) = check(&mut problems, inputs, "url", &http.url, true) {
                if let Some(Segment::Literal(start)) = url.segments.first() {
                    let lower = start.to_ascii_lowercase();
                    if !lower.starts_with("http://") && !lower.starts_with("https://") {
                        problems.push(error(
                            "url",
                            "must start with http:// or https://".to_owned(),
                        ));
                    }
                } else if !matches!(
                    url.segments.first(),
                    Some(Segment::Reference(Reference::Secret(_)))
                ) {
                    problems.push(error(
                        "url",
                        "must start with http(s):// or a secret, never with a value".to_owned(),
                    ));
                }
            }
            for (name, value) in &http.headers {
                check(
                    &mut problems,
                    inputs,
                    &format!("headers.{name}"),
                    value,
                    true,
                );
            }
            if let Some(auth) = &http.auth {
                if !matches!(
                    auth.scheme.to_ascii_lowercase().as_str(),
                    "bearer" | "basic"
                ) {
                    problems.push(error(
                        "auth",
                        format!("scheme {:?} is not bearer or basic", auth.scheme),
                    ));
                }
                if !is_name(&auth.secret) {
                    problems.push(error(
                        "auth",
                        format!("secret name {:?} is not valid", auth.secret),
                    ));
                }
            }
            if let Some(body) = &http.body {
                let mut strings = Vec::new();
                collect_strings(body, "body", &mut strings);
                for (field, text) in strings {
                    check(&mut problems, inputs, &field, &text, false);
                }
            }
        }
        ActionSpec::Email(email) => {
            for (n, to) in email.to.iter().enumerate() {
                check(&mut problems, inputs, &format!("to[{n}]"), to, false);
            }
            check(&mut problems, inputs, "subject", &email.subject, false);
            check(&mut problems, inputs, "body", &email.body, false);
        }
        ActionSpec::Command(command) => {
            let mut options_ended = false;
            for (n, arg) in command.args.iter().enumerate() {
                let field = format!("args[{n}]");
                if let Some(template) = check(&mut problems, inputs, &field, arg, false) {
                    if template.is_literal() && arg == "--" {
                        options_ended = true;
                    } else if !options_ended
                        && matches!(template.segments.first(), Some(Segment::Reference(_)))
                    {
                        problems.push(Problem {
                            severity: Severity::Warning,
                            field,
                            message: "starts with a value before any literal \"--\"; a value starting with '-' will be refused (put \"--\" before it, or write the option and value as one argument, \"--host={{ inputs.host }}\")".to_owned(),
                        });
                    }
                }
            }
        }
    }
    problems
}

/// Parses `text` (field `field`), noting its problems; the template when it parses.
fn check(
    problems: &mut Vec<Problem>,
    inputs: &[&str],
    field: &str,
    text: &str,
    secrets_allowed: bool,
) -> Option<Template> {
    match Template::parse(text) {
        Err(message) => {
            problems.push(error(field, message));
            None
        }
        Ok(template) => {
            for reference in template.references() {
                match reference {
                    Reference::Input { name, .. } if !inputs.contains(&name.as_str()) => {
                        problems.push(error(field, format!("input {name:?} is not declared")));
                    }
                    Reference::Secret(name) if !secrets_allowed => problems.push(error(
                        field,
                        format!("secret {name:?} may be used only in a URL, a header or auth"),
                    )),
                    _ => {}
                }
            }
            Some(template)
        }
    }
}

fn collect_strings(value: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
    // The body's depth is capped when it is rendered; the linter stops at the same depth.
    if at.matches(['.', '[']).count() > 32 {
        return;
    }
    match value {
        serde_json::Value::String(text) => out.push((at.to_owned(), text.clone())),
        serde_json::Value::Array(items) => {
            for (n, item) in items.iter().enumerate() {
                collect_strings(item, &format!("{at}[{n}]"), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                collect_strings(item, &format!("{at}.{key}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn action(yaml: &str) -> ActionSpec {
        let value: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn problems_are_found_before_a_run() {
        let good = action(
            "http: { template: thehive_alert, url: 'https://hive.example', headers: { X-K: '{{ secret.k }}' }, body: { title: '{{ inputs.host }}' } }",
        );
        assert!(lint(&good, &["host"]).is_empty());
        let good = action("command: { program: edr, args: ['--host={{ inputs.host }}', '--', '{{ inputs.host }}'] }");
        assert!(lint(&good, &["host"]).is_empty());

        let bad = action(
            "http: { template: jira, method: TRACE, url: '{{ inputs.url }}', auth: { scheme: digest, secret: 'a b' }, body: { t: ['{{ secret.k }}', '{{ inputs.nope }}', '{{ oops'] } }",
        );
        let problems = lint(&bad, &["url"]);
        assert_eq!(problems.len(), 8, "{problems:#?}");
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(shown
            .iter()
            .any(|p| p.starts_with("body.t[1]: input \"nope\"")));
        assert!(shown
            .iter()
            .any(|p| p.starts_with("url: must start with http(s)://")));
        assert!(problems.iter().all(|p| p.severity == Severity::Error));

        let bad =
            action("command: { program: edr, args: ['{{ inputs.host }}', '{{ secret.k }}'] }");
        let problems = lint(&bad, &["host"]);
        assert_eq!(problems.len(), 3, "{problems:#?}");
        let warnings = problems.iter().filter(|p| p.severity == Severity::Warning);
        assert_eq!(warnings.count(), 2);
        let bad =
            action("email: { to: ['{{ inputs.user }}'], subject: '{{ secret.k }}', body: b }");
        assert_eq!(lint(&bad, &[]).len(), 2);
        let bad = action("http: { url: 'ftp://x/' }");
        let problems = lint(&bad, &[]);
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].to_string(),
            "url: must start with http:// or https://"
        );
    }
}
