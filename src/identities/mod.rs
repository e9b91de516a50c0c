//! Finding age identities the way sops does, and unwrapping age files.
//!
//! Every source is combined, in this order: `--age-key-file`, the spec's
//! `spec.decryption.ageKeyFile`, `SOPS_AGE_KEY` (and Argo CD's
//! `ARGOCD_ENV_SOPS_AGE_KEY`), `SOPS_AGE_KEY_FILE` (and
//! `ARGOCD_ENV_SOPS_AGE_KEY_FILE`), `SOPS_AGE_KEY_CMD`,
//! `SOPS_AGE_SSH_PRIVATE_KEY_FILE`, the default `sops/age/keys.txt` under
//! the user config dir, then `~/.ssh/id_ed25519` and `~/.ssh/id_rsa`.
//! Identities are loaded lazily, the first time an encrypted file is met,
//! so a spec without encrypted files never depends on key material.
//! Nothing here ever prints key material: messages name sources only.

mod age_file;

pub use age_file::{is_age_file, stanza_kinds};

use crate::env::{self, EnvLookup};
use crate::io::files;
use age::secrecy::SecretString;
use age_file::{PQ_SECRET_KEY_PREFIX, check_header, dearmor, describe_age_error};
use anyhow::{Context, Result, anyhow, bail};
use std::cell::OnceCell;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Where to look besides the environment.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// `--age-key-file` on the command line.
    pub cli_key_file: Option<PathBuf>,
    /// `spec.decryption.ageKeyFile`, already resolved against the spec root.
    pub spec_key_files: Vec<PathBuf>,
    /// Whether a passphrase may be asked on the terminal (never in KRM mode).
    pub interactive: bool,
}

/// Lazily loaded identities.
pub struct Identities {
    discovery: Discovery,
    env: EnvLookup,
    loaded: OnceCell<Result<Loaded, String>>,
}

struct Loaded {
    identities: Vec<Box<dyn age::Identity>>,
    /// One line per place looked at, e.g. `SOPS_AGE_KEY_FILE=/k.txt (1 identity)`.
    searched: Vec<String>,
}

/// Passphrase prompts on the terminal, when allowed.
#[derive(Clone, Copy)]
struct Prompt {
    interactive: bool,
}

impl age::Callbacks for Prompt {
    fn display_message(&self, message: &str) {
        if self.interactive {
            eprintln!("{message}");
        }
    }

    fn confirm(&self, _: &str, _: &str, _: Option<&str>) -> Option<bool> {
        None
    }

    fn request_public_string(&self, _: &str) -> Option<String> {
        None
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        if !self.interactive {
            return None;
        }
        rpassword::prompt_password(format!("{description}: "))
            .ok()
            .map(SecretString::from)
    }
}

impl Identities {
    pub fn new(discovery: Discovery) -> Self {
        Identities {
            discovery,
            env: non_empty(env::process()),
            loaded: OnceCell::new(),
        }
    }

