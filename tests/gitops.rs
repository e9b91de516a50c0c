//! GitOps repository shapes: overlays that share credentials across the
//! repository (the confinement root is the enclosing repository), and the
//! kustomize ordering mistake that `check --as-is` catches.

use crate::common::{self, Out, TempDir, regcred, run, tool};
use std::path::{Path, PathBuf};
use std::process::Command;

const CANARY: &str = "CANARY-gitops-4b1e";
const OUTSIDE: &str = "OUTSIDE-gitops-77aa";

fn spec(password_file: &str) -> String {
    common::spec(&format!(
        "  registries:\n  - {{server: registry.example.com, username: robot, password: {{file: {password_file}}}}}\n  namespaces: {{names: [shop]}}\n"
    ))
}

fn render(dir: &Path, extra: &[&str]) -> Out {
    common::render_in(dir, extra)
}

fn password(out: &Out) -> String {
    assert_eq!(out.code, 0, "{}", out.stderr);
    let docs = common::yaml12(&out.stdout);
    common::dockerconfig(common::of_kind(&docs, "Secret")[0])
}

/// A repository (`repo/.git`) with shared credentials and an overlay, and
/// a file beside the repository.
fn repository() -> TempDir {
    let t = TempDir::new("gitops-repo");
    std::fs::create_dir_all(t.path().join("repo/.git")).unwrap();
    t.write("repo/creds/pw", &format!("{CANARY}\n"));
    t.write("repo/overlays/prod/regcred.yaml", &spec("../../creds/pw"));
    t.write("outside.txt", &format!("{OUTSIDE}\n"));
    t
}

