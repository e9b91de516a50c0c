//! The C2SP CCTV age test vectors (`tests/data/age-vectors`, where their
//! README says which version) through `regcred decrypt`, a few of them
//! through `render`, and binary plaintext through `decrypt` to stdout.
//!
//! Every vector either decrypts to its payload or is refused, with exit 1,
//! nothing on stdout, nothing written, and a message naming the place it
//! fails (armor, header, MAC, recipients, payload). Where CCTV says a
//! payload fails part-way, the part before the failure is released by an
//! age API; regcred releases nothing. Vectors regcred cannot apply
//! (post-quantum hybrid identities, passphrases, files over the 1 MiB
//! credential cap) must be refused saying so: none is skipped.

use crate::common::{self, Out, TempDir, bin, regcred, run, tool};
use sha2::{Digest, Sha256};
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/age-vectors");
/// How many vectors the README records: a lost file fails the test.
const VECTOR_COUNT: usize = 143;

/// One CCTV vector: the header fields regcred's checks need, and the age
/// file (decompressed).
struct Vector {
    name: String,
    expect: String,
    payload: Option<String>,
    identities: Vec<String>,
    passphrase: bool,
    file: Vec<u8>,
}

fn vectors() -> Vec<Vector> {
    let mut names: Vec<String> = std::fs::read_dir(VECTORS)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md" && !n.starts_with('.'))
        .collect();
    names.sort();
    assert_eq!(names.len(), VECTOR_COUNT, "vectors in {VECTORS}");
    names.iter().map(|n| vector(n)).collect()
}

/// Parses a vector: `key: value` lines, a blank line, the age file.
fn vector(name: &str) -> Vector {
    let raw = std::fs::read(Path::new(VECTORS).join(name)).unwrap();
    let split = raw
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or_else(|| panic!("{name}: no blank line after the header"));
    let mut v = Vector {
        name: name.to_string(),
        expect: String::new(),
        payload: None,
        identities: Vec::new(),
        passphrase: false,
        file: raw[split + 2..].to_vec(),
    };
    for line in std::str::from_utf8(&raw[..split]).unwrap().lines() {
        let (key, value) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("{name}: bad header line {line:?}"));
        match key {
            "expect" => v.expect = value.to_string(),
            "payload" => v.payload = Some(value.to_string()),
            "identity" => v.identities.push(value.to_string()),
            "passphrase" => v.passphrase = true,
            "compressed" => {
                assert_eq!(value, "zlib", "{name}: compression");
                v.file = inflate(&v.file);
            }
            // regcred finds armor by content; the rest is for debugging.
            "armored" | "file key" | "comment" => {}
            // CCTV says to ignore such a vector; here it has to be looked at.
            other => panic!("{name}: unknown header key {other:?}"),
        }
    }
    v
}

