//! Hostile input: manifests from another team, a pull request from a fork,
//! files in an Argo CD app directory, damaged encrypted files. regcred must
//! fail closed with a clear message (never a crash, a hang, a write outside
//! `-o DIR` or ciphertext used as a password), and leak no credential.

use crate::common::{self, Out, TempDir, regcred, run, tool};
use std::path::Path;
use std::process::Command;

const CANARY: &str = "CANARY-hostile-7f3a19";
const OUTSIDE: &str = "OUTSIDE-FILE-91c2e4";

/// A spec reading its password from `creds/pw`, targeting `app`.
fn spec_with_password_file(file: &str) -> String {
    common::spec(&format!(
        "  registries:\n  - {{server: r.example.com, username: robot, password: {{file: {file}}}}}\n  namespaces: {{names: [app]}}\n"
    ))
}

fn render(dir: &Path, args: &[&str]) -> Out {
    common::render_in(dir, args)
}

fn failed(out: &Out, needles: &[&str]) {
    assert_eq!(
        out.code, 1,
        "expected exit 1:\n{}\n{}",
        out.stdout, out.stderr
    );
    for n in needles {
        assert!(
            out.stderr.contains(n),
            "stderr lacks {n:?}:\n{}",
            out.stderr
        );
    }
    out.assert_no_canary(CANARY);
    out.assert_no_canary(OUTSIDE);
}

/// Every file below `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// `w` is a repository of its own (the confinement root), `outside.txt`
/// lies beside it.
fn workspace(tag: &str) -> TempDir {
    let t = TempDir::new(tag);
    std::fs::create_dir_all(t.path().join("w/.git")).unwrap();
    t.write("w/creds/pw", &format!("{CANARY}\n"));
    t.write("w/regcred.yaml", &spec_with_password_file("creds/pw"));
    t.write("outside.txt", &format!("{OUTSIDE}\n"));
    t
}

/// Issue item 1: Namespaces and names that would lead an `-o DIR` path elsewhere, or
/// that the API server would reject, are refused in every mode, naming the
/// file and the object; nothing is written.
#[test]
fn object_names_cannot_lead_output_out_of_the_directory() {
    let cases = [
        ("settings", "../../escaped", "../../escaped"),
        ("settings", "/tmp/abs", "/tmp/abs"),
        ("settings", "Bad_NS", "Bad_NS"),
        ("../x", "app", "../x"),
    ];
    for (name, namespace, shown) in cases {
        let t = workspace("hostile-names");
        let w = t.path().join("w");
        let doc = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\n"
        );
        t.write("w/app.yaml", &doc);
        let out = render(&w, &["app.yaml", "-o", "out"]);
        failed(&out, &["app.yaml", "ConfigMap", shown, "is not a valid"]);
        assert!(
            tree(t.path()).iter().all(|p| !p.contains("secret-")),
            "{:?}",
            tree(t.path())
        );
        // KRM: the error comes back as a result, the items unchanged.
        let rl = common::resource_list(
            std::slice::from_ref(&doc),
            &spec_with_password_file("creds/pw"),
        );
        let out = run(regcred().current_dir(&w), &rl);
        failed(&out, &[shown]);
        let back = common::yaml12(&out.stdout);
        assert_eq!(back[0]["results"][0]["severity"], "error", "{}", out.stdout);
        assert_eq!(back[0]["items"][0]["metadata"]["name"], name);
        // Legacy plugin.
        let out = run(
            regcred()
                .current_dir(&w)
                .env("KUSTOMIZE_PLUGIN_CONFIG_ROOT", &w)
                .arg(w.join("regcred.yaml")),
            &doc,
        );
        failed(&out, &[shown]);
        assert_eq!(out.stdout, "");
    }
    let t = workspace("hostile-default-ns");
    t.write(
        "w/app.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    );
    let out = render(
        &t.path().join("w"),
        &["app.yaml", "-n", "../up", "-o", "out"],
    );
    failed(&out, &["default namespace", "../up"]);
}

const APP: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n";

