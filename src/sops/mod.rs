//! SOPS, implemented natively: no sops binary, no sops crate.
//!
//! Decryption: unwrap the data key with age (one armored age file per
//! recipient; Shamir shares across key groups), decrypt each `ENC[...]`
//! value with AES-256-GCM bound to its key path, and verify the MAC over
//! all plaintext values. Encryption does the same in reverse and writes a
//! file the reference sops decrypts. See `../shared/reference/sops-format.md`.

mod cipher;
pub(crate) mod config;
mod metadata;
mod shamir;
pub(crate) mod stores;
pub(crate) mod tree;

use crate::gocompat::time::rfc3339_now;
use crate::identities::Identities;
use anyhow::{Context, Result, anyhow, bail};
use metadata::Metadata;
use rand::RngCore;
use regex::Regex;
use stores::{Format, Parsed};
use tree::{Node, Rule};
use zeroize::Zeroizing;

/// The version written into `sops.version`: the format revision regcred
/// writes (sops only requires a semantic version there).
pub(crate) const FORMAT_VERSION: &str = "3.11.0";

/// A decrypted file.
pub(crate) struct Decrypted {
    pub(crate) format: Format,
    pub(crate) docs: Vec<Node>,
    /// The age recipients the data key is wrapped for, sorted.
    pub(crate) recipients: Vec<String>,
}

impl Decrypted {
    /// The plaintext as `sops --decrypt` writes it.
    pub(crate) fn plaintext(&self) -> Result<Zeroizing<Vec<u8>>> {
        stores::emit(self.format, &self.docs, None).map(Zeroizing::new)
    }
}

/// Decrypts `text` if it is a SOPS file; `Ok(None)` when it is not one.
pub(crate) fn decrypt(path: &str, text: &str, ids: &Identities) -> Result<Option<Decrypted>> {
    let Some(parsed) = stores::read_sops(path, text) else {
        return Ok(None);
    };
    let Parsed {
        format,
        mut docs,
        metadata,
    } = parsed?;
    let md = metadata::parse(&metadata.ok_or_else(|| anyhow!("no sops metadata"))?)?;
    let key = data_key(&md, ids)?;
    let mac = tree::decrypt_tree(&mut docs, &key, &md.rule, md.mac_only_encrypted)?;
    let stored = cipher::parse(&md.mac)
        .and_then(|v| cipher::decrypt(&key, &v, &md.lastmodified))
        .map_err(|_| anyhow!("the MAC cannot be decrypted: the file was modified or corrupted"))?;
    if stored.as_slice() != mac.as_bytes() {
        bail!("MAC mismatch: the file was modified or corrupted after it was encrypted");
    }
    let mut recipients = md.recipients();
    recipients.sort();
    Ok(Some(Decrypted {
        format,
        docs,
        recipients,
    }))
}

