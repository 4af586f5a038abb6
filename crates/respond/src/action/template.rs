//! The template language: `{{ inputs.NAME }}`, `{{ inputs.NAME[0] }}`,
//! `{{ incident.id }}`, `{{ run.id }}`, `{{ step.id }}`, `{{ playbook.id }}` and
//! `{{ secret.NAME }}` in otherwise literal text. Nothing else: no logic, no filters, no
//! nesting. A template engine would let a playbook compute, loop and branch on event
//! text; this one can only put a value where the playbook author wrote its name, and
//! where the value goes decides how it is encoded ([`Field`]).

use super::RenderContext;

/// What a template refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// `{{ inputs.NAME }}` (every value, joined by `, `) or `{{ inputs.NAME[i] }}`.
    Input {
        /// The input's name.
        name: String,
        /// One value by its position (from 0), or all of them.
        index: Option<usize>,
    },
    /// `{{ incident.id }}`: the run's subject (incident or alert).
    Subject,
    /// `{{ run.id }}`.
    Run,
    /// `{{ step.id }}`.
    Step,
    /// `{{ playbook.id }}`.
    Playbook,
    /// `{{ secret.NAME }}`: left as a reference until the request is sent.
    Secret(String),
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text as written.
    Literal(String),
    /// A `{{ … }}`.
    Reference(Reference),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Its pieces, in order.
    pub segments: Vec<Segment>,
}

/// The longest text one rendered field may reach: far above any real request, low
/// enough that a hostile incident cannot make one step hold gigabytes.
pub const MAX_RENDERED_BYTES: usize = 8 << 20;

impl Template {
    /// Parses `text`; an unclosed `{{`, an empty or unknown reference is an error
    /// naming it.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut segments = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                segments.push(Segment::Literal(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| format!("unclosed {{{{ in {:?}", shorten(text)))?;
            segments.push(Segment::Reference(parse_reference(&after[..close])?));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Literal(rest.to_owned()));
        }
        Ok(Template { segments })
    }

    /// Whether the template names no value at all.
    pub fn is_literal(&self) -> bool {
        self.segments
            .iter()
            .all(|segment| matches!(segment, Segment::Literal(_)))
    }

    /// The references it makes, in order.
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Reference(reference) => Some(reference),
            Segment::Literal(_) => None,
        })
    }
}

fn shorten(text: &str) -> String {
    let mut end = text.len().min(80);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A name of an input or secret: ASCII letters, digits, `_` and `-`.
pub(crate) fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn parse_reference(inner: &str) -> Result<Reference, String> {
    let path = inner.trim_matches([' ', '\t']);
    let unknown = || format!("unknown reference {{{{ {} }}}}", shorten(path));
    let (head, tail) = path.split_once('.').ok_or_else(unknown)?;
    match head {
        "incident" if tail == "id" => Ok(Reference::Subject),
        "run" if tail == "id" => Ok(Reference::Run),
        "step" if tail == "id" => Ok(Reference::Step),
        "playbook" if tail == "id" => Ok(Reference::Playbook),
        "secret" if is_name(tail) => Ok(Reference::Secret(tail.to_owned())),
        "inputs" => {
            let (name, index) = match tail.split_once('[') {
                None => (tail, None),
                Some((name, index)) => {
                    let digits = index.strip_suffix(']').ok_or_else(unknown)?;
                    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(unknown());
                    }
                    (name, Some(digits.parse::<usize>().map_err(|_| unknown())?))
                }
            };
            if !is_name(name) {
                return Err(unknown());
            }
            Ok(Reference::Input {
                name: name.to_owned(),
                index,
            })
        }
        _ => Err(unknown()),
    }
}

/// Where a rendered template goes, which decides how values are written into it.
/// Literal text is always kept as the playbook wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A URL: values are percent-encoded whole (only `A-Z a-z 0-9 - . _ ~` stay), so
    /// a value can never add a path segment, a query, a host or a scheme; secrets stay
    /// references.
    Url,
    /// A header value: values with control characters or `{{` are refused (no header
    /// injection, no secret reference smuggled in); secrets stay references.
    Header,
    /// A string of a JSON body or e-mail text: values as they are; no secrets (they
    /// would be sent to whoever reads the text).
    Text,
    /// A one-line text (e-mail subject, recipient): line breaks in values become
    /// spaces; no secrets.
    Line,
    /// Text of a Slack message: `&`, `<` and `>` in values escaped as Slack asks, so a
    /// value cannot mention `@channel` or disguise a link; no secrets.
    Slack,
    /// One program argument: values with NUL are refused; no secrets (an argument is
    /// visible to every local user).
    Argument,
}