#[test]
fn overlays_read_credentials_shared_across_the_repository() {
    let t = repository();
    let prod = t.path().join("repo/overlays/prod");
    assert!(password(&render(&prod, &[])).contains(CANARY));

    // A symlinked creds/ that stays inside the repository is fine too.
    std::fs::create_dir_all(t.path().join("repo/shared")).unwrap();
    std::fs::write(t.path().join("repo/shared/pw"), format!("{CANARY}\n")).unwrap();
    std::os::unix::fs::symlink(t.path().join("repo/shared"), prod.join("creds")).unwrap();
    t.write("repo/overlays/prod/regcred.yaml", &spec("creds/pw"));
    assert!(password(&render(&prod, &[])).contains(CANARY));

    // Out of the repository: refused, with `..` and through a symlink.
    for (file, why) in [
        ("../../../outside.txt", "leave the credentials root"),
        ("out/outside.txt", "outside the credentials root"),
    ] {
        if file.starts_with("out/") {
            std::os::unix::fs::symlink(t.path(), prod.join("out")).unwrap();
        }
        t.write("repo/overlays/prod/regcred.yaml", &spec(file));
        let out = render(&prod, &[]);
        assert_eq!(out.code, 1, "{file}: {}", out.stdout);
        assert!(out.stderr.contains(why), "{file}: {}", out.stderr);
        out.assert_no_canary(OUTSIDE);
        // --allow-path-outside-root is the opt-in.
        let allowed = render(&prod, &["--allow-path-outside-root"]);
        assert!(password(&allowed).contains(OUTSIDE), "{file}");
    }

    // An explicit, narrower root: --root on the CLI, REGCRED_ROOT elsewhere.
    t.write("repo/overlays/prod/regcred.yaml", &spec("../../creds/pw"));
    let out = render(&prod, &["--root", "."]);
    out.assert_error("leave the credentials root");
    let plugin = |root: Option<&str>| {
        let mut cmd = regcred();
        cmd.current_dir(&prod)
            .env("KUSTOMIZE_PLUGIN_CONFIG_ROOT", &prod)
            .arg(prod.join("regcred.yaml"));
        if let Some(r) = root {
            cmd.env("REGCRED_ROOT", r);
        }
        run(
            &mut cmd,
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
        )
    };
    assert!(password(&plugin(None)).contains(CANARY));
    let narrowed = plugin(Some(prod.to_str().unwrap()));
    narrowed.assert_error("leave the credentials root");
    assert!(
        !narrowed.stderr.contains("--allow-path-outside-root"),
        "{}",
        narrowed.stderr
    );

    // Outside any repository, the root is the spec's own directory.
    let bare = std::env::temp_dir().join(format!("regcred-bare-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&bare);
    std::fs::create_dir_all(bare.join("app")).unwrap();
    std::fs::write(bare.join("pw"), format!("{CANARY}\n")).unwrap();
    std::fs::write(bare.join("app/regcred.yaml"), spec("../pw")).unwrap();
    let out = render(&bare.join("app"), &[]);
    let _ = std::fs::remove_dir_all(&bare);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("leave the credentials root"),
        "{}",
        out.stderr
    );
}

const BASE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example.com/shop/web:1.0
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
";

/// regcred in a component runs before the overlay's `namespace:`. It warns,
/// and `check --as-is` on the build fails, where a re-rendering check
/// would pass.
#[test]
fn a_component_before_the_namespace_is_caught() {
    let t = repository();
    let home = t.path().join("plugins");
    let installed = run(
        regcred()
            .args(["install-plugin", "--plugin-home"])
            .arg(&home),
        "",
    );
    assert_eq!(installed.code, 0, "{}", installed.stderr);
    t.write("repo/base/app.yaml", BASE);
    t.write("repo/base/kustomization.yaml", "resources: [app.yaml]\n");
    t.write(
        "repo/components/pull/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ntransformers: [regcred.yaml]\n",
    );
    let component_spec = common::spec(
        "  registries:\n  - {server: registry.example.com, username: robot, password: {file: ../../creds/pw}}\n",
    );
    t.write("repo/components/pull/regcred.yaml", &component_spec);
    t.write(
        "repo/overlays/shop/kustomization.yaml",
        "namespace: shop\nresources: [../../base]\ncomponents: [../../components/pull]\n",
    );
    let built = run(
        Command::new(tool("kubectl"))
            .args(["kustomize", "--enable-alpha-plugins"])
            .arg(t.path().join("repo/overlays/shop"))
            .env("KUSTOMIZE_PLUGIN_HOME", &home),
        "",
    );
    assert_eq!(built.code, 0, "{}", built.stderr);
    // kustomize shows a legacy plugin's stderr only when it fails, so the
    // warning is checked on the plugin run as kustomize runs it.
    let component = t.path().join("repo/components/pull");
    let warned = run(
        regcred()
            .current_dir(&component)
            .env("KUSTOMIZE_PLUGIN_CONFIG_ROOT", &component)
            .arg(component.join("regcred.yaml")),
        BASE,
    );
    assert_eq!(warned.code, 0, "{}", warned.stderr);
    assert!(
        warned
            .stderr
            .contains("Deployment/web and 1 more have no namespace"),
        "no warning about the namespace:\n{}",
        warned.stderr
    );
    let spec_path = t.path().join("repo/components/pull/regcred.yaml");
    let check = |extra: &[&str]| {
        run(
            regcred()
                .args(["check", "-f"])
                .arg(&spec_path)
                .args(extra)
                .arg("-"),
            &built.stdout,
        )
    };
    let as_is = check(&["--as-is"]);
    assert_eq!(as_is.code, 1, "{}\n{}", as_is.stdout, as_is.stderr);
    assert!(as_is.stdout.contains("Deployment/web"), "{}", as_is.stdout);
    assert!(
        as_is.stdout.contains("expect ImagePullBackOff"),
        "{}",
        as_is.stdout
    );
    as_is.assert_no_canary(CANARY);
    let rerendered = check(&[]);
    assert_eq!(rerendered.code, 0, "{}", rerendered.stdout);
    // The overlays example puts regcred after the namespace: its build is clean.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/overlays");
    for env in ["staging", "prod"] {
        let built = run(
            Command::new(tool("kubectl"))
                .args(["kustomize", "--enable-alpha-plugins"])
                .arg(example.join("overlays").join(env))
                .env("KUSTOMIZE_PLUGIN_HOME", &home),
            "",
        );
        assert_eq!(built.code, 0, "{}", built.stderr);
        assert!(!built.stderr.contains("no namespace"), "{}", built.stderr);
        let out = run(
            regcred()
                .args(["check", "--as-is", "-f"])
                .arg(example.join("overlays").join(env).join("regcred.yaml"))
                .arg("-"),
            &built.stdout,
        );
        assert_eq!(out.code, 0, "{env}: {}\n{}", out.stdout, out.stderr);
    }
}

const API: &str = "apiVersion: v1
kind: Namespace
metadata: {name: backend}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: backend}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: api
      containers:
      - name: web
        image: registry.example.com/shop/web:1.0
      - name: sidecar
        image: docker.io/library/busybox:1.36
