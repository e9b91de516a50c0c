//! `regcred explain`: golden outputs (text, json, markdown) for the
//! cli-render and image-check examples, plus the facts behind them checked
//! independently of the goldens (skipped namespaces and why, the summary
//! counts against what `regcred render` actually emits, injected
//! workloads) and that no credential value ever appears.
//!
//! The goldens live in `tests/data/golden/explain-<example>.<txt|json|md>` and
//! are compared byte for byte. After an intended change to the output,
//! regenerate them and review the diff:
//!
//! ```sh
//! REGCRED_BLESS=1 cargo test --test integration explain::
//! git diff tests/data/golden/
//! ```
//!
//! With `REGCRED_BLESS=1` the golden tests rewrite the files instead of
//! comparing (the independent assertions still run).

use crate::common::{self, Out, TempDir, regcred, run, yaml12};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

const FORMATS: [(&str, &str); 3] = [("text", "txt"), ("json", "json"), ("markdown", "md")];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn example(name: &str) -> PathBuf {
    root().join("examples").join(name)
}

/// `regcred ARGS` in `dir`, expected to succeed.
fn regcred_in(dir: &Path, args: &[&str]) -> Out {
    let out = run(regcred().current_dir(dir).args(args), "");
    assert_eq!(
        out.code,
        0,
        "regcred {args:?} in {}: {}",
        dir.display(),
        out.stderr
    );
    out
}

fn explain(dir: &Path, spec: &str, format: &str) -> Out {
    regcred_in(
        dir,
        &["explain", "-f", spec, "manifests/", "--output", format],
    )
}

/// Every credential value in the Secrets `regcred render` emits for the same
/// spec and input: each `auths` entry's password, auth and identity token,
/// and the whole `.dockerconfigjson` (encoded and decoded).
fn credential_values(dir: &Path, spec: &str) -> Vec<String> {
    let out = regcred_in(dir, &["render", "-f", spec, "manifests/"]);
    let items = yaml12(&out.stdout);
    let secrets = common::of_kind(&items, "Secret");
    assert!(!secrets.is_empty(), "render produced no Secret");
    let mut values = Vec::new();
    for s in secrets {
        let Some(b64) = s["data"][".dockerconfigjson"].as_str() else {
            continue;
        };
        values.push(b64.to_string());
        let json = common::dockerconfig(s);
        let config: Json = serde_json::from_str(&json).unwrap();
        for entry in config["auths"].as_object().unwrap().values() {
            for field in ["password", "auth", "identitytoken", "registrytoken"] {
                if let Some(v) = entry[field].as_str() {
                    values.push(v.to_string());
                }
            }
        }
        values.push(json);
    }
    assert!(
        values.iter().any(|v| v.starts_with("demo-only")),
        "expected the demo passwords among {values:?}"
    );
    values
}

/// Compares `actual` with the golden file, or rewrites it when
/// `REGCRED_BLESS=1`.
fn golden(name: &str, actual: &str) {
    let path = root().join("tests/data/golden").join(name);
    if std::env::var_os("REGCRED_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        eprintln!("blessed {}", path.display());
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (create it with REGCRED_BLESS=1 cargo test --test integration explain::)",
            path.display()
        )
    });
    common::assert_same_text(
        &expected,
        actual,
        &format!(
            "{name} (if the change is intended: REGCRED_BLESS=1 cargo test --test integration explain::)"
        ),
    );
}

/// Runs every format, checks each against its golden, and that no
/// credential value appears on stdout or stderr. Returns the outputs by
/// format.
fn goldens_for(example_name: &str, spec: &str) -> Vec<(String, String)> {
    let dir = example(example_name);
    let creds = credential_values(&dir, spec);
    let mut outputs = Vec::new();
    for (format, ext) in FORMATS {
        let out = explain(&dir, spec, format);
        for c in &creds {
            out.assert_no_canary(c);
        }
        golden(&format!("explain-{example_name}.{ext}"), &out.stdout);
        outputs.push((format.to_string(), out.stdout));
    }
    outputs
}

