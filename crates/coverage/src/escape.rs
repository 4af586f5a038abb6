//! Escaping for HTML text and attribute values (everything the report renders).

/// Escapes `&`, `<`, `>`, `"` and `'` so any text is safe in HTML, SVG and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes control characters (escape sequences, line breaks) so attacker-written text
/// printed on a terminal shows as text and cannot move the cursor or fake lines: the
/// workspace's one terminal escaping, `rampart_event::terminal::escape`.
pub fn escape_terminal(text: &str) -> String {
    rampart_event::terminal::escape(text).into_owned()
}

/// `cell` as a spreadsheet shows it rather than runs it: a cell starting with `=`,
/// `+`, `-`, `@`, tab or CR is a formula (or hides one) to Excel, LibreOffice and
/// Sheets, and it may be attacker text (an event field, a reference-data name); OWASP's
/// advice is a leading `'`. Quoting stays the `csv` writer's.
pub fn spreadsheet_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// Escapes a cell for a Markdown table (pipes and line breaks would break the row).
pub fn escape_markdown(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape(r#"<script>alert('x') & "y"</script>"#),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(super::escape_markdown("a|b\nc"), "a\\|b c");
        assert_eq!(super::escape_terminal("x\u{1b}[2Jy\nz"), "x\\x1b[2Jy\\nz");
    }
}
