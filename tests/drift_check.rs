//! `regcred render ... --check DIR`: the CI gate for teams that commit
//! rendered manifests (Flux). Exit 0 and silence when current; exit 1 and a
//! unified diff naming the files when not, with Secret data redacted so no
//! credential (nor its base64) reaches the CI log.

use crate::common::{self, Out, TempDir, regcred, run};
use std::path::{Path, PathBuf};

const OLD_PW: &str = "old-Pa55-6c1d0e";
const NEW_PW: &str = "new-Pa55-93b7aa";
const FILE_PW_OLD: &str = "file-pw-one-4411";
const FILE_PW_NEW: &str = "file-pw-two-8822";

const MANIFESTS: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  LOG_LEVEL: info
  REGION: eu-west-1
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
  namespace: payments
";

/// A repository checkout: spec, manifests, a credential file, and `rendered/`.
struct Repo {
    dir: TempDir,
}

impl Repo {
    fn new(tag: &str) -> Self {
        let dir = TempDir::new(tag);
        dir.write(
            "regcred.yaml",
            &common::spec(
                "  registries:\n  - server: registry.example.com\n    username: robot\n    password: {env: DRIFT_PW}\n  - server: ghcr.io\n    username: ci\n    password: {file: creds/ghcr.txt}\n",
            ),
        );
        dir.write("manifests/app.yaml", MANIFESTS);
        dir.write("creds/ghcr.txt", &format!("{FILE_PW_OLD}\n"));
        Repo { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn rendered(&self) -> PathBuf {
        self.path().join("rendered")
    }

    fn render(&self, pw: &str, extra: &[&str]) -> Out {
        run(
            regcred()
                .current_dir(self.path())
                .env("DRIFT_PW", pw)
                .args(["render", "-f", "regcred.yaml", "manifests/"])
                .args(extra),
            "",
        )
    }

    fn write_rendered(&self, pw: &str) {
        let out = self.render(pw, &["-o", "rendered"]);
        out.assert_ok();
        assert_eq!(out.stdout, "", "-o DIR prints nothing on stdout");
    }

    fn check(&self, pw: &str) -> Out {
        self.render(pw, &["--check", "rendered"])
    }
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Every form a credential could leak in: plaintext, base64 of it, of
/// `user:password` and of the whole dockerconfigjson of each Secret file.
fn secret_forms(repo: &Repo, passwords: &[&str], stdout_render: &str) -> Vec<String> {
    let mut forms = Vec::new();
    for pw in passwords {
        forms.push(pw.to_string());
        forms.push(b64(pw));
        forms.push(b64(&format!("robot:{pw}")));
        forms.push(b64(&format!("ci:{pw}")));
    }
    // The committed Secrets' data, and the freshly rendered ones.
    let mut texts = vec![stdout_render.to_string()];
    for ns in ["shop", "payments"] {
        if let Ok(t) = std::fs::read_to_string(repo.rendered().join(ns).join("secret-regcred.yaml"))
        {
            texts.push(t);
        }
    }
    for t in texts {
        for doc in common::yaml12(&t) {
            if doc["kind"] == "Secret" {
                let data = doc["data"][".dockerconfigjson"]
                    .as_str()
                    .unwrap()
                    .to_string();
                // A prefix long enough to be unambiguous, in case of wrapping.
                forms.push(data[..40].to_string());
                forms.push(data);
            }
        }
    }
    forms
}

fn assert_no_secret(out: &Out, forms: &[String]) {
    for f in forms {
        out.assert_no_canary(f);
    }
}

#[test]
fn current_output_passes_silently() {
    let repo = Repo::new("drift-current");
    repo.write_rendered(OLD_PW);
    let files: Vec<_> = ["_cluster/namespace-shop.yaml", "shop/secret-regcred.yaml"]
        .iter()
        .map(|f| repo.rendered().join(f))
        .collect();
    for f in &files {
        assert!(f.is_file(), "{} not written", f.display());
    }
    let out = repo.check(OLD_PW);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "");
    assert!(!out.stderr.contains("error"), "{}", out.stderr);
    // Twice: the redaction salt differs per run but never shows as drift.
    assert_eq!(repo.check(OLD_PW).code, 0);
}

#[test]
fn changed_env_credential_is_drift_with_a_redacted_diff() {
    let repo = Repo::new("drift-env");
    repo.write_rendered(OLD_PW);
    let fresh = repo.render(NEW_PW, &[]);
    fresh.assert_ok();
    let forms = secret_forms(&repo, &[OLD_PW, NEW_PW, FILE_PW_OLD], &fresh.stdout);

    let out = repo.check(NEW_PW);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.starts_with("--- "),
        "a unified diff on stdout:\n{}",
        out.stdout
    );
    assert!(out.stdout.contains("\n+++ ") && out.stdout.contains("\n@@ "));
    for ns in ["shop", "payments"] {
        let name = format!("{ns}/secret-regcred.yaml");
        assert!(
            out.stdout.contains(&name),
            "{name} not named:\n{}",
            out.stdout
        );
    }
    // Only Secret files changed.
    for line in out.stdout.lines().filter(|l| l.starts_with("--- ")) {
        assert!(line.contains("secret-regcred.yaml"), "{line}");
    }
    let changed: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| {
            (l.starts_with('-') || l.starts_with('+'))
                && !l.starts_with("---")
                && !l.starts_with("+++")
        })
        .collect();
    assert!(!changed.is_empty());
    for l in &changed {
        assert!(l.contains("<redacted "), "unredacted changed line: {l}");
    }
    assert_no_secret(&out, &forms);
    assert!(
        out.stderr.contains("out of date") && out.stderr.contains("rendered"),
        "{}",
        out.stderr
    );
    // Nothing was written by --check.
    assert_eq!(repo.check(NEW_PW).code, 1);
    assert_eq!(repo.check(OLD_PW).code, 0);
}