fn output<'a>(outputs: &'a [(String, String)], format: &str) -> &'a str {
    &outputs.iter().find(|(f, _)| f == format).unwrap().1
}

/// Cells of the text table row starting with `first`, split on runs of
/// two or more spaces.
fn text_row(text: &str, first: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| l.split("   ").next() == Some(first))
        .unwrap_or_else(|| panic!("no row starting with {first:?}:\n{text}"));
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// The line after the header line starting with `header` (the summary row).
fn row_after(text: &str, header: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with(header))
        .unwrap_or_else(|| panic!("no {header:?} header:\n{text}"));
    let mut j = i + 1;
    if lines[j].starts_with("|---") {
        j += 1;
    }
    lines[j].to_string()
}

fn numbers(row: &str) -> Vec<usize> {
    row.split(|c: char| c.is_whitespace() || c == '|')
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse()
                .unwrap_or_else(|_| panic!("not a number in {row:?}"))
        })
        .collect()
}

/// What `regcred render` really emits: (Secrets, patched SAs, created SAs).
fn rendered_counts(dir: &Path, spec: &str) -> (usize, usize, usize) {
    let input = yaml12(
        &std::fs::read_dir(dir.join("manifests"))
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect::<Vec<_>>()
            .join("\n---\n"),
    );
    let out = yaml12(&regcred_in(dir, &["render", "-f", spec, "manifests/"]).stdout);
    let managed = |i: &Json| i["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "regcred";
    let secrets = common::of_kind(&out, "Secret")
        .into_iter()
        .filter(|s| managed(s))
        .count();
    let created = common::of_kind(&out, "ServiceAccount")
        .into_iter()
        .filter(|s| managed(s))
        .count();
    let key = |i: &Json| {
        format!(
            "{}/{}",
            i["metadata"]["namespace"].as_str().unwrap_or_default(),
            i["metadata"]["name"].as_str().unwrap_or_default()
        )
    };
    let patched = common::of_kind(&out, "ServiceAccount")
        .into_iter()
        .filter(|sa| !managed(sa))
        .filter(|sa| {
            let before = input
                .iter()
                .find(|i| i["kind"] == "ServiceAccount" && key(i) == key(sa))
                .expect("an unmanaged SA comes from the input");
            before["imagePullSecrets"] != sa["imagePullSecrets"]
        })
        .count();
    (secrets, patched, created)
}

#[test]
fn cli_render_example_goldens_and_facts() {
    let outputs = goldens_for("cli-render", "regcred.yaml");
    let text = output(&outputs, "text");
    let md = output(&outputs, "markdown");
    let json: Json = serde_json::from_str(output(&outputs, "json")).unwrap();

    // Skipped namespaces, each with its reason, in every format.
    let skipped = [
        ("legacy", "opt-out annotation regcred.dev/skip"),
        ("sandbox-alice", "excluded by pattern \"sandbox-*\""),
    ];
    for (ns, reason) in skipped {
        assert_eq!(text_row(text, ns), [ns, "regcred", reason], "{text}");
        assert!(
            md.contains(&format!("| {ns} | regcred | {reason} |")),
            "{md}"
        );
    }
    let json_skipped: Vec<(String, String)> = json["specs"][0]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["namespace"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        json_skipped,
        skipped.map(|(n, r)| (n.to_string(), r.to_string()))
    );

    // Targets: payments patches its existing default SA, shop gets one created.
    let registries = "registry.example.com:5000, ghcr.io, quay.io";
    assert_eq!(
        text_row(text, "payments"),
        [
            "payments", "regcred", "regcred", registries, "default", "-", "-"
        ]
    );
    assert_eq!(
        text_row(text, "shop"),
        [
            "shop", "regcred", "regcred", registries, "-", "default", "-"
        ]
    );
    for ns in ["legacy", "sandbox-alice"] {
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with(ns) && l.contains(registries)),
            "skipped namespace {ns} listed as a target:\n{text}"
        );
    }

    // The summary row agrees with what render emits.
    let (secrets, patched, created) = rendered_counts(&example("cli-render"), "regcred.yaml");
    let expected = vec![2, secrets, patched, created, 0];
    assert_eq!(
        numbers(&row_after(text, "SECRETS-DESIRED")),
        expected,
        "{text}"
    );
    assert_eq!(
        numbers(&row_after(md, "| SECRETS-DESIRED")),
        expected,
        "{md}"
    );
    assert_eq!(
        json["summary"],
        serde_json::json!({
            "secrets_desired": 2,
            "secrets_rendered": secrets,
            "service_accounts_patched": patched,
            "service_accounts_created": created,
            "workloads_injected": 0,
        })
    );
}

