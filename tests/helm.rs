//! regcred as Helm's post-renderer, under the real Helm: v3.22 runs it as an
//! executable (`--post-renderer regcred --post-renderer-args ...`), v4.3 as
//! the postrenderer/v1 plugin in `helm-plugin/`, installed with
//! `helm plugin install`. Both are built by scripts/install-test-tools.
//!
//! Each test renders a small chart with `helm template` in an isolated Helm
//! home, with `regcred` found on PATH as users install it. The output must
//! hold the chart's objects with the pull Secret in the release namespace
//! and the chart's ServiceAccount and Deployment pointing at it, and pass
//! `kubernetes-validate --strict`. On errors Helm must fail, and no
//! credential may reach its output.

use crate::common::{self, Out, TempDir, tool};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Command;

const KUBE_VERSION: &str = "1.32.4";
const CANARY: &str = "CANARY-helm-5be2c1-token";
const NAMESPACE: &str = "storefront-prod";

/// A chart like `helm create` writes one: no `metadata.namespace`, a
/// ServiceAccount, a Deployment running as it, a Service, and a
/// pre-install hook Job that pulls from the same private registry.
const CHART: &[(&str, &str)] = &[
    (
        "Chart.yaml",
        "apiVersion: v2\nname: storefront\nversion: 0.1.0\n",
    ),
    ("values.yaml", "image: ghcr.io/example/storefront:1.4.2\n"),
    (
        "templates/serviceaccount.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}-storefront\n",
    ),
    (
        "templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-storefront\nspec:\n  selector:\n    matchLabels: {app: storefront}\n  template:\n    metadata:\n      labels: {app: storefront}\n    spec:\n      serviceAccountName: {{ .Release.Name }}-storefront\n      containers:\n        - name: web\n          image: {{ .Values.image }}\n",
    ),
    (
        "templates/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-storefront\nspec:\n  selector: {app: storefront}\n  ports:\n    - port: 80\n",
    ),
    (
        "templates/migrate-job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ .Release.Name }}-migrate\n  annotations:\n    helm.sh/hook: pre-install\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: migrate\n          image: {{ .Values.image }}\n",
    ),
];

/// The spec: the token comes from a credential file, so a leak of what
/// regcred read would show the canary.
const SPEC_BODY: &str = "  registries:\n    - server: ghcr.io\n      username: storefront-ci\n      password: {file: creds/token.txt}\n  serviceAccounts:\n    include: [\"*\"]\n  inject:\n    workloads: true\n";

/// A directory with the chart in `chart/`, the spec in `regcred.yaml`
/// beside it, a `bin/regcred` link to the built binary, and a Helm home of
/// its own (`HELM_*_HOME`), so no user's Helm setup is read or changed.
struct Setup {
    dir: TempDir,
    helm: PathBuf,
}

