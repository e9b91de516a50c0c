//! The format-independent tree sops encrypts, and the walk that decides,
//! leaf by leaf, what is encrypted and what feeds the MAC.

use super::cipher;
use crate::gocompat::strconv;
use anyhow::{Result, anyhow, bail};
use regex::Regex;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

/// An ordered document tree, as sops' `TreeBranch` sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    Str(String),
    /// A string that is not UTF-8: only a binary file's `data` can be one.
    Bytes(Vec<u8>),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A timestamp, kept as its RFC 3339 text.
    Time(String),
    /// A comment line (dotenv, INI), without its comment character.
    Comment(String),
    Null,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Which leaves are encrypted. At most one rule can be set per file.
#[derive(Debug, Clone)]
pub enum Rule {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(Regex),
    EncryptedRegex(Regex),
    /// Comment-driven rules: a leaf counts as encrypted when it holds an
    /// `ENC[...]` value (decryption only).
    ByContent,
}

impl Rule {
    fn encrypts(&self, path: &[String]) -> bool {
        match self {
            Rule::UnencryptedSuffix(s) => !path.iter().any(|p| p.ends_with(s.as_str())),
            Rule::EncryptedSuffix(s) => path.iter().any(|p| p.ends_with(s.as_str())),
            Rule::UnencryptedRegex(r) => !path.iter().any(|p| r.is_match(p)),
            Rule::EncryptedRegex(r) => path.iter().any(|p| r.is_match(p)),
            Rule::ByContent => true,
        }
    }

    fn encrypts_leaf(&self, path: &[String], leaf: &Node) -> bool {
        match self {
            Rule::ByContent => matches!(leaf, Node::Str(s) if cipher::is_enc(s)),
            _ => self.encrypts(path),
        }
    }
}

/// The `type:` and plaintext bytes of a leaf, as sops' `ToBytes` writes them.
pub fn leaf_bytes(leaf: &Node) -> Option<(&'static str, Zeroizing<Vec<u8>>)> {
    let z = |s: String| Zeroizing::new(s.into_bytes());
    Some(match leaf {
        Node::Str(s) => ("str", Zeroizing::new(s.as_bytes().to_vec())),
        Node::Bytes(b) => ("str", Zeroizing::new(b.clone())),
        Node::Int(i) => ("int", z(i.to_string())),
        Node::Float(f) => ("float", z(strconv::format_f(*f))),
        Node::Bool(b) => ("bool", z(if *b { "True" } else { "False" }.to_string())),
        Node::Time(t) => ("time", z(t.clone())),
        Node::Comment(c) => ("comment", Zeroizing::new(c.as_bytes().to_vec())),
        Node::Null | Node::Map(_) | Node::Seq(_) => return None,
    })
}

/// Parses a decrypted plaintext back into a leaf of type `kind`.
fn typed_leaf(kind: &str, bytes: &[u8]) -> Result<Node> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        // Go strings hold any bytes: a binary file's data need not be UTF-8.
        return match kind {
            "str" | "bytes" => Ok(Node::Bytes(bytes.to_vec())),
            _ => bail!("decrypted value is not UTF-8"),
        };
    };
    Ok(match kind {
        "str" | "bytes" => Node::Str(text.to_string()),
        "int" => Node::Int(
            text.parse()
                .map_err(|_| anyhow!("decrypted int is malformed"))?,
        ),
        "float" => Node::Float(
            text.parse()
                .map_err(|_| anyhow!("decrypted float is malformed"))?,
        ),
        "bool" => Node::Bool(match text {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
            "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
            _ => bail!("decrypted bool is malformed"),
        }),
        "time" => Node::Time(text.to_string()),
        "comment" => Node::Comment(text.to_string()),
        other => bail!("unknown value type {other:?}"),
    })
}

/// `SHA-256("sops")`, hashed first when only encrypted values are MACed.
fn mac_only_prefix() -> [u8; 32] {
    sha2::Sha256::digest(b"sops").into()
}

fn new_mac(mac_only_encrypted: bool) -> Sha512 {
    let mut h = Sha512::new();
    if mac_only_encrypted {
        h.update(mac_only_prefix());
    }
    h
}

fn mac_hex(h: Sha512) -> String {
    h.finalize().iter().map(|b| format!("{b:02X}")).collect()
}

fn aad(path: &[String]) -> String {
    let mut s = path.join(":");
    s.push(':');
    s
}

/// What [`walk`] calls for each leaf: the leaf, its key path, and whether
/// it is a sequence item.
type LeafFn<'a> = dyn FnMut(&mut Node, &[String], bool) -> Result<()> + 'a;

/// Visits every leaf with its key path (list indices are not part of it,
/// nor are comments' empty keys: a comment's path is its container's) and
/// whether it sits in a sequence.
fn walk(node: &mut Node, path: &mut Vec<String>, in_seq: bool, f: &mut LeafFn) -> Result<()> {
    match node {
        Node::Map(items) => {
            for (k, v) in items.iter_mut() {
                if matches!(v, Node::Comment(_)) {
                    f(v, path, false)?;
                    continue;
                }
                path.push(k.clone());
                walk(v, path, false, f)?;
                path.pop();
            }
            Ok(())
        }
        Node::Seq(items) => items.iter_mut().try_for_each(|v| walk(v, path, true, f)),
        leaf => f(leaf, path, in_seq),
    }
}

