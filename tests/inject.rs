//! `spec.inject`: the pull Secret added to pod templates that pull from the
//! spec's registries (`inject.workloads`) and to given paths of custom
//! resources (`inject.fieldPaths`, the TSB ManagementPlane/ControlPlane
//! case), through `regcred render` and through the real
//! `kubectl kustomize --enable-alpha-plugins` (legacy exec plugin).

use crate::common::{self, Out, TempDir, regcred, run, tool, yaml12};
use serde_json::Value as Json;
use std::path::Path;
use std::process::Command;

const PASSWORD: &str = "demo-only-inject-pw";

/// A temp dir with `regcred.yaml` (registries as given, `extra` under
/// `spec:`), its password file and `app/app.yaml`.
fn app(registries: &[&str], extra: &str, manifests: &str) -> TempDir {
    let t = TempDir::new("inject");
    t.write("creds/pw.txt", PASSWORD);
    let regs: String = registries
        .iter()
        .map(|r| {
            format!("  - server: {r}\n    username: robot\n    password: {{file: creds/pw.txt}}\n")
        })
        .collect();
    t.write(
        "regcred.yaml",
        &common::spec(&format!("  registries:\n{regs}{extra}")),
    );
    t.write("app/app.yaml", manifests);
    t
}

fn render_in(dir: &Path, args: &[&str], stdin: &str) -> Out {
    let out = run(regcred().current_dir(dir).arg("render").args(args), stdin);
    assert_eq!(out.code, 0, "regcred render {args:?}: {}", out.stderr);
    out
}

fn render(t: &TempDir) -> (String, Vec<Json>) {
    let out = render_in(t.path(), &["-f", "regcred.yaml", "app/"], "");
    let items = yaml12(&out.stdout);
    (out.stdout, items)
}

fn find<'a>(items: &'a [Json], kind: &str, name: &str) -> &'a Json {
    items
        .iter()
        .find(|i| i["kind"] == kind && i["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} in output"))
}

