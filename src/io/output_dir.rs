//! `render -o DIR`: one file per object, `DIR/<namespace or _cluster>/<kind>-<name>.yaml`.
//!
//! Nothing is written unless every object could be planned, each file is
//! written atomically, and files regcred wrote on an earlier run that it no
//! longer renders are removed, so re-running `-o DIR` is what makes
//! `--check DIR` pass again.

use super::{documents, files};
use crate::k8s::resource::Item;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// A file to write: its path below DIR and its content.
pub type Planned = (PathBuf, String);

/// Plans one file per item; fails when an item cannot be named or two
/// items map to one file.
pub fn plan(dir: &Path, items: &[Item]) -> Result<Vec<Planned>> {
    let mut planned: Vec<Planned> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let (Some(kind), Some(name)) = (item.kind(), item.name()) else {
            bail!("output item {i} has no kind or metadata.name; cannot name its file");
        };
        let path = dir
            .join(item.namespace().unwrap_or("_cluster"))
            .join(format!("{}-{name}.yaml", kind.to_ascii_lowercase()));
        if planned.iter().any(|(p, _)| p == &path) {
            bail!("two output objects map to {}", path.display());
        }
        planned.push((path, item.to_yaml()?));
    }
    Ok(planned)
}

/// Writes the items into `dir` and prunes stale files of earlier runs.
pub fn write(dir: &Path, items: &[Item]) -> Result<()> {
    let planned = plan(dir, items)?;
    for (path, text) in &planned {
        files::create_dir_all(path.parent().unwrap_or(dir))?;
        files::write_atomic(path, text.as_bytes(), None)?;
    }
    prune_stale(dir, &planned)
}

/// Removes `DIR/<namespace>/<kind>-<name>.yaml` files that are not planned
/// and hold a single Kubernetes object (the shape of regcred's own output);
/// anything else in DIR is left alone.
fn prune_stale(dir: &Path, planned: &[Planned]) -> Result<()> {
    let Ok(subdirs) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for sub in subdirs.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
        for file in std::fs::read_dir(&sub)?.flatten().map(|e| e.path()) {
            let ours = file.extension().is_some_and(|e| e == "yaml")
                && !planned.iter().any(|(p, _)| p == &file)
                && std::fs::read_to_string(&file)
                    .ok()
                    .and_then(|t| documents::resources(&t, "stale").ok())
                    .is_some_and(|items| items.len() == 1);
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
