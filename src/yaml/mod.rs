//! YAML reading and writing that keeps every scalar meaning the same to
//! YAML 1.1 readers (kubectl, sigs.k8s.io/yaml) and YAML 1.2 readers
//! (kustomize's kyaml, serde_yaml) alike.
//!
//! Why not `serde_yaml_ng::from_str` / `to_string` for manifests: the
//! serde_yaml family forgets whether a scalar was quoted (`0755` and `'0755'`
//! both become the string `"0755"`) and writes strings such as `yes`, `on`,
//! `1_000` or `2024-01-01` unquoted, which a YAML 1.1 reader turns into a
//! boolean, a number or a date. So this module reads the event stream with
//! `yaml-rust2`, which reports each scalar's style, and builds
//! `serde_yaml_ng::Value`s with two rules:
//!
//! * quoted and block scalars are strings; plain scalars that both YAML
//!   versions read the same way become typed values (`null`, `true`, `42`,
//!   `1.5`) or plain strings;
//! * a plain scalar whose meaning depends on the YAML version (`0755`,
//!   `yes`, `0x1F`, `1_000`, `2024-01-01`, ...) is kept verbatim, wrapped in a
//!   private tag ([`RAW_PLAIN_TAG`]), and written back exactly as it was read,
//!   so every reader sees after regcred what it saw before.
//!
//! The writer quotes every string that any YAML version could read as
//! something else, and uses literal blocks for multi-line text.

use anyhow::{Context, Result, anyhow, bail};
use serde_yaml_ng::value::{Tag, TaggedValue};
use serde_yaml_ng::{Mapping, Number, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Private tag marking a plain scalar that must be written back verbatim.
pub const RAW_PLAIN_TAG: &str = "regcred.dev/raw-plain";

/// One YAML document read from a stream, with the line it started on.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub line: usize,
}

/// Reads every document of a YAML (or JSON) stream. `origin` names the
/// input in error messages, which carry line and column but never content.
pub fn load_stream(text: &str, origin: &str) -> Result<Vec<Document>> {
    let mut loader = Loader {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
    };
    loader
        .documents()
        .map_err(|e| anyhow!("{origin}: invalid YAML: {e}"))
}

/// A block-style mapping document cut into its top-level entries, so that a
/// large entry (a ResourceList's `items`) can be parsed one element at a
/// time instead of as one tree.
pub struct TopLevel<'a> {
    text: &'a str,
    /// (key, byte range of the entry, first line number (0-based)).
    entries: Vec<(String, std::ops::Range<usize>, usize)>,
}

