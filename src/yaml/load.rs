//! Reading YAML streams into `serde_yaml_ng::Value`s with `yaml-rust2`'s
//! event parser, which reports each scalar's style (see the module doc of
//! `yaml` for why).

use super::{CORE_TAG_PREFIX, RAW_PLAIN_TAG, number_text, plain_is_safe, plain_verbatim_ok};
use anyhow::{Result, anyhow};
use serde_yaml_ng::value::{Tag, TaggedValue};
use serde_yaml_ng::{Mapping, Number, Value};
use std::collections::HashMap;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One YAML document read from a stream, with the line it started on.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub line: usize,
}

/// Reads every document of a YAML (or JSON) stream. `origin` names the
/// input in error messages, which carry line and column but never content.
/// A byte-order mark at the start is skipped, as kubectl skips it.
pub fn load_stream(text: &str, origin: &str) -> Result<Vec<Document>> {
    Ok(load(text, origin, false)?.0)
}

/// The documents of `text`, and their shapes when `shapes` is set: the one
/// place both readers refuse the same text with the same message.
fn load(text: &str, origin: &str, shapes: bool) -> Result<(Vec<Document>, Vec<Shape>)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_printable(text, 0).map_err(|e| anyhow!("{origin}: invalid YAML: {e}"))?;
    let mut loader = Loader::new(text);
    if shapes {
        loader.shapes = Some(Vec::new());
    }
    let docs = loader
        .documents()
        .map_err(|e| anyhow!("{origin}: invalid YAML: {e}"))?;
    Ok((docs, loader.shapes.take().unwrap_or_default()))
}

/// Refuses characters YAML does not allow in a stream (C0 and C1 controls
/// other than tab and line breaks, DEL, U+FFFE, U+FFFF): PyYAML and
/// kubectl refuse them, so regcred must not pass them on. `first_line` is
/// the line number of the text's first line, for the message.
fn check_printable(text: &str, first_line: usize) -> Result<(), PosError> {
    let b = text.as_bytes();
    let bad = (0..b.len()).find(|&i| match b[i] {
        0x09 | 0x0A | 0x0D => false,
        c if c < 0x20 || c == 0x7F => true,
        0xC2 => b
            .get(i + 1)
            .is_some_and(|&n| (0x80..=0x9F).contains(&n) && n != 0x85),
        0xEF => b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)),
        _ => false,
    });
    let Some(i) = bad else {
        return Ok(());
    };
    let before = &text[..i];
    let line = first_line + before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let c = text[i..].chars().next().unwrap_or_default();
    Err(PosError {
        line,
        col,
        msg: format!("the character U+{:04X} is not allowed in YAML", c as u32),
    })
}

/// Where a node of a document was written: each scalar's position and
/// style, and the entries of each collection in order. Lines are 1-based,
/// columns 0-based and counted in characters. Comments are placed with it
/// (the SOPS YAML store), since the values alone do not say where they were.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Scalar {
        line: usize,
        col: usize,
        style: TScalarStyle,
        /// The scalar's text is empty (an empty block scalar has no content lines).
        empty: bool,
    },
    /// An alias: its value is a copy of the anchored node.
    Alias { line: usize, col: usize },
    /// A sequence; for a block sequence, `col` is the column of its `-`.
    Seq {
        line: usize,
        col: usize,
        flow: bool,
        items: Vec<Shape>,
    },
    /// A mapping, its (key, value) entries in order.
    Map {
        line: usize,
        col: usize,
        flow: bool,
        entries: Vec<(Shape, Shape)>,
    },
}

impl Shape {
    /// Where the node starts: (line, column).
    pub fn start(&self) -> (usize, usize) {
        match self {
            Shape::Scalar { line, col, .. }
            | Shape::Alias { line, col }
            | Shape::Seq { line, col, .. }
            | Shape::Map { line, col, .. } => (*line, *col),
        }
    }
}

