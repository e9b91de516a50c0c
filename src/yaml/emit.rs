//! Writing values as block YAML that YAML 1.1 and 1.2 readers read alike.

use super::{is_raw_plain, number_text, plain_is_safe, plain_verbatim_ok};
use anyhow::{Context, Result, bail};
use serde_yaml_ng::Value;
use serde_yaml_ng::value::Tag;
use std::fmt::Write as _;

/// The longest key YAML allows in `key: value` form (an implicit key).
const MAX_IMPLICIT_KEY: usize = 1024;

/// Writes one value as a YAML document body (no `---`), block style.
pub fn to_string(value: &Value) -> Result<String> {
    let mut out = String::new();
    emit_node(&mut out, value, 0, false).context("cannot write YAML")?;
    Ok(out)
}

/// Writes several documents separated by `---`.
pub fn stream_to_string<'a>(values: impl IntoIterator<Item = &'a Value>) -> Result<String> {
    let mut out = String::new();
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_string(value)?);
    }
    Ok(out)
}

/// Emits `value` at `indent`. When `inline` the cursor already sits at the
/// node's column (after `- `), so the first line gets no indentation.
fn emit_node(out: &mut String, value: &Value, indent: usize, inline: bool) -> Result<()> {
    match value {
        Value::Mapping(map) if !map.is_empty() => {
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 || !inline {
                    pad(out, indent);
                }
                let key = scalar_text(k, indent, true)?;
                if key.chars().count() > MAX_IMPLICIT_KEY {
                    // Too long for `key: value`: an explicit `? key` line.
                    out.push_str("? ");
                    out.push_str(&key);
                    out.push('\n');
                    pad(out, indent);
                } else {
                    out.push_str(&key);
                }
                out.push(':');
                emit_child(out, v, indent, indent + 2)?;
            }
        }
        Value::Sequence(seq) if !seq.is_empty() => {
            for (i, item) in seq.iter().enumerate() {
                if i > 0 || !inline {
                    pad(out, indent);
                }
                out.push_str("- ");
                if is_block_collection(item) {
                    emit_node(out, item, indent + 2, true)?;
                } else if let Some(t) = tagged_collection(item) {
                    writeln!(out, "{}", tag_text(&t.tag))?;
                    emit_node(out, &t.value, indent + 2, false)?;
                } else {
                    out.push_str(&scalar_text(item, indent + 2, false)?);
                    out.push('\n');
                }
            }
        }
        Value::Tagged(t) if !is_raw_plain(t) && is_block_collection(&t.value) => {
            writeln!(out, "{}", tag_text(&t.tag))?;
            emit_node(out, &t.value, indent, false)?;
        }
        scalar => {
            if !inline {
                pad(out, indent);
            }
            out.push_str(&scalar_text(scalar, indent, false)?);
            out.push('\n');
        }
    }
    Ok(())
}

/// Emits a mapping value after `key:`. Sequences sit at the key's column, as
/// kubectl and kustomize write them; mappings one level deeper.
fn emit_child(out: &mut String, v: &Value, key_indent: usize, child_indent: usize) -> Result<()> {
    match v {
        Value::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            emit_node(out, v, child_indent, false)
        }
        Value::Sequence(s) if !s.is_empty() => {
            out.push('\n');
            emit_node(out, v, key_indent, false)
        }
        Value::Tagged(t) if !is_raw_plain(t) && is_block_collection(&t.value) => {
            writeln!(out, " {}", tag_text(&t.tag))?;
            let indent = if t.value.is_sequence() {
                key_indent
            } else {
                child_indent
            };
            emit_node(out, &t.value, indent, false)
        }
        _ => {
            out.push(' ');
            out.push_str(&scalar_text(v, key_indent + 2, false)?);
            out.push('\n');
            Ok(())
        }
    }
}

/// A tagged non-empty mapping or sequence, written as the tag on its own
/// line followed by the block.
fn tagged_collection(v: &Value) -> Option<&serde_yaml_ng::value::TaggedValue> {
    match v {
        Value::Tagged(t) if !is_raw_plain(t) && is_block_collection(&t.value) => Some(t),
        _ => None,
    }
}