/// Visits every leaf of every document, in document order (the MAC's order).
fn walk_docs(docs: &mut [Node], f: &mut LeafFn) -> Result<()> {
    docs.iter_mut()
        .try_for_each(|doc| walk(doc, &mut Vec::new(), false, f))
}

/// Decrypts every encrypted leaf of `docs` in place and returns the MAC
/// computed over the plaintext, as uppercase hex.
pub fn decrypt_tree(
    docs: &mut [Node],
    key: &[u8; 32],
    rule: &Rule,
    mac_only_encrypted: bool,
) -> Result<String> {
    let mut h = new_mac(mac_only_encrypted);
    walk_docs(docs, &mut |leaf, path, in_seq| {
        let encrypted = rule.encrypts_leaf(path, leaf);
        if let Node::Comment(c) = leaf {
            // sops "decrypts" an empty comment of a sequence into an empty
            // string item.
            if c.is_empty() && in_seq && rule.encrypts(path) {
                *leaf = Node::Str(String::new());
                return Ok(());
            }
            // Comments that do not decrypt are plaintext (older sops).
            if let Ok(v) = cipher::parse(c) {
                if let Ok(plain) = cipher::decrypt(key, &v, &aad(path)) {
                    *leaf = Node::Comment(String::from_utf8_lossy(&plain).into_owned());
                }
            }
            return Ok(());
        }
        if encrypted {
            if let Node::Str(s) = leaf {
                if !s.is_empty() {
                    let v = cipher::parse(s)
                        .map_err(|e| anyhow!("value at {}: {e}", display_path(path)))?;
                    let plain = cipher::decrypt(key, &v, &aad(path)).map_err(|e| {
                            anyhow!("value at {} cannot be decrypted ({e}): the file was modified or corrupted, or the value was moved from another key", display_path(path))
                        })?;
                    *leaf = typed_leaf(&v.kind, &plain)
                        .map_err(|e| anyhow!("value at {}: {e}", display_path(path)))?;
                }
            } else if !matches!(leaf, Node::Null) {
                bail!(
                    "value at {} should be encrypted but is not an ENC[...] string",
                    display_path(path)
                );
            }
        }
        // Comments are never part of the MAC; an encrypted comment in a
        // sequence only becomes one here.
        if (!mac_only_encrypted || encrypted) && !matches!(leaf, Node::Comment(_)) {
            if let Some((_, bytes)) = leaf_bytes(leaf) {
                h.update(&bytes[..]);
            }
        }
        Ok(())
    })?;
    Ok(mac_hex(h))
}

/// Encrypts the leaves `rule` selects, in place; returns the MAC hex.
pub fn encrypt_tree(
    docs: &mut [Node],
    key: &[u8; 32],
    rule: &Rule,
    mac_only_encrypted: bool,
) -> Result<String> {
    let mut h = new_mac(mac_only_encrypted);
    walk_docs(docs, &mut |leaf, path, in_seq| {
        let encrypted = rule.encrypts(path);
        let Some((kind, bytes)) = leaf_bytes(leaf) else {
            return Ok(());
        };
        if kind != "comment" && (!mac_only_encrypted || encrypted) {
            h.update(&bytes[..]);
        }
        // sops 3.11 stores an encrypted comment of a sequence as an item
        // (an empty comment as an empty string).
        let seq_comment = kind == "comment" && in_seq;
        if encrypted && (!bytes.is_empty() || seq_comment) {
            let enc = if bytes.is_empty() {
                String::new()
            } else {
                cipher::encrypt(key, &bytes, &aad(path), kind)
            };
            *leaf = if kind == "comment" && !in_seq {
                Node::Comment(enc)
            } else {
                Node::Str(enc)
            };
        }
        Ok(())
    })?;
    Ok(mac_hex(h))
}

fn display_path(path: &[String]) -> String {
    if path.is_empty() {
        "the top level".into()
    } else {
        format!("`{}`", path.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Node {
        Node::Map(vec![
            ("a".into(), Node::Str("x".into())),
            ("b_unencrypted".into(), Node::Int(7)),
            (
                "c".into(),
                Node::Seq(vec![Node::Bool(true), Node::Float(2.5), Node::Null]),
            ),
        ])
    }

    #[test]
    fn encrypt_then_decrypt_gives_the_tree_and_the_same_mac() {
        let key = [3u8; 32];
        let rule = Rule::UnencryptedSuffix("_unencrypted".into());
        let mut docs = vec![doc()];
        let mac = encrypt_tree(&mut docs, &key, &rule, false).unwrap();
        assert!(matches!(docs[0].get("a"), Some(Node::Str(s)) if cipher::is_enc(s)));
        assert_eq!(docs[0].get("b_unencrypted"), Some(&Node::Int(7)));
        let mac2 = decrypt_tree(&mut docs, &key, &rule, false).unwrap();
        assert_eq!(docs[0], doc());
        assert_eq!(mac, mac2);
        assert_eq!(mac.len(), 128);
    }

    #[test]
    fn known_mac_from_the_format_notes() {
        // SHA512("value") for a file holding just `value`.
        let mut h = new_mac(false);
        h.update(b"value");
        assert!(mac_hex(h).starts_with("EC2C83EDECB60304"));
    }
}
