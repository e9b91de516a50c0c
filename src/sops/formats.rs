//! The five SOPS file formats: reading a file into a tree plus its `sops`
//! metadata, and writing a tree back (plaintext or with metadata).
//!
//! YAML and JSON keep the metadata as a top-level `sops` key; dotenv
//! flattens it into `sops_*` keys and INI into a `[sops]` section; binary
//! files are a JSON envelope `{"data": ..., "sops": ...}`. Layout follows
//! sops' own writers (yaml.v3 with indent 4, tab-indented JSON) so files
//! regcred writes look like the ones sops writes.

use super::tree::{Node, go_float};
use crate::dockerconfig::go_json_string;
use crate::yaml;
use anyhow::{Result, anyhow, bail};
use serde_yaml_ng::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
    /// The store sops picks from a file name.
    pub fn from_path(path: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Format::Yaml
        } else if lower.ends_with(".json") {
            Format::Json
        } else if lower.ends_with(".env") {
            Format::Dotenv
        } else if lower.ends_with(".ini") {
            Format::Ini
        } else {
            Format::Binary
        }
    }
}

/// A parsed file: its documents and, when encrypted, its metadata tree.
pub struct Parsed {
    pub format: Format,
    pub docs: Vec<Node>,
    pub metadata: Option<Node>,
}

/// Recognises a SOPS file by content; `None` means "not SOPS".
pub fn detect(path: &str, text: &str) -> Option<Format> {
    let lines = || text.lines().map(str::trim_end);
    if lines().any(|l| l.starts_with("sops_mac=") || l.starts_with("sops_version=")) {
        return Some(Format::Dotenv);
    }
    if lines().any(|l| l.trim() == "[sops]") {
        return Some(Format::Ini);
    }
    let docs = yaml::load_stream(text, path).ok()?;
    let first = docs.first()?.value.as_mapping()?;
    first.get("sops")?;
    Some(match Format::from_path(path) {
        f @ (Format::Yaml | Format::Json) => f,
        _ if first.len() == 2 && first.contains_key("data") => Format::Binary,
        _ if text.trim_start().starts_with('{') => Format::Json,
        _ => Format::Yaml,
    })
}

/// Reads `text` in `format`, splitting off the metadata if present.
pub fn parse(format: Format, text: &str, origin: &str) -> Result<Parsed> {
    match format {
        Format::Yaml | Format::Json | Format::Binary => parse_tree(format, text, origin),
        Format::Dotenv => parse_dotenv(text),
        Format::Ini => parse_ini(text),
    }
}

fn parse_tree(format: Format, text: &str, origin: &str) -> Result<Parsed> {
    let mut docs: Vec<Node> = if format == Format::Yaml {
        yaml::load_stream(text, origin)?
            .into_iter()
            .map(|d| from_yaml(&d.value))
            .collect::<Result<_>>()?
    } else {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            anyhow!(
                "{origin}: invalid JSON at line {}, column {}",
                e.line(),
                e.column()
            )
        })?;
        vec![from_json(&v)?]
    };
    if docs.is_empty() {
        bail!("{origin}: empty document");
    }
    let mut metadata = None;
    for (i, doc) in docs.iter_mut().enumerate() {
        let Node::Map(items) = doc else {
            bail!("{origin}: document {} is not a mapping", i + 1);
        };
        if let Some(pos) = items.iter().position(|(k, _)| k == "sops") {
            let (_, md) = items.remove(pos);
            if i == 0 {
                metadata = Some(md);
            }
        }
    }
    if format == Format::Binary {
        match docs[0].get("data") {
            Some(Node::Str(_)) if docs.len() == 1 => {}
            _ => bail!("{origin}: a binary sops file must hold a single \"data\" string"),
        }
    }
    Ok(Parsed {
        format,
        docs,
        metadata,
    })
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
                    let key = crate::spec::scalar_string(k)
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

fn from_json(v: &serde_json::Value) -> Result<Node> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => Node::Null,
        J::Bool(b) => Node::Bool(*b),
        // sops up to 3.13.1 decodes every JSON number as float64.
        J::Number(n) => Node::Float(n.as_f64().unwrap_or_default()),
        J::String(s) => Node::Str(s.clone()),
        J::Array(a) => Node::Seq(a.iter().map(from_json).collect::<Result<_>>()?),
        J::Object(o) => Node::Map(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), from_json(v)?)))
                .collect::<Result<_>>()?,
        ),
    })
}

