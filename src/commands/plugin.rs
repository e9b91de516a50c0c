//! regcred as a legacy kustomize exec plugin: installing the binary where
//! kustomize looks (`$KUSTOMIZE_PLUGIN_HOME/<group>/<version>/<lowercase
//! kind>/<Kind>`), and running as one (the plugin config's path as the only
//! argument, resources on stdin).

use super::inputs::load_specs;
use super::{namespace_less_warning, warnings};
use crate::credentials;
use crate::engine;
use crate::io::{Outcome, documents, files};
use crate::k8s::meta;
use crate::k8s::resource::Item;
use crate::spec::KIND;
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Legacy exec plugin mode: kustomize passes a temporary copy of the
/// plugin config as the only argument and sets
/// `KUSTOMIZE_PLUGIN_CONFIG_ROOT` to the kustomization directory.
///
/// Messages name the kustomization directory, never kustomize's temporary
/// copy of the config, which the user has never seen.
/// `root` is the confinement root (`REGCRED_ROOT`); by default the
/// enclosing repository of the kustomization.
pub fn run(
    config: &Path,
    stdin: String,
    config_root: Option<&Path>,
    confinement: Option<PathBuf>,
) -> Outcome {
    let sources = credentials::Options {
        root: confinement,
        ..credentials::Options::default()
    };
    let stdin = Arc::new(stdin);
    let result = (|| {
        let cwd = std::env::current_dir()?;
        let root = config_root.unwrap_or(&cwd);
        let shown = format!(
            "the RegistryCredentials transformer or generator of kustomization {}",
            root.display()
        );
        let text = files::read_text(config).map_err(|e| e.context(shown.clone()))?;
        let jobs = load_specs(&text, &shown, root, &sources, |doc, _| {
            let name = meta::name(doc).unwrap_or_default();
            format!(
                "RegistryCredentials {name:?} in kustomization {}",
                root.display()
            )
        })?;
        let keep = engine::keeper(&jobs, false);
        let reading = engine::reading(&jobs, &keep);
        let items = match documents::fast_resources(&stdin, &reading) {
            Some(items) => items,
            None => documents::resources(&stdin, "stdin")?
                .into_iter()
                .map(|v| {
                    let keep = engine::needs_tree(&v, &jobs);
                    Item::new(v, keep)
                })
                .collect::<Result<Vec<_>>>()?,
        };
        refuse_resource_list(&items)?;
        let unplaced = namespace_less_warning(&items);
        let out = engine::render(
            items,
            &jobs,
            engine::Options {
                default_ns: None,
                compact: true,
                detail: false,
            },
        )?;
        let mut out = out;
        let findings: Vec<_> = std::mem::take(&mut out.findings)
            .into_iter()
            .chain(unplaced)
            .collect();
        let (items, tail) = out.into_parts();
        Ok::<_, anyhow::Error>((documents::streamed(items, tail)?, findings))
    })();
    match result {
        Ok((stream, findings)) => Outcome {
            stream: Some(stream),
            stderr: warnings(&findings),
            ..Outcome::default()
        },
        Err(e) => Outcome::error(e),
    }
}

/// A ResourceList on stdin means kustomize runs regcred as a KRM exec
/// function that was given arguments (`exec.args` naming the spec), which
/// selects this mode: rendering would treat the whole list as one object
/// and add nothing, so the build would pass without a Secret.
fn refuse_resource_list(items: &[Item]) -> Result<()> {
    if items.iter().any(|i| i.kind() == Some("ResourceList")) {
        bail!(
            "stdin is a KRM ResourceList, so kustomize runs regcred as a KRM exec function: \
             remove the arguments from its config.kubernetes.io/function annotation \
             (the annotated RegistryCredentials is the function config)"
        );
    }
    Ok(())
}

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
    files::create_dir_all(target.parent().expect("plugin path has a parent"))?;
    files::link_or_copy(&files::current_exe()?, &target, copy)?;
    files::canonical(&home)
}

/// `regcred install-plugin`: installs, then prints the `export` line to eval.
pub fn install_command(home: Option<PathBuf>, copy: bool) -> Outcome {
    match install(home, copy) {
        Ok(home) => Outcome {
            stdout: format!("export KUSTOMIZE_PLUGIN_HOME={}\n", shell_quote(&home)).into(),
            info: vec![format!("installed {}", plugin_path(&home).display())],
            ..Outcome::default()
        },
        Err(e) => Outcome::error(e),
    }
}

/// Single-quotes a path for `eval` in a POSIX shell.
fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}