/// zlib-decompresses with python3 (already a test dependency).
fn inflate(data: &[u8]) -> Vec<u8> {
    let mut child = Command::new(tool("python3"))
        .args([
            "-c",
            "import sys, zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read()))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 zlib failed");
    out.stdout
}

/// What regcred must do with a vector.
enum Want {
    /// Exit 0 with the payload whose SHA-256 this is.
    Payload(String),
    /// Exit 1, stderr holding one of these phrases.
    Refusal(Vec<&'static str>),
}

fn want(v: &Vector) -> Want {
    // Where the vector fails, in regcred's words.
    let mut place: Vec<&'static str> = match v.expect.as_str() {
        "success" => Vec::new(),
        "no match" => vec!["no identity matches its recipients"],
        "HMAC failure" => vec!["age header's MAC does not match"],
        "header failure" => vec![
            "the age header is malformed",
            "truncated in its header or the payload nonce",
        ],
        "armor failure" => vec!["the age armor is malformed", "has an age armor header"],
        "payload failure" => vec!["the age payload is truncated or corrupted"],
        other => panic!("{}: unknown expectation {other:?}", v.name),
    };
    if v.file.is_empty() {
        place.push("is neither a SOPS nor an age file");
    }
    // What regcred does not read, and says so (unless it finds the damage first).
    let unsupported = if v
        .identities
        .iter()
        .any(|i| i.starts_with("AGE-SECRET-KEY-PQ-"))
    {
        Some("post-quantum (ML-KEM hybrid")
    } else if v.passphrase && v.identities.is_empty() {
        Some("the age file is encrypted to a passphrase, not to an identity")
    } else if v.file.len() > 1 << 20 {
        Some("larger than 1024 KiB")
    } else {
        None
    };
    match (v.expect.as_str(), unsupported) {
        ("success", None) => Want::Payload(v.payload.clone().expect("a success has a payload")),
        ("success", Some(why)) => Want::Refusal(vec![why]),
        (_, why) => Want::Refusal(place.into_iter().chain(why).collect()),
    }
}

/// A run of the binary, stdout as bytes.
struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs regcred with nothing from the environment but `HOME=dir`, so no
/// identity of the machine running the tests takes part.
fn regcred_in(dir: &Path, args: &[&OsStr]) -> Run {
    let out = Command::new(bin())
        .env_clear()
        .env("HOME", dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `decrypt --age-key-file KEYS FILE`.
fn decrypt_args<'a>(keys: &'a Path, file: &'a Path) -> [&'a OsStr; 4] {
    [
        OsStr::new("decrypt"),
        OsStr::new("--age-key-file"),
        keys.as_os_str(),
        file.as_os_str(),
    ]
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What is wrong with regcred's handling of `v`, if anything.
fn check(v: &Vector, dir: &Path) -> Result<&'static str, String> {
    let file = dir.join("file.age");
    let keys = dir.join("keys.txt");
    let written = dir.join("out");
    std::fs::write(&file, &v.file).unwrap();
    std::fs::write(
        &keys,
        v.identities
            .iter()
            .map(|i| format!("{i}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let args = decrypt_args(&keys, &file);
    let to_stdout = regcred_in(dir, &args);
    let to_file = regcred_in(
        dir,
        &[&args[..], &[OsStr::new("-o"), written.as_os_str()]].concat(),
    );
    let written = std::fs::read(&written).ok();
    for id in &v.identities {
        if to_stdout.stderr.contains(id.as_str()) || to_file.stderr.contains(id.as_str()) {
            return Err("the identity is in a message".into());
        }
    }
    if !to_file.stdout.is_empty() {
        return Err("-o printed to stdout".into());
    }
    match want(v) {
        Want::Payload(hash) => {
            if to_stdout.code != 0 || to_file.code != 0 {
                return Err(format!("refused a good file: {}", to_stdout.stderr));
            }
            if sha256_hex(&to_stdout.stdout) != hash {
                return Err(format!(
                    "stdout ({} bytes) is not the payload",
                    to_stdout.stdout.len()
                ));
            }
            if written.as_deref() != Some(&to_stdout.stdout[..]) {
                return Err("-o wrote something else than stdout".into());
            }
            Ok("decrypted")
        }
        Want::Refusal(phrases) => {
            for run in [&to_stdout, &to_file] {
                if run.code != 1 || !run.stdout.is_empty() {
                    return Err(format!(
                        "exit {} with {} bytes on stdout (expected a refusal: {})",
                        run.code,
                        run.stdout.len(),
                        v.expect
                    ));
                }
                if !run.stderr.starts_with("error: ") || !run.stderr.contains("file.age") {
                    return Err(format!(
                        "the message does not name the file: {}",
                        run.stderr
                    ));
                }
                if !phrases.iter().any(|p| run.stderr.contains(p)) {
                    return Err(format!(
                        "{}, but the message says: {}",
                        v.expect,
                        run.stderr.trim_end()
                    ));
                }
            }
            if written.is_some() {
                return Err("-o wrote a file for a refused input".into());
            }
            Ok("refused")
        }
    }
}

/// Issue 9, items 10 and 11: every CCTV age vector decrypts to its payload
/// or is refused where the vector says; the identity never shows.
#[test]
fn cctv_age_vectors_decrypt_or_are_refused_where_they_say() {
    let t = TempDir::new("age-vectors");
    let mut problems = Vec::new();
    let mut decrypted = Vec::new();
    for v in vectors() {
        let dir = t.path().join(&v.name);
        std::fs::create_dir_all(&dir).unwrap();
        match check(&v, &dir) {
            Ok("decrypted") => decrypted.push(v.name),
            Ok(_) => {}
            Err(e) => problems.push(format!("{}: {e}", v.name)),
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {VECTOR_COUNT} vectors handled wrongly:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // 26 vectors succeed in CCTV; 10 of them need a passphrase, a hybrid
    // identity or more than 1 MiB, and are refused above saying so.
    assert_eq!(decrypted.len(), 16, "decrypted: {decrypted:?}");
}

/// An identity made by the reference age-keygen: (keys file, recipient).
fn age_keygen(t: &TempDir) -> (PathBuf, String) {
    crate::common::age_key(t.path(), "keys.txt")
}

/// Encrypts `path` with the reference age (`-a` for armor).
fn age_encrypt(public: &str, path: &Path, armor: bool) -> Vec<u8> {
    let out = Command::new(tool("age"))
        .args(["-r", public])
        .args(armor.then_some("-a"))
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "age: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Issue 9, item 15: binary plaintext comes out of `decrypt` byte for byte,
/// to stdout as with `-o`, from binary and armored files.
#[test]
fn binary_plaintext_decrypts_byte_identical() {
    use rand::RngCore;
    let t = TempDir::new("age-binary");
    let (keys, public) = age_keygen(&t);
    let mut plain = vec![0u8; 131072];
    rand::thread_rng().fill_bytes(&mut plain);
    assert!(std::str::from_utf8(&plain).is_err());
    let plain_path = t.path().join("plain.bin");
    std::fs::write(&plain_path, &plain).unwrap();
    for armor in [false, true] {
        let file = t.path().join("file.age");
        std::fs::write(&file, age_encrypt(&public, &plain_path, armor)).unwrap();
        let args = decrypt_args(&keys, &file);
        let out = regcred_in(t.path(), &args);
        assert_eq!(out.code, 0, "armor {armor}: {}", out.stderr);
        assert!(
            out.stdout == plain,
            "armor {armor}: stdout differs from the plaintext"
        );
        let written = t.path().join("out.bin");
        let out = regcred_in(
            t.path(),
            &[&args[..], &[OsStr::new("-o"), written.as_os_str()]].concat(),
        );
        assert_eq!(out.code, 0, "armor {armor}: {}", out.stderr);
        assert!(
            std::fs::read(&written).unwrap() == plain,
            "armor {armor}: -o differs"
        );
    }
}

const APP: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n";

/// Renders a spec whose password is `{file: creds/<name>}`, holding `bytes`.
fn render_with(t: &TempDir, keys: &Path, name: &str, bytes: &[u8]) -> Out {
    let w = t.path().join("w");
    std::fs::create_dir_all(w.join("creds")).unwrap();
    std::fs::write(w.join("creds").join(name), bytes).unwrap();
    t.write("w/app.yaml", APP);
    t.write(
        "w/regcred.yaml",
        &common::spec(&format!(
            "  registries:\n  - {{server: r.example.com, username: robot, password: {{file: creds/{name}}}}}\n  namespaces: {{names: [app]}}\n"
        )),
    );
    let mut cmd = regcred();
    cmd.env_clear()
        .env("HOME", t.path())
        .current_dir(&w)
        .args(["render", "-f", "regcred.yaml", "--age-key-file"])
        .arg(keys)
        .arg("app.yaml");
    run(&mut cmd, "")
}

/// The password of the one Secret a render printed.
fn password(out: &Out) -> String {
    let docs = common::yaml12(&out.stdout);
    let secrets = common::of_kind(&docs, "Secret");
    assert_eq!(secrets.len(), 1, "{}", out.stdout);
    let cfg: serde_json::Value = serde_json::from_str(&common::dockerconfig(secrets[0])).unwrap();
    cfg["auths"]["r.example.com"]["password"]
        .as_str()
        .unwrap()
        .to_string()
}

fn refused(out: &Out, name: &str, phrase: &str, canaries: &[&str]) {
    assert_eq!(
        out.code, 1,
        "{name}: expected a refusal:\n{}{}",
        out.stdout, out.stderr
    );
    assert!(out.stdout.is_empty(), "{name}: stdout:\n{}", out.stdout);
    for needle in ["spec.registries[0].password.file", name, phrase] {
        assert!(
            out.stderr.contains(needle),
            "{name}: stderr lacks {needle:?}:\n{}",
            out.stderr
        );
    }
    for canary in canaries {
        out.assert_no_canary(canary);
    }
}

/// Issue 9, items 10 and 11: `render` reads a credential file through the
/// same age checks: damaged vectors are refused at the spec field, never
/// used as plaintext, and neither identity nor payload shows.
#[test]
fn render_refuses_damaged_age_credentials() {
    let t = TempDir::new("age-render");
    for (name, phrase) in [
        (
            "stanza_missing_body",
            "a stanza does not end with a short body line",
        ),
        (
            "stanza_missing_final_line",
            "a stanza does not end with a short body line",
        ),
        ("header_crlf", "the age header is malformed"),
        (
            "version_unsupported",
            "its first line is not age-encryption.org/v1",
        ),
        ("x25519_low_order", "the age header is malformed"),
        ("hmac_bad", "MAC does not match"),
        ("x25519_no_match", "no identity matches its recipients"),
        (
            "stream_bad_tag_second_chunk",
            "the age payload is truncated or corrupted",
        ),
        ("armor_garbage_trailing", "the age armor is malformed"),
        ("armor_garbage_leading", "has an age armor header"),
        ("armor_lowercase", "has an age armor header"),
        ("scrypt", "encrypted to a passphrase"),
    ] {
        let v = vector(name);
        let keys = t.write("keys.txt", &v.identities.join("\n"));
        let out = render_with(&t, &keys, &format!("{name}.age"), &v.file);
        refused(
            &out,
            name,
            phrase,
            &v.identities.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }
    // Good vectors (whitespace around the armor too) give their payload, "age".
    for name in [
        "x25519",
        "armor_whitespace_outside",
        "armor_crlf",
        "x25519_grease",
    ] {
        let v = vector(name);
        let keys = t.write("keys.txt", &v.identities.join("\n"));
        let out = render_with(&t, &keys, &format!("{name}.age"), &v.file);
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        assert_eq!(password(&out), "age", "{name}");
    }
}

/// The same through files the reference age wrote, holding a canary: good
/// with whitespace around the armor, refused when damaged.
#[test]
fn render_reads_age_files_with_whitespace_and_refuses_damage() {
    const CANARY: &str = "CANARY-age-vectors-5be1c0";
    let t = TempDir::new("age-render-canary");
    let (keys, public) = age_keygen(&t);
    let key_text = std::fs::read_to_string(&keys).unwrap();
    let identity = key_text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap();
    let plain = t.write("plain.txt", &format!("{CANARY}\n"));
    let binary = age_encrypt(&public, &plain, false);
    let armored = String::from_utf8(age_encrypt(&public, &plain, true)).unwrap();
    for (name, bytes) in [
        (
            "spaced.age",
            format!("\n \t\r\n{armored}\r\n \n").into_bytes(),
        ),
        ("crlf.age", armored.replace('\n', "\r\n").into_bytes()),
    ] {
        let out = render_with(&t, &keys, name, &bytes);
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        assert_eq!(password(&out), CANARY, "{name}");
    }
    let mut flipped = binary.clone();
    *flipped.last_mut().unwrap() ^= 1;
    let header_end = binary.windows(4).position(|w| w == b"\n---").unwrap();
    let mut no_final_line = binary[..header_end].to_vec();
    // Drops the stanza's short (last) body line: the header then ends without one.
    let body_start = no_final_line.iter().rposition(|&b| b == b'\n').unwrap();
    no_final_line.truncate(body_start);
    no_final_line.extend_from_slice(&binary[header_end..]);
    for (name, bytes, phrase) in [
        (
            "flipped.age",
            flipped,
            "the age payload is truncated or corrupted",
        ),
        (
            "no-final-line.age",
            no_final_line,
            "a stanza does not end with a short body line",
        ),
        (
            "cut.age",
            binary[..binary.len() - 20].to_vec(),
            "the age payload",
        ),
        (
            "garbage.age",
            format!("{armored}garbage\n").into_bytes(),
            "the age armor is malformed",
        ),
        (
            "spaced-binary.age",
            [b"\n".as_slice(), &binary].concat(),
            "the age header is malformed",
        ),
    ] {
        let out = render_with(&t, &keys, name, &bytes);
        refused(&out, name, phrase, &[CANARY, identity]);
    }
}
