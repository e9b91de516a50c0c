//! go-yaml v3 (`go.yaml.in/yaml/v3`, as sops 3.11 vendors it): how it
//! types plain scalars ([`resolve()`]) and how its `Encoder` writes a tree of
//! `yaml.Node`s ([`encode`]), comments included.
//!
//! The encoder side is a port of `encode.go`'s `node` method feeding the
//! libyaml-derived emitter in [`emitter`]; [`Node::string`] reproduces what
//! `Node.Encode(string)` leaves in a node (the style the emitter picked when
//! the string was written on its own), which is how sops builds its nodes.

mod emitter;
mod resolve;

pub(crate) use emitter::ScalarStyle;
pub(crate) use resolve::{Resolved, resolve};

use emitter::{Emitter, Event, EventKind, analyze_scalar, select_style};

/// A `yaml.Node` as sops builds them: block collections and untagged scalars.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    /// The scalar's text (empty for collections).
    pub(crate) value: String,
    pub(crate) style: ScalarStyle,
    /// A `!!` tag kept on the scalar: `merge` for a plain `<<`, which
    /// yaml.v3's parser tags and its encoder then writes out.
    pub(crate) tag: Option<&'static str>,
    /// Comment text with its `#` (several lines joined by `\n`), as in `yaml.Node`.
    pub(crate) head_comment: String,
    pub(crate) line_comment: String,
    pub(crate) foot_comment: String,
    /// Sequence items, or mapping keys and values alternating.
    pub(crate) content: Vec<Node>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Scalar,
    Sequence,
    Mapping,
}

impl Node {
    fn new(kind: Kind, value: String, style: ScalarStyle) -> Node {
        Node {
            kind,
            value,
            style,
            tag: None,
            head_comment: String::new(),
            line_comment: String::new(),
            foot_comment: String::new(),
            content: Vec::new(),
        }
    }

    pub(crate) fn mapping() -> Node {
        Node::new(Kind::Mapping, String::new(), ScalarStyle::Plain)
    }

    pub(crate) fn sequence() -> Node {
        Node::new(Kind::Sequence, String::new(), ScalarStyle::Plain)
    }

    /// A scalar written plain as is: what `Node.Encode` gives for ints,
    /// floats, bools, nil and times, whose text always resolves back to
    /// its own type.
    pub(crate) fn plain(text: impl Into<String>) -> Node {
        Node::new(Kind::Scalar, text.into(), ScalarStyle::Plain)
    }

    /// `Node.Encode(s)` for a string: the encoder's `stringv` picks plain,
    /// double-quoted or literal, the emitter may fall back to single or
    /// double quotes, and parsing the result back records that style.
    pub(crate) fn string(s: &str) -> Node {
        let can_use_plain =
            resolve(s) == Resolved::Str && !resolve::is_base60_float(s) && !resolve::is_old_bool(s);
        let requested = if s.contains('\n') {
            ScalarStyle::Literal
        } else if can_use_plain {
            ScalarStyle::Plain
        } else {
            ScalarStyle::DoubleQuoted
        };
        let analysis = analyze_scalar(s.as_bytes());
        let style = select_style(requested, &analysis, s.is_empty(), 0, false);
        let mut node = Node::new(Kind::Scalar, s.to_string(), style);
        if s == "<<" && style == ScalarStyle::Plain {
            node.tag = Some("merge");
        }
        node
    }
}

/// What `yaml.NewEncoder(w)` with `SetIndent(indent)` writes for one
/// `Encode` call per document (each a mapping or other root node), then
/// `Close`.
pub(crate) fn encode(docs: &[Node], indent: usize) -> Vec<u8> {
    let mut e = Encoder {
        emitter: Emitter::new(indent),
    };
    e.emitter.emit(Event::new(EventKind::StreamStart));
    for doc in docs {
        e.emitter.emit(Event::new(EventKind::DocumentStart));
        e.node(doc, String::new());
        e.emitter.emit(Event::new(EventKind::DocumentEnd));
    }
    e.emitter.emit(Event::new(EventKind::StreamEnd));
    e.emitter.into_output()
}

struct Encoder {
    emitter: Emitter,
}