/// [`load_stream`], plus each document's [`Shape`]. It refuses what
/// [`load_stream`] refuses (yaml.v3, which sops reads with, refuses control
/// characters too), so both give the same documents for the same text.
pub fn load_stream_with_shapes(text: &str, origin: &str) -> Result<Vec<(Document, Shape)>> {
    let (docs, shapes) = load(text, origin, true)?;
    Ok(docs.into_iter().zip(shapes).collect())
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
        let mut seen_start = false;
        // Line breaks found with memchr: a ResourceList has many short
        // lines, and only those at column 0 are looked at.
        let mut breaks = memchr::memchr_iter(b'\n', text.as_bytes());
        let mut next = 0;
        for line_number in 0.. {
            let at = next;
            if at >= text.len() {
                break;
            }
            let end = breaks.next().map_or(text.len(), |i| i + 1);
            next = end;
            // Indented lines, blank lines and comments are no entries.
            if matches!(text.as_bytes()[at], b' ' | b'\n' | b'#') {
                continue;
            }
            let l = text[at..end].trim_end_matches(['\n', '\r']);
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
            starts.push((key.to_string(), at, line_number));
        }
        let mut entries = Vec::new();
        for (i, (key, start, line)) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(text.len(), |s| s.1);
            entries.push((key.clone(), *start..end, *line));
        }
        Some(TopLevel { text, entries })
    }

    /// Whether no top-level key appears twice (a duplicate is an error the
    /// full parser reports; the split would silently use the first).
    pub fn keys_unique(&self) -> bool {
        let mut keys: Vec<&str> = self.entries.iter().map(|(k, _, _)| k.as_str()).collect();
        keys.sort_unstable();
        keys.windows(2).all(|w| w[0] != w[1])
    }

    /// The document without entry `key`, whose lines are blanked so that
    /// error positions still match the original text.
    pub fn without(&self, key: &str) -> String {
        let mut out = String::with_capacity(self.text.len().min(1 << 16));
        let mut last = 0;
        for (k, range, _) in &self.entries {
            if k == key {
                out.push_str(&self.text[last..range.start]);
                let breaks = self.text[range.clone()]
                    .bytes()
                    .filter(|&b| b == b'\n')
                    .count();
                out.extend(std::iter::repeat_n('\n', breaks));
                last = range.end;
            }
        }
        out.push_str(&self.text[last..]);
        out
    }

    /// The document without entry `key` and without its lines, when its
    /// lines are blank lines to the rest (see [`Self::without`]) that
    /// change no value. Blank lines count only in a scalar that spans them
    /// or keeps trailing line breaks (`|+`), which must begin before `key`
    /// (a line at column 0 ends any plain scalar): `None` when the text
    /// before `key` holds a quote, a block scalar or a flow indicator, or
    /// when `key` is not there. Error positions after the entry differ
    /// from the input's.
    pub fn without_joined(&self, key: &str) -> Option<String> {
        let range = self.entry_range(key)?;
        if self.text[..range.start].contains(['|', '>', '"', '\'', '[', '{']) {
            return None;
        }
        let mut out = String::with_capacity(self.text.len() - range.len());
        out.push_str(&self.text[..range.start]);
        out.push_str(&self.text[range.end..]);
        Some(out)
    }

    /// Where entry `key` is in the text (from its key line to the next entry).
    pub fn entry_range(&self, key: &str) -> Option<std::ops::Range<usize>> {
        self.entries
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, range, _)| range.clone())
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
        check_printable(&self.text[range.clone()], *line)
            .map_err(|e| anyhow!("{origin}: invalid YAML: {e}"))?;
        // Leading newlines keep line numbers in errors those of the whole text.
        let padded = format!("{}{}", "\n".repeat(*line), &self.text[range.clone()]);
        let mut loader = Loader::new(&padded);
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
                    break;
                }
                f(loader.node(event, mark).map_err(invalid)?)?;
            },
            Event::Scalar(ref v, TScalarStyle::Plain, _, None)
                if v.is_empty() || v == "~" || v == "null" => {}
            _ => {
                return Err(anyhow!(
                    "{origin}: line {}: {key} must be a list",
                    mark.line()
                ));
            }
        }
        // The entry must end where the list ends: text the parser reaches
        // after it (a line indented less than the items, say) is an error
        // of the whole document, not items to drop silently.
        loop {
            let (event, mark) = loader.next().map_err(invalid)?;
            match event {
                Event::MappingEnd | Event::DocumentEnd => {}
                Event::StreamEnd => return Ok(true),
                _ => return Err(invalid(pos_err(mark, "unexpected YAML event"))),
            }
        }
    }
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

