//! Value modifiers: `Field|mod1|mod2` names into a checked plan, and that plan applied
//! to the written values.
//!
//! Modifiers apply in the order written (`|wide|base64offset|contains` encodes, then
//! wraps). Transformations run here, once, so the output is plain patterns.

use crate::diagnostic::{DiagnosticKind, Problem};
use crate::model::{CmpOp, TimePart};

/// A transformation of string values, applied in the order written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transform {
    Contains,
    StartsWith,
    EndsWith,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16Bom,
    Windash,
    Expand,
}

/// What kind of test the modifiers ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// String matching (with wildcards), the default.
    Plain,
    /// `|re`, with its `i`, `m`, `s` flags.
    Regex { i: bool, m: bool, s: bool },
    /// `|cidr`
    Cidr,
    /// `|exists`
    Exists,
    /// `|fieldref`
    FieldRef,
    /// `|gt` and friends.
    Compare(CmpOp),
    /// A time part, optionally compared (`|hour|gte`).
    Time(TimePart, Option<CmpOp>),
}

/// The checked modifiers of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Modifiers {
    pub kind: Kind,
    pub transforms: Vec<Transform>,
    pub all: bool,
    pub cased: bool,
    pub neq: bool,
}

impl Modifiers {
    /// Whether no modifier was written.
    pub fn is_empty(&self) -> bool {
        self.kind == Kind::Plain
            && self.transforms.is_empty()
            && !self.all
            && !self.cased
            && !self.neq
    }
}

/// Splits `Field|mod1|mod2` into the field name and its checked modifiers.
pub(crate) fn parse_key(key: &str, line: usize) -> Result<(String, Modifiers), Problem> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default().to_string();
    let mut modifiers = Modifiers {
        kind: Kind::Plain,
        transforms: Vec::new(),
        all: false,
        cased: false,
        neq: false,
    };
    let invalid = |message: String| Problem::new(DiagnosticKind::InvalidModifier, line, message);
    for name in parts {
        let mut set_kind = |kind: Kind| -> Result<(), Problem> {
            match (modifiers.kind, kind) {
                (Kind::Plain, _) => modifiers.kind = kind,
                // `|hour|gte`: a time part may be compared.
                (Kind::Time(part, None), Kind::Compare(op)) => {
                    modifiers.kind = Kind::Time(part, Some(op))
                }
                _ => {
                    return Err(invalid(format!(
                        "`|{name}` cannot be combined with the other type modifiers of `{key}`"
                    )))
                }
            }
            Ok(())
        };
        let transform = match name {
            "contains" => Some(Transform::Contains),
            "startswith" => Some(Transform::StartsWith),
            "endswith" => Some(Transform::EndsWith),
            "base64" => Some(Transform::Base64),
            "base64offset" => Some(Transform::Base64Offset),
            "utf16le" | "wide" => Some(Transform::Utf16Le),
            "utf16be" => Some(Transform::Utf16Be),
            "utf16" => Some(Transform::Utf16Bom),
            "windash" => Some(Transform::Windash),
            "expand" => Some(Transform::Expand),
            _ => None,
        };
        if let Some(transform) = transform {
            modifiers.transforms.push(transform);
            continue;
        }
        let time_part = match name {
            "minute" => Some(TimePart::Minute),
            "hour" => Some(TimePart::Hour),
            "day" => Some(TimePart::Day),
            "week" => Some(TimePart::Week),
            "month" => Some(TimePart::Month),
            "year" => Some(TimePart::Year),
            _ => None,
        };
        match name {
            "all" => modifiers.all = true,
            "cased" => modifiers.cased = true,
            "neq" => modifiers.neq = true,
            "re" => set_kind(Kind::Regex {
                i: false,
                m: false,
                s: false,
            })?,
            "i" | "m" | "s" => match &mut modifiers.kind {
                Kind::Regex { i, m, s } => match name {
                    "i" => *i = true,
                    "m" => *m = true,
                    _ => *s = true,
                },
                _ => {
                    return Err(invalid(format!(
                        "`|{name}` is a sub-modifier of `|re` and must follow it in `{key}`"
                    )))
                }
            },
            "cidr" => set_kind(Kind::Cidr)?,
            "exists" => set_kind(Kind::Exists)?,
            "fieldref" => set_kind(Kind::FieldRef)?,
            "gt" | "gte" | "lt" | "lte" => {
                set_kind(Kind::Compare(CmpOp::from_name(name).unwrap_or(CmpOp::Eq)))?
            }
            _ => match time_part {
                Some(part) => set_kind(Kind::Time(part, None))?,
                None => {
                    return Err(Problem::new(
                        DiagnosticKind::UnknownModifier,
                        line,
                        format!("unknown modifier `|{name}` in `{key}`"),
                    ))
                }
            },
        }
    }
    check_combination(key, &modifiers, line)?;
    Ok((field, modifiers))
}

