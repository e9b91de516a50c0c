//! `regcred encrypt`, `decrypt` and `keygen`: producing and inspecting the
//! encrypted credential files `render` reads, without the sops binary.

use crate::credentials::{encryption_mark, keypath};
use crate::gocompat::time::rfc3339_now;
use crate::identities::{self, Discovery, Identities};
use crate::io::files::{self, write_atomic};
use crate::io::{Outcome, read_stdin};
use crate::sops::{self, EncryptOptions, stores};
use crate::yaml::scalar_string;
use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Options of `regcred encrypt`.
pub struct EncryptArgs {
    /// The plaintext, `-` for stdin.
    pub file: PathBuf,
    /// `--input-type`: overrides the extension (stdin has none: YAML).
    pub input_type: Option<String>,
    pub age: Option<String>,
    pub rule: Option<(String, String)>,
    pub mac_only_encrypted: bool,
    pub in_place: bool,
    pub output: Option<PathBuf>,
}

fn ok(stdout: Vec<u8>, stderr: Vec<String>) -> Outcome {
    Outcome {
        stdout,
        stderr,
        ..Outcome::default()
    }
}

/// Recipients from `--age`, else `SOPS_AGE_RECIPIENTS`, else `.sops.yaml`.
fn encrypt_options(args: &EncryptArgs) -> Result<(EncryptOptions, Option<String>)> {
    options_for(
        &args.file,
        args.age.clone(),
        args.rule.clone(),
        args.mac_only_encrypted,
    )
}

/// How to encrypt `file`: recipients from `age` (`--age`), else
/// `SOPS_AGE_RECIPIENTS`, else the `.sops.yaml` creation rule for `file`;
/// `rule` replaces the creation rule's. The note says which rule was used.
pub(super) fn options_for(
    file: &Path,
    age: Option<String>,
    rule: Option<(String, String)>,
    mac_only_encrypted: bool,
) -> Result<(EncryptOptions, Option<String>)> {
    let explicit = age.or_else(|| {
        std::env::var("SOPS_AGE_RECIPIENTS")
            .ok()
            .filter(|s| !s.is_empty())
    });
    if let Some(list) = explicit {
        let recipients = list
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        return Ok((
            EncryptOptions {
                recipients,
                rule,
                mac_only_encrypted,
            },
            None,
        ));
    }
    match sops::config::options_for(file)? {
        Some((config, mut opts)) => {
            if rule.is_some() {
                opts.rule = rule;
            }
            opts.mac_only_encrypted |= mac_only_encrypted;
            Ok((
                opts,
                Some(format!("using creation rule from {}", config.display())),
            ))
        }
        None => bail!(
            "no recipients: pass --age, set SOPS_AGE_RECIPIENTS, or add a .sops.yaml with creation_rules"
        ),
    }
}

/// `regcred encrypt`.
pub fn encrypt(args: &EncryptArgs) -> Outcome {
    let run = || -> Result<Outcome> {
        let stdin = args.file.as_os_str() == "-";
        if stdin && args.in_place {
            bail!("--in-place needs a file, not stdin");
        }
        let plain = if stdin {
            Zeroizing::new(read_stdin()?.into_bytes())
        } else {
            files::read(&args.file)
                .with_context(|| format!("cannot read {}", args.file.display()))?
        };
        let (opts, note) = encrypt_options(args)?;
        let shown = if stdin {
            "stdin".to_string()
        } else {
            args.file.display().to_string()
        };
        let format = match (args.input_type.as_deref(), stdin) {
            (Some(t), _) => stores::Format::from_type(t),
            (None, true) => stores::Format::Yaml,
            (None, false) => stores::Format::from_path(&shown),
        };
        let out = sops::encrypt(format, &shown, &plain, &opts).map_err(|e| naming(e, &shown))?;
        let target = if args.in_place {
            Some(args.file.clone())
        } else {
            args.output.clone()
        };
        let stderr = note.into_iter().collect();
        match target {
            Some(path) => {
                write_atomic(&path, &out, None)?;
                Ok(ok(Vec::new(), stderr))
            }
            None => Ok(ok(out, stderr)),
        }
    };
    run().unwrap_or_else(Outcome::error)
}

/// Options of `regcred decrypt`.
pub struct DecryptArgs {
    pub file: PathBuf,
    pub extract: Option<String>,
    pub output: Option<PathBuf>,
    pub age_key_file: Option<PathBuf>,
}