/// The names a render needs besides the context: which step of which playbook.
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    /// The playbook's id.
    pub playbook: &'a str,
    /// The step's id.
    pub step: &'a str,
}

/// The canonical text of a secret reference in a prepared request.
pub fn secret_reference(name: &str) -> String {
    format!("{{{{ secret.{name} }}}}")
}

/// Renders `template` for `field`.
pub fn render(
    template: &Template,
    field: Field,
    context: &RenderContext,
    names: Names<'_>,
) -> Result<String, String> {
    let mut out = String::new();
    for segment in &template.segments {
        match segment {
            Segment::Literal(text) => out.push_str(text),
            Segment::Reference(Reference::Secret(name)) => match field {
                Field::Url | Field::Header => out.push_str(&secret_reference(name)),
                _ => {
                    return Err(format!(
                        "secret {name:?} may be used only in a URL, a header or auth"
                    ))
                }
            },
            Segment::Reference(reference) => {
                let value = value_of(reference, context, names)?;
                push_value(&mut out, &value, field)?;
            }
        }
        if out.len() > MAX_RENDERED_BYTES {
            return Err(format!(
                "rendered text exceeds {} MiB",
                MAX_RENDERED_BYTES >> 20
            ));
        }
    }
    if matches!(field, Field::Url | Field::Header) {
        // Secrets are filled into these fields when the request is sent: a value must
        // not complete a reference with the text beside it (`{` then `{ secret.x }}`).
        let written = template
            .references()
            .filter(|r| matches!(r, Reference::Secret(_)))
            .count();
        if count_secret_references(&out) != written {
            return Err("a value would form a secret reference".to_owned());
        }
    }
    Ok(out)
}

fn count_secret_references(text: &str) -> usize {
    let mut count = 0;
    let mut rest = text;
    while let Some((start, len, _, _)) = next_secret_reference(rest) {
        count += 1;
        rest = &rest[start + len..];
    }
    count
}

/// Parses and renders `text` for `field`.
pub fn render_str(
    text: &str,
    field: Field,
    context: &RenderContext,
    names: Names<'_>,
) -> Result<String, String> {
    render(&Template::parse(text)?, field, context, names)
}

fn value_of(
    reference: &Reference,
    context: &RenderContext,
    names: Names<'_>,
) -> Result<String, String> {
    Ok(match reference {
        Reference::Subject => context.subject_id.clone(),
        Reference::Run => context.run_id.clone(),
        Reference::Step => names.step.to_owned(),
        Reference::Playbook => names.playbook.to_owned(),
        Reference::Input { name, index } => {
            let values = context
                .inputs
                .get(name)
                .ok_or_else(|| format!("unknown input {name:?}"))?;
            match index {
                None => values.join(", "),
                Some(i) => values.get(*i).cloned().ok_or_else(|| {
                    format!("input {name:?} has {} value(s), no [{i}]", values.len())
                })?,
            }
        }
        Reference::Secret(name) => return Err(format!("secret {name:?} is not a value")),
    })
}

fn push_value(out: &mut String, value: &str, field: Field) -> Result<(), String> {
    match field {
        Field::Url => {
            for byte in value.bytes() {
                if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                    out.push(byte as char);
                } else {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
        Field::Header => {
            if value.chars().any(|c| c.is_control()) {
                return Err("a value for a header holds a control character".to_owned());
            }
            if value.contains("{{") {
                return Err("a value for a header holds \"{{\"".to_owned());
            }
            out.push_str(value);
        }
        Field::Text => out.push_str(value),
        Field::Line => {
            for c in value.chars() {
                out.push(if c == '\r' || c == '\n' { ' ' } else { c });
            }
        }
        Field::Slack => {
            for c in value.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    c => out.push(c),
                }
            }
        }
        Field::Argument => {
            if value.contains('\0') {
                return Err("a value for an argument holds NUL".to_owned());
            }
            out.push_str(value);
        }
    }
    Ok(())
}