/// Rejects modifier sets that have no meaning.
fn check_combination(key: &str, modifiers: &Modifiers, line: usize) -> Result<(), Problem> {
    let invalid = |what: &str| {
        Err(Problem::new(
            DiagnosticKind::InvalidModifier,
            line,
            format!("{what} in `{key}`"),
        ))
    };
    let only_positional = modifiers.transforms.iter().all(|t| {
        matches!(
            t,
            Transform::Contains | Transform::StartsWith | Transform::EndsWith
        )
    });
    match modifiers.kind {
        Kind::Plain => Ok(()),
        Kind::Exists if !modifiers.transforms.is_empty() || modifiers.all || modifiers.neq => {
            invalid("`|exists` takes no other modifier")
        }
        Kind::FieldRef if !only_positional || modifiers.transforms.len() > 1 => {
            invalid("`|fieldref` combines only with one of `|contains`, `|startswith`, `|endswith`")
        }
        Kind::Regex { .. } | Kind::Cidr | Kind::Compare(_) | Kind::Time(..)
            if !modifiers.transforms.is_empty() =>
        {
            invalid(
                "string transformations cannot apply to regular expressions, networks or numbers",
            )
        }
        _ => Ok(()),
    }
}

/// One character of a Sigma string: a literal, or a wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    Char(char),
    AnyRun,
    AnyChar,
}

/// A value between transformations: a Sigma string, or bytes from an encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stage {
    Text(Vec<Piece>),
    Bytes(Vec<u8>),
}

/// Reads a Sigma string: `*` and `?` are wildcards; `\*`, `\?` and `\\` escape them.
pub(crate) fn parse_sigma_string(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => pieces.push(Piece::AnyRun),
            '?' => pieces.push(Piece::AnyChar),
            '\\' => match chars.peek() {
                Some(&next @ ('*' | '?' | '\\')) => {
                    chars.next();
                    pieces.push(Piece::Char(next));
                }
                _ => pieces.push(Piece::Char('\\')),
            },
            other => pieces.push(Piece::Char(other)),
        }
    }
    pieces
}

/// Applies one transformation; a value may become several alternatives.
pub(crate) fn apply(
    transform: Transform,
    stage: Stage,
    placeholders: &dyn Fn(&str) -> Option<Vec<String>>,
    line: usize,
) -> Result<Vec<Stage>, Problem> {
    let invalid = |message: String| Problem::new(DiagnosticKind::InvalidModifier, line, message);
    Ok(match transform {
        Transform::Contains | Transform::StartsWith | Transform::EndsWith => {
            let mut pieces = text_of(stage);
            if transform != Transform::StartsWith && pieces.first() != Some(&Piece::AnyRun) {
                pieces.insert(0, Piece::AnyRun);
            }
            if transform != Transform::EndsWith && pieces.last() != Some(&Piece::AnyRun) {
                pieces.push(Piece::AnyRun);
            }
            vec![Stage::Text(pieces)]
        }
        Transform::Windash => windash(&text_of(stage))
            .ok_or_else(|| {
                invalid(format!(
                    "`|windash` on a value with more than {MAX_WINDASH_DASHES} flag dashes; split the value"
                ))
            })?
            .into_iter()
            .map(Stage::Text)
            .collect(),
        Transform::Expand => expand(&text_of(stage), placeholders, line)?
            .into_iter()
            .map(Stage::Text)
            .collect(),
        Transform::Utf16Le | Transform::Utf16Be | Transform::Utf16Bom => {
            let text = literal_text(&stage)
                .ok_or_else(|| invalid("utf16/wide cannot encode a value with wildcards".into()))?;
            let mut bytes = Vec::with_capacity(text.len() * 2 + 2);
            if transform == Transform::Utf16Bom {
                bytes.extend([0xFF, 0xFE]);
            }
            for unit in text.encode_utf16() {
                let pair = if transform == Transform::Utf16Be {
                    unit.to_be_bytes()
                } else {
                    unit.to_le_bytes()
                };
                bytes.extend(pair);
            }
            vec![Stage::Bytes(bytes)]
        }
        Transform::Base64 | Transform::Base64Offset => {
            let bytes = match &stage {
                Stage::Bytes(bytes) => bytes.clone(),
                Stage::Text(_) => literal_text(&stage)
                    .ok_or_else(|| invalid("base64 cannot encode a value with wildcards".into()))?
                    .into_bytes(),
            };
            if transform == Transform::Base64 {
                vec![literal_stage(&encode_base64(&bytes))]
            } else {
                base64_offsets(&bytes)
                    .iter()
                    .map(|text| literal_stage(text))
                    .collect()
            }
        }
    })
}

