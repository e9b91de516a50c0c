//! `regcred check` end to end: the image-check example, apps built in temp
//! directories, the KRM validator mode (`spec.check.enabled`) and the real
//! `kpt fn eval --exec`.
//!
//! Every test has a control: the same input without the thing under test
//! gives a different answer, so a check that reported nothing (or
//! everything) would fail.

use crate::common::{self, Out, TempDir, regcred, run, yaml12};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// The password of the spec in every temp app; must never be printed.
const CANARY: &str = "canary-check-pw-Q7v2";
/// The password inside user-provided Secrets of the temp apps.
const USER_CANARY: &str = "canary-user-secret-pw-L4m9";

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/image-check")
}

/// A spec for `registry.example.com` (password from creds/pw.txt) with
/// `extra` appended under `spec:`.
fn spec(extra: &str) -> String {
    common::spec(&format!(
        "  registries:\n  - server: registry.example.com\n    username: robot\n    password: {{file: creds/pw.txt}}\n{extra}"
    ))
}

/// A temp dir holding `regcred.yaml` (the spec above plus `extra`), the
/// password file and `app/app.yaml` = `manifests`.
fn app(extra: &str, manifests: &str) -> TempDir {
    let t = TempDir::new("check");
    t.write("creds/pw.txt", CANARY);
    t.write("regcred.yaml", &spec(extra));
    t.write("app/app.yaml", manifests);
    t
}

/// `regcred check -f regcred.yaml app/ ARGS` in `t`.
fn check(t: &TempDir, args: &[&str]) -> Out {
    let out = run(
        regcred()
            .current_dir(t.path())
            .args(["check", "-f", "regcred.yaml", "app/"])
            .args(args),
        "",
    );
    out.assert_no_canary(CANARY);
    out.assert_no_canary(USER_CANARY);
    out
}

/// `check` with `--output json`, parsed; asserts the exit code.
fn check_json(t: &TempDir, args: &[&str], code: i32) -> Vec<Json> {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    let out = check(t, &all);
    assert_eq!(
        out.code, code,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let v: Json = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("--output json is not JSON ({e}):\n{}", out.stdout));
    v.as_array().expect("a JSON array of findings").clone()
}

fn errors(findings: &[Json]) -> Vec<&Json> {
    findings
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect()
}

fn warnings(findings: &[Json]) -> Vec<&Json> {
    findings
        .iter()
        .filter(|f| f["severity"] == "warning")
        .collect()
}

/// One pod template object: `kind` in `ns` running as `sa`, with
/// `pod_extra` (indented four spaces, under `spec:` of a Pod) and
/// `containers` (a YAML list of containers, flow style).
fn pod(ns: &str, name: &str, sa: &str, pod_extra: &str, containers: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  serviceAccountName: {sa}\n{pod_extra}  containers: {containers}\n"
    )
}

fn deployment(ns: &str, name: &str, sa: &str, pod_extra: &str, containers: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      serviceAccountName: {sa}\n{pod_extra}      containers: {containers}\n"
    )
}

fn namespace(ns: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")
}

fn service_account(ns: &str, name: &str) -> String {
    format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: {ns}\n")
}

/// A user-provided `kubernetes.io/dockerconfigjson` Secret whose `auths`
/// has the given keys (credential values are the user canary).
fn user_secret(ns: &str, name: &str, keys: &[&str]) -> String {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let auths: serde_json::Map<String, Json> = keys
        .iter()
        .map(|k| {
            (
                k.to_string(),
                serde_json::json!({
                    "username": "someone",
                    "password": USER_CANARY,
                    "auth": b64(&format!("someone:{USER_CANARY}")),
                }),
            )
        })
        .collect();
    let config = serde_json::json!({ "auths": auths }).to_string();
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {ns}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
        b64(&config)
    )
}

fn stream(docs: &[String]) -> String {
    docs.join("---\n")
}

// ---------------------------------------------------------------------------
// The image-check example

fn example_check(spec: &str, args: &[&str]) -> Out {
    run(
        regcred()
            .current_dir(example())
            .args(["check", "-f", spec, "manifests/"])
            .args(args),
        "",
    )
}

