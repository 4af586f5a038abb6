//! The condition grammar: `or` < `and` < `not` < `x of y` < parentheses.
//!
//! A hand-written recursive-descent parser: the grammar is tiny, and a parser of our
//! own gives messages that say where the condition went wrong.

use crate::model::{Condition, Selector};
use std::fmt;

/// How deep `(` and `not` may nest. Real rules stay under ten; the parser recurses per
/// level, so without a bound a long run of `(` overflows the stack and aborts.
const MAX_NESTING: usize = 64;

/// Why a condition does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {offset} of the condition)")]
pub struct ConditionError {
    /// What is wrong.
    pub message: String,
    /// 0-based character offset in the condition text.
    pub offset: usize,
    /// Whether the condition uses a construct Sigma dropped (aggregations, `near`).
    pub unsupported: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Open,
    Close,
    Pipe,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(word) => write!(f, "`{word}`"),
            Token::Open => f.write_str("`(`"),
            Token::Close => f.write_str("`)`"),
            Token::Pipe => f.write_str("`|`"),
        }
    }
}

/// Parses one condition expression. Selectors come back with no names: they are
/// filled by [`resolve`] once the rule's searches are known.
pub fn parse_condition(text: &str) -> Result<Condition, ConditionError> {
    let tokens = tokenize(text)?;
    let mut parser = ConditionParser {
        tokens,
        position: 0,
        end: text.chars().count(),
        depth: 0,
    };
    let condition = parser.or()?;
    match parser.tokens.get(parser.position) {
        None => Ok(condition),
        Some((Token::Pipe, offset)) => Err(ConditionError {
            message: "aggregations after `|` (count(), near, …) are not Sigma 2 syntax; write a correlation rule".into(),
            offset: *offset,
            unsupported: true,
        }),
        Some((token, offset)) => Err(error(format!("unexpected {token}"), *offset)),
    }
}

fn error(message: String, offset: usize) -> ConditionError {
    ConditionError {
        message,
        offset,
        unsupported: false,
    }
}

fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, ConditionError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().enumerate().peekable();
    while let Some((offset, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => tokens.push((Token::Open, offset)),
            ')' => tokens.push((Token::Close, offset)),
            '|' => {
                // What follows a pipe is the old aggregation syntax, reported as such.
                tokens.push((Token::Pipe, offset));
                break;
            }
            c if is_word_char(c) => {
                let mut word = String::from(c);
                while let Some((_, next)) = chars.peek() {
                    if !is_word_char(*next) {
                        break;
                    }
                    word.push(*next);
                    chars.next();
                }
                tokens.push((Token::Word(word), offset));
            }
            other => return Err(error(format!("unexpected character `{other}`"), offset)),
        }
    }
    Ok(tokens)
}

/// Search identifiers are letters, digits and `_`, `-`, `.`; patterns add `*`.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '*')
}

struct ConditionParser {
    tokens: Vec<(Token, usize)>,
    position: usize,
    end: usize,
    /// `(` and `not` levels open at the current position.
    depth: usize,
}

