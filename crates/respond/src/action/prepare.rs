//! From a playbook step's action to a [`PreparedRequest`]: templates rendered for
//! where each goes ([`Field`]), built-in HTTP templates filled in, the idempotency key
//! attached, secrets left as references.

use serde_json::{json, Map, Value};

use super::template::{render, secret_reference, Field, Names, Segment, Template};
use super::{idempotency_key, ConnectorConfig, ConnectorKind, PreparedRequest, RenderContext};
use super::{RequestDetail, IDEMPOTENCY_HEADER};
use crate::playbook::{ActionSpec, CommandAction, EmailAction, HttpAction};
use crate::RespondError;

/// The HTTP methods an action may use.
pub(crate) const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Headers a playbook may not set: the connector owns framing and the idempotency key.
const RESERVED_HEADERS: [&str; 6] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "idempotency-key",
    "te",
];

/// The built-in HTTP templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltIn {
    /// TheHive `POST {url}/api/v1/alert`: type, source, `sourceRef` = the idempotency
    /// key (TheHive refuses a second alert with the same one), title, description,
    /// severity, tags, observables from the inputs.
    TheHiveAlert,
    /// TheHive `POST {url}/api/v1/case`: title, description (with the inputs),
    /// severity, tags.
    TheHiveCase,
    /// A Slack incoming webhook: `{"text": …}`.
    Slack,
    /// A Microsoft Teams incoming webhook: a MessageCard with the inputs as facts.
    Teams,
    /// Generic JSON: run, incident, playbook, step, idempotency key, inputs.
    Webhook,
}

impl BuiltIn {
    /// Every built-in template's name.
    pub const NAMES: [&'static str; 5] =
        ["thehive_alert", "thehive_case", "slack", "teams", "webhook"];

    /// The template called `name`.
    pub fn from_name(name: &str) -> Option<BuiltIn> {
        Some(match name {
            "thehive_alert" => BuiltIn::TheHiveAlert,
            "thehive_case" => BuiltIn::TheHiveCase,
            "slack" => BuiltIn::Slack,
            "teams" => BuiltIn::Teams,
            "webhook" => BuiltIn::Webhook,
            _ => return None,
        })
    }

    fn path(self) -> Option<&'static str> {
        match self {
            BuiltIn::TheHiveAlert => Some("/api/v1/alert"),
            BuiltIn::TheHiveCase => Some("/api/v1/case"),
            _ => None,
        }
    }

    /// The body before the playbook's own `body` (an object whose keys replace
    /// these) is laid over it. Values go in as JSON values, never through a template.
    fn body(self, context: &RenderContext, names: Names<'_>, key: &str) -> Value {
        let title = format!(
            "Rampart: {} for incident {}",
            names.playbook, context.subject_id
        );
        let mut lines = format!(
            "Playbook {}, step {}, run {}.",
            names.playbook, names.step, context.run_id
        );
        for (name, values) in &context.inputs {
            lines.push_str(&format!("\n{name}: {}", values.join(", ")));
        }
        let tags = json!(["rampart", format!("rampart:playbook={}", names.playbook)]);
        match self {
            BuiltIn::TheHiveAlert => {
                let observables: Vec<Value> = context
                    .inputs
                    .iter()
                    .flat_map(|(name, values)| {
                        let data_type = observable_type(name);
                        values
                            .iter()
                            .map(move |value| json!({"dataType": data_type, "data": value}))
                    })
                    .collect();
                json!({
                    "type": "rampart",
                    "source": "rampart",
                    "sourceRef": key,
                    "title": title,
                    "description": lines,
                    "severity": 2,
                    "tags": tags,
                    "observables": observables,
                })
            }
            BuiltIn::TheHiveCase => json!({
                "title": title,
                "description": lines,
                "severity": 2,
                "tags": tags,
            }),
            BuiltIn::Slack => {
                let mut text = title;
                text.push('\n');
                text.push_str(&lines);
                json!({ "text": slack_escape(&text) })
            }
            BuiltIn::Teams => {
                let facts: Vec<Value> = context
                    .inputs
                    .iter()
                    .map(|(name, values)| json!({"name": name, "value": values.join(", ")}))
                    .collect();
                json!({
                    "@type": "MessageCard",
                    "@context": "https://schema.org/extensions",
                    "summary": title,
                    "title": title,
                    "text": format!(
                        "Playbook {}, step {}, run {}.",
                        names.playbook, names.step, context.run_id
                    ),
                    "sections": [{ "facts": facts }],
                })
            }
            BuiltIn::Webhook => json!({
                "run": context.run_id,
                "incident": context.subject_id,
                "playbook": names.playbook,
                "step": names.step,
                "idempotency_key": key,
                "inputs": context.inputs,
            }),
        }
    }
}