#[test]
fn example_reports_the_uncovered_private_images_and_exits_1() {
    let out = example_check("regcred.yaml", &[]);
    assert_eq!(out.code, 1, "stderr:\n{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    // Grouped by namespace, one line per finding: object, file, container, image.
    let batch = lines
        .iter()
        .position(|l| *l == "namespace batch")
        .unwrap_or_else(|| panic!("no `namespace batch` header:\n{}", out.stdout));
    let report = lines
        .iter()
        .find(|l| l.contains("container report "))
        .unwrap_or_else(|| panic!("no finding for container report:\n{}", out.stdout));
    for part in [
        "error",
        "CronJob/nightly-report",
        "(manifests/batch.yaml)",
        "image registry.example.com/batch/report:0.9.2",
        "ServiceAccount batch/batch-runner",
        "ImagePullBackOff",
    ] {
        assert!(report.contains(part), "{part:?} missing from {report:?}");
    }
    assert!(
        lines.iter().position(|l| l == report).unwrap() > batch,
        "the finding must be under its namespace header:\n{}",
        out.stdout
    );
    // The init container's private image is checked too.
    assert!(
        lines.iter().any(|l| l.starts_with("  error")
            && l.contains("container fetch image registry.example.com/batch/fetch:0.3.0")),
        "{}",
        out.stdout
    );
    // Covered private images (pod runs as the patched default SA) and the
    // pinned public nginx produce nothing.
    for quiet in ["storefront:2.3.1", "migrate:1.4.0", "nginx:1.27"] {
        assert!(
            !out.stdout.contains(quiet),
            "{quiet} is covered or public, yet reported:\n{}",
            out.stdout
        );
    }
    // redis:latest: a warning, not an error.
    let redis = lines
        .iter()
        .find(|l| l.contains("redis:latest"))
        .unwrap_or_else(|| panic!("no :latest warning:\n{}", out.stdout));
    assert!(redis.trim_start().starts_with("warning"), "{redis}");
    assert!(redis.contains("Deployment/cache"), "{redis}");
    assert!(
        out.stdout.ends_with("2 errors, 1 warning\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn example_json_output_has_every_field() {
    let out = example_check("regcred.yaml", &["--output", "json"]);
    assert_eq!(out.code, 1, "stderr:\n{}", out.stderr);
    let findings: Vec<Json> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(errors(&findings).len(), 2, "{findings:#?}");
    assert_eq!(warnings(&findings).len(), 1, "{findings:#?}");
    let fetch = findings
        .iter()
        .find(|f| f["container"] == "fetch")
        .expect("init container finding");
    assert_eq!(fetch["severity"], "error");
    assert_eq!(fetch["namespace"], "batch");
    assert_eq!(fetch["api_version"], "batch/v1");
    assert_eq!(fetch["kind"], "CronJob");
    assert_eq!(fetch["name"], "nightly-report");
    assert_eq!(fetch["file"], "manifests/batch.yaml");
    assert_eq!(
        fetch["field"],
        "spec.jobTemplate.spec.template.spec.initContainers[0].image"
    );
    assert_eq!(fetch["image"], "registry.example.com/batch/fetch:0.3.0");
    assert!(
        fetch["message"]
            .as_str()
            .unwrap()
            .contains("batch/batch-runner"),
        "{fetch}"
    );
}

#[test]
fn example_with_workload_injection_has_no_error_and_exits_0() {
    let out = example_check("regcred-inject.yaml", &[]);
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(!out.stdout.contains("nightly-report"), "{}", out.stdout);
    assert!(out.stdout.contains("redis:latest"), "{}", out.stdout);
    assert!(
        out.stdout.ends_with("0 errors, 1 warning\n"),
        "{}",
        out.stdout
    );
}

// ---------------------------------------------------------------------------
// Coverage in temp apps

#[test]
fn exit_0_when_every_private_image_is_covered_and_1_when_one_is_not() {
    let covered = app(
        "",
        &stream(&[
            namespace("web"),
            deployment(
                "web",
                "site",
                "default",
                "      initContainers: [{name: init, image: registry.example.com/web/init:1.0}]\n",
                "[{name: app, image: registry.example.com/web/site:1.0}]",
            ),
        ]),
    );
    let out = check(&covered, &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "0 errors, 0 warnings\n");

    // The same app running as a ServiceAccount the spec leaves alone.
    let uncovered = app(
        "",
        &stream(&[
            namespace("web"),
            service_account("web", "runner"),
            deployment(
                "web",
                "site",
                "runner",
                "",
                "[{name: app, image: registry.example.com/web/site:1.0}]",
            ),
        ]),
    );
    let out = check(&uncovered, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "Deployment/site (app/app.yaml) container app image registry.example.com/web/site:1.0"
        ),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("web/runner"), "{}", out.stdout);
    // The SA is in the input: nothing unknown about it.
    assert!(!out.stdout.contains("live imagePullSecrets are unknown"));
}

#[test]
fn init_and_ephemeral_container_images_are_checked() {
    let t = app(
        "",
        &pod(
            "debug",
            "p",
            "runner",
            "  initContainers: [{name: init, image: registry.example.com/tools/init:1.0}]\n  ephemeralContainers: [{name: dbg, image: registry.example.com/tools/debug:1.0}]\n",
            "[{name: app, image: nginx:1.27}]",
        ),
    );
    let findings = check_json(&t, &[], 1);
    let fields: Vec<&str> = errors(&findings)
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "spec.initContainers[0].image",
            "spec.ephemeralContainers[0].image"
        ],
        "{findings:#?}"
    );
    // runner is not in the input: the message says what the check cannot know.
    assert!(
        errors(&findings).iter().all(|f| f["message"]
            .as_str()
            .unwrap()
            .contains("ServiceAccount debug/runner is not in the input")),
        "{findings:#?}"
    );
}

