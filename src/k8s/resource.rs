//! The forms a resource takes in memory.
//!
//! A resource regcred reads or changes is kept as a parsed tree. One it
//! neither reads nor changes is kept as its YAML text, exactly as the
//! writer writes it, with only the facts output naming needs: pass-through
//! resources are most of a large input, and text holds memory near the
//! input size instead of the ~15 times a tree costs. When the input
//! already reads as the writer writes (what kustomize, kpt and regcred
//! write), the text is that range of the input, shared, not copied.
//!
//! Namespaces and ServiceAccounts may be text too: a Namespace only needs
//! its name, labels and opt-out, and a ServiceAccount's `imagePullSecrets`
//! entries are spliced into its text when it is written. Objects regcred
//! generates by the thousand (a Secret per namespace) are [`Stamped`]: one
//! text per spec with holes for the namespace and name.

use super::meta;
use super::scan::PullList;
use super::workloads::{self, PodFacts};
use crate::yaml;
use anyhow::Result;
use serde_yaml_ng::{Mapping, Value};
use std::borrow::Cow;
use std::io::{self, Write};
use std::ops::Range;
use std::sync::Arc;

/// One resource: a parsed tree, a resource kept as text, or a generated one.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Tree(Value),
    Text(Passthrough),
    Stamped(Stamped),
}

/// Where a text item's text is: a range of a shared text, which is either
/// an input that already reads as the writer writes (what kustomize, kpt
/// and regcred write) or the writer's text for it. 16 bytes, since a large
/// input has millions of these.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    src: Arc<String>,
    start: u32,
    /// The length, and in the top bit whether the text is a sequence entry
    /// (`- ` and the body two columns in) as a ResourceList holds its items.
    len_entry: u32,
}

const ENTRY_BIT: u32 = 1 << 31;

impl Text {
    /// A range of a shared input: `None` past 2 GiB (offsets are 32-bit).
    pub fn input(src: &Arc<String>, range: Range<usize>, entry: bool) -> Option<Text> {
        let start = u32::try_from(range.start).ok()?;
        let len = u32::try_from(range.len())
            .ok()
            .filter(|l| l & ENTRY_BIT == 0)?;
        u32::try_from(range.end).ok()?;
        Some(Text {
            src: Arc::clone(src),
            start,
            len_entry: len | if entry { ENTRY_BIT } else { 0 },
        })
    }

    /// Text of its own.
    pub fn owned(text: String, entry: bool) -> Option<Text> {
        let len = text.len();
        Text::input(&Arc::new(text), 0..len, entry)
    }

    pub fn as_str(&self) -> &str {
        let start = self.start as usize;
        &self.src[start..start + (self.len_entry & !ENTRY_BIT) as usize]
    }

    /// Whether the text is a sequence entry rather than a document body.
    pub fn is_entry(&self) -> bool {
        self.len_entry & ENTRY_BIT != 0
    }
}

/// A field of a text item: a range of its text (offset, length), or, when
/// the text spells it differently (quoted), a spilled string.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field(u32, u32);

impl Field {
    pub const ABSENT: Field = Field(0, u32::MAX);

    pub fn at(offset: u32, len: u32) -> Field {
        debug_assert!(len < u32::MAX - 1);
        Field(offset, len)
    }

    fn spilled(i: usize) -> Field {
        Field(u32::try_from(i).expect("three fields"), u32::MAX - 1)
    }
}

/// A resource kept as text, with what render and output naming need.
#[derive(Debug, Clone, PartialEq)]
pub struct Passthrough {
    pub text: Text,
    pub kind: Field,
    pub name: Field,
    pub namespace: Field,
    /// Fields the text spells differently from their value, and bytes
    /// the text differs in from the input it points to (rare, or small:
    /// boxed so that it costs one pointer).
    pub spilled: Option<Box<Spilled>>,
    /// For a workload: whom its pods run as and what they pull.
    pub pod: Option<Box<PodFacts>>,
    pub role: Role,
}

/// Field values a text spells differently (quoted), and the bytes a text
/// differs in from the input range it points to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spilled {
    fields: Vec<Box<str>>,
    /// (offset in the text, the byte written there), in order. Only for
    /// [`Role::Plain`] items, whose text nothing reads but output naming
    /// (through fields, which never hold a patched byte) and the writer.
    patches: Vec<(u32, u8)>,
}

