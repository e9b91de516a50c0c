//! Credential sources: turning a spec's `ValueSource` into a secret string.
//!
//! Files are read through a chain of [`Decoder`]s, so encrypted formats
//! (SOPS, age) slot in by adding a decoder; callers never know whether a
//! value came from plaintext or ciphertext. Every path is confined to a root
//! directory: a kustomization from a pull request must not be able to read
//! `~/.ssh` into a Secret that CI then prints.

use crate::dockerconfig::{self, AuthEntry};
use crate::keypath;
use crate::spec::ValueSource;
use anyhow::{Context, Result, bail};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use zeroize::Zeroizing;

/// Turns a file's bytes into plaintext when they are in its format.
pub trait Decoder {
    /// `Ok(None)` means "not my format"; `Err` means "mine, but broken".
    fn decode(&self, file: &str, bytes: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>>;
}

/// Looks up environment variables; replaceable in tests.
pub type EnvLookup = Box<dyn Fn(&str) -> Option<String>>;

/// Resolves value sources relative to one root directory.
pub struct Resolver {
    root: PathBuf,
    allow_outside_root: bool,
    env: EnvLookup,
    decoders: Vec<Box<dyn Decoder>>,
    cache: RefCell<HashMap<PathBuf, Zeroizing<String>>>,
}

impl Resolver {
    /// `root` is where relative paths start and what they may not leave.
    pub fn new(root: &Path, allow_outside_root: bool) -> Result<Self> {
        let root = root
            .canonicalize()
            .with_context(|| format!("cannot resolve the credentials root {}", root.display()))?;
        Ok(Resolver {
            root,
            allow_outside_root,
            env: Box::new(|name| std::env::var(name).ok()),
            decoders: Vec::new(),
            cache: RefCell::default(),
        })
    }

    pub fn with_env(mut self, env: EnvLookup) -> Self {
        self.env = env;
        self
    }

    pub fn with_decoder(mut self, decoder: Box<dyn Decoder>) -> Self {
        self.decoders.push(decoder);
        self
    }

    /// The value of one source. Whole files lose their trailing newline.
    pub fn resolve(&self, source: &ValueSource) -> Result<Zeroizing<String>> {
        match source {
            ValueSource::Literal { value, .. } => Ok(Zeroizing::new(value.clone())),
            ValueSource::Env { name, field } => match (self.env)(name) {
                Some(v) => Ok(Zeroizing::new(v)),
                None => bail!("{field}: environment variable {name} is not set"),
            },
            ValueSource::File { path, key, field } => {
                let content = self.read(path, field)?;
                match key {
                    Some(key) => keypath::extract(&content, key, &field_of_key(field), path),
                    None => Ok(Zeroizing::new(
                        content.trim_end_matches(['\n', '\r']).to_string(),
                    )),
                }
            }
        }
    }

    /// Where a relative credential path points, if it exists.
    pub fn locate(&self, path: &str) -> Option<PathBuf> {
        self.root.join(path).canonicalize().ok()
    }

    /// Drops every decrypted file held for reuse within one spec (the
    /// buffers zeroize on drop), once the Secret payload is built.
    pub fn forget(&self) {
        self.cache.borrow_mut().clear();
    }

    /// Every `auths` entry of a docker config.json source.
    pub fn docker_config(&self, source: &ValueSource) -> Result<Vec<AuthEntry>> {
        let ValueSource::File { path, field, .. } = source else {
            bail!("{}: must be a {{file: PATH}} source", source.field());
        };
        let content = self.read(path, field)?;
        dockerconfig::import(&content, field, path)
    }

    /// Reads (and decodes) a file once per render.
    fn read(&self, path: &str, field: &str) -> Result<Zeroizing<String>> {
        let full = self.confine(path, field)?;
        if let Some(hit) = self.cache.borrow().get(&full) {
            return Ok(hit.clone());
        }
        let bytes = Zeroizing::new(
            std::fs::read(&full).with_context(|| format!("{field}: cannot read {path}"))?,
        );
        let mut plain = None;
        for d in &self.decoders {
            if let Some(p) = d
                .decode(path, &bytes)
                .with_context(|| format!("{field}: {path}"))?
            {
                plain = Some(p);
                break;
            }
        }
        let plain = plain.unwrap_or(bytes);
        let text = Zeroizing::new(
            std::str::from_utf8(&plain)
                .map_err(|_| anyhow::anyhow!("{field}: {path} is not UTF-8 text"))?
                .to_string(),
        );
        self.cache.borrow_mut().insert(full, text.clone());
        Ok(text)
    }

