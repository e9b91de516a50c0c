//! regcred against the real Kubernetes tools: the `.dockerconfigjson` it
//! writes is byte for byte what `kubectl create secret docker-registry`
//! writes, its manifests pass `kubernetes-validate --strict`, and it works
//! as a legacy exec plugin under the real `kubectl kustomize` (the machine's
//! kubectl and the newest one).

use crate::common::{self, TempDir, tool, yaml12};
use serde_json::Value as J;
use std::path::Path;
use std::process::Command;

/// One set of credentials; `email: None` leaves the flag off (and the spec
/// field out), `Some("")` passes an empty one.
struct Case {
    server: &'static str,
    username: &'static str,
    password: &'static str,
    email: Option<&'static str>,
    /// Read the password from a file (with a trailing newline) instead of
    /// an environment variable.
    password_file: bool,
}

const fn case(
    server: &'static str,
    username: &'static str,
    password: &'static str,
    email: Option<&'static str>,
) -> Case {
    Case {
        server,
        username,
        password,
        email,
        password_file: false,
    }
}

const CASES: &[Case] = &[
    case("registry.example.com:5000", "robot$ci", "pa:ss:w0rd", None),
    case("quotes.example.com", "user\"name", "pa\"ss\\word\\\"", None),
    case("html.example.com", "a<b>&c", "<script>&amp;</script>", None),
    case(
        "unicode.example.com",
        "пользователь",
        "пароль🔑 日本語 e\u{301} \u{2028}\u{2029}",
        None,
    ),
    case("empty-email.example.com", "user", "pass", Some("")),
    case(
        "with-email.example.com",
        "user",
        "pass",
        Some("ops+ci@example.com"),
    ),
    case(
        "registry.example.com:5000/v2/project/sub",
        "u$er:name",
        "$(not a shell)",
        None,
    ),
    case(
        "https://index.docker.io/v1/",
        "dockerhub",
        "dckr_pat_$$:x",
        Some("me@example.com"),
    ),
    case(
        "whitespace.example.com",
        " spaced user ",
        "tab\there and\nnewline",
        None,
    ),
    case(
        "control.example.com",
        "ctl",
        "bell\u{7}bs\u{8}ff\u{c}esc\u{1b}del\u{7f}",
        None,
    ),
    Case {
        server: "file.example.com",
        username: "from-file",
        password: "file:pass\"word<&>",
        email: Some("file@example.com"),
        password_file: true,
    },
];

/// The decoded `.dockerconfigjson` kubectl writes for one registry.
fn kubectl_dockerconfig(c: &Case) -> String {
    let mut cmd = Command::new(tool("kubectl"));
    cmd.args(["create", "secret", "docker-registry", "regcred"])
        .arg(format!("--docker-server={}", c.server))
        .arg(format!("--docker-username={}", c.username))
        .arg(format!("--docker-password={}", c.password));
    if let Some(e) = c.email {
        cmd.arg(format!("--docker-email={e}"));
    }
    cmd.args(["--dry-run=client", "-o", "json"]);
    let out = common::run(&mut cmd, "");
    assert_eq!(
        out.code, 0,
        "kubectl create secret docker-registry failed: {}",
        out.stderr
    );
    let secret: J = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    common::dockerconfig(&secret)
}

/// The raw text of the one entry of kubectl's `{"auths":{SERVER:{...}}}`,
/// i.e. `SERVER:{...}` exactly as kubectl wrote it.
fn raw_entry(kubectl_json: &str) -> &str {
    kubectl_json
        .strip_prefix("{\"auths\":{")
        .and_then(|s| s.strip_suffix("}}"))
        .unwrap_or_else(|| panic!("unexpected kubectl layout: {kubectl_json}"))
}

fn env_names(i: usize) -> (String, String, String) {
    (
        format!("REGCRED_KC_USER_{i}"),
        format!("REGCRED_KC_PASS_{i}"),
        format!("REGCRED_KC_EMAIL_{i}"),
    )
}

/// The `registries:` entry for case `i` (credentials from env or a file),
/// writing the file into `dir` when the case wants one.
fn registry_entry(i: usize, c: &Case, dir: &Path) -> String {
    let (u, p, e) = env_names(i);
    let server = serde_json::to_string(c.server).unwrap();
    let password = if c.password_file {
        let rel = format!("creds/password-{i}");
        std::fs::create_dir_all(dir.join("creds")).unwrap();
        std::fs::write(dir.join(&rel), format!("{}\n", c.password)).unwrap();
        format!("{{file: {rel}}}")
    } else {
        format!("{{env: {p}}}")
    };
    let mut s =
        format!("  - server: {server}\n    username: {{env: {u}}}\n    password: {password}\n");
    if c.email.is_some() {
        s.push_str(&format!("    email: {{env: {e}}}\n"));
    }
    s
}

