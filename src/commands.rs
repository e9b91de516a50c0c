//! `regcred encrypt`, `decrypt` and `keygen`: producing and inspecting the
//! encrypted credential files `render` reads, without the sops binary.

use crate::identity::{self, Discovery, Identities};
use crate::keypath;
use crate::run::Outcome;
use crate::sops::{self, EncryptOptions, formats};
use anyhow::{Context, Result, anyhow, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Options of `regcred encrypt`.
pub struct EncryptArgs {
    pub file: PathBuf,
    pub age: Option<String>,
    pub rule: Option<(String, String)>,
    pub mac_only_encrypted: bool,
    pub in_place: bool,
    pub output: Option<PathBuf>,
}

fn ok(stdout: Vec<u8>, stderr: Vec<String>) -> Outcome {
    Outcome {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr,
        ..Outcome::default()
    }
}

/// Recipients from `--age`, else `SOPS_AGE_RECIPIENTS`, else `.sops.yaml`.
fn encrypt_options(args: &EncryptArgs) -> Result<(EncryptOptions, Option<String>)> {
    let explicit = args.age.clone().or_else(|| {
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
                rule: args.rule.clone(),
                mac_only_encrypted: args.mac_only_encrypted,
            },
            None,
        ));
    }
    match sops::config::options_for(&args.file)? {
        Some((config, mut opts)) => {
            if args.rule.is_some() {
                opts.rule = args.rule.clone();
            }
            opts.mac_only_encrypted |= args.mac_only_encrypted;
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

pub fn encrypt(args: &EncryptArgs) -> Outcome {
    let run = || -> Result<Outcome> {
        let plain = Zeroizing::new(
            std::fs::read(&args.file)
                .with_context(|| format!("cannot read {}", args.file.display()))?,
        );
        let (opts, note) = encrypt_options(args)?;
        let out = sops::encrypt(&args.file.display().to_string(), &plain, &opts)
            .with_context(|| args.file.display().to_string())?;
        let target = if args.in_place {
            Some(args.file.clone())
        } else {
            args.output.clone()
        };
        let stderr = note.into_iter().collect();
        match target {
            Some(path) => {
                write_file(&path, &out, None)?;
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

pub fn decrypt(args: &DecryptArgs) -> Outcome {
    let run = || -> Result<Outcome> {
        let shown = args.file.display().to_string();
        let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {shown}"))?;
        let ids = Identities::new(Discovery {
            cli_key_file: args.age_key_file.clone(),
            spec_key_files: Vec::new(),
            interactive: true,
        });
        let plain: Zeroizing<Vec<u8>> = if identity::is_age_file(&bytes) {
            ids.decrypt(&bytes)
                .with_context(|| shown.clone())?
                .ok_or_else(|| anyhow!("{shown}: no identity matches its recipients. Identities were looked for in: {}", ids.searched()))?
        } else {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| anyhow!("{shown} is neither a SOPS nor an age file"))?;
            let d = sops::decrypt(&shown, text, &ids)
                .with_context(|| shown.clone())?
                .ok_or_else(|| anyhow!("{shown} is neither a SOPS nor an age file"))?;
            match &args.extract {
                Some(path) => extract(&d, path)?,
                None => d.plaintext()?,
            }
        };
        match &args.output {
            Some(path) => {
                write_file(path, &plain, Some(0o600))?;
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
    let value = formats::to_value(&d.docs[0]);
    let found =
        keypath::lookup(&value, &segs).ok_or_else(|| anyhow!("--extract: {path} not found"))?;
    if let Some(s) = crate::spec::scalar_string(found) {
        return Ok(Zeroizing::new(s.into_bytes()));
    }
    let mut docs = d.docs.clone();
    docs.truncate(1);
    let sub = subtree(&d.docs[0], &segs).ok_or_else(|| anyhow!("--extract: {path} not found"))?;
    docs[0] = sub.clone();
    let format = if d.format == formats::Format::Json {
        formats::Format::Json
    } else {
        formats::Format::Yaml
    };
    formats::emit(format, &docs, None).map(Zeroizing::new)
}

fn subtree<'a>(
    node: &'a sops::tree::Node,
    segs: &[keypath::Segment],
) -> Option<&'a sops::tree::Node> {
    use sops::tree::Node;
    segs.iter().try_fold(node, |n, seg| match (seg, n) {
        (keypath::Segment::Key(k), Node::Map(_)) => n.get(k),
        (keypath::Segment::Index(i), Node::Seq(items)) => items.get(*i),
        (keypath::Segment::Key(k), Node::Seq(items)) => {
            k.parse::<usize>().ok().and_then(|i| items.get(i))
        }
        _ => None,
    })
}

/// `regcred keygen [-o FILE]`: prints or writes an identity, public key to stderr.
pub fn keygen(output: Option<&Path>) -> Outcome {
    let run = || -> Result<Outcome> {
        let (text, public) = identity::keygen(&sops::rfc3339_now());
        let note = vec![format!("Public key: {public}")];
        match output {
            Some(path) => {
                if path.exists() {
                    bail!(
                        "{} already exists; refusing to overwrite an identity",
                        path.display()
                    );
                }
                write_file(path, text.as_bytes(), Some(0o600))?;
                Ok(ok(Vec::new(), note))
            }
            None => Ok(ok(text.as_bytes().to_vec(), note)),
        }
    };
    run().unwrap_or_else(Outcome::error)
}

/// Writes via a temporary file and rename, so a failure leaves no partial file.
fn write_file(path: &Path, data: &[u8], mode: Option<u32>) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.regcred-tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out")
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    if let Some(m) = mode {
        opts.mode(m);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}
