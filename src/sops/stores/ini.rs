//! The INI store: `[section]` and `key = value` lines, `;`/`#` comments,
//! metadata flattened into a `[sops]` section. Its lexer, [`entries`], also
//! reads plaintext INI credential files.

use super::flat::{self, scalar_text};
use crate::sops::tree::Node;
use anyhow::{Result, bail};

/// One INI line: its section, and the key/value pair (`None` for a `[section]` header).
pub(crate) type Entry = (String, Option<(String, String)>);

/// INI lines as (section, key, value); `DEFAULT` holds keys before any section.
pub(crate) fn entries(text: &str) -> Result<Vec<Entry>> {
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

/// Sections as a one-document tree, and the `[sops]` section as metadata.
pub(super) fn parse(text: &str) -> Result<(Vec<Node>, Option<Node>)> {
    let mut sections: Vec<(String, Node)> = Vec::new();
    let mut md = Vec::new();
    for (section, entry) in entries(text)? {
        if section == "sops" {
            if let Some(kv) = entry {
                md.push(kv);
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
    let metadata = (!md.is_empty()).then(|| flat::unflatten(&md)).transpose()?;
    Ok((vec![Node::Map(sections)], metadata))
}

/// Sections (keys aligned as go-ini aligns them), then `[sops]`.
pub(super) fn emit(doc: &Node, metadata: Option<&Node>) -> Vec<u8> {
    let mut out = String::new();
    let mut sections: Vec<(String, Node)> = match doc {
        Node::Map(items) => items.clone(),
        _ => Vec::new(),
    };
    if let Some(md) = metadata {
        let entries = flat::flatten_sorted(md);
        sections.push((
            "sops".into(),
            Node::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, Node::Str(v)))
                    .collect(),
            ),
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
