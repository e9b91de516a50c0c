//! Argo CD config-management plugin (CMP v2 sidecar), emulated: the
//! repository's top-level `plugin.yaml` is parsed and validated the way
//! `cmpserver/plugin/config.go` does, its discover rule is applied to app
//! directories, and its generate command runs in the app directory with the
//! environment the repo-server hands the sidecar (build env, `ARGOCD_ENV_*`,
//! `PARAM_*`), stdin on /dev/null and regcred found through PATH. The output
//! must be nothing but Kubernetes objects, and they must pass
//! `kubernetes-validate --strict` for the cluster version Argo announces.

use crate::common::{self, Out, TempDir, tool};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const KUBE_VERSION: &str = "1.32.4";
const KUBE_API_VERSIONS: &str = "admissionregistration.k8s.io/v1,apps/v1,autoscaling/v2,batch/v1,networking.k8s.io/v1,policy/v1,rbac.authorization.k8s.io/v1,storage.k8s.io/v1,v1";
const REVISION: &str = "0123456789abcdef0123456789abcdef01234567";
const CANARY: &str = "CANARY-cmp-9d41e7-pw";
const CANARY_ENV: &str = "CANARY-cmp-env-77aa";

// ---------------------------------------------------------------------------
// The emulated CMP server
// ---------------------------------------------------------------------------

/// `plugin.yaml` at the repository root, parsed as Argo CD reads it.
fn plugin() -> Json {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/plugin.yaml");
    let text = std::fs::read_to_string(path).expect("plugin.yaml at the repository root");
    let doc: Json = serde_yaml_ng::from_str(&text).expect("plugin.yaml is one YAML document");
    if let Err(e) = validate_plugin(&doc) {
        panic!("plugin.yaml is rejected by Argo CD's validation: {e}");
    }
    doc
}

/// `ValidatePluginConfig` of cmpserver/plugin/config.go.
fn validate_plugin(doc: &Json) -> Result<(), String> {
    if doc["kind"] != "ConfigManagementPlugin" {
        return Err(format!(
            "invalid plugin configuration file. kind should be ConfigManagementPlugin, found {}",
            doc["kind"]
        ));
    }
    if doc["metadata"]["name"].as_str().is_none_or(str::is_empty) {
        return Err("invalid plugin configuration file. metadata.name should be non-empty.".into());
    }
    if doc["spec"]["generate"]["command"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        return Err(
            "invalid plugin configuration file. spec.generate command should be non-empty".into(),
        );
    }
    Ok(())
}

/// `command` + `args` of a plugin step, as strings.
fn argv(step: &Json) -> Vec<String> {
    let strings = |v: &Json| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|s| s.as_str().expect("command entries are strings").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = strings(&step["command"]);
    out.extend(strings(&step["args"]));
    assert!(!out.is_empty(), "empty command in {step}");
    out
}

/// An Application parameter value.
enum Param<'a> {
    String(&'a str),
    Array(&'a [&'a str]),
}

/// The sidecar: a bin dir with `regcred` on PATH, a HOME and a TMPDIR.
struct Sidecar {
    root: TempDir,
}

impl Sidecar {
    fn new() -> Self {
        let root = TempDir::new("cmp-sidecar");
        std::fs::create_dir_all(root.path().join("bin")).unwrap();
        std::fs::create_dir_all(root.path().join("home")).unwrap();
        std::fs::create_dir_all(root.path().join("tmp")).unwrap();
        std::os::unix::fs::symlink(common::bin(), root.path().join("bin/regcred")).unwrap();
        Sidecar { root }
    }

    fn tmp(&self) -> PathBuf {
        self.root.path().join("tmp")
    }

