//! Argo CD config-management plugin (CMP v2 sidecar) entry points, so the
//! sidecar needs no shell: `plugin.yaml` calls `regcred cmp discover` and
//! `regcred cmp generate` in the Application's source directory.
//!
//! * discover prints the first file holding a `RegistryCredentials` spec
//!   (Argo CD treats non-empty output with exit 0 as a match);
//! * generate renders the app: a kustomization through
//!   `kubectl kustomize --enable-alpha-plugins` (or the standalone
//!   `kustomize build` when kubectl is missing) with regcred installed as a
//!   legacy plugin in a temporary plugin home, a plain directory through
//!   `regcred render`. Only manifests go to stdout.
//!
//! Parameters arrive as `PARAM_*` variables: `PARAM_SPECS_<i>` (spec files
//! for plain directories; default: every spec found), `PARAM_MODE`
//! (`auto`, `kustomize` or `render`).

use super::{RenderOptions, plugin, render};
use crate::credentials;
use crate::io::files::{self, TempDir};
use crate::io::{Outcome, walk};
use crate::spec;
use crate::yaml;
use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Files under `dir` holding a `RegistryCredentials` document. A file that
/// does not parse but names the kind counts too, so that generate reports
/// its real error instead of "no spec".
fn spec_files(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(walk::files(dir, walk::YAML)?
        .into_iter()
        .filter(|p| {
            let Ok(text) = files::read_text(p) else {
                return false;
            };
            match yaml::load_stream(&text, "discover") {
                Ok(docs) => docs.iter().any(|d| spec::is_spec(&d.value)),
                Err(_) => text.contains(spec::KIND),
            }
        })
        .collect())
}

/// A `specs` parameter entry: relative to the app, never leaving it, not
/// even through a symlink.
fn app_relative(dir: &Path, given: &str) -> Result<PathBuf> {
    let p = Path::new(given);
    let outside = || anyhow!("PARAM_SPECS: {given:?} must be a path inside the app directory");
    if p.is_absolute() || p.components().any(|c| c == std::path::Component::ParentDir) {
        return Err(outside());
    }
    let joined = dir.join(p);
    if let (Ok(real), Ok(app)) = (joined.canonicalize(), dir.canonicalize()) {
        if !real.starts_with(app) {
            return Err(outside());
        }
    }
    Ok(joined)
}

/// `regcred cmp discover`: the first spec file, relative to the app.
pub fn discover(dir: &Path) -> Outcome {
    match spec_files(dir) {
        Ok(files) => Outcome {
            stdout: files
                .first()
                .map(|f| format!("{}\n", f.strip_prefix(dir).unwrap_or(f).display()))
                .unwrap_or_default()
                .into(),
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

/// `regcred cmp generate`: the app's manifests, through kustomize or `render`.
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
    render::run(
        &RenderOptions {
            specs,
            inputs: vec![dir.display().to_string()],
            // Argo CD applies namespace-less objects into the destination namespace.
            default_namespace: env("ARGOCD_APP_NAMESPACE").filter(|s| !s.is_empty()),
            exclude_specs: found,
            sources: credentials::Options {
                root: env("REGCRED_ROOT")
                    .filter(|s| !s.is_empty())
                    .map(PathBuf::from),
                ..credentials::Options::default()
            },
            ..RenderOptions::default()
        },
        || bail!("no stdin in the Argo CD sidecar"),
    )
}

/// The kustomize on PATH, as the program and its build subcommand:
/// `kubectl kustomize` where kubectl is found (what the sidecar recipe has
/// always asked for), else the standalone `kustomize build`, which the
/// sidecar image ships instead of kubectl. Both are the same kustomize code
/// and take the same flags.
fn kustomize_program() -> Result<[&'static str; 2]> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    [["kubectl", "kustomize"], ["kustomize", "build"]]
        .into_iter()
        .find(|[program, _]| dirs.iter().any(|d| d.join(program).is_file()))
        .ok_or_else(|| {
            anyhow!("neither kubectl nor kustomize is on PATH (the sidecar needs one to build kustomizations)")
        })
}

/// `kubectl kustomize --enable-alpha-plugins .` (or `kustomize build`) with
/// this binary as the plugin.
fn kustomize_build(dir: &Path) -> Result<Outcome> {
    let home = TempDir::new("regcred-plugin-home")?;
    let result = (|| {
        plugin::install(Some(home.path().to_path_buf()), false)?;
        let [program, build] = kustomize_program()?;
        let out = Command::new(program)
            .args([build, "--enable-alpha-plugins", "."])
            .current_dir(dir)
            .env("KUSTOMIZE_PLUGIN_HOME", home.path())
            .output()
            .with_context(|| format!("cannot run {program}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if !out.status.success() {
            bail!("{program} {build} failed: {stderr}");
        }
        Ok(Outcome {
            stdout: String::from_utf8(out.stdout)
                .with_context(|| format!("{program} {build} printed non-UTF-8 output"))?
                .into(),
            stderr: stderr
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            ..Outcome::default()
        })
    })();
    drop(home);
    result
}
