//! The three ways the one binary runs: KRM function (ResourceList on
//! stdin), legacy kustomize exec plugin (config file path as the only
//! argument, resources on stdin) and the `render` CLI. Each returns what to
//! print instead of printing, so nothing reaches stdout unless the whole run
//! succeeded (or, for KRM, as a ResourceList carrying the error).

use crate::check;
use crate::drift;
use crate::encrypted::EncryptedFiles;
use crate::identity::{Discovery, Identities};
use crate::krm;
use crate::render::{self, Finding, Item, Job, Severity};
use crate::source::Resolver;
use crate::spec;
use crate::yaml;
use anyhow::{Context, Result, bail};
use serde_yaml_ng::Value;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What a mode wants printed, and its exit code.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: String,
    /// Errors and warnings, one per line.
    pub stderr: Vec<String>,
    /// Informational lines, shown with `--verbose`.
    pub info: Vec<String>,
    pub code: i32,
}

impl Outcome {
    /// A failure with nothing on stdout.
    pub fn error(err: anyhow::Error) -> Self {
        Self::failed(err, String::new())
    }

    /// A failure; `stdout` is only ever a KRM ResourceList carrying the error.
    pub fn failed(err: anyhow::Error, stdout: String) -> Self {
        Outcome {
            stdout,
            stderr: vec![format!("error: {err:#}")],
            info: Vec::new(),
            code: 1,
        }
    }
}

/// `warning: field: message`, one line per finding.
pub fn format_finding(f: &Finding) -> String {
    match &f.field {
        Some(field) => format!("{}: {field}: {}", f.severity.as_str(), f.message),
        None => format!("{}: {}", f.severity.as_str(), f.message),
    }
}

/// How credential sources are read, common to every mode.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    pub allow_path_outside_root: bool,
    /// `--age-key-file`.
    pub age_key_file: Option<PathBuf>,
    /// Whether passphrases may be asked on the terminal.
    pub interactive: bool,
}

/// A resolver for one spec: plaintext files plus SOPS/age decryption with
/// identities discovered lazily (CLI key file, spec key file, environment).
pub fn resolver_for(spec: &spec::Spec, root: &Path, opts: &SourceOptions) -> Result<Resolver> {
    let resolver = Resolver::new(root, opts.allow_path_outside_root)?;
    // The spec's key file obeys the same confinement as credential files.
    let spec_key_files = spec
        .age_key_file
        .iter()
        .map(|p| resolver.confine(p, "spec.decryption.ageKeyFile"))
        .collect::<Result<_>>()?;
    let discovery = Discovery {
        cli_key_file: opts.age_key_file.clone(),
        spec_key_files,
        interactive: opts.interactive,
    };
    Ok(resolver.with_decoder(Box::new(EncryptedFiles {
        identities: Rc::new(Identities::new(discovery)),
    })))
}

/// Parses every `RegistryCredentials` document of a spec file; relative
/// credential paths resolve against the file's directory.
pub fn load_spec_file(path: &Path, root: Option<&Path>, opts: &SourceOptions) -> Result<Vec<Job>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read spec file {}", path.display()))?;
    let docs = yaml::load_stream(&text, &path.display().to_string())?;
    let dir = match root {
        Some(r) => r.to_path_buf(),
        None => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
    };
    let docs: Vec<_> = docs.into_iter().filter(|d| !d.value.is_null()).collect();
    if docs.is_empty() {
        bail!("{}: no RegistryCredentials document", path.display());
    }
    let many = docs.len() > 1;
    docs.iter()
        .enumerate()
        .map(|(i, d)| {
            let origin = if many {
                format!("{} (document {}, line {})", path.display(), i + 1, d.line)
            } else {
                path.display().to_string()
            };
            let spec = spec::parse(&d.value, &origin)?;
            let resolver = resolver_for(&spec, &dir, opts)?;
            Ok(Job { spec, resolver })
        })
        .collect()
}

fn warnings(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity != Severity::Error)
        .map(format_finding)
        .collect()
}

