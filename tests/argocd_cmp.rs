//! Argo CD config-management plugin (CMP v2 sidecar), run for real. Argo
//! CD v3.6.1's own `argocd-cmp-server` serves the repository's
//! `plugin.yaml` with regcred on its PATH. `argocd-repo-server-driver`
//! (tests/argocd-cmp-client) calls it over its Unix socket with Argo CD's
//! gRPC client and the repo-server's own code: discovery
//! (`MatchRepository`, and source type detection for an Application without
//! a plugin block), parameter announcements, and `GenerateManifests`, which
//! builds the plugin environment (`ARGOCD_APP_*`, `KUBE_*`, `ARGOCD_ENV_*`,
//! `PARAM_*`), streams the repository as a tarball and decodes what regcred
//! printed. scripts/install-test-tools builds both. The manifests must pass
//! `kubernetes-validate --strict` for the cluster version the request
//! announces, and neither the repo-server's errors nor the sidecar's log may
//! carry a credential.

use crate::common::{self, Out, TempDir, tool};
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KUBE_VERSION: &str = "1.32.4";
const KUBE_API_VERSIONS: &str = "admissionregistration.k8s.io/v1,apps/v1,autoscaling/v2,batch/v1,networking.k8s.io/v1,policy/v1,rbac.authorization.k8s.io/v1,storage.k8s.io/v1,v1";
const REVISION: &str = "0123456789abcdef0123456789abcdef01234567";
const REPO_URL: &str = "https://git.example.com/platform/deploy.git";
const CANARY: &str = "CANARY-cmp-9d41e7-pw";
const CANARY_ENV: &str = "CANARY-cmp-env-77aa";
/// `metadata.name` in plugin.yaml: the socket is `<name>.sock`.
const PLUGIN: &str = "regcred";
/// Argo CD's default tracking: an annotation naming the Application.
const TRACKING: &str = "argocd.argoproj.io/tracking-id";

// ---------------------------------------------------------------------------
// The sidecar and the repo-server
// ---------------------------------------------------------------------------

/// `plugin.yaml` at the repository root, as the sidecar mounts it.
fn plugin_yaml() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/plugin.yaml");
    std::fs::read_to_string(path).expect("plugin.yaml at the repository root")
}

/// An Application parameter value.
enum Param<'a> {
    String(&'a str),
    Array(&'a [&'a str]),
}

/// The sidecar container: `argocd-cmp-server` with `plugin.yaml` in its
/// config dir, its socket in `plugins/`, and an environment of its own
/// (regcred first on PATH, then the machine's PATH for kubectl; HOME,
/// TMPDIR), as the sidecar recipe sets it up.
struct Sidecar {
    root: TempDir,
    server: Child,
}

impl Sidecar {
    fn new() -> Self {
        Self::start(&plugin_yaml()).unwrap_or_else(|log| panic!("argocd-cmp-server exited:\n{log}"))
    }

    /// Starts the server with `config` as plugin.yaml and waits for its
    /// socket; `Err` holds the server's log if it exits first.
    fn start(config: &str) -> Result<Self, String> {
        Self::start_with(config, &[])
    }

