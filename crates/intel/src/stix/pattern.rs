//! The STIX 2.1 patterning language: a parser ([`parse`]) following the OASIS ANTLR
//! grammar `STIXPattern.g4` token for token, and [`to_observables`], which turns a
//! pattern Rampart can evaluate into alternatives of observables.
//!
//! Hand-written recursive descent: the Rust crates that parse STIX patterns come
//! inside young, whole-STIX object libraries; the grammar is small, and its lexical
//! rules (longest match, `h'…'` / `b'…'` / `t'…'` literals, identifiers with and
//! without hyphens) are followed here exactly. Besides the grammar, [`parse`] checks
//! what the published validator checks: no qualifier type twice directly on one
//! observation, hash values of known algorithms well-formed, a pattern that opens with
//! its `[` (after any `(`). A test holds the parser to that validator on several
//! hundred patterns.
//!
//! Nesting is bounded ([`MAX_DEPTH`]) so hostile patterns cannot exhaust the stack.

use std::fmt;

use crate::model::{DiagnosticKind, Observable, ObservableKind};
use crate::normalize::normalize;

/// Deepest nesting of parentheses and brackets accepted.
pub const MAX_DEPTH: usize = 64;

/// Most alternatives [`to_observables`] expands a pattern into (ANDs of ORs multiply).
pub const MAX_ALTERNATIVES: usize = 4096;

/// A parsed pattern: its observation expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The top observation expression.
    pub expression: ObservationExpr,
}

/// An observation expression: observations (`[…]`) joined and qualified.
///
/// Chains of one operator are held flat (`a OR b OR c` is one `Or` of three), and a
/// run of qualifiers is one `Qualified`, so the tree is only as deep as the pattern's
/// parentheses — which [`MAX_DEPTH`] bounds — however long the pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationExpr {
    /// `[comparison]`: one observed-data object.
    Observation(ComparisonExpr),
    /// `a AND b AND …`: all observed.
    And(Vec<ObservationExpr>),
    /// `a OR b OR …`: any observed.
    Or(Vec<ObservationExpr>),
    /// `a FOLLOWEDBY b FOLLOWEDBY …`: in that order.
    FollowedBy(Vec<ObservationExpr>),
    /// An expression with its qualifiers, in the order written.
    Qualified(Box<ObservationExpr>, Vec<Qualifier>),
    /// `( … )`, kept so qualifier rules can tell a group from a single observation.
    Group(Box<ObservationExpr>),
}

/// A qualifier on an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS` (the number as written).
    Within(String),
    /// `REPEATS n TIMES` (the number as written).
    Repeats(String),
    /// `START t'…' STOP t'…'` (the timestamps as written).
    StartStop(String, String),
}

/// A comparison expression inside one observation (chains held flat, as for
/// [`ObservationExpr`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonExpr {
    /// All hold.
    And(Vec<ComparisonExpr>),
    /// Any holds.
    Or(Vec<ComparisonExpr>),
    /// One property test.
    Test(PropertyTest),
}

/// `path [NOT] operator value`, or `[NOT] EXISTS path`.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyTest {
    /// The object path tested.
    pub path: ObjectPath,
    /// Whether the test is negated with `NOT`.
    pub negated: bool,
    /// The comparison.
    pub operator: Operator,
}

/// A comparison operator with its operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Operator {
    /// `=` or `==`.
    Equal(Literal),
    /// `!=` or `<>`.
    NotEqual(Literal),
    /// `>`.
    Greater(Literal),
    /// `<`.
    Less(Literal),
    /// `>=`.
    GreaterOrEqual(Literal),
    /// `<=`.
    LessOrEqual(Literal),
    /// `IN (…)`.
    In(Vec<Literal>),
    /// `LIKE '…'`.
    Like(String),
    /// `MATCHES '…'`.
    Matches(String),
    /// `ISSUBSET '…'`.
    IsSubset(String),
    /// `ISSUPERSET '…'`.
    IsSuperset(String),
    /// `EXISTS`.
    Exists,
}

/// An object path: `file:hashes.'SHA-256'`, `email-message:to_refs[*].value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPath {
    /// The object type (`file`, `ipv4-addr`).
    pub object_type: String,
    /// Its steps, the first always a key.
    pub steps: Vec<PathStep>,
}

/// One step of an object path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// A property (quotes removed).
    Key(String),
    /// A list index (`[0]`, `[-1]`).
    Index(String),
    /// Any list element (`[*]`).
    AnyIndex,
}

/// A literal value, numbers and timestamps as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A string (escapes resolved).
    String(String),
    /// An integer.
    Int(String),
    /// A floating-point number.
    Float(String),
    /// `true` / `false`.
    Bool(bool),
    /// `h'…'` (the hex digits).
    Hex(String),
    /// `b'…'` (the base64 text).
    Binary(String),
    /// `t'…'` (the timestamp text).
    Timestamp(String),
}

/// A pattern that does not follow the grammar (or the validator's rules).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("STIX pattern syntax error at character {position}: {message}")]
pub struct SyntaxError {
    /// Character offset of the error, from 0.
    pub position: usize,
    /// What was expected or found.
    pub message: String,
}

