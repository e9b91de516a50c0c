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
        Ok(text) => Ok(Document {
            text: Zeroizing::new(text.to_string()),
            format,
        }),
        Err(_) => bail!("is not UTF-8 text"),
    }
}