    /// `start`, with `env` added to the sidecar container's environment.
    fn start_with(config: &str, env: &[(&str, &Path)]) -> Result<Self, String> {
        let root = TempDir::new("cmp-sidecar");
        for dir in ["bin", "home", "tmp", "work", "plugins"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        std::os::unix::fs::symlink(common::bin(), root.path().join("bin/regcred")).unwrap();
        root.write("config/plugin.yaml", config);
        let log = std::fs::File::create(root.path().join("server.log")).unwrap();
        let real_path = std::env::var("PATH").unwrap_or_default();
        let server = Command::new(tool("argocd-cmp-server"))
            .arg("--config-dir-path")
            .arg(root.path().join("config"))
            .args(["--logformat", "text"])
            .env_clear()
            .env(
                "PATH",
                format!("{}:{real_path}", root.path().join("bin").display()),
            )
            .env("HOME", root.path().join("home"))
            .env("TMPDIR", root.path().join("tmp"))
            .env("ARGOCD_CMP_WORKDIR", root.path().join("work"))
            .env("ARGOCD_PLUGINSOCKFILEPATH", root.path().join("plugins"))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start argocd-cmp-server");
        let mut car = Sidecar { root, server };
        car.wait_for_socket()?;
        Ok(car)
    }

    fn socket(&self) -> PathBuf {
        self.root.path().join(format!("plugins/{PLUGIN}.sock"))
    }

    fn wait_for_socket(&mut self) -> Result<(), String> {
        let socket = self.socket();
        assert!(
            socket.as_os_str().len() < 108,
            "the socket path {} is too long for a Unix socket: use a shorter CARGO_TARGET_DIR",
            socket.display()
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        while !socket.exists() {
            if self.server.try_wait().unwrap().is_some() {
                return Err(self.log());
            }
            assert!(
                Instant::now() < deadline,
                "argocd-cmp-server did not open {} within 60s:\n{}",
                socket.display(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// What the sidecar logged (Argo CD logs each command, and its stderr).
    fn log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("server.log")).unwrap_or_default()
    }

    /// The sidecar's TMPDIR, where regcred keeps its temporary files.
    fn tmp(&self) -> PathBuf {
        self.root.path().join("tmp")
    }

    /// Runs the repo-server driver (`generate`, `match` or `parameters`)
    /// on `request`. The sidecar's log must not hold a canary afterwards.
    fn call(&self, what: &str, request: &Json) -> Out {
        let out = common::run(
            Command::new(tool("argocd-repo-server-driver"))
                .arg(what)
                .env(
                    "ARGOCD_PLUGINSOCKFILEPATH",
                    self.root.path().join("plugins"),
                ),
            &request.to_string(),
        );
        let log = self.log();
        for canary in [CANARY, CANARY_ENV] {
            assert!(
                !log.contains(canary),
                "canary in argocd-cmp-server's log:\n{log}"
            );
        }
        out
    }

    /// `GenerateManifests` for an Application naming the plugin, with
    /// `user_env` as its `plugin.env` and `params` as its parameters.
    fn generate(
        &self,
        repo: &TempDir,
        app: &Path,
        user_env: &[(&str, &str)],
        params: &[(&str, Param)],
    ) -> Out {
        self.call(
            "generate",
            &request(repo, app, Some(plugin_source(user_env, params))),
        )
    }

    /// The sidecar's discovery answer for `app`, and the source type the
    /// repo-server detects for it.
    fn matches(&self, repo: &TempDir, app: &Path) -> Json {
        let out = self.call("match", &request(repo, app, Some(plugin_source(&[], &[]))));
        out.assert_ok();
        serde_json::from_str(&out.stdout).unwrap()
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// An Application's `spec.source.plugin`.
fn plugin_source(user_env: &[(&str, &str)], params: &[(&str, Param)]) -> Json {
    let env: Vec<Json> = user_env
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    let parameters: Vec<Json> = params
        .iter()
        .map(|(name, value)| match value {
            Param::String(s) => json!({"name": name, "string": s}),
            Param::Array(a) => json!({"name": name, "array": a}),
        })
        .collect();
    json!({"name": PLUGIN, "env": env, "parameters": parameters})
}

/// The Application `shop` (project `default`, destination namespace
/// `shop-prod`) whose source is `app` in `repo`, as the repo-server's
/// request for it.
fn request(repo: &TempDir, app: &Path, plugin: Option<Json>) -> Json {
    let path = app.strip_prefix(repo.path()).expect("app inside the repo");
    let mut application = json!({
        "metadata": {"name": "shop"},
        "spec": {
            "project": "default",
            "source": {"repoURL": REPO_URL, "path": path, "targetRevision": "HEAD"},
            "destination": {"namespace": "shop-prod"},
        }
    });
    if let Some(p) = plugin {
        application["spec"]["source"]["plugin"] = p;
    }
    manifest_request(repo.path(), &application)
}

/// The `ManifestRequest` the application controller sends the repo-server
/// for `application` (an Argo CD Application as JSON), with Argo CD's
/// default annotation tracking, checked out at `repo`.
fn manifest_request(repo: &Path, application: &Json) -> Json {
    let spec = &application["spec"];
    json!({
        "repoRoot": repo,
        "revision": REVISION,
        "request": {
            "repo": {"repo": spec["source"]["repoURL"]},
            "appName": application["metadata"]["name"],
            "namespace": spec["destination"]["namespace"],
            "projectName": spec["project"],
            "appLabelKey": "app.kubernetes.io/instance",
            "trackingMethod": "annotation",
            "kubeVersion": KUBE_VERSION,
            "apiVersions": KUBE_API_VERSIONS.split(',').collect::<Vec<_>>(),
            "applicationSource": spec["source"],
        }
    })
}

/// The objects the repo-server returns for a plugin source; `out` must be
/// a success.
fn manifests(out: &Out) -> Vec<Json> {
    out.assert_ok();
    let resp: Json = serde_json::from_str(&out.stdout).expect("driver prints JSON");
    assert_eq!(resp["sourceType"], "Plugin", "{}", out.stdout);
    let objects = resp["manifests"].as_array().unwrap().clone();
    assert!(!objects.is_empty(), "the plugin generated nothing");
    for o in &objects {
        for (what, v) in [
            ("apiVersion", &o["apiVersion"]),
            ("kind", &o["kind"]),
            ("metadata.name", &o["metadata"]["name"]),
        ] {
            assert!(
                v.as_str().is_some_and(|s| !s.is_empty()),
                "{what} missing in {o}"
            );
        }
    }
    objects
}

/// The generated objects as one YAML stream (JSON documents).
fn stream(objs: &[Json]) -> String {
    objs.iter()
        .map(|o| serde_json::to_string_pretty(o).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// A repo-server error: non-zero, nothing on stdout, the error as Argo CD
/// reports it on the Application.
fn assert_failed(out: &Out) {
    assert_ne!(out.code, 0, "expected a failure, got:\n{}", out.stdout);
    assert_eq!(out.stdout, "", "manifests despite the failure");
    assert!(
        out.stderr
            .contains("CMP processing failed for application \"shop\"")
            && out
                .stderr
                .contains("`regcred cmp generate` failed exit status 1"),
        "not the plugin's failure: {}",
        out.stderr
    );
}

/// `kubernetes-validate --strict` for the announced cluster version.
fn kubernetes_validate(dir: &Path, name: &str, text: &str) -> Out {
    common::kubernetes_validate(dir, name, text, KUBE_VERSION)
}

fn assert_valid(dir: &Path, objs: &[Json]) {
    common::assert_kubernetes_valid(
        dir,
        "generated.yaml",
        &stream(objs),
        KUBE_VERSION,
        objs.len(),
    );
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
fn the_server_serves_plugin_yaml_and_refuses_a_broken_one() {
    let car = Sidecar::new();
    assert!(car.socket().exists());
    // Argo CD's own ValidatePluginConfig runs at start-up: a broken file
    // stops the server with its message, so the good one really passed.
    for (broken, message) in [
        (
            plugin_yaml().replace("kind: ConfigManagementPlugin", "kind: Deployment"),
            "kind should be ConfigManagementPlugin",
        ),
        (
            plugin_yaml().replace("command: [regcred, cmp, generate]", "command: []"),
            "spec.generate command should be non-empty",
        ),
    ] {
        match Sidecar::start(&broken) {
            Ok(_) => panic!("argocd-cmp-server accepted:\n{broken}"),
            Err(log) => assert!(log.contains(message), "{log}"),
        }
    }
}

#[test]
fn announced_parameters_are_the_ones_generate_reads() {
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-params");
    let app = plain_app(&repo);
    let out = car.call(
        "parameters",
        &request(&repo, &app, Some(plugin_source(&[], &[]))),
    );
    out.assert_ok();
    let announced: Json = serde_json::from_str(&out.stdout).unwrap();
    let announced = announced.as_array().unwrap();
    let names: Vec<&str> = announced
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mode", "specs"]);
    let mode = &announced[0];
    assert_eq!(mode["string"], "auto");
    let tooltip = mode["tooltip"].as_str().unwrap();
    assert!(
        tooltip.contains("kustomize") && tooltip.contains("render"),
        "{tooltip}"
    );
    assert_eq!(announced[1]["collectionType"], "array");
    for a in announced {
        assert!(a["title"].is_string() && a["tooltip"].is_string(), "{a}");
    }
}

#[test]
fn discover_matches_exactly_the_apps_with_a_spec() {
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-discover");
    let (_, public) = age_keygen(repo.path());
    let mut apps: Vec<(PathBuf, &str)> = vec![
        (kustomize_app(&repo), "Plugin"),
        (plain_app(&repo), "Plugin"),
        (sops_app(&repo, &public), "Plugin"),
    ];
    // A spec nested below the app path still matches.
    repo.write("apps/nested/app.yaml", APP_MANIFESTS);
    repo.write(
        "apps/nested/deploy/regcred/spec.yaml",
        &common::spec(SPEC_BODY),
    );
    apps.push((repo.path().join("apps/nested"), "Plugin"));
    // Without a spec, Argo CD falls back to its own source types.
    let no_spec = no_spec_apps(&repo);
    apps.push((no_spec[0].clone(), "Directory"));
    apps.push((no_spec[1].clone(), "Kustomize"));
    // A file that merely mentions the kind is not a spec.
    repo.write(
        "apps/mention/notes.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  kind: RegistryCredentials\n",
    );
    apps.push((repo.path().join("apps/mention"), "Directory"));
    for (app, source_type) in &apps {
        let answer = car.matches(&repo, app);
        let expected = *source_type == "Plugin";
        assert_eq!(
            answer,
            json!({
                "isDiscoveryConfigured": true,
                "isSupported": expected,
                "isDiscoveryEnabled": true,
                "sourceType": source_type,
            }),
            "discovery of {}\n{}",
            app.display(),
            car.log()
        );
    }
    // The match names the spec file (Argo CD only checks it is non-empty).
    let out = common::run(
        common::regcred()
            .args(["cmp", "discover"])
            .current_dir(&apps[0].0),
        "",
    );
    assert_eq!(out.stdout.trim(), "regcred.yaml");
}

#[test]
fn an_application_without_a_plugin_block_is_discovered_and_rendered() {
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-auto");
    let app = plain_app(&repo);
    // No plugin block, so no ARGOCD_ENV_*: the spec reads only its file.
    repo.write(
        "apps/plain/regcred.yaml",
        &common::spec(
            "  registries:\n  - server: registry.example.com\n    username: robot\n    password: {file: creds/registry.yaml, key: password}\n",
        ),
    );
    let out = car.call("generate", &request(&repo, &app, None));
    let objs = manifests(&out);
    assert_secrets(&objs, "regcred", &["team-a", "team-b"], None);
    assert_service_accounts(&objs, "regcred");
    assert_valid(repo.path(), &objs);
}

#[test]
fn generate_kustomize_app_returns_only_valid_manifests() {
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-kust");
    let app = kustomize_app(&repo);
    let out = car.generate(&repo, &app, &[("GHCR_TOKEN", CANARY_ENV)], &[]);
    let objs = manifests(&out);
    assert_secrets(&objs, "regcred", &["team-a", "team-b"], Some(CANARY_ENV));
    assert_service_accounts(&objs, "regcred");
    // The inputs pass through; the credentials file is not an object.
    find(&objs, "Namespace", "", "team-a");
    find(&objs, "Deployment", "team-b", "web");
    assert_eq!(objs.len(), 6, "{objs:#?}");
    assert!(
        !out.stdout.contains(CANARY),
        "plaintext credential in the manifests"
    );
    out.assert_no_canary(CANARY_ENV);
    assert_valid(repo.path(), &objs);
    // Argo CD tracks every object, the generated ones included.
    for o in &objs {
        let id = o["metadata"]["annotations"][TRACKING].as_str();
        assert!(
            id.is_some_and(|id| id.starts_with("shop:")),
            "untracked: {o}"
        );
    }
    // The temporary plugin home is gone afterwards.
    let left: Vec<_> = std::fs::read_dir(car.tmp()).unwrap().collect();
    assert!(left.is_empty(), "left behind in TMPDIR: {left:?}");

    // The parameter mode=kustomize (PARAM_MODE) is the same here.
    let forced = car.generate(
        &repo,
        &app,
        &[("GHCR_TOKEN", CANARY_ENV)],
        &[("mode", Param::String("kustomize"))],
    );
    forced.assert_ok();
    assert_eq!(forced.stdout, out.stdout);
}

#[test]
fn generate_plain_app_returns_only_valid_manifests_and_never_the_credentials_file() {
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-plain");
    let app = plain_app(&repo);
    let out = car.generate(&repo, &app, &[("GHCR_TOKEN", CANARY_ENV)], &[]);
    let objs = manifests(&out);
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
        "the credentials file reached the manifests:\n{}",
        out.stdout
    );
    out.assert_no_canary(CANARY_ENV);
    assert_valid(repo.path(), &objs);

    // The parameter mode=render gives the same output as auto here.
    let render = car.generate(
        &repo,
        &app,
        &[("GHCR_TOKEN", CANARY_ENV)],
        &[("mode", Param::String("render"))],
    );
    render.assert_ok();
    assert_eq!(render.stdout, out.stdout);
}

/// Argo CD expands `$VAR` in plugin env values against the build
/// environment before it prefixes them with `ARGOCD_ENV_`.
#[test]
fn plugin_env_values_reach_regcred_after_argo_expands_them() {
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-envsubst");
    let app = plain_app(&repo);
    let out = car.generate(
        &repo,
        &app,
        &[(
            "GHCR_TOKEN",
            "$ARGOCD_APP_NAME-${ARGOCD_APP_REVISION_SHORT}",
        )],
        &[],
    );
    let objs = manifests(&out);
    assert_secrets(
        &objs,
        "regcred",
        &["team-a", "team-b"],
        Some("shop-0123456"),
    );
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
    let objs = manifests(&car.generate(&repo, &app, &user_env, &[]));
    find(&objs, "Secret", "team-b", "team-b-pull");
    find(&objs, "Secret", "team-a", "regcred");
    assert_eq!(
        pull_secret_names(find(&objs, "ServiceAccount", "team-b", "default")),
        ["regcred", "team-b-pull"]
    );
    assert_valid(repo.path(), &objs);

    // specs: [team-b.yaml] (PARAM_SPECS_0) alone: only that spec renders,
    // and the other spec file is still not an output object.
    let objs = manifests(&car.generate(
        &repo,
        &app,
        &user_env,
        &[("specs", Param::Array(&["team-b.yaml"]))],
    ));
    let secrets: Vec<&Json> = common::of_kind(&objs, "Secret");
    assert_eq!(secrets.len(), 1, "{secrets:#?}");
    assert_eq!(secrets[0]["metadata"]["name"], "team-b-pull");
    assert!(common::of_kind(&objs, "RegistryCredentials").is_empty());
    assert_eq!(
        pull_secret_names(find(&objs, "ServiceAccount", "team-a", "default")),
        ["existing"]
    );
    assert_valid(repo.path(), &objs);

    // Two array entries: both.
    let objs = manifests(&car.generate(
        &repo,
        &app,
        &user_env,
        &[("specs", Param::Array(&["team-b.yaml", "regcred.yaml"]))],
    ));
    assert_eq!(common::of_kind(&objs, "Secret").len(), 3);

    // An unknown mode fails closed.
    let bad = car.generate(&repo, &app, &user_env, &[("mode", Param::String("helm"))]);
    assert_failed(&bad);
    assert!(bad.stderr.contains("PARAM_MODE"), "{}", bad.stderr);
}

/// With `specs: [team-b.yaml]`, the other spec file in the directory is
/// still configuration (dropped from the output), and so is the
/// credentials file it references: it must neither be emitted nor make
/// generate fail as "not a Kubernetes resource".
#[test]
fn param_specs_subset_still_treats_the_other_specs_credentials_as_configuration() {
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-specs-subset");
    let app = plain_app(&repo);
    add_team_b_spec(&repo);
    let out = car.generate(
        &repo,
        &app,
        &[("QUAY_TOKEN", "quay-pw")],
        &[("specs", Param::Array(&["team-b.yaml"]))],
    );
    assert_eq!(common::of_kind(&manifests(&out), "Secret").len(), 1);
    out.assert_no_canary(CANARY);
}

#[test]
fn generate_sops_app_decrypts_with_the_age_key_from_the_plugin_env() {
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-sops");
    let (key, public) = age_keygen(repo.path());
    let app = sops_app(&repo, &public);
    let key_file = key.display().to_string();
    // plugin.env SOPS_AGE_KEY_FILE arrives as ARGOCD_ENV_SOPS_AGE_KEY_FILE.
    let out = car.generate(&repo, &app, &[("SOPS_AGE_KEY_FILE", &key_file)], &[]);
    let objs = manifests(&out);
    assert_secrets(&objs, "regcred", &["team-a", "team-b"], None);
    assert_service_accounts(&objs, "regcred");
    // The encrypted file is not an output object either.
    assert!(!out.stdout.contains("sops"), "{}", out.stdout);
    assert_eq!(objs.len(), 6, "{objs:#?}");
    out.assert_no_canary(CANARY);
    assert_valid(repo.path(), &objs);

    // Without the key: a failure naming the field.
    let none = car.generate(&repo, &app, &[], &[]);
    assert_failed(&none);
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
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-sops-config");
    let (key, public) = age_keygen(repo.path());
    let app = sops_app(&repo, &public);
    repo.write(
        "apps/sops/.sops.yaml",
        &format!("creation_rules:\n- path_regex: creds/.*\n  age: {public}\n"),
    );
    let key_file = key.display().to_string();
    let out = car.generate(&repo, &app, &[("SOPS_AGE_KEY_FILE", &key_file)], &[]);
    assert_secrets(&manifests(&out), "regcred", &["team-a", "team-b"], None);
}

#[test]
fn generate_failure_reaches_argo_with_the_field_and_without_a_secret() {
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-fail");
    let kust = kustomize_app(&repo);
    let plain = plain_app(&repo);
    // The canary credential file resolves fine; ARGOCD_ENV_GHCR_TOKEN is unset.
    for app in [&kust, &plain] {
        let out = car.generate(&repo, app, &[("OTHER", CANARY_ENV)], &[]);
        assert_failed(&out);
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
    // Argo CD logs the failing command's stderr: regcred's message is there.
    assert!(car.log().contains("ARGOCD_ENV_GHCR_TOKEN"), "{}", car.log());
    // A missing credentials file: same contract.
    std::fs::remove_file(plain.join("creds/registry.yaml")).unwrap();
    let out = car.generate(&repo, &plain, &[("GHCR_TOKEN", CANARY_ENV)], &[]);
    assert_failed(&out);
    assert!(
        out.stderr.contains("spec.registries[0].password.file"),
        "{}",
        out.stderr
    );
    out.assert_no_canary(CANARY_ENV);
}

#[test]
fn generate_fails_closed_on_an_unreferenced_non_resource_yaml() {
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-stray");
    let app = plain_app(&repo);
    // Someone else's credentials, not referenced by the spec.
    repo.write(
        "apps/plain/manifests/leftover-creds.yaml",
        &format!("token: {CANARY}-other\n"),
    );
    let out = car.generate(&repo, &app, &[("GHCR_TOKEN", CANARY_ENV)], &[]);
    assert_failed(&out);
    assert!(
        out.stderr.contains("leftover-creds.yaml")
            && out.stderr.contains("not a Kubernetes resource"),
        "{}",
        out.stderr
    );
    out.assert_no_canary(CANARY);
    out.assert_no_canary(CANARY_ENV);
}

/// An app without a spec never reaches generate, even when the
/// Application names the plugin: Argo CD runs discovery first. With
/// discovery removed from plugin.yaml (a variant some users deploy), a named
/// plugin runs anywhere, and regcred must fail rather than return nothing,
/// which would prune the app.
#[test]
fn generate_without_a_spec_fails_instead_of_returning_nothing() {
    let repo = TempDir::new("cmp-nospec");
    let app = &no_spec_apps(&repo)[0];
    let out = Sidecar::new().generate(&repo, app, &[], &[]);
    assert_ne!(out.code, 0);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains(
            "could not find cmp-server plugin with name \"regcred\" supporting the given repository"
        ),
        "{}",
        out.stderr
    );

    let config = plugin_yaml();
    let discover = config.find("  discover:").unwrap();
    let generate = config.find("  generate:").unwrap();
    let without_discovery = format!("{}{}", &config[..discover], &config[generate..]);
    let car = Sidecar::start(&without_discovery).unwrap_or_else(|log| panic!("{log}"));
    let out = car.generate(&repo, app, &[], &[]);
    assert_failed(&out);
    assert!(out.stderr.contains("RegistryCredentials"), "{}", out.stderr);
}

/// Argo CD applies namespace-less namespaced objects into the destination
/// namespace (`ARGOCD_APP_NAMESPACE`); the pull Secret and the patched
/// ServiceAccount must land there too, or the Deployment cannot pull.
#[test]
fn namespace_less_app_gets_credentials_in_the_destination_namespace() {
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
    let out = car.generate(&repo, &app, &[("PW", CANARY_ENV)], &[]);
    let objs = manifests(&out);
    // The request's destination namespace is shop-prod.
    let secrets: Vec<&Json> = common::of_kind(&objs, "Secret");
    assert!(
        secrets
            .iter()
            .any(|s| s["metadata"]["namespace"].is_null()
                || s["metadata"]["namespace"] == "shop-prod"),
        "no pull Secret for the destination namespace shop-prod:\n{}",
        out.stdout
    );
}

/// A broken spec file is reported as such, not as "no spec".
#[test]
fn generate_reports_a_spec_with_invalid_yaml() {
    let car = Sidecar::new();
    let repo = TempDir::new("cmp-badspec");
    let app = plain_app(&repo);
    repo.write(
        "apps/plain/regcred.yaml",
        &common::spec(SPEC_BODY).replace("  registries:\n", "  registries:\n  registries:\n"),
    );
    let out = car.generate(&repo, &app, &[("GHCR_TOKEN", CANARY_ENV)], &[]);
    assert_failed(&out);
    assert!(out.stderr.contains("regcred.yaml"), "{}", out.stderr);
}

/// examples/argocd-cmp as its README deploys it: the Application in
/// argocd/application.yaml (mode `render`), the age key from the sidecar's
/// `SOPS_AGE_KEY_FILE` as repo-server-patch.yaml sets it. Argo CD gets the
/// example's expected.yaml, plus its own tracking annotation.
#[test]
fn the_argocd_cmp_example_renders_its_expected_output() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/argocd-cmp");
    let key = example.join("demo-age-key.txt");
    let car = Sidecar::start_with(&plugin_yaml(), &[("SOPS_AGE_KEY_FILE", &key)])
        .unwrap_or_else(|log| panic!("{log}"));
    let text = std::fs::read_to_string(example.join("argocd/application.yaml")).unwrap();
    let mut application = common::yaml12(&text).remove(0);
    assert_eq!(application["spec"]["source"]["plugin"]["name"], PLUGIN);
    // The Application's repo keeps the app at `storefront`; here it is `app`.
    application["spec"]["source"]["path"] = "app".into();
    let out = car.call("generate", &manifest_request(&example, &application));
    let mut objs = manifests(&out);
    for o in &mut objs {
        let annotations = o["metadata"]["annotations"].as_object_mut().unwrap();
        let id = annotations.remove(TRACKING).unwrap();
        assert!(id.as_str().unwrap().starts_with("storefront:"), "{id}");
        if annotations.is_empty() {
            o["metadata"].as_object_mut().unwrap().remove("annotations");
        }
    }
    let expected = std::fs::read_to_string(example.join("expected.yaml")).unwrap();
    assert_eq!(objs, common::yaml12(&expected));
    assert_valid(car.root.path(), &objs);
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