fn is_block_collection(v: &Value) -> bool {
    match v {
        Value::Mapping(m) => !m.is_empty(),
        Value::Sequence(s) => !s.is_empty(),
        _ => false,
    }
}

pub(super) fn pad(out: &mut String, indent: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = indent;
    while left > 0 {
        let n = left.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        left -= n;
    }
}

/// Text of a scalar (or empty collection). `indent` is the column block
/// scalars' content is indented to; keys never use block scalars.
pub(super) fn scalar_text(v: &Value, indent: usize, is_key: bool) -> Result<String> {
    Ok(match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        Value::String(s) => string_text(s, indent, is_key),
        Value::Mapping(m) if m.is_empty() => "{}".to_string(),
        Value::Sequence(s) if s.is_empty() => "[]".to_string(),
        Value::Tagged(t) if is_raw_plain(t) => {
            let text = t.value.as_str().unwrap_or_default();
            if plain_verbatim_ok(text) {
                text.to_string()
            } else {
                string_text(text, indent, is_key)
            }
        }
        Value::Tagged(t) => format!(
            "{} {}",
            tag_text(&t.tag),
            scalar_text(&t.value, indent, is_key)?
        ),
        _ => bail!("complex mapping keys are not supported"),
    })
}

/// A tag as the reader gives it back: a global tag (stored as `<uri>`) in
/// the verbatim form `!<uri>`, core tags as `!!suffix`, local tags as
/// `!suffix`, with every character the form cannot hold percent-escaped
/// (the reader decodes `%XX`, so a tag read from `!a%20b` is written as it
/// came).
fn tag_text(tag: &Tag) -> String {
    let shown = tag.to_string();
    let body = shown.strip_prefix('!').unwrap_or(&shown);
    if let Some(uri) = body.strip_prefix('<').and_then(|b| b.strip_suffix('>')) {
        // URI characters: a verbatim tag may also hold `!`, `,`, `[` and `]`.
        return format!("!<{}>", escaped(uri, "-#;/?:@&=+$_.~*'()!,[]"));
    }
    let (prefix, body) = match body.strip_prefix(super::CORE_TAG_PREFIX) {
        Some(core) if !core.is_empty() => ("!!", core),
        _ => ("!", body),
    };
    format!("{prefix}{}", escaped(body, "-#;/?:@&=+$_.~*'()"))
}

/// `text` with every character outside ASCII letters, digits and `allowed`
/// written as `%XX` escapes of its UTF-8 bytes.
fn escaped(text: &str, allowed: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || allowed.contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

pub(super) fn string_text(s: &str, indent: usize, is_key: bool) -> String {
    if plain_is_safe(s) {
        return s.to_string();
    }
    // A document that is one string has its block at column 0, where a
    // line `---` or `...` would end the document instead.
    let marker_line = |s: &str| {
        s.split('\n')
            .any(|l| l.starts_with("---") || l.starts_with("..."))
    };
    if !is_key && literal_block_fits(s) && !(indent == 0 && marker_line(s)) {
        return literal_block(s, indent);
    }
    double_quoted(s)
}

/// A literal block keeps multi-line text readable; it cannot carry control
/// characters or leading whitespace on its first line (that would need an
/// indentation indicator), so such strings are double-quoted instead.
fn literal_block_fits(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\t', '\n'])
        && s.chars()
            .all(|c| c == '\n' || c == '\t' || !needs_escape(c))
}

fn literal_block(s: &str, indent: usize) -> String {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let mut out = format!("|{chomp}");
    for line in s[..body.len()].split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(&mut out, indent);
            out.push_str(line);
        }
    }
    // `|+` keeps the extra line breaks, written as empty lines.
    for _ in 1..trailing {
        out.push('\n');
    }
    out
}

/// Characters written as escapes: controls, the line and paragraph
/// separators, the BOM, and the non-characters U+FFFE and U+FFFF, which
/// YAML does not allow raw (kubectl refuses them).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{85}' | '\u{FFFE}' | '\u{FFFF}'
        )
}

/// JSON-compatible double-quoted scalar (valid YAML 1.1 and 1.2).
fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
