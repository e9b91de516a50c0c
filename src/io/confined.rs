//! The one confined open: files a spec names are read relative to a root
//! and may not leave it.
//!
//! A kustomization from a pull request must not be able to read `~/.ssh`
//! into a Secret that CI then prints, so `..`, absolute paths and symlinks
//! that resolve outside the root are refused unless the user opted in
//! (`--allow-path-outside-root`).

use super::files;
use anyhow::{Context, Result, anyhow, bail};
use std::path::{Component, Path, PathBuf};
use zeroize::Zeroizing;

/// A directory that relative paths start at and may not leave.
#[derive(Debug, Clone)]
pub struct Root {
    dir: PathBuf,
    allow_outside: bool,
    /// Told in refusals: how to lift the confinement, where that exists.
    hint: &'static str,
}

/// What refusals say on the command line, where the opt-in exists.
pub const CLI_HINT: &str = " (pass --allow-path-outside-root to permit it)";

impl Root {
    /// `dir` is resolved once; `allow_outside` lifts the confinement;
    /// `hint` ends every refusal ([`CLI_HINT`] on the command line, empty in
    /// modes without the flag).
    pub fn new(dir: &Path, allow_outside: bool, hint: &'static str) -> Result<Self> {
        let dir = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve the credentials root {}", dir.display()))?;
        Ok(Root {
            dir,
            allow_outside,
            hint,
        })
    }

    /// Where a relative path points, if it exists.
    pub fn locate(&self, path: &str) -> Option<PathBuf> {
        self.dir.join(path).canonicalize().ok()
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
            if p.components().any(|c| c == Component::ParentDir) {
                bail!(
                    "{field}: path {path} uses '..' to leave the credentials root {}{}",
                    self.dir.display(),
                    self.hint
                );
            }
        }
        let real = self
            .dir
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
            let opened = opened_path(&file).map_err(cannot)?;
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
        let root = Root::new(&d.join("root"), false, CLI_HINT).unwrap();
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
        let open = Root::new(&d.join("root"), true, "").unwrap();
        assert_eq!(open.read("link", "f").unwrap().as_slice(), b"CANARY\n");
        let _ = std::fs::remove_dir_all(&d);
    }
}
