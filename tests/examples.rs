//! Every example under examples/ runs as its README says and prints exactly
//! its expected file.
//!
//! For each directory with a `run` script (and each `run-*` script next to
//! it) the test puts a `regcred` symlink to the built binary first on PATH,
//! installs the legacy kustomize plugin into a temporary plugin home, runs
//! the script with bash in the example directory and compares stdout byte
//! for byte with `expected.yaml` (`run-X` -> `expected-X.yaml`). Scripts
//! that call kubectl run twice, under the machine's kubectl (kustomize v5.5
//! inside) and under the newest one, so the legacy plugin path is exercised
//! end to end with both; scripts that run `kustomize build` get the pinned
//! standalone kustomize on PATH.
//!
//! The example README must show every command line of its scripts, and any
//! YAML block marked `<!-- from expected.yaml -->` (or another expected
//! file) must be a verbatim excerpt of that file, so the docs cannot drift
//! from what the tool prints.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;

/// One script of one example and the file holding its expected stdout.
struct Script {
    dir: PathBuf,
    name: String,
    expected: String,
}

fn examples_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Every `run` / `run-*` script of every example directory, sorted.
fn scripts() -> Vec<Script> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(examples_root())
        .expect("examples/ must exist")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("run").is_file())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n == "run" || n.starts_with("run-"))
            .collect();
        names.sort();
        for name in names {
            let expected = format!("expected{}.yaml", &name["run".len()..]);
            out.push(Script {
                dir: dir.clone(),
                name,
                expected,
            });
        }
    }
    out
}

/// The lines of a script that do something: not the shebang, comments,
/// blank lines or `set` options.
fn command_lines(script: &str) -> Vec<String> {
    script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("set "))
        .map(str::to_string)
        .collect()
}

/// Fenced blocks preceded by `<!-- from FILE -->`: (FILE, block text).
fn marked_excerpts(readme: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let marker = lines[i]
            .trim()
            .strip_prefix("<!-- from ")
            .and_then(|r| r.strip_suffix(" -->"));
        if let Some(file) = marker {
            assert!(
                lines.get(i + 1).is_some_and(|l| l.starts_with("```")),
                "marker `{}` must be followed by a fenced block",
                lines[i]
            );
            let mut block = String::new();
            let mut j = i + 2;
            while j < lines.len() && !lines[j].starts_with("```") {
                block.push_str(lines[j]);
                block.push('\n');
                j += 1;
            }
            out.push((file.to_string(), block));
            i = j;
        }
        i += 1;
    }
    out
}

/// `dirs` first, then the test's own PATH.
fn path_with(dirs: &[&Path]) -> String {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    let all = dirs
        .iter()
        .map(|d| d.to_path_buf())
        .chain(std::env::split_paths(&rest));
    std::env::join_paths(all)
        .unwrap()
        .into_string()
        .expect("PATH is UTF-8")
}

/// Symlinks `target` at `link` unless an earlier script did.
fn link_once(target: &Path, link: &Path) {
    if !link.exists() {
        std::os::unix::fs::symlink(target, link).unwrap();
    }
}

