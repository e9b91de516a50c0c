//! Go's `encoding/json` string encoding.

/// Appends `s` as a JSON string escaped the way Go's `encoding/json` does:
/// `<`, `>`, `&`, U+2028 and U+2029 as `\u00XX`, so output diffs clean
/// against what a Go program (kubectl, sops) wrote.
pub(crate) fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html_characters_and_controls_like_go() {
        let mut out = String::new();
        push_string(&mut out, "a<&>\"\\\n\u{1}\u{2028}é");
        assert_eq!(out, r#""a\u003c\u0026\u003e\"\\\n\u0001\u2028é""#);
    }
}