/// Why [`to_observables`] cannot turn a pattern into observables: the indicator is
/// left out whole, with a diagnostic of [`Unsupported::kind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Unsupported {
    /// `UnsupportedPattern` for constructs and paths Rampart does not evaluate,
    /// `InvalidValue` for a value invalid for its kind.
    pub kind: DiagnosticKind,
    /// What is not supported.
    pub reason: String,
}

impl Unsupported {
    fn construct(reason: impl Into<String>) -> Self {
        Unsupported {
            kind: DiagnosticKind::UnsupportedPattern,
            reason: reason.into(),
        }
    }
}

// ---------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Token {
    LBracket,
    RBracket,
    LParen,
    RParen,
    Colon,
    Dot,
    Comma,
    Asterisk,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Keyword(Keyword),
    Bool(bool),
    /// An identifier and whether it contains a hyphen.
    Identifier(String, bool),
    String(String),
    /// Integer text and whether it is negative.
    Int(String, bool),
    /// Float text and whether it is negative.
    Float(String, bool),
    Hex(String),
    Binary(String),
    Timestamp(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    And,
    Or,
    Not,
    FollowedBy,
    Like,
    Matches,
    IsSuperset,
    IsSubset,
    Exists,
    Last,
    In,
    Start,
    Stop,
    Seconds,
    Within,
    Repeats,
    Times,
}

fn keyword(word: &str) -> Option<Keyword> {
    Some(match word {
        "AND" => Keyword::And,
        "OR" => Keyword::Or,
        "NOT" => Keyword::Not,
        "FOLLOWEDBY" => Keyword::FollowedBy,
        "LIKE" => Keyword::Like,
        "MATCHES" => Keyword::Matches,
        "ISSUPERSET" => Keyword::IsSuperset,
        "ISSUBSET" => Keyword::IsSubset,
        "EXISTS" => Keyword::Exists,
        "LAST" => Keyword::Last,
        "IN" => Keyword::In,
        "START" => Keyword::Start,
        "STOP" => Keyword::Stop,
        "SECONDS" => Keyword::Seconds,
        "WITHIN" => Keyword::Within,
        "REPEATS" => Keyword::Repeats,
        "TIMES" => Keyword::Times,
        _ => return None,
    })
}

/// The grammar's whitespace (`WS`).
fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\r'
            | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

struct Lexer {
    chars: Vec<char>,
    at: usize,
}