#[test]
fn latest_or_untagged_images_warn_and_pinned_ones_do_not() {
    let t = app(
        "",
        &deployment(
            "web",
            "tools",
            "default",
            "",
            &format!(
                "[{{name: a, image: busybox}}, {{name: b, image: 'busybox:latest'}}, {{name: c, image: 'busybox:1.36'}}, {{name: d, image: 'busybox@{DIGEST}'}}, {{name: e, image: registry.example.com/web/tool}}]"
            ),
        ),
    );
    let findings = check_json(&t, &[], 0);
    let warned: Vec<&str> = warnings(&findings)
        .iter()
        .map(|f| f["container"].as_str().unwrap())
        .collect();
    assert_eq!(warned, ["a", "b", "e"], "{findings:#?}");
    assert!(errors(&findings).is_empty(), "{findings:#?}");
    assert!(
        warnings(&findings)
            .iter()
            .all(|f| f["message"].as_str().unwrap().contains("latest")),
        "{findings:#?}"
    );
}

#[test]
fn always_with_a_digest_warns() {
    let t = app(
        "",
        &deployment(
            "web",
            "pinned",
            "default",
            "",
            &format!(
                "[{{name: always-digest, image: 'registry.example.com/web/app@{DIGEST}', imagePullPolicy: Always}}, {{name: ifnotpresent-digest, image: 'registry.example.com/web/app@{DIGEST}', imagePullPolicy: IfNotPresent}}, {{name: always-tag, image: 'registry.example.com/web/app:1.0', imagePullPolicy: Always}}]"
            ),
        ),
    );
    let findings = check_json(&t, &[], 0);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["severity"], "warning");
    assert_eq!(findings[0]["container"], "always-digest");
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("imagePullPolicy: Always with a digest"),
        "{findings:#?}"
    );
}

#[test]
fn an_invalid_image_reference_is_an_error_with_its_reason() {
    let t = app(
        "",
        &deployment(
            "web",
            "bad",
            "default",
            "",
            "[{name: upper, image: registry.example.com/Web/App:1}, {name: space, image: 'bad image'}, {name: ok, image: 'nginx:1.27'}]",
        ),
    );
    let findings = check_json(&t, &[], 1);
    let by = |c: &str| {
        findings
            .iter()
            .find(|f| f["container"] == c)
            .unwrap_or_else(|| panic!("no finding for {c}: {findings:#?}"))
    };
    for c in ["upper", "space"] {
        let f = by(c);
        assert_eq!(f["severity"], "error");
        let msg = f["message"].as_str().unwrap();
        let reason = msg
            .strip_prefix("invalid image reference: ")
            .unwrap_or_else(|| panic!("{msg}"));
        assert!(reason.len() > 10, "the reason must say why: {msg}");
    }
    assert!(
        by("upper")["message"]
            .as_str()
            .unwrap()
            .contains("lowercase"),
        "{findings:#?}"
    );
    assert!(findings.iter().all(|f| f["container"] != "ok"));
}

