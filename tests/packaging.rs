//! The published crate (`cargo install regcred`): the real `cargo package`
//! writes the `.crate` file, and these tests read what is inside it. It
//! must hold everything the build embeds (`include_str!`), and none of the
//! repository's tests, fixtures, fuzz corpus, examples, benchmarks or docs.
//! scripts/test also runs `cargo publish --dry-run`, which builds the crate
//! from that file; this module checks its contents and metadata.

use crate::common::{TempDir, run};
use regex::Regex;
use serde_json::Value as Json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The cargo running these tests (so the same toolchain packages the crate).
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(ROOT);
    cmd
}

/// The crate's metadata as `cargo metadata` reads Cargo.toml.
fn metadata() -> Json {
    let out = run(
        cargo().args(["metadata", "--no-deps", "--locked", "--format-version", "1"]),
        "",
    );
    assert_eq!(out.code, 0, "cargo metadata failed:\n{}", out.stderr);
    let all: Json = serde_json::from_str(&out.stdout).unwrap();
    all["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "regcred")
        .expect("the regcred package")
        .clone()
}

/// The `.crate` file `cargo package` writes, in a target dir of its own so
/// it never waits on the build lock of the tests' target dir. Not verified
/// here (that is a full build, which scripts/test's `cargo publish
/// --dry-run` does).
fn package(dir: &TempDir) -> PathBuf {
    let out = run(
        cargo()
            .args(["package", "--no-verify", "--locked", "--allow-dirty"])
            .arg("--target-dir")
            .arg(dir.path()),
        "",
    );
    assert_eq!(out.code, 0, "cargo package failed:\n{}", out.stderr);
    // The expected warnings: the integration tests and the benchmark's
    // floor binary stay out.
    let expected = [
        "warning: ignoring test `integration` as `tests/tests.rs` is not included in the published package",
        "warning: ignoring example `bench-floor` as `bench/floor.rs` is not included in the published package",
    ];
    for line in out.stderr.lines().filter(|l| l.contains("warning")) {
        assert!(
            expected.contains(&line),
            "cargo package warned:\n{}",
            out.stderr
        );
    }
    let version = metadata()["version"].as_str().unwrap().to_string();
    dir.path().join(format!("package/regcred-{version}.crate"))
}

/// The files inside a `.crate` (a gzipped tar), relative to its top folder.
fn crate_files(krate: &Path) -> BTreeSet<String> {
    let out = run(Command::new("tar").arg("-tzf").arg(krate), "");
    assert_eq!(out.code, 0, "tar failed:\n{}", out.stderr);
    out.stdout
        .lines()
        .filter(|l| !l.ends_with('/'))
        .map(|l| l.split_once('/').expect("a top folder").1.to_string())
        .collect()
}

/// Every file below `dir` (relative to the repository root).
fn files_below(dir: &str) -> Vec<String> {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(p).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut found = Vec::new();
    walk(&Path::new(ROOT).join(dir), &mut found);
    found
        .iter()
        .map(|p| p.strip_prefix(ROOT).unwrap().to_string_lossy().into_owned())
        .collect()
}

/// The files `include_str!`/`include_bytes!` embed in a build from the
/// published crate, resolved against the including file as rustc does.
/// src/fuzzing.rs is left out: it is compiled only in the crate's own unit
/// tests and with the `fuzzing` feature, both repository-only (it embeds
/// test keys from tests/data), as Cargo.toml says.
fn embedded_files() -> BTreeSet<String> {
    let include = Regex::new(r#"include_(?:str|bytes)!\(\s*"([^"]+)"\s*\)"#).unwrap();
    let mut embedded = BTreeSet::new();
    for file in files_below("src") {
        if file == "src/fuzzing.rs" || !file.ends_with(".rs") {
            continue;
        }
        let text = std::fs::read_to_string(Path::new(ROOT).join(&file)).unwrap();
        let dir = Path::new(&file).parent().unwrap();
        for cap in include.captures_iter(&text) {
            let mut p = PathBuf::new();
            for c in dir.join(&cap[1]).components() {
                match c {
                    std::path::Component::ParentDir => {
                        p.pop();
                    }
                    c => p.push(c),
                }
            }
            embedded.insert(p.to_string_lossy().into_owned());
        }
    }
    embedded
}

#[test]
fn the_crate_holds_the_sources_and_what_they_embed_and_nothing_else() {
    let t = TempDir::new("package");
    let krate = package(&t);
    let files = crate_files(&krate);

    for f in ["Cargo.toml", "Cargo.lock", "README.md", "LICENSE"] {
        assert!(files.contains(f), "the crate lacks {f}: {files:#?}");
    }
    for f in files_below("src").iter().chain(&files_below("templates")) {
        assert!(files.contains(f), "the crate lacks {f}");
    }
    let embedded = embedded_files();
    // The templates and the schema, at least: a regex that found nothing
    // would make the loop below pass for nothing.
    for f in [
        "templates/secret.yaml.j2",
        "templates/serviceaccount.yaml.j2",
        "src/spec/schema.json",
    ] {
        assert!(
            embedded.contains(f),
            "{f} not found as embedded: {embedded:?}"
        );
    }
    for f in &embedded {
        assert!(
            files.contains(f),
            "the build embeds {f}, the crate lacks it"
        );
    }
    let allowed_top = [
        "src",
        "templates",
        "Cargo.toml",
        "Cargo.toml.orig",
        "Cargo.lock",
        "README.md",
        "LICENSE",
        ".cargo_vcs_info.json",
    ];
    for f in &files {
        let top = f.split('/').next().unwrap();
        assert!(
            allowed_top.contains(&top),
            "the crate holds {f}, which the build does not need (tests, fixtures, fuzz corpus, examples, bench and docs stay out)"
        );
    }

    // Today about 0.3 MiB; the repository's tests/ alone is several MiB.
    let size = std::fs::metadata(&krate).unwrap().len();
    assert!(
        size < 1024 * 1024,
        "{} is {size} bytes, over 1 MiB: check Cargo.toml's include",
        krate.display()
    );
}

#[test]
fn the_metadata_is_what_crates_io_accepts() {
    let m = metadata();
    for field in [
        "description",
        "license",
        "repository",
        "readme",
        "rust_version",
    ] {
        assert!(
            m[field].as_str().is_some_and(|s| !s.is_empty()),
            "Cargo.toml lacks {field}"
        );
    }
    assert_eq!(m["license"], "Apache-2.0");
    // crates.io's limits: at most 5 keywords of at most 20 characters, ASCII
    // letters, digits, `-` and `_`, starting with a letter.
    let keywords = m["keywords"].as_array().unwrap();
    assert!((1..=5).contains(&keywords.len()), "{keywords:?}");
    let keyword = Regex::new(r"^[a-zA-Z][a-zA-Z0-9_-]{0,19}$").unwrap();
    for k in keywords {
        assert!(keyword.is_match(k.as_str().unwrap()), "bad keyword {k}");
    }
    // Category slugs crates.io knows (it ignores others with a warning only
    // at upload, which cannot run here): the ones this crate may use.
    let known = [
        "command-line-utilities",
        "config",
        "development-tools",
        "cryptography",
        "encoding",
    ];
    let categories = m["categories"].as_array().unwrap();
    assert!((1..=5).contains(&categories.len()), "{categories:?}");
    for c in categories {
        assert!(
            known.contains(&c.as_str().unwrap()),
            "{c} is not a crates.io category slug"
        );
    }
}

/// `rust-version` promises the oldest Rust that builds the crate: no locked
/// dependency may ask for a newer one.
#[test]
fn rust_version_covers_every_locked_dependency() {
    let parse = |v: &str| -> Vec<u64> {
        let mut n: Vec<u64> = v.split('.').map(|n| n.parse().unwrap()).collect();
        n.resize(3, 0);
        n
    };
    let ours = parse(metadata()["rust_version"].as_str().unwrap());
    let out = run(
        cargo().args([
            "metadata",
            "--locked",
            "--format-version",
            "1",
            "--filter-platform",
            "x86_64-unknown-linux-gnu",
        ]),
        "",
    );
    assert_eq!(out.code, 0, "cargo metadata failed:\n{}", out.stderr);
    let all: Json = serde_json::from_str(&out.stdout).unwrap();
    let packages = all["packages"].as_array().unwrap();
    assert!(packages.len() > 20, "no dependencies read");
    for p in packages {
        if let Some(v) = p["rust_version"].as_str() {
            assert!(
                parse(v) <= ours,
                "{} {} needs Rust {v}, newer than Cargo.toml's rust-version {ours:?}",
                p["name"],
                p["version"]
            );
        }
    }
}

/// The README's install section downloads from the repository Cargo.toml
/// names, so a changed `repository` cannot leave dead links behind.
#[test]
fn the_readme_installs_from_the_crates_repository() {
    let repository = metadata()["repository"].as_str().unwrap().to_string();
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let releases: Vec<&str> = readme
        .split_whitespace()
        .filter(|w| w.contains("/releases/"))
        .collect();
    assert!(!releases.is_empty(), "README.md has no release download");
    for url in releases {
        assert!(
            url.contains(&format!("{repository}/releases/")),
            "README.md's {url} is not under {repository}"
        );
    }
    assert!(readme.contains("cargo install regcred"), "no cargo install");
}
