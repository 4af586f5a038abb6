//! Sigma wildcard globs (`*` any run, `?` one character) over already-lowered text.
//!
//! The reference evaluator backtracks recursively over a `Vec<char>`; here the classic
//! two-pointer algorithm with one saved star position does the same in linear time on
//! typical patterns and allocates nothing, which matters because globs are evaluated
//! on the hot path.

use rampart_sigma::GlobPart;

/// One glob token, literal text already case-folded as the rule asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// One literal character.
    Char(char),
    /// `?`
    AnyChar,
    /// `*`
    AnyRun,
}

/// A compiled glob: a flat token list.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    /// Builds a glob from the sigma crate's parts, lower-casing literal runs when the
    /// pattern is case-insensitive (each run on its own, as the reference does).
    pub(crate) fn new(parts: &[GlobPart], lower: bool) -> Self {
        let mut tokens = Vec::new();
        for part in parts {
            match part {
                GlobPart::Literal(text) if lower => {
                    tokens.extend(text.to_lowercase().chars().map(Token::Char));
                }
                GlobPart::Literal(text) => tokens.extend(text.chars().map(Token::Char)),
                GlobPart::AnyChar => tokens.push(Token::AnyChar),
                GlobPart::AnyRun => tokens.push(Token::AnyRun),
            }
        }
        Self { tokens }
    }

    /// Whether the whole of `text` matches.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let tokens = &self.tokens;
        let mut t = 0;
        // After a `*`: the token index after it and where in `text` to retry from.
        let mut star: Option<(usize, usize)> = None;
        let mut pos = 0;
        loop {
            let next = text[pos..].chars().next();
            match (tokens.get(t), next) {
                (Some(Token::AnyRun), _) => {
                    t += 1;
                    star = Some((t, pos));
                    continue;
                }
                (Some(Token::AnyChar), Some(c)) => {
                    t += 1;
                    pos += c.len_utf8();
                    continue;
                }
                (Some(Token::Char(want)), Some(c)) if *want == c => {
                    t += 1;
                    pos += c.len_utf8();
                    continue;
                }
                (None, None) => return true,
                _ => {}
            }
            // Mismatch: let the last `*` swallow one more character, or fail.
            match star {
                Some((after, from)) => match text[from..].chars().next() {
                    Some(c) => {
                        let retry = from + c.len_utf8();
                        star = Some((after, retry));
                        t = after;
                        pos = retry;
                    }
                    None => return false,
                },
                None => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(text: &str) -> Glob {
        let pattern = rampart_sigma::ValuePattern {
            op: rampart_sigma::StringOp::Wildcard,
            text: text.to_owned(),
            regex: None,
            case_sensitive: false,
        };
        Glob::new(&pattern.glob_parts(), true)
    }

    #[test]
    fn stars_and_question_marks() {
        assert!(glob("a*b?d").matches("axxbcd"));
        assert!(glob("a*b?d").matches("abxd"));
        assert!(!glob("a*b?d").matches("abd"));
        assert!(glob("*").matches(""));
        assert!(glob("*.exe*x").matches("c:\\a.exe\\b.exe_x"));
        assert!(!glob("*.exe*x").matches("c:\\a.ex"));
        assert!(glob("?").matches("é"));
        assert!(!glob("??").matches("é"));
        assert!(glob("a\\*b").matches("a*b"));
        assert!(!glob("a\\*b").matches("axb"));
        assert!(glob("FOO*").matches("foobar"), "literal runs are lowered");
    }
}
