//! The binary store: any file, kept as one string under `data` in a JSON
//! envelope.

use crate::sops::tree::Node;
use anyhow::{Result, bail};

/// Checks the envelope holds a single `data` string.
pub(super) fn parse(
    (docs, metadata): (Vec<Node>, Option<Node>),
    origin: &str,
) -> Result<(Vec<Node>, Option<Node>)> {
    match docs[0].get("data") {
        Some(Node::Str(_)) if docs.len() == 1 => Ok((docs, metadata)),
        _ => bail!("{origin}: a binary sops file must hold a single \"data\" string"),
    }
}

/// The plaintext file: the `data` string itself, which need not be UTF-8.
pub(super) fn emit_plain(doc: &Node) -> Result<Vec<u8>> {
    match doc.get("data") {
        Some(Node::Str(s)) => Ok(s.clone().into_bytes()),
        Some(Node::Bytes(b)) => Ok(b.clone()),
        _ => bail!("binary file has no data"),
    }
}

/// A plaintext file as the tree sops encrypts: its bytes under `data`.
pub(crate) fn tree(plaintext: &[u8]) -> Node {
    let data = match std::str::from_utf8(plaintext) {
        Ok(s) => Node::Str(s.to_string()),
        Err(_) => Node::Bytes(plaintext.to_vec()),
    };
    Node::Map(vec![("data".into(), data)])
}