/// `e`, named after the file `shown` unless its message already starts with
/// that name: the readers name their origin themselves, and `file: file:`
/// reads as a bug.
fn naming(e: anyhow::Error, shown: &str) -> anyhow::Error {
    if e.to_string().starts_with(shown) {
        e
    } else {
        e.context(shown.to_string())
    }
}

/// `regcred decrypt`.
pub fn decrypt(args: &DecryptArgs) -> Outcome {
    let run = || -> Result<Outcome> {
        let shown = args.file.display().to_string();
        let bytes = files::read(&args.file).with_context(|| format!("cannot read {shown}"))?;
        let ids = Identities::new(Discovery {
            cli_key_file: args.age_key_file.clone(),
            spec_key_files: Vec::new(),
            interactive: true,
        });
        let plain: Zeroizing<Vec<u8>> = if identities::is_age_file(&bytes) {
            ids.decrypt(&bytes)
                .with_context(|| shown.clone())?
                .ok_or_else(|| anyhow!("{shown}: no identity matches its recipients. Identities were looked for in: {}", ids.searched()))?
        } else {
            let not_encrypted = || match encryption_mark(&bytes) {
                Some(mark) => anyhow!(
                    "{shown} has {mark} but is not a SOPS or age file regcred can decrypt (damaged?)"
                ),
                None => anyhow!("{shown} is neither a SOPS nor an age file"),
            };
            let text = std::str::from_utf8(&bytes).map_err(|_| not_encrypted())?;
            let d = sops::decrypt(&shown, text, &ids)
                .with_context(|| shown.clone())?
                .ok_or_else(not_encrypted)?;
            match &args.extract {
                Some(path) => extract(&d, path)?,
                None => d.plaintext()?,
            }
        };
        match &args.output {
            Some(path) => {
                write_atomic(path, &plain, Some(0o600))?;
                Ok(ok(Vec::new(), Vec::new()))
            }
            None => Ok(ok(plain.to_vec(), Vec::new())),
        }
    };
    run().unwrap_or_else(Outcome::error)
}

/// `--extract '["a"]["b"]'`: a scalar as its text, a subtree in the file's format.
fn extract(d: &sops::Decrypted, path: &str) -> Result<Zeroizing<Vec<u8>>> {
    let segs = keypath::parse(path, "--extract")?;
    let value = stores::to_value(&d.docs[0]);
    let found =
        keypath::lookup(&value, &segs).ok_or_else(|| anyhow!("--extract: {path} not found"))?;
    if let Some(s) = scalar_string(found) {
        return Ok(Zeroizing::new(s.into_bytes()));
    }
    let mut docs = d.docs.clone();
    docs.truncate(1);
    let sub = subtree(&d.docs[0], &segs).ok_or_else(|| anyhow!("--extract: {path} not found"))?;
    docs[0] = sub.clone();
    let format = if d.format == stores::Format::Json {
        stores::Format::Json
    } else {
        stores::Format::Yaml
    };
    stores::emit(format, &docs, None).map(Zeroizing::new)
}

/// The `i`th item of a sequence, not counting its comments.
fn item(items: &[sops::tree::Node], i: usize) -> Option<&sops::tree::Node> {
    items
        .iter()
        .filter(|v| !matches!(v, sops::tree::Node::Comment(_)))
        .nth(i)
}

fn subtree<'a>(
    node: &'a sops::tree::Node,
    segs: &[keypath::Segment],
) -> Option<&'a sops::tree::Node> {
    use sops::tree::Node;
    segs.iter().try_fold(node, |n, seg| match (seg, n) {
        (keypath::Segment::Key(k), Node::Map(_)) => n.get(k),
        (keypath::Segment::Index(i), Node::Seq(items)) => item(items, *i),
        (keypath::Segment::Key(k), Node::Seq(items)) => {
            k.parse::<usize>().ok().and_then(|i| item(items, i))
        }
        _ => None,
    })
}

/// `regcred keygen [-o FILE]`: prints or writes an identity, public key to stderr.
pub fn keygen(output: Option<&Path>) -> Outcome {
    let run = || -> Result<Outcome> {
        let (text, public) = identities::keygen(&rfc3339_now());
        let note = vec![format!("Public key: {public}")];
        match output {
            Some(path) => {
                if path.exists() {
                    bail!(
                        "{} already exists; refusing to overwrite an identity",
                        path.display()
                    );
                }
                write_atomic(path, text.as_bytes(), Some(0o600))?;
                Ok(ok(Vec::new(), note))
            }
            None => Ok(ok(text.as_bytes().to_vec(), note)),
        }
    };
    run().unwrap_or_else(Outcome::error)
}
