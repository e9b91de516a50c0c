//! Fuzz entry points: one function per target of `fuzz/`, each taking the
//! fuzzer's bytes, running the real code and asserting what must hold for
//! any input. A broken invariant panics, which the fuzzer reports as a crash.
//!
//! Compiled with the `fuzzing` feature (for the `fuzz/` package) and in the
//! crate's own tests, which replay the committed corpus `fuzz/corpus/*/`
//! through these same functions, so `cargo test` keeps every crash that was
//! found and fixed from coming back.

use crate::commands::krm;
use crate::credentials::Decryptor;
use crate::credentials::dockerconfig;
use crate::identities::{self, Identities};
use crate::k8s::image;
use crate::sops::{self, stores};
use crate::{spec, yaml};
use serde_yaml_ng::Value;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// A fuzz target: the fuzzer's bytes in, a panic when an invariant breaks.
pub type Target = fn(&[u8]);

/// The targets, by the name of their `fuzz/` binary and corpus folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("yaml_roundtrip", yaml_roundtrip),
    ("krm_reader", krm_reader),
    ("sops_decrypt", sops_decrypt),
    ("age_armor", age_armor),
    ("spec_parse", spec_parse),
    ("image_ref", image_ref),
];

/// The public test keys of `tests/data/sops-fixtures` (they protect
/// nothing): mutated fixtures still unwrap their data key, so the fuzzer
/// gets past the age layer into the tree, the cipher and the MAC.
const TEST_KEYS: &[&str] = &[
    include_str!("../tests/data/sops-fixtures/kustomize-controller/keys/age.txt"),
    include_str!("../tests/data/sops-fixtures/kustomize-controller/keys/age-global.txt"),
    include_str!("../tests/data/sops-fixtures/helm-secrets/key.txt"),
    include_str!("../tests/data/sops-fixtures/sops-age/key.txt"),
    include_str!("../examples/cli-render/demo-age-key.txt"),
];

thread_local! {
    static IDS: Rc<Identities> = Rc::new(Identities::in_memory(&TEST_KEYS.join("\n")));
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// True when a mapping anywhere in `v` has a non-empty mapping or sequence
/// as a key, which the writer refuses by design (no Kubernetes object has
/// one).
fn has_complex_key(v: &Value) -> bool {
    fn is_collection(k: &Value) -> bool {
        match k {
            Value::Mapping(m) => !m.is_empty(),
            Value::Sequence(s) => !s.is_empty(),
            Value::Tagged(t) => is_collection(&t.value),
            _ => false,
        }
    }
    match v {
        Value::Mapping(m) => m
            .iter()
            .any(|(k, v)| is_collection(k) || has_complex_key(v)),
        Value::Sequence(s) => s.iter().any(has_complex_key),
        Value::Tagged(t) => has_complex_key(&t.value),
        _ => false,
    }
}

/// YAML: whatever the reader accepts, the writer writes, and reading that
/// back gives the same value (the same scalar meanings, tags and raw
/// plain scalars).
pub fn yaml_roundtrip(data: &[u8]) {
    let Some(text) = text(data) else { return };
    lite_agrees(text);
    let Ok(docs) = yaml::load_stream(text, "fuzz") else {
        return;
    };
    for doc in &docs {
        let written = match yaml::to_string(&doc.value) {
            Ok(w) => w,
            Err(_) if has_complex_key(&doc.value) => continue,
            Err(e) => panic!("the writer refused a value the reader gave: {e:#}\n{doc:?}"),
        };
        let back = yaml::load_stream(&written, "written")
            .unwrap_or_else(|e| panic!("the writer's output does not read back: {e:#}\n{written}"));
        assert_eq!(
            back.len(),
            1,
            "one document written, several read:\n{written}"
        );
        assert_eq!(
            back[0].value, doc.value,
            "the value changed on a round trip through:\n{written}"
        );
        // The writer is stable: writing what was read back gives the same text.
        assert_eq!(
            yaml::to_string(&back[0].value).ok().as_deref(),
            Some(written.as_str())
        );
    }
}

/// The fast reader (`yaml::lite`) writes, for every document it takes,
/// exactly what the parser and the writer write; and it takes none the
/// parser refuses.
fn lite_agrees(text: &str) {
    struct Nothing;
    impl yaml::lite::Visitor for Nothing {
        fn node(&mut self, _: &[yaml::lite::Seg], _: yaml::lite::Node) {}
    }
    let Some(ranges) = yaml::lite::split_stream(text) else {
        return;
    };
    for range in ranges {
        let mut out = String::new();
        if yaml::lite::document(text, range.clone(), &mut out, &mut Nothing) != Some(true) {
            continue;
        }
        let doc = &text[range];
        let docs = yaml::load_stream(doc, "fuzz").unwrap_or_else(|e| {
            panic!("the fast reader took what the parser refuses ({e:#}):\n{doc}")
        });
        assert_eq!(docs.len(), 1, "{doc}");
        let written = yaml::to_string(&docs[0].value).expect("the writer takes what was read");
        assert_eq!(
            out, written,
            "the fast reader and the writer disagree on:\n{doc}"
        );
    }
}

/// The directory KRM runs start in: an example with plaintext, age and SOPS
/// credential files, read-only.
fn krm_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cli-render")
}

