//! The YAML store: yaml.v3's typing of plain scalars and sops' placing of
//! comments on read; on write, the nodes sops builds, written by the
//! yaml.v3 encoder port with indent 4.

mod comments;

use crate::gocompat::strconv;
use crate::gocompat::yaml_v3::{self, Resolved};
use crate::sops::tree::Node;
use crate::yaml::{self, Shape};
use anyhow::{Result, anyhow, bail};
use comments::Placement;
use serde_yaml_ng::Value;

/// The documents of a YAML stream as the YAML reader loads them, with
/// their shapes (for placing comments).
pub(super) type Loaded = Vec<(yaml::Document, Shape)>;

/// Every document of a YAML stream, as trees with their comments.
pub(super) fn parse(text: &str, origin: &str) -> Result<Vec<Node>> {
    from_loaded(&load(text, origin)?, text)
}

/// The documents of `text` as the YAML reader loads them, before they are
/// typed as yaml.v3 types them and given their comments: detection loads
/// them once, and reading a file it detected reuses them.
pub(super) fn load(text: &str, origin: &str) -> Result<Loaded> {
    yaml::load_stream_with_shapes(&normalize(text), origin)
}

/// [`parse`] of documents already [`load`]ed from `text`.
pub(super) fn from_loaded(docs: &Loaded, text: &str) -> Result<Vec<Node>> {
    // Every comment starts with `#`. Files without one (sops writes none
    // unless the plaintext had them) skip finding and placing comments,
    // which look at every character and were a twentieth of a small render.
    if !text.contains('#') {
        return docs.iter().map(|(d, _)| from_yaml(&d.value)).collect();
    }
    // yaml.v3 reads past a byte order mark.
    let normalized = normalize(text);
    let text = normalized.as_ref();
    let shapes: Vec<&Shape> = docs.iter().map(|(_, s)| s).collect();
    let found = comments::scan(text, &shapes);
    let placements = comments::place(&found, &shapes, text, &comments::document_markers(text));
    docs.iter()
        .zip(placements)
        .map(|((d, _), placement)| {
            let tree = from_yaml(&d.value)?;
            Ok(with_comments(tree, &mut Vec::new(), &placement))
        })
        .collect()
}

/// Documents as a YAML stream, `---` between them.
pub(super) fn emit(docs: &[Node]) -> Vec<u8> {
    let nodes: Vec<yaml_v3::Node> = docs.iter().map(to_yaml_v3).collect();
    yaml_v3::encode(&nodes, YAML_INDENT)
}

const YAML_INDENT: usize = 4;

/// Converts a YAML value, typing plain scalars the way sops' yaml.v3 does.
fn from_yaml(v: &Value) -> Result<Node> {
    Ok(match v {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Node::Int(i),
            (None, Some(_)) => bail!("integers above 9223372036854775807 are not supported"),
            _ => Node::Float(n.as_f64().unwrap_or_default()),
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
                resolve_yaml_v3(raw)?
            }
            _ => from_yaml(&t.value)?,
        },
    })
}

/// yaml.v3 writes an empty flow collection that holds comments with its
/// closing bracket on a line of its own, at the indentation of the block
/// around it, which a YAML 1.2 reader rejects; indenting it past the line
/// that opened the collection reads the same. A byte order mark goes too.
pub(super) fn normalize(text: &str) -> std::borrow::Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let closing = |l: &str| matches!(l.trim(), "}" | "]");
    if !text.split('\n').any(closing) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    for i in 0..lines.len() {
        if !closing(&lines[i]) {
            continue;
        }
        let opener = lines[..i]
            .iter()
            .rev()
            .find(|l| l.trim_end().ends_with(['{', '[']))
            .map_or(0, |l| l.len() - l.trim_start().len());
        lines[i] = format!("{}{}", " ".repeat(opener + 1), lines[i].trim());
    }
    std::borrow::Cow::Owned(lines.join("\n"))
}