    /// Resolves `path` against the root and refuses anything outside it,
    /// after following symlinks, unless explicitly allowed.
    pub fn confine(&self, path: &str, field: &str) -> Result<PathBuf> {
        let p = Path::new(path);
        if !self.allow_outside_root {
            if p.is_absolute() {
                bail!(
                    "{field}: absolute path {path} is outside the credentials root {} (pass --allow-path-outside-root to permit it)",
                    self.root.display()
                );
            }
            if p.components().any(|c| c == Component::ParentDir) {
                bail!(
                    "{field}: path {path} uses '..' to leave the credentials root {} (pass --allow-path-outside-root to permit it)",
                    self.root.display()
                );
            }
        }
        let joined = self.root.join(p);
        let real = joined
            .canonicalize()
            .with_context(|| format!("{field}: cannot read {path}"))?;
        if !self.allow_outside_root && !real.starts_with(&self.root) {
            bail!(
                "{field}: {path} resolves (through a symlink) outside the credentials root {} (pass --allow-path-outside-root to permit it)",
                self.root.display()
            );
        }
        Ok(real)
    }
}

/// `...password.file` names the file; a bad key is reported at `...password.key`.
fn field_of_key(file_field: &str) -> String {
    match file_field.strip_suffix(".file") {
        Some(base) => format!("{base}.key"),
        None => file_field.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, key: Option<&str>) -> ValueSource {
        ValueSource::File {
            path: path.into(),
            key: key.map(Into::into),
            field: "spec.registries[0].password.file".into(),
        }
    }

    fn tmp() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "regcred-src-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("root/creds")).unwrap();
        std::fs::write(d.join("root/creds/pw"), "hunter2\n").unwrap();
        std::fs::write(d.join("root/creds/c.yaml"), "tokens: {ghcr: tok}\n").unwrap();
        std::fs::write(d.join("outside"), "CANARY\n").unwrap();
        d
    }

    #[test]
    fn literal_env_file_and_key() {
        let d = tmp();
        let r = Resolver::new(&d.join("root"), false)
            .unwrap()
            .with_env(Box::new(|n| (n == "P").then(|| "from-env".to_string())));
        let lit = ValueSource::Literal {
            value: "x".into(),
            field: "f".into(),
        };
        assert_eq!(*r.resolve(&lit).unwrap(), "x");
        assert_eq!(
            *r.resolve(&ValueSource::Env {
                name: "P".into(),
                field: "f".into()
            })
            .unwrap(),
            "from-env"
        );
        let e = r
            .resolve(&ValueSource::Env {
                name: "Q".into(),
                field: "spec.x.env".into(),
            })
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("spec.x.env: environment variable Q is not set")
        );
        assert_eq!(*r.resolve(&file("creds/pw", None)).unwrap(), "hunter2");
        assert_eq!(
            *r.resolve(&file("creds/c.yaml", Some("tokens.ghcr")))
                .unwrap(),
            "tok"
        );
        let e = format!(
            "{:#}",
            r.resolve(&file("creds/c.yaml", Some("tokens.x")))
                .unwrap_err()
        );
        assert!(e.contains("spec.registries[0].password.key"), "{e}");
    }

    #[test]
    fn paths_outside_the_root_are_refused_unless_allowed() {
        let d = tmp();
        std::os::unix::fs::symlink(d.join("outside"), d.join("root/link")).unwrap();
        let r = Resolver::new(&d.join("root"), false).unwrap();
        let abs = d.join("outside").display().to_string();
        for p in ["../outside", abs.as_str(), "link"] {
            let e = format!("{:#}", r.resolve(&file(p, None)).unwrap_err());
            assert!(
                e.contains("outside the credentials root")
                    || e.contains("leave the credentials root"),
                "{p}: {e}"
            );
            assert!(!e.contains("CANARY"));
        }
        let r = Resolver::new(&d.join("root"), true).unwrap();
        assert_eq!(*r.resolve(&file("link", None)).unwrap(), "CANARY");
    }
}