/// Issue item 2: `-o DIR` never writes or deletes through a symlink, prunes only files
/// it wrote (marked), and refuses to overlap its inputs.
#[test]
fn output_directory_is_never_written_or_pruned_through_links() {
    let t = workspace("hostile-out");
    let w = t.path().join("w");
    t.write("w/app.yaml", APP);
    assert_eq!(render(&w, &["app.yaml", "-o", "out"]).code, 0);
    let secret = w.join("out/app/secret-regcred.yaml");
    let first_line = std::fs::read_to_string(&secret).unwrap();
    assert!(
        first_line.starts_with("# Rendered by regcred"),
        "{first_line}"
    );

    // A link where the Secret goes is replaced, never written through.
    let victim = t.write("victim.txt", "victim\n");
    std::fs::remove_file(&secret).unwrap();
    std::os::unix::fs::symlink(&victim, &secret).unwrap();
    assert_eq!(render(&w, &["app.yaml", "-o", "out"]).code, 0);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim\n");
    assert!(!secret.is_symlink());

    // Files regcred did not write, and files behind a symlinked directory,
    // are never pruned, even when named like its output.
    let own = t.write(
        "w/out/app/configmap-mine.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: mine, namespace: app}\n",
    );
    let elsewhere = t.write(
        "elsewhere/configmap-x.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    std::os::unix::fs::symlink(t.path().join("elsewhere"), w.join("out/linked")).unwrap();
    assert_eq!(render(&w, &["app.yaml", "-o", "out"]).code, 0);
    assert!(own.exists(), "pruned a file regcred never wrote");
    assert!(elsewhere.exists(), "pruned through a symlinked directory");

    // A stale file regcred wrote (it carries the marker) is pruned.
    t.write(
        "w/app.yaml",
        &format!("{APP}---\n{}", APP.replace("app", "gone")),
    );
    assert_eq!(render(&w, &["app.yaml", "-o", "out"]).code, 0);
    assert!(w.join("out/gone/secret-regcred.yaml").exists());
    t.write("w/app.yaml", APP);
    assert_eq!(render(&w, &["app.yaml", "-o", "out"]).code, 0);
    assert!(!w.join("out/gone").exists(), "a stale marked file was kept");

    // A namespace directory that is a symlink is refused.
    std::fs::remove_dir_all(w.join("out/app")).unwrap();
    std::fs::create_dir_all(t.path().join("target-dir")).unwrap();
    std::os::unix::fs::symlink(t.path().join("target-dir"), w.join("out/app")).unwrap();
    let out = render(&w, &["app.yaml", "-o", "out"]);
    failed(&out, &["is a symlink"]);
    assert!(tree(&t.path().join("target-dir")).is_empty());

    // The output directory may not hold the inputs (or lie inside them).
    t.write(
        "w/m/app/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\n",
    );
    for (input, output) in [("m", "m"), ("m", "m/rendered"), ("m/app/deploy.yaml", "m")] {
        let out = render(&w, &[input, "-o", output]);
        failed(&out, &["overlaps the input"]);
        assert!(w.join("m/app/deploy.yaml").exists());
    }
}

/// Issue item 3: A credential directory swapped for a symlink to the outside while
/// regcred runs never gets the outside file into a Secret.
#[test]
fn swapping_a_credential_directory_for_a_link_never_reads_outside() {
    let t = workspace("hostile-race");
    let w = t.path().join("w");
    t.write("w/app.yaml", APP);
    std::fs::create_dir_all(t.path().join("evil")).unwrap();
    std::fs::write(t.path().join("evil/pw"), format!("{OUTSIDE}\n")).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let (creds, real, evil) = (w.join("creds"), w.join("creds-real"), t.path().join("evil"));
        std::fs::rename(&creds, &real).unwrap();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = std::fs::remove_file(&creds);
                let _ = std::os::unix::fs::symlink(&real, &creds);
                let _ = std::fs::remove_file(&creds);
                let _ = std::os::unix::fs::symlink(&evil, &creds);
            }
        })
    };
    let mut leaks = 0;
    let mut rendered = 0;
    for _ in 0..300 {
        let out = render(&w, &["app.yaml"]);
        assert!(!out.stderr.contains(OUTSIDE));
        rendered += usize::from(out.code == 0);
        if out.code == 0 {
            let docs = common::yaml12(&out.stdout);
            let cfg = common::dockerconfig(common::of_kind(&docs, "Secret")[0]);
            leaks += usize::from(cfg.contains(OUTSIDE));
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().unwrap();
    assert_eq!(
        leaks, 0,
        "{leaks} of {rendered} successful renders read the outside file"
    );
}

/// Issue item 4: The Argo CD plugin does not follow a symlinked directory out of the app.
#[test]
fn argo_cd_plugin_stays_inside_the_app_directory() {
    let t = TempDir::new("hostile-cmp");
    t.write("other/regcred.yaml", &spec_with_password_file("pw"));
    t.write("other/pw", &format!("{OUTSIDE}\n"));
    t.write(
        "other/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: theirs, namespace: app}\n",
    );
    t.write("app/ns.yaml", APP);
    std::os::unix::fs::symlink(t.path().join("other"), t.path().join("app/shared")).unwrap();
    for step in ["discover", "generate"] {
        let out = run(
            regcred()
                .current_dir(t.path().join("app"))
                .env("PARAM_MODE", "render")
                .args(["cmp", step]),
            "",
        );
        failed(&out, &["leads outside"]);
        assert_eq!(out.stdout, "", "{step}");
    }
    std::fs::remove_file(t.path().join("app/shared")).unwrap();
    t.write("app/regcred.yaml", &spec_with_password_file("pw"));
    std::os::unix::fs::symlink(
        t.path().join("other/regcred.yaml"),
        t.path().join("app/linked.yaml"),
    )
    .unwrap();
    let out = run(
        regcred()
            .current_dir(t.path().join("app"))
            .env("PARAM_SPECS_0", "linked.yaml")
            .env("PARAM_MODE", "render")
            .args(["cmp", "generate"]),
        "",
    );
    failed(&out, &[]);
    assert_eq!(out.stdout, "");
}

/// Issue item 5: A FIFO, a device, a directory or an oversized file as a credential is
/// a clear error, not a hang or a huge allocation.
#[test]
fn credential_files_must_be_small_regular_files() {
    let t = workspace("hostile-special");
    let w = t.path().join("w");
    t.write("w/app.yaml", APP);
    let fifo = w.join("creds/fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    std::fs::create_dir_all(w.join("creds/dir")).unwrap();
    std::fs::write(w.join("creds/big"), vec![b'x'; 2 << 20]).unwrap();
    for (file, needle, extra) in [
        ("creds/fifo", "not a regular file", vec![]),
        ("creds/dir", "not a regular file", vec![]),
        ("creds/big", "cannot exceed 1 MiB", vec![]),
        (
            "/dev/zero",
            "not a regular file",
            vec!["--allow-path-outside-root"],
        ),
    ] {
        t.write("w/regcred.yaml", &spec_with_password_file(file));
        let mut args = vec!["app.yaml"];
        args.extend(extra);
        // `timeout` turns a hang into a failure instead of a stuck test.
        let out = run(
            Command::new("timeout")
                .arg("20")
                .arg(common::bin())
                .current_dir(&w)
                .args(["render", "-f", "regcred.yaml"])
                .args(&args),
            "",
        );
        failed(&out, &[file, needle]);
    }
}

/// An alias bomb: nine levels of ten aliases, about 500 bytes.
fn alias_bomb() -> String {
    let mut s = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb, namespace: app}\ndata:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 10].join(", ");
        s.push_str(&format!("  {}: &{} [{refs}]\n", w[1], w[1]));
    }
    s
}