fn syntax(position: usize, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        position,
        message: message.into(),
    }
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn tokens(mut self) -> Result<Vec<(Token, usize)>, SyntaxError> {
        let mut out = Vec::new();
        while let Some(c) = self.peek(0) {
            let start = self.at;
            if is_space(c) {
                self.at += 1;
                continue;
            }
            if c == '/' && self.peek(1) == Some('*') {
                let mut end = self.at + 2;
                loop {
                    match (self.chars.get(end), self.chars.get(end + 1)) {
                        (Some('*'), Some('/')) => break,
                        (Some(_), _) => end += 1,
                        (None, _) => return Err(syntax(start, "comment not closed")),
                    }
                }
                self.at = end + 2;
                continue;
            }
            if c == '/' && self.peek(1) == Some('/') {
                while self.peek(0).is_some_and(|c| c != '\r' && c != '\n') {
                    self.at += 1;
                }
                continue;
            }
            let token = self.token(c)?;
            out.push((token, start));
        }
        Ok(out)
    }

    fn token(&mut self, c: char) -> Result<Token, SyntaxError> {
        let start = self.at;
        let single = |lexer: &mut Self, token| {
            lexer.at += 1;
            Ok(token)
        };
        match c {
            '[' => single(self, Token::LBracket),
            ']' => single(self, Token::RBracket),
            '(' => single(self, Token::LParen),
            ')' => single(self, Token::RParen),
            ':' => single(self, Token::Colon),
            ',' => single(self, Token::Comma),
            '*' => single(self, Token::Asterisk),
            '=' => {
                self.at += if self.peek(1) == Some('=') { 2 } else { 1 };
                Ok(Token::Equal)
            }
            '!' if self.peek(1) == Some('=') => {
                self.at += 2;
                Ok(Token::NotEqual)
            }
            '<' => match self.peek(1) {
                Some('>') => {
                    self.at += 2;
                    Ok(Token::NotEqual)
                }
                Some('=') => {
                    self.at += 2;
                    Ok(Token::LessOrEqual)
                }
                _ => single(self, Token::Less),
            },
            '>' => {
                if self.peek(1) == Some('=') {
                    self.at += 2;
                    Ok(Token::GreaterOrEqual)
                } else {
                    single(self, Token::Greater)
                }
            }
            '\'' => self.string().map(Token::String),
            '+' | '-' | '.' | '0'..='9' => self.number(),
            'h' | 'b' | 't' if self.peek(1) == Some('\'') => self.prefixed_literal(c),
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = self.at + 1;
                let mut hyphen = false;
                while let Some(&next) = self.chars.get(end) {
                    if next.is_ascii_alphanumeric() || next == '_' {
                        end += 1;
                    } else if next == '-' {
                        hyphen = true;
                        end += 1;
                    } else {
                        break;
                    }
                }
                let word: String = self.chars[self.at..end].iter().collect();
                self.at = end;
                if !hyphen {
                    if let Some(keyword) = keyword(&word) {
                        return Ok(Token::Keyword(keyword));
                    }
                    match word.as_str() {
                        "true" => return Ok(Token::Bool(true)),
                        "false" => return Ok(Token::Bool(false)),
                        _ => {}
                    }
                }
                Ok(Token::Identifier(word, hyphen))
            }
            other => Err(syntax(start, format!("unexpected character {other:?}"))),
        }
    }

    /// A quoted string from the quote at the cursor; only `\'` and `\\` are escapes.
    fn string(&mut self) -> Result<String, SyntaxError> {
        let start = self.at;
        self.at += 1;
        let mut out = String::new();
        loop {
            match self.peek(0) {
                None => return Err(syntax(start, "string not closed")),
                Some('\'') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some('\\') => match self.peek(1) {
                    Some(escaped @ ('\'' | '\\')) => {
                        out.push(escaped);
                        self.at += 2;
                    }
                    _ => return Err(syntax(self.at, "a backslash escapes only ' and \\")),
                },
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
    }

    /// Numbers as the grammar's longest match cuts them: `-`/`+` sign, a float when a
    /// `.` and digits follow, else an integer (`0`, or digits not starting with `0`).
    fn number(&mut self) -> Result<Token, SyntaxError> {
        let start = self.at;
        let mut at = self.at;
        let negative = match self.chars[at] {
            '-' => {
                at += 1;
                true
            }
            '+' => {
                at += 1;
                false
            }
            _ => false,
        };
        let digits_start = at;
        while self.chars.get(at).is_some_and(char::is_ascii_digit) {
            at += 1;
        }
        let digits_end = at;
        if self.chars.get(at) == Some(&'.')
            && self.chars.get(at + 1).is_some_and(char::is_ascii_digit)
        {
            at += 1;
            while self.chars.get(at).is_some_and(char::is_ascii_digit) {
                at += 1;
            }
            let text: String = self.chars[start..at].iter().collect();
            self.at = at;
            return Ok(Token::Float(text, negative));
        }
        if digits_end == digits_start {
            if self.chars[start] == '.' {
                self.at += 1;
                return Ok(Token::Dot);
            }
            return Err(syntax(start, "a sign without a number"));
        }
        let end = if self.chars[digits_start] == '0' {
            digits_start + 1
        } else {
            digits_end
        };
        let text: String = self.chars[start..end].iter().collect();
        self.at = end;
        Ok(Token::Int(text, negative))
    }

    /// `h'…'`, `b'…'` or `t'…'` at the cursor.
    fn prefixed_literal(&mut self, prefix: char) -> Result<Token, SyntaxError> {
        let start = self.at;
        let close = (self.at + 2..self.chars.len()).find(|&i| self.chars[i] == '\'');
        let Some(close) = close else {
            return Err(syntax(start, "literal not closed"));
        };
        let body: String = self.chars[self.at + 2..close].iter().collect();
        let token = match prefix {
            'h' if body.len().is_multiple_of(2) && body.chars().all(|c| c.is_ascii_hexdigit()) => {
                Token::Hex(body)
            }
            'b' if is_base64(&body) => Token::Binary(body),
            't' if is_timestamp(&body) => Token::Timestamp(body),
            'h' => return Err(syntax(start, "h'…' holds pairs of hex digits")),
            'b' => return Err(syntax(start, "b'…' holds base64 text")),
            _ => {
                return Err(syntax(
                    start,
                    "t'…' holds a timestamp YYYY-MM-DDTHH:MM:SS[.s]Z",
                ))
            }
        };
        self.at = close + 1;
        Ok(token)
    }
}

/// Base64 as the grammar has it: whole groups of four, the last possibly padded, at
/// least one group.
fn is_base64(body: &str) -> bool {
    let bytes = body.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return false;
    }
    let is_char = |b: &u8| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/';
    let (head, last) = bytes.split_at(bytes.len() - 4);
    head.iter().all(is_char)
        && match last {
            [a, b, b'=', b'='] => is_char(a) && is_char(b),
            [a, b, c, b'='] => is_char(a) && is_char(b) && is_char(c),
            other => other.iter().all(is_char),
        }
}

