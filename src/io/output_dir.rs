//! `render -o DIR`: one file per object, `DIR/<namespace or _cluster>/<kind>-<name>.yaml`.
//!
//! Nothing is written unless every object could be planned, and no input
//! can lead a path out of DIR: every component is checked (a namespace is a
//! DNS-1123 label, a kind and a name are path segments). Each file is
//! written atomically and starts with [`MARKER`]; nothing is ever written or
//! deleted through a symlink. Files an earlier run wrote that this run does
//! not are removed, so re-running `-o DIR` is what makes `--check DIR` pass
//! again; a file is only removed when regcred's naming could have produced
//! it and it carries the marker, so nothing a user put in DIR is deleted.

use super::{documents, files};
use crate::k8s::names;
use crate::k8s::resource::Item;
use anyhow::{Context, Result, bail};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// First line of every file `-o` writes: how pruning knows a file is its own.
pub const MARKER: &str =
    "# Rendered by regcred (render -o DIR): do not edit; removed when no longer rendered.";

/// Where cluster-scoped objects go.
const CLUSTER_DIR: &str = "_cluster";

/// A file to write: its path below DIR and its content.
pub type Planned = (PathBuf, String);

/// Plans one file per item; fails when an item cannot be named safely or
/// two items map to one file.
pub fn plan(dir: &Path, items: &[Item]) -> Result<Vec<Planned>> {
    let mut planned: Vec<Planned> = Vec::with_capacity(items.len());
    let mut seen = HashSet::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let (Some(kind), Some(name)) = (item.kind(), item.name()) else {
            bail!("output item {i} has no kind or metadata.name; cannot name its file");
        };
        let file = format!("{}-{name}.yaml", kind.to_ascii_lowercase());
        let sub = match item.namespace() {
            Some(ns) => {
                names::check_label(ns, &format!("{kind} {name}: metadata.namespace"))?;
                ns
            }
            None => CLUSTER_DIR,
        };
        if !names::is_path_segment(&file) || file.starts_with('.') {
            bail!("{kind} {name}: cannot name a file after it");
        }
        let path = dir.join(sub).join(file);
        if !seen.insert(path.clone()) {
            bail!("two output objects map to {}", path.display());
        }
        planned.push((path, format!("{MARKER}\n{}", item.to_yaml()?)));
    }
    Ok(planned)
}

/// Whether a planned file holds a Secret (`<namespace>/secret-<name>.yaml`).
pub fn is_secret_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("secret-"))
}

/// Writes the items into `dir` and prunes stale files of earlier runs.
pub fn write(dir: &Path, items: &[Item]) -> Result<()> {
    write_planned(dir, &plan(dir, items)?)
}

/// Writes planned files into `dir` and prunes stale files of earlier runs.
pub fn write_planned(dir: &Path, planned: &[Planned]) -> Result<()> {
    files::create_dir_all(dir)?;
    let mut made = HashSet::new();
    for (path, text) in planned {
        let sub = path.parent().unwrap_or(dir);
        if made.insert(sub.to_path_buf()) {
            ensure_real_dir(sub)?;
        }
        files::write_atomic(path, text.as_bytes(), None)?;
    }
    prune_stale(dir, planned)
}

/// Refuses an output directory that holds an input, or lies inside an
/// input directory: the next run would read its own output, and pruning
/// could delete the user's manifests.
pub fn check_separate(dir: &Path, inputs: &[String]) -> Result<()> {
    let out = resolve(dir)?;
    for input in inputs.iter().filter(|i| *i != "-") {
        let Ok(input_path) = Path::new(input).canonicalize() else {
            continue;
        };
        if input_path.starts_with(&out) || (input_path.is_dir() && out.starts_with(&input_path)) {
            bail!(
                "-o {}: the output directory overlaps the input {input}; write the output elsewhere",
                dir.display()
            );
        }
    }
    Ok(())
}

/// `path` made absolute with symlinks resolved, for a path that may not
/// exist yet: its nearest existing ancestor is resolved, the rest appended.
fn resolve(path: &Path) -> Result<PathBuf> {
    let abs =
        std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    for base in abs.ancestors() {
        if let Ok(real) = base.canonicalize() {
            let rest = abs.strip_prefix(base).unwrap_or(Path::new(""));
            return Ok(real.join(rest));
        }
    }
    Ok(abs)
}

/// `DIR/<namespace>` as a real directory: created when missing, refused
/// when it is a symlink (writing through it would land anywhere).
fn ensure_real_dir(sub: &Path) -> Result<()> {
    match sub.symlink_metadata() {
        Ok(m) if m.file_type().is_symlink() => bail!(
            "{} is a symlink; refusing to write through it",
            sub.display()
        ),
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => bail!("{} exists and is not a directory", sub.display()),
        Err(_) => {
            std::fs::create_dir(sub).with_context(|| format!("cannot create {}", sub.display()))
        }
    }
}

/// Removes files of earlier runs that this run did not plan: regular files
/// (never symlinks, never inside a symlinked directory) named as `-o`
/// names them, whose first line is [`MARKER`]. Anything else is left alone.
fn prune_stale(dir: &Path, planned: &[Planned]) -> Result<()> {
    let planned: HashSet<&Path> = planned.iter().map(|(p, _)| p.as_path()).collect();
    let Ok(subdirs) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for sub in subdirs.flatten() {
        if !sub.file_type().is_ok_and(|t| t.is_dir()) {
            continue; // Files, and symlinks to anything.
        }
        let sub = sub.path();
        for entry in std::fs::read_dir(&sub)?.flatten() {
            let file = entry.path();
            let ours = entry.file_type().is_ok_and(|t| t.is_file())
                && !planned.contains(file.as_path())
                && named_like_output(&file)
                && has_marker(&file);
            if ours {
                std::fs::remove_file(&file)
                    .with_context(|| format!("cannot remove {}", file.display()))?;
            }
        }
        // Only succeeds when the directory is now empty.
        let _ = std::fs::remove_dir(&sub);
    }
    Ok(())
}

/// `<kind>-<name>.yaml`.
fn named_like_output(file: &Path) -> bool {
    file.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".yaml"))
        .and_then(|stem| stem.split_once('-'))
        .is_some_and(|(kind, name)| {
            !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_alphanumeric()) && !name.is_empty()
        })
}

/// Whether the file starts with [`MARKER`] and holds one object.
fn has_marker(file: &Path) -> bool {
    files::read_text(file).is_ok_and(|t| {
        t.strip_prefix(MARKER)
            .is_some_and(|rest| rest.starts_with('\n'))
            && documents::resources(&t, "stale").is_ok_and(|items| items.len() == 1)
    })
}