/// Issue items 6 and 7: Alias bombs and deep nesting are clear errors in every mode.
#[test]
fn alias_bombs_and_deep_nesting_fail_cleanly_in_every_mode() {
    let deep = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep, namespace: app}}\ndata:\n  x:\n    {}v\n",
        "- ".repeat(7000)
    );
    let deep_flow = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deep, namespace: app}}\ndata: {{x: {}{}}}\n",
        "[".repeat(7000),
        "]".repeat(7000)
    );
    for (doc, needle) in [
        (alias_bomb(), "alias expansion is limited"),
        (deep.clone(), "nested deeper than"),
        (deep_flow, "invalid YAML"),
    ] {
        let t = workspace("hostile-bomb");
        let w = t.path().join("w");
        t.write("w/app.yaml", &doc);
        failed(&render(&w, &["app.yaml"]), &["app.yaml", needle]);
        let out = run(
            regcred()
                .current_dir(&w)
                .env("KUSTOMIZE_PLUGIN_CONFIG_ROOT", &w)
                .arg(w.join("regcred.yaml")),
            &doc,
        );
        failed(&out, &[needle]);
        let out = run(
            regcred()
                .current_dir(&w)
                .env("PARAM_MODE", "render")
                .args(["cmp", "generate"]),
            "",
        );
        failed(&out, &[needle]);
        assert_eq!(out.stdout, "");
        let rl = common::resource_list(
            std::slice::from_ref(&doc),
            &spec_with_password_file("creds/pw"),
        );
        let out = run(regcred().current_dir(&w), &rl);
        failed(&out, &[needle]);
        let back = common::yaml12(&out.stdout);
        assert_eq!(back[0]["kind"], "ResourceList", "{}", out.stdout);
        assert_eq!(back[0]["results"][0]["severity"], "error");
    }
}

