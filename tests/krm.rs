//! KRM function mode: ResourceLists shaped exactly like the ones kustomize
//! v5 sends (transformer and generator), and the real `kpt fn eval --exec`.

use crate::common::{self, TempDir, regcred, run, yaml12};
use serde_json::Value as Json;

const SPEC_BODY: &str = "  registries:\n  - server: registry.example.com:5000\n    username: robot$ci\n    password: {file: creds/pw.txt}\n";

fn indent(s: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    s.lines().map(|l| format!("{pad}{l}\n")).collect()
}

/// What kustomize sends a transformer: resources with its build
/// annotations, the spec as functionConfig (with the function annotation).
fn kustomize_transformer_list(spec_body: &str) -> String {
    format!(
        r#"apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: team-a
    labels:
      pull-secrets: enabled
    annotations:
      config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/index: '0'
      kustomize.config.k8s.io/id: |
        kind: Namespace
        name: team-a
        version: v1
- apiVersion: v1
  kind: ServiceAccount
  metadata:
    name: default
    namespace: team-a
    annotations:
      config.kubernetes.io/index: '1'
      internal.config.kubernetes.io/index: '1'
      internal.config.kubernetes.io/previousNames: default
      internal.config.kubernetes.io/previousNamespaces: team-a
      kustomize.config.k8s.io/id: |
        kind: ServiceAccount
        name: default
        namespace: team-a
        version: v1
  imagePullSecrets:
  - name: existing
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    namespace: team-b
    annotations:
      config.kubernetes.io/index: '2'
      internal.config.kubernetes.io/needsHashSuffix: enabled
  spec:
    replicas: 1
    template:
      spec:
        containers:
        - name: web
          image: registry.example.com:5000/web:1.0
          env:
          - name: FLAG
            value: "yes"
functionConfig:
  apiVersion: regcred.dev/v1alpha1
  kind: RegistryCredentials
  metadata:
    name: regcred
    annotations:
      config.kubernetes.io/function: |
        exec:
          path: regcred
      config.kubernetes.io/local-config: 'true'
  spec:
{}"#,
        indent(spec_body, 4)
    )
}

fn workdir() -> TempDir {
    let t = TempDir::new("krm");
    t.write("creds/pw.txt", "demo-password\n");
    t
}

fn render_krm(t: &TempDir, input: &str) -> (Json, common::Out) {
    let out = run(regcred().current_dir(t.path()), input);
    out.assert_ok();
    let docs = yaml12(&out.stdout);
    assert_eq!(docs.len(), 1, "one ResourceList expected");
    (docs[0].clone(), out)
}