/// Where each kind keeps its PodSpec.
fn pod_spec(item: &Json) -> &Json {
    match item["kind"].as_str().unwrap() {
        "Pod" => &item["spec"],
        "CronJob" => &item["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        _ => &item["spec"]["template"]["spec"],
    }
}

/// Names in the `imagePullSecrets` list of `v` (empty when absent).
fn names(v: &Json) -> Vec<String> {
    v["imagePullSecrets"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| e["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn pull_names(items: &[Json], kind: &str, name: &str) -> Vec<String> {
    names(pod_spec(find(items, kind, name)))
}

/// A workload of `kind` (apiVersion given) named `name` in `ns` whose
/// PodSpec is `pod` (flow-style YAML mapping).
fn workload(api: &str, kind: &str, ns: &str, name: &str, pod: &str) -> String {
    let meta =
        format!("apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {ns}\n");
    match kind {
        "Pod" => format!("{meta}spec: {pod}\n"),
        "CronJob" => format!(
            "{meta}spec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n        spec: {pod}\n"
        ),
        _ => format!("{meta}spec:\n  template:\n    spec: {pod}\n"),
    }
}

fn stream(docs: &[String]) -> String {
    docs.join("---\n")
}

const WORKLOADS_ON: &str = "  inject:\n    workloads: true\n";

/// (apiVersion, kind, name, PodSpec, injected?) for the spec's registries
/// `registry.example.com:5000` and `ghcr.io/acme`.
const CASES: &[(&str, &str, &str, &str, bool)] = &[
    (
        "apps/v1",
        "Deployment",
        "port",
        "{containers: [{name: a, image: 'registry.example.com:5000/web:1'}]}",
        true,
    ),
    (
        "apps/v1",
        "StatefulSet",
        "init-only",
        "{initContainers: [{name: i, image: 'ghcr.io/acme/init:1'}], containers: [{name: a, image: 'nginx:1.27'}]}",
        true,
    ),
    (
        "apps/v1",
        "DaemonSet",
        "public",
        "{containers: [{name: a, image: 'nginx:1.27'}, {name: b, image: 'quay.io/prometheus/node-exporter:v1.8.0'}]}",
        false,
    ),
    (
        "batch/v1",
        "Job",
        "no-port",
        "{containers: [{name: a, image: 'registry.example.com/web:1'}]}",
        false,
    ),
    (
        "batch/v1",
        "CronJob",
        "prefix",
        "{containers: [{name: a, image: 'ghcr.io/acme/tool:1'}]}",
        true,
    ),
    (
        "v1",
        "Pod",
        "other-org",
        "{containers: [{name: a, image: 'ghcr.io/other/tool:1'}]}",
        false,
    ),
    (
        "v1",
        "Pod",
        "pod",
        "{containers: [{name: a, image: 'ghcr.io/acme/tool:1'}]}",
        true,
    ),
    (
        "apps/v1",
        "ReplicaSet",
        "rs",
        "{containers: [{name: a, image: 'registry.example.com:5000/web:1'}]}",
        true,
    ),
    (
        "argoproj.io/v1alpha1",
        "Rollout",
        "rollout",
        "{containers: [{name: a, image: 'registry.example.com:5000/web:2'}]}",
        true,
    ),
];

fn cases_manifests() -> String {
    stream(
        &CASES
            .iter()
            .map(|(api, kind, name, pod, _)| workload(api, kind, "apps", name, pod))
            .collect::<Vec<_>>(),
    )
}

const CASE_REGISTRIES: &[&str] = &["registry.example.com:5000", "ghcr.io/acme"];

#[test]
fn workloads_pulling_from_the_spec_registries_get_the_secret() {
    let t = app(CASE_REGISTRIES, WORKLOADS_ON, &cases_manifests());
    let (_, items) = render(&t);
    for (_, kind, name, _, injected) in CASES {
        let got = pull_names(&items, kind, name);
        if *injected {
            assert_eq!(got, ["regcred"], "{kind}/{name} must get the Secret");
        } else {
            assert!(
                got.is_empty(),
                "{kind}/{name} pulls no spec registry: {got:?}"
            );
        }
    }
}

#[test]
fn without_inject_no_pod_template_is_touched() {
    let t = app(CASE_REGISTRIES, "", &cases_manifests());
    let (_, items) = render(&t);
    for (_, kind, name, _, _) in CASES {
        assert!(pull_names(&items, kind, name).is_empty(), "{kind}/{name}");
    }
}

#[test]
fn docker_hub_registry_key_injects_into_docker_hub_workloads() {
    let manifests = stream(&[
        workload(
            "apps/v1",
            "Deployment",
            "apps",
            "hub-private",
            "{containers: [{name: a, image: 'acme/private-app:1.0'}]}",
        ),
        workload(
            "apps/v1",
            "Deployment",
            "apps",
            "hub-explicit",
            "{containers: [{name: a, image: 'docker.io/acme/other:1.0'}]}",
        ),
        workload(
            "apps/v1",
            "Deployment",
            "apps",
            "quay",
            "{containers: [{name: a, image: 'quay.io/acme/app:1.0'}]}",
        ),
    ]);
    let t = app(&["https://index.docker.io/v1/"], WORKLOADS_ON, &manifests);
    let (_, items) = render(&t);
    assert_eq!(pull_names(&items, "Deployment", "hub-private"), ["regcred"]);
    assert_eq!(
        pull_names(&items, "Deployment", "hub-explicit"),
        ["regcred"]
    );
    assert!(pull_names(&items, "Deployment", "quay").is_empty());
}

#[test]
fn existing_entries_are_kept_never_duplicated_and_rendering_is_idempotent() {
    let manifests = stream(&[
        workload(
            "apps/v1",
            "Deployment",
            "apps",
            "has-other",
            "{imagePullSecrets: [{name: other}], containers: [{name: a, image: 'registry.example.com:5000/web:1'}]}",
        ),
        workload(
            "apps/v1",
            "Deployment",
            "apps",
            "has-both",
            "{imagePullSecrets: [{name: regcred}, {name: other}], containers: [{name: a, image: 'registry.example.com:5000/web:1'}]}",
        ),
    ]);
    let t = app(CASE_REGISTRIES, WORKLOADS_ON, &manifests);
    let (first, items) = render(&t);
    assert_eq!(
        pull_names(&items, "Deployment", "has-other"),
        ["other", "regcred"]
    );
    assert_eq!(
        pull_names(&items, "Deployment", "has-both"),
        ["regcred", "other"]
    );

    // Render the output again (stdin): byte-identical.
    let second = render_in(t.path(), &["-f", "regcred.yaml", "-"], &first).stdout;
    common::assert_same_text(&first, &second, "render of its own output");
    // And the cases: nothing added twice.
    let t = app(CASE_REGISTRIES, WORKLOADS_ON, &cases_manifests());
    let (first, _) = render(&t);
    let second = render_in(t.path(), &["-f", "regcred.yaml", "-"], &first).stdout;
    common::assert_same_text(&first, &second, "render of its own output");
}

#[test]
fn opted_out_objects_and_untargeted_namespaces_are_untouched() {
    let pod = "{containers: [{name: a, image: 'registry.example.com:5000/web:1'}]}";
    let skipped = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: skipped\n  namespace: apps\n  annotations:\n    regcred.dev/skip: \"true\"\nspec:\n  template:\n    spec: {containers: [{name: a, image: 'registry.example.com:5000/web:1'}]}\n";
    let manifests = stream(&[
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n".to_string(),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: quiet\n  annotations:\n    regcred.dev/skip: \"true\"\n".to_string(),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: sandbox-a\n".to_string(),
        workload("apps/v1", "Deployment", "apps", "plain", pod),
        skipped.to_string(),
        workload("apps/v1", "Deployment", "quiet", "in-opted-out-ns", pod),
        workload("apps/v1", "Deployment", "sandbox-a", "in-excluded-ns", pod),
    ]);
    let extra = format!("  namespaces:\n    exclude: [\"sandbox-*\"]\n{WORKLOADS_ON}");
    let t = app(CASE_REGISTRIES, &extra, &manifests);
    let (_, items) = render(&t);
    assert_eq!(pull_names(&items, "Deployment", "plain"), ["regcred"]);
    for name in ["skipped", "in-opted-out-ns", "in-excluded-ns"] {
        assert!(
            pull_names(&items, "Deployment", name).is_empty(),
            "{name} must be untouched"
        );
    }
    let skipped_out = find(&items, "Deployment", "skipped");
    assert_eq!(skipped_out, &yaml12(skipped)[0]);
}

#[test]
fn pod_spec_paths_extend_workload_injection_to_custom_kinds() {
    let worker = "apiVersion: example.com/v1\nkind: Worker\nmetadata:\n  name: w\n  namespace: jobs\nspec:\n  pod: {containers: [{name: a, image: 'ghcr.io/acme/worker:1'}]}\n";
    let t = app(CASE_REGISTRIES, WORKLOADS_ON, worker);
    let (_, items) = render(&t);
    assert!(names(&find(&items, "Worker", "w")["spec"]["pod"]).is_empty());
    let extra =
        format!("{WORKLOADS_ON}  check:\n    podSpecPaths: [{{kind: Worker, path: spec.pod}}]\n");
    let t = app(CASE_REGISTRIES, &extra, worker);
    let (_, items) = render(&t);
    assert_eq!(
        names(&find(&items, "Worker", "w")["spec"]["pod"]),
        ["regcred"]
    );
}

// ---------------------------------------------------------------------------
// fieldPaths: operators whose custom resources carry imagePullSecrets

const TSB_FIELD_PATHS: &str = "  inject:\n    fieldPaths:\n    - {kind: ManagementPlane, apiVersion: install.tetrate.io/v1alpha1, path: spec.imagePullSecrets}\n    - {kind: ControlPlane, apiVersion: install.tetrate.io/v1alpha1, path: spec.imagePullSecrets}\n";

fn cr(api: &str, kind: &str, ns: &str, name: &str, spec: &str) -> String {
    format!(
        "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec: {spec}\n"
    )
}

#[test]
fn field_paths_create_or_append_on_tsb_resources_and_respect_api_version() {
    let tsb = "install.tetrate.io/v1alpha1";
    let manifests = stream(&[
        cr(
            tsb,
            "ManagementPlane",
            "tsb",
            "mp",
            "{hub: registry.example.com/tetrate}",
        ),
        cr(
            tsb,
            "ControlPlane",
            "istio-system",
            "cp",
            "{hub: registry.example.com/tetrate, imagePullSecrets: [{name: mirror-pull}]}",
        ),
        cr(
            tsb,
            "ControlPlane",
            "istio-gateway",
            "cp-has-it",
            "{imagePullSecrets: [{name: regcred}]}",
        ),
        cr(
            "example.com/v1",
            "ControlPlane",
            "istio-system",
            "foreign",
            "{}",
        ),
        cr(tsb, "DataPlane", "istio-gateway", "dp", "{}"),
    ]);
    let t = app(&["registry.example.com"], TSB_FIELD_PATHS, &manifests);
    let (first, items) = render(&t);
    let spec_names = |kind: &str, name: &str| names(&find(&items, kind, name)["spec"]);
    assert_eq!(spec_names("ManagementPlane", "mp"), ["regcred"]);
    assert_eq!(
        find(&items, "ManagementPlane", "mp")["spec"]["hub"],
        "registry.example.com/tetrate"
    );
    assert_eq!(spec_names("ControlPlane", "cp"), ["mirror-pull", "regcred"]);
    assert_eq!(spec_names("ControlPlane", "cp-has-it"), ["regcred"]);
    assert!(
        spec_names("ControlPlane", "foreign").is_empty(),
        "apiVersion filter"
    );
    assert!(spec_names("DataPlane", "dp").is_empty(), "kind not listed");
    let second = render_in(t.path(), &["-f", "regcred.yaml", "-"], &first).stdout;
    common::assert_same_text(&first, &second, "render of its own output");

    // Without apiVersion in the field path, any group's ControlPlane counts.
    let any_group =
        "  inject:\n    fieldPaths:\n    - {kind: ControlPlane, path: spec.imagePullSecrets}\n";
    let t = app(&["registry.example.com"], any_group, &manifests);
    let (_, items) = render(&t);
    assert_eq!(
        names(&find(&items, "ControlPlane", "foreign")["spec"]),
        ["regcred"]
    );
    assert!(names(&find(&items, "ManagementPlane", "mp")["spec"]).is_empty());

    // Control: no inject, no change to the CRs.
    let t = app(&["registry.example.com"], "", &manifests);
    let (_, items) = render(&t);
    assert!(names(&find(&items, "ManagementPlane", "mp")["spec"]).is_empty());
    assert_eq!(
        names(&find(&items, "ControlPlane", "cp")["spec"]),
        ["mirror-pull"]
    );
}

#[test]
fn field_paths_create_nested_mappings() {
    let manifests = cr("example.com/v1", "Operator", "ops", "o", "{components: {}}");
    let extra = "  inject:\n    fieldPaths:\n    - {kind: Operator, path: spec.components.registry.pullSecrets}\n";
    let t = app(&["registry.example.com"], extra, &manifests);
    let (_, items) = render(&t);
    let list = &find(&items, "Operator", "o")["spec"]["components"]["registry"]["pullSecrets"];
    assert_eq!(list, &serde_json::json!([{"name": "regcred"}]));
}

#[test]
fn tsb_operator_example_renders_the_crs_with_the_secret() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tsb-operator");
    let out = render_in(&dir, &["-f", "regcred.yaml", "manifests/"], "");
    let items = yaml12(&out.stdout);
    let mp = find(&items, "ManagementPlane", "managementplane");
    assert_eq!(mp["metadata"]["namespace"], "tsb");
    assert_eq!(names(&mp["spec"]), ["tsb-pull"]);
    let cp = find(&items, "ControlPlane", "controlplane");
    assert_eq!(cp["metadata"]["namespace"], "istio-system");
    assert_eq!(names(&cp["spec"]), ["mirror-pull", "tsb-pull"]);
    let secret_namespaces: Vec<&str> = common::of_kind(&items, "Secret")
        .iter()
        .map(|s| s["metadata"]["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(
        secret_namespaces,
        ["cert-manager", "istio-gateway", "istio-system", "tsb"]
    );
    // The operators' own ServiceAccounts, patched where they are.
    for (ns, sa) in [
        ("tsb", "tsb-operator-management-plane"),
        ("istio-system", "tsb-operator-control-plane"),
        ("istio-gateway", "tsb-operator-data-plane"),
    ] {
        let found = items
            .iter()
            .find(|i| {
                i["kind"] == "ServiceAccount"
                    && i["metadata"]["name"] == sa
                    && i["metadata"]["namespace"] == ns
            })
            .unwrap_or_else(|| panic!("{ns}/{sa}"));
        assert_eq!(names(found), ["tsb-pull"]);
    }
    assert_eq!(common::of_kind(&items, "ServiceAccount").len(), 3);
}

// ---------------------------------------------------------------------------
// Pod-level imagePullSecrets and the ServiceAccount's

#[test]
fn injection_does_not_silently_drop_what_the_service_account_gave_the_pod() {
    // The ServiceAccount admission plugin copies the ServiceAccount's
    // imagePullSecrets into a pod only when the pod lists none itself. Here
    // the pod gets mirror-pull from `default`; once injection gives the pod
    // template a list of its own, it no longer does, and the mirror image
    // cannot be pulled. Either the injected list keeps what the (known)
    // ServiceAccount provided, or `regcred check` must report the gap.
    let mirror = {
        use base64::Engine as _;
        let cfg = r#"{"auths":{"mirror.example.com":{"auth":"dXNlcjpwYXNz"}}}"#;
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: mirror-pull\n  namespace: apps\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
            base64::engine::general_purpose::STANDARD.encode(cfg)
        )
    };
    let manifests = stream(&[
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: apps\nimagePullSecrets:\n- name: mirror-pull\n".to_string(),
        mirror,
        workload(
            "apps/v1",
            "Deployment",
            "apps",
            "web",
            "{containers: [{name: app, image: 'registry.example.com/web:1'}, {name: cache, image: 'mirror.example.com/redis:7'}]}",
        ),
    ]);
    let extra = format!("  check:\n    privateRegistries: [mirror.example.com]\n{WORKLOADS_ON}");
    let t = app(&["registry.example.com"], &extra, &manifests);

    // Control: without injection everything is covered through `default`.
    let plain = app(
        &["registry.example.com"],
        "  check:\n    privateRegistries: [mirror.example.com]\n",
        &manifests,
    );
    let out = run(
        regcred()
            .current_dir(plain.path())
            .args(["check", "-f", "regcred.yaml", "app/"]),
        "",
    );
    assert_eq!(out.code, 0, "{}", out.stdout);

    let (_, items) = render(&t);
    let pod_list = pull_names(&items, "Deployment", "web");
    assert!(pod_list.contains(&"regcred".to_string()), "{pod_list:?}");
    let out = run(
        regcred()
            .current_dir(t.path())
            .args(["check", "-f", "regcred.yaml", "app/"]),
        "",
    );
    let reported = out.code == 1
        && out
            .stdout
            .lines()
            .any(|l| l.contains("error") && l.contains("container cache"));
    assert!(
        pod_list.contains(&"mirror-pull".to_string()) || reported,
        "after injection the pod lists only {pod_list:?}, so kubelet no longer gets mirror-pull from the ServiceAccount, yet regcred check says:\n{}",
        out.stdout
    );
}

// ---------------------------------------------------------------------------
// Through the real kubectl kustomize (legacy exec plugin)

fn kustomize(dir: &Path, home: &Path) -> Out {
    let out = run(
        Command::new(tool("kubectl"))
            .args(["kustomize", "--enable-alpha-plugins"])
            .arg(dir)
            .env("KUSTOMIZE_PLUGIN_HOME", home),
        "",
    );
    assert_eq!(out.code, 0, "kubectl kustomize failed:\n{}", out.stderr);
    out
}

fn install_plugin(t: &TempDir) -> std::path::PathBuf {
    let home = t.path().join("plugins");
    run(
        regcred()
            .args(["install-plugin", "--plugin-home"])
            .arg(&home),
        "",
    )
    .assert_ok();
    home
}

#[test]
fn kubectl_kustomize_legacy_plugin_shows_the_injection() {
    let manifests = format!(
        "{}---\n{}",
        cases_manifests(),
        cr(
            "install.tetrate.io/v1alpha1",
            "ManagementPlane",
            "tsb",
            "mp",
            "{hub: registry.example.com/tetrate}"
        )
    );
    let extra = format!(
        "{WORKLOADS_ON}    fieldPaths:\n    - {{kind: ManagementPlane, path: spec.imagePullSecrets}}\n"
    );
    let t = app(CASE_REGISTRIES, &extra, &manifests);
    t.write(
        "kustomization.yaml",
        "resources:\n- app/app.yaml\ntransformers:\n- regcred.yaml\n",
    );
    let home = install_plugin(&t);
    let out = kustomize(t.path(), &home);
    let items = yaml12(&out.stdout);
    for (_, kind, name, _, injected) in CASES {
        let got = pull_names(&items, kind, name);
        if *injected {
            assert_eq!(got, ["regcred"], "{kind}/{name} through kustomize");
        } else {
            assert!(got.is_empty(), "{kind}/{name}: {got:?}");
        }
    }
    assert_eq!(
        names(&find(&items, "ManagementPlane", "mp")["spec"]),
        ["regcred"]
    );

    // Control: the same kustomization with a spec without inject.
    t.write(
        "regcred.yaml",
        &std::fs::read_to_string(t.path().join("regcred.yaml"))
            .unwrap()
            .replace(
                "  inject:\n    workloads: true\n",
                "  inject:\n    workloads: false\n",
            ),
    );
    let items = yaml12(&kustomize(t.path(), &home).stdout);
    assert!(pull_names(&items, "Deployment", "port").is_empty());
}

#[test]
fn image_check_example_through_kubectl_kustomize() {
    let t = TempDir::new("inject-kustomize-example");
    let home = install_plugin(&t);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/image-check");
    let out = kustomize(&dir, &home);
    assert!(!out.stdout.contains(PASSWORD));
    let items = yaml12(&out.stdout);
    assert_eq!(pull_names(&items, "CronJob", "nightly-report"), ["regcred"]);
    assert_eq!(pull_names(&items, "Deployment", "storefront"), ["regcred"]);
    assert!(pull_names(&items, "Deployment", "cache").is_empty());
    // The build passes the check: nothing uncovered is left.
    let check = run(
        regcred()
            .current_dir(&dir)
            .args(["check", "-f", "regcred-inject.yaml", "-"]),
        &out.stdout,
    );
    assert_eq!(check.code, 0, "{}", check.stdout);
    assert!(check.stdout.ends_with("0 errors, 1 warning\n"));
}
