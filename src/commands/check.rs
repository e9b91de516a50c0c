//! `regcred check`: render, then report images pods could not pull. Exit 1
//! when any error-level finding exists. With `--as-is` the input is checked
//! exactly as given, without rendering first: that is how CI catches a
//! stream whose pull Secrets were lost (regcred ran before an overlay moved
//! the objects, say).

use super::inputs::{RenderOptions, load, load_and_render};
use super::warnings;
use crate::engine::check::{self, CheckOptions};
use crate::io::Outcome;
use crate::k8s::finding::{Finding, Severity};
use crate::k8s::resource::Item;
use anyhow::Result;
use serde_yaml_ng::Value;

/// Runs the check; `extra` adds `--private-registry` and `--pod-spec-path`;
/// `as_is` checks the input without rendering it first.
pub fn run(
    opts: &RenderOptions,
    extra: &CheckOptions,
    json: bool,
    as_is: bool,
    read_stdin: impl Fn() -> Result<String>,
) -> Outcome {
    let opts = RenderOptions {
        keep_trees: true,
        ..opts.clone()
    };
    let checked = if as_is {
        load(&opts, read_stdin).and_then(|l| {
            let (copts, unknown) = CheckOptions::from_specs(&l.jobs)?;
            let mut warnings = l.warnings;
            warnings.extend(unknown.into_iter().map(|e| {
                Finding::new(
                    Severity::Warning,
                    format!("registry names in a docker config.json are unknown without reading it ({e}); they are left out"),
                )
            }));
            Ok((l.items, l.origins, copts, warnings))
        })
    } else {
        load_and_render(&opts, read_stdin).map(|r| {
            let copts = CheckOptions::from_render(&r.jobs, &r.output);
            (r.output.items, r.origins, copts, r.output.findings)
        })
    };
    let (items, origins, mut copts, render_findings) = match checked {
        Ok(c) => c,
        Err(e) => return Outcome::error(e),
    };
    copts
        .private_registries
        .extend(extra.private_registries.iter().cloned());
    copts.extra_kinds.extend(extra.extra_kinds.iter().cloned());
    copts.strict = extra.strict;
    copts.public_registries = extra.public_registries.clone();
    copts.default_namespace = opts.default_namespace.clone();
    let trees: Vec<&Value> = items.iter().filter_map(Item::as_value).collect();
    let findings = check::check(&trees, &origins, &copts);
    let failed = findings.iter().any(|f| f.severity == Severity::Error);
    Outcome {
        stdout: if json {
            check::to_json(&findings)
        } else {
            check::to_text(&findings)
        }
        .into(),
        stderr: warnings(&render_findings),
        code: i32::from(failed),
        ..Outcome::default()
    }
}