#[test]
fn changed_file_credential_is_drift_with_a_redacted_diff() {
    let repo = Repo::new("drift-file");
    repo.write_rendered(OLD_PW);
    let before = repo.render(OLD_PW, &[]);
    repo.dir
        .write("creds/ghcr.txt", &format!("{FILE_PW_NEW}\n"));
    let fresh = repo.render(OLD_PW, &[]);
    fresh.assert_ok();
    let mut forms = secret_forms(&repo, &[OLD_PW, FILE_PW_OLD, FILE_PW_NEW], &fresh.stdout);
    forms.extend(secret_forms(&repo, &[], &before.stdout));

    let out = repo.check(OLD_PW);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("shop/secret-regcred.yaml"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("<redacted "), "{}", out.stdout);
    assert_no_secret(&out, &forms);
}

#[test]
fn stale_and_deleted_files_are_drift() {
    let repo = Repo::new("drift-files");
    repo.write_rendered(OLD_PW);

    // A file regcred would not write any more (the namespace went away).
    let stale = repo.rendered().join("legacy/secret-regcred.yaml");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::copy(repo.rendered().join("shop/secret-regcred.yaml"), &stale).unwrap();
    let fresh = repo.render(OLD_PW, &[]);
    let forms = secret_forms(&repo, &[OLD_PW, FILE_PW_OLD], &fresh.stdout);
    let out = repo.check(OLD_PW);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("legacy/secret-regcred.yaml"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("<redacted "), "{}", out.stdout);
    assert_no_secret(&out, &forms);
    std::fs::remove_file(&stale).unwrap();
    assert_eq!(repo.check(OLD_PW).code, 0);

    // A file regcred writes but that is not committed.
    let cm = repo.rendered().join("shop/configmap-settings.yaml");
    std::fs::remove_file(&cm).unwrap();
    let out = repo.check(OLD_PW);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("shop/configmap-settings.yaml"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("+  LOG_LEVEL: info"), "{}", out.stdout);
    assert!(!cm.exists(), "--check must not write");
}

