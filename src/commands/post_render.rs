//! `regcred post-render`: Helm's post-renderer contract. Helm writes the
//! chart's rendered manifests to stdin, reads manifests from stdout and
//! fails the install, upgrade or template when the exit code is not 0.
//!
//! It is `regcred render -f SPEC -n NS -` with two differences that matter
//! under Helm:
//!
//! * Helm installs objects without `metadata.namespace` into the release
//!   namespace but does not tell a post-renderer which one that is (Helm 3
//!   passes only `--post-renderer-args`, Helm 4 only the plugin's arguments
//!   and the caller's environment). Without `--namespace`, such a
//!   ServiceAccount or workload would silently get no pull Secret, so that
//!   is an error here, where `render` only warns.
//! * Empty input is an error. Helm 3's `helm template --output-dir` writes
//!   the chart's files before it post-renders, and hands the post-renderer
//!   nothing: the files would silently lack the pull Secret. (Helm 4 fails
//!   on an empty post-renderer output by itself.)
//! * Helm captures stderr and has no terminal to offer, so credential
//!   passphrases are never asked for.

use super::inputs::{self, RenderOptions};
use super::{unplaced, warnings};
use crate::engine;
use crate::io::{Outcome, documents};
use anyhow::{Result, bail};

/// Renders the manifests on stdin; fails on empty input and when an
/// object's namespace is the unknown release namespace.
pub fn run(opts: &RenderOptions, read_stdin: impl Fn() -> Result<String>) -> Outcome {
    let opts = RenderOptions {
        inputs: vec!["-".to_string()],
        sources: crate::credentials::Options {
            interactive: false,
            ..opts.sources.clone()
        },
        ..opts.clone()
    };
    render(&opts, read_stdin).unwrap_or_else(Outcome::error)
}

fn render(opts: &RenderOptions, read_stdin: impl Fn() -> Result<String>) -> Result<Outcome> {
    let loaded = inputs::load(opts, read_stdin)?;
    if loaded.items.is_empty() {
        bail!(
            "no manifests on stdin: Helm 3's helm template --output-dir writes the chart's files before post-rendering and passes none, so they would get no pull Secret; print to stdout instead (helm template ... > rendered.yaml)"
        );
    }
    if opts.default_namespace.is_none() {
        if let Some(objects) = unplaced(&loaded.items) {
            bail!(
                "{objects} have no metadata.namespace: Helm installs them into the release namespace, which it does not pass to a post-renderer, so regcred cannot place their pull Secret; pass it with --post-renderer-args=--namespace=NS (the namespace given to helm --namespace)"
            );
        }
    }
    let mut out = engine::render(
        loaded.items,
        &loaded.jobs,
        engine::Options {
            default_ns: opts.default_namespace.as_deref(),
            compact: true,
            detail: false,
        },
    )?;
    let mut stderr = warnings(&std::mem::take(&mut out.findings));
    stderr.extend(warnings(&loaded.warnings));
    let info = vec![out.summary.to_string()];
    let (items, tail) = out.into_parts();
    Ok(Outcome {
        stream: Some(documents::streamed(items, tail)?),
        stderr,
        info,
        ..Outcome::default()
    })
}
