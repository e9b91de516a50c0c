//! The Argo CD recipe of examples/argocd-kustomize (regcred as a KRM exec
//! function of Argo CD's own kustomize, no sidecar), with its kustomize half
//! run for real. The recipe's patches are applied to Argo CD's real
//! install.yaml with the real `kubectl kustomize`. A repo-server is then
//! laid out as the patched Deployment describes it: the init container's
//! command run, the volumes mounted (as symlinks under a root directory),
//! the container's environment. In it runs the command
//! util/kustomize/kustomize.go runs: `kustomize build <app path>` plus
//! argocd-cm's `kustomize.buildOptions`, from the repository root, with
//! the build environment of reposerver/repository/repository.go `newEnv`
//! and the kustomize Argo CD 3.6 ships (v5.8.1, hack/tool-versions.sh).

use crate::common::{self, Out, TempDir, run, tool};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const EXAMPLE: &str = "examples/argocd-kustomize";
const REVISION: &str = "0123456789abcdef0123456789abcdef01234567";
/// The demo token the example's age file holds.
const DEMO_TOKEN: &str = "demo-only-not-a-real-token";

fn example(rel: &str) -> PathBuf {
    Path::new(ROOT).join(EXAMPLE).join(rel)
}

/// Argo CD's install.yaml with the recipe's two patches, built by the real
/// `kubectl kustomize` once for all the tests here (it takes seconds).
fn patched_install() -> &'static [Json] {
    static DOCS: std::sync::OnceLock<Vec<Json>> = std::sync::OnceLock::new();
    DOCS.get_or_init(build_patched_install)
}

fn build_patched_install() -> Vec<Json> {
    common::yaml12(&common::argo_cd_install_with(
        &example("argocd"),
        &[],
        &["argocd-cm-patch.yaml", "repo-server-patch.yaml"],
    ))
}