/// The text of a stage; encoded bytes are read back as UTF-8 (lossily) because
/// telemetry fields are text.
fn text_of(stage: Stage) -> Vec<Piece> {
    match stage {
        Stage::Text(pieces) => pieces,
        Stage::Bytes(bytes) => String::from_utf8_lossy(&bytes)
            .chars()
            .map(Piece::Char)
            .collect(),
    }
}

/// The literal text of a stage without wildcards.
fn literal_text(stage: &Stage) -> Option<String> {
    match stage {
        Stage::Bytes(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Stage::Text(pieces) => pieces
            .iter()
            .map(|piece| match piece {
                Piece::Char(c) => Some(*c),
                _ => None,
            })
            .collect(),
    }
}

fn literal_stage(text: &str) -> Stage {
    Stage::Text(text.chars().map(Piece::Char).collect())
}

/// The finished text of a stage (for values that are not patterns, like regexes).
pub(crate) fn stage_pieces(stage: Stage) -> Vec<Piece> {
    text_of(stage)
}

fn encode_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The three encodings of a value at byte offsets 0, 1 and 2 of a base64 stream,
/// trimmed to the characters that do not depend on the surrounding bytes.
pub(crate) fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|shift| {
            let mut shifted = vec![b' '; shift];
            shifted.extend_from_slice(bytes);
            let encoded = encode_base64(&shifted);
            let trim = END_TRIM[(bytes.len() + shift) % 3];
            let end = encoded.len().saturating_sub(trim);
            encoded
                .get(START[shift]..end)
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// The characters Windows accepts as the dash of a command-line flag.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// More flag dashes than this in one value would explode into too many variants
/// (5^n); such a value is rejected rather than silently matched on fewer.
const MAX_WINDASH_DASHES: usize = 4;

/// Every variant of the value with each flag dash (a `-` or `/` that starts a word)
/// replaced by each of the [`DASHES`]; `None` past [`MAX_WINDASH_DASHES`] dashes.
fn windash(pieces: &[Piece]) -> Option<Vec<Vec<Piece>>> {
    let is_word = |piece: Option<&Piece>| matches!(piece, Some(Piece::Char(c)) if c.is_alphanumeric() || *c == '_');
    let positions: Vec<usize> = (0..pieces.len())
        .filter(|&at| {
            matches!(pieces[at], Piece::Char('-' | '/'))
                && !is_word(at.checked_sub(1).and_then(|before| pieces.get(before)))
                && is_word(pieces.get(at + 1))
        })
        .collect();
    if positions.len() > MAX_WINDASH_DASHES {
        return None;
    }
    let mut variants = vec![pieces.to_vec()];
    for at in positions {
        variants = variants
            .into_iter()
            .flat_map(|variant| {
                DASHES.iter().map(move |dash| {
                    let mut copy = variant.clone();
                    copy[at] = Piece::Char(*dash);
                    copy
                })
            })
            .collect();
    }
    Some(variants)
}

/// Replaces `%name%` placeholders with their values (each a Sigma string); `\%` is a
/// literal percent sign, and by the time pieces reach here `\` is already literal.
fn expand(
    pieces: &[Piece],
    placeholders: &dyn Fn(&str) -> Option<Vec<String>>,
    line: usize,
) -> Result<Vec<Vec<Piece>>, Problem> {
    let mut variants: Vec<Vec<Piece>> = vec![Vec::new()];
    let mut at = 0;
    while at < pieces.len() {
        let piece = pieces[at];
        if piece == Piece::Char('\\') && pieces.get(at + 1) == Some(&Piece::Char('%')) {
            variants.iter_mut().for_each(|v| v.push(Piece::Char('%')));
            at += 2;
            continue;
        }
        let closing = (piece == Piece::Char('%'))
            .then(|| pieces[at + 1..].iter().position(|p| *p == Piece::Char('%')))
            .flatten();
        let Some(length) = closing else {
            variants.iter_mut().for_each(|v| v.push(piece));
            at += 1;
            continue;
        };
        let name: String = pieces[at + 1..at + 1 + length]
            .iter()
            .map(|p| match p {
                Piece::Char(c) => *c,
                Piece::AnyRun => '*',
                Piece::AnyChar => '?',
            })
            .collect();
        let values = placeholders(&name).ok_or_else(|| {
            Problem::new(
                DiagnosticKind::Placeholder,
                line,
                format!("placeholder `%{name}%` has no values to expand to; give it values when loading (`--placeholder NAME=VALUE` or `--placeholders FILE`)"),
            )
        })?;
        variants = variants
            .into_iter()
            .flat_map(|prefix| {
                values.iter().map(move |value| {
                    let mut joined = prefix.clone();
                    joined.extend(parse_sigma_string(value));
                    joined
                })
            })
            .collect();
        at += length + 2;
    }
    Ok(variants)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pieces: &[Piece]) -> String {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Char(c) => *c,
                Piece::AnyRun => '*',
                Piece::AnyChar => '?',
            })
            .collect()
    }

    #[test]
    fn base64_offsets_match_the_known_encodings() {
        // The three shifted encodings of "/bin/sh" used by SigmaHQ rules.
        assert_eq!(
            base64_offsets(b"/bin/sh"),
            vec!["L2Jpbi9za", "9iaW4vc2", "vYmluL3No"]
        );
    }

    #[test]
    fn windash_replaces_only_flag_dashes() {
        let variants = windash(&parse_sigma_string(" -enc a-b")).unwrap_or_default();
        let texts: Vec<String> = variants.iter().map(|v| text(v)).collect();
        assert_eq!(
            texts,
            vec![
                " -enc a-b",
                " /enc a-b",
                " \u{2013}enc a-b",
                " \u{2014}enc a-b",
                " \u{2015}enc a-b"
            ]
        );
        assert_eq!(windash(&parse_sigma_string("-a -b -c -d -e")), None);
    }

    #[test]
    fn escapes() {
        let pieces = parse_sigma_string(r"a\*b\\*c\d?");
        assert_eq!(text(&pieces), r"a*b\*c\d?");
        assert_eq!(pieces[1], Piece::Char('*'));
        assert_eq!(pieces[4], Piece::AnyRun);
        assert_eq!(pieces[8], Piece::AnyChar);
    }

    #[test]
    fn keys_and_bad_modifiers() {
        let Ok((field, modifiers)) = parse_key("CommandLine|contains|all|windash", 3) else {
            panic!("valid key rejected");
        };
        assert_eq!(field, "CommandLine");
        assert!(modifiers.all);
        assert_eq!(
            modifiers.transforms,
            vec![Transform::Contains, Transform::Windash]
        );
        let cases = [
            ("A|foo", DiagnosticKind::UnknownModifier),
            ("A|i", DiagnosticKind::InvalidModifier),
            ("A|re|cidr", DiagnosticKind::InvalidModifier),
            ("A|exists|contains", DiagnosticKind::InvalidModifier),
            ("A|re|contains", DiagnosticKind::InvalidModifier),
        ];
        for (key, kind) in cases {
            assert_eq!(
                parse_key(key, 7).map_err(|p| (p.kind, p.line)),
                Err((kind, 7)),
                "{key}"
            );
        }
    }
}
