//! `spec.inject`: the pull Secret in pod templates and custom resources
//! too, for workloads that do not rely on their ServiceAccount.

use super::report::SpecReport;
use super::service_accounts::{add_name_entry, add_pull_secret};
use super::targeting::Selection;
use super::{Job, Key, is_config};
use crate::k8s::image::{self, KeyMatcher};
use crate::k8s::meta;
use crate::k8s::resource::Item;
use crate::k8s::workloads;
use anyhow::{Context, Result};
use serde_yaml_ng::Value;
use std::collections::BTreeMap;

/// `spec.inject`: adds each spec's Secret to pod templates (in target
/// namespaces) that pull from its registries, and to the configured
/// `fieldPaths` of other kinds. Objects opted out with `regcred.dev/skip`
/// are left alone.
pub(super) fn inject(
    items: &mut [Item],
    jobs: &[Job],
    selections: &[Selection],
    reports: &mut [SpecReport],
    sa_pulls: &BTreeMap<Key, Vec<String>>,
    default_ns: Option<&str>,
) -> Result<()> {
    if !jobs
        .iter()
        .any(|j| j.spec.inject.workloads || !j.spec.inject.field_paths.is_empty())
    {
        return Ok(());
    }
    // Each registry is indexed once, not once per workload, and only for
    // specs that inject into workloads.
    let matchers: Vec<Vec<KeyMatcher>> = jobs
        .iter()
        .zip(reports.iter())
        .map(|(j, r)| match j.spec.inject.workloads {
            true => r.registries.iter().map(|k| KeyMatcher::new(k)).collect(),
            false => Vec::new(),
        })
        .collect();
    for item in items.iter_mut().filter_map(|i| match i {
        Item::Tree(v) => Some(v),
        _ => None,
    }) {
        if is_config(item) || meta::opted_out(item) {
            continue;
        }
        let Some(ns) = meta::effective_namespace_of(item, default_ns).map(str::to_string) else {
            continue;
        };
        let kind = meta::kind(item).unwrap_or_default().to_string();
        let api = meta::api_version(item).unwrap_or_default().to_string();
        let name = meta::name(item).unwrap_or_default().to_string();
        for (((job, sel), report), registries) in jobs
            .iter()
            .zip(selections)
            .zip(reports.iter_mut())
            .zip(&matchers)
        {
            if sel.targets.binary_search(&ns).is_err() {
                continue;
            }
            let spec = &job.spec;
            let context = || format!("{kind} {ns}/{name}");
            let mut touched = false;
            if spec.inject.workloads {
                if let Some(pod) = workloads::pod_spec_mut(item, &spec.check.pod_spec_paths) {
                    if pulls_from(pod, registries) {
                        // A pod with its own list no longer inherits its
                        // ServiceAccount's: carry those over first.
                        if workloads::pull_secret_names(pod).is_empty() {
                            let sa = (ns.clone(), workloads::service_account(pod));
                            for inherited in sa_pulls.get(&sa).into_iter().flatten() {
                                add_pull_secret(pod, inherited).with_context(context)?;
                            }
                        }
                        add_pull_secret(pod, &spec.secret_name).with_context(context)?;
                        touched = true;
                    }
                }
            }
            for fp in &spec.inject.field_paths {
                if fp.kind == kind && fp.api_version.as_deref().is_none_or(|a| a == api) {
                    let path: Vec<&str> = fp.path.split('.').collect();
                    add_name_entry(item, &path, &spec.secret_name).with_context(context)?;
                    touched = true;
                }
            }
            if touched {
                if let Some(r) = report.namespace(&ns) {
                    r.injected.push(format!("{kind}/{name}"));
                }
            }
        }
    }
    Ok(())
}

/// Whether any container of a pod spec runs an image from `registries`
/// (matched as kubelet's credential keyring matches).
fn pulls_from(pod: &Value, registries: &[KeyMatcher]) -> bool {
    workloads::containers(pod).iter().any(|c| {
        c.image
            .as_deref()
            .and_then(|i| image::parse(i).ok())
            .is_some_and(|image| registries.iter().any(|k| k.matches(&image)))
    })
}
