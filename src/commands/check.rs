//! `regcred check`: render, then report images pods could not pull. Exit 1
//! when any error-level finding exists.

use super::inputs::{RenderOptions, load_and_render};
use super::warnings;
use crate::engine::check::{self, CheckOptions};
use crate::io::Outcome;
use crate::k8s::finding::Severity;
use crate::k8s::resource::Item;
use anyhow::Result;
use serde_yaml_ng::Value;

/// Runs the check; `extra` adds `--private-registry` and `--pod-spec-path`.
pub fn run(
    opts: &RenderOptions,
    extra: &CheckOptions,
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
    let mut copts = CheckOptions::from_render(&r.jobs, &r.output);
    copts
        .private_registries
        .extend(extra.private_registries.iter().cloned());
    copts.extra_kinds.extend(extra.extra_kinds.iter().cloned());
    copts.default_namespace = opts.default_namespace.clone();
    let trees: Vec<&Value> = r.output.items.iter().filter_map(Item::as_value).collect();
    let findings = check::check(&trees, &r.origins, &copts);
    let failed = findings.iter().any(|f| f.severity == Severity::Error);
    Outcome {
        stdout: if json {
            check::to_json(&findings)
        } else {
            check::to_text(&findings)
        }
        .into(),
        stderr: warnings(&r.output.findings),
        code: i32::from(failed),
        ..Outcome::default()
    }
}