/// A timestamp as the grammar has it: `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, each field in
/// its range (seconds up to 60).
fn is_timestamp(body: &str) -> bool {
    let b = body.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let num = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    if b.len() < 20 || !(0..4).all(digit) || b[4] != b'-' {
        return false;
    }
    let fixed = [5, 6, 8, 9, 11, 12, 14, 15, 17, 18].into_iter().all(digit)
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':';
    if !fixed {
        return false;
    }
    let (month, day, hour, minute, second) = (num(5), num(8), num(11), num(14), num(17));
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return false;
    }
    match &b[19..] {
        [b'Z'] => true,
        [b'.', rest @ .., b'Z'] => !rest.is_empty() && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------
// Parser

struct Parser {
    tokens: Vec<(Token, usize)>,
    at: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(token, _)| token)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(_, at)| *at)
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        syntax(self.position(), message)
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &Token, what: &str) -> Result<(), SyntaxError> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(format!("expected {what}")))
        }
    }

    fn eat_keyword(&mut self, keyword: Keyword) -> bool {
        self.eat(&Token::Keyword(keyword))
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    /// `operand (keyword operand)*`, flat: the operand alone, or `join` of all.
    fn chain<T>(
        &mut self,
        keyword: Keyword,
        operand: fn(&mut Self) -> Result<T, SyntaxError>,
        join: fn(Vec<T>) -> T,
    ) -> Result<T, SyntaxError> {
        let first = operand(self)?;
        if self.peek() != Some(&Token::Keyword(keyword)) {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.eat_keyword(keyword) {
            operands.push(operand(self)?);
        }
        Ok(join(operands))
    }

    fn followed_by(&mut self) -> Result<ObservationExpr, SyntaxError> {
        self.chain(Keyword::FollowedBy, Self::or, ObservationExpr::FollowedBy)
    }

    fn or(&mut self) -> Result<ObservationExpr, SyntaxError> {
        self.chain(Keyword::Or, Self::and, ObservationExpr::Or)
    }

    fn and(&mut self) -> Result<ObservationExpr, SyntaxError> {
        self.chain(Keyword::And, Self::qualified, ObservationExpr::And)
    }

    fn qualified(&mut self) -> Result<ObservationExpr, SyntaxError> {
        let expression = self.observation()?;
        let mut qualifiers = Vec::new();
        // The validator's rule: directly on a `[…]` observation, each qualifier type
        // at most once (a parenthesised group may take any).
        let checks_repeats = matches!(expression, ObservationExpr::Observation(_));
        let mut seen = [false; 3];
        loop {
            let position = self.position();
            let (qualifier, slot) = if self.eat_keyword(Keyword::Within) {
                let seconds = match self.peek() {
                    Some(Token::Int(text, false) | Token::Float(text, false)) => text.clone(),
                    _ => return Err(self.error("expected a positive number of seconds")),
                };
                self.at += 1;
                if !self.eat_keyword(Keyword::Seconds) {
                    return Err(self.error("expected SECONDS"));
                }
                (Qualifier::Within(seconds), 0)
            } else if self.eat_keyword(Keyword::Repeats) {
                let times = match self.peek() {
                    Some(Token::Int(text, false)) => text.clone(),
                    _ => return Err(self.error("expected a positive integer")),
                };
                self.at += 1;
                if !self.eat_keyword(Keyword::Times) {
                    return Err(self.error("expected TIMES"));
                }
                (Qualifier::Repeats(times), 1)
            } else if self.eat_keyword(Keyword::Start) {
                let start = self.timestamp()?;
                if !self.eat_keyword(Keyword::Stop) {
                    return Err(self.error("expected STOP"));
                }
                let stop = self.timestamp()?;
                (Qualifier::StartStop(start, stop), 2)
            } else if qualifiers.is_empty() {
                return Ok(expression);
            } else {
                return Ok(ObservationExpr::Qualified(Box::new(expression), qualifiers));
            };
            if checks_repeats {
                if seen[slot] {
                    return Err(syntax(
                        position,
                        "the same qualifier twice on one observation",
                    ));
                }
                seen[slot] = true;
            }
            qualifiers.push(qualifier);
        }
    }

    fn timestamp(&mut self) -> Result<String, SyntaxError> {
        match self.peek() {
            Some(Token::Timestamp(text)) => {
                let text = text.clone();
                self.at += 1;
                Ok(text)
            }
            _ => Err(self.error("expected a timestamp t'…'")),
        }
    }

    fn observation(&mut self) -> Result<ObservationExpr, SyntaxError> {
        if self.eat(&Token::LBracket) {
            self.enter()?;
            let comparison = self.comparison_or()?;
            self.expect(&Token::RBracket, "] closing the observation")?;
            self.depth -= 1;
            return Ok(ObservationExpr::Observation(comparison));
        }
        if self.eat(&Token::LParen) {
            self.enter()?;
            let inner = self.followed_by()?;
            self.expect(&Token::RParen, ") closing the group")?;
            self.depth -= 1;
            return Ok(ObservationExpr::Group(Box::new(inner)));
        }
        Err(self.error("expected [ or ( opening an observation expression"))
    }

    fn comparison_or(&mut self) -> Result<ComparisonExpr, SyntaxError> {
        self.chain(Keyword::Or, Self::comparison_and, ComparisonExpr::Or)
    }

    fn comparison_and(&mut self) -> Result<ComparisonExpr, SyntaxError> {
        self.chain(Keyword::And, Self::property_test, ComparisonExpr::And)
    }

    fn property_test(&mut self) -> Result<ComparisonExpr, SyntaxError> {
        if self.eat(&Token::LParen) {
            self.enter()?;
            let inner = self.comparison_or()?;
            self.expect(&Token::RParen, ") closing the comparison")?;
            self.depth -= 1;
            return Ok(inner);
        }
        let negated_exists = self.peek() == Some(&Token::Keyword(Keyword::Not));
        if negated_exists
            && self.tokens.get(self.at + 1).map(|(t, _)| t)
                == Some(&Token::Keyword(Keyword::Exists))
        {
            self.at += 2;
            let path = self.object_path()?;
            return Ok(ComparisonExpr::Test(PropertyTest {
                path,
                negated: true,
                operator: Operator::Exists,
            }));
        }
        if self.eat_keyword(Keyword::Exists) {
            let path = self.object_path()?;
            return Ok(ComparisonExpr::Test(PropertyTest {
                path,
                negated: false,
                operator: Operator::Exists,
            }));
        }
        let path = self.object_path()?;
        let negated = self.eat_keyword(Keyword::Not);
        let operator_position = self.position();
        let Some(token) = self.peek().cloned() else {
            return Err(self.error("expected a comparison operator"));
        };
        self.at += 1;
        let operator = match token {
            Token::Equal => Operator::Equal(self.primitive()?),
            Token::NotEqual => Operator::NotEqual(self.primitive()?),
            Token::Greater => Operator::Greater(self.orderable()?),
            Token::Less => Operator::Less(self.orderable()?),
            Token::GreaterOrEqual => Operator::GreaterOrEqual(self.orderable()?),
            Token::LessOrEqual => Operator::LessOrEqual(self.orderable()?),
            Token::Keyword(Keyword::In) => Operator::In(self.set()?),
            Token::Keyword(Keyword::Like) => Operator::Like(self.string()?),
            Token::Keyword(Keyword::Matches) => Operator::Matches(self.string()?),
            Token::Keyword(Keyword::IsSubset) => Operator::IsSubset(self.string()?),
            Token::Keyword(Keyword::IsSuperset) => Operator::IsSuperset(self.string()?),
            _ => return Err(syntax(operator_position, "expected a comparison operator")),
        };
        check_hash_value(&path, &operator, operator_position)?;
        Ok(ComparisonExpr::Test(PropertyTest {
            path,
            negated,
            operator,
        }))
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        match self.peek() {
            Some(Token::String(text)) => {
                let text = text.clone();
                self.at += 1;
                Ok(text)
            }
            _ => Err(self.error("expected a quoted string")),
        }
    }

    fn set(&mut self) -> Result<Vec<Literal>, SyntaxError> {
        self.expect(&Token::LParen, "( opening the set")?;
        let mut values = Vec::new();
        if self.eat(&Token::RParen) {
            return Ok(values);
        }
        loop {
            values.push(self.primitive()?);
            if self.eat(&Token::RParen) {
                return Ok(values);
            }
            self.expect(&Token::Comma, ", or ) in the set")?;
        }
    }

    fn primitive(&mut self) -> Result<Literal, SyntaxError> {
        if let Some(Token::Bool(value)) = self.peek() {
            let value = *value;
            self.at += 1;
            return Ok(Literal::Bool(value));
        }
        self.orderable()
    }

    fn orderable(&mut self) -> Result<Literal, SyntaxError> {
        let literal = match self.peek() {
            Some(Token::String(text)) => Literal::String(text.clone()),
            Some(Token::Int(text, _)) => Literal::Int(text.clone()),
            Some(Token::Float(text, _)) => Literal::Float(text.clone()),
            Some(Token::Hex(text)) => Literal::Hex(text.clone()),
            Some(Token::Binary(text)) => Literal::Binary(text.clone()),
            Some(Token::Timestamp(text)) => Literal::Timestamp(text.clone()),
            _ => return Err(self.error("expected a literal value")),
        };
        self.at += 1;
        Ok(literal)
    }

    fn object_path(&mut self) -> Result<ObjectPath, SyntaxError> {
        let object_type = match self.peek() {
            Some(Token::Identifier(name, _)) => name.clone(),
            _ => return Err(self.error("expected an object type")),
        };
        self.at += 1;
        self.expect(&Token::Colon, ": after the object type")?;
        let mut steps = vec![PathStep::Key(self.key()?)];
        loop {
            if self.eat(&Token::Dot) {
                steps.push(PathStep::Key(self.key()?));
            } else if self.peek() == Some(&Token::LBracket) {
                let step = match self.tokens.get(self.at + 1).map(|(t, _)| t) {
                    Some(Token::Int(text, _)) => PathStep::Index(text.clone()),
                    Some(Token::Asterisk) => PathStep::AnyIndex,
                    _ => return Ok(ObjectPath { object_type, steps }),
                };
                self.at += 2;
                self.expect(&Token::RBracket, "] closing the index")?;
                steps.push(step);
            } else {
                return Ok(ObjectPath { object_type, steps });
            }
        }
    }

    /// A property name: an identifier without hyphen, or a quoted string.
    fn key(&mut self) -> Result<String, SyntaxError> {
        let key = match self.peek() {
            Some(Token::Identifier(name, false)) => name.clone(),
            Some(Token::String(text)) => text.clone(),
            Some(Token::Identifier(_, true)) => {
                return Err(self.error("a property name with a hyphen must be quoted"))
            }
            _ => return Err(self.error("expected a property name")),
        };
        self.at += 1;
        Ok(key)
    }
}

/// Hash algorithms whose values the validator checks, keyed by the name upper-cased
/// without hyphens, with the hex lengths allowed (empty: SSDEEP, checked apart).
const HASH_VALUE_RULES: [(&str, &[usize]); 14] = [
    ("MD5", &[32]),
    ("MD6", &[]),
    ("RIPEMD160", &[40]),
    ("SHA1", &[40]),
    ("SHA224", &[56]),
    ("SHA256", &[64]),
    ("SHA384", &[96]),
    ("SHA512", &[128]),
    ("SHA3224", &[56]),
    ("SHA3256", &[64]),
    ("SHA3384", &[96]),
    ("SHA3512", &[128]),
    ("SSDEEP", &[]),
    ("WHIRLPOOL", &[128]),
];

/// A comparison on `….hashes.<algorithm>` must compare with a well-formed value of
/// that algorithm (the validator's rule; `IN` sets and `EXISTS` are not checked here —
/// their values are checked where they are used).
fn check_hash_value(
    path: &ObjectPath,
    operator: &Operator,
    position: usize,
) -> Result<(), SyntaxError> {
    if !path
        .steps
        .iter()
        .any(|step| step == &PathStep::Key("hashes".to_owned()))
    {
        return Ok(());
    }
    let Some(PathStep::Key(algorithm)) = path.steps.last() else {
        return Ok(());
    };
    let name = algorithm.to_ascii_uppercase().replace(['-', '\''], "");
    let Some((_, lengths)) = HASH_VALUE_RULES.iter().find(|(rule, _)| *rule == name) else {
        return Ok(());
    };
    let value = match operator {
        Operator::Equal(literal)
        | Operator::NotEqual(literal)
        | Operator::Greater(literal)
        | Operator::Less(literal)
        | Operator::GreaterOrEqual(literal)
        | Operator::LessOrEqual(literal) => literal.text_unquoted(),
        Operator::Like(text)
        | Operator::Matches(text)
        | Operator::IsSubset(text)
        | Operator::IsSuperset(text) => text.clone(),
        Operator::In(_) | Operator::Exists => return Ok(()),
    };
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    let v = value.replace('\'', "");
    let valid = match name.as_str() {
        "SSDEEP" => {
            (1..=128).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b':' | b'.'))
        }
        // The validator accepts an MD6 value that starts with 32 hex digits.
        "MD6" => v.len() >= 32 && v.as_bytes()[..32].iter().all(u8::is_ascii_hexdigit),
        _ => lengths.contains(&v.len()) && hex(&v),
    };
    if valid {
        Ok(())
    } else {
        Err(syntax(
            position,
            format!("not a valid {algorithm} hash value"),
        ))
    }
}