/// A leftover file regcred wrote (it carries the marker line) is drift,
/// even an otherwise empty one; files regcred did not write, such as a
/// `kustomization.yaml` kept next to the output, are ignored.
#[test]
fn stale_files_regcred_wrote_are_drift_and_others_are_ignored() {
    let repo = Repo::new("drift-empty");
    repo.write_rendered(OLD_PW);
    let marker = std::fs::read_to_string(repo.rendered().join("shop/secret-regcred.yaml"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(marker.starts_with("# Rendered by regcred"), "{marker}");
    std::fs::write(
        repo.rendered().join("kustomization.yaml"),
        "resources: []\n",
    )
    .unwrap();
    std::fs::write(repo.rendered().join("shop/notes.yaml"), "").unwrap();
    let out = repo.check(OLD_PW);
    assert_eq!(
        out.code, 0,
        "files regcred did not write count as drift:\n{}",
        out.stdout
    );
    std::fs::write(
        repo.rendered().join("shop/leftover.yaml"),
        format!("{marker}\n"),
    )
    .unwrap();
    let out = repo.check(OLD_PW);
    assert_eq!(
        out.code, 1,
        "a stale file regcred wrote is not reported:\n{}\n{}",
        out.stdout, out.stderr
    );
    assert!(out.stdout.contains("shop/leftover.yaml"), "{}", out.stdout);
}

/// The remedy the error prints (`re-run regcred render with -o DIR`) must
/// make the check pass, also when a namespace disappeared from the input.
#[test]
fn following_the_printed_remedy_makes_the_check_pass() {
    let repo = Repo::new("drift-remedy");
    repo.write_rendered(OLD_PW);
    // payments is removed from the manifests.
    let without_payments = MANIFESTS
        .split("---\n")
        .take(2)
        .collect::<Vec<_>>()
        .join("---\n");
    repo.dir.write("manifests/app.yaml", &without_payments);
    let out = repo.check(OLD_PW);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("payments/secret-regcred.yaml"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("-o rendered"), "{}", out.stderr);
    repo.write_rendered(OLD_PW);
    let again = repo.check(OLD_PW);
    assert_eq!(
        again.code, 0,
        "still out of date after re-running render -o:\n{}",
        again.stdout
    );
}

#[test]
fn changed_configmap_shows_its_real_lines() {
    let repo = Repo::new("drift-cm");
    repo.write_rendered(OLD_PW);
    repo.dir.write(
        "manifests/app.yaml",
        &MANIFESTS.replace("LOG_LEVEL: info", "LOG_LEVEL: debug"),
    );
    let out = repo.check(OLD_PW);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("--- rendered/shop/configmap-settings.yaml")
            || out.stdout.contains("shop/configmap-settings.yaml"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("-  LOG_LEVEL: info"), "{}", out.stdout);
    assert!(out.stdout.contains("+  LOG_LEVEL: debug"), "{}", out.stdout);
    // Context lines of the ConfigMap are shown as they are.
    assert!(
        out.stdout.contains("   REGION: eu-west-1"),
        "{}",
        out.stdout
    );
    // Only the ConfigMap changed.
    assert!(
        !out.stdout.contains("secret-regcred.yaml"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("<redacted"), "{}", out.stdout);
}

#[test]
fn check_against_a_missing_directory_is_drift() {
    let repo = Repo::new("drift-none");
    let out = repo.check(OLD_PW);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("(missing)"), "{}", out.stdout);
    assert!(out.stdout.contains("shop/secret-regcred.yaml"));
    let fresh = repo.render(OLD_PW, &[]);
    assert_no_secret(
        &out,
        &secret_forms(&repo, &[OLD_PW, FILE_PW_OLD], &fresh.stdout),
    );
}
