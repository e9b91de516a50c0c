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

use crate::env::{self, EnvLookup};
use crate::io::files;
use age::secrecy::SecretString;
use anyhow::{Context, Result, anyhow, bail};
use std::borrow::Cow;
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
        let decryptor = age::Decryptor::new(&binary[..]).map_err(describe_age_error)?;
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

/// The first line of a binary age file, up to its version.
const AGE_INTRO: &[u8] = b"age-encryption.org/";
/// The first line of an armored age file.
const ARMOR_BEGIN: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";
/// How a post-quantum hybrid identity starts (age 1.3; not read by age 0.12).
const PQ_SECRET_KEY_PREFIX: &str = "AGE-SECRET-KEY-PQ-";

/// True for what is meant to be an age file, binary (any version) or
/// armored, after leading whitespace. Such a file decrypts or is an error;
/// it is never plaintext.
pub fn is_age_file(bytes: &[u8]) -> bool {
    let trimmed = bytes.trim_ascii_start();
    trimmed.starts_with(AGE_INTRO) || trimmed.starts_with(ARMOR_BEGIN)
}

/// The binary age file in `bytes`: an armored file is decoded (the age
/// spec allows whitespace before and after the armor; the age crate only
/// after it), a binary one is returned as it is.
fn dearmor(bytes: &[u8]) -> Result<Cow<'_, [u8]>> {
    let start = bytes.trim_ascii_start();
    if !start.starts_with(ARMOR_BEGIN) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut binary = Vec::new();
    age::armor::ArmoredReader::new(start)
        .read_to_end(&mut binary)
        .map_err(|e| anyhow!("the age armor is malformed: {e}"))?;
    Ok(Cow::Owned(binary))
}

/// Checks the structure of an age header (the version line, then stanzas,
/// then the MAC line), as the age spec and the reference implementation
/// do. The age crate checks the rest, but accepts a stanza without its
/// final short body line (CCTV `stanza_missing_body`,
/// `stanza_missing_final_line`).
fn check_header(file: &[u8]) -> Result<()> {
    let malformed = |what: &str| anyhow!("the age header is malformed: {what}");
    fn next<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
        let end = rest.iter().position(|&b| b == b'\n')?;
        let (line, after) = (&rest[..end], &rest[end + 1..]);
        *rest = after;
        Some(line)
    }
    let mut rest = file;
    let mut next_line = || next(&mut rest);
    if next_line() != Some(b"age-encryption.org/v1") {
        return Err(malformed(
            "its first line is not age-encryption.org/v1 (another age version, or damaged)",
        ));
    }
    loop {
        let line = next_line().ok_or_else(|| malformed("it ends before the MAC line"))?;
        if line.starts_with(b"---") {
            // The MAC line; the age crate checks the encoding is canonical.
            return match line.strip_prefix(b"--- ") {
                Some(mac) if mac.len() == 43 && mac.iter().all(is_base64) => Ok(()),
                _ => Err(malformed(
                    "the MAC line is not `--- ` and 43 base64 characters",
                )),
            };
        }
        let args = line
            .strip_prefix(b"-> ")
            .ok_or_else(|| malformed("a line is neither a stanza nor the MAC line"))?;
        if args
            .split(|&b| b == b' ')
            .any(|a| a.is_empty() || !a.iter().all(|b| (b'!'..=b'~').contains(b)))
        {
            return Err(malformed("a stanza has an empty or invalid argument"));
        }
        loop {
            let body = next_line().ok_or_else(|| malformed("it ends inside a stanza"))?;
            if body.starts_with(b"-") {
                return Err(malformed("a stanza does not end with a short body line"));
            }
            if body.len() > 64 || !body.iter().all(is_base64) {
                return Err(malformed("a stanza body line is not base64 in 64 columns"));
            }
            if body.len() < 64 {
                break;
            }
        }
    }
}

/// A character of unpadded standard base64.
fn is_base64(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/'
}

fn describe_age_error(e: age::DecryptError) -> anyhow::Error {
    match e {
        // check_header has seen the version line: the crate's "unknown
        // format" is a v1 header it cannot parse (e.g. non-canonical base64).
        age::DecryptError::InvalidHeader | age::DecryptError::UnknownFormat => {
            anyhow!("the age header is malformed")
        }
        age::DecryptError::Io(_) => {
            anyhow!("the age file is truncated in its header or the payload nonce")
        }
        age::DecryptError::InvalidMac => {
            anyhow!("the age header's MAC does not match: the file was modified or corrupted")
        }
        age::DecryptError::DecryptionFailed => {
            anyhow!("the age file failed authentication: it was modified or corrupted")
        }
        age::DecryptError::NoMatchingKeys => anyhow!("no identity matches the file's recipients"),
        age::DecryptError::KeyDecryptionFailed => {
            anyhow!("wrong passphrase, or no passphrase available")
        }
        other => anyhow!("age: {other}"),
    }
}

/// The recipients an age file was encrypted to, as far as the header says
/// (X25519 and ssh stanzas name no recipient; their kinds are listed).
pub fn stanza_kinds(ciphertext: &[u8]) -> Vec<String> {
    let Ok(binary) = dearmor(ciphertext) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&binary[..binary.len().min(4096)])
        .lines()
        .filter_map(|l| l.strip_prefix("-> "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_files_are_recognised_with_surrounding_whitespace() {
        for text in [
            "age-encryption.org/v1\n",
            "age-encryption.org/v1\r\n",
            "age-encryption.org/v2\n",
            "\n\r \t-----BEGIN AGE ENCRYPTED FILE-----\n",
        ] {
            assert!(is_age_file(text.as_bytes()), "{text:?}");
        }
        for text in ["", "hunter2\n", "age\n", "-----BEGIN PRIVATE KEY-----\n"] {
            assert!(!is_age_file(text.as_bytes()), "{text:?}");
        }
    }

    #[test]
    fn headers_must_end_every_stanza_with_a_short_line() {
        let mac = format!("--- {}\n", "A".repeat(43));
        let full = "A".repeat(64);
        let ok =
            |h: &str| check_header(format!("age-encryption.org/v1\n{h}{mac}payload").as_bytes());
        assert!(ok("-> X25519 abc\nAAAA\n").is_ok());
        assert!(ok("-> empty\n\n").is_ok());
        assert!(ok(&format!("-> x\n{full}\n\n-> y a b\nAA\n")).is_ok());
        for (header, why) in [
            ("-> empty\n", "does not end with a short body line"),
            (
                &format!("-> x\n{full}\n"),
                "does not end with a short body line",
            ),
            ("-> x  y\n\n", "empty or invalid argument"),
            ("->\n\n", "neither a stanza nor the MAC line"),
            (&format!("-> x\n{full}A\n"), "not base64 in 64 columns"),
            ("-> x\nAA=\n", "not base64 in 64 columns"),
        ] {
            let e = ok(header).unwrap_err().to_string();
            assert!(e.contains(why), "{header:?}: {e}");
        }
        for file in [
            "age-encryption.org/v1\r\n".to_string(),
            "age-encryption.org/v1\n-> x\n\n".to_string(),
            "age-encryption.org/v1\n-> x\n\n---x\n".to_string(),
        ] {
            assert!(check_header(file.as_bytes()).is_err(), "{file:?}");
        }
    }
}