/// A recipient from `regcred keygen` whose identity is thrown away: the
/// files encrypted to it are only ever damaged, never decrypted.
fn throwaway_recipient() -> String {
    let keygen = run(regcred().args(["keygen"]), "");
    keygen
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("Public key: "))
        .expect("regcred keygen prints the public key")
        .to_string()
}

/// Issue item 8: Out-of-range SOPS metadata is an error, not a panic.
#[test]
fn out_of_range_sops_metadata_fails_without_a_panic() {
    let t = workspace("hostile-shamir");
    let w = t.path().join("w");
    t.write("w/app.yaml", APP);
    let public = throwaway_recipient();
    t.write("w/creds/pw.yaml", &format!("password: {CANARY}\n"));
    let enc = run(
        regcred()
            .current_dir(&w)
            .args(["encrypt", "--age", &public, "creds/pw.yaml"]),
        "",
    );
    assert_eq!(enc.code, 0, "{}", enc.stderr);
    // Two key groups holding the same recipient, and a threshold of 0.
    let text = enc.stdout;
    let age_at = text.find("    age:").unwrap();
    let end = text[age_at..].find("    lastmodified").unwrap() + age_at;
    let age_block = &text[age_at..end];
    let regrouped =
        age_block
            .replace("\n    ", "\n          ")
            .replacen("    age:", "        - age:", 1);
    let groups = format!(
        "    key_groups:\n{regrouped}{}    shamir_threshold: 0\n",
        regrouped
    );
    let damaged = format!("{}{}{}", &text[..age_at], groups, &text[end..]);
    t.write("w/creds/pw.enc.yaml", &damaged);
    t.write(
        "w/regcred.yaml",
        &common::spec(
            "  registries:\n  - {server: r.example.com, username: robot, password: {file: creds/pw.enc.yaml, key: password}}\n  namespaces: {names: [app]}\n",
        ),
    );
    let out = render(&w, &["app.yaml"]);
    failed(&out, &["shamir_threshold 0 is out of range"]);
}

