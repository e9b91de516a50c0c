//! Metadata flattened for the flat stores (dotenv, INI): nested keys
//! joined as `age__list_0__map_enc`, as sops' `stores/flatten.go` does.

use crate::gocompat::strconv;
use crate::sops::tree::Node;
use anyhow::{Result, anyhow, bail};

/// Rebuilds metadata flattened as `age__list_0__map_enc` keys.
pub(super) fn unflatten(flat: &[(String, String)]) -> Result<Node> {
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

/// Flattened metadata, keys sorted as sops writes them.
pub(super) fn flatten_sorted(md: &Node) -> Vec<(String, String)> {
    let mut out = Vec::new();
    flatten(md, "", &mut out);
    out.sort();
    out
}

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

/// A leaf as the flat stores write it.
pub(super) fn scalar_text(leaf: &Node) -> String {
    match leaf {
        Node::Str(s) | Node::Time(s) | Node::Comment(s) => s.clone(),
        Node::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Node::Int(i) => i.to_string(),
        Node::Float(f) => strconv::format_f(*f),
        Node::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