";

fn render_app(t: &TempDir, spec_extra: &str) -> Out {
    t.write(
        "repo/regcred.yaml",
        &common::spec(&format!(
            "  registries:\n  - {{server: registry.example.com, username: robot, password: {{file: creds/pw}}}}\n{spec_extra}"
        )),
    );
    t.write("repo/app.yaml", API);
    render(&t.path().join("repo"), &["app.yaml"])
}

/// A workload pulling from the spec's registry as a ServiceAccount that
/// gets no entry is warned about, with the fix; fixed, it is not.
#[test]
fn workloads_whose_service_account_gets_nothing_are_warned_about() {
    let t = repository();
    let out = render_app(&t, "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("Deployment backend/web pulls registry.example.com/shop/web:1.0 from registry.example.com as ServiceAccount api"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("\"backend/api\""), "{}", out.stderr);
    assert!(
        out.stderr.contains("spec.inject.workloads"),
        "{}",
        out.stderr
    );
    out.assert_no_canary(CANARY);
    for fix in [
        "  serviceAccounts: {include: [default, api]}\n",
        "  serviceAccounts: {include: [backend/api]}\n",
        "  inject: {workloads: true}\n",
    ] {
        let out = render_app(&t, fix);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(
            !out.stderr.contains("does not get Secret"),
            "{fix}: {}",
            out.stderr
        );
    }
}

