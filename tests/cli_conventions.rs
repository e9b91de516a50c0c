//! CLI conventions: shell completions, the man page, help with examples,
//! `--version`, `--quiet`/`--verbose`, compact `warning: field: message`
//! lines on stderr, and colour only on a terminal without `NO_COLOR`.

use crate::common::{self, Out, TempDir, regcred, run, tool};
use std::path::Path;
use std::process::Command;

const CANARY: &str = "CANARY-cli-literal-5e2c";

/// A directory with a spec holding a literal password (a warning) and a manifest.
fn workdir() -> TempDir {
    let t = TempDir::new("cli");
    t.write(
        "regcred.yaml",
        &common::spec(&format!(
            "  registries:\n  - server: registry.example.com\n    username: robot\n    password: {CANARY}\n"
        )),
    );
    t.write(
        "app.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
    );
    t
}

fn render(t: &TempDir, global: &[&str]) -> Out {
    run(
        regcred()
            .current_dir(t.path())
            .env_remove("NO_COLOR")
            .args(global)
            .args(["render", "-f", "regcred.yaml", "app.yaml"]),
        "",
    )
}

const WARNING: &str = "warning: spec.registries[0].password: ";

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = run(regcred().args(["completions", shell]), "");
        out.assert_ok();
        assert!(
            out.stdout.contains("render") && out.stdout.contains("encrypt"),
            "{shell}: subcommands missing"
        );
        assert!(out.stdout.contains("regcred"), "{shell}");
        assert!(
            out.stdout.contains("install-plugin") && out.stdout.contains("output-dir"),
            "{shell}: incomplete"
        );
    }
    // The bash script is valid bash and defines the completion.
    let out = run(regcred().args(["completions", "bash"]), "");
    let t = TempDir::new("cli-completion");
    let script = t.write("regcred.bash", &out.stdout);
    let check = run(
        Command::new(tool("bash"))
            .arg("-c")
            .arg(format!(". '{}' && complete -p regcred", script.display())),
        "",
    );
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(check.stdout.contains("regcred"), "{}", check.stdout);
    let bad = run(regcred().args(["completions", "tcsh"]), "");
    assert_ne!(bad.code, 0);
    assert_eq!(bad.stdout, "");
}

#[test]
fn man_page_is_roff_from_the_clap_definitions() {
    let out = run(regcred().arg("man"), "");
    out.assert_ok();
    assert!(
        out.stdout.starts_with('.') || out.stdout.starts_with("'\\\""),
        "not roff: {}",
        &out.stdout[..out.stdout.len().min(80)]
    );
    assert!(out.stdout.contains(".TH regcred"), "no .TH header");
    assert!(out.stdout.contains(".SH NAME") && out.stdout.contains(".SH SYNOPSIS"));
    // roff escapes hyphens.
    for sub in ["render", "encrypt", "install\\-plugin", "completions"] {
        assert!(out.stdout.contains(sub), "{sub} missing from the man page");
    }
    assert!(out.stdout.contains("0.1.0"));
}

/// A file named like a subcommand does not turn the subcommand into a
/// legacy plugin run: the subcommands come from the clap definition.
#[test]
fn subcommands_win_over_a_file_of_the_same_name() {
    let t = TempDir::new("subcommand-file");
    for name in ["man", "fn", "render", "help"] {
        t.write(name, &common::spec("  registries: []\n"));
    }
    let out = run(regcred().current_dir(t.path()).arg("man"), "");
    out.assert_ok();
    assert!(out.stdout.contains(".TH regcred"), "not the man page");
    let out = run(regcred().current_dir(t.path()).arg("help"), "");
    out.assert_ok();
    assert!(out.stdout.contains("Usage:"), "{}", out.stdout);
    // A file that is not a subcommand still runs as the legacy plugin.
    t.write("regcred-config.yaml", &common::spec("  registries: []\n"));
    let out = run(
        regcred().current_dir(t.path()).arg("regcred-config.yaml"),
        "",
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("spec.registries"),
        "expected the plugin's spec error: {}",
        out.stderr
    );
}

#[test]
fn help_of_every_command_has_examples() {
    let cases: Vec<Vec<&str>> = vec![
        vec!["--help"],
        vec!["render", "--help"],
        vec!["fn", "--help"],
        vec!["install-plugin", "--help"],
        vec!["encrypt", "--help"],
        vec!["decrypt", "--help"],
        vec!["keygen", "--help"],
        vec!["completions", "--help"],
        vec!["man", "--help"],
        vec!["cmp", "--help"],
        vec!["post-render", "--help"],
    ];
    let mut missing = Vec::new();
    for args in &cases {
        let out = run(regcred().args(args), "");
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(out.stdout.contains("Usage:"), "{args:?}: {}", out.stdout);
        if !out.stdout.contains("Example") {
            missing.push(args.join(" "));
        }
    }
    assert!(
        missing.is_empty(),
        "no \"Example\" in the help of: {missing:?}"
    );
}

