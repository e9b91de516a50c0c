//! Writing values as block YAML that YAML 1.1 and 1.2 readers read alike.

use super::{is_raw_plain, plain_is_safe, special_float};
use anyhow::{Context, Result, bail};
use serde_yaml_ng::{Number, Value};
use std::fmt::Write as _;

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
                out.push_str(&scalar_text(k, indent, true)?);
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
                } else {
                    out.push_str(&scalar_text(item, indent + 2, false)?);
                    out.push('\n');
                }
            }
        }
        Value::Tagged(t) if !is_raw_plain(t) && is_block_collection(&t.value) => {
            writeln!(out, "{}", t.tag)?;
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
            writeln!(out, " {}", t.tag)?;
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

fn is_block_collection(v: &Value) -> bool {
    match v {
        Value::Mapping(m) => !m.is_empty(),
        Value::Sequence(s) => !s.is_empty(),
        _ => false,
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// Text of a scalar (or empty collection). `indent` is the column block
/// scalars' content is indented to; keys never use block scalars.
fn scalar_text(v: &Value, indent: usize, is_key: bool) -> Result<String> {
    Ok(match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_text(n),
        Value::String(s) => string_text(s, indent, is_key),
        Value::Mapping(m) if m.is_empty() => "{}".to_string(),
        Value::Sequence(s) if s.is_empty() => "[]".to_string(),
        Value::Tagged(t) if is_raw_plain(t) => t.value.as_str().unwrap_or_default().to_string(),
        Value::Tagged(t) => format!("{} {}", t.tag, scalar_text(&t.value, indent, is_key)?),
        _ => bail!("complex mapping keys are not supported"),
    })
}

pub(super) fn number_text(n: &Number) -> String {
    if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
        if let Some(special) = special_float(f) {
            return special.into();
        }
        // Both YAML versions read a float only with a dot and, in YAML 1.1,
        // a signed exponent: 1e300 must be written 1.0e+300.
        let s = format!("{f:?}");
        return match s.split_once('e') {
            Some((m, e)) => {
                let m = if m.contains('.') {
                    m.to_string()
                } else {
                    format!("{m}.0")
                };
                let e = if e.starts_with('-') {
                    e.to_string()
                } else {
                    format!("+{e}")
                };
                format!("{m}e{e}")
            }
            None if s.contains('.') => s,
            None => format!("{s}.0"),
        };
    }
    n.to_string()
}

fn string_text(s: &str, indent: usize, is_key: bool) -> String {
    if plain_is_safe(s) {
        return s.to_string();
    }
    if !is_key && literal_block_fits(s) {
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

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{85}')
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