/// KRM: the ResourceList loop with the real processing never panics, and
/// stdout is always one parseable ResourceList, errors included; on failure
/// the input items go back unchanged.
pub fn krm_reader(data: &[u8]) {
    let Some(input) = text(data) else { return };
    let out = krm::run(Ok(input.to_string()), &krm_root(), None).collected();
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let out = Shown {
        stdout,
        stderr: out.stderr,
        code: out.code,
    };
    let docs = yaml::load_stream(&out.stdout, "stdout").unwrap_or_else(|e| {
        panic!(
            "stdout is not YAML: {e:#}\n--- stdout\n{}\n--- stderr\n{:?}",
            out.stdout, out.stderr
        )
    });
    assert_eq!(
        docs.len(),
        1,
        "stdout is not one document:\n{}\n{:?}",
        out.stdout,
        out.stderr
    );
    let rl = &docs[0].value;
    assert_eq!(
        rl.get("kind").and_then(yaml::as_str),
        Some("ResourceList"),
        "stdout is not a ResourceList:\n{}\n{:?}",
        out.stdout,
        out.stderr
    );
    let items = rl
        .get("items")
        .and_then(Value::as_sequence)
        .unwrap_or_else(|| panic!("stdout has no items list:\n{}", out.stdout));
    if out.code != 0 {
        if let Some(input_items) = input_items(input) {
            if !items.is_empty() {
                assert_eq!(
                    items, &input_items,
                    "on failure the items must go back unchanged:\n{}",
                    out.stdout
                );
            }
        }
    }
}

/// An outcome with its stdout as text, for messages.
struct Shown {
    stdout: String,
    stderr: Vec<String>,
    code: i32,
}

/// The items of a ResourceList as the reader parses them in one piece.
fn input_items(input: &str) -> Option<Vec<Value>> {
    let docs = yaml::load_stream(input, "input").ok()?;
    let [doc] = docs.as_slice() else { return None };
    match doc.value.get("items") {
        Some(Value::Sequence(s)) => Some(s.clone()),
        _ => None,
    }
}

/// SOPS: detection, the stores and decryption (with the fixtures' public
/// keys) never panic; a decrypted file writes out as plaintext.
pub fn sops_decrypt(data: &[u8]) {
    let Some(text) = text(data) else { return };
    IDS.with(|ids| {
        // The name only picks between the tree stores; content does the rest.
        let mut seen = Vec::new();
        for path in ["fuzz.yaml", "fuzz.json", "fuzz"] {
            let Some(format) = stores::detect(path, text) else {
                continue;
            };
            if seen.contains(&format) {
                continue;
            }
            seen.push(format);
            if let Ok(Some(d)) = sops::decrypt(path, text, ids) {
                let _ = d.plaintext();
            }
        }
    });
}

