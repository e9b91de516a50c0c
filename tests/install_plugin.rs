//! `regcred install-plugin`: the binary at the path kustomize expects for
//! a legacy exec plugin, and a `KUSTOMIZE_PLUGIN_HOME` export that, run in
//! bash, makes the real `kubectl kustomize --enable-alpha-plugins` work
//! (the machine's kubectl and the newest one).

use crate::common::{self, Out, TempDir, regcred, run, tool};
use serde_json::Value as Json;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const PLUGIN: &str = "regcred.dev/v1alpha1/registrycredentials/RegistryCredentials";
const CANARY: &str = "CANARY-plugin-0b9e";

fn install(args: &[&str], home: Option<&Path>) -> Out {
    let mut cmd = regcred();
    cmd.env_remove("KUSTOMIZE_PLUGIN_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .arg("install-plugin")
        .args(args);
    if let Some(h) = home {
        cmd.arg("--plugin-home").arg(h);
    }
    run(&mut cmd, "")
}

fn canonical_bin() -> PathBuf {
    common::bin().canonicalize().unwrap()
}

/// `export KUSTOMIZE_PLUGIN_HOME='<abs>'` with POSIX single quoting.
fn expected_export(home: &Path) -> String {
    let abs = home.canonicalize().unwrap().display().to_string();
    format!(
        "export KUSTOMIZE_PLUGIN_HOME='{}'\n",
        abs.replace('\'', "'\\''")
    )
}

/// A kustomization with regcred as a transformer (legacy plugin config).
fn kustomization(t: &TempDir) -> PathBuf {
    t.write(
        "app/kustomization.yaml",
        "resources:\n- app.yaml\ntransformers:\n- regcred.yaml\n",
    );
    t.write(
        "app/app.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: shop\n",
    );
    t.write(
        "app/regcred.yaml",
        &common::spec(
            "  registries:\n  - server: registry.example.com\n    username: robot\n    password: {file: creds/pw.txt}\n",
        ),
    );
    t.write("app/creds/pw.txt", &format!("{CANARY}\n"));
    t.path().join("app")
}

/// Runs the printed export, then kubectl kustomize, in one bash, under
/// each kubectl (the machine's and the newest).
fn kustomize_with_export(export: &str, app: &Path) -> Vec<(PathBuf, Out)> {
    common::kubectls()
        .iter()
        .map(|kubectl| {
            let script = format!(
                "set -euo pipefail\n{export}test -n \"$KUSTOMIZE_PLUGIN_HOME\"\n'{}' kustomize --enable-alpha-plugins '{}'\n",
                kubectl.display(),
                app.display()
            );
            let out = run(
                Command::new(tool("bash"))
                    .env_remove("KUSTOMIZE_PLUGIN_HOME")
                    .env_remove("XDG_CONFIG_HOME")
                    // No plugin in kustomize's default home either.
                    .env("HOME", app.join("no-home"))
                    .args(["-c", &script]),
                "",
            );
            (kubectl.clone(), out)
        })
        .collect()
}

fn assert_rendered(outs: &[(PathBuf, Out)]) {
    for (kubectl, out) in outs {
        assert_eq!(
            out.code,
            0,
            "{} kustomize failed:\n{}",
            kubectl.display(),
            out.stderr
        );
        let docs = common::yaml12(&out.stdout);
        let secret = docs
            .iter()
            .find(|d| d["kind"] == "Secret")
            .unwrap_or_else(|| panic!("no Secret:\n{}", out.stdout));
        assert_eq!(secret["metadata"]["namespace"], "shop");
        let cfg: Json = serde_json::from_str(&common::dockerconfig(secret)).unwrap();
        assert_eq!(cfg["auths"]["registry.example.com"]["password"], CANARY);
        let sa = docs.iter().find(|d| d["kind"] == "ServiceAccount").unwrap();
        assert_eq!(
            sa["imagePullSecrets"],
            serde_json::json!([{"name": "regcred"}])
        );
    }
}

#[test]
fn symlink_install_prints_the_export_and_kubectl_kustomize_uses_it() {
    let t = TempDir::new("install-plugin");
    let home = t.path().join("plugins");
    let out = install(&[], Some(&home));
    out.assert_ok();
    let plugin = home.join(PLUGIN);
    let meta = std::fs::symlink_metadata(&plugin).expect("plugin installed");
    assert!(meta.file_type().is_symlink(), "a symlink by default");
    assert_eq!(std::fs::read_link(&plugin).unwrap(), canonical_bin());
    assert_eq!(out.stdout, expected_export(&home));

    // Not yet usable without the export (no plugin home).
    let app = kustomization(&t);
    for (kubectl, without) in kustomize_with_export("", &app) {
        assert_ne!(
            without.code,
            0,
            "{} found the plugin without the export?",
            kubectl.display()
        );
    }

    let with = kustomize_with_export(&out.stdout, &app);
    assert_rendered(&with);

    // Re-installing replaces the link.
    let again = install(&[], Some(&home));
    again.assert_ok();
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn copy_install_is_a_regular_executable() {
    let t = TempDir::new("install-plugin-copy");
    let home = t.path().join("plugins");
    // First a symlink, then --copy over it: the binary behind the link must
    // not be overwritten through it.
    install(&[], Some(&home)).assert_ok();
    let bin_len = std::fs::metadata(canonical_bin()).unwrap().len();
    let out = install(&["--copy"], Some(&home));
    out.assert_ok();
    let plugin = home.join(PLUGIN);
    let meta = std::fs::symlink_metadata(&plugin).unwrap();
    assert!(meta.file_type().is_file(), "a regular file with --copy");
    assert!(meta.permissions().mode() & 0o111 != 0, "not executable");
    assert_eq!(meta.len(), bin_len);
    assert_eq!(std::fs::metadata(canonical_bin()).unwrap().len(), bin_len);
    let v = run(Command::new(&plugin).arg("--version"), "");
    assert_eq!(v.stdout.trim(), "regcred 0.1.0");

    let app = kustomization(&t);
    assert_rendered(&kustomize_with_export(&out.stdout, &app));
}

#[test]
fn export_is_quoted_for_awkward_paths() {
    let t = TempDir::new("install-plugin-quote");
    let home = t.path().join("my plugins/it's $HOME");
    let out = install(&[], Some(&home));
    out.assert_ok();
    assert_eq!(out.stdout, expected_export(&home));
    assert!(home.join(PLUGIN).exists());
    let app = kustomization(&t);
    assert_rendered(&kustomize_with_export(&out.stdout, &app));
}

#[test]
fn default_plugin_home_follows_kustomize() {
    let t = TempDir::new("install-plugin-default");
    let run_with = |env: &[(&str, &Path)]| {
        let mut cmd = regcred();
        cmd.env_remove("KUSTOMIZE_PLUGIN_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .arg("install-plugin");
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd, "")
    };
    let explicit = t.path().join("explicit");
    let xdg = t.path().join("xdg");
    let home = t.path().join("home");
    std::fs::create_dir_all(&home).unwrap();

    let out = run_with(&[("KUSTOMIZE_PLUGIN_HOME", &explicit), ("HOME", &home)]);
    out.assert_ok();
    assert!(explicit.join(PLUGIN).exists());
    assert_eq!(out.stdout, expected_export(&explicit));

    let out = run_with(&[("XDG_CONFIG_HOME", &xdg), ("HOME", &home)]);
    out.assert_ok();
    assert!(xdg.join("kustomize/plugin").join(PLUGIN).exists());

    let out = run_with(&[("HOME", &home)]);
    out.assert_ok();
    assert!(home.join(".config/kustomize/plugin").join(PLUGIN).exists());
    assert_eq!(
        out.stdout,
        expected_export(&home.join(".config/kustomize/plugin"))
    );
}

#[test]
fn verbose_names_the_installed_path_on_stderr() {
    let t = TempDir::new("install-plugin-verbose");
    let home = t.path().join("p");
    let out = run(
        regcred()
            .args(["-v", "install-plugin", "--plugin-home"])
            .arg(&home),
        "",
    );
    out.assert_ok();
    assert_eq!(out.stdout, expected_export(&home), "stdout stays eval-able");
    assert!(out.stderr.contains("info: installed"), "{}", out.stderr);
    assert!(out.stderr.contains(PLUGIN), "{}", out.stderr);
}