fn set_env(cmd: &mut Command, cases: &[(usize, &Case)]) {
    for (i, c) in cases {
        let (u, p, e) = env_names(*i);
        cmd.env(u, c.username).env(p, c.password);
        if let Some(email) = c.email {
            cmd.env(e, email);
        }
    }
}

/// Renders one spec holding `cases` (in order) for namespace `app` and
/// returns the decoded `.dockerconfigjson` of the Secret.
fn regcred_dockerconfig(dir: &TempDir, cases: &[(usize, &Case)]) -> String {
    let registries: String = cases
        .iter()
        .map(|(i, c)| registry_entry(*i, c, dir.path()))
        .collect();
    let spec = dir.write(
        "spec.yaml",
        &common::spec(&format!(
            "  registries:\n{registries}  namespaces:\n    names: [app]\n"
        )),
    );
    let mut cmd = common::regcred();
    cmd.arg("render").arg("-f").arg(&spec);
    set_env(&mut cmd, cases);
    let out = common::run(&mut cmd, "");
    out.assert_ok();
    let items = yaml12(&out.stdout);
    let secrets = common::of_kind(&items, "Secret");
    assert_eq!(secrets.len(), 1, "{}", out.stdout);
    assert_eq!(secrets[0]["type"], "kubernetes.io/dockerconfigjson");
    common::dockerconfig(secrets[0])
}

/// Key order of every entry of `auths`, and the entries as JSON text
/// re-serialised (so order is part of the comparison).
fn entries_in_order(json: &str) -> Vec<(String, Vec<String>, String)> {
    let v: J = serde_json::from_str(json).unwrap_or_else(|e| panic!("invalid JSON {json}: {e}"));
    let auths = v["auths"].as_object().expect("no auths object");
    auths
        .iter()
        .map(|(server, entry)| {
            let keys = entry.as_object().unwrap().keys().cloned().collect();
            (server.clone(), keys, serde_json::to_string(entry).unwrap())
        })
        .collect()
}

#[test]
fn single_registry_dockerconfigjson_is_byte_identical_to_kubectl() {
    let mut mismatches = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        let dir = TempDir::new("kubectl-compat-single");
        let ours = regcred_dockerconfig(&dir, &[(i, c)]);
        let theirs = kubectl_dockerconfig(c);
        if ours != theirs {
            mismatches.push(format!(
                "case {i} (server {:?}):\n  regcred: {ours}\n  kubectl: {theirs}",
                c.server
            ));
        }
        // Parsed, with key order, too (serde_json preserves order here).
        assert_eq!(
            entries_in_order(&ours),
            entries_in_order(&theirs),
            "case {i}"
        );
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    // Sanity: the awkward cases really are awkward for JSON, and email
    // handling is what kubectl does (empty omitted, given kept).
    let html = kubectl_dockerconfig(&CASES[2]);
    assert!(
        html.contains("\\u003c") && html.contains("\\u0026"),
        "{html}"
    );
    assert!(!kubectl_dockerconfig(&CASES[4]).contains("\"email\""));
    assert!(kubectl_dockerconfig(&CASES[5]).contains("\"email\":\"ops+ci@example.com\""));
}

