//! Lossy repair of record text: telemetry is attacker-controlled, and a record with one
//! byte that is not UTF-8, or one escape of half a UTF-16 pair, must not vanish whole
//! (an attacker could hide events that way). Such text is decoded with U+FFFD in place
//! of what cannot be decoded, as `String::from_utf8_lossy` does.

/// `bytes` with invalid UTF-8 sequences replaced by U+FFFD and lone surrogate escapes
/// (`\ud800` not followed by a low surrogate, a low surrogate alone) rewritten as
/// `\ufffd`, and what was repaired in words; `None` when there was nothing to repair.
pub(crate) fn repair(bytes: &[u8]) -> Option<(Vec<u8>, &'static str)> {
    let (mut text, bad_utf8) = match String::from_utf8_lossy(bytes) {
        std::borrow::Cow::Borrowed(_) => (bytes.to_vec(), false),
        std::borrow::Cow::Owned(text) => (text.into_bytes(), true),
    };
    let lone_surrogates = replace_lone_surrogates(&mut text);
    let what = match (bad_utf8, lone_surrogates) {
        (false, false) => return None,
        (true, false) => "invalid UTF-8",
        (false, true) => "lone surrogate escapes",
        (true, true) => "invalid UTF-8 and lone surrogate escapes",
    };
    Some((text, what))
}

/// Rewrites, in place (the escape keeps its length), each `\uXXXX` escape of a
/// surrogate that is not half of a high-low pair as `\ufffd`; whether there was one.
fn replace_lone_surrogates(text: &mut [u8]) -> bool {
    const HIGH: std::ops::Range<u16> = 0xD800..0xDC00;
    const LOW: std::ops::Range<u16> = 0xDC00..0xE000;
    let mut replaced = false;
    let mut at = 0;
    while let Some(found) = text.get(at..).and_then(|rest| memchr::memchr(b'\\', rest)) {
        let escape = at + found;
        if text.get(escape + 1) != Some(&b'u') {
            // Another escape (`\\` among them): its next byte is not a new escape.
            at = escape + 2;
            continue;
        }
        at = escape + 6;
        let Some(unit) = hex_unit(text, escape + 2) else {
            continue;
        };
        if HIGH.contains(&unit) {
            let paired = text.get(escape + 6..escape + 8) == Some(b"\\u")
                && hex_unit(text, escape + 8).is_some_and(|next| LOW.contains(&next));
            if paired {
                at = escape + 12;
                continue;
            }
        } else if !LOW.contains(&unit) {
            continue;
        }
        text[escape + 2..escape + 6].copy_from_slice(b"fffd");
        replaced = true;
    }
    replaced
}

/// The four hex digits at `at`, as a UTF-16 unit.
fn hex_unit(text: &[u8], at: usize) -> Option<u16> {
    let digits = text.get(at..at + 4)?;
    digits.iter().try_fold(0u16, |unit, &digit| {
        let value = (digit as char).to_digit(16)?;
        Some(unit << 4 | value as u16)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repaired(text: &[u8]) -> Option<String> {
        repair(text).map(|(bytes, _)| String::from_utf8_lossy(&bytes).into_owned())
    }

    #[test]
    fn lone_surrogates_become_replacement_escapes() {
        assert_eq!(repaired(br#""\ud800x""#).as_deref(), Some(r#""\ufffdx""#));
        assert_eq!(repaired(br#""\uDC00""#).as_deref(), Some(r#""\ufffd""#));
        assert_eq!(
            repaired(br#""\ud800\ud800\udc00""#).as_deref(),
            Some(r#""\ufffd\ud800\udc00""#)
        );
        assert_eq!(repaired(br#""\ud83d\ude00 \\ud800""#), None);
        assert_eq!(repaired(br#""\ud8"#).as_deref(), None);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        assert_eq!(repaired(b"\"a\xffb\"").as_deref(), Some("\"a\u{fffd}b\""));
        assert_eq!(repaired(b"\"fine\""), None);
    }
}