/// Parses a STIX 2.1 pattern.
pub fn parse(text: &str) -> Result<Pattern, SyntaxError> {
    // The validator's rule: after any opening parentheses, the first observation's `[`
    // (so no comment before it).
    match text.chars().find(|c| *c != '(' && !c.is_whitespace()) {
        Some('[') => {}
        _ => {
            return Err(syntax(
                0,
                "a pattern starts with [ (after any opening parentheses)",
            ))
        }
    }
    let lexer = Lexer {
        chars: text.chars().collect(),
        at: 0,
    };
    let end = lexer.chars.len();
    let tokens = lexer.tokens()?;
    let mut parser = Parser {
        tokens,
        at: 0,
        end,
        depth: 0,
    };
    let expression = parser.followed_by()?;
    if parser.at != parser.tokens.len() {
        return Err(parser.error("unexpected text after the pattern"));
    }
    Ok(Pattern { expression })
}

// ---------------------------------------------------------------------------------
// From pattern to observables

/// The observables a pattern stands for, as alternatives (OR) of observables that must
/// all hold in one event (AND): `[a = 1 AND b = 2] OR [c = 3]` gives `[[a, b], [c]]`.
/// Only what Rampart evaluates exactly: `=` and `IN` on mapped paths (see
/// [`observable_kind`]), `AND` / `OR` inside one observation, `OR` between
/// observations. Anything else is [`Unsupported`], for the whole pattern.
pub fn to_observables(pattern: &Pattern) -> Result<Vec<Vec<Observable>>, Unsupported> {
    let mut alternatives = observation_alternatives(&pattern.expression)?;
    for alternative in &mut alternatives {
        alternative.sort();
        alternative.dedup();
    }
    alternatives.sort();
    alternatives.dedup();
    Ok(alternatives)
}

