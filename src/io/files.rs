//! Plain file access outside the credentials root: reading files the user
//! names explicitly (key files, `.sops.yaml`, inputs) and the one atomic
//! writer every output file goes through.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Largest secret file read (a credential, an identity): a Kubernetes
/// Secret cannot exceed 1 MiB, so nothing larger can be one.
pub const MAX_SECRET_FILE: u64 = 1 << 20;

/// Reads a whole secret file the user named (an identity, a file to
/// encrypt or decrypt): a regular file of at most [`MAX_SECRET_FILE`]
/// bytes. The buffer zeroizes on drop, since it may hold key material.
pub fn read(path: &Path) -> std::io::Result<Zeroizing<Vec<u8>>> {
    read_capped(open_regular(path)?, MAX_SECRET_FILE)
}

/// A regular file opened for reading, and its length when it was opened.
pub struct Regular {
    pub file: std::fs::File,
    len: u64,
}

/// Opens a regular file for reading. A FIFO or device would block or never
/// end, so the open does not wait (`O_NONBLOCK`) and anything but a regular
/// file is refused; a symlink as the last component is refused too
/// (`O_NOFOLLOW`: callers resolve links themselves, before they check them).
pub fn open_regular(path: &Path) -> std::io::Result<Regular> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(Regular {
        file,
        len: meta.len(),
    })
}

/// Reads at most `cap` bytes; more is an error, not a huge allocation.
pub fn read_capped(opened: Regular, cap: u64) -> std::io::Result<Zeroizing<Vec<u8>>> {
    use std::io::Read;
    // Sized from the file's length at the open: one read instead of a
    // doubling series, and no copy of key material left behind in a
    // grown-out buffer. The cap, not the length, bounds what is read.
    let size = opened.len.min(cap) + 1;
    let mut buf = Zeroizing::new(Vec::with_capacity(usize::try_from(size).unwrap_or(0)));
    let file = opened.file;
    file.take(cap + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than {} KiB (a Kubernetes Secret cannot exceed 1 MiB)",
                cap / 1024
            ),
        ));
    }
    Ok(buf)
}

/// Reads a whole text file, naming it in the error.
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Writes via a temporary file in the same directory and a rename, so a
/// failure leaves no partial file and a reader never sees half of one. The
/// rename replaces a symlink at `path` itself, never the file it points to.
/// `mode` sets the permissions of a new file (0600 for secrets).
pub fn write_atomic(path: &Path, data: &[u8], mode: Option<u32>) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.regcred-tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out")
    ));
    // Unlinking never follows a link, and `create_new` (O_EXCL) refuses
    // one: the temporary file cannot be a symlink planted to redirect the write.
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    if let Some(m) = mode {
        opts.mode(m);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Creates `dir` and its parents.
pub fn create_dir_all(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// Points `target` at `source`: a symlink, or a copy with `copy`. Whatever
/// sat at `target` is replaced.
pub fn link_or_copy(source: &Path, target: &Path, copy: bool) -> Result<()> {
    if target.symlink_metadata().is_ok() {
        std::fs::remove_file(target)
            .with_context(|| format!("cannot replace {}", target.display()))?;
    }
    if copy {
        std::fs::copy(source, target)
            .map(|_| ())
            .with_context(|| format!("cannot copy to {}", target.display()))
    } else {
        std::os::unix::fs::symlink(source, target)
            .with_context(|| format!("cannot link {}", target.display()))
    }
}

/// The running binary, symlinks resolved.
pub fn current_exe() -> Result<PathBuf> {
    std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .context("cannot locate the regcred binary")
}

/// `path` made absolute with symlinks resolved.
pub fn canonical(path: &Path) -> Result<PathBuf> {
    path.canonicalize()
        .with_context(|| format!("cannot resolve {}", path.display()))
}

/// A fresh, private temporary directory, removed when the guard drops.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_links_instead_of_following_them() {
        let d = TempDir::new("regcred-files-test").unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let out = d.path().join("out.yaml");
        std::os::unix::fs::symlink(&victim, &out).unwrap();
        // A link planted where the temporary file goes is removed, not followed.
        std::os::unix::fs::symlink(&victim, d.path().join(".out.yaml.regcred-tmp")).unwrap();
        write_atomic(&out, b"new", Some(0o600)).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(!out.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "new");
    }
}
