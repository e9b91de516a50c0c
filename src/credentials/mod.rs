//! Credential sources: turning a spec's `ValueSource` into a secret value.
//!
//! This is the one owner of credential documents. A file is read through
//! the confined open ([`crate::io::confined`]), decrypted when it is a SOPS
//! or age file ([`encrypted`]), and read as a [`document::Document`] in the
//! format decryption found or its name says; callers never know whether a
//! value came from plaintext or ciphertext.

pub(crate) mod dockerconfig;
pub(crate) mod document;
mod encrypted;
pub(crate) mod keypath;

use crate::env::{self, EnvLookup};
use crate::identities::{Discovery, Identities};
use crate::io::confined::{CLI_HINT, Root};
use crate::spec::{Spec, ValueSource};
use anyhow::{Result, anyhow, bail};
use dockerconfig::AuthEntry;
use document::{Document, Format};
pub(crate) use encrypted::Decryptor;
pub(crate) use encrypted::encryption_mark;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use zeroize::Zeroizing;

/// How credential sources are read, common to every mode.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub allow_path_outside_root: bool,
    /// `--age-key-file`.
    pub age_key_file: Option<PathBuf>,
    /// Whether passphrases may be asked on the terminal.
    pub interactive: bool,
    /// The confinement root (`--root`, `REGCRED_ROOT`); by default the
    /// enclosing repository of the spec's directory.
    pub root: Option<PathBuf>,
    /// Only registry names are needed (`check`, `explain`): credential
    /// values are not read, so nothing is decrypted that does not name a
    /// registry, and pull-request CI needs no keys.
    pub names_only: bool,
    /// The run came from the command line: refusals may name its
    /// `--allow-path-outside-root` flag (KRM, plugin and Argo CD modes have none).
    pub from_cli: bool,
}

/// Resolves value sources relative to one root directory.
pub struct Resolver {
    root: Root,
    names_only: bool,
    env: EnvLookup,
    decryptor: Option<Decryptor>,
    cache: RefCell<HashMap<PathBuf, Rc<Document>>>,
    /// Each path as the spec wrote it, checked and resolved once: a spec
    /// names one file for several values (a username and a password per
    /// registry), and resolving it is a system call per path component.
    confined: RefCell<HashMap<String, PathBuf>>,
}

impl Resolver {
    /// Relative paths start at `base`; they may not leave the root
    /// (`opts.root`, else the enclosing repository of `base`).
    pub fn new(base: &Path, opts: &Options) -> Result<Self> {
        let hint = if opts.from_cli { CLI_HINT } else { "" };
        Ok(Resolver {
            names_only: opts.names_only,
            root: Root::new(
                base,
                opts.root.as_deref(),
                opts.allow_path_outside_root,
                hint,
            )?,
            env: env::process(),
            decryptor: None,
            cache: RefCell::default(),
            confined: RefCell::default(),
        })
    }

    /// The resolver for one spec: plaintext files plus SOPS/age decryption
    /// with identities discovered lazily (CLI key file, the spec's key
    /// file, then sops' places). The spec's key file obeys the same
    /// confinement as credential files.
    pub fn for_spec(spec: &Spec, root: &Path, opts: &Options) -> Result<Self> {
        let resolver = Resolver::new(root, opts)?;
        let spec_key_files = spec
            .age_key_file
            .iter()
            .map(|p| resolver.root.confine(p, "spec.decryption.ageKeyFile"))
            .collect::<Result<_>>()?;
        let discovery = Discovery {
            cli_key_file: opts.age_key_file.clone(),
            spec_key_files,
            interactive: opts.interactive,
        };
        Ok(Resolver {
            decryptor: Some(Decryptor {
                identities: Rc::new(Identities::new(discovery)),
            }),
            ..resolver
        })
    }

    /// Reads environment variables through `env` instead of the process's.
    #[cfg(test)]
    pub fn with_env(mut self, env: EnvLookup) -> Self {
        self.env = env;
        self
    }