fn observation_alternatives(
    expression: &ObservationExpr,
) -> Result<Vec<Vec<Observable>>, Unsupported> {
    match expression {
        ObservationExpr::Observation(comparison) => comparison_alternatives(comparison),
        ObservationExpr::Group(inner) => observation_alternatives(inner),
        ObservationExpr::Or(operands) => {
            let mut alternatives = Vec::new();
            for operand in operands {
                alternatives.extend(observation_alternatives(operand)?);
                alternatives = capped(alternatives)?;
            }
            Ok(alternatives)
        }
        ObservationExpr::And(..) => Err(Unsupported::construct(
            "AND between observations (two events, correlated) is not evaluated",
        )),
        ObservationExpr::FollowedBy(..) => Err(Unsupported::construct(
            "FOLLOWEDBY (a sequence of events) is not evaluated",
        )),
        ObservationExpr::Qualified(_, qualifiers) => {
            let names: Vec<&str> = qualifiers
                .iter()
                .map(|qualifier| match qualifier {
                    Qualifier::Within(_) => "WITHIN",
                    Qualifier::Repeats(_) => "REPEATS",
                    Qualifier::StartStop(..) => "START … STOP",
                })
                .collect();
            Err(Unsupported::construct(format!(
                "qualifier {} is not evaluated",
                names.join(", ")
            )))
        }
    }
}

fn capped(alternatives: Vec<Vec<Observable>>) -> Result<Vec<Vec<Observable>>, Unsupported> {
    if alternatives.len() > MAX_ALTERNATIVES {
        return Err(Unsupported::construct(format!(
            "more than {MAX_ALTERNATIVES} alternatives once expanded"
        )));
    }
    Ok(alternatives)
}

