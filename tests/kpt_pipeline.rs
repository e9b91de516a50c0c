//! kpt: a Kptfile pipeline running regcred as an exec mutator under the
//! real `kpt fn render --allow-exec`, and the guard that keeps kpt's
//! `internal.config.kubernetes.io/package-path` annotation from widening
//! what the function may read.

use crate::common::{self, TempDir, regcred, run, tool};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const CANARY: &str = "CANARY-kpt-3e8f0a";

const SPEC: &str = "apiVersion: regcred.dev/v1alpha1
kind: RegistryCredentials
metadata:
  name: regcred
  annotations:
    config.kubernetes.io/local-config: \"true\"
spec:
  secretName: pull-secret
  registries:
  - server: registry.example.com
    username: robot
    password:
      file: creds/registry.yaml
      key: password
";

const APP: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
  namespace: shop
imagePullSecrets:
- name: existing
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: payments
spec:
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: api
        image: registry.example.com/api:2
";

/// `<parent>/pkg/` with Kptfile, spec, manifests and `creds/` (krmignored).
fn package(t: &TempDir) -> PathBuf {
    t.write(
        "pkg/Kptfile",
        &format!(
            "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\npipeline:\n  mutators:\n  - exec: {}\n    configPath: regcred.yaml\n",
            common::bin().display()
        ),
    );
    t.write("pkg/regcred.yaml", SPEC);
    t.write("pkg/app.yaml", APP);
    t.write(
        "pkg/creds/registry.yaml",
        &format!("# not a KRM resource\npassword: {CANARY}\n"),
    );
    t.write("pkg/.krmignore", "creds/\n");
    t.path().join("pkg")
}

/// Every file below `dir`, relative path to content.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn kpt_render(parent: &Path) -> common::Out {
    run(
        Command::new(tool("kpt"))
            .current_dir(parent)
            .args(["fn", "render", "--allow-exec", "pkg"]),
        "",
    )
}

fn one(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut docs = common::yaml12(&text);
    assert_eq!(docs.len(), 1, "{}: {text}", path.display());
    docs.remove(0)
}

#[test]
fn kptfile_pipeline_renders_secrets_into_the_package_and_is_idempotent() {
    let t = TempDir::new("kpt-pipeline");
    let pkg = package(&t);
    let before = snapshot(&pkg);

    let out = kpt_render(t.path());
    assert_eq!(
        out.code, 0,
        "kpt fn render:\n{}\n{}",
        out.stdout, out.stderr
    );
    let log = format!("{}{}", out.stdout, out.stderr);
    assert!(log.contains("[PASS]"), "{log}");
    out.assert_no_canary(CANARY);

    // New Secrets, one file per namespace, named by kpt's default path.
    for ns in ["shop", "payments"] {
        let secret = one(&pkg.join(ns).join("secret_pull-secret.yaml"));
        assert_eq!(secret["kind"], "Secret");
        assert_eq!(secret["metadata"]["namespace"], ns);
        assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
        let cfg: Json = serde_json::from_str(&common::dockerconfig(&secret)).unwrap();
        assert_eq!(cfg["auths"]["registry.example.com"]["password"], CANARY);
        // kpt's bookkeeping annotations are not left in the files.
        let annotations = secret["metadata"]["annotations"].as_object();
        assert!(
            annotations.is_none_or(|a| !a.keys().any(|k| k.starts_with("internal.config"))),
            "{secret}"
        );
    }
    // payments had no ServiceAccount: a created `default` in its own file.
    let created = one(&pkg.join("payments/serviceaccount_default.yaml"));
    assert_eq!(
        created["imagePullSecrets"],
        serde_json::json!([{"name": "pull-secret"}])
    );

    // The existing SA is patched where it lives, in app.yaml.
    let app = common::yaml12(&std::fs::read_to_string(pkg.join("app.yaml")).unwrap());
    let sa = app.iter().find(|d| d["kind"] == "ServiceAccount").unwrap();
    assert_eq!(
        sa["imagePullSecrets"],
        serde_json::json!([{"name": "existing"}, {"name": "pull-secret"}])
    );
    assert_eq!(app.len(), 3, "app.yaml keeps its three objects");

    // Spec, Kptfile and the credentials are untouched; nothing else appeared.
    let after = snapshot(&pkg);
    for f in [
        "regcred.yaml",
        "creds/registry.yaml",
        ".krmignore",
        "Kptfile",
    ] {
        assert_eq!(after.get(f), before.get(f), "{f} changed");
    }
    let mut new: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    new.sort();
    assert_eq!(
        new,
        [
            "payments/secret_pull-secret.yaml",
            "payments/serviceaccount_default.yaml",
            "shop/secret_pull-secret.yaml"
        ]
    );

    // A second render changes nothing.
    let again = kpt_render(t.path());
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    let third = snapshot(&pkg);
    for (k, v) in &after {
        common::assert_same_text(v, &third[k], &format!("{k} after a second render"));
    }
    assert_eq!(third.len(), after.len());
}

#[test]
fn kptfile_pipeline_failure_leaves_the_package_unchanged() {
    let t = TempDir::new("kpt-pipeline-fail");
    let pkg = package(&t);
    std::fs::remove_file(pkg.join("creds/registry.yaml")).unwrap();
    let before = snapshot(&pkg);
    let out = kpt_render(t.path());
    assert_ne!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let log = format!("{}{}", out.stdout, out.stderr);
    assert!(
        log.contains("spec.registries[0].password.file"),
        "kpt shows the field:\n{log}"
    );
    assert_eq!(snapshot(&pkg), before, "a failed render wrote files");
}

