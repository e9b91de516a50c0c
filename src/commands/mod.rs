//! What each subcommand and run mode does, as functions that return an
//! [`Outcome`](crate::io::Outcome) instead of printing: `render`, `check`, `explain`, the KRM
//! function, the legacy kustomize plugin, the Argo CD plugin steps, the
//! Helm post-renderer and the SOPS tools. Loading specs and inputs, shared by the rendering commands,
//! is in [`inputs`].

pub(crate) mod check;
pub(crate) mod cmp;
pub(crate) mod crypt;
pub(crate) mod explain;
mod inputs;
pub(crate) mod krm;
pub(crate) mod plugin;
pub(crate) mod post_render;
pub(crate) mod render;
mod sealed;

pub(crate) use inputs::RenderOptions;

use crate::k8s::finding::{Finding, Severity};
use crate::k8s::resource::Item;
use crate::k8s::workloads;

/// Warnings (never errors: those fail the run) as stderr lines.
fn warnings(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity != Severity::Error)
        .map(Finding::to_line)
        .collect()
}

/// Under kustomize (plugin and KRM modes), ServiceAccounts and workloads
/// without a namespace are about to be moved by a `namespace:` set later in
/// an overlay, where regcred cannot follow them: their pull Secrets would be
/// missing, silently. One warning names a few of them and the fix.
fn namespace_less_warning(items: &[Item]) -> Option<Finding> {
    let unplaced = unplaced(items)?;
    Some(Finding::new(
        Severity::Warning,
        format!(
            "{unplaced} have no namespace: a `namespace:` set later (in an overlay) moves them where regcred cannot follow, and their pods would get no pull Secret; list regcred under the transformers of the overlay that sets the namespace, or set the namespace in the base"
        ),
    ))
}

/// The ServiceAccounts and workloads without `metadata.namespace`, named as
/// `Kind/name` (the first one, and how many more): the objects whose pull
/// Secret would go missing if regcred cannot tell where they land.
fn unplaced(items: &[Item]) -> Option<String> {
    let unplaced: Vec<String> = items
        .iter()
        .filter(|i| i.namespace().is_none())
        .filter_map(|i| {
            let kind = i.kind()?;
            (kind == "ServiceAccount" || workloads::is_workload_kind(kind))
                .then(|| format!("{kind}/{}", i.name().unwrap_or_default()))
        })
        .collect();
    let first = unplaced.first()?;
    let more = match unplaced.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    Some(format!("{first}{more}"))
}
