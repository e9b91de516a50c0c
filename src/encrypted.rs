//! The credential-source decoder for encrypted files: SOPS documents (any
//! format) and plain age files, recognised by content, not by name.

use crate::identity::{self, Identities};
use crate::sops;
use crate::source::Decoder;
use anyhow::{Result, bail};
use std::rc::Rc;
use zeroize::Zeroizing;

/// Decrypts SOPS and age files with lazily discovered identities.
pub struct EncryptedFiles {
    pub identities: Rc<Identities>,
}

impl Decoder for EncryptedFiles {
    fn decode(&self, file: &str, bytes: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>> {
        if identity::is_age_file(bytes) {
            return match self.identities.decrypt(bytes)? {
                Some(plain) => Ok(Some(plain)),
                None => bail!(
                    "age file: no identity matches its recipients (stanzas: {}). Identities were looked for in: {}",
                    identity::stanza_kinds(bytes).join(", "),
                    self.identities.searched()
                ),
            };
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Ok(None);
        };
        match sops::decrypt(file, text, &self.identities)? {
            Some(d) => d.plaintext().map(Some),
            None => Ok(None),
        }
    }
}
