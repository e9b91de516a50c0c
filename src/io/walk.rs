//! The one directory walker: every place that lists files (render inputs,
//! Argo CD spec discovery, the drift check) uses the same rules.
//!
//! * files with one of the given extensions, sorted by path;
//! * dot-files and dot-directories (`.git`, `.sops.yaml`, the atomic
//!   writer's temporary files) are never listed;
//! * a path that is a file is returned as it is, whatever its extension;
//! * a symlink is followed only to a file inside the directory walked; one
//!   that leads outside is an error (a pull request must not be able to
//!   pull `/etc` or another app's files into the output), and a symlinked
//!   directory inside it is not walked twice.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// Extensions of manifest files.
pub const MANIFESTS: &[&str] = &["yaml", "yml", "json"];
/// Extensions of YAML files.
pub const YAML: &[&str] = &["yaml", "yml"];

/// `path` itself when it is not a directory, else every file below it
/// with one of `extensions`, sorted.
pub fn files(path: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let root = path
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", path.display()))?;
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read directory {}", dir.display()))?
        {
            let entry = entry?;
            let p = entry.path();
            if is_hidden(&p) {
                continue;
            }
            let linked = entry.file_type().is_ok_and(|t| t.is_symlink());
            if linked {
                let target = p.canonicalize().ok();
                if !target.as_ref().is_some_and(|t| t.starts_with(&root)) {
                    bail!(
                        "{}: a symlink that leads outside {}; refusing to follow it",
                        p.display(),
                        path.display()
                    );
                }
                if p.is_dir() {
                    continue; // Its files are walked where they really are.
                }
            }
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e))
            {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn is_hidden(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_dot_entries_and_extensions() {
        let d = std::env::temp_dir().join(format!("regcred-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for dir in ["a/b", ".git", "c"] {
            std::fs::create_dir_all(d.join(dir)).unwrap();
        }
        for f in [
            "a/b/x.yaml",
            "a/y.json",
            ".git/z.yaml",
            ".sops.yaml",
            "c/n.txt",
            "c/m.yml",
        ] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let rel = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter()
                .map(|p| p.strip_prefix(&d).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            rel(files(&d, MANIFESTS).unwrap()),
            ["a/b/x.yaml", "a/y.json", "c/m.yml"]
        );
        assert_eq!(rel(files(&d, YAML).unwrap()), ["a/b/x.yaml", "c/m.yml"]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn symlinks_out_of_the_directory_are_refused() {
        let d = std::env::temp_dir().join(format!("regcred-walk-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("app/sub")).unwrap();
        std::fs::create_dir_all(d.join("outside")).unwrap();
        std::fs::write(d.join("outside/x.yaml"), "").unwrap();
        std::fs::write(d.join("app/sub/a.yaml"), "").unwrap();
        std::os::unix::fs::symlink(d.join("app/sub"), d.join("app/again")).unwrap();
        std::os::unix::fs::symlink(d.join("app/sub/a.yaml"), d.join("app/b.yaml")).unwrap();
        let found = files(&d.join("app"), YAML).unwrap();
        assert_eq!(found, [d.join("app/b.yaml"), d.join("app/sub/a.yaml")]);
        std::os::unix::fs::symlink(d.join("outside"), d.join("app/escape")).unwrap();
        let e = files(&d.join("app"), YAML).unwrap_err().to_string();
        assert!(e.contains("leads outside"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