impl ConditionParser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position).map(|(token, _)| token)
    }

    fn offset(&self) -> usize {
        self.tokens
            .get(self.position)
            .map_or(self.end, |(_, offset)| *offset)
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(word)) if word.eq_ignore_ascii_case(keyword))
    }

    /// Opens one more level of nesting, or refuses past [`MAX_NESTING`].
    fn enter(&mut self, offset: usize) -> Result<(), ConditionError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(error(
                format!("the condition is nested more than {MAX_NESTING} levels deep"),
                offset,
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Condition, ConditionError> {
        let mut items = vec![self.and()?];
        while self.peek_keyword("or") {
            self.position += 1;
            items.push(self.and()?);
        }
        Ok(flatten(items, Condition::Or))
    }

    fn and(&mut self) -> Result<Condition, ConditionError> {
        let mut items = vec![self.not()?];
        while self.peek_keyword("and") {
            self.position += 1;
            items.push(self.not()?);
        }
        Ok(flatten(items, Condition::And))
    }

    fn not(&mut self) -> Result<Condition, ConditionError> {
        if self.peek_keyword("not") {
            self.enter(self.offset())?;
            self.position += 1;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition, ConditionError> {
        let offset = self.offset();
        let Some(token) = self.peek().cloned() else {
            return Err(error(
                "the condition ends where a search was expected".into(),
                offset,
            ));
        };
        self.position += 1;
        match token {
            Token::Open => {
                self.enter(offset)?;
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(error("missing `)`".into(), self.offset()));
                }
                self.position += 1;
                self.depth -= 1;
                Ok(inner)
            }
            Token::Word(word) => {
                if self.peek_keyword("of") {
                    self.position += 1;
                    return self.quantifier(&word, offset);
                }
                let lower = word.to_ascii_lowercase();
                if matches!(
                    lower.as_str(),
                    "and" | "or" | "not" | "of" | "them" | "near"
                ) {
                    return Err(error(
                        format!("`{word}` where a search was expected"),
                        offset,
                    ));
                }
                if word.contains('*') {
                    return Err(error(
                        format!("`{word}` is a pattern; write `1 of {word}` or `all of {word}`"),
                        offset,
                    ));
                }
                Ok(Condition::Search(word))
            }
            other => Err(error(
                format!("unexpected {other} where a search was expected"),
                offset,
            )),
        }
    }

    fn quantifier(&mut self, amount: &str, offset: usize) -> Result<Condition, ConditionError> {
        let target_offset = self.offset();
        let Some(Token::Word(target)) = self.peek().cloned() else {
            return Err(error(
                format!("`{amount} of` needs `them` or a search pattern"),
                target_offset,
            ));
        };
        self.position += 1;
        let pattern = if target.eq_ignore_ascii_case("them") {
            None
        } else {
            Some(target)
        };
        let selector = Selector {
            pattern,
            names: Vec::new(),
        };
        match amount.to_ascii_lowercase().as_str() {
            "1" | "any" => Ok(Condition::OneOf(selector)),
            "all" => Ok(Condition::AllOf(selector)),
            _ => Err(ConditionError {
                message: format!("`{amount} of` is not supported; Sigma has `1 of` and `all of`"),
                offset,
                unsupported: true,
            }),
        }
    }
}

/// One item stays itself; several become the n-ary node.
fn flatten(mut items: Vec<Condition>, make: fn(Vec<Condition>) -> Condition) -> Condition {
    if items.len() == 1 {
        items.remove(0)
    } else {
        make(items)
    }
}

/// Why a parsed condition does not fit its rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResolveError {
    /// A search name the rule does not define.
    UnknownSearch(String),
    /// A quantifier whose pattern selects nothing.
    EmptySelection(String),
}

/// Checks that every named search exists and fills each selector's names.
pub(crate) fn resolve(condition: &mut Condition, searches: &[&str]) -> Result<(), ResolveError> {
    match condition {
        Condition::Search(name) => {
            if searches.contains(&name.as_str()) {
                Ok(())
            } else {
                Err(ResolveError::UnknownSearch(name.clone()))
            }
        }
        Condition::Not(inner) => resolve(inner, searches),
        Condition::And(items) | Condition::Or(items) => items
            .iter_mut()
            .try_for_each(|item| resolve(item, searches)),
        Condition::OneOf(selector) | Condition::AllOf(selector) => {
            selector.names = searches
                .iter()
                .filter(|name| match &selector.pattern {
                    None => !name.starts_with('_'),
                    Some(pattern) => name_matches(pattern, name),
                })
                .map(|name| name.to_string())
                .collect();
            if selector.names.is_empty() {
                Err(ResolveError::EmptySelection(
                    selector.pattern.clone().unwrap_or_else(|| "them".into()),
                ))
            } else {
                Ok(())
            }
        }
    }
}

/// Search-name patterns: `*` matches any run of characters, the rest is literal.
fn name_matches(pattern: &str, name: &str) -> bool {
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else {
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(name: &str) -> Condition {
        Condition::Search(name.into())
    }

    #[test]
    fn precedence_not_over_and_over_or() {
        let parsed = parse_condition("a or not b and c");
        let expected = Condition::Or(vec![
            search("a"),
            Condition::And(vec![Condition::Not(Box::new(search("b"))), search("c")]),
        ]);
        assert_eq!(parsed, Ok(expected));
        let grouped = parse_condition("(a or b) and c");
        let expected = Condition::And(vec![
            Condition::Or(vec![search("a"), search("b")]),
            search("c"),
        ]);
        assert_eq!(grouped, Ok(expected));
    }

    #[test]
    fn quantifiers() {
        let parsed = parse_condition("1 of sel* and not all of them");
        let expected = Condition::And(vec![
            Condition::OneOf(Selector {
                pattern: Some("sel*".into()),
                names: vec![],
            }),
            Condition::Not(Box::new(Condition::AllOf(Selector {
                pattern: None,
                names: vec![],
            }))),
        ]);
        assert_eq!(parsed, Ok(expected));
    }

    #[test]
    fn errors_say_where() {
        let cases = [
            ("a and", 5, false),
            ("(a or b", 7, false),
            ("a b", 2, false),
            ("sel | count() > 5", 4, true),
            ("2 of sel*", 0, true),
            ("", 0, false),
            ("a & b", 2, false),
        ];
        for (text, offset, unsupported) in cases {
            let result = parse_condition(text);
            let Err(problem) = result else {
                panic!("`{text}` parsed as {result:?}");
            };
            assert_eq!(
                (problem.offset, problem.unsupported),
                (offset, unsupported),
                "{text}: {problem}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        // Found by fuzzing: every `(` and `not` recursed, so a few thousand of them
        // overflowed the stack and aborted the whole process.
        let parens = format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000));
        let nots = format!("{}a", "not ".repeat(100_000));
        for text in [parens, nots] {
            let Err(problem) = parse_condition(&text) else {
                panic!("a condition nested 100000 deep parsed");
            };
            assert!(problem.message.contains("nested"), "{problem}");
        }
        let deepest = format!("{}a{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert_eq!(parse_condition(&deepest), Ok(search("a")));
    }

    #[test]
    fn resolves_names_and_patterns() {
        let names = ["selection_a", "selection_b", "filter", "_private"];
        let cases = [
            ("1 of selection_*", vec!["selection_a", "selection_b"]),
            ("all of them", vec!["selection_a", "selection_b", "filter"]),
            ("1 of *_b", vec!["selection_b"]),
            ("1 of _*", vec!["_private"]),
            ("1 of s*n*a", vec!["selection_a"]),
        ];
        for (text, expected) in cases {
            let mut condition = parse_condition(text).unwrap_or(Condition::Or(vec![]));
            assert_eq!(resolve(&mut condition, &names), Ok(()), "{text}");
            let (Condition::OneOf(selector) | Condition::AllOf(selector)) = condition else {
                panic!("{text} is not a quantifier");
            };
            assert_eq!(selector.names, expected, "{text}");
        }
        let mut missing = search("nope");
        assert_eq!(
            resolve(&mut missing, &names),
            Err(ResolveError::UnknownSearch("nope".into()))
        );
        let mut empty = parse_condition("1 of x*").unwrap_or(Condition::Or(vec![]));
        assert_eq!(
            resolve(&mut empty, &names),
            Err(ResolveError::EmptySelection("x*".into()))
        );
    }
}
