//! The YAML store: yaml.v3's typing of plain scalars on read, and its
//! block layout (indent 4) on write.

use super::super::cipher;
use crate::gocompat::strconv;
use crate::sops::tree::Node;
use crate::yaml;
use anyhow::{Result, anyhow};
use serde_yaml_ng::Value;

/// Every document of a YAML stream, as trees.
pub(super) fn parse(text: &str, origin: &str) -> Result<Vec<Node>> {
    yaml::load_stream(text, origin)?
        .into_iter()
        .map(|d| from_yaml(&d.value))
        .collect()
}

/// Documents as a YAML stream, `---` between them.
pub(super) fn emit(docs: &[Node]) -> Vec<u8> {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        yaml_node(&mut out, doc, 0, false);
    }
    out.into_bytes()
}

/// Converts a YAML value, typing plain scalars the way sops' yaml.v3 does.
fn from_yaml(v: &Value) -> Result<Node> {
    Ok(match v {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Node::Int(i),
            None => Node::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Node::Str(s.clone()),
        Value::Sequence(s) => Node::Seq(s.iter().map(from_yaml).collect::<Result<_>>()?),
        Value::Mapping(m) => Node::Map(
            m.iter()
                .map(|(k, v)| {
                    let key = yaml::scalar_string(k)
                        .ok_or_else(|| anyhow!("mapping keys must be strings"))?;
                    Ok((key, from_yaml(v)?))
                })
                .collect::<Result<_>>()?,
        ),
        Value::Tagged(t) => match yaml::as_str(v) {
            Some(raw) if t.tag == serde_yaml_ng::value::Tag::new(yaml::RAW_PLAIN_TAG) => {
                resolve_yaml_v3(raw)
            }
            _ => from_yaml(&t.value)?,
        },
    })
}

/// yaml.v3's resolution of plain scalars that YAML 1.1 and 1.2 disagree on:
/// Go integer literals (`0x1F`, `0o17`, `0755`, `1_000`), floats, and
/// timestamps; anything else (`yes`, `on`) is a string.
fn resolve_yaml_v3(raw: &str) -> Node {
    let unsigned = raw.strip_prefix(['-', '+']).unwrap_or(raw);
    let neg = raw.starts_with('-');
    let digits = unsigned.replace('_', "");
    let radix = if let Some(h) = digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
        Some((h.to_string(), 16))
    } else if let Some(o) = digits.strip_prefix("0o").or(digits.strip_prefix("0O")) {
        Some((o.to_string(), 8))
    } else if let Some(b) = digits.strip_prefix("0b").or(digits.strip_prefix("0B")) {
        Some((b.to_string(), 2))
    } else if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        Some((digits[1..].to_string(), 8))
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        Some((digits.clone(), 10))
    } else {
        None
    };
    if let Some((body, radix)) = radix {
        if let Ok(i) = i64::from_str_radix(&body, radix) {
            return Node::Int(if neg { -i } else { i });
        }
    }
    match raw.to_ascii_lowercase().as_str() {
        ".inf" | "+.inf" => return Node::Float(f64::INFINITY),
        "-.inf" => return Node::Float(f64::NEG_INFINITY),
        ".nan" => return Node::Float(f64::NAN),
        _ => {}
    }
    if raw.bytes().any(|b| b.is_ascii_digit())
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE_".contains(&b))
    {
        if let Ok(f) = raw.replace('_', "").parse::<f64>() {
            return Node::Float(f);
        }
    }
    if let Some(t) = timestamp(raw) {
        return Node::Time(t);
    }
    Node::Str(raw.to_string())
}

/// A YAML timestamp as Go's `time.MarshalText` writes it, or `None`.
fn timestamp(raw: &str) -> Option<String> {
    // Compiled once: this runs for every ambiguous plain scalar.
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?[ \t]*(Z|[-+][0-9]{1,2}(?::[0-9]{2})?)?)?$",
        )
        .expect("timestamp pattern is valid")
    });
    if !raw.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let c = RE.captures(raw)?;
    let num = |i: usize| {
        c.get(i)
            .map_or(0, |m| m.as_str().parse::<u32>().unwrap_or(0))
    };
    let date = format!("{}-{:02}-{:02}", &c[1], num(2), num(3));
    if c.get(4).is_none() {
        return Some(format!("{date}T00:00:00Z"));
    }
    let frac = c.get(7).map_or(String::new(), |m| {
        m.as_str().trim_end_matches('0').to_string()
    });
    let frac = if frac == "." { String::new() } else { frac };
    let zone = match c.get(8).map(|m| m.as_str()) {
        None | Some("Z") => "Z".to_string(),
        Some(z) => {
            let (sign, rest) = z.split_at(1);
            let (h, m) = rest.split_once(':').unwrap_or((rest, "00"));
            let (h, m) = (h.parse::<u32>().unwrap_or(0), m.parse::<u32>().unwrap_or(0));
            if h == 0 && m == 0 {
                "Z".into()
            } else {
                format!("{sign}{h:02}:{m:02}")
            }
        }
    };
    Some(format!(
        "{date}T{:02}:{:02}:{:02}{frac}{zone}",
        num(4),
        num(5),
        num(6)
    ))
}

