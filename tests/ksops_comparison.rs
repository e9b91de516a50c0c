//! The KSOPS comparison's inputs (bench/ksops/, docs/comparison-ksops.md),
//! built with the real standalone kustomize and the reference sops.
//!
//! KSOPS itself is not run here: the Go module proxy refuses every version
//! of github.com/viaduct-ai/kustomize-sops (403), so scripts/install-test-tools
//! cannot install it, and a test that needed it would fail on every fresh
//! machine. What these tests hold is the regcred half of the comparison,
//! measured as the docs state it, and that the committed KSOPS inputs ask
//! for the same Secrets (same name, type, namespaces and credential file) and
//! the same ServiceAccount changes as regcred makes, so that the two builds
//! `bench/run --only ksops --ksops PATH` times compare like with like.

use crate::common::{self, Out, TempDir, of_kind, run, tool, yaml12};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Command;

const CANARY: &str = "CANARY-ksops-cmp-7d31";
const NAMESPACES: [&str; 3] = ["shop", "payments", "billing"];

fn inputs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/ksops")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(inputs().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The docker config.json both tools read: one registry login.
fn docker_config() -> String {
    let auth = "cm9ib3Q6Q0FOQVJZLWtzb3BzLWNtcC03ZDMx"; // base64("robot:CANARY-ksops-cmp-7d31")
    format!(
        r#"{{"auths":{{"registry.example.com":{{"username":"robot","password":"{CANARY}","auth":"{auth}"}}}}}}"#
    )
}

/// A copy of bench/ksops/ with the credential file encrypted by the reference
/// sops to a fresh age key (as bench/ksops_case.py makes it), and a bin/
/// directory holding `regcred`, for kustomize to find on PATH.
fn workdir() -> (TempDir, PathBuf) {
    let t = TempDir::new("ksops-cmp");
    for rel in [
        "app/kustomization.yaml",
        "app/app.yaml",
        "regcred/kustomization.yaml",
        "regcred/regcred.yaml",
        "regcred-gen/kustomization.yaml",
        "regcred-gen/regcred.yaml",
    ] {
        t.write(rel, &read(rel));
    }
    let (key, public) = common::age_key(t.path(), "age-key.txt");
    let plain = t.write("dockerconfig.json", &docker_config());
    let enc = run(
        Command::new(tool("sops"))
            .args(["--encrypt", "--age", &public])
            .arg(&plain),
        "",
    );
    assert_eq!(enc.code, 0, "sops --encrypt: {}", enc.stderr);
    assert!(!enc.stdout.contains(CANARY), "sops did not encrypt");
    std::fs::remove_file(&plain).unwrap();
    for dir in ["regcred", "regcred-gen"] {
        t.write(&format!("{dir}/creds/dockerconfig.enc.json"), &enc.stdout);
    }
    std::fs::create_dir_all(t.path().join("bin")).unwrap();
    std::os::unix::fs::symlink(common::bin(), t.path().join("bin/regcred")).unwrap();
    (t, key)
}