/// TheHive's observable data type for an input, by the input's conventional name.
fn observable_type(input: &str) -> &'static str {
    match input.to_ascii_lowercase().trim_end_matches('s') {
        "host" | "hostname" | "computer" => "hostname",
        "ip" | "address" | "src_ip" | "dst_ip" => "ip",
        "domain" => "domain",
        "hash" | "md5" | "sha1" | "sha256" => "hash",
        "url" => "url",
        "mail" | "email" => "mail",
        "file" | "filename" => "filename",
        "registry" | "key" => "registry",
        _ => "other",
    }
}

fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders `action` (step `step` of playbook `playbook`) with `context` into the request
/// a connector sends. Errors name the step and what is wrong; no secret value is read.
pub fn prepare(
    playbook: &str,
    step: &str,
    action: &ActionSpec,
    context: &RenderContext,
    config: &ConnectorConfig,
) -> Result<PreparedRequest, RespondError> {
    let names = Names { playbook, step };
    let key = idempotency_key(playbook, &context.subject_id, step, &context.inputs);
    let fail = |message: String| RespondError::Render {
        step: step.to_owned(),
        message,
    };
    let (connector, target, detail) = match action {
        ActionSpec::Http(http) => {
            let (target, detail) = prepare_http(http, context, names, &key).map_err(fail)?;
            (ConnectorKind::Http, target, detail)
        }
        ActionSpec::Email(email) => {
            let (target, detail) = prepare_email(email, context, names, config).map_err(fail)?;
            (ConnectorKind::Email, target, detail)
        }
        ActionSpec::Command(command) => {
            if !config.commands.contains_key(&command.program) {
                return Err(RespondError::NotAllowed {
                    program: command.program.clone(),
                });
            }
            let detail = prepare_command(command, context, names).map_err(fail)?;
            (
                ConnectorKind::Command,
                format!("command:{}", command.program),
                detail,
            )
        }
    };
    Ok(PreparedRequest {
        connector,
        target,
        idempotency_key: key,
        detail,
    })
}

fn prepare_http(
    action: &HttpAction,
    context: &RenderContext,
    names: Names<'_>,
    key: &str,
) -> Result<(String, RequestDetail), String> {
    let built_in = match &action.template {
        None => None,
        Some(name) => Some(BuiltIn::from_name(name).ok_or_else(|| {
            format!(
                "unknown HTTP template {name:?} (known: {})",
                BuiltIn::NAMES.join(", ")
            )
        })?),
    };
    let method = action
        .method
        .as_deref()
        .unwrap_or("POST")
        .to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(format!(
            "method {method:?} is not one of {}",
            METHODS.join(", ")
        ));
    }

    let mut url = render(&Template::parse(&action.url)?, Field::Url, context, names)?;
    if let Some(path) = built_in.and_then(BuiltIn::path) {
        if !url.ends_with(path) {
            url = format!("{}{path}", url.trim_end_matches('/'));
        }
    }
    let target = url_target(&url)?;

    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in &action.headers {
        if !is_token(name) {
            return Err(format!("header name {name:?} is not an HTTP token"));
        }
        let lower = name.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str())
            || (lower == "authorization" && action.auth.is_some())
        {
            return Err(format!("header {name:?} is set by the connector"));
        }
        let value = render(&Template::parse(value)?, Field::Header, context, names)?;
        headers.push((name.clone(), value));
    }
    if let Some(auth) = &action.auth {
        let value = match auth.scheme.to_ascii_lowercase().as_str() {
            "bearer" => format!("Bearer {}", secret_reference(&auth.secret)),
            "basic" => format!("Basic {{{{ basic_auth.{} }}}}", auth.secret),
            other => return Err(format!("auth scheme {other:?} is not bearer or basic")),
        };
        if !super::template::is_name(&auth.secret) {
            return Err(format!("secret name {:?} is not valid", auth.secret));
        }
        headers.push(("Authorization".to_owned(), value));
    }

    let field = if built_in == Some(BuiltIn::Slack) {
        Field::Slack
    } else {
        Field::Text
    };
    let own_body = match &action.body {
        None => None,
        Some(body) => Some(render_json(body, field, context, names, 0)?),
    };
    let body = match (built_in, own_body) {
        (None, body) => body,
        (Some(built_in), None) => Some(built_in.body(context, names, key)),
        (Some(built_in), Some(Value::Object(own))) => {
            let mut body = built_in.body(context, names, key);
            if let Value::Object(base) = &mut body {
                base.extend(own);
            }
            Some(body)
        }
        (Some(_), Some(own)) => Some(own),
    };
    let body = match body {
        None => None,
        Some(body) => {
            if !headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
            }
            Some(serde_json::to_string(&body).map_err(|error| error.to_string())?)
        }
    };
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("accept"))
    {
        headers.push(("Accept".to_owned(), "application/json".to_owned()));
    }
    headers.push((IDEMPOTENCY_HEADER.to_owned(), key.to_owned()));
    Ok((
        target,
        RequestDetail::Http {
            method,
            url,
            headers,
            body,
        },
    ))
}