impl Encoder {
    /// `encoder.node`: events for `node`; `tail` is the foot comment of the
    /// previous mapping key, written once that key's value is done.
    fn node(&mut self, node: &Node, tail: String) {
        match node.kind {
            Kind::Sequence => {
                let mut start = Event::new(EventKind::SequenceStart);
                start.head = node.head_comment.clone().into_bytes();
                self.emitter.emit(start);
                for item in &node.content {
                    self.node(item, String::new());
                }
                let mut end = Event::new(EventKind::SequenceEnd);
                end.line = node.line_comment.clone().into_bytes();
                end.foot = node.foot_comment.clone().into_bytes();
                self.emitter.emit(end);
            }
            Kind::Mapping => {
                let mut start = Event::new(EventKind::MappingStart);
                start.tail = tail.into_bytes();
                start.head = node.head_comment.clone().into_bytes();
                self.emitter.emit(start);
                // A key's foot comment moves to the next key (or the end),
                // so it is written after the whole value.
                let mut tail = String::new();
                for pair in node.content.chunks(2) {
                    let mut key = pair[0].clone();
                    let foot = std::mem::take(&mut key.foot_comment);
                    self.node(&key, std::mem::replace(&mut tail, foot));
                    if let Some(value) = pair.get(1) {
                        self.node(value, String::new());
                    }
                }
                let mut end = Event::new(EventKind::MappingEnd);
                end.tail = tail.into_bytes();
                end.line = node.line_comment.clone().into_bytes();
                end.foot = node.foot_comment.clone().into_bytes();
                self.emitter.emit(end);
            }
            Kind::Scalar => {
                let mut ev = Event::new(EventKind::Scalar);
                ev.value = node.value.clone().into_bytes();
                ev.tag = node.tag;
                ev.style = if node.style == ScalarStyle::Plain && node.value.contains('\n') {
                    ScalarStyle::Literal
                } else {
                    node.style
                };
                ev.head = node.head_comment.clone().into_bytes();
                ev.line = node.line_comment.clone().into_bytes();
                ev.foot = node.foot_comment.clone().into_bytes();
                ev.tail = tail.into_bytes();
                self.emitter.emit(ev);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: Vec<(Node, Node)>) -> Node {
        let mut m = Node::mapping();
        for (k, v) in pairs {
            m.content.push(k);
            m.content.push(v);
        }
        m
    }

    fn s(text: &str) -> Node {
        Node::string(text)
    }

    fn out(docs: &[Node]) -> String {
        String::from_utf8(encode(docs, 4)).unwrap()
    }

    #[test]
    fn strings_are_quoted_as_yaml_v3_quotes_them() {
        let cases = [
            ("-key-1", "-key-1"),
            ("9+uB=", "9+uB="),
            ("${foodotbar}", "${foodotbar}"),
            ("quote\"s", "quote\"s"),
            ("yes", "\"yes\""),
            ("1e3", "\"1e3\""),
            ("", "\"\""),
            ("@x", "'@x'"),
            ("a: b", "'a: b'"),
            ("it's: x", "'it''s: x'"),
            ("tab\there", "\"tab\\there\""),
            ("trail ", "'trail '"),
            ("x\u{2028}y", "'x\u{2028}    y'"),
            ("\u{feff}bom", "\"\\uFEFF\\x62\\x6F\\x6D\""),
            ("2024-01-01", "\"2024-01-01\""),
            ("1:20", "\"1:20\""),
            ("- a", "'- a'"),
            ("été", "été"),
        ];
        for (value, want) in cases {
            let doc = map(vec![(s("k"), s(value))]);
            assert_eq!(out(&[doc]), format!("k: {want}\n"), "{value:?}");
        }
    }

    #[test]
    fn block_layout_uses_indent_4_and_indents_sequences() {
        let item = map(vec![
            (s("name"), s("a")),
            (s("nested"), map(vec![(s("x"), Node::plain("1"))])),
        ]);
        let mut seq = Node::sequence();
        seq.content.push(item);
        seq.content.push(s("multi\nline\n"));
        let doc = map(vec![
            (s("list"), seq),
            (s("empty"), Node::mapping()),
            (s("none"), Node::sequence()),
        ]);
        assert_eq!(
            out(&[doc.clone(), doc]),
            "list:\n    - name: a\n      nested:\n        x: 1\n    - |\n      multi\n      line\nempty: {}\nnone: []\n---\nlist:\n    - name: a\n      nested:\n        x: 1\n    - |\n      multi\n      line\nempty: {}\nnone: []\n"
        );
    }

    #[test]
    fn comments_are_written_where_yaml_v3_writes_them() {
        let mut a = s("a");
        a.head_comment = "# head a".into();
        let mut c = s("c");
        c.foot_comment = "# foot c".into();
        let mut inner = map(vec![(c, s("x"))]);
        inner.head_comment = "# head inner".into();
        let mut doc = map(vec![
            (a, Node::plain("1")),
            (s("b"), inner),
            (s("d"), s("e")),
        ]);
        doc.head_comment = "# top".into();
        assert_eq!(
            out(&[doc]),
            "# top\n# head a\na: 1\nb:\n    # head inner\n    c: x\n    # foot c\nd: e\n"
        );
    }

    #[test]
    fn long_and_multiline_keys_are_complex_keys() {
        let long = "k".repeat(129);
        let doc = map(vec![
            (s(&long), s("v")),
            (s("a\nb"), s("w")),
            (s(""), s("x")),
        ]);
        assert_eq!(
            out(&[doc]),
            format!("? {long}\n: v\n? |-\n    a\n    b\n: w\n\"\": x\n")
        );
    }
}
