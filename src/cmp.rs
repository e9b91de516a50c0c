//! Argo CD config-management plugin (CMP v2 sidecar) entry points, so the
//! sidecar needs no shell: `plugin.yaml` calls `regcred cmp discover` and
//! `regcred cmp generate` in the Application's source directory.
//!
//! * discover prints the first file holding a `RegistryCredentials` spec
//!   (Argo CD treats non-empty output with exit 0 as a match);
//! * generate renders the app: a kustomization through
//!   `kubectl kustomize --enable-alpha-plugins` with regcred installed as a
//!   legacy plugin in a temporary plugin home, a plain directory through
//!   `regcred render`. Only manifests go to stdout.
//!
//! Parameters arrive as `PARAM_*` variables: `PARAM_SPECS_<i>` (spec files
//! for plain directories; default: every spec found), `PARAM_MODE`
//! (`auto`, `kustomize` or `render`).

use crate::run::{self, Outcome, RenderOptions, SourceOptions};
use crate::spec;
use crate::yaml;
use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every `*.yaml|*.yml` below `dir` (skipping dot-directories), sorted.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?
        {
            let p = entry?.path();
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if p.is_dir() && !hidden {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Files under `dir` holding a `RegistryCredentials` document. A file that
/// does not parse but names the kind counts too, so that generate reports
/// its real error instead of "no spec".
fn spec_files(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(yaml_files(dir)?
        .into_iter()
        .filter(|p| {
            let Ok(text) = std::fs::read_to_string(p) else {
                return false;
            };
            match yaml::load_stream(&text, "discover") {
                Ok(docs) => docs.iter().any(|d| spec::is_spec(&d.value)),
                Err(_) => text.contains(spec::KIND),
            }
        })
        .collect())
}

/// A `specs` parameter entry: relative to the app, never leaving it.
fn app_relative(dir: &Path, given: &str) -> Result<PathBuf> {
    let p = Path::new(given);
    if p.is_absolute() || p.components().any(|c| c == std::path::Component::ParentDir) {
        bail!("PARAM_SPECS: {given:?} must be a path inside the app directory");
    }
    Ok(dir.join(p))
}

pub fn discover(dir: &Path) -> Outcome {
    match spec_files(dir) {
        Ok(files) => Outcome {
            stdout: files
                .first()
                .map(|f| format!("{}\n", f.strip_prefix(dir).unwrap_or(f).display()))
                .unwrap_or_default(),
            ..Outcome::default()
        },
        Err(e) => Outcome::error(e),
    }
}

fn has_kustomization(dir: &Path) -> bool {
    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .any(|n| dir.join(n).is_file())
}

/// `PARAM_<NAME>_<i>` values in index order.
fn array_param(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Vec<String> {
    (0..)
        .map_while(|i| env(&format!("PARAM_{name}_{i}")))
        .collect()
}

pub fn generate(dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Outcome {
    let mode = env("PARAM_MODE").unwrap_or_else(|| "auto".into());
    let kustomize = match mode.as_str() {
        "auto" => has_kustomization(dir),
        "kustomize" => true,
        "render" => false,
        other => {
            return Outcome::error(anyhow!(
                "PARAM_MODE: {other:?} is not one of auto, kustomize, render"
            ));
        }
    };
    if kustomize {
        return kustomize_build(dir).unwrap_or_else(Outcome::error);
    }
    let found = match spec_files(dir) {
        Ok(found) => found,
        Err(e) => return Outcome::error(e),
    };
    let specs: Vec<PathBuf> = match array_param(env, "SPECS") {
        given if !given.is_empty() => match given.iter().map(|s| app_relative(dir, s)).collect() {
            Ok(specs) => specs,
            Err(e) => return Outcome::error(e),
        },
        _ if found.is_empty() => {
            return Outcome::error(anyhow!("no RegistryCredentials spec in {}", dir.display()));
        }
        _ => found.clone(),
    };
    run::render_cli(
        &RenderOptions {
            specs,
            inputs: vec![dir.display().to_string()],
            output_dir: None,
            check_dir: None,
            // Argo CD applies namespace-less objects into the destination namespace.
            default_namespace: env("ARGOCD_APP_NAMESPACE").filter(|s| !s.is_empty()),
            exclude_specs: found,
            keep_trees: false,
            sources: SourceOptions::default(),
        },
        || bail!("no stdin in the Argo CD sidecar"),
    )
}

/// `kubectl kustomize --enable-alpha-plugins .` with this binary as the plugin.
fn kustomize_build(dir: &Path) -> Result<Outcome> {
    let home = std::env::temp_dir().join(format!("regcred-plugin-home-{}", std::process::id()));
    let result = (|| {
        crate::plugin::install(Some(home.clone()), false)?;
        let out = Command::new("kubectl")
            .args(["kustomize", "--enable-alpha-plugins", "."])
            .current_dir(dir)
            .env("KUSTOMIZE_PLUGIN_HOME", &home)
            .output()
            .context("cannot run kubectl (the sidecar image needs kubectl on PATH)")?;
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if !out.status.success() {
            bail!("kubectl kustomize failed: {stderr}");
        }
        Ok(Outcome {
            stdout: String::from_utf8(out.stdout)
                .context("kubectl kustomize printed non-UTF-8 output")?,
            stderr: stderr
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            ..Outcome::default()
        })
    })();
    let _ = std::fs::remove_dir_all(&home);
    result
}