#[test]
fn image_check_example_goldens_and_facts() {
    let outputs = goldens_for("image-check", "regcred-inject.yaml");
    let text = output(&outputs, "text");
    let md = output(&outputs, "markdown");
    let json: Json = serde_json::from_str(output(&outputs, "json")).unwrap();

    // Injected workloads: the two that pull from registry.example.com, not
    // cache (redis only).
    assert_eq!(
        text_row(text, "batch"),
        [
            "batch",
            "regcred",
            "regcred",
            "registry.example.com",
            "-",
            "default",
            "CronJob/nightly-report"
        ]
    );
    assert_eq!(text_row(text, "shop")[6], "Deployment/storefront");
    assert!(!text.contains("Deployment/cache"), "{text}");
    assert!(md.contains("| CronJob/nightly-report |"), "{md}");
    let injected: Vec<Vec<&str>> = json["specs"][0]["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            n["injected"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(
        injected,
        [
            vec!["CronJob/nightly-report"],
            vec!["Deployment/storefront"]
        ]
    );
    // Nothing skipped here: no SKIPPED table.
    assert!(!text.contains("SKIPPED"), "{text}");

    let (secrets, patched, created) =
        rendered_counts(&example("image-check"), "regcred-inject.yaml");
    let expected = vec![2, secrets, patched, created, 2];
    assert_eq!(numbers(&row_after(text, "SECRETS-DESIRED")), expected);
    assert_eq!(numbers(&row_after(md, "| SECRETS-DESIRED")), expected);
    assert_eq!(json["summary"]["workloads_injected"], 2);

    // Without injection the INJECTED column is empty and the count 0.
    let plain = explain(&example("image-check"), "regcred.yaml", "text").stdout;
    assert_eq!(text_row(&plain, "batch")[6], "-");
    assert_eq!(numbers(&row_after(&plain, "SECRETS-DESIRED"))[4], 0);
}

#[test]
fn skipped_reasons_cover_default_excludes_selectors_and_several_specs() {
    let t = TempDir::new("explain");
    let password = "canary-explain-pw-9Hq3";
    t.write("creds/pw.txt", password);
    let body = |name: &str, namespaces: &str| {
        format!(
            "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata:\n  name: {name}\nspec:\n  registries:\n  - server: registry.example.com\n    username: robot\n    password: {{file: creds/pw.txt}}\n{namespaces}"
        )
    };
    t.write("all.yaml", &body("all", ""));
    t.write(
        "sel.yaml",
        &body(
            "sel",
            "  namespaces:\n    selector: {matchLabels: {pull: \"yes\"}}\n",
        ),
    );
    t.write(
        "manifests/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: team-a, labels: {pull: \"yes\"}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: team-b}\n",
    );
    let out = regcred_in(
        t.path(),
        &["explain", "-f", "all.yaml", "-f", "sel.yaml", "manifests/"],
    );
    out.assert_no_canary(password);
    let text = &out.stdout;
    assert_eq!(text_row(text, "team-a").len(), 7);
    let skipped: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("SKIPPED"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(skipped.len(), 3, "{text}");
    assert!(
        skipped.iter().any(|l| l.starts_with("kube-system")
            && l.contains(" all ")
            && l.contains("excluded by default")),
        "{text}"
    );
    assert!(
        skipped
            .iter()
            .any(|l| l.starts_with("team-b") && l.contains(" sel ") && l.contains("selector")),
        "{text}"
    );
    // Three (namespace, spec) pairs are targeted: team-a twice, team-b once.
    assert_eq!(numbers(&row_after(text, "SECRETS-DESIRED"))[0], 3, "{text}");
}