impl<'a> TopLevel<'a> {
    /// Splits `text` when it is one block mapping whose keys start lines at
    /// column 0 (as kustomize and kpt write ResourceLists); `None` for
    /// anything else (JSON, flow style, several documents).
    pub fn split(text: &'a str) -> Option<Self> {
        let mut starts: Vec<(String, usize, usize)> = Vec::new();
        let mut offset = 0;
        let mut seen_start = false;
        for (n, line) in text.split_inclusive('\n').enumerate() {
            let at = offset;
            offset += line.len();
            let l = line.trim_end_matches(['\n', '\r']);
            if l.is_empty() || l.starts_with(['#', ' ']) || l == "-" || l.starts_with("- ") {
                continue;
            }
            if l == "---" && starts.is_empty() && !seen_start {
                seen_start = true;
                continue;
            }
            let (key, rest) = l.split_once(':')?;
            let key_ok =
                !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !key_ok || !(rest.is_empty() || rest.starts_with(' ')) {
                return None;
            }
            starts.push((key.to_string(), at, n));
        }
        let mut entries = Vec::new();
        for (i, (key, start, line)) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(text.len(), |s| s.1);
            entries.push((key.clone(), *start..end, *line));
        }
        Some(TopLevel { text, entries })
    }

    /// The document without entry `key`, whose lines are blanked so that
    /// error positions still match the original text.
    pub fn without(&self, key: &str) -> String {
        let mut out = String::with_capacity(self.text.len().min(1 << 16));
        let mut last = 0;
        for (k, range, _) in &self.entries {
            if k == key {
                out.push_str(&self.text[last..range.start]);
                out.extend(std::iter::repeat_n(
                    '\n',
                    self.text[range.clone()].matches('\n').count(),
                ));
                last = range.end;
            }
        }
        out.push_str(&self.text[last..]);
        out
    }

    /// The text of entry `key` (from its key line to the next entry), as
    /// it was read.
    pub fn entry_text(&self, key: &str) -> Option<&'a str> {
        self.entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, range, _)| &self.text[range.clone()])
    }

    /// Calls `f` with each element of the sequence under `key`, parsed one
    /// at a time. Returns false when there is no such entry.
    pub fn for_each_element(
        &self,
        key: &str,
        origin: &str,
        mut f: impl FnMut(Value) -> Result<()>,
    ) -> Result<bool> {
        let Some((_, range, line)) = self.entries.iter().find(|(k, _, _)| k == key) else {
            return Ok(false);
        };
        // Leading newlines keep line numbers in errors those of the whole text.
        let padded = format!("{}{}", "\n".repeat(*line), &self.text[range.clone()]);
        let mut loader = Loader {
            parser: Parser::new_from_str(&padded),
            anchors: HashMap::new(),
        };
        let invalid = |e: PosError| anyhow!("{origin}: invalid YAML: {e}");
        loop {
            let (event, mark) = loader.next().map_err(invalid)?;
            match event {
                Event::StreamStart | Event::DocumentStart | Event::MappingStart(..) => {}
                Event::Scalar(ref k, ..) if k == key => break,
                _ => return Err(invalid(pos_err(mark, "unexpected YAML event"))),
            }
        }
        let (event, mark) = loader.next().map_err(invalid)?;
        match event {
            Event::SequenceStart(..) => loop {
                let (event, mark) = loader.next().map_err(invalid)?;
                if event == Event::SequenceEnd {
                    return Ok(true);
                }
                f(loader.node(event, mark).map_err(invalid)?)?;
            },
            Event::Scalar(ref v, TScalarStyle::Plain, _, None)
                if v.is_empty() || v == "~" || v == "null" =>
            {
                Ok(true)
            }
            _ => Err(anyhow!(
                "{origin}: line {}: {key} must be a list",
                mark.line()
            )),
        }
    }
}

/// Returns the string content of a value, looking through the raw-plain tag.
pub fn as_str(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Tagged(t) if is_raw_plain(t) => t.value.as_str(),
        _ => None,
    }
}

/// A scalar as a string: strings as they are, numbers and booleans as
/// written. Keys and values of credential documents, labels and spec fields
/// are all read this way, so `0123` or `true` never turn into something else.
pub fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => as_str(other).map(str::to_string),
    }
}

fn is_raw_plain(t: &TaggedValue) -> bool {
    t.tag == Tag::new(RAW_PLAIN_TAG)
}

/// Parse error with a position; never quotes the offending input.
#[derive(Debug)]
struct PosError {
    line: usize,
    col: usize,
    msg: String,
}

impl std::fmt::Display for PosError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.col, self.msg)
    }
}

fn pos_err(mark: Marker, msg: impl Into<String>) -> PosError {
    PosError {
        line: mark.line(),
        col: mark.col() + 1,
        msg: msg.into(),
    }
}

struct Loader<'a> {
    parser: Parser<std::str::Chars<'a>>,
    anchors: HashMap<usize, Value>,
}

