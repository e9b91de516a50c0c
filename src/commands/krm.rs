//! KRM function mode: a ResourceList on stdin carrying the spec as its
//! `functionConfig`. The read/process/write loop, and what happens to the
//! items on failure, belong to [`crate::io::resourcelist::execute`]; this
//! is the processing step.

use super::{namespace_less_warning, warnings};
use crate::credentials::{self, Resolver};
use crate::engine::{self, Job, check};
use crate::io::Outcome;
use crate::io::resourcelist::{self, Processed, ResourceList};
use crate::k8s::resource::Item;
use crate::k8s::{meta, names};
use crate::spec;
use anyhow::{Result, anyhow};
use serde_yaml_ng::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Runs the function on `input`. `cwd` is the working directory kustomize
/// or kpt gives the function (the kustomization root); `kpt fn render`
/// runs functions in its own working directory and names the package
/// instead.
///
/// `root` is the confinement root (`REGCRED_ROOT`); by default the
/// enclosing repository of the package.
pub fn run(input: Result<String>, cwd: &Path, root: Option<PathBuf>) -> Outcome {
    let sources = credentials::Options {
        root,
        ..credentials::Options::default()
    };
    match input {
        Ok(input) => {
            let input = Arc::new(input);
            resourcelist::execute(&input, |rl| process(rl, &input, cwd, &sources))
        }
        // Unreadable stdin (not UTF-8) still gets a ResourceList back.
        Err(e) => resourcelist::unreadable(e),
    }
}

fn process(
    rl: &ResourceList,
    src: &Arc<String>,
    cwd: &Path,
    sources: &credentials::Options,
) -> Result<Processed> {
    let Some(config) = &rl.function_config else {
        // A syntax error in the items is the more useful message.
        rl.for_each_item(|_| Ok(()))?;
        return Err(anyhow!(
            "functionConfig: missing: the ResourceList must carry a RegistryCredentials spec"
        ));
    };
    let spec = spec::parse(config, "functionConfig")?;
    let root = resourcelist::package_root(config, cwd);
    let resolver = Resolver::for_spec(&spec, &root, sources)?;
    let jobs = vec![Job { spec, resolver }];
    let keep = engine::keeper(&jobs, false);
    let reading = engine::reading(&jobs, &keep);
    let items = match rl.fast_items(src, &reading) {
        Some(items) => items,
        None => {
            let mut items = Vec::new();
            rl.for_each_item(|v| {
                names::check_object(&v).map_err(|e| {
                    let at =
                        meta::annotated_path(&v).unwrap_or_else(|| format!("item {}", items.len()));
                    e.context(at)
                })?;
                let keep = engine::needs_tree(&v, &jobs);
                items.push(Item::new(v, keep)?);
                Ok(())
            })?;
            items
        }
    };
    let unplaced = namespace_less_warning(&items);
    // As a validator, the check reads trees of everything it looks at.
    let checks = jobs[0].spec.check.enabled;
    let mut out = engine::render(
        items,
        &jobs,
        engine::Options {
            default_ns: None,
            compact: !checks,
            detail: false,
        },
    )?;
    out.findings.extend(unplaced);
    // As a validator (spec.check.enabled), the check's findings join the results.
    let checked = if jobs[0].spec.check.enabled {
        let trees: Vec<&Value> = out.items.iter().filter_map(Item::as_value).collect();
        check::check(&trees, &[], &check::CheckOptions::from_render(&jobs, &out))
    } else {
        Vec::new()
    };
    let errors = check::error_lines(&checked);
    let failed = !errors.is_empty();
    let stderr = warnings(&out.findings).into_iter().chain(errors).collect();
    let results = std::mem::take(&mut out.findings)
        .into_iter()
        .chain(checked)
        .collect();
    let (items, tail) = out.into_parts();
    Ok(Processed {
        failed,
        stderr,
        results,
        items,
        tail: Some(tail),
    })
}