/// KRM function mode. `root` is the working directory kustomize or kpt
/// gives the function (the kustomization root); `kpt fn render` runs
/// functions in its own working directory and names the package instead.
pub fn krm_function(input: &str, root: &Path) -> Outcome {
    let rl = match krm::read(input) {
        Ok(rl) => rl,
        Err(e) => {
            let out = krm::write(
                krm::DEFAULT_API_VERSION,
                Vec::new(),
                &[krm::error_finding(format!("{e:#}"))],
            );
            return Outcome::failed(e, out.unwrap_or_default());
        }
    };
    let api_version = rl.api_version.clone();
    let failed = |e: anyhow::Error| {
        // Hand the input back unchanged next to the error (an empty `items`
        // from a transformer would delete every resource).
        let out = krm::write(
            &api_version,
            input_items(input),
            &[krm::error_finding(format!("{e:#}"))],
        );
        Outcome::failed(e, out.unwrap_or_default())
    };
    let Some(config) = rl.function_config.clone() else {
        // A syntax error in the items is the more useful message.
        if let Err(e) = rl.into_items() {
            return failed(e);
        }
        return failed(anyhow::anyhow!(
            "functionConfig: missing: the ResourceList must carry a RegistryCredentials spec"
        ));
    };
    let result = (|| {
        let spec = spec::parse(&config, "functionConfig")?;
        let root = krm::package_root(&config, root);
        let resolver = resolver_for(&spec, &root, &SourceOptions::default())?;
        let jobs = vec![Job { spec, resolver }];
        let mut items = Vec::new();
        rl.for_each_item(|v| {
            let keep = render::needs_tree(&v, &jobs);
            items.push(Item::new(v, keep)?);
            Ok(())
        })?;
        let out = render::render_in(items, &jobs, None)?;
        // As a validator (spec.check.enabled), the check's findings join the results.
        let checked = if jobs[0].spec.check.enabled {
            let trees: Vec<&Value> = out.items.iter().filter_map(Item::as_value).collect();
            check::check(&trees, &[], &check::CheckOptions::from_render(&jobs, &out))
        } else {
            Vec::new()
        };
        Ok((out, checked))
    })();
    let (out, checked) = match result {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let mut results: Vec<Value> = out.findings.iter().map(krm::result_value).collect();
    results.extend(checked.iter().map(krm::check_result));
    let errors: Vec<String> = checked
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| {
            format!(
                "error: {}/{}/{}: {}",
                f.namespace, f.kind, f.name, f.message
            )
        })
        .collect();
    // On a failed check, hand back the input unchanged (as on any error),
    // so runners show the results instead of choking on new objects.
    let written = if errors.is_empty() {
        krm::write_results(&api_version, &out.items, results)
    } else {
        let input: Vec<Item> = input_items(input).into_iter().map(Item::Tree).collect();
        krm::write_results(&api_version, &input, results)
    };
    match written {
        Ok(stdout) => Outcome {
            stdout,
            code: i32::from(!errors.is_empty()),
            stderr: warnings(&out.findings).into_iter().chain(errors).collect(),
            ..Outcome::default()
        },
        Err(e) => Outcome::failed(e, String::new()),
    }
}

/// The input items again, for the (rare) error path: render consumed them.
fn input_items(input: &str) -> Vec<Value> {
    krm::read(input)
        .and_then(|rl| rl.into_items())
        .unwrap_or_default()
}

/// Legacy exec plugin mode: kustomize passes a temporary copy of the
/// plugin config as the only argument and sets
/// `KUSTOMIZE_PLUGIN_CONFIG_ROOT` to the kustomization directory.
pub fn legacy_plugin(config: &Path, stdin: &str, config_root: Option<&Path>) -> Outcome {
    let result = (|| {
        let cwd = std::env::current_dir()?;
        let jobs = load_spec_file(
            config,
            Some(config_root.unwrap_or(&cwd)),
            &SourceOptions::default(),
        )?;
        let items = parse_items(stdin, "stdin")?
            .into_iter()
            .map(|v| {
                let keep = render::needs_tree(&v, &jobs);
                Item::new(v, keep)
            })
            .collect::<Result<Vec<_>>>()?;
        let out = render::render_in(items, &jobs, None)?;
        Ok::<_, anyhow::Error>((stream(&out.items)?, out.findings))
    })();
    match result {
        Ok((stdout, findings)) => Outcome {
            stdout,
            stderr: warnings(&findings),
            ..Outcome::default()
        },
        Err(e) => Outcome::failed(e, String::new()),
    }
}

