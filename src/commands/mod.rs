//! What each subcommand and run mode does, as functions that return an
//! [`Outcome`](crate::io::Outcome) instead of printing: `render`, `check`, `explain`, the KRM
//! function, the legacy kustomize plugin, the Argo CD plugin steps and the
//! SOPS tools. Loading specs and inputs, shared by the rendering commands,
//! is in [`inputs`].

pub(crate) mod check;
pub(crate) mod cmp;
pub(crate) mod crypt;
pub(crate) mod explain;
mod inputs;
pub(crate) mod krm;
pub(crate) mod plugin;
pub(crate) mod render;

pub(crate) use inputs::RenderOptions;

use crate::k8s::finding::{Finding, Severity};

/// Warnings (never errors: those fail the run) as stderr lines.
fn warnings(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity != Severity::Error)
        .map(Finding::to_line)
        .collect()
}
