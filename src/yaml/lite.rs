//! A fast reader for the block YAML that kustomize, kpt, kubectl and regcred
//! itself write: it reads a document and writes, in one pass, exactly what
//! [`super::load_stream`] followed by [`super::to_string`] would write, with
//! no tree in between. It accepts only a subset of YAML whose meaning is
//! plain to see line by line (block mappings and sequences, one-line plain
//! and quoted scalars, literal blocks, `{}` and `[]`, comments), and
//! answers `None` for anything else: flow collections, anchors, aliases,
//! tags, folded or multi-line scalars, tabs, non-ASCII text, duplicate
//! keys. The caller then reads the input with the full parser, so the
//! subset only decides speed, never output.
//!
//! Why: the full parser builds a tree of about 15 times the text and runs
//! at about 45 MB/s; most resources pass through regcred untouched, and
//! this reader copies them at several hundred MB/s. A [`Visitor`] sees
//! every node with its path, so a caller can pick out the few fields it
//! needs (kind, name, namespace, labels) on the way.

use super::emit::{pad, scalar_text, string_text};
use super::load::untagged;
use super::{PLAIN_ALLOWED, plain_ends_ok, plain_is_safe, plain_verbatim_ok};
use serde_yaml_ng::Value;
use std::borrow::Cow;
use std::ops::Range;
use yaml_rust2::scanner::TScalarStyle;

/// Deepest nesting the fast reader follows (the full parser allows more).
const MAX_DEPTH: usize = 64;

/// Longest key the fast reader takes (YAML allows 1024 characters in an
/// implicit key; the writer switches to `? key` above that).
const MAX_KEY: usize = 1000;

/// A step of the path from a document's root to a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg<'a> {
    /// A key whose value is a string.
    Key(Cow<'a, str>),
    /// A position in a sequence.
    Index(usize),
    /// A key that is not a string (a number, a boolean, null).
    Other,
}

impl Seg<'_> {
    /// The key, when it is this string. Compared byte by byte in line:
    /// keys are short, and visitors compare every node's path with a few
    /// names, where a call to `memcmp` each time cost more than the bytes.
    pub fn is(&self, key: &str) -> bool {
        match self {
            Seg::Key(k) => {
                let (a, b) = (k.as_bytes(), key.as_bytes());
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
            }
            _ => false,
        }
    }
}

/// A scalar as read: its decoded text and style, and where it was written.
pub struct Scalar<'a> {
    text: Cow<'a, str>,
    style: TScalarStyle,
    /// The range of the output (from the document's start) it was written to.
    written: Range<usize>,
    /// The output is `text` itself.
    verbatim: bool,
    /// `plain_is_safe(text)`, found once when it was written.
    safe: bool,
}

impl Scalar<'_> {
    /// The value the full parser gives this scalar.
    pub fn value(&self) -> Value {
        untagged(self.text.to_string(), self.style)
    }

    /// The scalar's string, as [`super::as_str`] reads its value: without
    /// building the value when the text plainly is a string.
    pub fn string(&self) -> Option<Cow<'_, str>> {
        match self.style {
            TScalarStyle::Plain if !self.safe => {
                super::as_str(&self.value()).map(|s| Cow::Owned(s.to_string()))
            }
            _ => Some(Cow::Borrowed(&self.text)),
        }
    }

    /// Where the scalar was written, when it was written as its own text
    /// (so that range of the output spells the string).
    pub fn written_as_is(&self) -> Option<Range<usize>> {
        self.verbatim.then(|| self.written.clone())
    }
}

/// What a path leads to.
pub enum Node<'s, 'a> {
    Scalar(&'s Scalar<'a>),
    /// A scalar written as nothing (`key:`), which is null.
    Null,
    Mapping,
    Sequence,
    EmptyMapping,
    EmptySequence,
}

/// The kind of a top-level entry's value (see [`Visitor::top_entry`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Scalar,
    Null,
    Collection,
    EmptyMapping,
    EmptySequence,
}

/// What a caller learns while a document is read.
pub trait Visitor {
    /// Every node, with its path from the document's root.
    fn node(&mut self, path: &[Seg], node: Node);
    /// A top-level entry was written at `range` of the output (offsets
    /// from the start of this document's output).
    fn top_entry(&mut self, _key: &Seg, _shape: Shape, _range: Range<usize>) {}
}

/// One line of the input.
#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    /// The text after the indentation, without the line break.
    body: &'a str,
    /// Offset of the line's start in the text.
    start: usize,
    /// Offset after the line's break (or the end of the text).
    end: usize,
    /// The line ends with a line break.
    broken: bool,
}

/// Whether every byte is printable ASCII or a line feed: the subset this
/// reader takes (no tabs, carriage returns or non-ASCII text, whose rules
/// the full parser applies).
fn plain_ascii(text: &str) -> bool {
    // Runs over the whole input: blocks without an early exit inside, which
    // the compiler turns into vector instructions.
    let ok = |b: &u8| (*b == b'\n') | (b.wrapping_sub(0x20) < 0x5f);
    let chunks = text.as_bytes().chunks_exact(64);
    let tail = chunks.remainder();
    chunks
        .into_iter()
        .all(|c| c.iter().fold(true, |all, b| all & ok(b)))
        && tail.iter().all(ok)
}

/// The document bodies of a YAML stream: ranges of `text` between `---`
/// lines (a `---` may carry a comment). `None` when the stream uses
/// anything else at column 0 that marks documents (`...`, `%` directives,
/// `--- value`) or starts with a byte-order mark.
pub fn split_stream(text: &str) -> Option<Vec<Range<usize>>> {
    if !plain_ascii(text) {
        return None;
    }
    let mut docs = Vec::new();
    let mut start = 0;
    let b = text.as_bytes();
    // Only lines that start with `-`, `.` or `%` can mark documents, so
    // only their first byte is looked at; line breaks are found by memchr.
    let starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', b).map(|i| i + 1));
    for at in starts.filter(|&at| at < b.len()) {
        if !matches!(b[at], b'-' | b'.' | b'%') {
            continue;
        }
        let end = memchr::memchr(b'\n', &b[at..]).map_or(b.len(), |i| at + i + 1);
        let l = text[at..end].strip_suffix('\n').unwrap_or(&text[at..end]);
        if l.starts_with("...") || l.starts_with('%') {
            return None;
        }
        if let Some(rest) = l.strip_prefix("---") {
            let comment = rest.trim_start_matches(' ');
            let marker = rest.is_empty()
                || (rest.starts_with(' ') && (comment.is_empty() || comment.starts_with('#')));
            if !marker {
                return None;
            }
            docs.push(start..at);
            start = end;
        }
    }
    docs.push(start..text.len());
    Some(docs)
}

