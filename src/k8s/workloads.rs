//! Pod templates inside workload objects: where each kind keeps its
//! `PodSpec`, and the images its containers run.
//!
//! Used by `regcred check` (which images can a pod pull?) and by
//! `spec.inject.workloads` (add the pull Secret to pod templates that pull
//! from the spec's registries).

use super::meta::{self, CoreKind};
use crate::yaml;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;

/// Where a kind keeps its PodSpec, as a dotted path.
pub fn pod_spec_path(kind: &str, api_version: &str) -> Option<&'static str> {
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    match (group, kind) {
        ("", "Pod") => Some("spec"),
        ("", "PodTemplate") => Some("template.spec"),
        ("", "ReplicationController") => Some("spec.template.spec"),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            Some("spec.template.spec")
        }
        ("batch", "Job") => Some("spec.template.spec"),
        ("batch", "CronJob") => Some("spec.jobTemplate.spec.template.spec"),
        ("argoproj.io", "Rollout") => Some("spec.template.spec"),
        _ => None,
    }
}

/// Whether a kind is one of the built-in workload kinds (whatever its group).
pub fn is_workload_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Pod"
            | "PodTemplate"
            | "ReplicationController"
            | "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "Job"
            | "CronJob"
            | "Rollout"
    )
}

/// A kind the user adds with a dotted path to its PodSpec.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraKind {
    pub kind: String,
    pub path: String,
}

fn walk<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |node, seg| node.get(seg))
}

fn walk_mut<'a>(v: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    path.split('.').try_fold(v, |node, seg| node.get_mut(seg))
}

/// The PodSpec path of `item`, for built-in kinds and `extra` ones (which
/// take precedence, so a user can correct a built-in path).
pub fn path_for<'a>(item: &Value, extra: &'a [ExtraKind]) -> Option<&'a str> {
    path_for_kind(meta::kind(item)?, meta::api_version(item), extra)
}

/// [`path_for`] of an object of this kind and apiVersion.
pub fn path_for_kind<'a>(
    kind: &str,
    api_version: Option<&str>,
    extra: &'a [ExtraKind],
) -> Option<&'a str> {
    extra
        .iter()
        .find(|e| e.kind == kind)
        .map(|e| e.path.as_str())
        .or_else(|| pod_spec_path(kind, api_version.unwrap_or_default()))
}

/// The PodSpec of `item`, if it has one.
pub fn pod_spec<'a>(item: &'a Value, extra: &[ExtraKind]) -> Option<&'a Value> {
    walk(item, path_for(item, extra)?).filter(|v| v.is_mapping())
}

/// The PodSpec of `item`, mutably.
pub fn pod_spec_mut<'a>(item: &'a mut Value, extra: &[ExtraKind]) -> Option<&'a mut Value> {
    let path = path_for(item, extra)?.to_string();
    walk_mut(item, &path).filter(|v| v.is_mapping())
}

/// One container of a PodSpec.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    /// `containers`, `initContainers` or `ephemeralContainers`.
    pub list: &'static str,
    pub name: String,
    pub image: Option<String>,
    pub pull_policy: Option<String>,
}

/// Every container of a PodSpec, in list order.
pub fn containers(pod_spec: &Value) -> Vec<Container> {
    let mut out = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in pod_spec
            .get(list)
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let field = |k: &str| c.get(k).and_then(yaml::as_str).map(str::to_string);
            out.push(Container {
                list,
                name: field("name").unwrap_or_default(),
                image: field("image"),
                pull_policy: field("imagePullPolicy"),
            });
        }
    }
    out
}

/// Names listed in a PodSpec's (or any object's) `imagePullSecrets`.
pub fn pull_secret_names(v: &Value) -> Vec<String> {
    v.get("imagePullSecrets")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("name").and_then(yaml::as_str).map(str::to_string))
        .collect()
}