fn parse_dotenv(text: &str) -> Result<Parsed> {
    let mut items = Vec::new();
    let mut flat = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            items.push((String::new(), Node::Comment(c.to_string())));
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            bail!("dotenv line {}: expected KEY=VALUE", n + 1);
        };
        let v = v.replace("\\n", "\n");
        match k.strip_prefix("sops_") {
            Some(mk) => flat.push((mk.to_string(), v)),
            None => items.push((k.to_string(), Node::Str(v))),
        }
    }
    Ok(Parsed {
        format: Format::Dotenv,
        docs: vec![Node::Map(items)],
        metadata: (!flat.is_empty()).then(|| unflatten(&flat)).transpose()?,
    })
}

/// One INI line: its section, and the key/value pair (`None` for a `[section]` header).
pub type IniEntry = (String, Option<(String, String)>);

/// INI lines as (section, key, value); `DEFAULT` holds keys before any section.
pub fn ini_entries(text: &str) -> Result<Vec<IniEntry>> {
    let mut out = Vec::new();
    let mut section = "DEFAULT".to_string();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            out.push((section.clone(), None));
            continue;
        }
        let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':')) else {
            bail!("INI line {}: expected key = value", n + 1);
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(v)
            .replace("\\n", "\n");
        out.push((section.clone(), Some((k.trim().to_string(), v))));
    }
    Ok(out)
}

fn parse_ini(text: &str) -> Result<Parsed> {
    let mut sections: Vec<(String, Node)> = Vec::new();
    let mut flat = Vec::new();
    for (section, entry) in ini_entries(text)? {
        if section == "sops" {
            if let Some(kv) = entry {
                flat.push(kv);
            }
            continue;
        }
        if !sections.iter().any(|(s, _)| *s == section) {
            sections.push((section.clone(), Node::Map(Vec::new())));
        }
        if let Some((k, v)) = entry {
            if let Some((_, Node::Map(items))) = sections.iter_mut().find(|(s, _)| *s == section) {
                items.push((k, Node::Str(v)));
            }
        }
    }
    sections
        .retain(|(name, body)| name != "DEFAULT" || !matches!(body, Node::Map(m) if m.is_empty()));
    Ok(Parsed {
        format: Format::Ini,
        docs: vec![Node::Map(sections)],
        metadata: (!flat.is_empty()).then(|| unflatten(&flat)).transpose()?,
    })
}

/// Rebuilds metadata flattened as `age__list_0__map_enc` keys.
fn unflatten(flat: &[(String, String)]) -> Result<Node> {
    let mut root = Node::Map(Vec::new());
    for (key, value) in flat {
        let mut parts = key.split("__");
        let first = parts.next().unwrap_or_default().to_string();
        let mut node = map_entry(&mut root, &first);
        for part in parts {
            node = if let Some(i) = part.strip_prefix("list_") {
                let i: usize = i
                    .parse()
                    .map_err(|_| anyhow!("metadata key {key:?} is malformed"))?;
                if !matches!(node, Node::Seq(_)) {
                    *node = Node::Seq(Vec::new());
                }
                let Node::Seq(items) = node else {
                    unreachable!()
                };
                while items.len() <= i {
                    items.push(Node::Null);
                }
                &mut items[i]
            } else if let Some(k) = part.strip_prefix("map_") {
                map_entry(node, k)
            } else {
                bail!("metadata key {key:?} is malformed");
            };
        }
        *node = Node::Str(value.clone());
    }
    Ok(root)
}

fn map_entry<'a>(node: &'a mut Node, key: &str) -> &'a mut Node {
    if !matches!(node, Node::Map(_)) {
        *node = Node::Map(Vec::new());
    }
    let Node::Map(items) = node else {
        unreachable!()
    };
    let pos = match items.iter().position(|(k, _)| k == key) {
        Some(p) => p,
        None => {
            items.push((key.to_string(), Node::Null));
            items.len() - 1
        }
    };
    &mut items[pos].1
}