#[test]
fn every_example_prints_its_expected_output() {
    let scripts = scripts();
    let examples: std::collections::BTreeSet<&Path> =
        scripts.iter().map(|s| s.dir.as_path()).collect();
    assert!(
        examples.len() >= 4,
        "expected at least 4 examples with a `run` script under {}, found {}",
        examples_root().display(),
        examples.len()
    );

    let tmp = common::TempDir::new("examples");
    let bin_dir = tmp.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(common::bin(), bin_dir.join("regcred")).unwrap();
    let plugin_home = tmp.path().join("plugins");
    let install = common::run(
        Command::new(bin_dir.join("regcred"))
            .args(["install-plugin", "--plugin-home"])
            .arg(&plugin_home),
        "",
    );
    assert_eq!(
        install.code, 0,
        "regcred install-plugin failed:\n{}",
        install.stderr
    );
    let path = path_with(&[&bin_dir]);
    // The same PATH with the newest kubectl named `kubectl` in front.
    let newest_dir = tmp.path().join("newest-kubectl");
    std::fs::create_dir_all(&newest_dir).unwrap();
    let newest_path = path_with(&[&newest_dir, &bin_dir]);

    let mut failures = Vec::new();
    for s in &scripts {
        let label = format!(
            "examples/{}/{}",
            s.dir.file_name().unwrap().to_string_lossy(),
            s.name
        );
        let script = std::fs::read_to_string(s.dir.join(&s.name)).unwrap();
        // tool() fails (never skips) with an install hint when one is missing.
        let mut paths = vec![(label.clone(), path.clone())];
        if script.contains("kubectl") {
            common::tool("kubectl");
            link_once(&common::tool("kubectl-newest"), &newest_dir.join("kubectl"));
            paths.push((format!("{label} (newest kubectl)"), newest_path.clone()));
        }
        if script.contains("kustomize build") {
            link_once(&common::tool("kustomize"), &bin_dir.join("kustomize"));
        }
        if script.contains("helm template") {
            link_once(&common::tool("helm"), &bin_dir.join("helm"));
        }
        let expected = std::fs::read_to_string(s.dir.join(&s.expected))
            .unwrap_or_else(|e| panic!("{label}: cannot read {}: {e}", s.expected));
        for (label, path) in &paths {
            let out = common::run(
                Command::new("bash")
                    .arg(&s.name)
                    .current_dir(&s.dir)
                    .env("PATH", path)
                    .env("KUSTOMIZE_PLUGIN_HOME", &plugin_home),
                "",
            );
            if out.code != 0 {
                failures.push(format!(
                    "{label}: exit {}, stderr:\n{}",
                    out.code, out.stderr
                ));
            } else if out.stdout != expected {
                failures.push(format!(
                    "{label}: stdout differs from {} (regenerate it only if the change is intended)\n--- stdout:\n{}\n--- stderr:\n{}",
                    s.expected, out.stdout, out.stderr
                ));
            }
        }
        // A drift check (`--check`) prints nothing when the output is current;
        // `check` and `explain` print reports, not manifests.
        let is_report = std::fs::read_to_string(s.dir.join(&s.name)).is_ok_and(|t| {
            t.contains("--check") || t.contains("regcred check") || t.contains("regcred explain")
        });
        if !is_report && !expected.contains("app.kubernetes.io/managed-by: regcred") {
            failures.push(format!(
                "{label}: {} holds nothing regcred generated",
                s.expected
            ));
        }

        let readme_path = s.dir.join("README.md");
        let readme = std::fs::read_to_string(&readme_path)
            .unwrap_or_else(|e| panic!("{label}: cannot read {}: {e}", readme_path.display()));
        let commands = command_lines(&script);
        if commands.is_empty() {
            failures.push(format!("{label}: the script runs no command"));
        }
        for line in commands {
            if !readme.contains(&line) {
                failures.push(format!(
                    "{label}: README.md does not show the command `{line}`"
                ));
            }
        }
        if !readme.contains(&s.expected) {
            failures.push(format!(
                "{label}: README.md does not mention {}",
                s.expected
            ));
        }
    }

    for dir in &examples {
        let readme = std::fs::read_to_string(dir.join("README.md")).unwrap_or_default();
        for (file, block) in marked_excerpts(&readme) {
            let text = std::fs::read_to_string(dir.join(&file)).unwrap_or_default();
            if !text.contains(&block) {
                failures.push(format!(
                    "{}/README.md: block marked `from {file}` is not an excerpt of {file}:\n{block}",
                    dir.display()
                ));
            }
        }
    }

    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn credential_files_in_examples_are_demo_only() {
    // Every file under an example's creds/ holds obviously fake values and
    // the directory says so in a README.
    let mut checked = 0;
    for entry in std::fs::read_dir(examples_root()).unwrap() {
        let creds = entry.unwrap().path().join("creds");
        if !creds.is_dir() {
            continue;
        }
        let readme = std::fs::read_to_string(creds.join("README.md")).unwrap_or_else(|_| {
            panic!(
                "{} needs a README.md saying the files are demo-only",
                creds.display()
            )
        });
        assert!(
            readme.to_lowercase().contains("demo"),
            "{}/README.md must say demo-only",
            creds.display()
        );
        for file in std::fs::read_dir(&creds).unwrap() {
            let file = file.unwrap().path();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if name == "README.md" {
                continue;
            }
            assert!(
                !name.ends_with(".yaml") && !name.ends_with(".yml"),
                "{}: credential files must not be *.yaml (kustomize/kpt directories pick those up)",
                file.display()
            );
            let mut text = std::fs::read_to_string(&file).unwrap();
            if text.contains("ENC[AES256_GCM") || text.contains("BEGIN AGE ENCRYPTED FILE") {
                // Encrypted to the example's demo key: check the plaintext.
                let key = creds.parent().unwrap().join("demo-age-key.txt");
                assert!(
                    std::fs::read_to_string(&key).is_ok_and(|k| k.contains("DEMO ONLY")),
                    "{}: an encrypted example needs a demo-age-key.txt labelled DEMO ONLY",
                    file.display()
                );
                let out = common::run(
                    common::regcred()
                        .arg("decrypt")
                        .arg("--age-key-file")
                        .arg(&key)
                        .arg(&file),
                    "",
                );
                assert_eq!(out.code, 0, "{}: {}", file.display(), out.stderr);
                text = out.stdout;
            }
            assert!(
                text.contains("demo-only"),
                "{}: values must be visibly fake (demo-only-...)",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "no credential files found under examples/*/creds"
    );
}
