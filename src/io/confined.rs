//! The one confined open: files a spec names are read relative to the
//! spec's directory and may not leave the root.
//!
//! The root is the enclosing repository (the nearest directory above the
//! spec holding `.git`), so an overlay can share `../../creds/` with the
//! rest of the repository; `--root DIR` or `REGCRED_ROOT` name it
//! explicitly. A kustomization from a pull request must still not be able
//! to read `~/.ssh` into a Secret that CI then prints: absolute paths, and
//! `..` or symlinks that resolve outside the root, are refused unless the
//! user opted in (`--allow-path-outside-root`).

use super::files;
use anyhow::{Context, Result, anyhow, bail};
use std::path::{Component, Path, PathBuf};
use zeroize::Zeroizing;

/// A directory relative paths start at (`base`) and one they may not
/// leave (`dir`, which holds `base`).
#[derive(Debug, Clone)]
pub struct Root {
    dir: PathBuf,
    base: PathBuf,
    allow_outside: bool,
    /// Told in refusals: how to lift the confinement, where that exists.
    hint: &'static str,
}

/// What refusals say on the command line, where the opt-in exists.
pub const CLI_HINT: &str = " (pass --allow-path-outside-root to permit it)";

impl Root {
    /// Relative paths start at `base`; they may not leave `dir` (the
    /// enclosing repository of `base` when `None`). `allow_outside` lifts
    /// the confinement; `hint` ends every refusal ([`CLI_HINT`] on the
    /// command line, empty in modes without the flag).
    pub fn new(
        base: &Path,
        dir: Option<&Path>,
        allow_outside: bool,
        hint: &'static str,
    ) -> Result<Self> {
        let base = base
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", base.display()))?;
        let dir = match dir {
            Some(d) => d
                .canonicalize()
                .with_context(|| format!("cannot resolve the credentials root {}", d.display()))?,
            None => repository_root(&base),
        };
        if !allow_outside && !base.starts_with(&dir) {
            bail!(
                "{} is outside the credentials root {}{hint}",
                base.display(),
                dir.display()
            );
        }
        Ok(Root {
            dir,
            base,
            allow_outside,
            hint,
        })
    }

    /// Where a relative path points, if it exists.
    pub fn locate(&self, path: &str) -> Option<PathBuf> {
        self.base.join(path).canonicalize().ok()
    }

    /// Resolves `path` against the root and refuses anything outside it,
    /// after following symlinks, unless explicitly allowed. `field` names
    /// the spec field the path came from, for messages.
    pub fn confine(&self, path: &str, field: &str) -> Result<PathBuf> {
        let p = Path::new(path);
        if !self.allow_outside {
            if p.is_absolute() {
                bail!(
                    "{field}: absolute paths are refused ({path}); write it relative to the credentials root {}{}",
                    self.dir.display(),
                    self.hint
                );
            }
            if !lexically(&self.base.join(p)).starts_with(&self.dir) {
                bail!(
                    "{field}: path {path} uses '..' to leave the credentials root {}{}",
                    self.dir.display(),
                    self.hint
                );
            }
        }
        let real = self
            .base
            .join(p)
            .canonicalize()
            .with_context(|| format!("{field}: cannot read {path}"))?;
        if !self.allow_outside && !real.starts_with(&self.dir) {
            bail!(
                "{field}: {path} resolves (through a symlink) outside the credentials root {}{}",
                self.dir.display(),
                self.hint
            );
        }
        Ok(real)
    }

    /// Reads a file [`Root::confine`] returned; `path` is how the spec
    /// wrote it. The path was checked before the open, so the file that was
    /// actually opened is checked again: a directory swapped for a symlink
    /// in between cannot smuggle an outside file in. Only a regular file of
    /// at most [`files::MAX_SECRET_FILE`] bytes is read.
    pub fn read_confined(
        &self,
        real: &Path,
        path: &str,
        field: &str,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let cannot = |e: std::io::Error| anyhow!("{field}: cannot read {path}: {}", describe(&e));
        let file = files::open_regular(real).map_err(cannot)?;
        if !self.allow_outside {
            let opened = opened_path(&file.file).map_err(cannot)?;
            if !opened.starts_with(&self.dir) {
                bail!(
                    "{field}: {path} resolves (through a symlink) outside the credentials root {}",
                    self.dir.display()
                );
            }
        }
        files::read_capped(file, files::MAX_SECRET_FILE).map_err(cannot)
    }
}

/// The enclosing repository of `dir`: the nearest directory at or above
/// it holding `.git` (a directory, or a file in a worktree), else `dir`.
pub fn repository_root(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(dir)
        .to_path_buf()
}

/// `path` with `.` and `..` resolved by the text alone.
fn lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Where an open file really is: the kernel's answer for the descriptor,
/// not the name it was opened by.
fn opened_path(file: &std::fs::File) -> std::io::Result<PathBuf> {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

/// An I/O error in words, without the OS error code.
fn describe(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ELOOP) => "it is a symlink (resolved differently when opened)".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Root {
        fn read(&self, path: &str, field: &str) -> Result<Zeroizing<Vec<u8>>> {
            self.read_confined(&self.confine(path, field)?, path, field)
        }
    }

    #[test]
    fn paths_outside_the_root_are_refused_unless_allowed() {
        let d = std::env::temp_dir().join(format!("regcred-confined-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("root")).unwrap();
        std::fs::write(d.join("outside"), "CANARY\n").unwrap();
        std::os::unix::fs::symlink(d.join("outside"), d.join("root/link")).unwrap();
        let root = Root::new(&d.join("root"), Some(&d.join("root")), false, CLI_HINT).unwrap();
        let abs = d.join("outside").display().to_string();
        for p in ["../outside", abs.as_str(), "link"] {
            let e = format!("{:#}", root.read(p, "f").unwrap_err());
            assert!(
                e.contains("outside the credentials root")
                    || e.contains("leave the credentials root")
                    || e.contains("absolute paths are refused"),
                "{p}: {e}"
            );
            assert!(!e.contains("CANARY"));
        }
        let open = Root::new(&d.join("root"), None, true, "").unwrap();
        assert_eq!(open.read("link", "f").unwrap().as_slice(), b"CANARY\n");
        let _ = std::fs::remove_dir_all(&d);
    }
}
