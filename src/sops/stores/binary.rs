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

/// The plaintext file: the `data` string itself.
pub(super) fn emit_plain(doc: &Node) -> Result<Vec<u8>> {
    match doc.get("data") {
        Some(Node::Str(s)) => Ok(s.clone().into_bytes()),
        _ => bail!("binary file has no data"),
    }
}