    /// Argo CD's environment for one app (`newEnv`, `getPluginEnvs`,
    /// `getPluginParamEnvs`); `user_env` are the Application's
    /// `plugin.env` entries, `params` its parameters (name, values).
    fn env(&self, user_env: &[(&str, &str)], params: &[(&str, Param)]) -> Vec<(String, String)> {
        let real_path = std::env::var("PATH").unwrap_or_default();
        let mut env: Vec<(String, String)> = vec![
            (
                "PATH".into(),
                format!("{}:{real_path}", self.root.path().join("bin").display()),
            ),
            (
                "HOME".into(),
                self.root.path().join("home").display().to_string(),
            ),
            ("TMPDIR".into(), self.tmp().display().to_string()),
            ("ARGOCD_APP_NAME".into(), "shop".into()),
            ("ARGOCD_APP_NAMESPACE".into(), "shop-prod".into()),
            ("ARGOCD_APP_PROJECT_NAME".into(), "default".into()),
            ("ARGOCD_APP_REVISION".into(), REVISION.into()),
            ("ARGOCD_APP_REVISION_SHORT".into(), REVISION[..7].into()),
            ("ARGOCD_APP_REVISION_SHORT_8".into(), REVISION[..8].into()),
            ("ARGOCD_APP_SOURCE_PATH".into(), "apps/shop".into()),
            (
                "ARGOCD_APP_SOURCE_REPO_URL".into(),
                "https://git.example.com/platform/deploy.git".into(),
            ),
            ("ARGOCD_APP_SOURCE_TARGET_REVISION".into(), "HEAD".into()),
            ("KUBE_VERSION".into(), KUBE_VERSION.into()),
            ("KUBE_API_VERSIONS".into(), KUBE_API_VERSIONS.into()),
        ];
        for (k, v) in user_env {
            env.push((format!("ARGOCD_ENV_{k}"), v.to_string()));
        }
        let mut json_params = Vec::new();
        for (name, values) in params {
            let upper: String = name
                .to_ascii_uppercase()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            match values {
                Param::String(v) => {
                    env.push((format!("PARAM_{upper}"), v.to_string()));
                    json_params.push(serde_json::json!({"name": name, "string": v}));
                }
                Param::Array(vs) => {
                    for (i, v) in vs.iter().enumerate() {
                        env.push((format!("PARAM_{upper}_{i}"), v.to_string()));
                    }
                    json_params.push(serde_json::json!({"name": name, "array": vs}));
                }
            }
        }
        env.push((
            "ARGOCD_APP_PARAMETERS".into(),
            serde_json::to_string(&json_params).unwrap(),
        ));
        env
    }

    /// Runs one plugin step in `app` (cwd), stdin on /dev/null, with `env` only.
    fn run(&self, step: &Json, app: &Path, env: &[(String, String)]) -> Out {
        let argv = argv(step);
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .current_dir(app)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {argv:?} (is regcred on PATH?): {e}"));
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `matchRepository`: only `find.command` is used by plugin.yaml;
    /// a match is exit 0 with non-empty output.
    fn discovers(&self, plugin: &Json, app: &Path) -> bool {
        let discover = &plugin["spec"]["discover"];
        assert!(
            discover["fileName"].is_null() && discover["find"]["glob"].is_null(),
            "plugin.yaml uses fileName/find.glob, which take precedence over find.command"
        );
        let out = self.run(&discover["find"], app, &self.env(&[], &[]));
        out.code == 0 && !out.stdout.trim().is_empty()
    }

    /// `init` (when present), then `generate`.
    fn generate(&self, plugin: &Json, app: &Path, env: &[(String, String)]) -> Out {
        if !plugin["spec"]["init"].is_null() {
            let init = self.run(&plugin["spec"]["init"], app, env);
            assert_eq!(init.code, 0, "init failed: {}", init.stderr);
        }
        self.run(&plugin["spec"]["generate"], app, env)
    }
}

/// What `kube.SplitYAMLToString` + unstructured decoding accept: every
/// `---` document is one object with apiVersion, kind and metadata.name,
/// and nothing else is on stdout.
fn manifests(stdout: &str) -> Vec<Json> {
    assert!(!stdout.trim().is_empty(), "generate printed nothing");
    let docs = common::split_docs(stdout);
    let mut objects = Vec::new();
    for doc in &docs {
        let parsed = common::yaml12(doc);
        assert_eq!(parsed.len(), 1, "not one object:\n{doc}");
        let o = &parsed[0];
        assert!(o.is_object(), "not a mapping:\n{doc}");
        for (what, v) in [
            ("apiVersion", &o["apiVersion"]),
            ("kind", &o["kind"]),
            ("metadata.name", &o["metadata"]["name"]),
        ] {
            assert!(
                v.as_str().is_some_and(|s| !s.is_empty()),
                "{what} missing in:\n{doc}"
            );
        }
        objects.push(o.clone());
    }
    // The whole stream parses to exactly the same documents: no stray text.
    assert_eq!(
        common::yaml12(stdout),
        objects,
        "stdout is not only manifests"
    );
    objects
}

/// `kubernetes-validate --strict` for the announced cluster version.
fn kubernetes_validate(dir: &Path, name: &str, text: &str) -> Out {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    common::run(
        Command::new(tool("kubernetes-validate"))
            .args(["--strict", "-k", KUBE_VERSION])
            .arg(&file),
        "",
    )
}

fn assert_valid(dir: &Path, stdout: &str, objects: usize) {
    let out = kubernetes_validate(dir, "generated.yaml", stdout);
    assert_eq!(
        out.code, 0,
        "kubernetes-validate --strict rejected the output:\n{}{}",
        out.stdout, out.stderr
    );
    let passed = format!("{}{}", out.stdout, out.stderr)
        .matches("passed for resource")
        .count();
    assert_eq!(passed, objects, "every object validated:\n{}", out.stdout);
}

fn find<'a>(objs: &'a [Json], kind: &str, ns: &str, name: &str) -> &'a Json {
    objs.iter()
        .find(|o| {
            let o_ns = o["metadata"]["namespace"].as_str().unwrap_or_default();
            o["kind"] == kind && o_ns == ns && o["metadata"]["name"] == name
        })
        .unwrap_or_else(|| panic!("no {kind} {ns}/{name} in output: {objs:#?}"))
}