    /// Identities from `keys` alone (an age keys file's text), read as
    /// `SOPS_AGE_KEY` is: no file, no other variable, no home directory.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn in_memory(keys: &str) -> Self {
        let keys = keys.to_string();
        Identities {
            discovery: Discovery::default(),
            env: Box::new(move |n| (n == "SOPS_AGE_KEY").then(|| keys.clone())),
            loaded: OnceCell::new(),
        }
    }

    fn loaded(&self) -> Result<&Loaded> {
        self.loaded
            .get_or_init(|| self.load().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow!("{e}"))
    }

    /// Where identities were looked for, for "no identity fits" messages.
    pub fn searched(&self) -> String {
        match self.loaded() {
            Ok(l) => l.searched.join("; "),
            Err(e) => e.to_string(),
        }
    }

    /// Decrypts an age file (binary or armored) with any identity.
    /// `Ok(None)` when no identity matches its recipients. The armor and
    /// the header are checked before any identity is loaded, so a damaged
    /// file is reported as damaged whatever the keys. Nothing of a payload
    /// that fails authentication part-way is returned.
    pub fn decrypt(&self, file: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let binary = dearmor(file)?;
        check_header(&binary)?;
        // The buffered reader parses the header once from the slice; the
        // plain one re-parses it for every few bytes it reads.
        let decryptor = age::Decryptor::new_buffered(&binary[..]).map_err(describe_age_error)?;
        if decryptor.is_scrypt() {
            bail!("the age file is encrypted to a passphrase, not to an identity");
        }
        let loaded = self.loaded()?;
        match decryptor.decrypt(loaded.identities.iter().map(|i| i.as_ref())) {
            Ok(mut stream) => {
                let mut out = Zeroizing::new(Vec::new());
                stream.read_to_end(&mut out).map_err(|_| {
                    anyhow!("the age payload is truncated or corrupted (it failed authentication)")
                })?;
                Ok(Some(out))
            }
            Err(age::DecryptError::NoMatchingKeys) => Ok(None),
            Err(e) => Err(describe_age_error(e)),
        }
    }

    fn load(&self) -> Result<Loaded> {
        let mut l = Loaded {
            identities: Vec::new(),
            searched: Vec::new(),
        };
        let prompt = Prompt {
            interactive: self.discovery.interactive,
        };
        if let Some(p) = &self.discovery.cli_key_file {
            self.add_file(&mut l, "--age-key-file", p, true, prompt)?;
        }
        for p in &self.discovery.spec_key_files {
            self.add_file(&mut l, "spec.decryption.ageKeyFile", p, true, prompt)?;
        }
        for var in ["SOPS_AGE_KEY", "ARGOCD_ENV_SOPS_AGE_KEY"] {
            if let Some(v) = (self.env)(var) {
                // A keys file's lines (comments allowed), several keys per line since sops 3.13.
                let keys: Vec<&str> = v
                    .lines()
                    .filter(|l| !l.trim_start().starts_with('#'))
                    .flat_map(str::split_whitespace)
                    .collect();
                let text = Zeroizing::new(keys.join("\n"));
                let n = add_keys_text(&mut l.identities, &text, var, prompt)?;
                l.searched.push(format!("{var} ({n} identities)"));
            } else {
                l.searched.push(format!("{var} (not set)"));
            }
        }
        for var in ["SOPS_AGE_KEY_FILE", "ARGOCD_ENV_SOPS_AGE_KEY_FILE"] {
            match (self.env)(var) {
                Some(p) => self.add_file(&mut l, var, Path::new(&p), true, prompt)?,
                None => l.searched.push(format!("{var} (not set)")),
            }
        }
        match (self.env)("SOPS_AGE_KEY_CMD") {
            Some(cmd) => {
                let out = run_key_command(&cmd)?;
                let n = add_keys_text(&mut l.identities, &out, "SOPS_AGE_KEY_CMD", prompt)?;
                l.searched
                    .push(format!("SOPS_AGE_KEY_CMD ({n} identities)"));
            }
            None => l.searched.push("SOPS_AGE_KEY_CMD (not set)".into()),
        }
        match (self.env)("SOPS_AGE_SSH_PRIVATE_KEY_FILE") {
            Some(p) => self.add_ssh(
                &mut l,
                "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
                Path::new(&p),
                true,
                prompt,
            )?,
            None => l
                .searched
                .push("SOPS_AGE_SSH_PRIVATE_KEY_FILE (not set)".into()),
        }
        if let Some(p) = self.default_keys_file() {
            self.add_file(&mut l, "default keys file", &p, false, prompt)?;
        }
        if let Some(home) = (self.env)("HOME") {
            for name in ["id_ed25519", "id_rsa"] {
                let p = Path::new(&home).join(".ssh").join(name);
                self.add_ssh(&mut l, "ssh key", &p, false, prompt)?;
            }
        }
        Ok(l)
    }

    /// `<user config dir>/sops/age/keys.txt`, as sops computes it.
    fn default_keys_file(&self) -> Option<PathBuf> {
        let base = if let Some(x) = (self.env)("XDG_CONFIG_HOME") {
            PathBuf::from(x)
        } else if cfg!(target_os = "macos") {
            PathBuf::from((self.env)("HOME")?).join("Library/Application Support")
        } else if cfg!(windows) {
            PathBuf::from((self.env)("APPDATA")?)
        } else {
            PathBuf::from((self.env)("HOME")?).join(".config")
        };
        Some(base.join("sops").join("age").join("keys.txt"))
    }

    fn add_file(
        &self,
        l: &mut Loaded,
        label: &str,
        path: &Path,
        required: bool,
        prompt: Prompt,
    ) -> Result<()> {
        let shown = format!("{label} {}", path.display());
        let Some(bytes) = read_key_file(l, &shown, path, required)? else {
            return Ok(());
        };
        let n = if is_age_file(&bytes) {
            // An age-encrypted identity file: needs a passphrase.
            let binary = dearmor(&bytes).map_err(|e| anyhow!("{shown}: {e}"))?;
            check_header(&binary).map_err(|e| anyhow!("{shown}: {e}"))?;
            let id = age::encrypted::Identity::from_buffer(
                std::io::Cursor::new(binary.into_owned()),
                Some(path.display().to_string()),
                prompt,
                None,
            )
            .map_err(|e| anyhow!("{shown}: {}", describe_age_error(e)))?
            .ok_or_else(|| {
                anyhow!("{shown}: an encrypted identity file must be encrypted to a passphrase")
            })?;
            if !prompt.interactive {
                bail!(
                    "{shown} is passphrase-protected and no terminal is available to ask for the passphrase (in KRM and plugin modes, provide an unencrypted key, e.g. SOPS_AGE_KEY_FILE from a mounted Secret)"
                );
            }
            l.identities.push(Box::new(id));
            1
        } else {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| anyhow!("{shown} is not a text identity file"))?;
            if text
                .trim_start()
                .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----")
                || text
                    .trim_start()
                    .starts_with("-----BEGIN RSA PRIVATE KEY-----")
            {
                return self.add_ssh(l, label, path, required, prompt);
            }
            add_keys_text(&mut l.identities, text, &shown, prompt)?
        };
        l.searched.push(format!("{shown} ({n} identities)"));
        Ok(())
    }

    fn add_ssh(
        &self,
        l: &mut Loaded,
        label: &str,
        path: &Path,
        required: bool,
        prompt: Prompt,
    ) -> Result<()> {
        let shown = format!("{label} {}", path.display());
        let Some(bytes) = read_key_file(l, &shown, path, required)? else {
            return Ok(());
        };
        let id = age::ssh::Identity::from_buffer(&bytes[..], Some(path.display().to_string()))
            .map_err(|_| {
                anyhow!("{shown} is not a supported ssh private key (ssh-ed25519 or ssh-rsa)")
            })?;
        match &id {
            age::ssh::Identity::Unsupported(_) => {
                l.searched.push(format!("{shown} (unsupported key type)"));
                return Ok(());
            }
            age::ssh::Identity::Encrypted(_) if !prompt.interactive => {
                l.searched.push(format!(
                    "{shown} (passphrase-protected; no terminal to ask)"
                ));
                return Ok(());
            }
            _ => {}
        }
        l.identities.push(Box::new(id.with_callbacks(prompt)));
        l.searched.push(format!("{shown} (1 identity)"));
        Ok(())
    }
}