fn kustomize_build(t: &TempDir, key: &Path, dir: &str) -> Out {
    let path = std::env::join_paths(std::iter::once(t.path().join("bin")).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    run(
        Command::new(tool("kustomize"))
            .args(["build", "--enable-alpha-plugins", "--enable-exec"])
            .arg(t.path().join(dir))
            .env("PATH", path)
            .env("SOPS_AGE_KEY_FILE", key),
        "",
    )
}

fn namespaces_of(objects: &[&Json]) -> Vec<String> {
    let mut v: Vec<String> = objects
        .iter()
        .map(|o| o["metadata"]["namespace"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn regcred_build_has_a_secret_and_a_patched_default_serviceaccount_per_namespace() {
    let (t, key) = workdir();
    let app = kustomize_build(&t, &key, "app");
    app.assert_ok();
    let out = kustomize_build(&t, &key, "regcred");
    out.assert_ok();
    assert!(
        !out.stderr.contains(CANARY),
        "credential on stderr: {}",
        out.stderr
    );
    let docs = yaml12(&out.stdout);

    // The application passes through unchanged, in kustomize's order.
    let app_docs = yaml12(&app.stdout);
    for kind in ["Namespace", "Deployment"] {
        let (before, after) = (of_kind(&app_docs, kind), of_kind(&docs, kind));
        assert_eq!(before, after, "{kind} objects changed");
    }
    assert_eq!(of_kind(&docs, "Namespace").len(), 3);

    let secrets = of_kind(&docs, "Secret");
    assert_eq!(namespaces_of(&secrets), sorted(&NAMESPACES));
    let expected: Json = serde_json::from_str(&docker_config()).unwrap();
    for s in &secrets {
        assert_eq!(s["metadata"]["name"], "regcred");
        assert_eq!(s["type"], "kubernetes.io/dockerconfigjson");
        let got: Json = serde_json::from_str(&common::dockerconfig(s)).unwrap();
        assert_eq!(got, expected, "the decrypted docker config, as given");
    }

    let sas = of_kind(&docs, "ServiceAccount");
    assert_eq!(namespaces_of(&sas), sorted(&NAMESPACES));
    for sa in &sas {
        assert_eq!(sa["metadata"]["name"], "default");
        assert_eq!(
            sa["imagePullSecrets"],
            serde_json::json!([{"name": "regcred"}])
        );
    }
    assert_eq!(
        docs.len(),
        12,
        "3 Namespaces, 3 Deployments, 3 Secrets, 3 ServiceAccounts"
    );

    // The pods can pull as the build stands: check finds nothing.
    let built = t.write("regcred.out.yaml", &out.stdout);
    let check = run(
        common::regcred()
            .args(["check", "--as-is", "-f"])
            .arg(t.path().join("regcred/regcred.yaml"))
            .arg(&built)
            .env("SOPS_AGE_KEY_FILE", &key),
        "",
    );
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    // Without regcred, the same app leaves every pod without a pull Secret.
    let bare = t.write("app.out.yaml", &app.stdout);
    let check = run(
        common::regcred()
            .args(["check", "--as-is", "-f"])
            .arg(t.path().join("regcred/regcred.yaml"))
            .arg(&bare)
            .env("SOPS_AGE_KEY_FILE", &key),
        "",
    );
    assert_eq!(check.code, 1, "{}", check.stdout);
    assert!(check.stdout.contains("3 errors"), "{}", check.stdout);

    // As a generator with the namespaces listed (as KSOPS runs), regcred
    // builds the very same output.
    let generated = kustomize_build(&t, &key, "regcred-gen");
    generated.assert_ok();
    common::assert_same_text(&out.stdout, &generated.stdout, "regcred-gen build");
}

#[test]
fn ksops_inputs_ask_for_the_same_secrets_and_serviceaccounts_as_regcred_makes() {
    let app = yaml12(&read("app/app.yaml"));
    let mut app_namespaces: Vec<String> = of_kind(&app, "Namespace")
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    app_namespaces.sort();
    assert_eq!(app_namespaces, sorted(&NAMESPACES));

    // Both builds start from the same app and read the same credential file.
    let spec = &yaml12(&read("regcred/regcred.yaml"))[0];
    let creds = spec["spec"]["registries"][0]["dockerConfig"]["file"]
        .as_str()
        .unwrap();
    for dir in ["ksops", "regcred", "regcred-gen"] {
        let k = &yaml12(&read(&format!("{dir}/kustomization.yaml")))[0];
        assert_eq!(k["resources"], serde_json::json!(["../app"]), "{dir}");
    }

    // The KSOPS generator: one dockerconfigjson Secret named as regcred's,
    // per namespace of the app, from that file.
    let generator = &yaml12(&read("ksops/secret-generator.yaml"))[0];
    assert_eq!(generator["kind"], "ksops");
    assert!(
        generator["metadata"]["annotations"]["config.kubernetes.io/function"]
            .as_str()
            .unwrap()
            .contains("path: ksops")
    );
    let entries = generator["secretFrom"].as_array().unwrap();
    let mut ns: Vec<String> = Vec::new();
    for e in entries {
        assert_eq!(e["metadata"]["name"], "regcred");
        assert_eq!(e["type"], "kubernetes.io/dockerconfigjson");
        assert_eq!(
            e["files"],
            serde_json::json!([format!(".dockerconfigjson={creds}")])
        );
        ns.push(e["metadata"]["namespace"].as_str().unwrap().to_string());
    }
    ns.sort();
    assert_eq!(ns, app_namespaces);

    // ksops-sa/ adds by hand the ServiceAccounts regcred writes, minus the
    // label regcred marks its own objects with.
    let (t, key) = workdir();
    let out = kustomize_build(&t, &key, "regcred");
    out.assert_ok();
    let docs = yaml12(&out.stdout);
    let mut from_regcred: Vec<Json> = of_kind(&docs, "ServiceAccount")
        .into_iter()
        .cloned()
        .map(|mut sa| {
            let labels = sa["metadata"]["labels"].as_object_mut().unwrap();
            assert_eq!(
                labels.remove("app.kubernetes.io/managed-by"),
                Some("regcred".into())
            );
            assert!(labels.is_empty());
            sa["metadata"].as_object_mut().unwrap().remove("labels");
            sa
        })
        .collect();
    let mut by_hand = yaml12(&read("ksops-sa/serviceaccounts.yaml"));
    let key_of = |v: &Json| v["metadata"]["namespace"].as_str().unwrap().to_string();
    from_regcred.sort_by_key(key_of);
    by_hand.sort_by_key(key_of);
    assert_eq!(from_regcred, by_hand);
    let k = &yaml12(&read("ksops-sa/kustomization.yaml"))[0];
    assert_eq!(
        k["resources"],
        serde_json::json!(["../ksops", "serviceaccounts.yaml"])
    );
}
