//! Rendered Secrets that stay encrypted in Git: `render -o DIR --encrypt`
//! writes each Secret SOPS-encrypted (`encrypted_regex: ^(data|stringData)$`,
//! age recipients from `--age`, `SOPS_AGE_RECIPIENTS` or the `.sops.yaml`
//! creation rule for the file), which Flux's kustomize-controller and sops
//! decrypt. A file whose plaintext and recipients did not change is kept
//! byte for byte, so re-rendering causes no Git churn; `--check DIR`
//! compares decrypted content.

use super::crypt;
use crate::identities::{Discovery, Identities};
use crate::io::files;
use crate::io::output_dir::{self, MARKER, Planned};
use crate::sops::{self, stores};
use crate::yaml;
use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};

/// What encrypts Secret files and reads encrypted ones back.
pub(super) struct Sealer {
    age: Option<String>,
    identities: Identities,
}

/// The one SOPS rule for rendered Secrets: only their data is encrypted, so
/// a reviewer still sees which Secret, where, from which spec.
const RULE: (&str, &str) = ("encrypted_regex", "^(data|stringData)$");

impl Sealer {
    /// `age`: `--age` recipients; `key_file`: `--age-key-file`, to read
    /// existing files (besides sops' usual places).
    pub(super) fn new(age: Option<String>, key_file: Option<PathBuf>) -> Self {
        Sealer {
            age,
            identities: Identities::new(Discovery {
                cli_key_file: key_file,
                spec_key_files: Vec::new(),
                interactive: false,
            }),
        }
    }

    /// Encrypts every planned Secret file. An existing file that decrypts
    /// to the same Secret for the same recipients is kept as it is. The
    /// notes say which creation rules were used.
    pub(super) fn seal(&self, planned: &mut [Planned]) -> Result<Vec<String>> {
        let mut notes = Vec::new();
        for (path, text) in planned.iter_mut() {
            if !output_dir::is_secret_file(path) {
                continue;
            }
            let (mut opts, note) = crypt::options_for(
                path,
                self.age.clone(),
                Some((RULE.0.into(), RULE.1.into())),
                false,
            )
            .with_context(|| format!("{}: no age recipients to encrypt it for", path.display()))?;
            notes.extend(note);
            opts.recipients.sort();
            let body = text
                .strip_prefix(MARKER)
                .unwrap_or(text)
                .trim_start_matches('\n');
            if let Some(kept) = self.unchanged(path, body, &opts.recipients) {
                *text = kept;
                continue;
            }
            let shown = path.display().to_string();
            let sealed = sops::encrypt(stores::Format::Yaml, &shown, body.as_bytes(), &opts)?;
            let sealed = String::from_utf8(sealed).context("sops output is not UTF-8")?;
            *text = format!("{MARKER}\n{sealed}");
        }
        notes.sort();
        notes.dedup();
        Ok(notes)
    }

    /// The existing file, when it decrypts to `body` for `recipients`.
    fn unchanged(&self, path: &Path, body: &str, recipients: &[String]) -> Option<String> {
        let existing = files::read_text(path).ok()?;
        let decrypted = self.decrypt(path, &existing).ok()??;
        (decrypted.1 == recipients && decrypted.0 == body).then_some(existing)
    }

    /// For `--check`: an existing SOPS file as the plaintext `-o` would
    /// write (marker and all), `None` for a file that is not encrypted.
    pub(super) fn open(&self, path: &Path, text: &str) -> Result<Option<String>> {
        Ok(self
            .decrypt(path, text)?
            .map(|(body, _)| format!("{MARKER}\n{body}")))
    }

    /// A SOPS file's Secret, written as regcred writes it, and its
    /// recipients; `None` when the text is not SOPS.
    fn decrypt(&self, path: &Path, text: &str) -> Result<Option<(String, Vec<String>)>> {
        let shown = path.display().to_string();
        let text = text.strip_prefix(MARKER).unwrap_or(text);
        let decrypted = sops::decrypt(&shown, text, &self.identities).map_err(|e| {
            anyhow!(
                "{shown}: comparing encrypted output needs its age identity (--age-key-file or SOPS_AGE_KEY_FILE): {e:#}"
            )
        })?;
        let Some(d) = decrypted else {
            return Ok(None);
        };
        let plain = d.plaintext()?;
        let plain = std::str::from_utf8(&plain).context("decrypted Secret is not UTF-8")?;
        let docs = yaml::load_stream(plain, &shown)?;
        let [doc] = docs.as_slice() else {
            bail!("{shown}: expected one Secret");
        };
        Ok(Some((yaml::to_string(&doc.value)?, d.recipients)))
    }
}
