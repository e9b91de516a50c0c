//! Go's `encoding/json` string encoding.

/// Appends `s` as a JSON string escaped the way Go's `encoding/json` does:
/// `<`, `>`, `&`, U+2028 and U+2029 as `\u00XX`, so output diffs clean
/// against what a Go program (kubectl, sops) wrote.
pub(crate) fn push_string(out: &mut String, s: &str) {
    out.push('"');
    // Runs of characters written as they are go in one copy: a
    // `.dockerconfigjson` of many registries is megabytes of them.
    let mut run = 0;
    for (i, c) in s.char_indices() {
        let Some(escape) = escape(c) else {
            continue;
        };
        out.push_str(&s[run..i]);
        match escape {
            Escape::Short(e) => out.push_str(e),
            Escape::Unicode => out.push_str(&format!("\\u{:04x}", c as u32)),
        }
        run = i + c.len_utf8();
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// How `encoding/json` writes a character that it does not write as it is.
enum Escape {
    Short(&'static str),
    Unicode,
}

fn escape(c: char) -> Option<Escape> {
    Some(match c {
        '"' => Escape::Short("\\\""),
        '\\' => Escape::Short("\\\\"),
        '\n' => Escape::Short("\\n"),
        '\r' => Escape::Short("\\r"),
        '\t' => Escape::Short("\\t"),
        '\u{8}' => Escape::Short("\\b"),
        '\u{c}' => Escape::Short("\\f"),
        '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => Escape::Unicode,
        c if (c as u32) < 0x20 => Escape::Unicode,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html_characters_and_controls_like_go() {
        let mut out = String::new();
        push_string(&mut out, "a<&>\"\\\n\u{1}\u{2028}é");
        assert_eq!(out, r#""a\u003c\u0026\u003e\"\\\n\u0001\u2028é""#);
        out.clear();
        push_string(&mut out, "plain é\u{8}\u{c}\r\t\u{2029}end");
        assert_eq!(out, r#""plain é\b\f\r\t\u2029end""#);
    }
}