impl Loader<'_> {
    fn next(&mut self) -> Result<(Event, Marker), PosError> {
        self.parser
            .next_token()
            .map_err(|e| pos_err(*e.marker(), e.info().to_string()))
    }

    fn documents(&mut self) -> Result<Vec<Document>, PosError> {
        let mut docs = Vec::new();
        loop {
            let (event, mark) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(docs),
                Event::DocumentStart => {
                    self.anchors.clear();
                    let (event, mark) = self.next()?;
                    let value = self.node(event, mark)?;
                    docs.push(Document {
                        value,
                        line: mark.line(),
                    });
                }
                _ => return Err(pos_err(mark, "unexpected event outside a document")),
            }
        }
    }

    fn node(&mut self, event: Event, mark: Marker) -> Result<Value, PosError> {
        let (value, anchor) = match event {
            Event::Alias(id) => {
                let v = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| pos_err(mark, "alias to an unknown anchor"))?;
                return Ok(v);
            }
            Event::Scalar(text, style, anchor, tag) => (scalar(text, style, tag, mark)?, anchor),
            Event::SequenceStart(anchor, tag) => {
                let mut seq = Vec::new();
                loop {
                    let (event, mark) = self.next()?;
                    if event == Event::SequenceEnd {
                        break;
                    }
                    seq.push(self.node(event, mark)?);
                }
                (with_tag(Value::Sequence(seq), tag, "seq"), anchor)
            }
            Event::MappingStart(anchor, tag) => {
                let mut map = Mapping::new();
                loop {
                    let (event, key_mark) = self.next()?;
                    if event == Event::MappingEnd {
                        break;
                    }
                    let key = self.node(event, key_mark)?;
                    let (event, mark) = self.next()?;
                    let value = self.node(event, mark)?;
                    if map.contains_key(&key) {
                        return Err(pos_err(key_mark, "duplicate mapping key"));
                    }
                    map.insert(key, value);
                }
                (with_tag(Value::Mapping(map), tag, "map"), anchor)
            }
            _ => return Err(pos_err(mark, "unexpected YAML event")),
        };
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
        }
        Ok(value)
    }
}

const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// Keeps a non-core tag on a collection; core tags (`!!map`, `!!seq`) add nothing.
fn with_tag(value: Value, tag: Option<yaml_rust2::parser::Tag>, core: &str) -> Value {
    match tag {
        Some(t) if !(t.handle == CORE_TAG_PREFIX && t.suffix == core) => {
            Value::Tagged(Box::new(TaggedValue {
                tag: Tag::new(format!("{}{}", t.handle, t.suffix)),
                value,
            }))
        }
        _ => value,
    }
}

fn scalar(
    text: String,
    style: TScalarStyle,
    tag: Option<yaml_rust2::parser::Tag>,
    mark: Marker,
) -> Result<Value, PosError> {
    if let Some(t) = tag {
        if t.handle == CORE_TAG_PREFIX {
            return match t.suffix.as_str() {
                "str" | "binary" | "timestamp" => Ok(Value::String(text)),
                "null" => Ok(Value::Null),
                "float" => resolve_plain(text.clone())
                    .and_then(|v| v.as_f64())
                    .map(|f| Value::Number(Number::from(f)))
                    .ok_or_else(|| pos_err(mark, "value is not a valid !!float")),
                "bool" | "int" => resolve_plain(text.clone())
                    .filter(|v| !matches!(v, Value::String(_) | Value::Tagged(_)))
                    .ok_or_else(|| pos_err(mark, format!("value is not a valid !!{}", t.suffix))),
                other => Err(pos_err(mark, format!("unsupported tag !!{other}"))),
            };
        }
        return Ok(Value::Tagged(Box::new(TaggedValue {
            tag: Tag::new(format!("{}{}", t.handle, t.suffix)),
            value: Value::String(text),
        })));
    }
    if style != TScalarStyle::Plain {
        return Ok(Value::String(text));
    }
    Ok(resolve_plain(text.clone()).unwrap_or_else(|| raw_plain(text)))
}

fn raw_plain(text: String) -> Value {
    Value::Tagged(Box::new(TaggedValue {
        tag: Tag::new(RAW_PLAIN_TAG),
        value: Value::String(text),
    }))
}

