//! .github/workflows/release.yml cannot run here (no GitHub Actions, no
//! container engine). These tests check what can be checked: the real
//! actionlint (with shellcheck for its scripts) accepts it, and the assets
//! it publishes are the ones the README tells users to download.
//! tests/container_image.rs checks that it writes what the Dockerfile copies.

use crate::common::{TempDir, run, tool};
use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const WORKFLOW: &str = ".github/workflows/release.yml";

fn actionlint(dir: &Path, file: &str) -> crate::common::Out {
    run(
        Command::new(tool("actionlint"))
            .current_dir(dir)
            .arg(format!("-shellcheck={}", tool("shellcheck").display()))
            // No Python in the workflow.
            .arg("-pyflakes=")
            .arg(file),
        "",
    )
}

#[test]
fn actionlint_accepts_the_release_workflow() {
    let out = actionlint(Path::new(ROOT), WORKFLOW);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

/// actionlint reports what a broken copy gets wrong, shellcheck's findings
/// in `run:` scripts included, so the test above cannot pass for nothing.
#[test]
fn actionlint_rejects_a_broken_copy() {
    let t = TempDir::new("actionlint");
    let text = std::fs::read_to_string(Path::new(ROOT).join(WORKFLOW)).unwrap();
    let broken = text.replace("needs: binaries", "needs: binarys").replace(
        r#"cd dist && sha256sum"#,
        r#"cd $RUNNER_TEMP/dist && sha256sum"#,
    );
    assert_ne!(broken, text);
    t.write(WORKFLOW, &broken);
    let out = actionlint(t.path(), WORKFLOW);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("binarys"), "{}", out.stdout);
    assert!(
        out.stdout.contains("SC2086"),
        "no shellcheck finding:\n{}",
        out.stdout
    );
}

/// The workflow runs on version tags only, says it is untested, and
/// publishes the binaries and checksums the README's install section
/// downloads.
#[test]
fn the_release_assets_are_the_ones_the_readme_names() {
    let workflow = std::fs::read_to_string(Path::new(ROOT).join(WORKFLOW)).unwrap();
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    assert!(
        workflow.contains("UNTESTED"),
        "the header must say it never ran"
    );
    assert!(workflow.contains("tags: [\"v*\"]"));
    let create = workflow
        .split("gh release create")
        .nth(1)
        .expect("gh release create");
    for asset in ["regcred-linux-amd64", "regcred-linux-arm64", "SHA256SUMS"] {
        assert!(
            create.contains(&format!("dist/{asset}")),
            "{asset} not released"
        );
    }
    // The README downloads regcred-linux-$arch for arch amd64 or arm64.
    for words in [
        "arch=amd64   # or arm64",
        "\"$base/regcred-linux-$arch\"",
        "\"$base/SHA256SUMS\"",
        "sha256sum --check",
    ] {
        assert!(readme.contains(words), "README.md lacks {words}");
    }
    for target in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] {
        assert!(
            workflow.contains(&format!("scripts/build-static {target}\n")),
            "{target} not built"
        );
        assert!(
            workflow.contains(&format!("target/{target}/release/regcred dist/")),
            "{target}'s binary not released"
        );
    }
}