/// Deepest nesting of collections accepted. Kubernetes objects nest a few
/// dozen levels; the limit keeps a hostile file from exhausting the stack.
pub const MAX_DEPTH: usize = 128;

/// Nodes that aliases may add to a document beyond this floor, plus ten
/// times the nodes written out in it: an anchor reused for a repeated block
/// fits, an alias bomb (anchors of aliases of anchors) does not.
pub const ALIAS_FLOOR: usize = 10_000;
const ALIAS_RATIO: usize = 10;

struct Loader<'a> {
    text: &'a str,
    parser: Parser<std::str::Chars<'a>>,
    /// Anchored values with their size in nodes.
    anchors: HashMap<usize, (Value, usize)>,
    depth: usize,
    /// Nodes written out in the current document.
    written: usize,
    /// Nodes aliases added to the current document.
    expanded: usize,
    /// When recording shapes: a stack, each finished node pushing its own
    /// and each collection taking its children's.
    shapes: Option<Vec<Shape>>,
    /// The text's characters, to tell flow from block collections.
    chars: Vec<char>,
}

impl<'a> Loader<'a> {
    fn new(text: &'a str) -> Self {
        Loader {
            text,
            parser: Parser::new_from_str(text),
            anchors: HashMap::new(),
            depth: 0,
            written: 0,
            expanded: 0,
            shapes: None,
            chars: Vec::new(),
        }
    }
}

/// Nodes in a value (a scalar is one).
fn size(v: &Value) -> usize {
    1 + match v {
        Value::Sequence(s) => s.iter().map(size).sum(),
        Value::Mapping(m) => m.iter().map(|(k, v)| size(k) + size(v)).sum(),
        Value::Tagged(t) => size(&t.value),
        _ => 0,
    }
}