/// At most this many bytes are recorded as patches; a text that differs
/// in more is stored whole.
const MAX_PATCHES: usize = 32;

/// The bytes `written` differs in from `input`, when they have the same
/// length, differ in at most [`MAX_PATCHES`] bytes and none of them lies
/// in a field's range (see [`Passthrough::new`]): a resource kustomize
/// wrote differs from what the writer writes only where it quoted with
/// `'` (its `config.kubernetes.io/index` annotations).
pub fn patches(input: &str, written: &str, fields: &[FieldAt; 3]) -> Option<Vec<(u32, u8)>> {
    let (a, b) = (input.as_bytes(), written.as_bytes());
    if a.len() != b.len() {
        return None;
    }
    let mut out = Vec::new();
    // Blocks compared with `memcmp` (vector instructions); bytes only in
    // the few blocks that differ.
    let mut at = 0;
    while at < a.len() {
        let end = (at + 64).min(a.len());
        if a[at..end] != b[at..end] {
            for i in (at..end).filter(|&i| a[i] != b[i]) {
                out.push((u32::try_from(i).ok()?, b[i]));
            }
            if out.len() > MAX_PATCHES {
                return None;
            }
        }
        at = end;
    }
    let in_field = |&(at, _): &(u32, u8)| {
        fields.iter().any(|f| match f {
            (Some((start, len)), Some(_)) => (*start..start + len).contains(&at),
            _ => false,
        })
    };
    (!out.iter().any(in_field)).then_some(out)
}

/// A field of a resource: where its text spells it as it is (offset,
/// length), when it does, and its value.
pub type FieldAt = (Option<(u32, u32)>, Option<String>);

/// What render does with a text item besides passing it through.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Role {
    #[default]
    Plain,
    /// A `v1` Namespace: its labels (when a selector needs them) and opt-out.
    Namespace {
        labels: Option<Box<Mapping>>,
        skip: bool,
    },
    /// A `v1` ServiceAccount.
    ServiceAccount(Account),
}

/// A ServiceAccount kept as text: what patching it needs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Account {
    pub skip: bool,
    pub list: PullList,
    /// Bit `j` (`j` < 32): the input's `imagePullSecrets` names spec
    /// `j`'s Secret (for later specs, the text is read again).
    pub has: u32,
    /// The names appended: `appended[added - 1]`, or none when 0. A render
    /// has a handful of distinct lists, shared by its many accounts.
    pub added: u32,
    pub appended: Option<Arc<Vec<Vec<Box<str>>>>>,
}

impl Account {
    /// The Secret names appended to the account, in order.
    pub fn appended_names(&self) -> &[Box<str>] {
        match (self.added, &self.appended) {
            (0, _) | (_, None) => &[],
            (i, Some(lists)) => &lists[i as usize - 1],
        }
    }
}

/// Text with holes for a namespace and a name, written once per object.
#[derive(Debug, PartialEq)]
pub struct Stamp {
    pub kind: String,
    /// The name, when it is the same for every object.
    pub name: Option<String>,
    /// Text between the holes (one more piece than holes).
    pieces: Vec<String>,
    holes: Vec<Hole>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Hole {
    Namespace,
    Name,
}

/// An object generated from a stamp.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamped {
    pub stamp: Arc<Stamp>,
    pub namespace: Box<str>,
    pub name: Option<Box<str>>,
}

impl Stamp {
    /// A stamp from `text`, the writer's text of an object whose namespace
    /// (and name, if `name` is `None`) are the placeholder strings given:
    /// `None` unless each placeholder occurs exactly once.
    pub fn new(
        kind: &str,
        name: Option<String>,
        text: &str,
        ns_mark: &str,
        name_mark: &str,
    ) -> Option<Stamp> {
        let mut marks = vec![(Hole::Namespace, ns_mark)];
        if name.is_none() {
            marks.push((Hole::Name, name_mark));
        }
        let mut found: Vec<(usize, Hole, usize)> = Vec::new();
        for (hole, mark) in &marks {
            let mut at = text.match_indices(mark);
            let (i, _) = at.next()?;
            if at.next().is_some() {
                return None;
            }
            found.push((i, *hole, mark.len()));
        }
        found.sort_by_key(|f| f.0);
        let mut pieces = Vec::new();
        let mut last = 0;
        for (i, _, len) in &found {
            pieces.push(text[last..*i].to_string());
            last = i + len;
        }
        pieces.push(text[last..].to_string());
        Some(Stamp {
            kind: kind.to_string(),
            name,
            pieces,
            holes: found.into_iter().map(|f| f.1).collect(),
        })
    }