/// Options of `regcred render`.
#[derive(Clone)]
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
    pub sources: SourceOptions,
}

/// A CLI render: the specs, the output, and the file each input item came
/// from (`origins[i]` for `output.items[i]`; generated items have none).
pub struct Rendered {
    pub jobs: Vec<Job>,
    pub output: render::Output,
    pub origins: Vec<Option<String>>,
}

/// Loads the specs and inputs of a CLI run and renders them.
pub fn load_and_render(
    opts: &RenderOptions,
    read_stdin: impl Fn() -> Result<String>,
) -> Result<Rendered> {
    let mut jobs = Vec::new();
    for path in &opts.specs {
        jobs.extend(load_spec_file(path, None, &opts.sources)?);
    }
    // Credential files never become output, even when they sit among the inputs.
    let mut others = Vec::new();
    for path in &opts.exclude_specs {
        // Unselected specs only matter for the files they name.
        others.extend(load_spec_file(path, None, &opts.sources).unwrap_or_default());
    }
    let credential_files: Vec<PathBuf> = jobs
        .iter()
        .chain(&others)
        .flat_map(|j| {
            j.spec
                .credential_files()
                .into_iter()
                .filter_map(|p| j.resolver.locate(p))
        })
        .collect();
    let mut items: Vec<Item> = Vec::new();
    let mut origins = Vec::new();
    // Each parsed resource becomes an Item right away, so only one file's
    // trees are alive at a time. RegistryCredentials documents are
    // configuration, not resources: they are dropped.
    let mut take = |parsed: Vec<Value>, origin: &str| -> Result<()> {
        for v in parsed.into_iter().filter(|v| !spec::is_spec(v)) {
            let keep = opts.keep_trees || render::needs_tree(&v, &jobs);
            items.push(Item::new(v, keep)?);
            origins.push(Some(origin.to_string()));
        }
        Ok(())
    };
    for input in &opts.inputs {
        if input == "-" {
            take(parse_items(&read_stdin()?, "stdin")?, "stdin")?;
            continue;
        }
        for file in input_files(Path::new(input))? {
            if file
                .canonicalize()
                .is_ok_and(|f| credential_files.contains(&f))
            {
                continue;
            }
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let origin = file.display().to_string();
            take(parse_items(&text, &origin)?, &origin)?;
        }
    }
    let output = render::render_in(items, &jobs, opts.default_namespace.as_deref())?;
    Ok(Rendered {
        jobs,
        output,
        origins,
    })
}

/// `regcred check`: render, then report images pods cannot pull. Exit 1
/// when any error-level finding exists.
pub fn check_cli(
    opts: &RenderOptions,
    extra: &check::CheckOptions,
    json: bool,
    read_stdin: impl Fn() -> Result<String>,
) -> Outcome {
    let opts = RenderOptions {
        keep_trees: true,
        ..opts.clone()
    };
    let r = match load_and_render(&opts, read_stdin) {
        Ok(r) => r,
        Err(e) => return Outcome::error(e),
    };
    let mut copts = check::CheckOptions::from_render(&r.jobs, &r.output);
    copts
        .private_registries
        .extend(extra.private_registries.iter().cloned());
    copts.extra_kinds.extend(extra.extra_kinds.iter().cloned());
    copts.default_namespace = opts.default_namespace.clone();
    let trees: Vec<&Value> = r.output.items.iter().filter_map(Item::as_value).collect();
    let findings = check::check(&trees, &r.origins, &copts);
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let stdout = if json {
        serde_json::to_string_pretty(&findings).unwrap_or_default() + "\n"
    } else {
        check::to_text(&findings)
    };
    Outcome {
        stdout,
        stderr: warnings(&r.output.findings),
        code: i32::from(errors > 0),
        ..Outcome::default()
    }
}