impl Loader<'_> {
    fn next(&mut self) -> Result<(Event, Marker), PosError> {
        self.parser
            .next_token()
            .map_err(|e| pos_err(*e.marker(), e.info().to_string()))
    }

    fn documents(&mut self) -> Result<Vec<Document>, PosError> {
        if self.shapes.is_some() {
            self.chars = self.text.chars().collect();
        }
        let mut docs = Vec::new();
        loop {
            let (event, mark) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(docs),
                Event::DocumentStart => {
                    self.anchors.clear();
                    self.written = 0;
                    self.expanded = 0;
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
        if self.depth >= MAX_DEPTH {
            return Err(pos_err(
                mark,
                format!("nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.depth += 1;
        let result = self.node_inner(event, mark);
        self.depth -= 1;
        result
    }

    fn node_inner(&mut self, event: Event, mark: Marker) -> Result<Value, PosError> {
        if !matches!(event, Event::Alias(_)) {
            self.written += 1;
        }
        if let Event::Scalar(_, _, _, Some(t))
        | Event::SequenceStart(_, Some(t))
        | Event::MappingStart(_, Some(t)) = &event
        {
            // yaml-rust2 decodes `%C3%A9` in a tag as two bytes of one code
            // point, so such a tag could not be written back as it was read.
            if !t.handle.is_ascii() || !t.suffix.is_ascii() {
                return Err(pos_err(mark, "tags must be ASCII"));
            }
            // `!<>`: serde_yaml_ng's `Tag::new` panics on an empty tag.
            if t.handle.is_empty() && t.suffix.is_empty() {
                return Err(pos_err(mark, "empty tag"));
            }
            // The marker of verbatim plain scalars is the reader's own.
            if Tag::new(format!("{}{}", t.handle, t.suffix)) == Tag::new(RAW_PLAIN_TAG) {
                return Err(pos_err(
                    mark,
                    format!("the tag !{RAW_PLAIN_TAG} is reserved"),
                ));
            }
        }
        let (value, anchor) = match event {
            Event::Alias(id) => {
                self.push_shape(Shape::Alias {
                    line: mark.line(),
                    col: mark.col(),
                });
                let (v, n) = self
                    .anchors
                    .get(&id)
                    .ok_or_else(|| pos_err(mark, "alias to an unknown anchor"))?;
                self.expanded += n;
                let limit = ALIAS_FLOOR + ALIAS_RATIO * self.written;
                if self.expanded > limit {
                    return Err(pos_err(
                        mark,
                        format!(
                            "aliases expand to more than {limit} nodes ({} written out): alias expansion is limited",
                            self.written
                        ),
                    ));
                }
                return Ok(v.clone());
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.push_shape(Shape::Scalar {
                    line: mark.line(),
                    col: mark.col(),
                    style,
                    empty: text.is_empty(),
                });
                (scalar(text, style, tag, mark)?, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                let mut seq = Vec::new();
                let mut items = Vec::new();
                loop {
                    let (event, mark) = self.next()?;
                    if event == Event::SequenceEnd {
                        break;
                    }
                    seq.push(self.node(event, mark)?);
                    items.extend(self.pop_shape());
                }
                if self.shapes.is_some() {
                    // A flow sequence starts at its `[`; a block sequence not
                    // indented under its key is reported at its first item,
                    // which may itself be a `[`.
                    let flow = self.char_at(mark) == Some('[')
                        && items
                            .first()
                            .is_none_or(|i| i.start() > (mark.line(), mark.col()));
                    self.push_shape(Shape::Seq {
                        line: mark.line(),
                        col: mark.col(),
                        flow,
                        items,
                    });
                }
                (with_tag(Value::Sequence(seq), tag, "seq"), anchor)
            }
            Event::MappingStart(anchor, tag) => {
                let mut map = Mapping::new();
                let mut entries = Vec::new();
                loop {
                    let (event, key_mark) = self.next()?;
                    if event == Event::MappingEnd {
                        break;
                    }
                    let key = self.node(event, key_mark)?;
                    let key_shape = self.pop_shape();
                    let (event, mark) = self.next()?;
                    let value = self.node(event, mark)?;
                    if let (Some(k), Some(v)) = (key_shape, self.pop_shape()) {
                        entries.push((k, v));
                    }
                    if map.contains_key(&key) {
                        return Err(pos_err(key_mark, "duplicate mapping key"));
                    }
                    map.insert(key, value);
                }
                // Room for three entries is kept for the first; a spec of
                // thousands of registries has as many `{env: NAME}`s.
                if map.capacity() > map.len() {
                    map.shrink_to_fit();
                }
                if self.shapes.is_some() {
                    // A flow mapping's start is reported at its `{`; a block
                    // mapping's one character into its first key (or at `?`).
                    let flow = self.char_at(mark) == Some('{')
                        && entries
                            .first()
                            .is_none_or(|(k, _)| k.start() > (mark.line(), mark.col()));
                    let (line, col) = match entries.first() {
                        Some((k, _)) if !flow => k.start(),
                        _ => (mark.line(), mark.col()),
                    };
                    self.push_shape(Shape::Map {
                        line,
                        col,
                        flow,
                        entries,
                    });
                }
                (with_tag(Value::Mapping(map), tag, "map"), anchor)
            }
            _ => return Err(pos_err(mark, "unexpected YAML event")),
        };
        if anchor > 0 {
            self.anchors.insert(anchor, (value.clone(), size(&value)));
        }
        Ok(value)
    }
}

impl Loader<'_> {
    fn push_shape(&mut self, shape: Shape) {
        if let Some(stack) = &mut self.shapes {
            stack.push(shape);
        }
    }

    fn pop_shape(&mut self) -> Option<Shape> {
        self.shapes.as_mut().and_then(Vec::pop)
    }

    /// The character at a marker (markers count characters).
    fn char_at(&self, mark: Marker) -> Option<char> {
        self.chars.get(mark.index()).copied()
    }
}

/// Keeps a non-core tag on a collection; core tags (`!!map`, `!!seq`) and
/// the non-specific `!` add nothing.
fn with_tag(value: Value, tag: Option<yaml_rust2::parser::Tag>, core: &str) -> Value {
    match tag {
        Some(t) if !(t.handle == CORE_TAG_PREFIX && t.suffix == core) => match kept_tag(&t) {
            Some(tag) => Value::Tagged(Box::new(TaggedValue { tag, value })),
            None => value,
        },
        _ => value,
    }
}

/// A tag as the writer will spell it: a local tag `!name` as it is, any
/// other (global) tag in the verbatim form `!<uri>`, which every reader
/// resolves to the same tag. `None` for the non-specific tag `!`.
fn kept_tag(t: &yaml_rust2::parser::Tag) -> Option<Tag> {
    match (t.handle.as_str(), t.suffix.as_str()) {
        // yaml-rust2 reports the non-specific `!` either way.
        ("!", "") | ("", "!") => None,
        ("!", suffix) => Some(Tag::new(format!("!{suffix}"))),
        (handle, suffix) => Some(Tag::new(format!("<{handle}{suffix}>"))),
    }
}

fn scalar(
    text: String,
    style: TScalarStyle,
    tag: Option<yaml_rust2::parser::Tag>,
    mark: Marker,
) -> Result<Value, PosError> {
    let text = yaml_1_1_breaks(text, style, mark.col());
    if let Some(t) = tag {
        if t.handle == CORE_TAG_PREFIX {
            return match t.suffix.as_str() {
                "str" | "binary" | "timestamp" => Ok(Value::String(text)),
                "null" => Ok(Value::Null),
                // `!!merge <<` (as sops writes a merge key) is the plain `<<`.
                "merge" if text == "<<" => Ok(raw_plain(text)),
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
        // `! 8080` is the string "8080": the non-specific tag only stops
        // the plain scalar from being resolved.
        return Ok(match kept_tag(&t) {
            Some(tag) => Value::Tagged(Box::new(TaggedValue {
                tag,
                value: Value::String(text),
            })),
            None => Value::String(text),
        });
    }
    Ok(untagged(text, style))
}

/// The value of an untagged scalar whose text is already decoded (and
/// folded as Go's readers fold it): shared with the fast reader
/// ([`super::lite`]), so both read every scalar alike.
pub(super) fn untagged(text: String, style: TScalarStyle) -> Value {
    // A plain scalar over several lines is a string to every YAML version
    // (no number, boolean or date spans lines).
    if style != TScalarStyle::Plain || text.contains('\n') {
        return Value::String(text);
    }
    resolve_plain(text.clone()).unwrap_or_else(|| {
        if plain_verbatim_ok(&text) {
            raw_plain(text)
        } else {
            // Not writable as plain text in block style; a string to every reader.
            Value::String(text)
        }
    })
}

/// Go's YAML readers (kubectl, kustomize, sops: YAML 1.1 in this) take
/// U+0085, U+2028 and U+2029 for line breaks, so in a plain or
/// single-quoted scalar the blanks around one are folding space, and in a
/// literal block the indentation after one is not content; a YAML 1.2
/// reader keeps both. go-yaml writes such a string single-quoted or as a
/// literal block, indented after the break.
fn yaml_1_1_breaks(text: String, style: TScalarStyle, col: usize) -> String {
    let is_break = |c: char| matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}');
    let (flow, block_indent) = match style {
        TScalarStyle::Plain | TScalarStyle::SingleQuoted => (true, 0),
        TScalarStyle::Literal => (false, col),
        _ => return text,
    };
    if !text.contains(is_break) {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut skipped: Option<usize> = None;
    for c in text.chars() {
        if is_break(c) {
            if flow {
                out.truncate(out.trim_end_matches([' ', '\t']).len());
            }
            out.push(c);
            skipped = Some(0);
            continue;
        }
        match skipped {
            Some(n) if c == ' ' && (flow || n < block_indent) => {
                skipped = Some(n + 1);
                continue;
            }
            Some(_) if flow && c == '\t' => continue,
            _ => skipped = None,
        }
        out.push(c);
    }
    out
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