    /// Replaces `mark` with `with` in the text between the holes: `None`
    /// (and the stamp unchanged) unless `mark` occurs exactly once. Lets a
    /// large value join a stamp made from a small text without copying it
    /// through the steps that made the stamp.
    pub fn replace_once(&mut self, mark: &str, with: &str) -> Option<()> {
        let mut found = self
            .pieces
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.match_indices(mark).map(move |(at, _)| (i, at)));
        let (i, at) = found.next()?;
        if found.next().is_some() {
            return None;
        }
        let piece = &self.pieces[i];
        let mut out = String::with_capacity(piece.len() - mark.len() + with.len());
        out.push_str(&piece[..at]);
        out.push_str(with);
        out.push_str(&piece[at + mark.len()..]);
        self.pieces[i] = out;
        Some(())
    }

    /// The text for one object: `None` when a value cannot fill a hole
    /// as one line.
    pub fn fill(&self, namespace: &str, name: Option<&str>) -> Option<String> {
        let mut out = Vec::new();
        self.write(&mut out, namespace, name).ok()?;
        String::from_utf8(out).ok()
    }

    /// Writes the text for one object.
    fn write(&self, w: &mut dyn Write, namespace: &str, name: Option<&str>) -> io::Result<()> {
        let unfit = || io::Error::other("a name that does not fit on one line");
        for (i, piece) in self.pieces.iter().enumerate() {
            w.write_all(piece.as_bytes())?;
            if let Some(hole) = self.holes.get(i) {
                let value = match hole {
                    Hole::Namespace => namespace,
                    Hole::Name => name.ok_or_else(unfit)?,
                };
                w.write_all(yaml::one_line_string(value).ok_or_else(unfit)?.as_bytes())?;
            }
        }
        Ok(())
    }
}

impl Item {
    /// Keeps `value` as a tree only when `needs_tree`; otherwise writes it out.
    pub fn new(value: Value, needs_tree: bool) -> Result<Item> {
        if needs_tree {
            return Ok(Item::Tree(value));
        }
        let text = yaml::to_string(&value)?;
        Ok(Item::Text(Passthrough::new(
            Text::owned(text, false)
                .ok_or_else(|| anyhow::anyhow!("a resource of 2 GiB or more"))?,
            [
                meta::kind(&value),
                meta::name(&value),
                meta::namespace(&value),
            ]
            .map(|v| (None, v.map(str::to_string))),
            workloads::pod_facts(&value),
            Role::Plain,
        )))
    }

    /// The tree, if this item is kept as one.
    pub fn as_value(&self) -> Option<&Value> {
        match self {
            Item::Tree(v) => Some(v),
            _ => None,
        }
    }

    /// The item as a YAML document body.
    pub fn to_yaml(&self) -> Result<String> {
        match self {
            Item::Tree(v) => yaml::to_string(v),
            Item::Text(p) => Ok(p.body().into_owned()),
            Item::Stamped(s) => Ok(s.text()),
        }
    }

    /// Writes the item as a YAML document body.
    pub fn write_body(&self, w: &mut dyn Write) -> io::Result<()> {
        match self {
            Item::Text(p) => w.write_all(p.body().as_bytes()),
            Item::Stamped(s) => s.stamp.write(w, &s.namespace, s.name.as_deref()),
            other => w.write_all(other.to_yaml().map_err(io::Error::other)?.as_bytes()),
        }
    }

    /// Writes the item as an entry of a sequence at column 0 (`- ` and the
    /// body two columns in), as a ResourceList holds it.
    pub fn write_entry(&self, w: &mut dyn Write) -> io::Result<()> {
        match self {
            Item::Text(p) if p.text.is_entry() => p.write_stored(w),
            Item::Tree(v) => {
                // Written to text first: a tree the writer refuses writes nothing.
                let body = yaml::to_string(v).map_err(io::Error::other)?;
                write_as_entry(w, |entry| entry.write_all(body.as_bytes()))
            }
            other => write_as_entry(w, |entry| other.write_body(entry)),
        }
    }