/// Unwraps the 32-byte data key with whatever identities fit.
fn data_key(md: &Metadata, ids: &Identities) -> Result<Zeroizing<[u8; 32]>> {
    let mut shares = Vec::new();
    let mut first_error = None;
    for group in &md.groups {
        for k in group {
            match ids.decrypt(k.enc.as_bytes()) {
                Ok(Some(share)) => {
                    shares.push(share);
                    break;
                }
                Ok(None) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    }
    let needed = if md.groups.len() > 1 {
        md.shamir_threshold.unwrap_or(md.groups.len())
    } else {
        1
    };
    if shares.len() < needed {
        if let Some(e) = first_error {
            return Err(e.context("cannot unwrap the data key"));
        }
        let mut recipients = md.recipients();
        recipients.extend(
            md.foreign_keys
                .iter()
                .map(|k| format!("{k} (not supported by regcred)")),
        );
        bail!(
            "no age identity can decrypt it{}. It is encrypted to: {}. Identities were looked for in: {}",
            if needed > 1 {
                format!(
                    " ({} of {} key groups needed, {} unlocked)",
                    needed,
                    md.groups.len(),
                    shares.len()
                )
            } else {
                String::new()
            },
            recipients.join(", "),
            ids.searched()
        );
    }
    let key = if needed > 1 {
        shamir::combine(&shares[..needed])?
    } else {
        shares.swap_remove(0)
    };
    let key: [u8; 32] = key
        .as_slice()
        .try_into()
        .map_err(|_| anyhow!("the unwrapped data key has the wrong length"))?;
    Ok(Zeroizing::new(key))
}

/// How `regcred encrypt` should encrypt a file.
#[derive(Debug, Clone, Default)]
pub(crate) struct EncryptOptions {
    /// age X25519 (`age1...`) or ssh (`ssh-ed25519 ...`, `ssh-rsa ...`) recipients.
    pub(crate) recipients: Vec<String>,
    /// At most one of the sops rules, as (metadata key, value).
    pub(crate) rule: Option<(String, String)>,
    pub(crate) mac_only_encrypted: bool,
}

/// Encrypts `plaintext` in `format` (sops picks it from the extension, or
/// `--input-type`); `path` names the input in messages.
pub(crate) fn encrypt(
    format: Format,
    path: &str,
    plaintext: &[u8],
    opts: &EncryptOptions,
) -> Result<Vec<u8>> {
    if opts.recipients.is_empty() {
        bail!(
            "no recipients: pass --age, set SOPS_AGE_RECIPIENTS, or add a creation rule to .sops.yaml"
        );
    }
    let mut docs = if format == Format::Binary {
        // Any bytes, as sops takes them.
        vec![stores::binary::tree(plaintext)]
    } else {
        let text =
            std::str::from_utf8(plaintext).map_err(|_| anyhow!("{path} is not UTF-8 text"))?;
        // A byte order mark is not part of the first key (sops keeps it in
        // a dotenv key and rejects it in JSON; yaml.v3 and go-ini skip it).
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let parsed = stores::parse(format, text, path)?;
        if parsed.metadata.is_some() || stores::detect(path, text).is_some() {
            bail!("{path} is already encrypted");
        }
        parsed.docs
    };
    let rule = match &opts.rule {
        None => Rule::UnencryptedSuffix("_unencrypted".into()),
        Some((k, v)) => rule_from(k, v)?,
    };
    let mut key = Zeroizing::new([0u8; 32]);
    rand::thread_rng().fill_bytes(key.as_mut());
    let mac = tree::encrypt_tree(&mut docs, &key, &rule, opts.mac_only_encrypted)?;
    let lastmodified = rfc3339_now();
    let mac_enc = cipher::encrypt(&key, mac.as_bytes(), &lastmodified, "str");
    let age = opts
        .recipients
        .iter()
        .map(|r| {
            let enc = wrap_key(r, key.as_ref())?;
            Ok(Node::Map(vec![
                ("recipient".into(), Node::Str(r.clone())),
                ("enc".into(), Node::Str(enc)),
            ]))
        })
        .collect::<Result<Vec<_>>>()?;
    let (rule_key, rule_value) = opts
        .rule
        .clone()
        .unwrap_or(("unencrypted_suffix".into(), "_unencrypted".into()));
    let mut md = vec![
        ("age".to_string(), Node::Seq(age)),
        ("lastmodified".into(), Node::Str(lastmodified)),
        ("mac".into(), Node::Str(mac_enc)),
        (rule_key, Node::Str(rule_value)),
    ];
    if opts.mac_only_encrypted {
        md.push(("mac_only_encrypted".into(), Node::Bool(true)));
    }
    md.push(("version".into(), Node::Str(FORMAT_VERSION.into())));
    stores::emit(format, &docs, Some(&Node::Map(md)))
}

fn rule_from(key: &str, value: &str) -> Result<Rule> {
    let regex = || Regex::new(value).with_context(|| format!("{key}: invalid regular expression"));
    Ok(match key {
        "unencrypted_suffix" => Rule::UnencryptedSuffix(value.into()),
        "encrypted_suffix" => Rule::EncryptedSuffix(value.into()),
        "unencrypted_regex" => Rule::UnencryptedRegex(regex()?),
        "encrypted_regex" => Rule::EncryptedRegex(regex()?),
        other => bail!("unsupported encryption rule {other}"),
    })
}

/// Wraps the data key to one recipient as an armored age file.
fn wrap_key(recipient: &str, key: &[u8]) -> Result<String> {
    use std::io::Write;
    let r: Box<dyn age::Recipient> = if recipient.starts_with("age1") {
        Box::new(
            recipient
                .parse::<age::x25519::Recipient>()
                .map_err(|e| anyhow!("invalid age recipient {recipient:?}: {e}"))?,
        )
    } else if recipient.starts_with("ssh-") {
        Box::new(recipient.parse::<age::ssh::Recipient>().map_err(|_| {
            anyhow!("invalid ssh recipient {recipient:?} (ssh-ed25519 and ssh-rsa are supported)")
        })?)
    } else {
        bail!("unsupported recipient {recipient:?}: expected age1... or an ssh public key");
    };
    let encryptor = age::Encryptor::with_recipients(std::iter::once(r.as_ref()))
        .map_err(|e| anyhow!("age: {e}"))?;
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)?;
    let mut w = encryptor.wrap_output(armor)?;
    w.write_all(key)?;
    w.finish()?.finish()?;
    Ok(String::from_utf8(out)?)
}
