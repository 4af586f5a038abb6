//! Text for people: attacker-controlled values (event fields, rule titles, store
//! contents, reference data) made safe to show on a terminal.
//!
//! A terminal acts on control characters: ESC starts sequences that clear the screen,
//! set the window title or write the clipboard (OSC 52); CR and LF forge table rows;
//! the Unicode bidi overrides and isolates reorder what is shown. Every such character
//! is written as a visible escape instead (`\x1b`, `\r`, `\n`, `\u{202e}`), so the text
//! still says what the value held and nothing in it reaches the terminal raw.
//! Everything else, backslashes included (Windows paths), is left as it is.

use std::borrow::Cow;
use std::fmt::{self, Write};

/// Whether the terminal would act on `c` rather than print it: C0 controls (tab and
/// newline included), DEL, C1 controls, the bidi embeddings, overrides and isolates,
/// and the Unicode line and paragraph separators.
pub fn is_unsafe_for_terminal(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{2028}'
        | '\u{2029}')
}

/// `text` with every character [`is_unsafe_for_terminal`] written as a visible escape;
/// borrowed when there is none (the usual case).
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_unless(text, |_| false)
}

/// [`escape`], but line feeds stay line feeds: for multi-line text such as a
/// description, where a line break cannot forge anything (CR still can, and is escaped).
pub fn escape_keeping_newlines(text: &str) -> Cow<'_, str> {
    escape_unless(text, |c| c == '\n')
}

fn escape_unless(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| is_unsafe_for_terminal(c) && !keep(c);
    let Some(first) = text.find(unsafe_char) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if unsafe_char(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    // Writing into a String cannot fail.
    let _ = match c {
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        '\u{0}'..='\u{7f}' => write!(out, "\\x{:02x}", c as u32),
        _ => write!(out, "\\u{{{:x}}}", c as u32),
    };
}

/// Displays a value through [`escape`]: `format!("{}", Escaped(&title))`.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Through `pad`, so width and alignment (`{:<20}`) apply to the escaped text.
        f.pad(&escape(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_escapes() {
        let hostile = "a\u{1b}]52;c;SGVsbG8=\u{7}b\r\nc\td\u{7f}\u{85}\u{9b}2J";
        assert_eq!(
            escape(hostile),
            "a\\x1b]52;c;SGVsbG8=\\x07b\\r\\nc\\td\\x7f\\u{85}\\u{9b}2J"
        );
    }

    #[test]
    fn bidi_overrides_and_isolates_are_escaped() {
        for c in ['\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{2028}'] {
            let text = format!("x{c}y");
            assert_eq!(escape(&text), format!("x\\u{{{:x}}}y", c as u32));
        }
        // Neighbours of the ranges are ordinary text.
        assert_eq!(
            escape("\u{2029}a\u{2065}\u{206a}é€"),
            "\\u{2029}a\u{2065}\u{206a}é€"
        );
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        let path = r"C:\Windows\System32\cmd.exe /c echo ünï";
        assert!(matches!(escape(path), Cow::Borrowed(p) if p == path));
    }

    #[test]
    fn escaping_is_idempotent() {
        let once = escape("\u{1b}[2J\r\n\u{202e}").into_owned();
        assert_eq!(escape(&once), once);
    }

    #[test]
    fn newlines_can_be_kept_for_multi_line_text() {
        assert_eq!(
            escape_keeping_newlines("one\ntwo\r\n\u{1b}[2J"),
            "one\ntwo\\r\n\\x1b[2J"
        );
    }

    #[test]
    fn escaped_display_pads_the_escaped_text() {
        assert_eq!(format!("[{:<6}]", Escaped("a\nb")), "[a\\nb  ]");
    }
}