    pub fn kind(&self) -> Option<&str> {
        match self {
            Item::Tree(v) => meta::kind(v),
            Item::Text(p) => p.field(p.kind),
            Item::Stamped(s) => Some(&s.stamp.kind),
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            Item::Tree(v) => meta::name(v),
            Item::Text(p) => p.field(p.name),
            Item::Stamped(s) => s.name.as_deref().or(s.stamp.name.as_deref()),
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        match self {
            Item::Tree(v) => meta::namespace(v),
            Item::Text(p) => p.field(p.namespace),
            Item::Stamped(s) => Some(&s.namespace),
        }
    }

    /// The namespace the item lands in, as [`meta::effective_namespace`] says.
    pub fn effective_namespace<'a>(&'a self, default_ns: Option<&'a str>) -> Option<&'a str> {
        meta::effective_namespace(self.kind(), self.namespace(), default_ns)
    }
}

impl Stamped {
    fn text(&self) -> String {
        self.stamp
            .fill(&self.namespace, self.name.as_deref())
            .expect("stamps are filled only with names checked when stamped")
    }
}

impl Passthrough {
    /// A text item; `fields` are kind, name and namespace, each with where
    /// the text spells it as it is (offset, length), when it does.
    pub fn new(text: Text, fields: [FieldAt; 3], pod: Option<PodFacts>, role: Role) -> Passthrough {
        let mut spilled: Vec<Box<str>> = Vec::new();
        let [kind, name, namespace] = fields.map(|(at, value)| match (at, value) {
            (Some((a, n)), Some(_)) => Field::at(a, n),
            (None, Some(v)) => {
                spilled.push(v.into());
                Field::spilled(spilled.len() - 1)
            }
            (_, None) => Field::ABSENT,
        });
        Passthrough {
            text,
            kind,
            name,
            namespace,
            spilled: (!spilled.is_empty()).then(|| {
                Box::new(Spilled {
                    fields: spilled,
                    patches: Vec::new(),
                })
            }),
            pod: pod.map(Box::new),
            role,
        }
    }

    /// A field's value.
    pub fn field(&self, f: Field) -> Option<&str> {
        match f {
            Field(_, u32::MAX) => None,
            Field(i, n) if n == u32::MAX - 1 => {
                self.spilled.as_ref().map(|s| &*s.fields[i as usize])
            }
            Field(at, len) => self.text.as_str().get(at as usize..(at + len) as usize),
        }
    }

    /// Records the bytes its text differs in from the input range it
    /// points to (see [`patches`]; none for most).
    pub fn patch(&mut self, patches: Vec<(u32, u8)>) {
        if !patches.is_empty() {
            debug_assert!(matches!(self.role, Role::Plain));
            self.spilled.get_or_insert_default().patches = patches;
        }
    }

    fn patches(&self) -> &[(u32, u8)] {
        self.spilled.as_ref().map_or(&[], |s| &s.patches)
    }

    /// The text as stored (an entry or a body), with any ServiceAccount
    /// patch or patched bytes applied.
    pub fn stored(&self) -> Cow<'_, str> {
        let text = self.text.as_str();
        match &self.role {
            Role::ServiceAccount(a) if a.added != 0 => {
                Cow::Owned(splice(text, a, self.text.is_entry()))
            }
            _ if !self.patches().is_empty() => {
                let mut out = Vec::with_capacity(text.len());
                self.write_patched(&mut out)
                    .expect("writing to memory does not fail");
                Cow::Owned(String::from_utf8(out).expect("patches are ASCII"))
            }
            _ => Cow::Borrowed(text),
        }
    }

    /// Writes the text as stored: without a copy when only bytes are patched.
    fn write_stored(&self, w: &mut dyn Write) -> io::Result<()> {
        match self.patches() {
            [] => w.write_all(self.stored().as_bytes()),
            _ => self.write_patched(w),
        }
    }

    /// The text with its patched bytes, in pieces.
    fn write_patched(&self, w: &mut dyn Write) -> io::Result<()> {
        let text = self.text.as_str().as_bytes();
        let mut last = 0;
        for &(at, byte) in self.patches() {
            let at = at as usize;
            w.write_all(&text[last..at])?;
            w.write_all(&[byte])?;
            last = at + 1;
        }
        w.write_all(&text[last..])
    }