/// sops treats an empty variable as unset.
fn non_empty(env: EnvLookup) -> EnvLookup {
    Box::new(move |n| env(n).filter(|v| !v.is_empty()))
}

/// Reads a key file. A missing optional one (a default location) is noted
/// as absent and gives `None`; a missing required one is an error.
fn read_key_file(
    l: &mut Loaded,
    shown: &str,
    path: &Path,
    required: bool,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    match files::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(_) if !required => {
            l.searched.push(format!("{shown} (absent)"));
            Ok(None)
        }
        Err(e) => bail!("cannot read identities from {shown}: {e}"),
    }
}

/// Parses an age keys file (`AGE-SECRET-KEY-1...` lines, `#` comments).
fn add_keys_text(
    out: &mut Vec<Box<dyn age::Identity>>,
    text: &str,
    source: &str,
    _prompt: Prompt,
) -> Result<usize> {
    // age 0.12 reads no ML-KEM hybrid identity; say so rather than "non-identity data".
    if let Some(n) = text.lines().position(|l| {
        l.trim()
            .get(..PQ_SECRET_KEY_PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(PQ_SECRET_KEY_PREFIX))
    }) {
        bail!(
            "{source}: line {} holds a post-quantum (ML-KEM hybrid, {PQ_SECRET_KEY_PREFIX}1...) age identity, which regcred does not support",
            n + 1
        );
    }
    let file = age::IdentityFile::from_buffer(BufReader::new(text.as_bytes())).map_err(|e| {
        anyhow!(
            "{source}: {}",
            e.to_string().replace("identity file", "keys")
        )
    })?;
    let ids = file
        .into_identities()
        .map_err(|e| anyhow!("{source}: {}", describe_age_error(e)))?;
    let n = ids.len();
    out.extend(ids.into_iter().map(|i| i as Box<dyn age::Identity>));
    Ok(n)
}

/// Runs `SOPS_AGE_KEY_CMD` (split like a shell, without one).
fn run_key_command(cmd: &str) -> Result<Zeroizing<String>> {
    let argv = shlex::split(cmd)
        .ok_or_else(|| anyhow!("SOPS_AGE_KEY_CMD: cannot parse the command line"))?;
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| anyhow!("SOPS_AGE_KEY_CMD is empty"))?;
    let out = std::process::Command::new(prog)
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("SOPS_AGE_KEY_CMD: cannot run {prog}"))?;
    if !out.status.success() {
        bail!("SOPS_AGE_KEY_CMD: {prog} exited with {}", out.status);
    }
    String::from_utf8(out.stdout)
        .map(Zeroizing::new)
        .map_err(|_| anyhow!("SOPS_AGE_KEY_CMD: output is not UTF-8"))
}

/// A new X25519 identity in `age-keygen`'s format, and its recipient.
pub fn keygen(now_rfc3339: &str) -> (Zeroizing<String>, String) {
    use age::secrecy::ExposeSecret;
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    let text = Zeroizing::new(format!(
        "# created: {now_rfc3339}\n# public key: {public}\n{}\n",
        id.to_string().expose_secret()
    ));
    (text, public)
}