/// age and armor: recognising, decrypting and reading a credential file
/// (a document, a key in it, a docker config.json) never panics, and what
/// `is_age_file` accepts is never taken for plaintext.
pub fn age_armor(data: &[u8]) {
    if identities::is_age_file(data) {
        assert!(
            crate::credentials::encryption_mark(data).is_some(),
            "an age file without an encryption mark would be read as plaintext"
        );
    }
    let _ = identities::stanza_kinds(data);
    IDS.with(|ids| {
        let decryptor = Decryptor {
            identities: Rc::clone(ids),
        };
        for name in ["creds.age", "creds.env.age", "config.json"] {
            let Ok(Some(doc)) = decryptor.decode(name, data) else {
                continue;
            };
            let _ = doc.whole();
            let _ = doc.extract("auths.a", "fuzz", name);
            let _ = doc.extract("password", "fuzz", name);
            let _ = dockerconfig::import(&doc, "fuzz", name);
        }
    });
}

/// Specs: parsing any YAML document as a spec never panics.
pub fn spec_parse(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(docs) = yaml::load_stream(text, "fuzz") else {
        return;
    };
    for doc in &docs {
        let _ = spec::parse(&doc.value, "fuzz");
    }
}

/// Image references: parsing never panics, a parsed reference prints as
/// text that parses to the same reference, and matching it against
/// `auths` keys (the lines after the first) never panics.
pub fn image_ref(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let (first, keys) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(r) = image::parse(first) else { return };
    let shown = r.to_string();
    match image::parse(&shown) {
        Ok(again) => assert_eq!(
            again, r,
            "{first:?} prints as {shown:?}, which parses differently"
        ),
        Err(e) => panic!("{first:?} prints as {shown:?}, which does not parse: {e}"),
    }
    let _ = r.is_latest_or_untagged();
    for key in keys.lines() {
        let _ = image::registry_matches(key, &r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays every committed corpus file (seeds and the crashes fixed
    /// since) through its target: `cargo test` runs what the fuzzer found.
    #[test]
    fn committed_fuzz_corpus_replays_cleanly() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let mut replayed = 0;
        for (name, target) in TARGETS {
            let dir = corpus.join(name);
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            assert!(!files.is_empty(), "{}: no corpus", dir.display());
            for file in files {
                let data = std::fs::read(&file).unwrap();
                let result = std::panic::catch_unwind(|| target(&data));
                assert!(result.is_ok(), "{name}: {} fails", file.display());
                replayed += 1;
            }
        }
        assert!(replayed >= TARGETS.len());
    }

    fn seed(target: &str, name: &str) -> Vec<u8> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        std::fs::read(dir.join(target).join(name)).unwrap()
    }

    /// The seeds get past the outer layers: the test keys unwrap the SOPS
    /// and age seeds, and a kpt ResourceList renders.
    #[test]
    fn fuzz_seeds_reach_the_inner_code() {
        IDS.with(|ids| {
            assert!(ids.searched().contains("SOPS_AGE_KEY (5 identities)"));
            for name in [
                "kc-age.yaml",
                "kc-env.env",
                "kc-file.txt",
                "creds.enc.ini",
                "shamir.enc.yaml",
                "sops-age.enc.json",
                "cli-render-tokens.enc.json",
            ] {
                let text = String::from_utf8(seed("sops_decrypt", name)).unwrap();
                let path = if name.ends_with(".json") {
                    "f.json"
                } else {
                    "f.yaml"
                };
                assert!(sops::decrypt(path, &text, ids).unwrap().is_some(), "{name}");
            }
            let decryptor = Decryptor {
                identities: Rc::clone(ids),
            };
            for name in [
                "cli-render-password.age",
                "creds.env.age",
                "config.json.age",
            ] {
                let data = seed("age_armor", name);
                assert!(decryptor.decode(name, &data).unwrap().is_some(), "{name}");
            }
        });
        let out = krm::run(
            Ok(String::from_utf8(seed("krm_reader", "cli-render-kpt.yaml")).unwrap()),
            &krm_root(),
            None,
        )
        .collected();
        assert_eq!(out.code, 0, "{:?}", out.stderr);
        assert!(String::from_utf8_lossy(&out.stdout).contains("kind: Secret"));
    }
}