/// Resolves a plain scalar to the value YAML 1.1 and 1.2 readers agree on,
/// or `None` when they disagree (or it is a form we do not normalise).
fn resolve_plain(text: String) -> Option<Value> {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    // Numbers are typed only in their canonical spelling, so `1.50`, `+12`
    // or `-0` (a password, a version) are written back exactly as read.
    if is_decimal_int(&text) && !text.starts_with('+') && text != "-0" {
        let n = text.strip_prefix('+').unwrap_or(&text);
        if let Ok(i) = n.parse::<i64>() {
            return Some(Value::Number(Number::from(i)));
        }
        if let Ok(u) = n.parse::<u64>() {
            return Some(Value::Number(Number::from(u)));
        }
        return None;
    }
    if is_simple_float(&text) {
        let f = text.parse::<f64>().ok()?;
        return (number_text(&Number::from(f)) == text).then(|| Value::Number(Number::from(f)));
    }
    if plain_is_safe(&text) {
        return Some(Value::String(text));
    }
    None
}

fn is_decimal_int(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

/// `1.5`, `-0.25`, `3.0e8`: a dot with digits on both sides, optional exponent.
fn is_simple_float(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    let Some((int, frac)) = mantissa.split_once('.') else {
        return false;
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    // YAML 1.1 needs a sign in the exponent (`1.0e+3`); `1.0e3` is a string there.
    let exp_ok = exponent.is_none_or(|e| e.starts_with(['-', '+']) && digits(&e[1..]));
    digits(int) && (int == "0" || !int.starts_with('0')) && digits(frac) && exp_ok
}

/// True when `s` can be written as a plain scalar and every YAML reader,
/// 1.1 or 1.2, reads it back as this same string.
pub fn plain_is_safe(s: &str) -> bool {
    // Runs for every scalar read and written: bytes and a table, no allocation.
    static ALLOWED: [bool; 256] = plain_chars();
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return false;
    };
    // A leading dot is fine before a letter (`.dockerconfigjson`), but
    // `.5`, `.inf` and `.nan` are numbers.
    let dot_word = first == b'.'
        && b.get(1).is_some_and(u8::is_ascii_alphabetic)
        && !(s.eq_ignore_ascii_case(".inf") || s.eq_ignore_ascii_case(".nan"));
    if !first.is_ascii_alphabetic() && first != b'/' && first != b'_' && !dot_word {
        return false;
    }
    if matches!(b[b.len() - 1], b' ' | b':') {
        return false;
    }
    // Allowed characters only, and never ": " (a mapping) or " #" (a comment).
    let mut prev = 0u8;
    for &c in b {
        if !ALLOWED[usize::from(c)] || (prev == b':' && c == b' ') || (prev == b' ' && c == b'#') {
            return false;
        }
        prev = c;
    }
    !(b.len() <= 5
        && ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]
            .iter()
            .any(|k| s.eq_ignore_ascii_case(k)))
}

/// ASCII letters, digits and ` -_./:@+=%$()^,`.
const fn plain_chars() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).is_ascii_alphanumeric();
        i += 1;
    }
    let extra = b" -_./:@+=%$()^,";
    let mut j = 0;
    while j < extra.len() {
        t[extra[j] as usize] = true;
        j += 1;
    }
    t
}

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

/// YAML's spelling of NaN and the infinities, which every reader agrees on.
pub fn special_float(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some(".nan")
    } else if f.is_infinite() {
        Some(if f > 0.0 { ".inf" } else { "-.inf" })
    } else {
        None
    }
}

