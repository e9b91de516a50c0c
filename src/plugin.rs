//! Installing the binary where kustomize looks for legacy exec plugins:
//! `$KUSTOMIZE_PLUGIN_HOME/<group>/<version>/<lowercase kind>/<Kind>`.

use crate::spec::KIND;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// The plugin path below `home` for `regcred.dev/v1alpha1 RegistryCredentials`.
pub fn plugin_path(home: &Path) -> PathBuf {
    home.join("regcred.dev")
        .join("v1alpha1")
        .join(KIND.to_ascii_lowercase())
        .join(KIND)
}

/// kustomize's own default: `$KUSTOMIZE_PLUGIN_HOME`, else
/// `$XDG_CONFIG_HOME/kustomize/plugin`, else `~/.config/kustomize/plugin`.
fn default_home() -> Result<PathBuf> {
    if let Some(h) = std::env::var_os("KUSTOMIZE_PLUGIN_HOME") {
        return Ok(PathBuf::from(h));
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME") {
        return Ok(PathBuf::from(x).join("kustomize/plugin"));
    }
    match std::env::var_os("HOME") {
        Some(h) => Ok(PathBuf::from(h).join(".config/kustomize/plugin")),
        None => bail!("cannot find a plugin home: set --plugin-home or KUSTOMIZE_PLUGIN_HOME"),
    }
}

/// Symlinks (or copies) the running binary into the plugin home; returns
/// the absolute plugin home.
pub fn install(home: Option<PathBuf>, copy: bool) -> Result<PathBuf> {
    let home = match home {
        Some(h) => h,
        None => default_home()?,
    };
    let target = plugin_path(&home);
    let dir = target.parent().expect("plugin path has a parent");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .context("cannot locate the regcred binary")?;
    if target.symlink_metadata().is_ok() {
        std::fs::remove_file(&target)
            .with_context(|| format!("cannot replace {}", target.display()))?;
    }
    if copy {
        std::fs::copy(&exe, &target)
            .with_context(|| format!("cannot copy to {}", target.display()))?;
    } else {
        std::os::unix::fs::symlink(&exe, &target)
            .with_context(|| format!("cannot link {}", target.display()))?;
    }
    home.canonicalize()
        .with_context(|| format!("cannot resolve {}", home.display()))
}

/// Single-quotes a path for `eval` in a POSIX shell.
pub fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}