#[test]
fn version() {
    let out = run(regcred().arg("--version"), "");
    out.assert_ok();
    assert_eq!(out.stdout.trim(), "regcred 0.1.0");
    let short = run(regcred().arg("-V"), "");
    assert_eq!(short.stdout.trim(), "regcred 0.1.0");
}

#[test]
fn warnings_are_compact_and_on_stderr() {
    let t = workdir();
    let out = render(&t, &[]);
    out.assert_ok();
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
    assert!(
        warnings[0].starts_with(WARNING) && warnings[0].len() > WARNING.len(),
        "{}",
        warnings[0]
    );
    assert!(!out.stdout.contains("warning"), "warning on stdout");
    out.assert_no_canary(CANARY);
    assert!(!out.stderr.contains("info:"), "{}", out.stderr);
}

#[test]
fn quiet_drops_warnings_but_not_errors() {
    let t = workdir();
    for flag in ["--quiet", "-q"] {
        let out = render(&t, &[flag]);
        out.assert_ok();
        assert_eq!(out.stderr, "", "{flag}: {}", out.stderr);
        assert!(out.stdout.contains("kind: Secret"));
        // After the subcommand too (a global flag).
        let after = run(
            regcred().current_dir(t.path()).args([
                "render",
                flag,
                "-f",
                "regcred.yaml",
                "app.yaml",
            ]),
            "",
        );
        after.assert_ok();
        assert_eq!(after.stderr, "", "{flag} after the subcommand");
        // Errors still print.
        let err = run(
            regcred().current_dir(t.path()).args([
                flag,
                "render",
                "-f",
                "regcred.yaml",
                "missing.yaml",
            ]),
            "",
        );
        assert_eq!(err.code, 1);
        assert_eq!(err.stdout, "");
        assert!(
            err.stderr.starts_with("error: ") && err.stderr.contains("missing.yaml"),
            "{}",
            err.stderr
        );
    }
    let both = run(regcred().args(["-q", "-v", "render", "-f", "x.yaml"]), "");
    assert_ne!(both.code, 0, "--quiet with --verbose is refused");
}

#[test]
fn verbose_adds_an_info_summary() {
    let t = workdir();
    for flag in ["--verbose", "-v"] {
        let out = render(&t, &[flag]);
        out.assert_ok();
        let info: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("info: "))
            .collect();
        assert!(!info.is_empty(), "{flag}: {}", out.stderr);
        assert!(info.iter().any(|l| l.contains("Secret")), "{info:?}");
        assert!(out.stderr.contains(WARNING), "warnings stay with --verbose");
        // stdout is the same stream as without the flag.
        assert_eq!(out.stdout, render(&t, &[]).stdout);
    }
}

/// Runs regcred with stderr on a pseudo-terminal (stdout on a pipe) and
/// returns what the terminal received.
fn on_terminal(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let script = r#"
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
data = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
p.wait()
sys.stdout.write(data.decode("utf-8", "replace"))
"#;
    let mut cmd = Command::new(tool("python3"));
    cmd.current_dir(dir)
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color")
        .args(["-c", script])
        .arg(common::bin())
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(&mut cmd, "");
    assert_eq!(out.code, 0, "pty runner failed: {}", out.stderr);
    out.stdout
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let t = workdir();
    let args = ["render", "-f", "regcred.yaml", "app.yaml"];

    let tty = on_terminal(t.path(), &[], &args);
    let line = tty
        .lines()
        .find(|l| l.contains("warning:"))
        .unwrap_or_else(|| panic!("no warning on the terminal: {tty:?}"));
    assert!(
        line.starts_with('\x1b') && line.contains("\x1b[0m"),
        "warning: prefix not coloured on a terminal: {line:?}"
    );
    // Only the prefix: the field and message stay plain.
    assert!(
        line.contains("\x1b[0m spec.registries[0].password: "),
        "{line:?}"
    );

    // Errors too.
    let err = on_terminal(t.path(), &[], &["render", "-f", "missing.yaml"]);
    assert!(err.contains("\x1b[") && err.contains("error:"), "{err:?}");

    for (k, v) in [("NO_COLOR", "1"), ("TERM", "dumb")] {
        let plain = on_terminal(t.path(), &[(k, v)], &args);
        assert!(plain.contains(WARNING), "{k}={v}: {plain:?}");
        assert!(!plain.contains('\x1b'), "{k}={v}: colour anyway: {plain:?}");
    }
    let plain = on_terminal(
        t.path(),
        &[("NO_COLOR", "1")],
        &["render", "-f", "missing.yaml"],
    );
    assert!(
        plain.contains("error:") && !plain.contains('\x1b'),
        "{plain:?}"
    );

    // stderr on a pipe: never coloured.
    let piped = render(&t, &[]);
    assert!(piped.stderr.contains(WARNING));
    assert!(!piped.stderr.contains('\x1b'), "{:?}", piped.stderr);
    assert!(!piped.stdout.contains('\x1b'));
}