/// Reads the block mapping document `text[range]` and appends what the
/// writer would write for it to `out` (at column 0). `None`, with `out`
/// unchanged, when the text is outside the subset or holds no mapping
/// (an empty document gives `Some(false)`).
pub fn document(
    text: &str,
    range: Range<usize>,
    out: &mut String,
    visitor: &mut impl Visitor,
) -> Option<bool> {
    read(text, range, out, visitor, |r| r.document())
}

/// The documents of a stream: each range that [`split_stream`] gave for
/// `text` read by [`document`] (the text was checked once, not once per
/// document). `each` gets the range, the written text and the visitor;
/// `None` as soon as a document is outside the subset.
pub fn documents<V: Visitor>(
    text: &str,
    ranges: Vec<Range<usize>>,
    mut visitor: impl FnMut() -> V,
    mut each: impl FnMut(Range<usize>, &str, V) -> Option<()>,
) -> Option<()> {
    let mut out = String::new();
    let mut scratch = Scratch::default();
    for range in ranges {
        out.clear();
        let mut v = visitor();
        let mut r = Reader::new(text, range.clone(), &mut out, &mut v);
        r.checked = true;
        r.reuse(scratch);
        let read = r.document()?;
        scratch = r.scratch();
        if read {
            each(range, &out, v)?;
        }
    }
    Some(())
}

/// The elements of a block sequence at column 0 in `text[range]`, each read
/// as [`element`] reads one: `each` gets its range (from its `- ` to the
/// next element, comments included), the written text and the visitor.
/// `None` as soon as an element is outside the subset, or anything but an
/// element sits at column 0.
pub fn elements<V: Visitor>(
    text: &str,
    range: Range<usize>,
    mut visitor: impl FnMut() -> V,
    mut each: impl FnMut(Range<usize>, &str, V) -> Option<()>,
) -> Option<()> {
    if !plain_ascii(&text[range.clone()]) {
        return None;
    }
    let mut out = String::new();
    let mut pos = range.start;
    let mut scratch = Scratch::default();
    loop {
        out.clear();
        let mut v = visitor();
        let mut r = Reader::new(text, pos..range.end, &mut out, &mut v);
        r.checked = true;
        r.reuse(scratch);
        let Some(first) = r.peek()? else {
            return Some(());
        };
        r.element_body()?;
        let end = match r.peek()? {
            None => range.end,
            Some(next) if next.indent == 0 && is_entry(next.body) => next.start,
            Some(_) => return None,
        };
        scratch = r.scratch();
        each(first.start..end, &out, v)?;
        pos = end;
    }
}

/// Reads one element of a block sequence at column 0 whose text is
/// `text[range]` (from its `- ` to the next element) and appends what the
/// writer would write for it as such an element (`- ` and the body two
/// columns in) to `out`. The element must be a non-empty mapping.
pub fn element(
    text: &str,
    range: Range<usize>,
    out: &mut String,
    visitor: &mut impl Visitor,
) -> Option<()> {
    read(text, range, out, visitor, |r| r.element())
}

/// Runs `step` on a reader of `text[range]`; when it says no, whatever it
/// appended to `out` is taken back, so the caller's fallback starts clean.
fn read<'a, V: Visitor, T>(
    text: &'a str,
    range: Range<usize>,
    out: &mut String,
    visitor: &mut V,
    step: impl for<'o> FnOnce(&mut Reader<'a, 'o, V>) -> Option<T>,
) -> Option<T> {
    let mark = out.len();
    let result = step(&mut Reader::new(text, range, out, visitor));
    if result.is_none() {
        out.truncate(mark);
    }
    result
}

struct Reader<'a, 'o, V> {
    text: &'a str,
    /// Offset of the next unread line.
    pos: usize,
    end: usize,
    out: &'o mut String,
    /// Where this document's output starts in `out`.
    base: usize,
    path: Vec<Seg<'a>>,
    visitor: &'o mut V,
    /// The next significant line, once found (lines are looked at again
    /// and again while the node they end is found).
    peeked: Option<Line<'a>>,
    /// The text was checked to be printable ASCII already.
    checked: bool,
    /// Key lists of finished mappings, kept for the next ones (a document
    /// has dozens of small mappings).
    spare: Vec<Keys<'a>>,
}

/// What a reader allocates, handed from one document of a stream to the
/// next (a large input has tens of thousands of small documents, and
/// allocating these anew for each was a tenth of the reading).
#[derive(Default)]
struct Scratch<'a> {
    path: Vec<Seg<'a>>,
    spare: Vec<Keys<'a>>,
}

/// Keys of one mapping, to refuse duplicates as the full parser does.
#[derive(Default)]
struct Keys<'a> {
    /// Keys spelled as they are in the text (almost all): kept apart, so
    /// that comparing and clearing them needs no look at a `Cow` or a
    /// value.
    plain: Vec<&'a str>,
    /// The others: decoded strings and keys that are not strings.
    others: Vec<KeyId<'a>>,
}

/// A key's identity: its string, or its value when it is not a string.
#[derive(PartialEq)]
enum KeyId<'a> {
    Str(Cow<'a, str>),
    /// Boxed: such keys are rare, and a key list is compared and moved
    /// for every key read.
    Value(Box<Value>),
}