/// Issue item 10: A file that looks encrypted but does not decrypt is never used as
/// plaintext, and an empty credential is refused.
#[test]
fn damaged_encrypted_files_are_never_plaintext() {
    let t = workspace("hostile-damaged");
    let w = t.path().join("w");
    t.write("w/app.yaml", APP);
    let public = throwaway_recipient();
    let encrypt = |name: &str, content: &str| -> String {
        t.write(&format!("w/creds/{name}"), content);
        let out = run(
            regcred()
                .current_dir(&w)
                .args(["encrypt", "--age", &public, &format!("creds/{name}")]),
            "",
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout
    };
    let yaml = encrypt("y.yaml", &format!("password: {CANARY}\n"));
    let ini = encrypt("i.ini", &format!("[r]\npassword = {CANARY}\n"));
    let env = encrypt("e.env", &format!("password={CANARY}\n"));
    let age_plain = t.write("plain.txt", &format!("{CANARY}\n"));
    let armored = run(
        Command::new(tool("age"))
            .args(["-r", &public, "-a"])
            .arg(&age_plain),
        "",
    )
    .stdout;
    let binary_age = Command::new(tool("age"))
        .args(["-r", &public])
        .arg(&age_plain)
        .output()
        .unwrap()
        .stdout;
    let cases: Vec<(&str, Vec<u8>, Option<&str>)> = vec![
        (
            "renamed-sops-key.yaml",
            yaml.replace("\nsops:", "\nsopz:").into_bytes(),
            Some("password"),
        ),
        (
            "damaged.ini",
            ini.replace("[sops]", "[sopz]").into_bytes(),
            Some("r.password"),
        ),
        (
            "damaged.env",
            env.replace("sops_mac=", "sops_mak=").into_bytes(),
            Some("password"),
        ),
        (
            "agx.txt",
            armored.replace("BEGIN AGE", "BEGIN AGX").into_bytes(),
            None,
        ),
        ("lower.txt", armored.to_ascii_lowercase().into_bytes(), None),
        (
            "garbage.txt",
            format!("garbage\n{armored}").into_bytes(),
            None,
        ),
        (
            "message.txt",
            armored.replace("FILE-----", "MESSAGE-----").into_bytes(),
            None,
        ),
        ("cut.age", binary_age[..10].to_vec(), None),
    ];
    for (name, bytes, key) in cases {
        std::fs::write(w.join("creds").join(name), &bytes).unwrap();
        let source = match key {
            Some(k) => format!("{{file: creds/{name}, key: {k}}}"),
            None => format!("{{file: creds/{name}}}"),
        };
        t.write(
            "w/regcred.yaml",
            &common::spec(&format!(
                "  registries:\n  - {{server: r.example.com, username: robot, password: {source}}}\n  namespaces: {{names: [app]}}\n"
            )),
        );
        let out = run(
            regcred().current_dir(&w).env("HOME", t.path()).args([
                "render",
                "-f",
                "regcred.yaml",
                "app.yaml",
            ]),
            "",
        );
        failed(&out, &[name]);
        assert!(
            !out.stdout.contains("ENC["),
            "{name}: ciphertext in the output"
        );
    }
    t.write("w/creds/empty", "");
    t.write("w/regcred.yaml", &spec_with_password_file("creds/empty"));
    failed(
        &render(&w, &["app.yaml"]),
        &["spec.registries[0].password.file", "empty"],
    );
}

/// Issue item 12: `auth` values kubelet cannot decode are refused, in the spec and in
/// imported docker config files, without showing them.
#[test]
fn auth_values_must_be_base64_of_user_and_password() {
    let t = workspace("hostile-auth");
    let w = t.path().join("w");
    t.write("w/app.yaml", APP);
    let bad = [CANARY.to_string(), format!("{}=", "QUJD")]; // not base64; base64 of "ABC" (no colon)
    for value in &bad {
        t.write(
            "w/regcred.yaml",
            &common::spec(&format!(
                "  registries:\n  - {{server: r.example.com, auth: '{value}'}}\n  namespaces: {{names: [app]}}\n"
            )),
        );
        failed(
            &render(&w, &["app.yaml"]),
            &["spec.registries[0].auth", "base64(username:password)"],
        );
        t.write(
            "w/creds/config.json",
            &format!("{{\"auths\": {{\"r.example.com\": {{\"auth\": \"{value}\"}}}}}}"),
        );
        t.write(
            "w/regcred.yaml",
            &common::spec(
                "  registries:\n  - dockerConfig: {file: creds/config.json}\n  namespaces: {names: [app]}\n",
            ),
        );
        failed(
            &render(&w, &["app.yaml"]),
            &["creds/config.json", "base64(username:password)"],
        );
    }
}

/// Issue item 18: Legacy-plugin errors name the kustomization and the spec, never
/// kustomize's temporary copy of the config, under the real kubectl.
#[test]
fn plugin_errors_name_the_kustomization_not_a_temporary_file() {
    let t = workspace("hostile-plugin");
    let home = t.path().join("plugins");
    let installed = run(
        regcred()
            .args(["install-plugin", "--plugin-home"])
            .arg(&home),
        "",
    );
    assert_eq!(installed.code, 0, "{}", installed.stderr);
    let app = t.path().join("w");
    t.write("w/app.yaml", APP);
    t.write("w/regcred.yaml", &spec_with_password_file("../outside.txt"));
    t.write(
        "w/kustomization.yaml",
        "resources: [app.yaml]\ntransformers: [regcred.yaml]\n",
    );
    let out = run(
        Command::new(tool("kubectl"))
            .args(["kustomize", "--enable-alpha-plugins"])
            .arg(&app)
            .env("KUSTOMIZE_PLUGIN_HOME", &home),
        "",
    );
    assert_ne!(out.code, 0);
    // kustomize adds its own line naming the copy; regcred's message does not.
    let ours = out
        .stderr
        .lines()
        .find(|l| l.contains("error: RegistryCredentials \"regcred\" in kustomization"))
        .unwrap_or_else(|| panic!("no message naming the spec:\n{}", out.stderr));
    assert!(ours.contains(app.to_str().unwrap()), "{ours}");
    assert!(!ours.contains("kust-plugin-config"), "{ours}");
    assert!(
        !out.stderr.contains("--allow-path-outside-root"),
        "{}",
        out.stderr
    );
    out.assert_no_canary(OUTSIDE);
}

/// Renders `input` (a manifest stream) as a file; the stream it printed.
fn render_text(t: &TempDir, input: &str) -> Out {
    t.write("w/in.yaml", input);
    render(&t.path().join("w"), &["in.yaml"])
}

/// Issue item 13: regcred's own output reads back the same in regcred,
/// PyYAML (YAML 1.1) and kubectl's kustomize.
#[test]
fn output_yaml_keeps_its_meaning_for_every_reader() {
    let t = workspace("hostile-yaml-out");
    let cm = |data: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: app}}\ndata:\n{data}\n"
        )
    };
    // The meaning the YAML spec gives each input (PyYAML itself reads
    // `! 8080` as a number, against the spec; kubectl follows it).
    let cases = [
        (
            "multi-line plain with a blank line",
            cm("  k: a\n\n    b\n  l: x"),
            serde_json::json!({"k": "a\nb", "l": "x"}),
        ),
        (
            "non-specific tag",
            cm("  k: ! 8080"),
            serde_json::json!({"k": "8080"}),
        ),
        (
            "U+FFFE and U+FFFF",
            cm("  k: \"a\\uFFFEb\\uFFFFc\""),
            serde_json::json!({"k": "a\u{fffe}b\u{ffff}c"}),
        ),
        (
            "line separator",
            cm("  k: \"a\\u2028c\""),
            serde_json::json!({"k": "a\u{2028}c"}),
        ),
    ];
    for (name, input, meaning) in cases {
        let first = render_text(&t, &input);
        assert_eq!(first.code, 0, "{name}: {}", first.stderr);
        // regcred reads its own output back, and changes nothing.
        let again = render_text(&t, &first.stdout);
        assert_eq!(
            again.code, 0,
            "{name}: regcred cannot read its output:\n{}\n{}",
            first.stdout, again.stderr
        );
        assert_eq!(again.stdout, first.stdout, "{name}: not idempotent");
        // PyYAML sees the meaning of the input.
        let data = |text: &str| common::yaml11(text)[0]["data"].clone();
        assert_eq!(data(&first.stdout), meaning, "{name}:\n{}", first.stdout);
        t.write("k/out.yaml", &first.stdout);
        if name == "U+FFFE and U+FFFF" {
            // kustomize cannot write these back out in YAML at all; kubectl
            // still parses the escapes (it refuses them raw, as regcred
            // used to write them) and only then fails, looking for a server.
            let parsed = run(
                Command::new(tool("kubectl"))
                    .args([
                        "create",
                        "--dry-run=client",
                        "--validate=false",
                        "-o",
                        "json",
                        "-f",
                    ])
                    .arg(t.path().join("k/out.yaml")),
                "",
            );
            assert!(
                !parsed.stderr.contains("control characters"),
                "{}",
                parsed.stderr
            );
            assert!(
                !parsed.stderr.contains("error parsing"),
                "{}",
                parsed.stderr
            );
            continue;
        }
        // So does kubectl's kustomize.
        t.write("k/kustomization.yaml", "resources: [out.yaml]\n");
        let built = run(
            Command::new(tool("kubectl"))
                .arg("kustomize")
                .arg(t.path().join("k")),
            "",
        );
        assert_eq!(
            built.code, 0,
            "{name}: kubectl refuses regcred's output:\n{}\n{}",
            first.stdout, built.stderr
        );
        let cm = common::yaml11(&built.stdout)
            .into_iter()
            .find(|d| d["kind"] == "ConfigMap")
            .unwrap();
        assert_eq!(cm["data"], meaning, "{name}: kubectl reads it differently");
    }
    // A global tag is written verbatim, and reads back as the same tag.
    let tagged = cm("  k: !<tag:example.com,2000:x> v");
    let first = render_text(&t, &tagged);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stdout.contains("k: !<tag:example.com,2000:x> v"),
        "{}",
        first.stdout
    );
    assert_eq!(render_text(&t, &first.stdout).stdout, first.stdout);
    // Characters YAML does not allow are refused, naming the line.
    let out = render_text(&t, &cm("  k: a\u{1}b"));
    failed(&out, &["in.yaml", "line 5", "U+0001"]);
}