    /// Whether values are read (false when only registry names are needed).
    pub fn reads_values(&self) -> bool {
        !self.names_only
    }

    /// The value of one source. Whole files lose their trailing newline.
    /// When only names are needed, a placeholder stands for every value.
    pub fn resolve(&self, source: &ValueSource) -> Result<Zeroizing<String>> {
        if self.names_only {
            return Ok(Zeroizing::new(NOT_READ.to_string()));
        }
        match source {
            ValueSource::Literal { value, .. } => Ok(Zeroizing::new(value.clone())),
            ValueSource::Env { name, field, .. } => match (self.env)(name) {
                Some(v) => Ok(Zeroizing::new(v)),
                None => bail!("{field}: environment variable {name} is not set"),
            },
            ValueSource::File {
                path, key, field, ..
            } => {
                let doc = self.read(path, field)?;
                match key {
                    Some(key) => doc.extract(key, &field_of_key(field), path),
                    None => Ok(doc.whole()),
                }
            }
        }
    }

    /// Where a relative credential path points, if it exists.
    pub fn locate(&self, path: &str) -> Option<PathBuf> {
        self.root.locate(path)
    }

    /// Drops every decrypted file held for reuse within one spec (their text
    /// and parsed tree are wiped on drop), once the Secret payload is built.
    pub fn forget(&self) {
        self.cache.borrow_mut().clear();
    }

    /// Every `auths` entry of a docker config.json source.
    pub fn docker_config(&self, source: &ValueSource) -> Result<Vec<AuthEntry>> {
        let ValueSource::File { path, field, .. } = source else {
            bail!("{}: must be a {{file: PATH}} source", source.field());
        };
        let doc = self.read(path, field)?;
        dockerconfig::import(&doc, field, path)
    }

    /// [`Root::confine`], once per path.
    fn confine(&self, path: &str, field: &str) -> Result<PathBuf> {
        if let Some(real) = self.confined.borrow().get(path) {
            return Ok(real.clone());
        }
        let real = self.root.confine(path, field)?;
        self.confined
            .borrow_mut()
            .insert(path.to_string(), real.clone());
        Ok(real)
    }

    /// Reads (and decrypts) a file once per render; shared, so that its
    /// parsed tree is shared too.
    fn read(&self, path: &str, field: &str) -> Result<Rc<Document>> {
        let real = self.confine(path, field)?;
        if let Some(hit) = self.cache.borrow().get(&real) {
            return Ok(hit.clone());
        }
        let bytes = self.root.read_confined(&real, path, field)?;
        let decrypted = match &self.decryptor {
            Some(d) => d
                .decode(path, &bytes)
                .map_err(|e| e.context(format!("{field}: {path}")))?,
            None => None,
        };
        let doc = match decrypted {
            Some(doc) => doc,
            None => {
                if let Some(mark) = encrypted::encryption_mark(&bytes) {
                    bail!(
                        "{field}: {path} has {mark} but is not a SOPS or age file regcred can decrypt (damaged?); refusing to use it as plaintext"
                    );
                }
                encrypted::document(bytes, Format::from_name(path))
                    .map_err(|_| anyhow!("{field}: {path} is not UTF-8 text"))?
            }
        };
        let doc = Rc::new(doc);
        self.cache.borrow_mut().insert(real, Rc::clone(&doc));
        Ok(doc)
    }
}

/// What stands for a credential value that was not read.
const NOT_READ: &str = "not-read";

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
            allow_empty: false,
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
        let r = Resolver::new(&d.join("root"), &Options::default())
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
                field: "f".into(),
                allow_empty: false,
            })
            .unwrap(),
            "from-env"
        );
        let e = r
            .resolve(&ValueSource::Env {
                name: "Q".into(),
                field: "spec.x.env".into(),
                allow_empty: false,
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
}
