//! The Argo CD sidecar recipe in examples/argocd-cmp/argocd applies to Argo
//! CD's real install.yaml (tests/data/argo-cd-install.yaml) with the real
//! `kubectl kustomize`, and its plugin.yaml copy is the top-level one.

use crate::common;
use serde_json::Value as Json;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn sidecar_patch_applies_to_the_argo_cd_install() {
    let recipe = Path::new(ROOT).join("examples/argocd-cmp/argocd");
    let install = common::argo_cd_install_with(
        &recipe,
        &["plugin-configmap.yaml"],
        &["repo-server-patch.yaml"],
    );
    let docs = common::yaml11(&install);
    let repo = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "argocd-repo-server")
        .expect("repo-server");
    let pod = &repo["spec"]["template"]["spec"];
    let sidecar = pod["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "regcred")
        .expect("sidecar");
    assert_eq!(sidecar["command"][0], "/var/run/argocd/argocd-cmp-server");
    assert_eq!(sidecar["securityContext"]["runAsUser"], 999);
    let mounts: Vec<&str> = sidecar["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    for m in [
        "/var/run/argocd",
        "/home/argocd/cmp-server/plugins",
        "/home/argocd/cmp-server/config/plugin.yaml",
        "/tmp",
        "/home/argocd/age",
    ] {
        assert!(mounts.contains(&m), "sidecar lacks mount {m}: {mounts:?}");
    }
    let env: Vec<(String, String)> = sidecar["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(env.contains(&(
        "SOPS_AGE_KEY_FILE".into(),
        "/home/argocd/age/keys.txt".into()
    )));
    // Every volume the sidecar mounts exists in the patched pod (var-files and
    // plugins come from Argo CD's own manifest).
    let volumes: Vec<&str> = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    for m in sidecar["volumeMounts"].as_array().unwrap() {
        assert!(
            volumes.contains(&m["name"].as_str().unwrap()),
            "no volume {}",
            m["name"]
        );
    }
    // The repo-server's own container is still there.
    assert!(
        pod["containers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "argocd-repo-server")
    );
    let cm = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "regcred-cmp-plugin")
        .expect("plugin ConfigMap");
    assert_eq!(cm["metadata"]["namespace"], "argocd");
    let top = std::fs::read_to_string(Path::new(ROOT).join("plugin.yaml")).unwrap();
    assert_eq!(
        cm["data"]["plugin.yaml"],
        Json::String(top),
        "the ConfigMap's plugin.yaml must equal the top-level plugin.yaml"
    );
}
