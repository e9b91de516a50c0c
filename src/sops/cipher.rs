//! SOPS value encryption: AES-256-GCM with a 32-byte nonce, written as
//! `ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:<type>]`.
//!
//! The AAD is the path of mapping keys joined by `:` plus a trailing `:`
//! (list indices are not part of it), so a value moved to another key
//! fails to decrypt. Errors never include plaintext or ciphertext.

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U32;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use anyhow::{Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use zeroize::Zeroizing;

type Gcm = AesGcm<Aes256, U32>;

const TAG_LEN: usize = 16;
const NONCE_LEN: usize = 32;

/// The parts of one `ENC[...]` string.
pub struct EncValue {
    data: Vec<u8>,
    iv: Vec<u8>,
    tag: Vec<u8>,
    pub kind: String,
}

/// True when `s` looks like a SOPS encrypted value.
pub fn is_enc(s: &str) -> bool {
    s.starts_with("ENC[AES256_GCM,")
}

/// Parses `ENC[AES256_GCM,data:..,iv:..,tag:..,type:..]`.
pub fn parse(s: &str) -> Result<EncValue> {
    let inner = s
        .strip_prefix("ENC[AES256_GCM,")
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(|| anyhow!("not an ENC[AES256_GCM,...] value"))?;
    let mut parts = inner.split(',');
    let mut field = |name: &str| -> Result<String> {
        parts
            .next()
            .and_then(|p| p.strip_prefix(name).and_then(|p| p.strip_prefix(':')))
            .map(str::to_string)
            .ok_or_else(|| anyhow!("malformed ENC value: missing {name}"))
    };
    let (data, iv, tag, kind) = (field("data")?, field("iv")?, field("tag")?, field("type")?);
    let b64 = |name: &str, v: &str| {
        STANDARD
            .decode(v)
            .map_err(|_| anyhow!("malformed ENC value: {name} is not base64"))
    };
    Ok(EncValue {
        data: b64("data", &data)?,
        iv: b64("iv", &iv)?,
        tag: b64("tag", &tag)?,
        kind,
    })
}

/// Decrypts a parsed value with `key` and `aad`.
pub fn decrypt(key: &[u8; 32], v: &EncValue, aad: &str) -> Result<Zeroizing<Vec<u8>>> {
    if v.iv.len() != NONCE_LEN {
        bail!(
            "unsupported IV length {} (sops writes {NONCE_LEN})",
            v.iv.len()
        );
    }
    if v.tag.len() != TAG_LEN {
        bail!("authentication tag has the wrong length");
    }
    let cipher = Gcm::new(GenericArray::from_slice(key));
    let mut msg = Zeroizing::new(Vec::with_capacity(v.data.len() + TAG_LEN));
    msg.extend_from_slice(&v.data);
    msg.extend_from_slice(&v.tag);
    cipher
        .decrypt(
            GenericArray::from_slice(&v.iv),
            Payload {
                msg: &msg,
                aad: aad.as_bytes(),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| anyhow!("authentication failed"))
}

/// Encrypts `plaintext` under a fresh random 32-byte IV.
pub fn encrypt(key: &[u8; 32], plaintext: &[u8], aad: &str, kind: &str) -> String {
    let mut iv = [0u8; NONCE_LEN];
    rand::thread_rng().fill_bytes(&mut iv);
    let cipher = Gcm::new(GenericArray::from_slice(key));
    let out = cipher
        .encrypt(
            GenericArray::from_slice(&iv),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .expect("AES-GCM encryption cannot fail for in-memory buffers");
    let (data, tag) = out.split_at(out.len() - TAG_LEN);
    format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
        STANDARD.encode(data),
        STANDARD.encode(iv),
        STANDARD.encode(tag)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_aad_binding() {
        let key = [7u8; 32];
        let enc = encrypt(&key, b"hunter2", "a:b:", "str");
        assert!(is_enc(&enc) && enc.ends_with(",type:str]"));
        let v = parse(&enc).unwrap();
        assert_eq!(&**decrypt(&key, &v, "a:b:").unwrap(), b"hunter2");
        let e = decrypt(&key, &v, "a:c:").unwrap_err().to_string();
        assert_eq!(e, "authentication failed");
        assert!(decrypt(&[8u8; 32], &v, "a:b:").is_err());
    }

    #[test]
    fn empty_plaintext_works() {
        let key = [1u8; 32];
        let v = parse(&encrypt(&key, b"", ":", "comment")).unwrap();
        assert!(decrypt(&key, &v, ":").unwrap().is_empty());
    }
}