impl<'a> Keys<'a> {
    /// False when the key was there already.
    fn insert(&mut self, key: KeyId<'a>) -> bool {
        // Mappings with many keys (a large ConfigMap) would make a linear
        // scan quadratic; such documents go to the full parser instead.
        if self.plain.len() + self.others.len() >= 256 || self.others.contains(&key) {
            return false;
        }
        match key {
            KeyId::Str(s) if self.plain.contains(&s.as_ref()) => false,
            KeyId::Str(Cow::Borrowed(s)) => {
                self.plain.push(s);
                true
            }
            other => {
                self.others.push(other);
                true
            }
        }
    }

    fn clear(&mut self) {
        self.plain.clear();
        self.others.clear();
    }
}

impl<'a, 'o, V: Visitor> Reader<'a, 'o, V> {
    fn new(text: &'a str, range: Range<usize>, out: &'o mut String, visitor: &'o mut V) -> Self {
        let base = out.len();
        Reader {
            text,
            pos: range.start,
            end: range.end,
            out,
            base,
            path: Vec::new(),
            visitor,
            peeked: None,
            checked: false,
            spare: Vec::new(),
        }
    }

    /// Takes over what an earlier reader of the same text allocated.
    fn reuse(&mut self, scratch: Scratch<'a>) {
        self.path = scratch.path;
        self.path.clear();
        self.spare = scratch.spare;
    }

