//! The dotenv store: `KEY=VALUE` lines, `#` comments, newlines escaped as
//! `\\n`, metadata flattened into `sops_*` keys.

use super::flat::{self, scalar_text};
use crate::sops::tree::Node;
use anyhow::{Result, bail};

/// The entries as a one-document tree, and the metadata if present.
pub(super) fn parse(text: &str) -> Result<(Vec<Node>, Option<Node>)> {
    let mut items = Vec::new();
    let mut md = Vec::new();
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
            Some(mk) => md.push((mk.to_string(), v)),
            None => items.push((k.to_string(), Node::Str(v))),
        }
    }
    let metadata = (!md.is_empty()).then(|| flat::unflatten(&md)).transpose()?;
    Ok((vec![Node::Map(items)], metadata))
}

/// The document's entries, then the flattened metadata, sorted.
pub(super) fn emit(doc: &Node, metadata: Option<&Node>) -> Vec<u8> {
    let mut out = String::new();
    if let Node::Map(items) = doc {
        for (k, v) in items {
            match v {
                Node::Comment(c) => out.push_str(&format!("#{c}\n")),
                v => out.push_str(&format!("{k}={}\n", scalar_text(v).replace('\n', "\\n"))),
            }
        }
    }
    if let Some(md) = metadata {
        for (k, v) in flat::flatten_sorted(md) {
            out.push_str(&format!("sops_{k}={}\n", v.replace('\n', "\\n")));
        }
    }
    out.into_bytes()
}