fn comparison_alternatives(
    comparison: &ComparisonExpr,
) -> Result<Vec<Vec<Observable>>, Unsupported> {
    match comparison {
        ComparisonExpr::Or(operands) => {
            let mut alternatives = Vec::new();
            for operand in operands {
                alternatives.extend(comparison_alternatives(operand)?);
                alternatives = capped(alternatives)?;
            }
            Ok(alternatives)
        }
        ComparisonExpr::And(operands) => {
            // The cross product of the operands' alternatives.
            let mut product: Vec<Vec<Observable>> = vec![Vec::new()];
            for operand in operands {
                let right = comparison_alternatives(operand)?;
                if product.len().saturating_mul(right.len()) > MAX_ALTERNATIVES {
                    return Err(Unsupported::construct(format!(
                        "more than {MAX_ALTERNATIVES} alternatives once expanded"
                    )));
                }
                let mut next = Vec::with_capacity(product.len() * right.len());
                for a in &product {
                    for b in &right {
                        next.push(a.iter().chain(b).cloned().collect());
                    }
                }
                product = next;
            }
            Ok(product)
        }
        ComparisonExpr::Test(test) => test_alternatives(test),
    }
}

fn test_alternatives(test: &PropertyTest) -> Result<Vec<Vec<Observable>>, Unsupported> {
    let path = test.path.to_string();
    if test.negated {
        return Err(Unsupported::construct(format!(
            "NOT on {path} is not evaluated"
        )));
    }
    let values: Vec<&Literal> = match &test.operator {
        Operator::Equal(literal) => vec![literal],
        Operator::In(literals) => literals.iter().collect(),
        other => {
            return Err(Unsupported::construct(format!(
                "operator {} on {path} is not evaluated",
                other.name()
            )))
        }
    };
    let kind = observable_kind(&test.path).ok_or_else(|| {
        Unsupported::construct(format!(
            "object path {path} is not mapped to an indicator kind"
        ))
    })?;
    let mut alternatives = Vec::with_capacity(values.len());
    for literal in values {
        let Literal::String(raw) = literal else {
            return Err(Unsupported::construct(format!(
                "{path} compared with a value that is not a string"
            )));
        };
        let value = normalize(kind, raw).map_err(|error| Unsupported {
            kind: DiagnosticKind::InvalidValue,
            reason: format!("{path}: {error}"),
        })?;
        alternatives.push(vec![Observable { kind, value }]);
    }
    if alternatives.is_empty() {
        return Err(Unsupported::construct(format!(
            "{path} IN an empty set never matches"
        )));
    }
    capped(alternatives)
}

impl Literal {
    /// The literal as written, without its quotes (`h'0a'` gives `h0a`): what the
    /// validator checks hash values on.
    fn text_unquoted(&self) -> String {
        match self {
            Literal::String(text) | Literal::Int(text) | Literal::Float(text) => text.clone(),
            Literal::Bool(value) => value.to_string(),
            Literal::Hex(text) => format!("h{text}"),
            Literal::Binary(text) => format!("b{text}"),
            Literal::Timestamp(text) => format!("t{text}"),
        }
    }
}

impl Operator {
    fn name(&self) -> &'static str {
        match self {
            Operator::Equal(_) => "=",
            Operator::NotEqual(_) => "!=",
            Operator::Greater(_) => ">",
            Operator::Less(_) => "<",
            Operator::GreaterOrEqual(_) => ">=",
            Operator::LessOrEqual(_) => "<=",
            Operator::In(_) => "IN",
            Operator::Like(_) => "LIKE",
            Operator::Matches(_) => "MATCHES",
            Operator::IsSubset(_) => "ISSUBSET",
            Operator::IsSuperset(_) => "ISSUPERSET",
            Operator::Exists => "EXISTS",
        }
    }
}

