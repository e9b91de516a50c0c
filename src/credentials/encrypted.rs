//! Encrypted credential files: SOPS documents (any store) and plain age
//! files, recognised by content, not by name. Decoding returns the
//! plaintext together with its format, so the document reader never has
//! to guess what decryption already knew.

use super::document::{Document, Format};
use crate::identities::{self, Identities};
use crate::sops::{self, stores};
use anyhow::{Result, bail};
use std::rc::Rc;
use zeroize::Zeroizing;

/// Decrypts SOPS and age files with lazily discovered identities.
pub struct Decryptor {
    pub identities: Rc<Identities>,
}

impl Decryptor {
    /// The plaintext document of an encrypted file; `Ok(None)` when the
    /// file is not encrypted, `Err` when it is but cannot be decrypted.
    pub fn decode(&self, file: &str, bytes: &[u8]) -> Result<Option<Document>> {
        if identities::is_age_file(bytes) {
            let Some(plain) = self.identities.decrypt(bytes)? else {
                bail!(
                    "age file: no identity matches its recipients (stanzas: {}). Identities were looked for in: {}",
                    identities::stanza_kinds(bytes).join(", "),
                    self.identities.searched()
                );
            };
            return document(plain, Format::from_name(file)).map(Some);
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Ok(None);
        };
        let Some(d) = sops::decrypt(file, text, &self.identities)? else {
            return Ok(None);
        };
        let format = match d.format {
            stores::Format::Yaml | stores::Format::Json => Format::Yaml,
            stores::Format::Dotenv => Format::Dotenv,
            stores::Format::Ini => Format::Ini,
            // A binary store holds any file: its name may still say what it is.
            stores::Format::Binary => Format::from_name(file),
        };
        document(d.plaintext()?, format).map(Some)
    }
}

/// Plaintext bytes as a document of `format`.
pub fn document(bytes: Zeroizing<Vec<u8>>, format: Format) -> Result<Document> {
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Document::new(Zeroizing::new(text.to_string()), format)),
        Err(_) => bail!("is not UTF-8 text"),
    }
}

/// What marks `bytes` as SOPS- or age-encrypted, if anything does. A file
/// with such a mark that did not decrypt is damaged or in a form regcred
/// cannot read; using it as plaintext would put ciphertext into a Secret.
pub fn encryption_mark(bytes: &[u8]) -> Option<&'static str> {
    const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";
    let start = bytes.trim_ascii_start();
    let lower = String::from_utf8_lossy(bytes).to_ascii_lowercase();
    if start.starts_with(b"age-encryption.org")
        || (start.len() >= 4 && AGE_MAGIC.starts_with(start))
    {
        return Some("an age header");
    }
    // Not any PEM block: a service-account JSON key (a registry password)
    // holds a `-----BEGIN PRIVATE KEY-----`.
    if lower.contains("-----begin ag")
        || lower.contains("age encrypted")
        || lower.contains("encrypted file-----")
    {
        return Some("an age armor header");
    }
    if lower.contains("enc[aes256_gcm,") {
        return Some("SOPS ENC[...] values");
    }
    let sops_line = |l: &str| {
        let l = l.trim();
        l.starts_with("sops:")
            || l.starts_with("\"sops\"")
            || l.starts_with("sops_")
            || l.replace(' ', "") == "[sops]"
    };
    if lower.lines().any(sops_line) {
        return Some("SOPS metadata");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_encrypted_files_still_look_encrypted() {
        for text in [
            "password: ENC[AES256_GCM,data:abc=,iv:x=,tag:y=,type:str]\nsopz:\n    mac: x\n",
            "[ sops ]\nmac = x\n",
            "PASS=x\nsops_mac=ENC[AES256_GCM,data:x]\n",
            "-----BEGIN AGX ENCRYPTED FILE-----\nYWdl\n",
            "-----begin age encrypted file-----\n",
            "garbage\n-----BEGIN AGE ENCRYPTED FILE-----\n",
            "-----BEGIN AGE ENCRYPTED MESSAGE-----\n",
            "age-encryp",
            "  age-encryption.org/v2\n",
        ] {
            assert!(encryption_mark(text.as_bytes()).is_some(), "{text}");
        }
        for text in [
            "hunter2\n",
            "{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMII\"}",
            "user: robot\ntoken: abc\n",
            "PASS=a\n",
            "[registry]\nx = y\n",
            "age\n",
        ] {
            assert_eq!(encryption_mark(text.as_bytes()), None, "{text}");
        }
    }
}