#[test]
fn private_registry_flag_and_spec_field_make_a_registry_count() {
    let manifests = stream(&[
        namespace("web"),
        deployment(
            "web",
            "tool",
            "default",
            "",
            "[{name: tool, image: 'quay.io/acme/tool:1.0'}]",
        ),
    ]);
    // quay.io is in no spec: the default SA's regcred Secret is enough to
    // run an image regcred does not know is private.
    let t = app("", &manifests);
    assert_eq!(check(&t, &[]).code, 0);

    let findings = check_json(&t, &["--private-registry", "quay.io"], 1);
    assert_eq!(errors(&findings).len(), 1, "{findings:#?}");
    assert!(
        errors(&findings)[0]["message"]
            .as_str()
            .unwrap()
            .contains("\"quay.io\""),
        "{findings:#?}"
    );

    // The same through spec.check.privateRegistries, with a path prefix.
    let prefixed = app(
        "  check:\n    privateRegistries: [quay.io/acme]\n",
        &manifests,
    );
    assert_eq!(check(&prefixed, &[]).code, 1);
    let other = app(
        "  check:\n    privateRegistries: [quay.io/other]\n",
        &manifests,
    );
    assert_eq!(
        check(&other, &[]).code,
        0,
        "quay.io/other must not cover quay.io/acme"
    );
}

#[test]
fn registries_match_by_host_port_and_path_prefix() {
    let t = TempDir::new("check-port");
    t.write("creds/pw.txt", CANARY);
    t.write(
        "regcred.yaml",
        &common::spec(
            "  registries:\n  - server: registry.example.com:5000/team\n    username: robot\n    password: {file: creds/pw.txt}\n",
        ),
    );
    let containers = "[{name: same-port-prefix, image: 'registry.example.com:5000/team/app:1'}, {name: prefix-as-string, image: 'registry.example.com:5000/team-b/app:1'}, {name: no-port, image: 'registry.example.com/team/app:1'}, {name: other-path, image: 'registry.example.com:5000/ops/app:1'}]";
    t.write(
        "app/app.yaml",
        &stream(&[
            service_account("web", "runner"),
            deployment("web", "d", "runner", "", containers),
        ]),
    );
    let findings = check_json(&t, &[], 1);
    let flagged: Vec<&str> = errors(&findings)
        .iter()
        .map(|f| f["container"].as_str().unwrap())
        .collect();
    // kubelet's keyring: same host and port, and the key's path is a string
    // prefix of the repository (so /team also covers /team-b).
    assert_eq!(
        flagged,
        ["same-port-prefix", "prefix-as-string"],
        "{findings:#?}"
    );
}