/// The indicator kind an object path's values are: `file:hashes.*` (MD5, SHA-1,
/// SHA-256, SHA-512 in any of their spellings), `file:name`, `ipv4-addr:value`,
/// `ipv6-addr:value`, `domain-name:value`, `url:value`, `email-addr:value`,
/// `email-message:from_ref.value` / `sender_ref.value`, `windows-registry-key:key`,
/// `process:command_line`, `process:name` and `process:image_ref.name` (file names).
pub fn observable_kind(path: &ObjectPath) -> Option<ObservableKind> {
    let keys: Vec<&str> = path
        .steps
        .iter()
        .map(|step| match step {
            PathStep::Key(key) => Some(key.as_str()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    let kind = match (path.object_type.as_str(), keys.as_slice()) {
        ("file", ["hashes", algorithm]) => {
            match algorithm
                .to_ascii_uppercase()
                .replace(['-', '_'], "")
                .as_str()
            {
                "MD5" => ObservableKind::Md5,
                "SHA1" => ObservableKind::Sha1,
                "SHA256" => ObservableKind::Sha256,
                "SHA512" => ObservableKind::Sha512,
                _ => return None,
            }
        }
        ("file", ["name"]) => ObservableKind::FileName,
        ("ipv4-addr" | "ipv6-addr", ["value"]) => ObservableKind::Ip,
        ("domain-name", ["value"]) => ObservableKind::Domain,
        ("url", ["value"]) => ObservableKind::Url,
        ("email-addr", ["value"]) => ObservableKind::Email,
        ("email-message", ["from_ref" | "sender_ref", "value"]) => ObservableKind::Email,
        ("windows-registry-key", ["key"]) => ObservableKind::RegistryKey,
        ("process", ["command_line"]) => ObservableKind::CommandLine,
        ("process", ["name"] | ["image_ref" | "binary_ref", "name"]) => ObservableKind::FileName,
        _ => return None,
    };
    Some(kind)
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (index, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Key(key) => {
                    let plain = key
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if index > 0 {
                        f.write_str(".")?;
                    }
                    if plain {
                        f.write_str(key)?;
                    } else {
                        write!(f, "'{}'", key.replace('\\', "\\\\").replace('\'', "\\'"))?;
                    }
                }
                PathStep::Index(index) => write!(f, "[{index}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Pattern {
        match parse(text) {
            Ok(pattern) => pattern,
            Err(error) => panic!("{text}: {error}"),
        }
    }

    fn observables(text: &str) -> Result<Vec<Vec<(ObservableKind, String)>>, Unsupported> {
        to_observables(&ok(text)).map(|alternatives| {
            alternatives
                .into_iter()
                .map(|all| all.into_iter().map(|o| (o.kind, o.value)).collect())
                .collect()
        })
    }

    #[test]
    fn parses_the_spec_constructs() {
        let pattern = ok("[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']");
        let ObservationExpr::Observation(ComparisonExpr::Test(test)) = &pattern.expression else {
            panic!("{pattern:?}");
        };
        assert_eq!(test.path.object_type, "file");
        assert_eq!(
            test.path.steps,
            [
                PathStep::Key("hashes".into()),
                PathStep::Key("SHA-256".into())
            ]
        );
        ok(r"[email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\.exe$']");
        ok("([a:b = 1] AND [c:d != 'x']) FOLLOWEDBY [e:f IN ('a', 2, true)] WITHIN 600 SECONDS");
        ok("[a:b = h'0aFF'] REPEATS 5 TIMES START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00.123Z'");
        ok("[a:b[-1] NOT LIKE 'x%' AND NOT EXISTS a:c OR (x:y >= -1.5 AND x:z < b'AAA=')]");
        ok("[a:'quoted key'.x[0] ISSUBSET '198.51.100.0/24'] /* comment */ OR [b:c ISSUPERSET 'x'] // end");
    }

    #[test]
    fn rejects_what_the_grammar_rejects() {
        for bad in [
            "",
            "file:name = 'x'",
            "[file:name = 'x'",
            "[file:name = x]",
            "[file:name-x = 'x']",
            "[file:name = 007]",
            "[file:name == 'unclosed]",
            "[file:name = 'a\\b']",
            "[a:b = h'abc']",
            "[a:b = b'']",
            "[a:b = t'2016-13-01T00:00:00Z']",
            "[a:b = 1] WITHIN -5 SECONDS",
            "[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS",
            "[a:b IN 'x']",
            "[a:b LIKE 5]",
            "[a:b > true]",
            "[file:hashes.MD5 = 'not a hash']",
            "/* c */ [a:b = 1]",
            "[a:b = 1] [c:d = 2]",
            "[AND:b = 1]",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = format!("{}[a:b = 1]{}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn equalities_become_observables() {
        assert_eq!(
            observables("[file:hashes.MD5 = '001DD76872D80801692FF942308C64E6']"),
            Ok(vec![vec![(
                ObservableKind::Md5,
                "001dd76872d80801692ff942308c64e6".into()
            )]])
        );
        assert_eq!(
            observables(
                "[ipv4-addr:value = '223.166.1.1/15'] OR [domain-name:value = 'Evil.Example']"
            ),
            Ok(vec![
                vec![(ObservableKind::Ip, "223.166.0.0/15".into())],
                vec![(ObservableKind::Domain, "evil.example".into())],
            ])
        );
        assert_eq!(
            observables("[file:name = 'a.exe' AND (file:hashes.'SHA-1' = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' OR process:command_line IN ('x', 'y'))]")
                .map(|a| a.len()),
            Ok(3)
        );
        assert_eq!(
            observables("[email-message:from_ref.value = 'A@Evil.Example']"),
            Ok(vec![vec![(ObservableKind::Email, "a@evil.example".into())]])
        );
    }

    #[test]
    fn what_is_not_evaluated_is_unsupported_whole() {
        for (pattern, reason) in [
            ("[a:b = 1] FOLLOWEDBY [c:d = 2]", "FOLLOWEDBY"),
            (
                "[url:value = 'http://a.example'] AND [url:value = 'http://b.example']",
                "AND between",
            ),
            (
                "[url:value = 'http://a.example'] WITHIN 5 SECONDS",
                "WITHIN",
            ),
            ("[url:value != 'http://a.example']", "!="),
            ("[url:value LIKE 'http://%']", "LIKE"),
            (
                "[url:value = 'http://a.example' AND x509-certificate:issuer = 'CN=x']",
                "x509-certificate:issuer",
            ),
            ("[ipv4-addr:value NOT = '10.0.0.1']", "NOT"),
            ("[ipv4-addr:value = 5]", "not a string"),
        ] {
            match observables(pattern) {
                Err(error) => {
                    assert_eq!(error.kind, DiagnosticKind::UnsupportedPattern, "{pattern}");
                    assert!(error.reason.contains(reason), "{pattern}: {}", error.reason);
                }
                Ok(found) => panic!("{pattern} gave {found:?}"),
            }
        }
        let invalid = observables("[ipv4-addr:value = '999.0.0.1']");
        assert!(matches!(
            invalid,
            Err(Unsupported {
                kind: DiagnosticKind::InvalidValue,
                ..
            })
        ));
    }
}
