//! The five SOPS stores, one file each as in sops' own `stores/` package:
//! reading a file into a tree plus its `sops` metadata, and writing a tree
//! back (plaintext, or with metadata).
//!
//! YAML and JSON keep the metadata as a top-level `sops` key; dotenv
//! flattens it into `sops_*` keys and INI into a `[sops]` section ([`flat`]
//! does both); binary files are a JSON envelope `{"data": ..., "sops": ...}`.
//! Each store reads and writes as sops 3.11's does (go-yaml v3 with indent
//! 4 and comments, Go's `encoding/json` with tabs and duplicate keys, go-ini),
//! so `regcred decrypt` writes the bytes `sops --decrypt` writes
//! (`tests/sops_fidelity.rs`). The stores never import each other, except
//! binary, which is a JSON file by design.

pub(crate) mod binary;
mod dotenv;
mod flat;
pub(crate) mod ini;
mod json;
mod yaml;

use super::tree::Node;
use crate::gocompat::strconv;
use anyhow::{Result, bail};
use serde_yaml_ng::Value;

/// The store a file is read and written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
    /// The store sops' `--input-type` names (`yaml`, `json`, `dotenv`,
    /// `ini`, anything else binary).
    pub(crate) fn from_type(t: &str) -> Format {
        match t {
            "yaml" => Format::Yaml,
            "json" => Format::Json,
            "dotenv" => Format::Dotenv,
            "ini" => Format::Ini,
            _ => Format::Binary,
        }
    }

    /// The store sops picks from a file name.
    pub(crate) fn from_path(path: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Format::Yaml
        } else if lower.ends_with(".json") {
            Format::Json
        } else if lower.ends_with(".env") {
            Format::Dotenv
        } else if lower.ends_with(".ini") {
            Format::Ini
        } else {
            Format::Binary
        }
    }
}

/// A parsed file: its documents and, when encrypted, its metadata tree.
pub(crate) struct Parsed {
    pub(crate) format: Format,
    pub(crate) docs: Vec<Node>,
    pub(crate) metadata: Option<Node>,
}

/// Recognises a SOPS file by content; `None` means "not SOPS".
pub(crate) fn detect(path: &str, text: &str) -> Option<Format> {
    detect_loaded(path, text).map(|d| d.format)
}

/// Reads `text` when it is a SOPS file (`None` when it is not): detection
/// and reading load a YAML file once between them.
pub(crate) fn read_sops(path: &str, text: &str) -> Option<Result<Parsed>> {
    let detected = detect_loaded(path, text)?;
    Some(match (detected.format, detected.yaml) {
        (Format::Yaml, Some(loaded)) => yaml::from_loaded(&loaded, text)
            .and_then(|docs| split_metadata(docs, path))
            .map(|(docs, metadata)| Parsed {
                format: Format::Yaml,
                docs,
                metadata,
            }),
        (format, _) => parse(format, text, path),
    })
}

/// What detection found: the store, and the YAML documents it loaded to
/// find out, if it did.
struct Detected {
    format: Format,
    yaml: Option<yaml::Loaded>,
}

fn detect_loaded(path: &str, text: &str) -> Option<Detected> {
    let found = |format| Some(Detected { format, yaml: None });
    let lines = || text.lines().map(str::trim_end);
    if lines().any(|l| l.starts_with("sops_mac=") || l.starts_with("sops_version=")) {
        return found(Format::Dotenv);
    }
    if lines().any(|l| l.trim() == "[sops]") {
        return found(Format::Ini);
    }
    let by_name = Format::from_path(path);
    let body = text.trim_start_matches('\u{feff}').trim_start();
    // JSON first when it may be JSON: its duplicate keys are not YAML.
    if by_name != Format::Yaml && body.starts_with('{') {
        if let Ok(docs) = json::parse(text, path) {
            let first = &docs[0];
            first.get("sops")?;
            return found(match (by_name, first) {
                (Format::Json, _) => Format::Json,
                (_, Node::Map(items))
                    if items.len() == 2 && matches!(first.get("data"), Some(Node::Str(_))) =>
                {
                    Format::Binary
                }
                _ => Format::Json,
            });
        }
    }
    let docs = yaml::load(text, path).ok()?;
    let first = docs.first()?.0.value.as_mapping()?;
    first.get("sops")?;
    let format = match by_name {
        f @ (Format::Yaml | Format::Json) => f,
        _ if first.len() == 2 && first.contains_key("data") => Format::Binary,
        _ if body.starts_with('{') => Format::Json,
        _ => Format::Yaml,
    };
    Some(Detected {
        format,
        yaml: (format == Format::Yaml).then_some(docs),
    })
}