fn pull_secret_names(sa: &Json) -> Vec<String> {
    sa["imagePullSecrets"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// App directories (the app path inside the extracted repository)
// ---------------------------------------------------------------------------

const APP_MANIFESTS: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: team-a
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
        image: registry.example.com/web:1.0
";

/// Spec body: a file credential (the canary) and one from the
/// Application's plugin env (`ARGOCD_ENV_GHCR_TOKEN`).
const SPEC_BODY: &str = "  registries:
  - server: registry.example.com
    username: robot
    password: {file: creds/registry.yaml, key: password}
  - server: ghcr.io
    username: ci-bot
    password: {env: ARGOCD_ENV_GHCR_TOKEN}
";

fn creds_yaml() -> String {
    format!("# credentials, not a manifest\npassword: {CANARY}\n")
}

/// A kustomization running regcred as a legacy exec plugin transformer.
fn kustomize_app(repo: &TempDir) -> PathBuf {
    repo.write(
        "apps/kust/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- app.yaml\ntransformers:\n- regcred.yaml\n",
    );
    repo.write("apps/kust/app.yaml", APP_MANIFESTS);
    repo.write("apps/kust/regcred.yaml", &common::spec(SPEC_BODY));
    repo.write("apps/kust/creds/registry.yaml", &creds_yaml());
    repo.path().join("apps/kust")
}

/// A plain directory of manifests with the spec and its credentials file.
fn plain_app(repo: &TempDir) -> PathBuf {
    repo.write("apps/plain/manifests/app.yaml", APP_MANIFESTS);
    repo.write(
        "apps/plain/manifests/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: team-a\ndata:\n  LOG_LEVEL: info\n",
    );
    repo.write("apps/plain/regcred.yaml", &common::spec(SPEC_BODY));
    repo.write("apps/plain/creds/registry.yaml", &creds_yaml());
    repo.path().join("apps/plain")
}

/// Apps without any RegistryCredentials spec: one plain, one kustomize.
fn no_spec_apps(repo: &TempDir) -> Vec<PathBuf> {
    repo.write("apps/nospec/app.yaml", APP_MANIFESTS);
    repo.write(
        "apps/nospec-kust/kustomization.yaml",
        "resources:\n- app.yaml\n",
    );
    repo.write("apps/nospec-kust/app.yaml", APP_MANIFESTS);
    vec![
        repo.path().join("apps/nospec"),
        repo.path().join("apps/nospec-kust"),
    ]
}

/// A fresh identity from the reference age-keygen: (key file, public key).
fn age_keygen(dir: &Path) -> (PathBuf, String) {
    common::age_key(dir, "age-key.txt")
}

/// A plain directory whose credentials are a SOPS file encrypted by the
/// reference sops to `recipient`; the plaintext never touches the app dir.
fn sops_app(repo: &TempDir, recipient: &str) -> PathBuf {
    let app = repo.path().join("apps/sops");
    repo.write("apps/sops/manifests/app.yaml", APP_MANIFESTS);
    repo.write(
        "apps/sops/regcred.yaml",
        &common::spec(
            "  registries:\n  - server: registry.example.com\n    username: robot\n    password: {file: creds/registry.enc.yaml, key: password}\n",
        ),
    );
    let plain = repo.write("plaintext/registry.yaml", &creds_yaml());
    let out = common::run(
        Command::new(tool("sops"))
            .env_remove("SOPS_AGE_KEY_FILE")
            .env_remove("SOPS_AGE_RECIPIENTS")
            .env("HOME", repo.path())
            .current_dir(repo.path())
            .args(["--encrypt", "--age", recipient])
            .arg(&plain),
        "",
    );
    assert_eq!(out.code, 0, "sops --encrypt: {}", out.stderr);
    assert!(out.stdout.contains("sops:") && !out.stdout.contains(CANARY));
    repo.write("apps/sops/creds/registry.enc.yaml", &out.stdout);
    std::fs::remove_file(plain).unwrap();
    app
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The Secret objects carry both registries with the expected passwords.
fn assert_secrets(objs: &[Json], secret: &str, namespaces: &[&str], ghcr: Option<&str>) {
    let secrets: Vec<&Json> = common::of_kind(objs, "Secret");
    let got: Vec<&str> = secrets
        .iter()
        .map(|s| s["metadata"]["namespace"].as_str().unwrap())
        .collect();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    assert_eq!(got_sorted, namespaces, "Secrets rendered: {got:?}");
    for s in secrets {
        assert_eq!(s["metadata"]["name"], secret);
        assert_eq!(s["type"], "kubernetes.io/dockerconfigjson");
        let cfg: Json = serde_json::from_str(&common::dockerconfig(s)).unwrap();
        assert_eq!(cfg["auths"]["registry.example.com"]["password"], CANARY);
        assert_eq!(
            cfg["auths"]["registry.example.com"]["auth"],
            b64(&format!("robot:{CANARY}"))
        );
        match ghcr {
            Some(pw) => assert_eq!(cfg["auths"]["ghcr.io"]["password"], pw),
            None => assert!(cfg["auths"]["ghcr.io"].is_null()),
        }
    }
}

/// team-a/default keeps `existing` and gains the Secret; team-b gets a created `default`.
fn assert_service_accounts(objs: &[Json], secret: &str) {
    let a = find(objs, "ServiceAccount", "team-a", "default");
    assert_eq!(pull_secret_names(a), ["existing", secret]);
    let b = find(objs, "ServiceAccount", "team-b", "default");
    assert_eq!(pull_secret_names(b), [secret]);
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn plugin_yaml_passes_argo_validation_and_the_validator_is_live() {
    let p = plugin();
    assert_eq!(p["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(p["metadata"]["name"], "regcred");
    assert_eq!(argv(&p["spec"]["generate"])[0], "regcred");
    assert_eq!(argv(&p["spec"]["discover"]["find"])[0], "regcred");
    // The validator rejects what Argo CD rejects.
    let mut bad = p.clone();
    bad["kind"] = "Deployment".into();
    assert!(validate_plugin(&bad).unwrap_err().contains("kind"));
    let mut bad = p.clone();
    bad["metadata"]["name"] = "".into();
    assert!(validate_plugin(&bad).unwrap_err().contains("metadata.name"));
    let mut bad = p.clone();
    bad["spec"]["generate"]["command"] = serde_json::json!([]);
    assert!(validate_plugin(&bad).unwrap_err().contains("generate"));
}

#[test]
fn announced_parameters_are_the_ones_generate_reads() {
    let p = plugin();
    let statics = p["spec"]["parameters"]["static"].as_array().unwrap();
    let by_name = |n: &str| {
        statics
            .iter()
            .find(|s| s["name"] == n)
            .unwrap_or_else(|| panic!("parameter {n} not announced"))
    };
    let mode = by_name("mode");
    assert_eq!(mode["string"], "auto");
    assert!(
        mode["tooltip"].as_str().unwrap().contains("kustomize")
            && mode["tooltip"].as_str().unwrap().contains("render")
    );
    assert_eq!(by_name("specs")["collectionType"], "array");
    for s in statics {
        assert!(s["title"].is_string() && s["tooltip"].is_string(), "{s}");
    }
}

#[test]
fn discover_matches_exactly_the_apps_with_a_spec() {
    let p = plugin();
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-discover");
    let (_, public) = age_keygen(repo.path());
    let mut apps: Vec<(PathBuf, bool)> = vec![
        (kustomize_app(&repo), true),
        (plain_app(&repo), true),
        (sops_app(&repo, &public), true),
    ];
    // A spec nested below the app path still matches.
    repo.write("apps/nested/app.yaml", APP_MANIFESTS);
    repo.write(
        "apps/nested/deploy/regcred/spec.yaml",
        &common::spec(SPEC_BODY),
    );
    apps.push((repo.path().join("apps/nested"), true));
    apps.extend(no_spec_apps(&repo).into_iter().map(|a| (a, false)));
    // A file that merely mentions the kind is not a spec.
    repo.write(
        "apps/mention/notes.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  kind: RegistryCredentials\n",
    );
    apps.push((repo.path().join("apps/mention"), false));
    for (app, expected) in &apps {
        assert_eq!(
            car.discovers(&p, app),
            *expected,
            "discover on {}",
            app.display()
        );
    }
    // The matching output names the spec file.
    let out = car.run(
        &p["spec"]["discover"]["find"],
        &apps[0].0,
        &car.env(&[], &[]),
    );
    assert_eq!(out.stdout.trim(), "regcred.yaml");
}

#[test]
fn generate_kustomize_app_prints_only_valid_manifests() {
    let p = plugin();
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-kust");
    let app = kustomize_app(&repo);
    let env = car.env(&[("GHCR_TOKEN", CANARY_ENV)], &[]);
    let out = car.generate(&p, &app, &env);
    out.assert_ok();
    let objs = manifests(&out.stdout);
    assert_secrets(&objs, "regcred", &["team-a", "team-b"], Some(CANARY_ENV));
    assert_service_accounts(&objs, "regcred");
    // The inputs pass through; the credentials file is not an object.
    find(&objs, "Namespace", "", "team-a");
    find(&objs, "Deployment", "team-b", "web");
    assert_eq!(objs.len(), 6, "{objs:#?}");
    assert!(
        !out.stdout.contains(CANARY),
        "plaintext credential on stdout"
    );
    out.assert_no_canary(CANARY_ENV);
    assert_valid(repo.path(), &out.stdout, objs.len());
    // The temporary plugin home is gone afterwards.
    let left: Vec<_> = std::fs::read_dir(car.tmp()).unwrap().collect();
    assert!(left.is_empty(), "left behind in TMPDIR: {left:?}");

    // PARAM_MODE=kustomize is the same here.
    let forced = car.generate(
        &p,
        &app,
        &car.env(
            &[("GHCR_TOKEN", CANARY_ENV)],
            &[("mode", Param::String("kustomize"))],
        ),
    );
    forced.assert_ok();
    assert_eq!(forced.stdout, out.stdout);
}

#[test]
fn generate_plain_app_prints_only_valid_manifests_and_never_the_credentials_file() {
    let p = plugin();
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-plain");
    let app = plain_app(&repo);
    let out = car.generate(&p, &app, &car.env(&[("GHCR_TOKEN", CANARY_ENV)], &[]));
    out.assert_ok();
    let objs = manifests(&out.stdout);
    assert_secrets(&objs, "regcred", &["team-a", "team-b"], Some(CANARY_ENV));
    assert_service_accounts(&objs, "regcred");
    find(&objs, "ConfigMap", "team-a", "settings");
    find(&objs, "Deployment", "team-b", "web");
    // Namespace, SA, Deployment, ConfigMap + 2 Secrets + created SA: no
    // RegistryCredentials object, no credentials file.
    assert_eq!(objs.len(), 7, "{objs:#?}");
    assert!(common::of_kind(&objs, "RegistryCredentials").is_empty());
    assert!(
        !out.stdout.contains(CANARY),
        "the credentials file reached stdout:\n{}",
        out.stdout
    );
    out.assert_no_canary(CANARY_ENV);
    assert_valid(repo.path(), &out.stdout, objs.len());

    // PARAM_MODE=render gives the same output as auto for a plain directory.
    let render = car.generate(
        &p,
        &app,
        &car.env(
            &[("GHCR_TOKEN", CANARY_ENV)],
            &[("mode", Param::String("render"))],
        ),
    );
    render.assert_ok();
    assert_eq!(render.stdout, out.stdout);
}

/// A second spec next to the app's `regcred.yaml`, for another Secret name.
fn add_team_b_spec(repo: &TempDir) {
    repo.write(
        "apps/plain/team-b.yaml",
        &common::spec(
            "  secretName: team-b-pull\n  registries:\n  - server: quay.io\n    username: bot\n    password: {env: ARGOCD_ENV_QUAY_TOKEN}\n  namespaces:\n    include: [team-b]\n",
        )
        .replace("name: regcred", "name: team-b"),
    );
}

#[test]
fn param_specs_selects_the_spec_files_of_a_plain_app() {
    let p = plugin();
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-specs");
    let app = plain_app(&repo);
    // The first spec reads a dotenv file (never an input manifest).
    std::fs::remove_file(app.join("creds/registry.yaml")).unwrap();
    repo.write(
        "apps/plain/creds/registry.env",
        &format!("PASSWORD={CANARY}\n"),
    );
    repo.write(
        "apps/plain/regcred.yaml",
        &common::spec(SPEC_BODY).replace(
            "{file: creds/registry.yaml, key: password}",
            "{file: creds/registry.env, key: PASSWORD}",
        ),
    );
    add_team_b_spec(&repo);
    let user_env = [("GHCR_TOKEN", CANARY_ENV), ("QUAY_TOKEN", "quay-pw")];

    // Default: every spec found.
    let all = car.generate(&p, &app, &car.env(&user_env, &[]));
    all.assert_ok();
    let objs = manifests(&all.stdout);
    find(&objs, "Secret", "team-b", "team-b-pull");
    find(&objs, "Secret", "team-a", "regcred");
    assert_eq!(
        pull_secret_names(find(&objs, "ServiceAccount", "team-b", "default")),
        ["regcred", "team-b-pull"]
    );
    assert_valid(repo.path(), &all.stdout, objs.len());

    // PARAM_SPECS_0 alone: only that spec renders (and the other spec file
    // is still not an output object).
    let one = car.generate(
        &p,
        &app,
        &car.env(&user_env, &[("specs", Param::Array(&["team-b.yaml"]))]),
    );
    one.assert_ok();
    let objs = manifests(&one.stdout);
    let secrets: Vec<&Json> = common::of_kind(&objs, "Secret");
    assert_eq!(secrets.len(), 1, "{secrets:#?}");
    assert_eq!(secrets[0]["metadata"]["name"], "team-b-pull");
    assert!(common::of_kind(&objs, "RegistryCredentials").is_empty());
    assert_eq!(
        pull_secret_names(find(&objs, "ServiceAccount", "team-a", "default")),
        ["existing"]
    );
    assert_valid(repo.path(), &one.stdout, objs.len());

    // Two array entries: both.
    let two = car.generate(
        &p,
        &app,
        &car.env(
            &user_env,
            &[("specs", Param::Array(&["team-b.yaml", "regcred.yaml"]))],
        ),
    );
    two.assert_ok();
    assert_eq!(common::of_kind(&manifests(&two.stdout), "Secret").len(), 3);

    // An unknown mode fails closed.
    let bad = car.generate(
        &p,
        &app,
        &car.env(&user_env, &[("mode", Param::String("helm"))]),
    );
    assert_ne!(bad.code, 0);
    assert_eq!(bad.stdout, "");
    assert!(bad.stderr.contains("PARAM_MODE"), "{}", bad.stderr);
}

/// With `PARAM_SPECS_0` naming one spec, the other spec file in the
/// directory is still configuration (dropped from the output), and so is
/// the credentials file it references: it must neither be emitted nor make
/// generate fail as "not a Kubernetes resource".
#[test]
fn param_specs_subset_still_treats_the_other_specs_credentials_as_configuration() {
    let p = plugin();
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-specs-subset");
    let app = plain_app(&repo);
    add_team_b_spec(&repo);
    let out = car.generate(
        &p,
        &app,
        &car.env(
            &[("QUAY_TOKEN", "quay-pw")],
            &[("specs", Param::Array(&["team-b.yaml"]))],
        ),
    );
    out.assert_ok();
    let objs = manifests(&out.stdout);
    assert_eq!(common::of_kind(&objs, "Secret").len(), 1);
    out.assert_no_canary(CANARY);
}

#[test]
fn generate_sops_app_decrypts_with_the_age_key_from_argocd_env() {
    let p = plugin();
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-sops");
    let (key, public) = age_keygen(repo.path());
    let app = sops_app(&repo, &public);
    let key_file = key.display().to_string();
    let env = car.env(&[("SOPS_AGE_KEY_FILE", &key_file)], &[]);
    assert!(
        env.iter()
            .any(|(k, v)| k == "ARGOCD_ENV_SOPS_AGE_KEY_FILE" && v == &key_file)
    );
    let out = car.generate(&p, &app, &env);
    out.assert_ok();
    let objs = manifests(&out.stdout);
    assert_secrets(&objs, "regcred", &["team-a", "team-b"], None);
    assert_service_accounts(&objs, "regcred");
    // The encrypted file is not an output object either.
    assert!(!out.stdout.contains("sops:"), "{}", out.stdout);
    assert_eq!(objs.len(), 6, "{objs:#?}");
    out.assert_no_canary(CANARY);
    assert_valid(repo.path(), &out.stdout, objs.len());

    // Without the key: non-zero, nothing on stdout, the field named.
    let none = car.generate(&p, &app, &car.env(&[], &[]));
    assert_ne!(none.code, 0);
    assert_eq!(none.stdout, "");
    assert!(
        none.stderr.contains("spec.registries[0].password"),
        "{}",
        none.stderr
    );
    none.assert_no_canary(CANARY);
}

/// A `.sops.yaml` (sops' creation rules, which `regcred encrypt` itself
/// reads) routinely sits next to encrypted files; it is configuration, not
/// a manifest, and must not break generate.
#[test]
fn generate_sops_app_with_a_sops_config_file() {
    let p = plugin();
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-sops-config");
    let (key, public) = age_keygen(repo.path());
    let app = sops_app(&repo, &public);
    repo.write(
        "apps/sops/.sops.yaml",
        &format!("creation_rules:\n- path_regex: creds/.*\n  age: {public}\n"),
    );
    let key_file = key.display().to_string();
    let out = car.generate(&p, &app, &car.env(&[("SOPS_AGE_KEY_FILE", &key_file)], &[]));
    out.assert_ok();
    let objs = manifests(&out.stdout);
    assert_secrets(&objs, "regcred", &["team-a", "team-b"], None);
}

#[test]
fn generate_failure_prints_nothing_and_names_the_field_without_leaking() {
    let p = plugin();
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-fail");
    let kust = kustomize_app(&repo);
    let plain = plain_app(&repo);
    // The canary credential file resolves fine; ARGOCD_ENV_GHCR_TOKEN is unset.
    for app in [&kust, &plain] {
        let out = car.generate(&p, app, &car.env(&[("OTHER", CANARY_ENV)], &[]));
        assert_ne!(out.code, 0, "{}: {}", app.display(), out.stdout);
        assert_eq!(out.stdout, "", "{}: stdout on failure", app.display());
        assert!(
            out.stderr.contains("spec.registries[1].password")
                && out.stderr.contains("ARGOCD_ENV_GHCR_TOKEN"),
            "{}: {}",
            app.display(),
            out.stderr
        );
        out.assert_no_canary(CANARY);
        out.assert_no_canary(CANARY_ENV);
    }
    // A missing credentials file: same contract.
    std::fs::remove_file(plain.join("creds/registry.yaml")).unwrap();
    let out = car.generate(&p, &plain, &car.env(&[("GHCR_TOKEN", CANARY_ENV)], &[]));
    assert_ne!(out.code, 0);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("spec.registries[0].password.file"),
        "{}",
        out.stderr
    );
    out.assert_no_canary(CANARY_ENV);
}

#[test]
fn generate_fails_closed_on_an_unreferenced_non_resource_yaml() {
    let p = plugin();
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-stray");
    let app = plain_app(&repo);
    // Someone else's credentials, not referenced by the spec.
    repo.write(
        "apps/plain/manifests/leftover-creds.yaml",
        &format!("token: {CANARY}-other\n"),
    );
    let out = car.generate(&p, &app, &car.env(&[("GHCR_TOKEN", CANARY_ENV)], &[]));
    assert_ne!(out.code, 0);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("leftover-creds.yaml")
            && out.stderr.contains("not a Kubernetes resource"),
        "{}",
        out.stderr
    );
    out.assert_no_canary(CANARY);
    out.assert_no_canary(CANARY_ENV);
}

#[test]
fn generate_without_a_spec_fails_instead_of_printing_nothing() {
    // Argo only calls generate on discovered apps, but an explicitly named
    // plugin runs anywhere: empty output would prune the app.
    let p = plugin();
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-nospec");
    let app = &no_spec_apps(&repo)[0];
    let out = car.generate(&p, app, &car.env(&[], &[]));
    assert_ne!(out.code, 0);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("RegistryCredentials"), "{}", out.stderr);
}

/// Argo CD applies namespace-less namespaced objects into the destination
/// namespace (`ARGOCD_APP_NAMESPACE`); the pull Secret and the patched
/// ServiceAccount must land there too, or the Deployment cannot pull.
#[test]
fn namespace_less_app_gets_credentials_in_the_destination_namespace() {
    let p = plugin();
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-destns");
    repo.write(
        "apps/dest/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: registry.example.com/web:1.0\n",
    );
    repo.write(
        "apps/dest/regcred.yaml",
        &common::spec(
            "  registries:\n  - server: registry.example.com\n    username: robot\n    password: {env: ARGOCD_ENV_PW}\n",
        ),
    );
    let app = repo.path().join("apps/dest");
    let out = car.generate(&p, &app, &car.env(&[("PW", CANARY_ENV)], &[]));
    out.assert_ok();
    let objs = manifests(&out.stdout);
    // ARGOCD_APP_NAMESPACE is shop-prod; a namespace-less Secret also lands there.
    let secrets: Vec<&Json> = common::of_kind(&objs, "Secret");
    assert!(
        secrets
            .iter()
            .any(|s| s["metadata"]["namespace"].is_null()
                || s["metadata"]["namespace"] == "shop-prod"),
        "no pull Secret for the destination namespace shop-prod:\n{}\nstderr: {}",
        out.stdout,
        out.stderr
    );
}

/// A broken spec file is reported as such, not as "no spec".
#[test]
fn generate_reports_a_spec_with_invalid_yaml() {
    let p = plugin();
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-badspec");
    let app = plain_app(&repo);
    repo.write(
        "apps/plain/regcred.yaml",
        &common::spec(SPEC_BODY).replace("  registries:\n", "  registries:\n  registries:\n"),
    );
    let out = car.generate(&p, &app, &car.env(&[("GHCR_TOKEN", CANARY_ENV)], &[]));
    assert_ne!(out.code, 0);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("regcred.yaml"), "{}", out.stderr);
}

#[test]
fn kubernetes_validate_is_live() {
    let dir = TempDir::new("cmp-validate");
    let broken = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n  namespace: a\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: e30=\nimagePullSecrets: []\n";
    let out = kubernetes_validate(dir.path(), "broken.yaml", broken);
    assert_ne!(out.code, 0, "--strict accepted an unknown field");
    let good = broken.replace("imagePullSecrets: []\n", "");
    let out = kubernetes_validate(dir.path(), "good.yaml", &good);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}