#[test]
fn transformer_keeps_items_and_annotations_and_appends_generated() {
    let t = workdir();
    let input = kustomize_transformer_list(SPEC_BODY);
    let (rl, _) = render_krm(&t, &input);
    let input_rl = &yaml12(&input)[0];
    assert_eq!(rl["apiVersion"], "config.kubernetes.io/v1");
    assert_eq!(rl["kind"], "ResourceList");
    let items = rl["items"].as_array().unwrap();
    let in_items = input_rl["items"].as_array().unwrap();

    // Pass-through items: same position, same content (SA aside).
    assert_eq!(items[0], in_items[0]);
    assert_eq!(items[2], in_items[2]);
    // The SA keeps everything, including kustomize's annotations, and gains the entry.
    let sa = &items[1];
    assert_eq!(sa["metadata"], in_items[1]["metadata"]);
    assert_eq!(
        sa["imagePullSecrets"],
        serde_json::json!([{"name": "existing"}, {"name": "regcred"}])
    );

    // Then Secrets for team-a and team-b (sorted), then the created default SA for team-b.
    let rest: Vec<(String, String)> = items[3..]
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().into(),
                i["metadata"]["namespace"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        rest,
        [
            ("Secret".into(), "team-a".into()),
            ("Secret".into(), "team-b".into()),
            ("ServiceAccount".into(), "team-b".into())
        ]
    );
    assert_eq!(items[3]["type"], "kubernetes.io/dockerconfigjson");
    assert_eq!(
        items[3]["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "regcred"
    );
    let cfg = common::dockerconfig(&items[3]);
    assert!(
        cfg.contains(r#""username":"robot$ci","password":"demo-password""#),
        "{cfg}"
    );
}

#[test]
fn input_resource_list_api_version_is_echoed() {
    let t = workdir();
    let input = kustomize_transformer_list(SPEC_BODY).replace(
        "config.kubernetes.io/v1\n",
        "config.kubernetes.io/v1alpha1\n",
    );
    let (rl, _) = render_krm(&t, &input);
    assert_eq!(rl["apiVersion"], "config.kubernetes.io/v1alpha1");
}

#[test]
fn transformer_output_is_idempotent() {
    let t = workdir();
    let first = run(
        regcred().current_dir(t.path()),
        &kustomize_transformer_list(SPEC_BODY),
    );
    first.assert_ok();
    // Feed the output back with the same functionConfig.
    let mut rl = yaml12(&first.stdout).remove(0);
    rl["functionConfig"] =
        yaml12(&kustomize_transformer_list(SPEC_BODY))[0]["functionConfig"].clone();
    let second = run(
        regcred().current_dir(t.path()),
        &serde_json::to_string(&rl).unwrap(),
    );
    second.assert_ok();
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn generator_targets_names_only_and_warns_about_unmatched_patterns() {
    let t = workdir();
    let body = format!(
        "{SPEC_BODY}  namespaces:\n    include: ['team-*']\n    names: [tsb, istio-system]\n  serviceAccounts:\n    include: [default, tsb-operator-control-plane]\n"
    );
    // kustomize sends a generator only a copy of its config, marked local-config.
    let cfg = indent(&common::spec(&body), 2);
    let input = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- {}{}functionConfig:\n{cfg}",
        cfg.trim_start().lines().next().unwrap().to_owned() + "\n",
        cfg.lines().skip(1).map(|l| format!("{l}\n")).collect::<String>()
    )
    .replace(
        "  metadata:\n    name: regcred\n  spec:",
        "  metadata:\n    name: regcred\n    annotations:\n      config.kubernetes.io/local-config: 'true'\n  spec:",
    );
    let (rl, out) = render_krm(&t, &input);
    let items = rl["items"].as_array().unwrap();
    assert_eq!(
        items[0]["kind"], "RegistryCredentials",
        "the config copy passes through (kustomize drops it)"
    );
    let kinds: Vec<String> = items[1..]
        .iter()
        .map(|i| {
            format!(
                "{}/{}/{}",
                i["kind"].as_str().unwrap(),
                i["metadata"]["namespace"].as_str().unwrap(),
                i["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "Secret/istio-system/regcred",
            "Secret/tsb/regcred",
            "ServiceAccount/istio-system/default",
            "ServiceAccount/istio-system/tsb-operator-control-plane",
            "ServiceAccount/tsb/default",
            "ServiceAccount/tsb/tsb-operator-control-plane",
        ]
    );
    let results = rl["results"].as_array().unwrap();
    let warning = results
        .iter()
        .find(|r| r["field"]["path"] == "spec.namespaces.include")
        .expect("warning result");
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["resourceRef"]["kind"], "RegistryCredentials");
    assert_eq!(warning["resourceRef"]["name"], "regcred");
    assert!(
        out.stderr.contains("warning: spec.namespaces.include:"),
        "{}",
        out.stderr
    );
}

#[test]
fn kpt_fn_eval_exec_renders_into_the_package_and_is_idempotent() {
    let t = workdir();
    t.write(".krmignore", "creds/\n");
    t.write(
        "app.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: team-a\nimagePullSecrets:\n- name: existing\n",
    );
    let cfg_dir = TempDir::new("krm-cfg");
    let cfg = cfg_dir.write(
        "regcred.yaml",
        &common::spec(&format!("{SPEC_BODY}  namespaces:\n    names: [tsb]\n")),
    );
    let eval = || common::kpt_fn_eval(t.path(), &cfg);
    let out = eval();
    assert_eq!(out.code, 0, "kpt failed:\n{}\n{}", out.stdout, out.stderr);
    let combined = format!("{}{}", out.stdout, out.stderr);
    assert!(combined.contains("[PASS]"), "{combined}");

    let app = std::fs::read_to_string(t.path().join("app.yaml")).unwrap();
    assert!(app.contains("- name: existing\n- name: regcred\n"), "{app}");
    let secret = std::fs::read_to_string(t.path().join("team-a/secret_regcred.yaml")).unwrap();
    let secret = &yaml12(&secret)[0];
    assert!(common::dockerconfig(secret).contains("demo-password"));
    assert!(t.path().join("tsb/serviceaccount_default.yaml").is_file());

    let snapshot = |p: &std::path::Path| {
        let mut files: Vec<(String, String)> = Vec::new();
        for dir in ["", "team-a", "tsb"] {
            for e in std::fs::read_dir(p.join(dir)).unwrap() {
                let path = e.unwrap().path();
                if path.is_file() {
                    files.push((
                        path.display().to_string(),
                        std::fs::read_to_string(&path).unwrap(),
                    ));
                }
            }
        }
        files.sort();
        files
    };
    let before = snapshot(t.path());
    let again = eval();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(
        snapshot(t.path()),
        before,
        "a second kpt run must change nothing"
    );
}

#[test]
fn kpt_reports_error_results_and_leaves_the_package_alone() {
    let t = workdir();
    t.write(".krmignore", "creds/\n");
    let app = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n";
    t.write("app.yaml", app);
    let cfg_dir = TempDir::new("krm-cfg");
    let cfg = cfg_dir.write(
        "regcred.yaml",
        &common::spec("  registries:\n  - server: r.io\n    username: u\n    password: {env: REGCRED_TEST_UNSET_VAR}\n"),
    );
    let out = common::kpt_fn_eval(t.path(), &cfg);
    assert_ne!(out.code, 0);
    let combined = format!("{}{}", out.stdout, out.stderr);
    assert!(combined.contains("[error]: functionConfig: spec.registries[0].password.env: environment variable REGCRED_TEST_UNSET_VAR is not set"), "{combined}");
    assert_eq!(
        std::fs::read_to_string(t.path().join("app.yaml")).unwrap(),
        app
    );
    assert!(!t.path().join("team-a").exists());
}
