//! Age files themselves: recognising one (binary or armored, after
//! whitespace), removing the armor, checking the header's structure where
//! the `age` crate is lenient, and saying in words where a file fails.

use anyhow::{Result, anyhow};
use std::borrow::Cow;
use std::io::Read;

/// The first line of a binary age file, up to its version.
const AGE_INTRO: &[u8] = b"age-encryption.org/";
/// The first line of an armored age file.
const ARMOR_BEGIN: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";
/// How a post-quantum hybrid identity starts (age 1.3; not read by age 0.12).
pub(super) const PQ_SECRET_KEY_PREFIX: &str = "AGE-SECRET-KEY-PQ-";

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
pub(super) fn dearmor(bytes: &[u8]) -> Result<Cow<'_, [u8]>> {
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
pub(super) fn check_header(file: &[u8]) -> Result<()> {
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

pub(super) fn describe_age_error(e: age::DecryptError) -> anyhow::Error {
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