fn object<'a>(docs: &'a [Json], kind: &str, name: &str) -> &'a Json {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn named<'a>(list: &'a Json, name: &str) -> &'a Json {
    list.as_array()
        .and_then(|l| l.iter().find(|x| x["name"] == name))
        .unwrap_or_else(|| panic!("nothing named {name} in {list}"))
}

fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// The repo-server's pod spec and argocd-cm's build options, patched.
fn recipe() -> (Json, Vec<String>) {
    let docs = patched_install();
    let pod = object(docs, "Deployment", "argocd-repo-server")["spec"]["template"]["spec"].clone();
    let cm = object(docs, "ConfigMap", "argocd-cm");
    let options = cm["data"]["kustomize.buildOptions"]
        .as_str()
        .expect("argocd-cm has kustomize.buildOptions");
    // util/kustomize: strings.Fields(buildOptions), after `build <path>`.
    (
        pod,
        options.split_whitespace().map(str::to_string).collect(),
    )
}

#[test]
fn recipe_patches_apply_to_the_argo_cd_install() {
    let docs = patched_install();
    let cm = object(docs, "ConfigMap", "argocd-cm");
    assert_eq!(cm["metadata"]["namespace"], "argocd");
    assert_eq!(
        cm["data"]["kustomize.buildOptions"],
        "--enable-alpha-plugins --enable-exec"
    );
    assert!(
        cm["data"]["resource.exclusions"].is_string(),
        "the patch merges into Argo CD's own argocd-cm"
    );
    let pod = &object(docs, "Deployment", "argocd-repo-server")["spec"]["template"]["spec"];
    // Argo CD's own init container is still there, next to ours.
    named(&pod["initContainers"], "copyutil");
    let init = named(&pod["initContainers"], "install-regcred");
    // The binary sits where the Dockerfile puts it.
    let dockerfile = std::fs::read_to_string(Path::new(ROOT).join("Dockerfile")).unwrap();
    let binary = init["command"][0].as_str().unwrap();
    assert!(
        dockerfile.contains(&format!(" {binary}\n")),
        "the Dockerfile does not put regcred at {binary}"
    );
    let server = named(&pod["containers"], "argocd-repo-server");
    assert_eq!(
        named(&server["env"], "SOPS_AGE_KEY_FILE")["value"],
        "/home/argocd/age/keys.txt"
    );
    // Every volume either container mounts exists in the pod.
    for c in [init, server] {
        for m in c["volumeMounts"].as_array().unwrap() {
            named(&pod["volumes"], m["name"].as_str().unwrap());
        }
    }
    assert!(named(&pod["volumes"], "custom-tools")["emptyDir"].is_object());
    assert_eq!(
        named(&pod["volumes"], "regcred-age-key")["secret"]["secretName"],
        "regcred-age-key"
    );
}

/// A repo-server container laid out under a root directory as the patched
/// pod spec describes it.
struct RepoServer {
    t: TempDir,
    env: Vec<(String, String)>,
    build_options: Vec<String>,
}

impl RepoServer {
    /// `age_key`: whether the regcred-age-key Secret holds the demo key.
    fn new(age_key: bool) -> Self {
        let (pod, build_options) = recipe();
        let t = TempDir::new("argocd-repo-server");
        let volume = |name: &str| t.path().join("volumes").join(name);
        std::fs::create_dir_all(volume("custom-tools")).unwrap();
        std::fs::create_dir_all(volume("regcred-age-key")).unwrap();
        if age_key {
            std::fs::copy(
                example("demo-age-key.txt"),
                volume("regcred-age-key").join("keys.txt"),
            )
            .unwrap();
        }

        // The init container, its paths resolved through its own mounts.
        let init = named(&pod["initContainers"], "install-regcred");
        let args: Vec<PathBuf> = strings(&init["args"])
            .iter()
            .map(|a| resolve(init, a, &volume))
            .collect();
        let out = run(Command::new(common::bin()).args(&args), "");
        assert_eq!(out.code, 0, "the init container failed: {}", out.stderr);

        // The repo-server's mounts of those volumes, and Argo CD's kustomize
        // at /usr/local/bin/kustomize (its Dockerfile).
        let server = named(&pod["containers"], "argocd-repo-server");
        let root = t.path().join("root");
        for m in server["volumeMounts"].as_array().unwrap() {
            let name = m["name"].as_str().unwrap();
            if !matches!(name, "custom-tools" | "regcred-age-key") {
                continue;
            }
            let mut source = volume(name);
            if let Some(sub) = m["subPath"].as_str() {
                source = source.join(sub);
            }
            let at = root.join(m["mountPath"].as_str().unwrap().trim_start_matches('/'));
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(&source, &at).unwrap();
        }
        std::fs::create_dir_all(root.join("usr/local/bin")).unwrap();
        std::os::unix::fs::symlink(
            tool("kustomize-5.8.1"),
            root.join("usr/local/bin/kustomize"),
        )
        .unwrap();
        std::fs::create_dir_all(root.join("home/argocd")).unwrap();

        // The container's environment: its own variables (absolute paths
        // under the root), the image's PATH, HOME and USER.
        let mut env: Vec<(String, String)> = server["env"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| Some((e["name"].as_str()?, e["value"].as_str()?)))
            .map(|(k, v)| {
                let v = match v.strip_prefix('/') {
                    Some(rel) => root.join(rel).display().to_string(),
                    None => v.to_string(),
                };
                (k.to_string(), v)
            })
            .collect();
        for (k, rel) in [("PATH", "usr/local/bin"), ("HOME", "home/argocd")] {
            env.push((k.into(), root.join(rel).display().to_string()));
        }
        env.push(("USER".into(), "argocd".into()));
        RepoServer {
            t,
            env,
            build_options,
        }
    }

    /// A checked-out repository holding the example's app at `path`.
    fn checkout(&self, path: &str) -> PathBuf {
        let repo = self.t.path().join("checkout");
        copy_dir(&example("app"), &repo.join(path));
        let git = run(
            Command::new(tool("git")).args(["init", "-q"]).arg(&repo),
            "",
        );
        assert_eq!(git.code, 0, "{}", git.stderr);
        repo
    }

    /// What Argo CD runs for a kustomize app: `kustomize build <path>
    /// OPTIONS...` from the repository root, with the build environment.
    fn build(&self, repo: &Path, path: &str) -> Out {
        let mut cmd = Command::new("kustomize");
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(build_env(path))
            .current_dir(repo)
            .arg("build")
            .arg(repo.join(path))
            .args(&self.build_options);
        run(&mut cmd, "")
    }
}

/// `path` as the container sees it, resolved through its volume mounts.
fn resolve(container: &Json, path: &str, volume: &dyn Fn(&str) -> PathBuf) -> PathBuf {
    for m in container["volumeMounts"].as_array().unwrap() {
        let at = m["mountPath"].as_str().unwrap();
        if let Some(rest) = path.strip_prefix(at) {
            return volume(m["name"].as_str().unwrap()).join(rest.trim_start_matches('/'));
        }
    }
    PathBuf::from(path)
}

/// reposerver/repository/repository.go `newEnv`: all Argo CD adds to the
/// repo-server's environment for kustomize (KUBE_VERSION and
/// KUBE_API_VERSIONS go to plugins only; git credentials only to private
/// repositories).
fn build_env(path: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ARGOCD_APP_NAME", "storefront".into()),
        ("ARGOCD_APP_NAMESPACE", "storefront".into()),
        ("ARGOCD_APP_PROJECT_NAME", "default".into()),
        ("ARGOCD_APP_REVISION", REVISION.into()),
        ("ARGOCD_APP_REVISION_SHORT", REVISION[..7].into()),
        ("ARGOCD_APP_REVISION_SHORT_8", REVISION[..8].into()),
        (
            "ARGOCD_APP_SOURCE_REPO_URL",
            "https://git.example.com/platform/apps.git".into(),
        ),
        ("ARGOCD_APP_SOURCE_PATH", path.into()),
        ("ARGOCD_APP_SOURCE_TARGET_REVISION", "main".into()),
    ]
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn expected() -> String {
    std::fs::read_to_string(example("expected.yaml")).unwrap()
}

#[test]
fn argo_cd_kustomize_builds_the_app_with_regcred_from_the_init_container() {
    let rs = RepoServer::new(true);
    let kustomize = run(Command::new(tool("kustomize-5.8.1")).arg("version"), "");
    assert_eq!(kustomize.stdout.trim(), "v5.8.1");
    let repo = rs.checkout("apps/storefront");
    let out = rs.build(&repo, "apps/storefront");
    out.assert_ok();
    common::assert_same_text(&expected(), &out.stdout, "Argo CD's kustomize build");
}

#[test]
fn specs_without_the_annotation_run_as_a_legacy_plugin_from_the_same_volume() {
    let rs = RepoServer::new(true);
    let repo = rs.checkout("storefront");
    let spec = repo.join("storefront/regcred.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let plain = text.replace(
        "  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: regcred\n",
        "",
    );
    assert_ne!(plain, text, "the annotation was removed");
    std::fs::write(&spec, plain).unwrap();
    let out = rs.build(&repo, "storefront");
    out.assert_ok();
    common::assert_same_text(&expected(), &out.stdout, "legacy plugin build");
}

#[test]
fn without_the_age_key_the_build_fails_with_regcreds_message() {
    let rs = RepoServer::new(false);
    let repo = rs.checkout("storefront");
    let out = rs.build(&repo, "storefront");
    assert_ne!(out.code, 0, "{}", out.stdout);
    // Argo CD shows kustomize's stderr as the app's ComparisonError.
    assert_eq!(out.stdout, "");
    for part in [
        "error: functionConfig: spec.registries[0].password.file: creds/ghcr-token.age",
        "SOPS_AGE_KEY_FILE",
        "couldn't execute function",
    ] {
        assert!(out.stderr.contains(part), "{part}:\n{}", out.stderr);
    }
    out.assert_no_canary(DEMO_TOKEN);
}