/// Reads `text` in `format`, splitting off the metadata if present.
pub(crate) fn parse(format: Format, text: &str, origin: &str) -> Result<Parsed> {
    let (docs, metadata) = match format {
        Format::Yaml => split_metadata(yaml::parse(text, origin)?, origin)?,
        Format::Json => split_metadata(json::parse(text, origin)?, origin)?,
        Format::Binary => {
            binary::parse(split_metadata(json::parse(text, origin)?, origin)?, origin)?
        }
        Format::Dotenv => dotenv::parse(text)?,
        Format::Ini => ini::parse(text)?,
    };
    Ok(Parsed {
        format,
        docs,
        metadata,
    })
}

/// Takes the top-level `sops` key out of every document of a tree store;
/// the first document's is the file's metadata.
fn split_metadata(mut docs: Vec<Node>, origin: &str) -> Result<(Vec<Node>, Option<Node>)> {
    if docs.is_empty() {
        bail!("{origin}: empty document");
    }
    let mut metadata = None;
    for (i, doc) in docs.iter_mut().enumerate() {
        let Node::Map(items) = doc else {
            bail!("{origin}: document {} is not a mapping", i + 1);
        };
        if let Some(pos) = items.iter().position(|(k, _)| k == "sops") {
            let (_, md) = items.remove(pos);
            if i == 0 {
                metadata = Some(md);
            }
        }
    }
    Ok((docs, metadata))
}

/// Writes `docs` (plus `metadata` when given) in `format`.
pub(crate) fn emit(format: Format, docs: &[Node], metadata: Option<&Node>) -> Result<Vec<u8>> {
    let with_md = |doc: &Node| -> Node {
        match (doc, metadata) {
            (Node::Map(items), Some(md)) => {
                let mut items = items.clone();
                items.push(("sops".into(), md.clone()));
                Node::Map(items)
            }
            _ => doc.clone(),
        }
    };
    Ok(match format {
        Format::Yaml => yaml::emit(&docs.iter().map(with_md).collect::<Vec<_>>()),
        Format::Json => json::emit(&with_md(&docs[0])),
        Format::Binary => match metadata {
            Some(_) => json::emit(&with_md(&docs[0])),
            None => binary::emit_plain(&docs[0])?,
        },
        Format::Dotenv => dotenv::emit(&docs[0], metadata),
        Format::Ini => ini::emit(&docs[0], metadata),
    })
}

/// Converts a decrypted tree to a YAML value, for key lookups.
pub(crate) fn to_value(node: &Node) -> Value {
    match node {
        Node::Map(items) => Value::Mapping(
            items
                .iter()
                .filter(|(_, v)| !matches!(v, Node::Comment(_)))
                .map(|(k, v)| (Value::String(k.clone()), to_value(v)))
                .collect(),
        ),
        Node::Seq(items) => Value::Sequence(
            items
                .iter()
                .filter(|v| !matches!(v, Node::Comment(_)))
                .map(to_value)
                .collect(),
        ),
        Node::Str(s) | Node::Time(s) => Value::String(s.clone()),
        Node::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        Node::Int(i) => Value::Number((*i).into()),
        Node::Float(f) => Value::String(strconv::format_f(*f)),
        Node::Bool(b) => Value::Bool(*b),
        Node::Null | Node::Comment(_) => Value::Null,
    }
}