#[test]
fn multi_registry_secret_holds_kubectls_entries_in_spec_order() {
    let dir = TempDir::new("kubectl-compat-multi");
    let cases: Vec<(usize, &Case)> = CASES.iter().enumerate().collect();
    let ours = regcred_dockerconfig(&dir, &cases);
    let kubectl: Vec<String> = CASES.iter().map(kubectl_dockerconfig).collect();

    // Byte for byte: kubectl's entries, joined in spec order.
    let expected = format!(
        "{{\"auths\":{{{}}}}}",
        kubectl
            .iter()
            .map(|k| raw_entry(k))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_eq!(ours, expected);

    // Parsed: same servers in spec order, each entry equal to kubectl's
    // with the same key order.
    let got = entries_in_order(&ours);
    assert_eq!(got.len(), CASES.len());
    for (i, (entry, k)) in got.iter().zip(&kubectl).enumerate() {
        let theirs = entries_in_order(k);
        assert_eq!(theirs.len(), 1);
        assert_eq!(entry, &theirs[0], "entry {i}");
        assert_eq!(entry.0, CASES[i].server, "entry {i} out of spec order");
    }

    // Reversing the spec reverses the entries (spec order, not sorted).
    let dir = TempDir::new("kubectl-compat-multi-rev");
    let reversed: Vec<(usize, &Case)> = cases.iter().rev().copied().collect();
    let ours_rev = regcred_dockerconfig(&dir, &reversed);
    let servers: Vec<String> = entries_in_order(&ours_rev)
        .into_iter()
        .map(|e| e.0)
        .collect();
    let want: Vec<String> = CASES.iter().rev().map(|c| c.server.to_string()).collect();
    assert_eq!(servers, want);
}

// ---------------------------------------------------------------------------
// kubernetes-validate --strict
// ---------------------------------------------------------------------------

fn validate(files: &[std::path::PathBuf]) -> common::Out {
    let mut cmd = Command::new(tool("kubernetes-validate"));
    cmd.arg("--strict").args(files);
    common::run(&mut cmd, "")
}

#[test]
fn generated_manifests_pass_kubernetes_validate_strict() {
    let dir = TempDir::new("kubectl-compat-validate");
    let spec = dir.write(
        "spec.yaml",
        &common::spec(
            "  secretName: pull-secret
  registries:
  - server: registry.example.com:5000
    username: {env: REGCRED_KV_USER}
    password: {env: REGCRED_KV_PASS}
    email: {env: REGCRED_KV_EMAIL}
  - server: https://index.docker.io/v1/
    username: {env: REGCRED_KV_USER}
    password: {env: REGCRED_KV_PASS}
  namespaces:
    include: [\"team-*\"]
    names: [extra]
  serviceAccounts:
    include: [default, builder]
  secret:
    labels: {team: platform}
    annotations:
      argocd.argoproj.io/sync-wave: \"-1\"
  serviceAccount:
    annotations:
      argocd.argoproj.io/sync-options: ServerSideApply=true
",
        ),
    );
    let input = "apiVersion: v1
kind: Namespace
metadata:
  name: team-a
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
  namespace: team-a
  labels:
    app: builder
automountServiceAccountToken: false
secrets:
- name: builder-token
imagePullSecrets:
- name: existing
";
    let mut cmd = common::regcred();
    cmd.arg("render")
        .arg("-f")
        .arg(&spec)
        .arg("-")
        .env("REGCRED_KV_USER", "robot$ci")
        .env("REGCRED_KV_PASS", "p<&>\"ss")
        .env("REGCRED_KV_EMAIL", "ops@example.com");
    let out = common::run(&mut cmd, input);
    out.assert_ok();
    let docs = common::split_docs(&out.stdout);
    let items = yaml12(&out.stdout);
    assert_eq!(docs.len(), items.len());

    // Every Secret and ServiceAccount regcred wrote or patched, one per file.
    let mut files = Vec::new();
    for (i, (doc, item)) in docs.iter().zip(&items).enumerate() {
        let kind = item["kind"].as_str().unwrap();
        if kind == "Secret" || kind == "ServiceAccount" {
            files.push(dir.write(&format!("out/{i:02}-{}.yaml", kind.to_lowercase()), doc));
        }
    }
    let secrets = common::of_kind(&items, "Secret");
    let sas = common::of_kind(&items, "ServiceAccount");
    assert_eq!(secrets.len(), 2, "team-a and extra:\n{}", out.stdout);
    let patched = sas
        .iter()
        .find(|s| s["metadata"]["name"] == "builder" && s["metadata"]["namespace"] == "team-a")
        .expect("patched builder SA");
    assert_eq!(
        patched["imagePullSecrets"],
        serde_json::json!([{"name": "existing"}, {"name": "pull-secret"}])
    );
    assert!(sas.len() >= 4, "created SAs missing:\n{}", out.stdout);
    assert_eq!(files.len(), secrets.len() + sas.len());

    let v = validate(&files);
    assert_eq!(
        v.code, 0,
        "kubernetes-validate --strict rejected regcred's output:\n{}{}",
        v.stdout, v.stderr
    );
    let passed = v.stdout.matches("passed").count() + v.stderr.matches("passed").count();
    assert_eq!(
        passed,
        files.len(),
        "every file must be validated:\n{}{}",
        v.stdout,
        v.stderr
    );

    // The validator is live: broken copies fail.
    let secret_doc = docs.iter().find(|d| d.contains("kind: Secret")).unwrap();
    let data_at = secret_doc.find("\ndata:\n").unwrap();
    let broken_secret = format!("{}\ndata:\n- not-a-map\n", &secret_doc[..data_at]);
    let bad = dir.write("bad/secret-data-list.yaml", &broken_secret);
    let v = validate(&[bad]);
    assert_ne!(
        v.code, 0,
        "a Secret with data as a list must fail:\n{}{}",
        v.stdout, v.stderr
    );

    // And --strict is in force: an unknown field in a ServiceAccount fails.
    let sa_doc = docs
        .iter()
        .find(|d| d.contains("kind: ServiceAccount"))
        .unwrap();
    let bad = dir.write(
        "bad/sa-unknown-field.yaml",
        &sa_doc.replace("- name: ", "- nmae: "),
    );
    let v = validate(&[bad]);
    assert_ne!(
        v.code, 0,
        "an unknown field must fail under --strict:\n{}{}",
        v.stdout, v.stderr
    );
}

// ---------------------------------------------------------------------------
// Legacy exec plugin under the real kubectl kustomize
// ---------------------------------------------------------------------------

#[test]
fn legacy_plugin_under_kubectl_kustomize_matches_kubectl_create_secret() {
    // The machine's kubectl (kustomize v5.5) and the newest one (v5.8.1).
    for kubectl in common::kubectls() {
        legacy_plugin_matches_kubectl_create_secret(&kubectl);
    }
}

fn legacy_plugin_matches_kubectl_create_secret(kubectl: &Path) {
    let dir = TempDir::new("kubectl-compat-plugin");
    let home = dir.path().join("plugins");
    let out = common::run(
        common::regcred()
            .args(["install-plugin", "--plugin-home"])
            .arg(&home),
        "",
    );
    out.assert_ok();

    let kdir = dir.path().join("app");
    std::fs::create_dir_all(&kdir).unwrap();
    let cases: Vec<(usize, &Case)> = CASES.iter().enumerate().collect();
    // Credential files resolve against the kustomization directory.
    let registries: String = cases
        .iter()
        .map(|(i, c)| registry_entry(*i, c, &kdir))
        .collect();
    let spec = common::spec(&format!(
        "  registries:\n{registries}  namespaces:\n    include: [\"team-*\"]\n  serviceAccounts:\n    include: [default]\n"
    ));
    std::fs::write(kdir.join("spec.yaml"), spec).unwrap();
    std::fs::write(
        kdir.join("app.yaml"),
        "apiVersion: v1
kind: Namespace
metadata:
  name: team-a
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: team-b
data:
  flag: \"yes\"
",
    )
    .unwrap();
    std::fs::write(
        kdir.join("kustomization.yaml"),
        "resources:\n- app.yaml\ntransformers:\n- spec.yaml\n",
    )
    .unwrap();

    let mut cmd = Command::new(kubectl);
    cmd.args(["kustomize", "--enable-alpha-plugins"])
        .arg(&kdir)
        .env("KUSTOMIZE_PLUGIN_HOME", &home);
    set_env(&mut cmd, &cases);
    let out = common::run(&mut cmd, "");
    assert_eq!(
        out.code,
        0,
        "{} kustomize failed:\n{}",
        kubectl.display(),
        out.stderr
    );
    let items = yaml12(&out.stdout);
    let secrets = common::of_kind(&items, "Secret");
    let mut namespaces: Vec<&str> = secrets
        .iter()
        .map(|s| s["metadata"]["namespace"].as_str().unwrap())
        .collect();
    namespaces.sort();
    assert_eq!(namespaces, ["team-a", "team-b"], "{}", out.stdout);

    let expected = format!(
        "{{\"auths\":{{{}}}}}",
        CASES
            .iter()
            .map(kubectl_dockerconfig)
            .map(|k| raw_entry(&k).to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    for s in &secrets {
        assert_eq!(s["type"], "kubernetes.io/dockerconfigjson");
        assert_eq!(
            common::dockerconfig(s),
            expected,
            "Secret in {}",
            s["metadata"]["namespace"]
        );
    }
    // The ConfigMap passed through kustomize and regcred still a string.
    let cm = common::of_kind(&items, "ConfigMap");
    assert_eq!(cm[0]["data"]["flag"], "yes");

    // One registry alone equals kubectl's whole document.
    let single = &CASES[0];
    std::fs::write(
        kdir.join("spec.yaml"),
        common::spec(&format!(
            "  registries:\n{}  namespaces:\n    names: [solo]\n",
            registry_entry(0, single, &kdir)
        )),
    )
    .unwrap();
    let mut cmd = Command::new(kubectl);
    cmd.args(["kustomize", "--enable-alpha-plugins"])
        .arg(&kdir)
        .env("KUSTOMIZE_PLUGIN_HOME", &home);
    set_env(&mut cmd, &[(0, single)]);
    let out = common::run(&mut cmd, "");
    assert_eq!(
        out.code,
        0,
        "{} kustomize failed:\n{}",
        kubectl.display(),
        out.stderr
    );
    let items = yaml12(&out.stdout);
    let secrets = common::of_kind(&items, "Secret");
    assert_eq!(
        secrets.len(),
        3,
        "team-a, team-b (by pattern) and solo (by name):\n{}",
        out.stdout
    );
    let theirs = kubectl_dockerconfig(single);
    for s in &secrets {
        assert_eq!(
            common::dockerconfig(s),
            theirs,
            "Secret in {}",
            s["metadata"]["namespace"]
        );
    }
}