/// `serviceAccountName` (or the deprecated `serviceAccount`), else `default`.
pub fn service_account(pod_spec: &Value) -> String {
    ["serviceAccountName", "serviceAccount"]
        .iter()
        .find_map(|k| pod_spec.get(*k).and_then(yaml::as_str))
        .unwrap_or("default")
        .to_string()
}

/// What render needs to know about a workload it passes through: whom its
/// pods run as and what they pull.
#[derive(Debug, Clone, PartialEq)]
pub struct PodFacts {
    pub service_account: String,
    pub images: Vec<String>,
    /// The pod lists pull Secrets of its own (its ServiceAccount's are then
    /// not used).
    pub own_pull_secrets: bool,
}

/// [`PodFacts`] of a built-in workload kind.
pub fn pod_facts(item: &Value) -> Option<PodFacts> {
    let pod = pod_spec(item, &[])?;
    Some(PodFacts {
        service_account: service_account(pod),
        images: containers(pod)
            .into_iter()
            .filter_map(|c| c.image)
            .collect(),
        own_pull_secrets: !pull_secret_names(pod).is_empty(),
    })
}

/// `imagePullSecrets` of every ServiceAccount among `items`, by
/// (effective namespace, name): what admission copies into a pod that
/// lists none of its own.
pub fn service_account_pulls<'a>(
    items: impl IntoIterator<Item = &'a Value>,
    default_ns: Option<&str>,
) -> BTreeMap<(String, String), Vec<String>> {
    items
        .into_iter()
        .filter(|i| meta::is(i, CoreKind::ServiceAccount))
        .filter_map(|sa| {
            let key = (
                meta::effective_namespace_of(sa, default_ns)?.to_string(),
                meta::name(sa)?.to_string(),
            );
            Some((key, pull_secret_names(sa)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(s: &str) -> Value {
        yaml::load_stream(s, "t").unwrap().remove(0).value
    }

    #[test]
    fn finds_pod_specs_of_every_workload_kind() {
        let cases = [
            (
                "apiVersion: v1\nkind: Pod\nspec: {containers: [{name: a, image: x}]}",
                "x",
            ),
            (
                "apiVersion: apps/v1\nkind: Deployment\nspec: {template: {spec: {containers: [{name: a, image: d}]}}}",
                "d",
            ),
            (
                "apiVersion: batch/v1\nkind: CronJob\nspec: {jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: c}]}}}}}",
                "c",
            ),
            (
                "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec: {template: {spec: {containers: [{name: a, image: r}]}}}",
                "r",
            ),
        ];
        for (doc, image) in cases {
            let v = load(doc);
            let spec = pod_spec(&v, &[]).unwrap_or_else(|| panic!("{doc}"));
            assert_eq!(containers(spec)[0].image.as_deref(), Some(image));
        }
        let cr = load(
            "apiVersion: x.io/v1\nkind: Worker\nspec: {pod: {containers: [{name: a, image: w}]}}",
        );
        assert!(pod_spec(&cr, &[]).is_none());
        let extra = [ExtraKind {
            kind: "Worker".into(),
            path: "spec.pod".into(),
        }];
        assert_eq!(
            containers(pod_spec(&cr, &extra).unwrap())[0]
                .image
                .as_deref(),
            Some("w")
        );
    }

    #[test]
    fn containers_in_order_and_service_account_default() {
        let v = load(
            "initContainers: [{name: i, image: a}]\ncontainers: [{name: c, image: b, imagePullPolicy: Always}]\nephemeralContainers: [{name: e, image: c}]\n",
        );
        let names: Vec<_> = containers(&v)
            .into_iter()
            .map(|c| (c.list, c.name))
            .collect();
        assert_eq!(
            names,
            [
                ("initContainers", "i".into()),
                ("containers", "c".into()),
                ("ephemeralContainers", "e".into())
            ]
        );
        assert_eq!(service_account(&v), "default");
        assert_eq!(
            service_account(&load("serviceAccountName: builder")),
            "builder"
        );
    }
}