fn number_text(n: &Number) -> String {
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
pub fn double_quoted(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(src: &str) -> String {
        let docs = load_stream(src, "test").unwrap();
        stream_to_string(docs.iter().map(|d| &d.value)).unwrap()
    }

    #[test]
    fn ambiguous_plain_scalars_are_written_back_verbatim() {
        let src = "a: 0755\nb: yes\nc: 1_000\nd: 2024-01-01\ne: 0x1F\nf: 1e3\ng: ~\n";
        assert_eq!(
            roundtrip(src),
            "a: 0755\nb: yes\nc: 1_000\nd: 2024-01-01\ne: 0x1F\nf: 1e3\ng: null\n"
        );
    }

    #[test]
    fn floats_are_written_so_both_yaml_versions_read_floats() {
        let src = "a: 1.5\nb: 1.0e+300\nc: 3.0e8\nd: !!float 1\ne: 1.0e-7\n";
        assert_eq!(
            roundtrip(src),
            "a: 1.5\nb: 1.0e+300\nc: 3.0e8\nd: 1.0\ne: 1.0e-7\n"
        );
    }

    #[test]
    fn quoted_lookalikes_stay_quoted() {
        let src = "a: \"yes\"\nb: 'on'\nc: \"0755\"\nd: \"1_000\"\ne: \"~\"\nf: \"2024-01-01\"\ng: \"Y\"\nh: \"1e3\"\n";
        assert_eq!(
            roundtrip(src),
            "a: \"yes\"\nb: \"on\"\nc: \"0755\"\nd: \"1_000\"\ne: \"~\"\nf: \"2024-01-01\"\ng: \"Y\"\nh: \"1e3\"\n"
        );
    }

    #[test]
    fn multiline_strings_use_literal_blocks_that_roundtrip() {
        for s in ["a\nb\n", "a\nb", "a\n\nb\n\n\n", "x:\n  - y\n"] {
            let mut m = Mapping::new();
            m.insert("k".into(), Value::String(s.into()));
            let text = to_string(&Value::Mapping(m.clone())).unwrap();
            let back = load_stream(&text, "t").unwrap().remove(0).value;
            assert_eq!(back, Value::Mapping(m), "{text}");
        }
    }

    #[test]
    fn block_layout_matches_kubectl_style() {
        let src = "a:\n  b:\n  - x: 1\n    y: [2]\n  - - z\n  c: {}\n";
        assert_eq!(
            roundtrip(src),
            "a:\n  b:\n  - x: 1\n    y:\n    - 2\n  - - z\n  c: {}\n"
        );
    }

    #[test]
    fn errors_name_line_and_column_but_not_content() {
        let err = load_stream("a: 1\nb: [secretvalue\n", "f.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("f.yaml: invalid YAML: line"), "{err}");
        assert!(!err.contains("secretvalue"), "{err}");
    }

    #[test]
    fn top_level_entries_stream_items_one_at_a_time() {
        let text = "apiVersion: v1\nkind: ResourceList\nitems:\n- a: 1\n  b: |\n    x\n\n    y\n- c: [2]\nfunctionConfig:\n  k: v\n";
        let top = TopLevel::split(text).expect("block style splits");
        let header = load_stream(&top.without("items"), "t")
            .unwrap()
            .remove(0)
            .value;
        assert!(header.get("items").is_none());
        assert_eq!(header["functionConfig"]["k"], Value::String("v".into()));
        let mut seen = Vec::new();
        assert!(
            top.for_each_element("items", "t", |v| {
                seen.push(v);
                Ok(())
            })
            .unwrap()
        );
        let whole = load_stream(text, "t").unwrap().remove(0).value;
        assert_eq!(Value::Sequence(seen), whole["items"]);
        // Errors keep the line numbers of the whole text.
        let bad = "kind: ResourceList\nitems:\n- a: 1\n- b: [\n";
        let err = TopLevel::split(bad)
            .unwrap()
            .for_each_element("items", "stdin", |_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 5"), "{err}");
        // Flow style and JSON are not split (callers parse them whole).
        assert!(TopLevel::split("{\"items\": []}").is_none());
        assert!(TopLevel::split("a: 1\n---\nb: 2\n").is_none());
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let err = load_stream("a: 1\na: 2\n", "f").unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("duplicate"), "{err}");
    }
}