/// Where a `{{ secret.NAME }}` (or the basic-auth form `{{ basic_auth.NAME }}`) starts
/// in prepared text, with its length and name.
pub(crate) fn next_secret_reference(text: &str) -> Option<(usize, usize, SecretForm, &str)> {
    let mut from = 0;
    while let Some(found) = text[from..].find("{{ ") {
        let start = from + found;
        let rest = &text[start + 3..];
        for (prefix, form) in [
            ("secret.", SecretForm::Plain),
            ("basic_auth.", SecretForm::Basic),
        ] {
            if let Some(after) = rest.strip_prefix(prefix) {
                if let Some(end) = after.find(" }}") {
                    let name = &after[..end];
                    if is_name(name) {
                        let len = 3 + prefix.len() + end + 3;
                        return Some((start, len, form, name));
                    }
                }
            }
        }
        from = start + 3;
    }
    None
}

/// How a secret is written where its reference stood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretForm {
    /// As it is.
    Plain,
    /// Base64 of it, for `Authorization: Basic` (the secret holds `user:password`).
    Basic,
}

/// Fills every secret reference in `text` with `fill(form, name)`.
pub(crate) fn fill_secrets(
    text: &str,
    mut fill: impl FnMut(SecretForm, &str) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((start, len, form, name)) = next_secret_reference(rest) {
        out.push_str(&rest[..start]);
        out.push_str(&fill(form, name)?);
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Fuzzing entry point (the `action_template` target): the bytes up to the first NUL
/// are a template, the rest the value of input `v`. Checks the renderer's promises:
/// parsing and rendering never panic; a value fills its place and adds no secret
/// reference to a URL or header; in a URL it is percent-encoded whole; in a header it
/// brings no control character; an argument never gains a NUL.
#[doc(hidden)]
pub fn fuzz_template(data: &[u8]) {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let template = String::from_utf8_lossy(&data[..split]);
    let value = String::from_utf8_lossy(data.get(split + 1..).unwrap_or_default());
    let mut context = RenderContext {
        run_id: "r".to_owned(),
        subject_id: "s".to_owned(),
        ..RenderContext::default()
    };
    context
        .inputs
        .insert("v".to_owned(), vec![value.to_string(), value.to_string()]);
    let names = Names {
        playbook: "p",
        step: "t",
    };
    let only_value = Template::parse("{{ inputs.v[0] }}").ok();
    if let Some(only_value) = only_value {
        let text = render(&only_value, Field::Text, &context, names).ok();
        assert_eq!(text.as_deref(), Some(value.as_ref()));
        let url = render(&only_value, Field::Url, &context, names).unwrap_or_default();
        assert!(url
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
        if let Ok(header) = render(&only_value, Field::Header, &context, names) {
            assert!(!header.chars().any(char::is_control) && !header.contains("{{"));
        }
    }
    let Ok(parsed) = Template::parse(&template) else {
        return;
    };
    let secrets = parsed
        .references()
        .filter(|r| matches!(r, Reference::Secret(_)))
        .count();
    for field in [Field::Url, Field::Header] {
        if let Ok(out) = render(&parsed, field, &context, names) {
            assert_eq!(
                count_secret_references(&out),
                secrets,
                "{template:?} / {value:?} → {out:?}"
            );
        }
    }
    if let Ok(out) = render(&parsed, Field::Argument, &context, names) {
        assert!(!out.contains('\0') || template.contains('\0'));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn context() -> RenderContext {
        let mut context = RenderContext {
            run_id: "run-1".into(),
            subject_id: "inc-7".into(),
            ..RenderContext::default()
        };
        context
            .inputs
            .insert("host".into(), vec!["WS-01".into(), "WS-02".into()]);
        context
    }

    const NAMES: Names<'static> = Names {
        playbook: "pb",
        step: "kill",
    };

    #[test]
    fn references_render() {
        let out = render_str(
            "{{inputs.host}} / {{ inputs.host[1] }} {{ incident.id }} {{run.id}} {{ step.id }} {{ playbook.id }}",
            Field::Text,
            &context(),
            NAMES,
        )
        .unwrap();
        assert_eq!(out, "WS-01, WS-02 / WS-02 inc-7 run-1 kill pb");
    }

    #[test]
    fn unknown_names_are_errors() {
        for bad in [
            "{{ inputs.user }}",
            "{{ inputs.host[2] }}",
            "{{ inputs.host[] }}",
            "{{ inputs.host[x] }}",
            "{{ incident.title }}",
            "{{ env.HOME }}",
            "{{ }}",
            "{{ inputs.host",
            "{{ inputs.host | upper }}",
            "{{ secret.a b }}",
        ] {
            assert!(
                render_str(bad, Field::Text, &context(), NAMES).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn secrets_only_where_they_may_go() {
        let header = render_str("Bearer {{secret.tok}}", Field::Header, &context(), NAMES);
        assert_eq!(header.unwrap(), "Bearer {{ secret.tok }}");
        for field in [Field::Text, Field::Line, Field::Argument, Field::Slack] {
            assert!(render_str("{{ secret.tok }}", field, &context(), NAMES).is_err());
        }
    }

    #[test]
    fn values_cannot_escape_their_place() {
        let mut context = context();
        context.inputs.insert(
            "evil".into(),
            vec!["../x?y=1#z {{ secret.tok }}\r\nX-A: b".into()],
        );
        let url = render_str("https://h/a/{{ inputs.evil }}", Field::Url, &context, NAMES);
        assert_eq!(
            url.unwrap(),
            "https://h/a/..%2Fx%3Fy%3D1%23z%20%7B%7B%20secret.tok%20%7D%7D%0D%0AX-A%3A%20b"
        );
        assert!(render_str("{{ inputs.evil }}", Field::Header, &context, NAMES).is_err());
        let line = render_str("{{ inputs.evil }}", Field::Line, &context, NAMES).unwrap();
        assert!(!line.contains('\n') && !line.contains('\r'));
        let slack = render_str("<{{ inputs.evil }}>", Field::Slack, &context, NAMES);
        context
            .inputs
            .insert("evil".into(), vec!["<!channel> & x".into()]);
        assert!(slack.is_ok());
        let slack = render_str("{{ inputs.evil }}", Field::Slack, &context, NAMES).unwrap();
        assert_eq!(slack, "&lt;!channel&gt; &amp; x");
    }

    #[test]
    fn values_cannot_complete_a_secret_reference() {
        let mut context = context();
        context
            .inputs
            .insert("v".into(), vec!["{".into(), "{ secret.tok }}".into()]);
        for template in [
            "{{ inputs.v[0] }}{ secret.tok }}",
            "{{ inputs.v[0] }}{{ inputs.v[1] }}",
        ] {
            assert!(render_str(template, Field::Header, &context, NAMES).is_err());
            let url = render_str(template, Field::Url, &context, NAMES).unwrap();
            assert!(!url.contains("{{"));
        }
    }

    /// The fuzz target's checks on deterministic mutations of its seeds, so every test
    /// run exercises them.
    #[test]
    fn fuzz_checks_hold_on_mutated_seeds() {
        let seeds: [&[u8]; 6] = [
            b"https://h/a/{{ inputs.v }}?q={{ inputs.v[1] }}\0../x?y",
            b"Bearer {{ secret.tok }}\0abc",
            b"{{ inputs.v[0] }}{ secret.tok }}\0{",
            b"{{ incident.id }} {{ run.id }} {{ step.id }}\0x",
            b"--host={{ inputs.v }}\0-rf",
            b"{{ basic_auth.x }} {{ secret.y }}\0{{ basic_auth.z }}",
        ];
        let inserts: [&[u8]; 8] = [
            b"{",
            b"}",
            b" ",
            b"\0",
            b"-",
            b"{{ secret.a }}",
            b"\r\n",
            b"[",
        ];
        let mut runs = 0;
        for seed in seeds {
            fuzz_template(seed);
            for at in 0..=seed.len() {
                for insert in inserts {
                    let mut input = seed[..at].to_vec();
                    input.extend_from_slice(insert);
                    input.extend_from_slice(&seed[at..]);
                    fuzz_template(&input);
                    runs += 1;
                }
                fuzz_template(&seed[..at]);
            }
        }
        assert!(runs > 1900, "{runs}");
    }

    #[test]
    fn secret_references_are_found_and_filled() {
        let text = "a {{ secret.x }} b {{ basic_auth.y_1 }} {{ secret.bad name }}";
        let out = fill_secrets(text, |form, name| Ok(format!("<{form:?}:{name}>"))).unwrap();
        assert_eq!(out, "a <Plain:x> b <Basic:y_1> {{ secret.bad name }}");
    }
}