/// Inserts the comments `placement` holds for the container at `path` and
/// below (paths count the original entries).
fn with_comments(node: Node, path: &mut Vec<usize>, placement: &Placement) -> Node {
    let mut here: Vec<&(usize, u8, String)> = placement
        .get(path.as_slice())
        .into_iter()
        .flatten()
        .collect();
    here.sort_by_key(|(slot, phase, _)| (*slot, *phase));
    let comments_at = |slot: usize| {
        here.iter()
            .filter(move |(s, _, _)| *s == slot)
            .map(|(_, _, text)| text.clone())
            .collect::<Vec<_>>()
    };
    match node {
        Node::Map(items) => {
            let n = items.len();
            let mut out = Vec::with_capacity(n);
            for (i, (k, v)) in items.into_iter().enumerate() {
                out.extend(
                    comments_at(i)
                        .into_iter()
                        .map(|c| (String::new(), Node::Comment(c))),
                );
                path.push(i);
                out.push((k, with_comments(v, path, placement)));
                path.pop();
            }
            out.extend(
                comments_at(n)
                    .into_iter()
                    .map(|c| (String::new(), Node::Comment(c))),
            );
            Node::Map(out)
        }
        Node::Seq(items) => {
            let n = items.len();
            let mut out = Vec::with_capacity(n);
            for (i, v) in items.into_iter().enumerate() {
                out.extend(comments_at(i).into_iter().map(Node::Comment));
                path.push(i);
                out.push(with_comments(v, path, placement));
                path.pop();
            }
            out.extend(comments_at(n).into_iter().map(Node::Comment));
            Node::Seq(out)
        }
        other => other,
    }
}

/// A plain scalar that YAML 1.1 and 1.2 read differently, typed as yaml.v3
/// types it (see [`yaml_v3::resolve`]).
fn resolve_yaml_v3(raw: &str) -> Result<Node> {
    Ok(match yaml_v3::resolve(raw) {
        Resolved::Null => Node::Null,
        Resolved::Bool(b) => Node::Bool(b),
        Resolved::Int(i) => Node::Int(i),
        Resolved::Uint(_) => bail!("integers above 9223372036854775807 are not supported"),
        Resolved::Float(f) => Node::Float(f),
        Resolved::Timestamp(t) => Node::Time(t),
        Resolved::Str => Node::Str(raw.to_string()),
    })
}

/// The `yaml.Node` sops' `treeValueToNode` builds for a tree value.
fn to_yaml_v3(node: &Node) -> yaml_v3::Node {
    match node {
        Node::Map(items) => {
            let mut m = yaml_v3::Node::mapping();
            append_tree_branch(items, &mut m);
            m
        }
        Node::Seq(items) => {
            let mut s = yaml_v3::Node::sequence();
            append_sequence(items, &mut s);
            s
        }
        Node::Str(s) => yaml_v3::Node::string(s),
        Node::Bytes(b) => yaml_v3::Node::string(&String::from_utf8_lossy(b)),
        Node::Int(i) => yaml_v3::Node::plain(i.to_string()),
        Node::Float(f) => yaml_v3::Node::plain(float_text(*f)),
        Node::Bool(b) => yaml_v3::Node::plain(b.to_string()),
        Node::Time(t) => yaml_v3::Node::plain(t.clone()),
        Node::Null | Node::Comment(_) => yaml_v3::Node::plain("null"),
    }
}

/// sops' `addCommentsHead`: pending comments go above `node`.
fn add_head(node: &mut yaml_v3::Node, comments: &mut Vec<String>) {
    if comments.is_empty() {
        return;
    }
    let text = format!("#{}", comments.join("\n#"));
    node.head_comment = if node.head_comment.is_empty() {
        text
    } else {
        format!("{text}\n{}", node.head_comment)
    };
    comments.clear();
}

/// sops' `addCommentsFoot`: trailing comments go below `node`.
fn add_foot(node: &mut yaml_v3::Node, comments: &mut Vec<String>) {
    if comments.is_empty() {
        return;
    }
    let text = format!("#{}", comments.join("\n#"));
    if node.foot_comment.is_empty() {
        node.foot_comment = text;
    } else {
        node.foot_comment = format!("{}\n{text}", node.foot_comment);
    }
    comments.clear();
}