    /// The text as a document body.
    pub fn body(&self) -> Cow<'_, str> {
        let stored = self.stored();
        if !self.text.is_entry() {
            return stored;
        }
        Cow::Owned(body_of(&stored))
    }
}

/// `text` with the entries of `account.added` appended to its top-level
/// `imagePullSecrets`, as the writer writes the patched tree.
fn splice(text: &str, account: &Account, entry: bool) -> String {
    let pad = if entry { "  " } else { "" };
    let mut entries = String::new();
    for name in account.appended_names() {
        entries.push_str(pad);
        entries.push_str("- name: ");
        entries.push_str(&yaml::one_line_string(name).expect("Secret names are one line"));
        entries.push('\n');
    }
    let mut out = String::with_capacity(text.len() + entries.len() + 20);
    match account.list {
        PullList::Absent => {
            out.push_str(text);
            out.push_str(pad);
            out.push_str("imagePullSecrets:\n");
            out.push_str(&entries);
        }
        PullList::Replace(a, b) => {
            // The range starts at the entry's indentation.
            let entry = &text[a as usize..];
            let key = a as usize + entry.len() - entry.trim_start_matches(' ').len();
            out.push_str(&text[..key]);
            out.push_str("imagePullSecrets:\n");
            out.push_str(&entries);
            out.push_str(&text[b as usize..]);
        }
        PullList::List(end) => {
            out.push_str(&text[..end as usize]);
            out.push_str(&entries);
            out.push_str(&text[end as usize..]);
        }
        PullList::Invalid => unreachable!("an invalid list fails the render before it is written"),
    }
    out
}

/// Writes `- ` and then what `body` writes, shifted as an entry of a
/// sequence at column 0 (see [`EntryWriter`]).
fn write_as_entry(
    w: &mut dyn Write,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    w.write_all(b"- ")?;
    body(&mut EntryWriter {
        w,
        line_start: false,
    })
}

/// Writes a document body as an entry of a sequence at column 0, as it
/// comes (a stamped Secret can be megabytes, written once per namespace):
/// after `- `, every line but the first and empty ones two columns right.
/// Shifting a body two columns right is exactly how the writer nests it
/// under `- `.
struct EntryWriter<'a> {
    w: &'a mut dyn Write,
    /// The last byte written ended a line.
    line_start: bool,
}

