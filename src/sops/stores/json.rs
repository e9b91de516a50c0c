//! The JSON store: sops decodes every number as float64 and writes Go's
//! `encoding/json` output indented with tabs.

use crate::gocompat::{json, strconv};
use crate::sops::tree::Node;
use anyhow::{Result, anyhow};

/// The JSON document as a one-document tree.
pub(super) fn parse(text: &str, origin: &str) -> Result<Vec<Node>> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        anyhow!(
            "{origin}: invalid JSON at line {}, column {}",
            e.line(),
            e.column()
        )
    })?;
    Ok(vec![from_json(&v)?])
}

/// The tree as JSON, with a final newline.
pub(super) fn emit(doc: &Node) -> Vec<u8> {
    let mut out = String::new();
    json_node(&mut out, doc, 0);
    out.push('\n');
    out.into_bytes()
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
                json::push_string(out, k);
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
        Node::Str(s) | Node::Time(s) => json::push_string(out, s),
        Node::Int(i) => out.push_str(&i.to_string()),
        Node::Float(f) => out.push_str(&strconv::format_json(*f)),
        Node::Bool(b) => out.push_str(&b.to_string()),
        Node::Null | Node::Comment(_) => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_floats_and_layout_is_tab_indented() {
        let docs = parse(r#"{"a": 7, "b": [1e21, "x<"]}"#, "t").unwrap();
        assert_eq!(
            String::from_utf8(emit(&docs[0])).unwrap(),
            "{\n\t\"a\": 7,\n\t\"b\": [\n\t\t1e+21,\n\t\t\"x\\u003c\"\n\t]\n}\n"
        );
    }
}