    /// Gives back what this reader allocated, for the next.
    fn scratch(&mut self) -> Scratch<'a> {
        Scratch {
            path: std::mem::take(&mut self.path),
            spare: std::mem::take(&mut self.spare),
        }
    }

    fn document(&mut self) -> Option<bool> {
        if !self.checked && !plain_ascii(&self.text[self.pos..self.end]) {
            return None;
        }
        let Some(first) = self.peek()? else {
            return Some(false);
        };
        if first.indent != 0 || is_entry(first.body) {
            return None;
        }
        self.visitor.node(&self.path, Node::Mapping);
        self.mapping(0, None, 0, false)?;
        self.finished()?;
        Some(true)
    }

    fn element(&mut self) -> Option<()> {
        if !self.checked && !plain_ascii(&self.text[self.pos..self.end]) {
            return None;
        }
        self.element_body()?;
        self.finished()
    }

    /// An element's `- ` line and the lines of its mapping.
    fn element_body(&mut self) -> Option<()> {
        let first = self.peek()??;
        if first.indent != 0 {
            return None;
        }
        let rest = first.body.strip_prefix("- ")?;
        let spaces = rest.len() - rest.trim_start_matches(' ').len();
        let rest = &rest[spaces..];
        if !looks_like_entry(rest) {
            return None;
        }
        self.advance(first);
        self.out.push_str("- ");
        self.visitor.node(&self.path, Node::Mapping);
        self.mapping(2 + spaces, Some(rest), 2, true)
    }

    /// Only blank and comment lines may follow the node.
    fn finished(&mut self) -> Option<()> {
        match self.peek()? {
            None => Some(()),
            Some(_) => None,
        }
    }

    /// The next line that is neither blank nor a comment, unread; `None`
    /// inside means the text ended; an outer `None` that a line only has
    /// spaces (the subset leaves such lines to the full parser).
    fn peek(&mut self) -> Option<Option<Line<'a>>> {
        if let Some(line) = self.peeked {
            if line.start == self.pos {
                return Some(Some(line));
            }
        }
        loop {
            let Some(line) = self.raw_line() else {
                return Some(None);
            };
            if line.body.is_empty() {
                if line.indent > 0 {
                    return None;
                }
                self.pos = line.end;
                continue;
            }
            if line.body.starts_with('#') {
                self.pos = line.end;
                continue;
            }
            self.peeked = Some(line);
            return Some(Some(line));
        }
    }

    /// The line at `pos`, blank or not.
    fn raw_line(&self) -> Option<Line<'a>> {
        if self.pos >= self.end {
            return None;
        }
        let rest = &self.text[self.pos..self.end];
        let (l, broken) = match line_break(rest.as_bytes()) {
            Some(i) => (&rest[..i], true),
            None => (rest, false),
        };
        // Bytes, not `trim_start_matches`, which decodes characters.
        let indent = indentation(l.as_bytes());
        Some(Line {
            indent,
            body: &l[indent..],
            start: self.pos,
            end: self.pos + l.len() + usize::from(broken),
            broken,
        })
    }

    fn advance(&mut self, line: Line) {
        self.pos = line.end;
    }

    fn push(&mut self, seg: Seg<'a>) -> Option<()> {
        if self.path.len() >= MAX_DEPTH {
            return None;
        }
        self.path.push(seg);
        Some(())
    }

    /// A block mapping whose keys sit at column `col` of the input, written
    /// at `indent`. `first` is the first entry when it shares a line with a
    /// `- `; `inline` when the output cursor already sits at `indent`.
    fn mapping(
        &mut self,
        col: usize,
        mut first: Option<&'a str>,
        indent: usize,
        inline: bool,
    ) -> Option<()> {
        let mut keys = self.spare.pop().unwrap_or_default();
        keys.clear();
        let mut n = 0;
        loop {
            let content = match first.take() {
                Some(c) => c,
                None => match self.peek()? {
                    Some(l) if l.indent == col && !is_entry(l.body) => {
                        self.advance(l);
                        l.body
                    }
                    Some(l) if l.indent >= col => return None,
                    _ => break,
                },
            };
            let entry_start = self.out.len();
            if n > 0 || !inline {
                pad(self.out, indent);
            }
            let (key, rest) = split_key(content)?;
            let (id, seg) = self.write_key(key, indent)?;
            if !keys.insert(id) {
                return None;
            }
            self.out.push(':');
            self.push(seg)?;
            let shape = self.value(rest, col, indent)?;
            let seg = self.path.pop().expect("pushed above");
            if self.path.is_empty() {
                let range = entry_start - self.base..self.out.len() - self.base;
                self.visitor.top_entry(&seg, shape, range);
            }
            n += 1;
        }
        self.spare.push(keys);
        Some(())
    }

    /// Writes a key; returns its identity and path step.
    fn write_key(&mut self, key: KeyText<'a>, indent: usize) -> Option<(KeyId<'a>, Seg<'a>)> {
        match key {
            KeyText::Plain(t, bytes_ok) if bytes_ok && plain_ends_ok(t) => {
                debug_assert!(plain_is_safe(t));
                self.out.push_str(t);
                Some((KeyId::Str(Cow::Borrowed(t)), Seg::Key(Cow::Borrowed(t))))
            }
            KeyText::Plain(t, _) => {
                let v = untagged(t.to_string(), TScalarStyle::Plain);
                self.out.push_str(&scalar_text(&v, indent, true).ok()?);
                Some(match v {
                    Value::String(s) => {
                        (KeyId::Str(Cow::Owned(s.clone())), Seg::Key(Cow::Owned(s)))
                    }
                    other => (KeyId::Value(Box::new(other)), Seg::Other),
                })
            }
            KeyText::Quoted(s) => {
                let v = Value::String(s.to_string());
                self.out.push_str(&scalar_text(&v, indent, true).ok()?);
                Some((KeyId::Str(s.clone()), Seg::Key(s)))
            }
        }
    }

    /// The value after `key:` (`rest` is the rest of the line) of a mapping
    /// at column `col` whose key was written at `indent`.
    fn value(&mut self, rest: &'a str, col: usize, indent: usize) -> Option<Shape> {
        let rest = after_spaces(rest)?;
        if rest.is_empty() || rest.starts_with('#') {
            return match self.peek()? {
                Some(l) if l.indent > col => {
                    self.out.push('\n');
                    if is_entry(l.body) {
                        self.sequence(l.indent, None, indent, false)?;
                    } else {
                        self.visitor.node(&self.path, Node::Mapping);
                        self.mapping(l.indent, None, indent + 2, false)?;
                    }
                    Some(Shape::Collection)
                }
                Some(l) if l.indent == col && is_entry(l.body) => {
                    self.out.push('\n');
                    self.sequence(col, None, indent, false)?;
                    Some(Shape::Collection)
                }
                _ => {
                    self.visitor.node(&self.path, Node::Null);
                    self.out.push_str(" null\n");
                    Some(Shape::Null)
                }
            };
        }
        self.out.push(' ');
        let shape = self.scalar(rest, col, indent + 2)?;
        self.out.push('\n');
        Some(shape)
    }

    /// A block sequence whose `-` sit at column `col`, written at `indent`.
    fn sequence(
        &mut self,
        col: usize,
        mut first: Option<&'a str>,
        indent: usize,
        inline: bool,
    ) -> Option<()> {
        self.visitor.node(&self.path, Node::Sequence);
        let mut i = 0;
        loop {
            let content = match first.take() {
                Some(c) => c,
                None => match self.peek()? {
                    Some(l) if l.indent == col && is_entry(l.body) => {
                        self.advance(l);
                        l.body
                    }
                    Some(l) if l.indent > col => return None,
                    _ => break,
                },
            };
            if i > 0 || !inline {
                pad(self.out, indent);
            }
            self.out.push_str("- ");
            self.push(Seg::Index(i))?;
            let after = &content[1..];
            let rest = after.trim_start_matches(' ');
            let item_col = col + 1 + (after.len() - rest.len());
            if rest.is_empty() || rest.starts_with('#') {
                // `-` alone: the item is on the lines below.
                match self.peek()? {
                    Some(l) if l.indent > col => {
                        if is_entry(l.body) {
                            self.sequence(l.indent, None, indent + 2, true)?;
                        } else {
                            self.visitor.node(&self.path, Node::Mapping);
                            self.mapping(l.indent, None, indent + 2, true)?;
                        }
                    }
                    _ => {
                        self.visitor.node(&self.path, Node::Null);
                        self.out.push_str("null\n");
                    }
                }
            } else if is_entry(rest) {
                self.sequence(item_col, Some(rest), indent + 2, true)?;
            } else if looks_like_entry(rest) {
                self.visitor.node(&self.path, Node::Mapping);
                self.mapping(item_col, Some(rest), indent + 2, true)?;
            } else {
                self.scalar(rest, col, indent + 2)?;
                self.out.push('\n');
            }
            self.path.pop();
            i += 1;
        }
        Some(())
    }

    /// A scalar, `{}` or `[]` written on the line of its key or `- `; block
    /// scalars take the lines below, indented deeper than `col`. Written
    /// with block scalars' content at `indent`.
    fn scalar(&mut self, rest: &'a str, col: usize, indent: usize) -> Option<Shape> {
        if let Some(header) = rest.strip_prefix('|') {
            let s = self.literal(header, col)?;
            let mut scalar = Scalar {
                text: Cow::Owned(s),
                style: TScalarStyle::Literal,
                written: 0..0,
                verbatim: false,
                safe: false,
            };
            let start = self.out.len();
            self.out
                .push_str(&scalar_text(&scalar.value(), indent, false).ok()?);
            scalar.written = start - self.base..self.out.len() - self.base;
            self.visitor.node(&self.path, Node::Scalar(&scalar));
            return Some(Shape::Scalar);
        }
        // Bytes, not `strip_prefix`: this runs for every scalar.
        let empty = match rest.as_bytes() {
            [b'{', b'}', ..] => Some((Node::EmptyMapping, Shape::EmptyMapping, "{}")),
            [b'[', b']', ..] => Some((Node::EmptySequence, Shape::EmptySequence, "[]")),
            _ => None,
        };
        if let Some((node, shape, text)) = empty {
            trailing(&rest[2..])?;
            self.visitor.node(&self.path, node);
            self.out.push_str(text);
            return Some(shape);
        }
        let mut scalar = inline_scalar(rest)?;
        let text = scalar.text.as_ref();
        let plain = scalar.style == TScalarStyle::Plain;
        if !plain {
            // A plain scalar's bytes were checked as its end was found.
            scalar.safe = plain_is_safe(text);
        }
        debug_assert_eq!(scalar.safe, plain_is_safe(text));
        scalar.verbatim = scalar.safe || (plain && plain_as_written(text));
        let start = self.out.len();
        if scalar.verbatim {
            self.out.push_str(text);
        } else if !plain {
            // A quoted scalar is a string: written as the writer writes one,
            // without building the value.
            self.out.push_str(&string_text(text, indent, false));
        } else {
            self.out
                .push_str(&scalar_text(&scalar.value(), indent, false).ok()?);
        }
        scalar.written = start - self.base..self.out.len() - self.base;
        self.visitor.node(&self.path, Node::Scalar(&scalar));
        Some(Shape::Scalar)
    }

    /// A literal block scalar (`|`, `|-`, `|+`) whose content lines are
    /// indented deeper than `col`.
    fn literal(&mut self, header: &str, col: usize) -> Option<String> {
        let (chomp, after) = match header.as_bytes().first() {
            Some(b'-') => (Chomp::Strip, &header[1..]),
            Some(b'+') => (Chomp::Keep, &header[1..]),
            _ => (Chomp::Clip, header),
        };
        trailing(after)?;
        let mut text = String::new();
        let mut content_indent = None;
        let mut empty = 0;
        while let Some(line) = self.raw_line() {
            if line.body.is_empty() && line.indent == 0 {
                empty += 1;
                self.advance(line);
                continue;
            }
            if line.body.is_empty() {
                return None;
            }
            let ci = *content_indent.get_or_insert(line.indent);
            if line.indent <= col || line.indent < ci {
                break;
            }
            if ci <= col || !line.broken {
                return None;
            }
            for _ in 0..empty {
                text.push('\n');
            }
            empty = 0;
            text.push_str(&self.text[line.start + ci..line.end - 1]);
            text.push('\n');
            self.advance(line);
        }
        if text.is_empty() {
            return None;
        }
        match chomp {
            Chomp::Clip => {}
            Chomp::Strip => {
                text.pop();
            }
            Chomp::Keep => text.extend(std::iter::repeat_n('\n', empty)),
        }
        Some(text)
    }
}