/// `NAMESPACE/NAME` in serviceAccounts.include creates and patches a
/// ServiceAccount in that namespace only.
#[test]
fn service_accounts_can_be_named_per_namespace() {
    let t = repository();
    t.write(
        "repo/regcred.yaml",
        &common::spec(
            "  registries:\n  - {server: registry.example.com, username: robot, password: {file: creds/pw}}\n  namespaces: {names: [tsb, istio-system, istio-gateway]}\n  serviceAccounts: {include: [istio-system/tsb-operator-control-plane, 'istio-g*/tsb-operator-data-plane']}\n",
        ),
    );
    let out = render(&t.path().join("repo"), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let docs = common::yaml12(&out.stdout);
    let mut accounts: Vec<String> = common::of_kind(&docs, "ServiceAccount")
        .iter()
        .map(|sa| {
            format!(
                "{}/{}",
                sa["metadata"]["namespace"].as_str().unwrap(),
                sa["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    accounts.sort();
    // Each only where its entry allows: nothing in tsb, no cross product.
    assert_eq!(
        accounts,
        [
            "istio-gateway/tsb-operator-data-plane",
            "istio-system/tsb-operator-control-plane"
        ]
    );
    t.write(
        "repo/regcred.yaml",
        &common::spec("  registries:\n  - {server: registry.example.com, username: robot, password: {file: creds/pw}}\n  serviceAccounts: {include: [Bad_NS/x]}\n"),
    );
    let out = render(&t.path().join("repo"), &[]);
    out.assert_error("spec.serviceAccounts.include[0]");
}

/// Papercuts a first-time user hit: warnings that say which spec and which
/// patterns, a kustomization passed to render, a forgotten `-`, and a
/// missing key that lists the keys there (never the values).
#[test]
fn first_time_user_papercuts() {
    let t = repository();
    let dir = t.path().join("repo");
    let body = |pattern: &str| {
        format!(
            "  registries:\n  - {{server: registry.example.com, username: robot, password: {{file: creds/pw}}}}\n  namespaces: {{include: ['{pattern}']}}\n"
        )
    };
    t.write("repo/a.yaml", &common::spec(&body("team-*")));
    t.write(
        "repo/b.yaml",
        &common::spec(&body("app-*")).replace("name: regcred", "name: other"),
    );
    t.write(
        "repo/app/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    );
    t.write(
        "repo/app/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [ns.yaml]\n",
    );
    let out = run(
        regcred()
            .current_dir(&dir)
            .args(["render", "-f", "a.yaml", "-f", "b.yaml", "app"]),
        "",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("no namespace in the input matches team-*")
            && out.stderr.contains("(a.yaml)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("matches app-*") && out.stderr.contains("(b.yaml)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("kustomization.yaml: a kustomization is passed through"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("kubectl kustomize DIR | regcred render"),
        "{}",
        out.stderr
    );

    // No INPUT while something is piped in: a hint at `-`.
    let out = run(
        regcred().current_dir(&dir).args(["render", "-f", "a.yaml"]),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-x}\n",
    );
    assert!(
        out.stderr.contains("pass - to render what is piped in"),
        "{}",
        out.stderr
    );
    // The same from a file, but not from /dev/null, which CI runners and
    // benchmark tools give commands that read nothing.
    t.write(
        "repo/piped.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-x}\n",
    );
    for (stdin, warned) in [
        (dir.join("piped.yaml"), true),
        (PathBuf::from("/dev/null"), false),
    ] {
        let out = regcred()
            .current_dir(&dir)
            .args(["render", "-f", "a.yaml"])
            .stdin(std::fs::File::open(&stdin).unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(
            stderr.contains("pass - to render what is piped in"),
            warned,
            "stdin {}: {stderr}",
            stdin.display()
        );
    }

    // A key that is not there: the key names, never the values.
    t.write(
        "repo/creds/c.yaml",
        &format!("tokens:\n  ghcr: {CANARY}\n  quay: {CANARY}\n"),
    );
    t.write(
        "repo/regcred.yaml",
        &common::spec("  registries:\n  - {server: r.io, username: u, password: {file: creds/c.yaml, key: tokens.gitlab}}\n  namespaces: {names: [shop]}\n"),
    );
    let out = render(&dir, &[]);
    out.assert_error("(keys there: ghcr, quay)");
    out.assert_no_canary(CANARY);
}

/// `regcred encrypt -` reads stdin (YAML unless `--input-type` says), and
/// the reference sops decrypts what it wrote.
#[test]
fn encrypt_reads_stdin() {
    let t = TempDir::new("gitops-encrypt-stdin");
    let (key, public) = common::age_key(t.path(), "key.txt");
    for (args, input, ext) in [
        (vec![], format!("password: {CANARY}\n"), "yaml"),
        (
            vec!["--input-type", "dotenv"],
            format!("PASSWORD={CANARY}\n"),
            "env",
        ),
    ] {
        let out = run(
            regcred()
                .current_dir(t.path())
                .args(["encrypt", "--age", &public])
                .args(&args)
                .arg("-"),
            &input,
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.assert_no_canary(CANARY);
        let enc = t.write(&format!("enc.{ext}"), &out.stdout);
        let dec = run(
            Command::new(tool("sops"))
                .env("SOPS_AGE_KEY_FILE", &key)
                .args(["--decrypt"])
                .arg(&enc),
            "",
        );
        assert_eq!(dec.code, 0, "{}", dec.stderr);
        assert_eq!(dec.stdout, input);
    }
    let out = run(
        regcred().args(["encrypt", "--age", &public, "-i", "-"]),
        "a: b\n",
    );
    out.assert_error("--in-place needs a file");
}

/// `check` and `explain` need only registry names: they run without the
/// age key that render needs. A registry name hidden inside an encrypted
/// docker config.json is reported as unknown, not a failure. `--strict`
/// makes every registry that is not known public need credentials.
#[test]
fn check_and_explain_run_without_keys_and_strict_mode() {
    // A docker config.json that is encrypted and cannot be read.
    let repo = repository();
    let dir = repo.path().join("repo");
    let (_key, public) = common::age_key(repo.path(), "key.txt");
    repo.write(
        "repo/creds/config.json",
        "{\"auths\": {\"quay.io\": {\"auth\": \"dTpw\"}}}\n",
    );
    let enc = run(
        regcred()
            .current_dir(&dir)
            .args(["encrypt", "--age", &public, "creds/config.json"]),
        "",
    );
    assert_eq!(enc.code, 0, "{}", enc.stderr);
    repo.write("repo/creds/config.enc.json", &enc.stdout);
    repo.write("repo/creds/pw.yaml", &format!("password: {CANARY}\n"));
    let enc = run(
        regcred()
            .current_dir(&dir)
            .args(["encrypt", "--age", &public, "creds/pw.yaml"]),
        "",
    );
    assert_eq!(enc.code, 0, "{}", enc.stderr);
    repo.write("repo/creds/pw.enc.yaml", &enc.stdout);
    repo.write(
        "repo/regcred.yaml",
        &common::spec("  registries:\n  - {server: registry.example.com, username: robot, password: {file: creds/pw.enc.yaml, key: password}}\n  - dockerConfig: {file: creds/config.enc.json}\n  namespaces: {names: [shop]}\n"),
    );
    repo.write("repo/app.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n  - {name: a, image: registry.example.com/a:1}\n  - {name: b, image: quay.io/b/c:1}\n  - {name: c, image: nginx:1.27}\n");
    let keyless = |command: &str, extra: &[&str]| {
        let mut cmd = regcred();
        cmd.current_dir(&dir)
            .env("HOME", repo.path())
            .env("XDG_CONFIG_HOME", repo.path())
            .env_remove("SOPS_AGE_KEY")
            .env_remove("SOPS_AGE_KEY_FILE")
            .env_remove("SOPS_AGE_KEY_CMD");
        cmd.args([command, "-f", "regcred.yaml", "app.yaml"])
            .args(extra);
        run(&mut cmd, "")
    };
    let check = |extra: &[&str]| keyless("check", extra);
    let render = keyless("render", &[]);
    assert_eq!(
        render.code, 1,
        "render must need the key: {}",
        render.stdout
    );
    assert!(
        render.stderr.contains("no age identity"),
        "{}",
        render.stderr
    );
    let explain = keyless("explain", &[]);
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    assert!(
        explain.stdout.contains("registry.example.com"),
        "{}",
        explain.stdout
    );
    explain.assert_no_canary(CANARY);
    let out = check(&[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("are unknown without reading it"),
        "{}",
        out.stderr
    );
    // Strict: quay.io now needs credentials; Docker Hub's nginx does not.
    let out = check(&["--strict"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("quay.io/b/c:1"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("nginx:1.27: image from"),
        "{}",
        out.stdout
    );
    let out = check(&["--strict", "--public-registry", "quay.io"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
}

/// The `.dockerconfigjson` of the Secret in `file`, decrypted by the
/// reference sops with `key`.
fn sops_decrypted_config(file: &Path, key: &Path) -> String {
    let decrypted = run(
        Command::new(tool("sops"))
            .env("SOPS_AGE_KEY_FILE", key)
            .args(["--decrypt", "--input-type", "yaml", "--output-type", "yaml"])
            .arg(file),
        "",
    );
    assert_eq!(decrypted.code, 0, "{}", decrypted.stderr);
    common::dockerconfig(&common::yaml12(&decrypted.stdout)[0])
}

/// `render -o DIR --encrypt`: Secrets stay encrypted in Git, the reference
/// sops decrypts them, re-rendering changes no byte unless the content or
/// the recipients change, and `--check` compares decrypted content.
#[test]
fn encrypted_output_for_commit_the_output_workflows() {
    let t = repository();
    let dir = t.path().join("repo");
    let (key, public) = common::age_key(t.path(), "key.txt");
    t.write("repo/regcred.yaml", &spec("creds/pw"));
    t.write(
        "repo/app.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    );
    let render = |extra: &[&str], with_key: bool| {
        let mut cmd = regcred();
        cmd.current_dir(&dir)
            .env("HOME", t.path())
            .env_remove("SOPS_AGE_KEY_FILE");
        if with_key {
            cmd.env("SOPS_AGE_KEY_FILE", &key);
        }
        cmd.args(["render", "-f", "regcred.yaml", "app.yaml"])
            .args(extra);
        run(&mut cmd, "")
    };
    let out = render(&["-o", "out", "--encrypt", "--age", &public], false);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let secret = dir.join("out/shop/secret-regcred.yaml");
    let sealed = std::fs::read_to_string(&secret).unwrap();
    assert!(sealed.starts_with("# Rendered by regcred"), "{sealed}");
    assert!(
        sealed.contains("ENC[AES256_GCM,") && sealed.contains("encrypted_regex"),
        "{sealed}"
    );
    assert!(!sealed.contains(CANARY), "plaintext in the committed file");
    assert!(
        !std::fs::read_to_string(dir.join("out/shop/serviceaccount-default.yaml"))
            .unwrap()
            .contains("ENC[")
    );
    // The reference sops decrypts it to the Secret.
    assert!(sops_decrypted_config(&secret, &key).contains(CANARY));

    // No churn: the same content and recipients keep the file as it is.
    assert_eq!(
        render(&["-o", "out", "--encrypt", "--age", &public], true).code,
        0
    );
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        sealed,
        "re-encrypted without a change"
    );
    assert_eq!(render(&["--check", "out"], true).code, 0);

    // --check needs the identity, and says so.
    let out = render(&["--check", "out"], false);
    out.assert_error("needs its age identity");

    // A new password: --check reports drift (redacted); -o re-encrypts.
    t.write("repo/creds/pw", "NEW-PASSWORD-d41c\n");
    let out = render(&["--check", "out"], true);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("<redacted"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("NEW-PASSWORD") && !out.stdout.contains(CANARY),
        "{}",
        out.stdout
    );
    assert_eq!(
        render(&["-o", "out", "--encrypt", "--age", &public], true).code,
        0
    );
    assert_ne!(std::fs::read_to_string(&secret).unwrap(), sealed);

    // New recipients from a .sops.yaml creation rule: re-encrypted for them.
    let (key2, public2) = common::age_key(t.path(), "key2.txt");
    t.write(
        "repo/.sops.yaml",
        &format!("creation_rules:\n  - path_regex: out/.*\n    age: {public2}\n"),
    );
    assert_eq!(render(&["-o", "out", "--encrypt"], true).code, 0);
    assert!(sops_decrypted_config(&secret, &key2).contains("NEW-PASSWORD"));
}

/// Copies a directory tree (regular files and directories only).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Every file under `dir`, relative path and content, sorted.
fn tree(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// examples/flux-encrypted, copied into a repository of its own: the
/// committed Secrets decrypt (reference sops) to exactly what `regcred
/// render` prints, rendering again changes no byte, a rotated credential
/// re-encrypts only the Secrets that carry it, and no file written holds a
/// credential in plaintext or base64.
#[test]
fn the_flux_example_stays_encrypted_without_churn() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flux-encrypted");
    let t = TempDir::new("flux-example");
    let dir = t.path().join("repo");
    copy_tree(&example, &dir);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let key = dir.join("demo-age-key.txt");
    let regcred_in = |args: &[&str]| {
        run(
            regcred()
                .current_dir(&dir)
                .env("HOME", t.path())
                .env("SOPS_AGE_KEY_FILE", &key)
                .args(args),
            "",
        )
    };
    let committed = tree(&dir.join("rendered"));
    assert_eq!(committed.len(), 6, "{committed:?}");

    // The reference sops decrypts each committed Secret to the Secret that
    // `regcred render` prints to stdout.
    let plain = regcred_in(&["render", "-f", "regcred.yaml", "manifests/"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let plain_docs = common::yaml12(&plain.stdout);
    let plain_secrets = common::of_kind(&plain_docs, "Secret");
    assert_eq!(plain_secrets.len(), 2);
    for secret in plain_secrets {
        let ns = secret["metadata"]["namespace"].as_str().unwrap();
        let file = dir.join(format!("rendered/{ns}/secret-regcred.yaml"));
        let decrypted = run(
            Command::new(tool("sops"))
                .env("SOPS_AGE_KEY_FILE", &key)
                .args(["decrypt", "--input-type", "yaml", "--output-type", "yaml"])
                .arg(&file),
            "",
        );
        assert_eq!(decrypted.code, 0, "{}", decrypted.stderr);
        assert_eq!(&common::yaml12(&decrypted.stdout)[0], secret, "{ns}");
    }

    // Nothing written holds a credential, in plaintext or base64.
    let config = common::dockerconfig(common::of_kind(&plain_docs, "Secret")[0]);
    let secrets = [
        "demo-only-Pa55w0rd".to_string(),
        b64("demo-only-Pa55w0rd"),
        b64("demo-only-robot:demo-only-Pa55w0rd"),
        b64(&config),
    ];
    for (file, content) in &committed {
        for s in &secrets {
            assert!(!content.contains(s.as_str()), "{file} holds {s}");
        }
    }

    // Rendering again changes no byte.
    let out = regcred_in(&[
        "render",
        "-f",
        "regcred.yaml",
        "manifests/",
        "-o",
        "rendered/",
        "--encrypt",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(tree(&dir.join("rendered")), committed, "churn on re-render");

    // A second spec with its own credential, then rotate only that one.
    t.write("repo/creds/mirror.txt", "mirror-pw-one-5a2c\n");
    t.write(
        "repo/mirror.yaml",
        "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata: {name: mirror}\n\
         spec:\n  registries:\n  - {server: mirror.example.com, username: m, password: {file: creds/mirror.txt}}\n",
    );
    let both = [
        "render",
        "-f",
        "regcred.yaml",
        "-f",
        "mirror.yaml",
        "manifests/",
        "-o",
        "rendered/",
        "--encrypt",
    ];
    let out = regcred_in(&both);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let with_mirror = tree(&dir.join("rendered"));
    t.write("repo/creds/mirror.txt", "mirror-pw-two-9e0f\n");
    let out = regcred_in(&both);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rotated = tree(&dir.join("rendered"));
    let changed: Vec<&str> = with_mirror
        .iter()
        .zip(&rotated)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.0.as_str())
        .collect();
    assert_eq!(
        changed,
        ["payments/secret-mirror.yaml", "shop/secret-mirror.yaml"],
        "only the rotated Secrets are re-encrypted"
    );
    for (file, content) in &rotated {
        assert!(!content.contains("mirror-pw-"), "{file}");
        assert!(!content.contains(&b64("mirror-pw-two-9e0f")), "{file}");
    }
}
