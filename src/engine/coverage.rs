//! Workloads a spec's pull Secret does not reach: pods in a target
//! namespace that pull from the spec's registries as a ServiceAccount that
//! does not list the spec's Secret. By default only `default` is patched,
//! so a Deployment running as `api` would fail with ImagePullBackOff while
//! the render looks fine; this says so, and what to change.

use super::report::SpecReport;
use super::targeting::Selection;
use super::{Job, Key, spec_finding};
use crate::k8s::finding::{Finding, Severity};
use crate::k8s::image::{self, KeyMatcher};
use crate::k8s::workloads::PodFacts;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A workload after render: kind, name, effective namespace and pod facts,
/// borrowed from its item (a render may pass tens of thousands through).
pub(super) struct Workload<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: &'a str,
    pub pod: Cow<'a, PodFacts>,
}

/// One warning per workload and spec whose Secret its pods cannot use.
pub(super) fn unreached<'a>(
    workloads: impl IntoIterator<Item = Workload<'a>>,
    jobs: &[Job],
    selections: &[Selection],
    reports: &[SpecReport],
    sa_pulls: &BTreeMap<Key, Vec<String>>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut workloads = workloads.into_iter().peekable();
    if workloads.peek().is_none() {
        return findings;
    }
    // Each registry is indexed once, not once per workload.
    let matchers: Vec<Vec<KeyMatcher>> = reports
        .iter()
        .map(|r| r.registries.iter().map(|k| KeyMatcher::new(k)).collect())
        .collect();
    for w in workloads.filter(|w| !w.pod.own_pull_secrets) {
        let sa = (w.namespace.to_string(), w.pod.service_account.clone());
        for ((job, sel), registries) in jobs.iter().zip(selections).zip(&matchers) {
            let spec = &job.spec;
            let targeted = sel
                .targets
                .binary_search_by(|t| t.as_str().cmp(w.namespace));
            if spec.inject.workloads || targeted.is_err() {
                continue;
            }
            if sa_pulls
                .get(&sa)
                .is_some_and(|pulls| pulls.contains(&spec.secret_name))
            {
                continue;
            }
            let Some((image, registry)) = pulled_from(&w.pod, registries) else {
                continue;
            };
            let (ns, account) = (w.namespace, &w.pod.service_account);
            findings.push(spec_finding(
                spec,
                Severity::Warning,
                "spec.serviceAccounts.include",
                format!(
                    "{} {ns}/{} pulls {image} from {registry} as ServiceAccount {account}, which does not get Secret {}: add \"{account}\" (or \"{ns}/{account}\") to spec.serviceAccounts.include, or set spec.inject.workloads: true",
                    w.kind, w.name, spec.secret_name
                ),
            ));
        }
    }
    findings
}

/// The first image of the pod that comes from one of `registries`, and that
/// registry (matched as kubelet matches credentials).
fn pulled_from<'a>(pod: &'a PodFacts, registries: &'a [KeyMatcher]) -> Option<(&'a str, &'a str)> {
    pod.images.iter().find_map(|text| {
        let parsed = image::parse(text).ok()?;
        registries
            .iter()
            .find(|r| r.matches(&parsed))
            .map(|r| (text.as_str(), r.key()))
    })
}