enum Chomp {
    Clip,
    Strip,
    Keep,
}

/// A key as written.
enum KeyText<'a> {
    /// A plain key, and whether every byte of it is one a plain scalar may
    /// hold (see [`plain_is_safe`]).
    Plain(&'a str, bool),
    Quoted(Cow<'a, str>),
}

/// Eight bytes of `b` from `at` as a word (the caller checked there are).
fn word_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("eight bytes"))
}

/// `0x01` in every byte of a word.
const ONES: u64 = u64::from_le_bytes([1; 8]);

/// Where the first line feed in `b` is. Lines of YAML are short (20 to
/// 40 bytes), where a call to `memchr` costs more than the search: eight
/// bytes at a time in a word first, `memchr` for the rest of a long line.
fn line_break(b: &[u8]) -> Option<usize> {
    const HIGHS: u64 = ONES << 7;
    const FEEDS: u64 = ONES * b'\n' as u64;
    let mut at = 0;
    while at + 8 <= b.len() && at < 64 {
        let x = word_at(b, at) ^ FEEDS;
        // The lowest byte that is zero (a line feed) sets its high bit
        // here; bytes above it may too, which the lowest bit ignores.
        let zero = x.wrapping_sub(ONES) & !x & HIGHS;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    memchr::memchr(b'\n', &b[at..]).map(|i| at + i)
}

/// How many spaces `line` starts with, eight at a time.
fn indentation(line: &[u8]) -> usize {
    const SPACES: u64 = ONES * b' ' as u64;
    let mut at = 0;
    while at + 8 <= line.len() {
        let x = word_at(line, at) ^ SPACES;
        if x != 0 {
            return at + (x.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + line[at..].iter().take_while(|&&c| c == b' ').count()
}

/// Whether a line (after its indentation) starts a sequence entry.
fn is_entry(body: &str) -> bool {
    body == "-" || body.starts_with("- ")
}

/// Whether the text on a line is a `key:` entry rather than a scalar.
fn looks_like_entry(s: &str) -> bool {
    split_key(s).is_some()
}

/// `s` without leading spaces; `None` unless it was empty or started with one
/// (`key:value` is not an entry).
fn after_spaces(s: &str) -> Option<&str> {
    if s.is_empty() {
        return Some(s);
    }
    s.starts_with(' ').then(|| s.trim_start_matches(' '))
}

/// What may follow a complete token on its line: spaces, then a comment.
fn trailing(after: &str) -> Option<()> {
    let rest = after.trim_start_matches(' ');
    (rest.is_empty() || (rest.starts_with('#') && rest.len() < after.len())).then_some(())
}

/// Characters that may not start a plain scalar in this subset.
fn bad_start(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// Splits `key: rest` (or `key:` at the end of the line).
fn split_key(s: &str) -> Option<(KeyText<'_>, &str)> {
    let first = *s.as_bytes().first()?;
    if first == b'\'' || first == b'"' {
        let (decoded, len) = quoted(s)?;
        let after = s[len..].trim_start_matches(' ');
        let rest = after.strip_prefix(':')?;
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        return Some((KeyText::Quoted(decoded), rest));
    }
    if bad_start(first) {
        return None;
    }
    let (colon, bytes_ok) = key_colon(s)?;
    let key = trim_end_spaces(&s[..colon]);
    (key.len() <= MAX_KEY).then_some((KeyText::Plain(key, bytes_ok), &s[colon + 1..]))
}

/// Bytes the loops that find where a key or a plain scalar ends must look
/// at: `:`, `#` and the flow indicators.
const STOP: u8 = 1;
/// Bytes a plain scalar may not hold (see [`plain_is_safe`]).
const NOT_PLAIN: u8 = 2;

/// [`STOP`] and [`NOT_PLAIN`] for every byte, so that the one loop over a
/// key or plain scalar finds its end and checks it for the writer.
static CLASS: [u8; 256] = byte_classes();

const fn byte_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let stop = matches!(i as u8, b':' | b'#' | b'[' | b']' | b'{' | b'}');
        t[i] = if stop { STOP } else { 0 } | if PLAIN_ALLOWED[i] { 0 } else { NOT_PLAIN };
        i += 1;
    }
    t
}

/// Where the `:` of `key: value` is: the first `:` followed by a space or
/// the end of the line, and whether every byte before it is one a plain
/// scalar may hold. `None` when a comment or a flow indicator comes first
/// (such keys are left to the full parser).
fn key_colon(s: &str) -> Option<(usize, bool)> {
    let b = s.as_bytes();
    let mut seen = 0;
    for (i, &c) in b.iter().enumerate() {
        let class = CLASS[usize::from(c)];
        if class & STOP != 0 {
            match c {
                b':' if i + 1 == b.len() || b[i + 1] == b' ' => {
                    return Some((i, seen & NOT_PLAIN == 0));
                }
                b'#' if i > 0 && b[i - 1] == b' ' => return None,
                b'[' | b']' | b'{' | b'}' => return None,
                _ => {}
            }
        }
        seen |= class;
    }
    None
}

/// A quoted scalar at the start of `s`: its decoded text and the length
/// of its source, when it ends on this line and uses only the escapes the
/// subset takes.
fn quoted(s: &str) -> Option<(Cow<'_, str>, usize)> {
    let b = s.as_bytes();
    let q = b[0];
    let mut i = 1;
    let mut owned: Option<String> = None;
    while i < b.len() {
        let c = b[i];
        if c == q {
            if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                owned.get_or_insert_with(|| s[1..i].to_string()).push('\'');
                i += 2;
                continue;
            }
            let text = match owned {
                Some(o) => Cow::Owned(o),
                None => Cow::Borrowed(&s[1..i]),
            };
            return Some((text, i + 1));
        }
        if q == b'"' && c == b'\\' {
            let decoded = match *b.get(i + 1)? {
                b'\\' => '\\',
                b'"' => '"',
                b'/' => '/',
                b'n' => '\n',
                b't' => '\t',
                b'r' => '\r',
                _ => return None,
            };
            owned
                .get_or_insert_with(|| s[1..i].to_string())
                .push(decoded);
            i += 2;
            continue;
        }
        if let Some(o) = owned.as_mut() {
            o.push(char::from(c));
        }
        i += 1;
    }
    None
}

/// A one-line scalar that fills the rest of its line (up to a comment).
fn inline_scalar(rest: &str) -> Option<Scalar<'_>> {
    let first = *rest.as_bytes().first()?;
    if first == b'\'' || first == b'"' {
        let (text, len) = quoted(rest)?;
        trailing(&rest[len..])?;
        let style = if first == b'\'' {
            TScalarStyle::SingleQuoted
        } else {
            TScalarStyle::DoubleQuoted
        };
        return Some(Scalar {
            text,
            style,
            written: 0..0,
            verbatim: false,
            safe: false,
        });
    }
    // `-1` and `--flag` are plain scalars; `- x` is not.
    if bad_start(first) && !(first == b'-' && rest.len() > 1 && rest.as_bytes()[1] != b' ') {
        return None;
    }
    let b = rest.as_bytes();
    let mut end = b.len();
    // Every byte up to the end, for the writer's rules (trailing spaces,
    // cut below, are allowed bytes).
    let mut seen = 0;
    for (i, &c) in b.iter().enumerate() {
        let class = CLASS[usize::from(c)];
        if class & STOP != 0 {
            match c {
                b'#' if i > 0 && b[i - 1] == b' ' => {
                    end = i;
                    break;
                }
                b':' if i + 1 == b.len() || b[i + 1] == b' ' => return None,
                b'[' | b']' | b'{' | b'}' => return None,
                _ => {}
            }
        }
        seen |= class;
    }
    let text = trim_end_spaces(&rest[..end]);
    if text.ends_with(':') {
        return None;
    }
    Some(Scalar {
        text: Cow::Borrowed(text),
        style: TScalarStyle::Plain,
        written: 0..0,
        verbatim: false,
        // `: ` cannot occur (refused above), so this is `plain_is_safe`.
        safe: seen & NOT_PLAIN == 0 && plain_ends_ok(text),
    })
}

/// Whether the writer writes a plain scalar that is not a safe plain
/// string (see [`plain_is_safe`]) exactly as it was read. The loader keeps
/// such a scalar as a number (only canonical spellings, which the writer
/// spells alike), as null or a boolean (written `null`, `true`, `false`),
/// as a raw plain scalar (written as read when [`plain_verbatim_ok`]), or
/// as a string that needs quotes (when it is not).
fn plain_as_written(t: &str) -> bool {
    match t {
        "null" | "true" | "false" => true,
        "" | "~" | "Null" | "NULL" | "True" | "TRUE" | "False" | "FALSE" => false,
        // What `plain_verbatim_ok` checks beyond what [`inline_scalar`]
        // took: printable ASCII, no indicator first (`-` only before a
        // non-space), no `: ` or ` #` inside, nothing trailing.
        _ => {
            let ok = !(t.starts_with("---") || t.starts_with("..."));
            debug_assert_eq!(ok, plain_verbatim_ok(t), "{t:?}");
            ok
        }
    }
}

/// `s` without trailing spaces (bytes, not characters).
fn trim_end_spaces(s: &str) -> &str {
    let kept = s.bytes().rposition(|b| b != b' ').map_or(0, |i| i + 1);
    &s[..kept]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{load_stream, to_string};

    struct Nothing;
    impl Visitor for Nothing {
        fn node(&mut self, _: &[Seg], _: Node) {}
    }

    /// The fast reader's output for a document, or `None`.
    fn fast(text: &str) -> Option<String> {
        let mut out = String::new();
        document(text, 0..text.len(), &mut out, &mut Nothing)?;
        Some(out)
    }

    /// What the full parser and the writer make of it.
    fn slow(text: &str) -> Option<String> {
        let docs = load_stream(text, "t").ok()?;
        (docs.len() == 1).then(|| to_string(&docs[0].value).unwrap())
    }

    /// Whenever the fast reader takes a document, it writes what the full
    /// parser and the writer write.
    fn same(text: &str) -> bool {
        match fast(text) {
            Some(out) => {
                assert_eq!(Some(out), slow(text), "{text:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn writes_what_the_parser_and_writer_write() {
        for text in [
            "a: 1\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    config.kubernetes.io/index: '0'\n    b: \"on\"\ndata:\n  a: yes\n  b: 0755\n  c: ~\n  d: Null\n  e: 1.50\n  f: 1.5\n  g: -3\n  h: +3\n  i: 2024-01-01\n  j: True\n",
            "a:\n  - x\n  - y:\n      z: 1\n    w: 2\n  -\n    k: v\n  - - p\n    - q\nb: []\nc: {}\n",
            "a:\n- x  # comment\n# full line\n\n- 'it''s'\n- \"q\\\"uote\\n\"\n",
            "\"quoted key\": 1\n'x': 'y'\n\"true\": 1\n8080: port\nnull: n\n",
            "s: |\n  line one\n\n    indented\n  last\nt: |-\n  stripped\nu: |+\n  kept\n\n\nv: x\n",
            "a: |\n  # not a comment\n  ---\nb: 1\n",
            "seq:\n- |\n  block in a sequence\n- x\n",
            "args: --port=8080,9090\nneg: -1\nflag: --x\nurl: http://a.b/c?d=e#f\n",
            "k: a#b\nl: 'a: b'\nm: \"x # y\"\n",
            "empty:\nnext: 1\n",
            "a:\n  b:\n  c: 1\n",
            "a: \"tab\\there\"\nb: \"line\\nbreak\"\n",
        ] {
            assert!(same(text), "the fast reader refused {text:?}");
        }
    }

    #[test]
    fn leaves_everything_else_to_the_full_parser() {
        for text in [
            "a: [1, 2]\n",
            "a: {b: c}\n",
            "a: &x 1\nb: *x\n",
            "a: !tag x\n",
            "a: >\n  folded\n",
            "a: multi\n  line\n",
            "a: 'multi\n  line'\n",
            "a: 1\na: 2\n",
            "a:\tb\n",
            "a: caf\u{e9}\n",
            "- x\n",
            "x\n",
            "  a: 1\n",
            "a: 1\n  \n",
            "a: |2\n   x\n",
            "? a\n: b\n",
            "a: \"\\u0041\"\n",
            "a: b: c\n",
            "a: 1\r\n",
            "a: |\n  x",
        ] {
            assert!(!same(text), "the fast reader took {text:?}");
        }
    }

    #[test]
    fn reports_paths_and_top_level_entries() {
        #[derive(Default)]
        struct Seen(Vec<String>, Vec<(String, Shape, String)>);
        impl Visitor for Seen {
            fn node(&mut self, path: &[Seg], node: Node) {
                if let Node::Scalar(s) = node {
                    let p: Vec<String> = path
                        .iter()
                        .map(|s| match s {
                            Seg::Key(k) => k.to_string(),
                            Seg::Index(i) => i.to_string(),
                            Seg::Other => "?".into(),
                        })
                        .collect();
                    self.0.push(format!("{}={:?}", p.join("."), s.value()));
                }
            }
            fn top_entry(&mut self, key: &Seg, shape: Shape, range: Range<usize>) {
                self.1
                    .push((format!("{key:?}"), shape, format!("{range:?}")));
            }
        }
        let text = "kind: 'SA'\nmetadata:\n  name: x\nimagePullSecrets:\n- name: a\n- {}\nn:\n";
        let mut seen = Seen::default();
        let mut out = String::new();
        document(text, 0..text.len(), &mut out, &mut seen).unwrap();
        assert_eq!(
            out,
            "kind: SA\nmetadata:\n  name: x\nimagePullSecrets:\n- name: a\n- {}\nn: null\n"
        );
        assert_eq!(
            seen.0,
            [
                "kind=String(\"SA\")",
                "metadata.name=String(\"x\")",
                "imagePullSecrets.0.name=String(\"a\")"
            ]
        );
        let shapes: Vec<Shape> = seen.1.iter().map(|e| e.1).collect();
        assert_eq!(
            shapes,
            [
                Shape::Scalar,
                Shape::Collection,
                Shape::Collection,
                Shape::Null
            ]
        );
        assert_eq!(seen.1[2].2, "29..62");
        assert_eq!(&out[29..62], "imagePullSecrets:\n- name: a\n- {}\n");
    }

    #[test]
    fn elements_are_written_as_sequence_entries() {
        let text = "- a: '1'\n  b:\n  - c\n";
        let mut out = String::new();
        element(text, 0..text.len(), &mut out, &mut Nothing).unwrap();
        assert_eq!(out, "- a: \"1\"\n  b:\n  - c\n");
        let mut out = String::new();
        assert!(element("- x\n", 0..4, &mut out, &mut Nothing).is_none());
    }

    #[test]
    fn line_breaks_and_indentation_are_found_in_words() {
        let mut text = Vec::new();
        for i in 0..200u8 {
            // Every byte value, line feeds among them, and their neighbours.
            text.push(if i % 37 == 0 { b'\n' } else { i });
            text.push(b'\n' ^ 0x80);
        }
        for start in 0..text.len() {
            for end in start..text.len().min(start + 90) {
                let b = &text[start..end];
                assert_eq!(line_break(b), memchr::memchr(b'\n', b), "{start}..{end}");
            }
        }
        for line in [
            "",
            " ",
            "a",
            "        ",
            "         x",
            "    x   ",
            "                    ",
        ] {
            for pad in 0..20 {
                let l = format!("{}{line}", " ".repeat(pad));
                let spaces = l.len() - l.trim_start_matches(' ').len();
                assert_eq!(indentation(l.as_bytes()), spaces, "{l:?}");
            }
        }
    }

    #[test]
    fn streams_split_at_document_markers() {
        assert_eq!(
            split_stream("a: 1\n---\nb: 2\n--- # c\n").unwrap(),
            [0..5, 9..14, 22..22]
        );
        for refused in [
            "--- a\n",
            "...\n",
            "%YAML 1.2\n---\n",
            "\u{feff}a: 1\n",
            "---x\n",
        ] {
            assert!(split_stream(refused).is_none(), "{refused:?}");
        }
    }
}

#[cfg(test)]
mod random {
    //! Documents put together at random from lines in and out of the subset:
    //! whatever the fast reader takes, it writes as the parser and the writer do.
    use super::tests_support::agrees;

    const KEYS: &[&str] = &[
        "a",
        "kind",
        "name",
        "'q k'",
        "\"d\"",
        "8080",
        "true",
        "null",
        "0755",
        "x.y/z",
        "-k",
        "a b",
        "~",
        "a#b",
        "1.5",
        "yes",
        ".inf",
        ".a",
        "x:y",
        "_x",
        "/p",
        "a=b",
        "(x)",
        "'1'",
        "\"a\\\"b\"",
        "False",
        "a  ",
    ];
    const VALUES: &[&str] = &[
        "",
        "v",
        "'s'",
        "\"d\"",
        "1",
        "-1",
        "1.5",
        "1.50",
        "0755",
        "yes",
        "on",
        "~",
        "null",
        "True",
        "2024-01-01",
        "{}",
        "[]",
        "|",
        "|-",
        "|+",
        "'it''s'",
        "\"a\\nb\"",
        "x # c",
        "a#b",
        "[1]",
        "&a x",
        "*a",
        "!t x",
        ">",
        "'a",
        "http://x:1/y",
        "--flag=a,b",
        "- x",
        "1e3",
        "0x1F",
        "+1",
        "-0",
        ".5",
        "\"\\t\"",
        "'  lead'",
        "\" \"",
        "''",
        "\"\"",
        "=",
        "<<",
        // Plain scalars the loader keeps as numbers, keywords or raw text,
        // and strings the writer quotes.
        "128Mi",
        "1.0e+3",
        "12345678901234567890",
        "-12",
        "0",
        "00",
        "Null",
        "NULL",
        "FALSE",
        "false",
        "true",
        "---x",
        "...x",
        "--x",
        "a:b",
        "a=b:c",
        "x)",
        "^a",
        "$v",
        "a,b",
        ".inf",
        "-.inf",
        ".NaN",
        "ok  # c",
        // Quoted scalars: escapes, quotes of the other kind, lookalikes.
        "\"a\\\\b\"",
        "'a\"b'",
        "\"it's\"",
        "\"\\r\"",
        "'0'",
        "'yes'",
        "\"x: y\"",
        "'a #b'",
        "\"/x\"",
        "'-1'",
        "\"---\"",
    ];

    struct Lcg(u64);
    impl Lcg {
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            from[(self.0 >> 33) as usize % from.len()]
        }
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as usize % n
        }
    }

    fn block(rng: &mut Lcg, indent: usize, depth: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        for _ in 0..1 + rng.below(3) {
            match rng.below(if depth > 3 { 3 } else { 7 }) {
                0..=2 => {
                    let v = rng.pick(VALUES);
                    out.push_str(&format!("{pad}{}: {v}\n", rng.pick(KEYS)));
                    if v.starts_with('|') || v == ">" {
                        for _ in 0..rng.below(3) {
                            let line = ["text", "", "  more", "# hash", "x: y"][rng.below(5)];
                            let p = if line.is_empty() {
                                String::new()
                            } else {
                                " ".repeat(indent + 2)
                            };
                            out.push_str(&format!("{p}{line}\n"));
                        }
                    }
                }
                3 => {
                    out.push_str(&format!("{pad}{}:\n", rng.pick(KEYS)));
                    let deeper = indent + [2, 4][rng.below(2)];
                    block(rng, deeper, depth + 1, out);
                }
                4 => {
                    out.push_str(&format!("{pad}{}:\n", rng.pick(KEYS)));
                    let seq_indent = indent + [0, 2][rng.below(2)];
                    for _ in 0..1 + rng.below(3) {
                        match rng.below(3) {
                            0 => out.push_str(&format!(
                                "{}- {}\n",
                                " ".repeat(seq_indent),
                                rng.pick(VALUES)
                            )),
                            1 => {
                                out.push_str(&format!(
                                    "{}- {}: {}\n",
                                    " ".repeat(seq_indent),
                                    rng.pick(KEYS),
                                    rng.pick(VALUES)
                                ));
                                if rng.below(2) == 0 {
                                    out.push_str(&format!(
                                        "{}  {}: {}\n",
                                        " ".repeat(seq_indent),
                                        rng.pick(KEYS),
                                        rng.pick(VALUES)
                                    ));
                                }
                            }
                            _ => {
                                out.push_str(&format!("{}-\n", " ".repeat(seq_indent)));
                                block(rng, seq_indent + 2, depth + 1, out);
                            }
                        }
                    }
                }
                5 => out.push_str(&format!("{pad}# comment\n")),
                _ => out.push('\n'),
            }
        }
    }

    #[test]
    fn random_documents() {
        let mut rng = Lcg(12);
        let mut taken = 0;
        for _ in 0..20_000 {
            let mut doc = String::new();
            block(&mut rng, 0, 0, &mut doc);
            taken += usize::from(agrees(&doc));
        }
        // The subset is most of what tools write, so most documents are taken.
        assert!(taken > 2_000, "only {taken} documents taken");
    }
}

#[cfg(test)]
mod tests_support {
    use super::*;
    use crate::yaml::{load_stream, to_string};

    struct Nothing;
    impl Visitor for Nothing {
        fn node(&mut self, _: &[Seg], _: Node) {}
    }

    /// Whether the fast reader took `text`; when it did, its output must be
    /// the writer's output for what the parser read.
    pub fn agrees(text: &str) -> bool {
        let mut out = String::new();
        if document(text, 0..text.len(), &mut out, &mut Nothing) != Some(true) {
            return false;
        }
        let docs = load_stream(text, "t")
            .unwrap_or_else(|e| panic!("taken but the parser refuses it ({e:#}):\n{text}"));
        assert_eq!(docs.len(), 1, "{text}");
        assert_eq!(out, to_string(&docs[0].value).unwrap(), "{text}");
        true
    }
}