/// JSON nesting a body may have (a playbook's body is small; the cap keeps rendering
/// from recursing without bound).
const MAX_BODY_DEPTH: usize = 32;

/// A body with every string leaf rendered as one JSON string: values can fill a
/// string, never add a key, an element or a level.
fn render_json(
    value: &Value,
    field: Field,
    context: &RenderContext,
    names: Names<'_>,
    depth: usize,
) -> Result<Value, String> {
    if depth > MAX_BODY_DEPTH {
        return Err(format!("body nests deeper than {MAX_BODY_DEPTH} levels"));
    }
    Ok(match value {
        Value::String(text) => {
            Value::String(render(&Template::parse(text)?, field, context, names)?)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_json(item, field, context, names, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, item) in map {
                out.insert(
                    key.clone(),
                    render_json(item, field, context, names, depth + 1)?,
                );
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// `scheme://host:port` of a rendered URL, what concurrency limits count against; a
/// URL whose scheme or host is a secret (a webhook URL kept whole as a secret) counts
/// as `secret:NAME` and is checked when it is sent.
fn url_target(url: &str) -> Result<String, String> {
    let authority_end = url
        .find("://")
        .map(|at| at + 3 + url[at + 3..].find('/').unwrap_or(url.len() - at - 3))
        .unwrap_or(url.len());
    if let Some((start, _, _, name)) = super::template::next_secret_reference(url) {
        if start < authority_end {
            return Ok(format!("secret:{name}"));
        }
    }
    let probe = super::template::fill_secrets(url, |_, _| Ok("x".to_owned()))?;
    let parsed = check_url(&probe)?;
    Ok(origin(&parsed))
}

/// Parses a URL to send to: http or https, a host, no credentials in it.
pub(crate) fn check_url(url: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|error| format!("URL is not valid: {error}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "URL scheme {:?} is not http or https",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none() {
        return Err("URL has no host".to_owned());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("URL holds credentials; use auth with a secret".to_owned());
    }
    Ok(parsed)
}

pub(crate) fn origin(url: &url::Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// An RFC 9110 token.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn prepare_email(
    action: &EmailAction,
    context: &RenderContext,
    names: Names<'_>,
    config: &ConnectorConfig,
) -> Result<(String, RequestDetail), String> {
    let smtp = config
        .smtp
        .as_ref()
        .ok_or_else(|| "no SMTP relay is configured".to_owned())?;
    let mut to = Vec::new();
    for recipient in &action.to {
        let address = render(&Template::parse(recipient)?, Field::Line, context, names)?;
        address
            .parse::<lettre::message::Mailbox>()
            .map_err(|error| format!("recipient {address:?} is not an address: {error}"))?;
        to.push(address);
    }
    if to.is_empty() {
        return Err("an e-mail needs a recipient".to_owned());
    }
    let subject = render(
        &Template::parse(&action.subject)?,
        Field::Line,
        context,
        names,
    )?;
    let body = render(&Template::parse(&action.body)?, Field::Text, context, names)?;
    Ok((
        smtp.target(),
        RequestDetail::Email {
            from: smtp.from.clone(),
            to,
            subject,
            body,
        },
    ))
}

fn prepare_command(
    action: &CommandAction,
    context: &RenderContext,
    names: Names<'_>,
) -> Result<RequestDetail, String> {
    let mut args = Vec::new();
    let mut options_ended = false;
    for (n, arg) in action.args.iter().enumerate() {
        let template = Template::parse(arg)?;
        let rendered = render(&template, Field::Argument, context, names)
            .map_err(|message| format!("argument {}: {message}", n + 1))?;
        let starts_with_value = matches!(template.segments.first(), Some(Segment::Reference(_)));
        if starts_with_value && rendered.starts_with('-') && !options_ended {
            return Err(format!(
                "argument {}: a value would start with '-' and read as an option; put it after a literal \"--\"",
                n + 1
            ));
        }
        if template.is_literal() && rendered == "--" {
            options_ended = true;
        }
        args.push(rendered);
    }
    Ok(RequestDetail::Command {
        program: action.program.clone(),
        args,
    })
}
