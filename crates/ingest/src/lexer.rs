//! A zero-copy cursor over one JSON text, for the hand-written fast path
//! ([`crate::fast_record`]).
//!
//! It accepts a strict subset of JSON and answers `None` ("not mine") on anything else:
//! a fraction or exponent, a `\u` escape, a control character in a string, nesting deeper than
//! [`MAX_DEPTH`], a syntax error. The caller then gives the whole text to the serde
//! path, which reads everything JSON allows and reports errors with their position, so
//! the fast path never has to: it only must never accept what serde would refuse.
//!
//! Strings are slices of the input unless they hold an escape. Their ends are found
//! eight bytes at a time ([`special`]); the strings of evtx_dump records are short,
//! so a search with no set-up cost beats a SIMD one that has some.

/// How deep [`Cursor::skip_value`] follows arrays and objects before giving up.
pub(crate) const MAX_DEPTH: usize = 32;

/// A position in a JSON text.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

/// A scalar as the fast path reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Scalar<'s> {
    Null,
    Bool(bool),
    Int(i64),
    /// An unsigned integer above `i64::MAX`, as written.
    Digits(&'s str),
    Str(&'s str),
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Where the first byte that ends a string's plain run (`"`, `\` or a control
/// character) sits in `bytes`, if any.
fn special(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(word) = bytes.get(at..at + 8) {
        let mut eight = [0; 8];
        eight.copy_from_slice(word);
        let word = u64::from_le_bytes(eight);
        // A byte's high bit is set when it is zero after the xor (or below 0x20):
        // exact for the lowest such byte, which is the one wanted.
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let found = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word);
        let found = found & HIGH;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)
        .map(|position| at + position)
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text`.
    pub(crate) fn new(text: &'a str) -> Self {
        Cursor { text, at: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte that is not JSON whitespace, without consuming it.
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        match bytes.get(self.at) {
            // Compact JSON: the next byte is the token.
            Some(&byte) if byte > b' ' => Some(byte),
            _ => {
                while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.at) {
                    self.at += 1;
                }
                bytes.get(self.at).copied()
            }
        }
    }

    /// Consumes `byte` (after spaces) or fails.
    pub(crate) fn expect(&mut self, byte: u8) -> Option<()> {
        if self.peek()? != byte {
            return None;
        }
        self.at += 1;
        Some(())
    }

    /// Whether only spaces are left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// After `{`: the first key, or `None` inside `Some` for an empty object.
    pub(crate) fn first_key(&mut self) -> Option<Option<&'a str>> {
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(None);
        }
        self.key().map(Some)
    }

    /// After a member's value: the next key, or `None` inside `Some` at the `}`.
    pub(crate) fn next_key(&mut self) -> Option<Option<&'a str>> {
        match self.peek()? {
            b',' => {
                self.at += 1;
                self.key().map(Some)
            }
            b'}' => {
                self.at += 1;
                Some(None)
            }
            _ => None,
        }
    }

    /// A key without escapes and its `:`.
    fn key(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.at;
        let end = start + special(&self.bytes()[start..])?;
        if self.bytes()[end] != b'"' {
            return None;
        }
        self.at = end + 1;
        self.expect(b':')?;
        self.text.get(start..end)
    }

    /// After `[`: whether there is a first element.
    pub(crate) fn first_item(&mut self) -> Option<bool> {
        if self.peek()? == b']' {
            self.at += 1;
            return Some(false);
        }
        Some(true)
    }

    /// After an element: whether another one follows.
    pub(crate) fn next_item(&mut self) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.at += 1;
                Some(true)
            }
            b']' => {
                self.at += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// A scalar value; `None` for anything else (objects, arrays, fractions,
    /// `\u` escapes). Escaped strings are decoded into `buffer`.
    pub(crate) fn scalar<'s>(&mut self, buffer: &'s mut String) -> Option<Scalar<'s>>
    where
        'a: 's,
    {
        match self.peek()? {
            b'"' => {
                self.at += 1;
                self.string_body(buffer).map(Scalar::Str)
            }
            b'-' | b'0'..=b'9' => self.integer(),
            b't' => self.literal(b"true").map(|()| Scalar::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Scalar::Bool(false)),
            b'n' => self.literal(b"null").map(|()| Scalar::Null),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if !self.bytes()[self.at..].starts_with(word) {
            return None;
        }
        self.at += word.len();
        Some(())
    }

    /// An integer, not followed by a fraction or exponent: an `i64`, or the digits
    /// of an unsigned one above `i64::MAX` (kept as text, as the reference keeps it).
    fn integer(&mut self) -> Option<Scalar<'a>> {
        let bytes = self.bytes();
        let mut at = self.at;
        let negative = bytes[at] == b'-';
        if negative {
            at += 1;
        }
        let digits_start = at;
        let mut value: u64 = 0;
        while let Some(&digit) = bytes.get(at).filter(|b| b.is_ascii_digit()) {
            value = value
                .checked_mul(10)?
                .checked_add(u64::from(digit - b'0'))?;
            at += 1;
        }
        let digits = at - digits_start;
        // JSON has no leading zeros and no bare `-`; `-0` is left to serde_json.
        if digits == 0 || (digits > 1 && bytes[digits_start] == b'0') || (negative && value == 0) {
            return None;
        }
        if matches!(bytes.get(at), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        self.at = at;
        match i64::try_from(value) {
            Ok(value) if negative => Some(Scalar::Int(-value)),
            Ok(value) => Some(Scalar::Int(value)),
            Err(_) if negative => None,
            Err(_) => self.text.get(digits_start..at).map(Scalar::Digits),
        }
    }

    /// A string's text after its opening quote, up to and past the closing one.
    fn string_body<'s>(&mut self, buffer: &'s mut String) -> Option<&'s str>
    where
        'a: 's,
    {
        let bytes = self.bytes();
        let start = self.at;
        let end = start + special(&bytes[start..])?;
        match bytes[end] {
            b'"' => {
                self.at = end + 1;
                return self.text.get(start..end);
            }
            b'\\' => {}
            _ => return None,
        }
        buffer.clear();
        let mut from = start;
        let mut at = end;
        loop {
            // `at` is a backslash; what precedes it since `from` is plain text.
            buffer.push_str(self.text.get(from..at)?);
            let unescaped = match bytes.get(at + 1)? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                // `\u` (and surrogate pairs) are left to serde_json.
                _ => return None,
            };
            buffer.push(unescaped);
            from = at + 2;
            at = from + special(bytes.get(from..)?)?;
            match bytes[at] {
                b'"' => {
                    buffer.push_str(self.text.get(from..at)?);
                    self.at = at + 1;
                    return Some(buffer.as_str());
                }
                b'\\' => {}
                _ => return None,
            }
        }
    }

    /// Skips one value of any kind the cursor reads, checking it as it goes.
    pub(crate) fn skip_value(&mut self, depth: usize, buffer: &mut String) -> Option<()> {
        match self.peek()? {
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.at += 1;
                let mut key = self.first_key()?;
                while key.is_some() {
                    self.skip_value(depth + 1, buffer)?;
                    key = self.next_key()?;
                }
                Some(())
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.at += 1;
                let mut more = self.first_item()?;
                while more {
                    self.skip_value(depth + 1, buffer)?;
                    more = self.next_item()?;
                }
                Some(())
            }
            _ => self.scalar(buffer).map(|_| ()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar_of(text: &str) -> Option<String> {
        let mut cursor = Cursor::new(text);
        let mut buffer = String::new();
        let scalar = cursor.scalar(&mut buffer)?;
        cursor.at_end().then(|| format!("{scalar:?}"))
    }

    #[test]
    fn special_bytes_are_found_at_every_offset() {
        let plain = "abcdefghijklmnopqrstuvwxyz\u{e9}\u{20ac}0123456789";
        for special_byte in ['"', '\\', '\u{0}', '\u{1f}'] {
            for at in 0..plain.len() {
                if !plain.is_char_boundary(at) {
                    continue;
                }
                let text = format!("{}{special_byte}{}x\"", &plain[..at], &plain[at..]);
                assert_eq!(super::special(text.as_bytes()), Some(at), "{text:?}");
            }
        }
        assert_eq!(super::special(plain.as_bytes()), None);
        assert_eq!(super::special(b""), None);
    }

    #[test]
    fn scalars_read_as_serde_json_reads_them() {
        assert_eq!(scalar_of(r#""plain""#).as_deref(), Some(r#"Str("plain")"#));
        assert_eq!(
            scalar_of(r#""C:\\Windows\\x \"q\" \/ \t""#).as_deref(),
            Some(r#"Str("C:\\Windows\\x \"q\" / \t")"#)
        );
        assert_eq!(scalar_of("-42").as_deref(), Some("Int(-42)"));
        assert_eq!(scalar_of("0").as_deref(), Some("Int(0)"));
        assert_eq!(scalar_of(" true ").as_deref(), Some("Bool(true)"));
        assert_eq!(scalar_of("null").as_deref(), Some("Null"));
        assert_eq!(
            scalar_of("9223372036854775807").as_deref(),
            Some("Int(9223372036854775807)")
        );
        assert_eq!(
            scalar_of("18446744073709551615").as_deref(),
            Some(r#"Digits("18446744073709551615")"#)
        );
    }

    #[test]
    fn what_it_does_not_handle_is_refused_not_guessed() {
        for text in [
            r#""\u0041""#,
            "1.5",
            "1e3",
            "01",
            "-",
            "18446744073709551616",
            "-9223372036854775809",
            "-0",
            "\"tab\there\"",
            "\"long string with a control \u{1} character past eight\"",
            "\"a\\u0041 escape past the first\"",
            r#""unterminated"#,
            r#""bad \x escape""#,
            "tru",
            "nul",
            "{}",
        ] {
            assert_eq!(scalar_of(text), None, "{text}");
        }
    }

    #[test]
    fn objects_and_arrays_are_walked_and_checked() {
        let mut buffer = String::new();
        let good = r#"{"a": [1, "x", {"b": null}], "c": {}, "d": []}"#;
        let mut cursor = Cursor::new(good);
        assert_eq!(cursor.skip_value(0, &mut buffer), Some(()));
        assert!(cursor.at_end());
        for bad in [
            r#"{"a": 1,}"#,
            r#"{"a" 1}"#,
            r#"[1 2]"#,
            r#"{"a": [1, 2}"#,
            r#"{"k\"ey": 1}"#,
        ] {
            let mut cursor = Cursor::new(bad);
            assert_eq!(cursor.skip_value(0, &mut buffer), None, "{bad}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let mut cursor = Cursor::new(&deep);
        assert_eq!(cursor.skip_value(0, &mut buffer), None);
    }
}