#[test]
fn pod_spec_path_adds_a_custom_kind() {
    let worker = "apiVersion: example.com/v1\nkind: Worker\nmetadata:\n  name: w\n  namespace: jobs\nspec:\n  pod:\n    serviceAccountName: runner\n    containers: [{name: work, image: 'registry.example.com/jobs/worker:2.0'}]\n";
    let t = app("", worker);
    let out = check(&t, &[]);
    assert_eq!(
        out.code, 0,
        "unknown kinds have no pod spec: {}",
        out.stdout
    );
    assert!(!out.stdout.contains("Worker"), "{}", out.stdout);

    let findings = check_json(&t, &["--pod-spec-path", "Worker=spec.pod"], 1);
    assert_eq!(errors(&findings).len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["kind"], "Worker");
    assert_eq!(findings[0]["field"], "spec.pod.containers[0].image");

    let in_spec = app(
        "  check:\n    podSpecPaths: [{kind: Worker, path: spec.pod}]\n",
        worker,
    );
    assert_eq!(check(&in_spec, &[]).code, 1);

    let bad = check(&t, &["--pod-spec-path", "Worker"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("KIND=PATH"), "{}", bad.stderr);
}

#[test]
fn a_user_secret_on_the_pod_covers_its_registry() {
    let containers = "[{name: app, image: 'registry.example.com/web/app:1.0'}]";
    let with = |keys: &[&str]| {
        app(
            "",
            &stream(&[
                service_account("web", "runner"),
                user_secret("web", "team-pull", keys),
                deployment(
                    "web",
                    "d",
                    "runner",
                    "      imagePullSecrets: [{name: team-pull}]\n",
                    containers,
                ),
            ]),
        )
    };
    let out = check(&with(&["registry.example.com"]), &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let out = check(&with(&["other.example.com"]), &[]);
    assert_eq!(
        out.code, 1,
        "a Secret for another registry covers nothing: {}",
        out.stdout
    );

    // A Secret referenced but not in the input may exist in the cluster:
    // the message says so.
    let missing = app(
        "",
        &stream(&[
            service_account("web", "runner"),
            deployment(
                "web",
                "d",
                "runner",
                "      imagePullSecrets: [{name: cluster-only}]\n",
                containers,
            ),
        ]),
    );
    let out = check(&missing, &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains("referenced but not in the input: cluster-only"),
        "{}",
        out.stdout
    );
}

#[test]
fn pod_image_pull_secrets_replace_those_of_the_service_account() {
    // The ServiceAccount admission plugin copies the ServiceAccount's
    // imagePullSecrets into a pod only when the pod has none of its own
    // (plugin/pkg/admission/serviceaccount: `if len(pod.Spec.ImagePullSecrets)
    // == 0`). This pod lists mirror-pull, so kubelet never sees the
    // `regcred` Secret regcred adds to `default`: its registry.example.com
    // image fails with ImagePullBackOff.
    let t = app(
        "",
        &stream(&[
            namespace("web"),
            user_secret("web", "mirror-pull", &["mirror.example.com"]),
            deployment(
                "web",
                "d",
                "default",
                "      imagePullSecrets: [{name: mirror-pull}]\n",
                "[{name: app, image: 'registry.example.com/web/app:1.0'}, {name: cache, image: 'mirror.example.com/redis:7'}]",
            ),
        ]),
    );
    let findings = check_json(&t, &[], 1);
    assert_eq!(
        errors(&findings)
            .iter()
            .map(|f| f["container"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["app"],
        "{findings:#?}"
    );
}

#[test]
fn a_wildcard_key_covers_one_label_of_subdomain() {
    let containers =
        "[{name: one, image: 'a.example.com/x:1'}, {name: two, image: 'a.b.example.com/x:1'}]";
    let t = app(
        "",
        &stream(&[
            service_account("web", "runner"),
            user_secret("web", "wild", &["*.example.com"]),
            deployment(
                "web",
                "d",
                "runner",
                "      imagePullSecrets: [{name: wild}]\n",
                containers,
            ),
        ]),
    );
    let args = [
        "--private-registry",
        "a.example.com",
        "--private-registry",
        "a.b.example.com",
    ];
    let findings = check_json(&t, &args, 1);
    // kubelet globs label by label: *.example.com has three labels, so it
    // covers a.example.com but not a.b.example.com.
    assert_eq!(
        errors(&findings)
            .iter()
            .map(|f| f["container"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["two"],
        "{findings:#?}"
    );
}

#[test]
fn a_docker_hub_private_repository_is_covered_by_the_index_key() {
    let manifests = |secret: bool| {
        let mut docs = vec![service_account("web", "runner")];
        let mut extra = "";
        if secret {
            docs.push(user_secret("web", "hub", &["https://index.docker.io/v1/"]));
            extra = "      imagePullSecrets: [{name: hub}]\n";
        }
        docs.push(deployment(
            "web",
            "d",
            "runner",
            extra,
            "[{name: private, image: 'acme/private-app:1.0'}, {name: public, image: 'nginx:1.27'}]",
        ));
        stream(&docs)
    };
    let args = ["--private-registry", "docker.io/acme"];
    let without = app("", &manifests(false));
    let findings = check_json(&without, &args, 1);
    assert_eq!(
        errors(&findings)
            .iter()
            .map(|f| f["container"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["private"],
        "docker.io/acme is private, library/nginx is not: {findings:#?}"
    );
    let with = app("", &manifests(true));
    let findings = check_json(&with, &args, 0);
    assert!(errors(&findings).is_empty(), "{findings:#?}");
}

#[test]
fn no_credential_value_appears_in_check_output() {
    let t = app(
        "",
        &stream(&[
            service_account("web", "runner"),
            user_secret("web", "team-pull", &["other.example.com"]),
            deployment(
                "web",
                "d",
                "runner",
                "      imagePullSecrets: [{name: team-pull}]\n",
                "[{name: app, image: 'registry.example.com/web/app'}]",
            ),
        ]),
    );
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("someone:{USER_CANARY}"));
    for format in ["text", "json"] {
        // check() asserts both canaries are absent from both streams.
        let out = check(&t, &["--output", format]);
        assert_eq!(out.code, 1, "{}", out.stdout);
        assert!(out.stdout.contains("registry.example.com/web/app"));
        out.assert_no_canary(&b64);
    }
}

// ---------------------------------------------------------------------------
// KRM validator (spec.check.enabled)

/// A ResourceList whose single Deployment (annotated with the file it came
/// from) runs as `sa`; the functionConfig is the temp spec plus `extra`.
fn validator_input(sa: &str, extra: &str) -> String {
    let docs = vec![
        namespace("web"),
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: site\n  namespace: web\n  annotations:\n    config.kubernetes.io/path: web/site.yaml\n    internal.config.kubernetes.io/path: web/site.yaml\nspec:\n  template:\n    spec:\n      serviceAccountName: {sa}\n      containers:\n      - name: app\n        image: registry.example.com/web/site:1.0\n"
        ),
    ];
    common::resource_list(&docs, &spec(extra))
}

fn krm(input: &str) -> (Out, Json) {
    let t = TempDir::new("check-krm");
    t.write("creds/pw.txt", CANARY);
    let out = run(regcred().current_dir(t.path()), input);
    let docs = yaml12(&out.stdout);
    assert_eq!(docs.len(), 1, "one ResourceList expected:\n{}", out.stdout);
    (out, docs[0].clone())
}

fn check_results(rl: &Json) -> Vec<Json> {
    rl["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r["resourceRef"]["kind"] == "Deployment")
        .collect()
}

#[test]
fn krm_validator_returns_results_and_exits_1_on_an_uncovered_image() {
    let enabled = "  check:\n    enabled: true\n";
    let (out, rl) = krm(&validator_input("runner", enabled));
    assert_eq!(out.code, 1, "stderr:\n{}", out.stderr);
    let results = check_results(&rl);
    assert_eq!(results.len(), 1, "{:#}", rl["results"]);
    let r = &results[0];
    assert_eq!(r["severity"], "error");
    assert_eq!(
        r["resourceRef"],
        serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "site", "namespace": "web"})
    );
    assert_eq!(r["field"]["path"], "spec.template.spec.containers[0].image");
    assert_eq!(r["file"]["path"], "web/site.yaml");
    let msg = r["message"].as_str().unwrap();
    assert!(
        msg.contains("container app image registry.example.com/web/site:1.0"),
        "{msg}"
    );
    assert!(msg.contains("ImagePullBackOff"), "{msg}");
    // A failed check hands the input back unchanged (never an empty
    // package, never half-rendered output): no Secret was added.
    let items = rl["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(!items.iter().any(|i| i["kind"] == "Secret"), "{items:?}");
    assert!(out.stderr.contains("web/Deployment/site"), "{}", out.stderr);

    // Covered (default SA, patched): exit 0, no error result.
    let (out, rl) = krm(&validator_input("default", enabled));
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert!(check_results(&rl).is_empty(), "{:#}", rl["results"]);

    // Control: without check.enabled the same uncovered input passes.
    let (out, rl) = krm(&validator_input("runner", ""));
    assert_eq!(out.code, 0, "stderr:\n{}", out.stderr);
    assert!(check_results(&rl).is_empty(), "{:#}", rl["results"]);
}

#[test]
fn kpt_fn_eval_exec_shows_the_check_error() {
    let t = TempDir::new("check-kpt");
    t.write("creds/pw.txt", CANARY);
    t.write(".krmignore", "creds/\n");
    let app_yaml = stream(&[
        namespace("web"),
        service_account("web", "runner"),
        deployment(
            "web",
            "site",
            "runner",
            "",
            "[{name: app, image: 'registry.example.com/web/site:1.0'}]",
        ),
    ]);
    t.write("app.yaml", &app_yaml);
    let cfg_dir = TempDir::new("check-kpt-cfg");
    let eval = |extra: &str| {
        let cfg = cfg_dir.write("regcred.yaml", &spec(extra));
        common::kpt_fn_eval(t.path(), &cfg)
    };
    let out = eval("  check:\n    enabled: true\n");
    let combined = format!("{}{}", out.stdout, out.stderr);
    assert_ne!(out.code, 0, "{combined}");
    assert!(combined.contains("[error]"), "{combined}");
    assert!(
        combined.contains("container app image registry.example.com/web/site:1.0"),
        "{combined}"
    );
    assert!(combined.contains("ImagePullBackOff"), "{combined}");
    assert!(!combined.contains(CANARY), "{combined}");
    // kpt writes nothing back when the function fails.
    assert_eq!(
        std::fs::read_to_string(t.path().join("app.yaml")).unwrap(),
        app_yaml
    );

    // Control: the same package without the validator renders.
    let out = eval("");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}