impl Write for EntryWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while let Some(&first) = buf.first() {
            if self.line_start && first != b'\n' {
                self.w.write_all(b"  ")?;
            }
            let end = memchr::memchr(b'\n', buf).map_or(buf.len(), |i| i + 1);
            self.w.write_all(&buf[..end])?;
            self.line_start = buf[end - 1] == b'\n';
            buf = &buf[end..];
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// The body of an entry written by [`write_as_entry`].
fn body_of(entry: &str) -> String {
    let mut out = String::with_capacity(entry.len());
    for (i, line) in entry.split_inclusive('\n').enumerate() {
        let strip = if i == 0 { "- " } else { "  " };
        out.push_str(line.strip_prefix(strip).unwrap_or(line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entry rule as a string, written the plain way: what
    /// [`EntryWriter`], which works on pieces as they come, must match.
    fn entry_of(body: &str) -> String {
        let mut out = String::with_capacity(body.len() + body.len() / 16 + 2);
        for (i, line) in body.split_inclusive('\n').enumerate() {
            if i == 0 {
                out.push_str("- ");
            } else if line != "\n" {
                out.push_str("  ");
            }
            out.push_str(line);
        }
        out
    }

    #[test]
    fn entries_and_bodies_convert_both_ways() {
        let body = "a: 1\nb: |\n  x\n\n  y\nc:\n- d\n";
        let entry = entry_of(body);
        assert_eq!(entry, "- a: 1\n  b: |\n    x\n\n    y\n  c:\n  - d\n");
        assert_eq!(body_of(&entry), body);
    }

    #[test]
    fn texts_that_differ_in_a_few_bytes_keep_the_input_and_the_bytes() {
        let input = "- kind: ConfigMap\n  metadata:\n    name: x\n    a: '0'\n";
        let written = "- kind: ConfigMap\n  metadata:\n    name: x\n    a: \"0\"\n";
        let name = (Some((40, 1)), Some("x".to_string()));
        let fields = [(None, None), name.clone(), (None, None)];
        let found = patches(input, written, &fields).unwrap();
        assert_eq!(found, [(49, b'"'), (51, b'"')]);
        let src = Arc::new(input.to_string());
        let mut p = Passthrough::new(
            Text::input(&src, 0..input.len(), true).unwrap(),
            fields,
            None,
            Role::Plain,
        );
        p.patch(found);
        assert_eq!(p.stored(), written);
        assert_eq!(p.field(p.name), Some("x"));
        let item = Item::Text(p);
        let mut out = Vec::new();
        item.write_entry(&mut out).unwrap();
        assert_eq!(out, written.as_bytes());
        assert_eq!(item.to_yaml().unwrap(), body_of(written));
        // Other lengths, a patched byte in a field, or many bytes: stored whole.
        assert!(
            patches(
                input,
                &written[1..],
                &[(None, None), (None, None), (None, None)]
            )
            .is_none()
        );
        let in_name = [
            (None, None),
            (Some((49, 3)), Some("0".into())),
            (None, None),
        ];
        assert!(patches(input, written, &in_name).is_none());
        let many = input.replace('a', "b");
        let none = [(None, None), (None, None), (None, None)];
        assert!(patches(&input.repeat(40), &many.repeat(40), &none).is_none());
    }

    #[test]
    fn stamps_fill_their_holes() {
        let text = "kind: Secret\nmetadata:\n  name: NAME\n  namespace: NS\n";
        let s = Stamp::new("Secret", None, text, "NS", "NAME").unwrap();
        assert_eq!(
            s.fill("123", Some("x")).unwrap(),
            "kind: Secret\nmetadata:\n  name: x\n  namespace: \"123\"\n"
        );
        assert!(Stamp::new("Secret", None, "NS NS NAME", "NS", "NAME").is_none());
    }

    #[test]
    fn entries_written_as_they_come_match_entry_of() {
        let text =
            "kind: Secret\nmetadata:\n  name: x\n  namespace: NS\ndata:\n  k: |\n    a\n\n    b\n";
        let stamp = Arc::new(Stamp::new("Secret", Some("x".into()), text, "NS", "NAME").unwrap());
        let item = Item::Stamped(Stamped {
            stamp: Arc::clone(&stamp),
            namespace: "default".into(),
            name: None,
        });
        let mut out = Vec::new();
        item.write_entry(&mut out).unwrap();
        let body = stamp.fill("default", None).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), entry_of(&body));
        for body in ["a: 1\n", "a: |\n  x\n\n\n  y\nb: 2\n", "a: 1", "a:\n\n"] {
            let mut out = Vec::new();
            let mut entry = EntryWriter {
                w: &mut out,
                line_start: false,
            };
            for piece in body.as_bytes().chunks(3) {
                entry.write_all(piece).unwrap();
            }
            assert_eq!(
                format!("- {}", String::from_utf8(out).unwrap()),
                entry_of(body)
            );
        }
    }

    #[test]
    fn a_mark_is_replaced_once_or_not_at_all() {
        let mut s = Stamp::new(
            "Secret",
            Some("x".into()),
            "a: MARK\nns: NS\nb: c\n",
            "NS",
            "NAME",
        )
        .unwrap();
        assert!(s.replace_once("MARK", "value").is_some());
        assert_eq!(s.fill("ns1", None).unwrap(), "a: value\nns: ns1\nb: c\n");
        let mut twice = Stamp::new(
            "Secret",
            Some("x".into()),
            "a: M\nns: NS\nb: M\n",
            "NS",
            "NAME",
        )
        .unwrap();
        assert!(twice.replace_once("M", "v").is_none());
        assert!(twice.replace_once("absent", "v").is_none());
        assert_eq!(twice.fill("ns1", None).unwrap(), "a: M\nns: ns1\nb: M\n");
    }
}
#[cfg(test)]
mod size {
    /// A large input has millions of items: keep them small.
    #[test]
    fn items_stay_small() {
        assert!(size_of::<super::Item>() <= 96);
        assert!(size_of::<super::Text>() <= 16);
    }
}