const YAML_INDENT: usize = 4;

/// yaml.v3-style block YAML: indent 4, sequences indented under their key.
fn yaml_node(out: &mut String, node: &Node, indent: usize, inline: bool) {
    let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
    match node {
        Node::Map(items) if !items.is_empty() => {
            for (i, (k, v)) in items.iter().enumerate() {
                if matches!(v, Node::Comment(_)) {
                    continue;
                }
                if i > 0 || !inline {
                    pad(out, indent);
                }
                out.push_str(&yaml_string(k, indent, true));
                out.push(':');
                match v {
                    Node::Map(m) if !m.is_empty() => {
                        out.push('\n');
                        yaml_node(out, v, indent + YAML_INDENT, false);
                    }
                    Node::Seq(s) if !s.is_empty() => {
                        out.push('\n');
                        yaml_node(out, v, indent + YAML_INDENT, false);
                    }
                    _ => {
                        out.push(' ');
                        out.push_str(&yaml_scalar(v, indent + YAML_INDENT));
                        out.push('\n');
                    }
                }
            }
        }
        Node::Seq(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 || !inline {
                    pad(out, indent);
                }
                out.push_str("- ");
                match item {
                    Node::Map(m) if !m.is_empty() => yaml_node(out, item, indent + 2, true),
                    Node::Seq(s) if !s.is_empty() => yaml_node(out, item, indent + 2, true),
                    _ => {
                        out.push_str(&yaml_scalar(item, indent + 2 + YAML_INDENT));
                        out.push('\n');
                    }
                }
            }
        }
        other => {
            if !inline {
                pad(out, indent);
            }
            out.push_str(&yaml_scalar(other, indent + YAML_INDENT));
            out.push('\n');
        }
    }
}

fn yaml_scalar(node: &Node, block_indent: usize) -> String {
    match node {
        Node::Map(_) => "{}".into(),
        Node::Seq(_) => "[]".into(),
        Node::Str(s) => yaml_string(s, block_indent, false),
        Node::Int(i) => i.to_string(),
        Node::Float(f) => float_text(*f),
        Node::Bool(b) => b.to_string(),
        Node::Time(t) => t.clone(),
        Node::Null => "null".into(),
        Node::Comment(_) => String::new(),
    }
}

/// yaml.v3 writes floats with Go's 'g' format and YAML's special spellings.
fn float_text(f: f64) -> String {
    match yaml::special_float(f) {
        Some(special) => special.into(),
        None => strconv::format_g(f),
    }
}

fn yaml_string(s: &str, block_indent: usize, is_key: bool) -> String {
    // sops writes its ENC[...] values plain; they are valid plain scalars.
    if cipher::is_enc(s) && !s.contains(char::is_whitespace) {
        return s.to_string();
    }
    let mut m = serde_yaml_ng::Mapping::new();
    m.insert(Value::String("k".into()), Value::String(s.into()));
    // Reuse the manifest writer's quoting rules; strip the `k: ` it adds.
    let text = yaml::to_string(&Value::Mapping(m)).unwrap_or_default();
    let body = text
        .strip_prefix("k: ")
        .unwrap_or(&text)
        .trim_end_matches('\n');
    if body.starts_with('|') && !is_key {
        // Re-indent the literal block's content to this position.
        let mut lines = body.split('\n');
        let header = lines.next().unwrap_or("|");
        let mut out = header.to_string();
        for line in lines {
            out.push('\n');
            if !line.is_empty() {
                out.extend(std::iter::repeat_n(' ', block_indent));
                out.push_str(line.strip_prefix("  ").unwrap_or(line));
            }
        }
        return out;
    }
    if body.starts_with('|') {
        return yaml::double_quoted(s);
    }
    body.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_v3_typing_of_ambiguous_plain_scalars() {
        assert_eq!(resolve_yaml_v3("0755"), Node::Int(493));
        assert_eq!(resolve_yaml_v3("0x1F"), Node::Int(31));
        assert_eq!(resolve_yaml_v3("1_000"), Node::Int(1000));
        assert_eq!(resolve_yaml_v3("1e3"), Node::Float(1000.0));
        assert_eq!(resolve_yaml_v3("yes"), Node::Str("yes".into()));
        assert_eq!(
            resolve_yaml_v3("2024-01-01"),
            Node::Time("2024-01-01T00:00:00Z".into())
        );
        assert_eq!(
            resolve_yaml_v3("2001-12-14t21:59:43.10-05:00"),
            Node::Time("2001-12-14T21:59:43.1-05:00".into())
        );
    }

    #[test]
    fn floats_are_written_as_yaml_v3_writes_them() {
        assert_eq!(float_text(2.5), "2.5");
        assert_eq!(float_text(7.0), "7");
        assert_eq!(float_text(1e6), "1e+06");
        assert_eq!(float_text(f64::INFINITY), ".inf");
    }
}