/// Files regcred does not change keep their meaning and their comments
/// under `kpt fn render`. regcred re-serialises every item in block style,
/// so flow collections (`{app: web}`) come back as blocks: a formatting
/// change kpt writes to disk, documented in docs/integrations.md, that no
/// YAML reader can tell apart.
#[test]
fn kpt_render_keeps_the_meaning_and_comments_of_files_regcred_does_not_change() {
    let t = TempDir::new("kpt-pipeline-style");
    let pkg = package(&t);
    t.write(
        "pkg/regcred.yaml",
        &SPEC.replace(
            "    password:\n      file: creds/registry.yaml\n      key: password\n",
            "    password: {file: creds/registry.yaml, key: password}\n",
        ),
    );
    t.write(
        "pkg/deploy.yaml",
        "# untouched by regcred\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n  labels: {app: web, tier: front}\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:1\n        args: [--port, \"8080\"]\n",
    );
    let before = snapshot(&pkg);
    let out = kpt_render(t.path());
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let after = snapshot(&pkg);
    for f in ["regcred.yaml", "deploy.yaml"] {
        assert_eq!(
            common::yaml11(&before[f]),
            common::yaml11(&after[f]),
            "{f}: YAML 1.1 meaning changed"
        );
        assert_eq!(
            common::yaml12(&before[f]),
            common::yaml12(&after[f]),
            "{f}: YAML 1.2 meaning changed"
        );
    }
    assert!(
        after["deploy.yaml"].contains("# untouched by regcred"),
        "kpt keeps comments:\n{}",
        after["deploy.yaml"]
    );
    // A second render is a no-op on disk.
    let again = kpt_render(t.path());
    assert_eq!(again.code, 0);
    assert_eq!(snapshot(&pkg), after);
}

/// A hand-built ResourceList as kpt sends it, with `package_path` in the
/// functionConfig's annotations and a Namespace so credentials are read.
fn resource_list(package_path: &str, password_file: &str) -> String {
    format!(
        "apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: shop
functionConfig:
  apiVersion: regcred.dev/v1alpha1
  kind: RegistryCredentials
  metadata:
    name: regcred
    annotations:
      config.kubernetes.io/local-config: \"true\"
      internal.config.kubernetes.io/package-path: '{package_path}'
  spec:
    registries:
    - server: registry.example.com
      username: robot
      password: {{file: {password_file}}}
"
    )
}

fn krm(cwd: &Path, input: &str) -> (common::Out, Json) {
    let out = run(regcred().current_dir(cwd), input);
    let rl = common::yaml12(&out.stdout)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no ResourceList on stdout: {}", out.stderr));
    (out, rl)
}

fn error_message(out: &common::Out, rl: &Json) -> String {
    assert_eq!(out.code, 1, "expected failure:\n{}", out.stdout);
    assert_eq!(rl["kind"], "ResourceList");
    let results = rl["results"].as_array().expect("results");
    assert!(results.iter().any(|r| r["severity"] == "error"));
    // The input items are echoed back unchanged.
    assert_eq!(rl["items"][0]["metadata"]["name"], "shop");
    results
        .iter()
        .map(|r| r["message"].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn package_path_annotation_inside_cwd_is_honoured() {
    let t = TempDir::new("kpt-pp-inside");
    t.write("sub/pkg/creds/pw.txt", &format!("{CANARY}\n"));
    let (out, rl) = krm(t.path(), &resource_list("sub/pkg", "creds/pw.txt"));
    out.assert_ok();
    let secret = rl["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "Secret")
        .expect("a Secret");
    assert!(common::dockerconfig(secret).contains(CANARY));
}

#[test]
fn package_path_root_does_not_widen_reads() {
    assert!(
        Path::new("/etc/hostname").is_file(),
        "test needs /etc/hostname"
    );
    let t = TempDir::new("kpt-pp-root");
    let (out, rl) = krm(t.path(), &resource_list("/", "etc/hostname"));
    let msg = error_message(&out, &rl);
    assert!(
        msg.contains("spec.registries[0].password.file") && msg.contains("cannot read"),
        "{msg}"
    );
    assert!(out.stderr.contains("cannot read"), "{}", out.stderr);
}

#[test]
fn package_path_climbing_out_of_cwd_does_not_widen_reads() {
    let t = TempDir::new("kpt-pp-climb");
    t.write("outside/pw.txt", &format!("{CANARY}\n"));
    t.write("work/.keep", "");
    let work = t.path().join("work");
    // `..` and an absolute path to a sibling.
    let abs = t.path().join("outside").display().to_string();
    for pp in ["../outside", abs.as_str()] {
        let (out, rl) = krm(&work, &resource_list(pp, "pw.txt"));
        let msg = error_message(&out, &rl);
        assert!(msg.contains("cannot read"), "{pp}: {msg}");
        out.assert_no_canary(CANARY);
    }
    // A symlink inside cwd pointing outside it.
    std::os::unix::fs::symlink(t.path().join("outside"), work.join("link")).unwrap();
    let (out, rl) = krm(&work, &resource_list("link", "pw.txt"));
    let msg = error_message(&out, &rl);
    assert!(msg.contains("cannot read"), "link: {msg}");
    out.assert_no_canary(CANARY);
}