impl Setup {
    fn new(helm: &str) -> Self {
        let dir = TempDir::new(&format!("helm-{helm}"));
        for (path, text) in CHART {
            dir.write(&format!("chart/{path}"), text);
        }
        dir.write("regcred.yaml", &common::spec(SPEC_BODY));
        dir.write("creds/token.txt", &format!("{CANARY}\n"));
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(common::bin(), bin.join("regcred")).unwrap();
        Setup {
            helm: tool(helm),
            dir,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `helm ARGS` in the setup directory, with `bin/` first on PATH.
    fn helm(&self, args: &[&str]) -> Out {
        let path = std::env::join_paths(std::iter::once(self.path().join("bin")).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .unwrap();
        let home = self.path().join("helm-home");
        common::run(
            Command::new(&self.helm)
                .args(args)
                .current_dir(self.path())
                .env("PATH", path)
                .env("HELM_CACHE_HOME", home.join("cache"))
                .env("HELM_CONFIG_HOME", home.join("config"))
                .env("HELM_DATA_HOME", home.join("data"))
                .env_remove("HELM_PLUGINS")
                .env_remove("HELM_NAMESPACE"),
            "",
        )
    }

    /// `helm template web chart --namespace NAMESPACE` with a post-renderer
    /// and its arguments.
    fn template(&self, post_renderer: &[&str]) -> Out {
        let mut args = vec!["template", "web", "chart", "--namespace", NAMESPACE];
        args.extend_from_slice(post_renderer);
        self.helm(&args)
    }

    /// Helm 4: `helm plugin install` of the repository's plugin directory.
    fn install_plugin(&self) {
        let plugin = concat!(env!("CARGO_MANIFEST_DIR"), "/helm-plugin");
        let out = self.helm(&["plugin", "install", plugin]);
        assert_eq!(out.code, 0, "helm plugin install: {}", out.stderr);
        let list = self.helm(&["plugin", "list"]);
        assert!(
            list.stdout
                .lines()
                .any(|l| l.starts_with("regcred") && l.contains("postrenderer/v1")),
            "helm plugin list does not show the postrenderer plugin:\n{}",
            list.stdout
        );
    }
}

/// Helm 3's arguments: regcred is the executable, `post-render` and the
/// options are `--post-renderer-args`.
fn v3_args(extra: &[&'static str]) -> Vec<&'static str> {
    let mut args = vec![
        "--post-renderer",
        "regcred",
        "--post-renderer-args",
        "post-render",
        "--post-renderer-args",
        "--spec=regcred.yaml",
    ];
    for a in extra {
        args.extend(["--post-renderer-args", a]);
    }
    args
}

/// Helm 4's arguments: the plugin named `regcred` already runs `regcred
/// post-render`; the options follow.
fn v4_args(extra: &[&'static str]) -> Vec<&'static str> {
    let mut args = vec![
        "--post-renderer",
        "regcred",
        "--post-renderer-args",
        "--spec=regcred.yaml",
    ];
    for a in extra {
        args.extend(["--post-renderer-args", a]);
    }
    args
}

fn find<'a>(objs: &'a [Json], kind: &str, name: &str) -> &'a Json {
    objs.iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} in the output: {objs:#?}"))
}

fn pull_secrets(list: &Json) -> Vec<&str> {
    list.as_array()
        .map(|l| l.iter().filter_map(|e| e["name"].as_str()).collect())
        .unwrap_or_default()
}

/// `kubernetes-validate --strict` on the whole output; every object passes.
fn assert_valid(dir: &Path, text: &str, objects: usize) {
    common::assert_kubernetes_valid(dir, "rendered.yaml", text, KUBE_VERSION, objects);
}

/// What both Helm versions must print: the chart's objects, the Secret in
/// the release namespace holding the token, and the chart's ServiceAccount
/// and Deployment pointing at it. Returns the objects.
fn assert_rendered(setup: &Setup, out: &Out) -> Vec<Json> {
    out.assert_ok();
    let objs = common::yaml11(&out.stdout);
    let secrets = common::of_kind(&objs, "Secret");
    assert_eq!(secrets.len(), 1, "one Secret: {objs:#?}");
    let secret = secrets[0];
    assert_eq!(secret["metadata"]["namespace"], NAMESPACE);
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    let config: Json = serde_json::from_str(&common::dockerconfig(secret)).unwrap();
    assert_eq!(config["auths"]["ghcr.io"]["password"], CANARY);
    let sa = find(&objs, "ServiceAccount", "web-storefront");
    assert_eq!(pull_secrets(&sa["imagePullSecrets"]), ["regcred"]);
    let deployment = find(&objs, "Deployment", "web-storefront");
    assert_eq!(
        pull_secrets(&deployment["spec"]["template"]["spec"]["imagePullSecrets"]),
        ["regcred"]
    );
    find(&objs, "Service", "web-storefront");
    // Only the Secret is new; the chart's objects stay where Helm puts them.
    for o in objs.iter().filter(|o| o["kind"] != "Secret") {
        assert!(o["metadata"]["namespace"].is_null(), "{o:#}");
    }
    assert_valid(setup.path(), &out.stdout, objs.len());
    objs
}

/// The error every test of a failing render checks: Helm fails, prints no
/// manifest, and nothing regcred read reaches its output.
fn assert_failed(out: &Out) {
    assert_ne!(out.code, 0, "helm succeeded:\n{}", out.stdout);
    assert!(
        !out.stdout.contains("kind:"),
        "helm printed manifests:\n{}",
        out.stdout
    );
    out.assert_no_canary(CANARY);
}

#[test]
fn helm3_template_with_regcred_as_post_renderer() {
    let setup = Setup::new("helm");
    let version = setup.helm(&["version", "--short"]);
    assert!(version.stdout.starts_with("v3.22"), "{}", version.stdout);
    let out = setup.template(&v3_args(&["--namespace=storefront-prod"]));
    let objs = assert_rendered(&setup, &out);
    // Helm 3 does not pass hooks to a post-renderer: the hook Job comes out
    // as the chart wrote it (its pods still pull through the default
    // ServiceAccount, which regcred cannot change inside a release).
    let job = find(&objs, "Job", "web-migrate");
    assert!(
        job["spec"]["template"]["spec"]["imagePullSecrets"].is_null(),
        "{job:#}"
    );
    // regcred's output has no `# Source:` comments, and Helm 3 prints it as
    // it is, so --show-only finds no template (docs/integrations.md says so).
    let mut args = v3_args(&["--namespace=storefront-prod"]);
    args.extend(["--show-only", "templates/deployment.yaml"]);
    let out = setup.template(&args);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("could not find template templates/deployment.yaml"),
        "{}",
        out.stderr
    );
}

#[test]
fn helm3_fails_without_the_release_namespace() {
    // The chart's objects carry no namespace and Helm does not tell the
    // post-renderer which one they land in: guessing would leave them
    // without a pull Secret.
    let setup = Setup::new("helm");
    let out = setup.template(&v3_args(&[]));
    assert_failed(&out);
    assert!(
        out.stderr.contains("error while running post render")
            && out
                .stderr
                .contains("ServiceAccount/web-storefront and 1 more have no metadata.namespace")
            && out.stderr.contains("--post-renderer-args=--namespace=NS"),
        "{}",
        out.stderr
    );
}

#[test]
fn helm3_chart_objects_in_the_release_namespace_need_no_namespace_argument() {
    let setup = Setup::new("helm");
    for (path, _) in CHART.iter().filter(|(p, _)| p.starts_with("templates/")) {
        let file = setup.path().join("chart").join(path);
        let text = std::fs::read_to_string(&file).unwrap().replacen(
            "metadata:\n",
            "metadata:\n  namespace: {{ .Release.Namespace }}\n",
            1,
        );
        std::fs::write(&file, text).unwrap();
    }
    let out = setup.template(&v3_args(&[]));
    out.assert_ok();
    let objs = common::yaml11(&out.stdout);
    let secret = common::of_kind(&objs, "Secret");
    assert_eq!(secret.len(), 1, "{objs:#?}");
    assert_eq!(secret[0]["metadata"]["namespace"], NAMESPACE);
    let sa = find(&objs, "ServiceAccount", "web-storefront");
    assert_eq!(pull_secrets(&sa["imagePullSecrets"]), ["regcred"]);
}

#[test]
fn helm3_shows_regcred_error_and_leaks_nothing() {
    let setup = Setup::new("helm");
    // The first registry is read (the canary), the second names a file that
    // does not exist.
    let body = SPEC_BODY.replace(
        "  serviceAccounts:",
        "    - server: registry.example.com\n      username: ci\n      password: {file: creds/missing.txt}\n  serviceAccounts:",
    );
    setup.dir.write("regcred.yaml", &common::spec(&body));
    let out = setup.template(&v3_args(&["--namespace=storefront-prod"]));
    assert_failed(&out);
    assert!(
        out.stderr.contains("error while running post render")
            && out.stderr.contains("spec.registries[1].password.file")
            && out.stderr.contains("creds/missing.txt"),
        "{}",
        out.stderr
    );
    // --debug makes Helm print the manifests it had before the failure:
    // still nothing regcred read.
    let mut args = v3_args(&["--namespace=storefront-prod"]);
    args.push("--debug");
    let debug = setup.template(&args);
    assert_ne!(debug.code, 0);
    debug.assert_no_canary(CANARY);
}

#[test]
fn helm3_fails_on_an_invalid_spec() {
    let setup = Setup::new("helm");
    setup.dir.write(
        "regcred.yaml",
        &common::spec(&SPEC_BODY.replace("password:", "passwrod:")),
    );
    let out = setup.template(&v3_args(&["--namespace=storefront-prod"]));
    assert_failed(&out);
    assert!(
        out.stderr.contains("regcred.yaml") && out.stderr.contains("passwrod"),
        "{}",
        out.stderr
    );
}

#[test]
fn helm4_template_with_the_regcred_plugin() {
    let setup = Setup::new("helm4");
    let version = setup.helm(&["version", "--short"]);
    assert!(version.stdout.starts_with("v4.3"), "{}", version.stdout);
    setup.install_plugin();
    let out = setup.template(&v4_args(&["--namespace=storefront-prod"]));
    let objs = assert_rendered(&setup, &out);
    // Helm 4 post-renders hooks with the templates: the hook Job pulls
    // with the Secret too. The filename annotation Helm 4 adds for the
    // round trip is gone again, so regcred kept it on every object.
    let job = find(&objs, "Job", "web-migrate");
    assert_eq!(
        pull_secrets(&job["spec"]["template"]["spec"]["imagePullSecrets"]),
        ["regcred"]
    );
    assert!(
        !out.stdout.contains("postrenderer.helm.sh"),
        "{}",
        out.stdout
    );
    // Helm 4 sorts the post-rendered objects into install order (the Secret
    // before the workloads) and writes `# Source:` comments again, so
    // --show-only works.
    let kinds: Vec<&str> = objs.iter().filter_map(|o| o["kind"].as_str()).collect();
    let at = |k: &str| kinds.iter().position(|x| *x == k).unwrap();
    assert!(at("Secret") < at("Deployment"), "{kinds:?}");
    let mut args = v4_args(&["--namespace=storefront-prod"]);
    args.extend(["--show-only", "templates/deployment.yaml"]);
    let out = setup.template(&args);
    out.assert_ok();
    let shown = common::yaml11(&out.stdout);
    assert_eq!(shown.len(), 1, "{}", out.stdout);
    assert_eq!(
        pull_secrets(&shown[0]["spec"]["template"]["spec"]["imagePullSecrets"]),
        ["regcred"]
    );
}

#[test]
fn helm4_fails_on_errors_and_leaks_nothing() {
    let setup = Setup::new("helm4");
    setup.install_plugin();
    let out = setup.template(&v4_args(&[]));
    assert_failed(&out);
    // Helm 4 reports the plugin's exit status but drops its stderr, so
    // regcred's message cannot reach the user through Helm.
    assert!(
        out.stderr.contains("plugin \"regcred\" exited with error"),
        "{}",
        out.stderr
    );
    let body = SPEC_BODY.replace(
        "  serviceAccounts:",
        "    - server: registry.example.com\n      username: ci\n      password: {file: creds/missing.txt}\n  serviceAccounts:",
    );
    setup.dir.write("regcred.yaml", &common::spec(&body));
    let mut args = v4_args(&["--namespace=storefront-prod"]);
    args.push("--debug");
    let out = setup.template(&args);
    assert_failed(&out);
    // The documented way to see the message: pipe helm template into
    // regcred post-render.
    let plain = setup.helm(&["template", "web", "chart", "--namespace", NAMESPACE]);
    plain.assert_ok();
    let piped = common::run(
        common::regcred().current_dir(setup.path()).args([
            "post-render",
            "--spec=regcred.yaml",
            "--namespace",
            NAMESPACE,
        ]),
        &plain.stdout,
    );
    piped.assert_error("spec.registries[1].password.file");
    piped.assert_no_canary(CANARY);
}

#[test]
fn helm_plugin_version_is_the_crate_version() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/helm-plugin/plugin.yaml"
    ))
    .unwrap();
    let doc: Json = serde_yaml_ng::from_str(&text).unwrap();
    assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["type"], "postrenderer/v1");
    assert_eq!(
        doc["runtimeConfig"]["platformCommand"][0]["args"],
        serde_json::json!(["post-render"])
    );
}

#[test]
fn helm3_template_output_dir_fails_instead_of_writing_files_without_the_secret() {
    // Helm 3 writes the files before post-rendering and hands regcred
    // nothing; Helm 4 post-renders first, so its files hold the Secret.
    let setup = Setup::new("helm");
    let mut args = v3_args(&["--namespace=storefront-prod"]);
    args.extend(["--output-dir", "out"]);
    let out = setup.template(&args);
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stderr.contains("no manifests on stdin") && out.stderr.contains("--output-dir"),
        "{}",
        out.stderr
    );

    let setup = Setup::new("helm4");
    setup.install_plugin();
    let mut args = v4_args(&["--namespace=storefront-prod"]);
    args.extend(["--output-dir", "out"]);
    setup.template(&args).assert_ok();
    let written: String = walk(&setup.path().join("out"))
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    let objs = common::yaml11(&written);
    assert_eq!(common::of_kind(&objs, "Secret").len(), 1, "{written}");
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
