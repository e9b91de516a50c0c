//! Specs and input manifests of a CLI run: loading spec files, reading the
//! inputs (files, directories, stdin) and rendering them.

use crate::credentials::{self, Resolver};
use crate::engine::{self, Job, Output};
use crate::io::{self, documents, files, walk};
use crate::k8s::finding::{Finding, Severity};
use crate::k8s::names;
use crate::k8s::resource::Item;
use crate::spec;
use crate::yaml;
use anyhow::{Result, bail};
use serde_yaml_ng::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Options of the rendering commands (`render`, `check`, `explain`, and
/// the Argo CD plugin's plain-directory mode).
#[derive(Clone, Default)]
pub struct RenderOptions {
    pub specs: Vec<PathBuf>,
    pub inputs: Vec<String>,
    pub output_dir: Option<PathBuf>,
    /// `--check DIR`: compare with committed output instead of writing.
    pub check_dir: Option<PathBuf>,
    /// Namespace of namespaced inputs without `metadata.namespace`.
    pub default_namespace: Option<String>,
    /// Further spec files whose credential files must not be read as inputs
    /// (specs present but not selected, e.g. in Argo CD with `specs` set).
    pub exclude_specs: Vec<PathBuf>,
    /// Keep every input resource as a tree (`check` inspects them all).
    pub keep_trees: bool,
    /// Per-namespace reports (`explain`).
    pub detail: bool,
    /// `-o DIR --encrypt`: write Secrets SOPS-encrypted.
    pub encrypt: bool,
    /// `--age`: the recipients to encrypt for (else `SOPS_AGE_RECIPIENTS`,
    /// else `.sops.yaml`).
    pub encrypt_for: Option<String>,
    pub sources: credentials::Options,
}

/// Parses every `RegistryCredentials` document of a spec file; relative
/// credential paths resolve against `root`, else the file's directory.
pub fn load_spec_file(
    path: &Path,
    root: Option<&Path>,
    opts: &credentials::Options,
) -> Result<Vec<Job>> {
    let text = files::read_text(path)
        .map_err(|e| e.context(format!("cannot read spec file {}", path.display())))?;
    let dir = match root {
        Some(r) => r.to_path_buf(),
        None => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
    };
    let shown = path.display().to_string();
    load_specs(&text, &shown, &dir, opts, |_, position| match position {
        Some((i, line)) => format!("{shown} (document {i}, line {line})"),
        None => shown.clone(),
    })
}

/// Parses the `RegistryCredentials` documents of `text` (shown as `shown`
/// in YAML errors). `origin` names each spec for messages: it gets the
/// document, and its number and line when the text holds several.
pub fn load_specs(
    text: &str,
    shown: &str,
    dir: &Path,
    opts: &credentials::Options,
    origin: impl Fn(&Value, Option<(usize, usize)>) -> String,
) -> Result<Vec<Job>> {
    let docs = yaml::load_stream(text, shown)?;
    let docs: Vec<_> = docs.into_iter().filter(|d| !d.value.is_null()).collect();
    if docs.is_empty() {
        bail!("{shown}: no RegistryCredentials document");
    }
    let many = docs.len() > 1;
    docs.into_iter()
        .enumerate()
        .map(|(i, d)| {
            let origin = origin(&d.value, many.then_some((i + 1, d.line)));
            let spec = spec::parse_owned(d.value, &origin)?;
            let resolver = Resolver::for_spec(&spec, dir, opts)?;
            Ok(Job { spec, resolver })
        })
        .collect()
}

/// A CLI render: the specs, the output, and the file each input item came
/// from (`origins[i]` for `output.items[i]`; generated items have none;
/// only kept with `keep_trees`, for `check`).
pub struct Rendered {
    pub jobs: Vec<Job>,
    pub output: Output,
    pub origins: Vec<Option<String>>,
}

/// Loads the specs and inputs of a CLI run and renders them.
pub fn load_and_render(
    opts: &RenderOptions,
    read_stdin: impl Fn() -> Result<String>,
) -> Result<Rendered> {
    let Loaded {
        jobs,
        items,
        origins,
        warnings,
    } = load(opts, read_stdin)?;
    let mut output = engine::render(
        items,
        &jobs,
        engine::Options {
            default_ns: opts.default_namespace.as_deref(),
            compact: !opts.keep_trees,
            detail: opts.detail,
        },
    )?;
    output.findings.extend(warnings);
    Ok(Rendered {
        jobs,
        output,
        origins,
    })
}

/// The specs and input items of a CLI run, before rendering.
pub struct Loaded {
    pub jobs: Vec<Job>,
    pub items: Vec<Item>,
    /// The file each item came from (only with `keep_trees`).
    pub origins: Vec<Option<String>>,
    /// About the inputs themselves (a kustomization read as a resource).
    pub warnings: Vec<Finding>,
}

/// Loads the specs and the inputs of a CLI run. Each input is read by the
/// fast reader when it can (see [`documents::fast_resources`]), else
/// parsed: each parsed resource becomes an Item right away, so only one
/// file's trees are alive at a time.
pub fn load(opts: &RenderOptions, read_stdin: impl Fn() -> Result<String>) -> Result<Loaded> {
    if let Some(ns) = &opts.default_namespace {
        names::check_label(ns, "default namespace (-n, ARGOCD_APP_NAMESPACE)")?;
    }
    let mut jobs = Vec::new();
    for path in &opts.specs {
        jobs.extend(load_spec_file(path, None, &opts.sources)?);
    }
    // Only a directory walk can come across a credential file.
    let credential_files = std::cell::OnceCell::new();
    let mut items: Vec<Item> = Vec::new();
    let mut origins = Vec::new();
    let mut kustomization: Option<String> = None;
    let keep = engine::keeper(&jobs, true);
    let reading = engine::reading(&jobs, &keep);
    let mut take = |text: String, origin: &str| -> Result<()> {
        let before = items.len();
        let text = Arc::new(text);
        let fast = (!opts.keep_trees)
            .then(|| documents::fast_resources(&text, &reading))
            .flatten();
        match fast {
            // The first input's items are moved, not copied: a large
            // input would otherwise be held twice for a moment.
            Some(found) if items.is_empty() => items = found,
            Some(found) => items.extend(found),
            None => {
                // RegistryCredentials documents are configuration, not
                // resources: they are dropped.
                for v in documents::resources(&text, origin)?
                    .into_iter()
                    .filter(|v| !spec::is_spec(v))
                {
                    let keep = opts.keep_trees || engine::needs_tree(&v, &jobs);
                    items.push(Item::new(v, keep)?);
                }
            }
        }
        if opts.keep_trees {
            origins.resize(items.len(), Some(origin.to_string()));
        }
        if kustomization.is_none()
            && items[before..]
                .iter()
                .any(|i| i.kind() == Some("Kustomization"))
        {
            kustomization = Some(origin.to_string());
        }
        Ok(())
    };
    for input in &opts.inputs {
        if input == "-" {
            take(read_stdin()?, "stdin")?;
            continue;
        }
        for file in walk::files(Path::new(input), walk::MANIFESTS)? {
            if file.canonicalize().is_ok_and(|f| {
                credential_files
                    .get_or_init(|| credential_files_of(&jobs, opts))
                    .contains(&f)
            }) {
                continue;
            }
            take(files::read_text(&file)?, &file.display().to_string())?;
        }
    }
    // The reader's settings borrow the jobs, which are returned below.
    drop(reading);
    drop(keep);
    let warnings = input_warning(kustomization, opts).into_iter().collect();
    Ok(Loaded {
        jobs,
        items,
        origins,
        warnings,
    })
}

/// A `Kustomization` among the inputs is passed through as an object, which
/// is never what was meant: say how to render what kustomize builds. And an
/// empty input list with a pipe on stdin means a forgotten `-`.
fn input_warning(kustomization: Option<String>, opts: &RenderOptions) -> Option<Finding> {
    if opts.inputs.is_empty() && io::stdin_is_piped() {
        return Some(Finding::new(
            Severity::Warning,
            "no INPUT given, so stdin is not read: pass - to render what is piped in",
        ));
    }
    let file = kustomization?;
    Some(Finding::new(
        Severity::Warning,
        format!(
            "{file}: a kustomization is passed through as an object, not built; render what kustomize builds instead: kubectl kustomize DIR | regcred render -f SPEC -"
        ),
    ))
}

/// Every credential file the specs (selected or not) read: they never
/// become output, even when they sit among the inputs.
fn credential_files_of(jobs: &[Job], opts: &RenderOptions) -> HashSet<PathBuf> {
    // Unselected specs only matter for the files they name.
    let others: Vec<Job> = opts
        .exclude_specs
        .iter()
        .flat_map(|path| load_spec_file(path, None, &opts.sources).unwrap_or_default())
        .collect();
    jobs.iter()
        .chain(&others)
        .flat_map(|j| {
            j.spec
                .credential_files()
                .into_iter()
                .filter_map(|p| j.resolver.locate(p))
        })
        .collect()
}