/// Issue item 14: a byte-order mark is accepted; duplicate keys, non-UTF-8
/// input and aliases across the ResourceList are handled, not mangled.
#[test]
fn byte_order_marks_and_resource_list_framing() {
    let t = workspace("hostile-framing");
    let w = t.path().join("w");
    t.write("w/app.yaml", &format!("\u{feff}{APP}"));
    t.write(
        "w/regcred.yaml",
        &format!("\u{feff}{}", spec_with_password_file("creds/pw")),
    );
    let out = render(&w, &["app.yaml"]);
    assert_eq!(out.code, 0, "a BOM is refused: {}", out.stderr);
    assert!(out.stdout.contains("kind: Secret"));
    assert!(!out.stdout.contains('\u{feff}'));

    let spec = spec_with_password_file("creds/pw");
    let item = |name: &str| {
        format!(
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: {name}, namespace: app}}\n"
        )
    };
    let indented: String = spec.lines().map(|l| format!("  {l}\n")).collect();
    let twice = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{}items:\n{}functionConfig:\n{indented}",
        item("one"),
        item("two")
    );
    let out = run(regcred().current_dir(&w), &twice);
    failed(&out, &["duplicate"]);

    // An alias in `items` to an anchor in `functionConfig` is valid YAML.
    let anchored = indented.replacen("  metadata:\n", "  metadata: &m\n", 1);
    assert_ne!(
        anchored, indented,
        "the spec has no block metadata to anchor"
    );
    let aliased = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n{anchored}items:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: *m\n"
    );
    let out = run(regcred().current_dir(&w), &aliased);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let back = common::yaml12(&out.stdout);
    assert_eq!(back[0]["items"][0]["kind"], "ConfigMap", "{}", out.stdout);
    assert_eq!(back[0]["items"][0]["metadata"]["name"], "regcred");

    let mut raw =
        b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n# \xff\n".to_vec();
    raw.extend_from_slice(b"functionConfig: {}\n");
    let mut child = regcred()
        .current_dir(&w)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&raw).unwrap();
    let done = child.wait_with_output().unwrap();
    assert_eq!(done.status.code(), Some(1));
    let back = common::yaml12(&String::from_utf8_lossy(&done.stdout));
    assert_eq!(
        back[0]["kind"], "ResourceList",
        "no ResourceList for non-UTF-8 input"
    );
    assert_eq!(back[0]["results"][0]["severity"], "error");
}