/// Flattens metadata for dotenv/INI, keys sorted as sops writes them.
fn flatten(node: &Node, prefix: &str, out: &mut Vec<(String, String)>) {
    match node {
        Node::Map(items) => {
            for (k, v) in items {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}__map_{k}")
                };
                flatten(v, &key, out);
            }
        }
        Node::Seq(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(v, &format!("{prefix}__list_{i}"), out);
            }
        }
        leaf => out.push((prefix.to_string(), scalar_text(leaf))),
    }
}

fn scalar_text(leaf: &Node) -> String {
    match leaf {
        Node::Str(s) | Node::Time(s) | Node::Comment(s) => s.clone(),
        Node::Int(i) => i.to_string(),
        Node::Float(f) => go_float(*f),
        Node::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// Writes `docs` (plus `metadata` when given) in `format`.
pub fn emit(format: Format, docs: &[Node], metadata: Option<&Node>) -> Result<Vec<u8>> {
    let with_md = |doc: &Node| -> Node {
        match (doc, metadata) {
            (Node::Map(items), Some(md)) => {
                let mut items = items.clone();
                items.push(("sops".into(), md.clone()));
                Node::Map(items)
            }
            _ => doc.clone(),
        }
    };
    Ok(match format {
        Format::Yaml => {
            let mut out = String::new();
            for (i, doc) in docs.iter().enumerate() {
                if i > 0 {
                    out.push_str("---\n");
                }
                yaml_node(&mut out, &with_md(doc), 0, false);
            }
            out.into_bytes()
        }
        Format::Json => {
            let mut out = String::new();
            json_node(&mut out, &with_md(&docs[0]), 0);
            out.push('\n');
            out.into_bytes()
        }
        Format::Binary => match metadata {
            Some(_) => {
                let mut out = String::new();
                json_node(&mut out, &with_md(&docs[0]), 0);
                out.push('\n');
                out.into_bytes()
            }
            None => match docs[0].get("data") {
                Some(Node::Str(s)) => s.clone().into_bytes(),
                _ => bail!("binary file has no data"),
            },
        },
        Format::Dotenv => {
            let mut out = String::new();
            if let Node::Map(items) = &docs[0] {
                for (k, v) in items {
                    match v {
                        Node::Comment(c) => out.push_str(&format!("#{c}\n")),
                        v => {
                            out.push_str(&format!("{k}={}\n", scalar_text(v).replace('\n', "\\n")))
                        }
                    }
                }
            }
            if let Some(md) = metadata {
                let mut flat = Vec::new();
                flatten(md, "", &mut flat);
                flat.sort();
                for (k, v) in flat {
                    out.push_str(&format!("sops_{k}={}\n", v.replace('\n', "\\n")));
                }
            }
            out.into_bytes()
        }
        Format::Ini => {
            let mut out = String::new();
            let mut sections: Vec<(String, Node)> = match &docs[0] {
                Node::Map(items) => items.clone(),
                _ => Vec::new(),
            };
            if let Some(md) = metadata {
                let mut flat = Vec::new();
                flatten(md, "", &mut flat);
                flat.sort();
                sections.push((
                    "sops".into(),
                    Node::Map(flat.into_iter().map(|(k, v)| (k, Node::Str(v))).collect()),
                ));
            }
            for (name, body) in sections {
                if !out.is_empty() {
                    out.push('\n');
                }
                if name != "DEFAULT" {
                    out.push_str(&format!("[{name}]\n"));
                }
                if let Node::Map(items) = body {
                    // go-ini aligns the `=` of a section's keys.
                    let width = items
                        .iter()
                        .map(|(k, _)| k.chars().count())
                        .max()
                        .unwrap_or(0);
                    for (k, v) in items {
                        match v {
                            Node::Comment(c) => out.push_str(&format!("; {c}\n")),
                            v => out.push_str(&format!(
                                "{k:<width$} = {}\n",
                                scalar_text(&v).replace('\n', "\\n")
                            )),
                        }
                    }
                }
            }
            out.into_bytes()
        }
    })
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
        Node::Float(f) => go_g_float(*f),
        Node::Bool(b) => b.to_string(),
        Node::Time(t) => t.clone(),
        Node::Null => "null".into(),
        Node::Comment(_) => String::new(),
    }
}

fn yaml_string(s: &str, block_indent: usize, is_key: bool) -> String {
    // sops writes its ENC[...] values plain; they are valid plain scalars.
    if super::cipher::is_enc(s) && !s.contains(char::is_whitespace) {
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

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`, with YAML's spellings of
/// the special values (what yaml.v3 writes).
fn go_g_float(f: f64) -> String {
    if let Some(special) = yaml::special_float(f) {
        return special.into();
    }
    // Shortest digits; Go switches to %e when the exponent is < -4 or >= 6.
    let (mant, exp) = split_exp(f);
    if f != 0.0 && !(-4..6).contains(&exp) {
        format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        format!("{f}")
    }
}

/// Shortest mantissa and decimal exponent of `f` (`1.5e3` -> ("1.5", 3)).
fn split_exp(f: f64) -> (String, i32) {
    let s = format!("{f:e}");
    let (mant, e) = s.split_once('e').unwrap_or((&s, "0"));
    (mant.to_string(), e.parse().unwrap_or(0))
}

/// Go `encoding/json` + `json.Indent(.., "", "\t")` layout.
fn json_node(out: &mut String, node: &Node, depth: usize) {
    let tabs = |out: &mut String, n: usize| out.extend(std::iter::repeat_n('\t', n));
    match node {
        Node::Map(items) if !items.is_empty() => {
            out.push_str("{\n");
            let items: Vec<_> = items
                .iter()
                .filter(|(_, v)| !matches!(v, Node::Comment(_)))
                .collect();
            for (i, (k, v)) in items.iter().enumerate() {
                tabs(out, depth + 1);
                go_json_string(out, k);
                out.push_str(": ");
                json_node(out, v, depth + 1);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            tabs(out, depth);
            out.push('}');
        }
        Node::Seq(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, v) in items.iter().enumerate() {
                tabs(out, depth + 1);
                json_node(out, v, depth + 1);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            tabs(out, depth);
            out.push(']');
        }
        Node::Map(_) => out.push_str("{}"),
        Node::Seq(_) => out.push_str("[]"),
        Node::Str(s) | Node::Time(s) => go_json_string(out, s),
        Node::Int(i) => out.push_str(&i.to_string()),
        Node::Float(f) => out.push_str(&go_json_float(*f)),
        Node::Bool(b) => out.push_str(&b.to_string()),
        Node::Null | Node::Comment(_) => out.push_str("null"),
    }
}

/// `encoding/json` float64: plain digits unless the exponent is < -6 or >= 21.
fn go_json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (mant, exp) = split_exp(f);
        // Go writes e+21 and e-7 (two digits only for positive exponents).
        return if exp < 0 {
            format!("{mant}e-{}", -exp)
        } else {
            format!("{mant}e+{exp:02}")
        };
    }
    format!("{f}")
}

/// Converts a decrypted tree to a YAML value, for key lookups.
pub fn to_value(node: &Node) -> Value {
    match node {
        Node::Map(items) => Value::Mapping(
            items
                .iter()
                .filter(|(_, v)| !matches!(v, Node::Comment(_)))
                .map(|(k, v)| (Value::String(k.clone()), to_value(v)))
                .collect(),
        ),
        Node::Seq(items) => Value::Sequence(items.iter().map(to_value).collect()),
        Node::Str(s) | Node::Time(s) => Value::String(s.clone()),
        Node::Int(i) => Value::Number((*i).into()),
        Node::Float(f) => Value::String(go_float(*f)),
        Node::Bool(b) => Value::Bool(*b),
        Node::Null | Node::Comment(_) => Value::Null,
    }
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
    fn go_float_spellings() {
        assert_eq!(go_g_float(2.5), "2.5");
        assert_eq!(go_g_float(7.0), "7");
        assert_eq!(go_g_float(1e6), "1e+06");
        assert_eq!(go_g_float(123456.0), "123456");
        assert_eq!(go_json_float(1e21), "1e+21");
        assert_eq!(go_json_float(7.0), "7");
    }

    #[test]
    fn flatten_and_unflatten_are_inverse() {
        let md = Node::Map(vec![
            (
                "age".into(),
                Node::Seq(vec![Node::Map(vec![
                    ("recipient".into(), Node::Str("r".into())),
                    ("enc".into(), Node::Str("e\n".into())),
                ])]),
            ),
            ("version".into(), Node::Str("3.9.0".into())),
        ]);
        let mut flat = Vec::new();
        flatten(&md, "", &mut flat);
        assert_eq!(flat[0].0, "age__list_0__map_recipient");
        assert_eq!(unflatten(&flat).unwrap(), md);
    }
}