/// `regcred render`: specs and input files to a YAML stream, a directory,
/// or a drift check against a directory.
pub fn render_cli(opts: &RenderOptions, read_stdin: impl Fn() -> Result<String>) -> Outcome {
    let result = load_and_render(opts, read_stdin);
    let out = match result {
        Ok(r) => r.output,
        Err(e) => return Outcome::failed(e, String::new()),
    };
    let mut outcome = Outcome {
        stderr: warnings(&out.findings),
        info: vec![out.summary.to_string()],
        ..Outcome::default()
    };
    let written = match (&opts.output_dir, &opts.check_dir) {
        (_, Some(dir)) => {
            plan_files(dir, &out.items).and_then(|planned| drift::diff_dir(dir, &planned))
        }
        (Some(dir), None) => write_dir(dir, &out.items).map(|()| String::new()),
        (None, None) => stream(&out.items),
    };
    match written {
        Ok(stdout) => {
            if let (Some(dir), false) = (&opts.check_dir, stdout.is_empty()) {
                outcome.stderr.push(format!(
                    "error: rendered output in {} is out of date; re-run regcred render with -o {}",
                    dir.display(),
                    dir.display()
                ));
                outcome.code = 1;
            }
            outcome.stdout = stdout;
            outcome
        }
        Err(e) => Outcome::failed(e, String::new()),
    }
}

/// Items as a YAML stream, documents separated by `---`.
fn stream(items: &[Item]) -> Result<String> {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&item.to_yaml()?);
    }
    Ok(out)
}

/// Non-empty documents of a YAML stream, each a Kubernetes resource.
/// Anything else (a credentials file, a SOPS file) is refused rather than
/// passed through to the output.
fn parse_items(text: &str, origin: &str) -> Result<Vec<Value>> {
    let docs = yaml::load_stream(text, origin)?;
    let mut items = Vec::new();
    for d in docs {
        let line = d.line;
        let Value::Mapping(m) = &d.value else {
            if d.value.is_null() {
                continue;
            }
            bail!("{origin}: line {line}: a Kubernetes resource must be a mapping");
        };
        if m.contains_key("sops") {
            bail!(
                "{origin}: line {line}: a SOPS-encrypted file among the inputs; reference it from the spec instead"
            );
        }
        if !(m.contains_key("apiVersion") && m.contains_key("kind")) {
            bail!(
                "{origin}: line {line}: not a Kubernetes resource (no apiVersion and kind); keep credential files out of the inputs or reference them from the spec"
            );
        }
        items.push(d.value);
    }
    Ok(items)
}

/// A file, or every `*.yaml|*.yml|*.json` below a directory, sorted.
/// Dot-files and dot-directories (`.sops.yaml`, `.git`) are not inputs.
fn input_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read directory {}", dir.display()))?
        {
            let p = entry?.path();
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
            {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// One file per object: `DIR/<namespace or _cluster>/<kind>-<name>.yaml`.
fn plan_files(dir: &Path, items: &[Item]) -> Result<Vec<(PathBuf, String)>> {
    let mut planned: Vec<(PathBuf, String)> = Vec::new();
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

/// Writes the planned files; nothing is written unless every object could be planned.
/// Files regcred wrote on an earlier run and no longer renders are removed,
/// so re-running `-o DIR` is what makes `--check DIR` pass again.
fn write_dir(dir: &Path, items: &[Item]) -> Result<()> {
    let planned = plan_files(dir, items)?;
    for (path, text) in &planned {
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    prune_stale(dir, &planned)
}

/// Removes `DIR/<namespace>/<kind>-<name>.yaml` files that are not planned
/// and hold a single Kubernetes object (the shape of regcred's own output);
/// anything else in DIR is left alone.
fn prune_stale(dir: &Path, planned: &[(PathBuf, String)]) -> Result<()> {
    let Ok(subdirs) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for sub in subdirs.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
        for file in std::fs::read_dir(&sub)?.flatten().map(|e| e.path()) {
            let ours = file.extension().is_some_and(|e| e == "yaml")
                && !planned.iter().any(|(p, _)| p == &file)
                && std::fs::read_to_string(&file)
                    .ok()
                    .and_then(|t| parse_items(&t, "stale").ok())
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