/// Issue item 10: genuine sops output with a YAML merge key (`!!merge <<`)
/// decrypts; it is neither refused nor read as plaintext.
#[test]
fn sops_files_with_merge_keys_decrypt() {
    let t = workspace("hostile-merge");
    let w = t.path().join("w");
    t.write("w/app.yaml", APP);
    let (key, public) = common::age_key(t.path(), "key.txt");
    let plain = t.write(
        "w/creds/m.yaml",
        &format!("base: &b\n  user: robot\n  token: t0k\nreg:\n  <<: *b\n  token: {CANARY}\n"),
    );
    let enc = run(
        Command::new(tool("sops"))
            .env("SOPS_AGE_KEY_FILE", &key)
            .args(["--encrypt", "--age", &public])
            .arg(&plain),
        "",
    );
    assert_eq!(enc.code, 0, "{}", enc.stderr);
    assert!(
        enc.stdout.contains("!!merge <<"),
        "sops no longer writes merge keys so:\n{}",
        enc.stdout
    );
    std::fs::remove_file(&plain).unwrap();
    t.write("w/creds/m.enc.yaml", &enc.stdout);
    t.write(
        "w/regcred.yaml",
        &common::spec("  registries:\n  - {server: r.example.com, username: robot, password: {file: creds/m.enc.yaml, key: reg.token}}\n  namespaces: {names: [app]}\n"),
    );
    let out = run(
        regcred()
            .current_dir(&w)
            .env("SOPS_AGE_KEY_FILE", &key)
            .args(["render", "-f", "regcred.yaml", "app.yaml"]),
        "",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let docs = common::yaml12(&out.stdout);
    let cfg = common::dockerconfig(common::of_kind(&docs, "Secret")[0]);
    assert!(
        cfg.contains(CANARY),
        "the merged mapping's own key was not read"
    );
}