/// sops' `appendTreeBranch`: comments before the first key go above the
/// mapping, others above the next key, trailing ones below the last key.
fn append_tree_branch(items: &[(String, Node)], mapping: &mut yaml_v3::Node) {
    let mut comments = Vec::new();
    let mut beginning = true;
    for (k, v) in items {
        if let Node::Comment(c) = v {
            comments.push(c.clone());
            continue;
        }
        if beginning {
            add_head(mapping, &mut comments);
            beginning = false;
        }
        let mut key = yaml_v3::Node::string(k);
        add_head(&mut key, &mut comments);
        mapping.content.push(key);
        mapping.content.push(to_yaml_v3(v));
    }
    if beginning {
        add_head(mapping, &mut comments);
    } else if let Some(last_key) = mapping.content.iter_mut().rev().nth(1) {
        add_foot(last_key, &mut comments);
    }
}

/// sops' `appendSequence`, the same for items.
fn append_sequence(items: &[Node], sequence: &mut yaml_v3::Node) {
    let mut comments = Vec::new();
    let mut beginning = true;
    for item in items {
        if let Node::Comment(c) = item {
            comments.push(c.clone());
            continue;
        }
        if beginning {
            add_head(sequence, &mut comments);
            beginning = false;
        }
        let mut node = to_yaml_v3(item);
        add_head(&mut node, &mut comments);
        sequence.content.push(node);
    }
    if beginning {
        add_head(sequence, &mut comments);
    } else if let Some(last) = sequence.content.last_mut() {
        add_foot(last, &mut comments);
    }
}

/// yaml.v3 writes floats with Go's 'g' format and YAML's special spellings.
fn float_text(f: f64) -> String {
    match yaml::special_float(f) {
        Some(special) => special.into(),
        None => strconv::format_g(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_v3_typing_of_ambiguous_plain_scalars() {
        let r = |s: &str| resolve_yaml_v3(s).unwrap();
        assert_eq!(r("0755"), Node::Int(493));
        assert_eq!(r("0x1F"), Node::Int(31));
        assert_eq!(r("1_000"), Node::Int(1000));
        assert_eq!(r("1e3"), Node::Float(1000.0));
        assert_eq!(r("1e400"), Node::Str("1e400".into()));
        assert_eq!(r("yes"), Node::Str("yes".into()));
        assert_eq!(r("2024-01-01"), Node::Time("2024-01-01T00:00:00Z".into()));
        assert_eq!(
            r("2001-12-14t21:59:43.10-05:00"),
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

    #[test]
    fn comments_are_read_into_their_containers_and_written_back() {
        let text = "# top\na: 1 # line a\nb:\n    # head c\n    c: x\n    # foot c\nd:\n    - x\n    # between\n    - y\n# end\n";
        let docs = parse(text, "t").unwrap();
        let c = |s: &str| Node::Comment(s.into());
        assert_eq!(
            docs[0],
            Node::Map(vec![
                (String::new(), c(" top")),
                (String::new(), c(" line a")),
                ("a".into(), Node::Int(1)),
                (
                    "b".into(),
                    Node::Map(vec![
                        (String::new(), c(" head c")),
                        ("c".into(), Node::Str("x".into())),
                        (String::new(), c(" foot c")),
                    ])
                ),
                (
                    "d".into(),
                    Node::Seq(vec![
                        Node::Str("x".into()),
                        c(" between"),
                        Node::Str("y".into()),
                    ])
                ),
                (String::new(), c(" end")),
            ])
        );
        assert_eq!(
            String::from_utf8(emit(&docs)).unwrap(),
            "# top\n# line a\na: 1\nb:\n    # head c\n    c: x\n    # foot c\nd:\n    - x\n    # between\n    - \"y\"\n# end\n"
        );
    }
}
