//! Object metadata: kind, name, the namespace an object really lands in,
//! labels and annotations, and the labels and annotations regcred owns.
//!
//! Every "which namespace is this in" and "is this a ServiceAccount"
//! question in the crate is answered here, once, so render, check and
//! drift cannot disagree.

use crate::yaml;
use serde_yaml_ng::{Mapping, Value};

/// Label put on every object regcred generates; also how it recognises its
/// own Secrets when re-rendering its output.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "regcred";
/// Opt-out annotation on a Namespace, ServiceAccount or workload.
pub const SKIP_ANNOTATION: &str = "regcred.dev/skip";
/// Annotation on each generated Secret naming the spec that rendered it, so
/// a second spec (another kustomize transformer) cannot silently replace it.
pub const SPEC_ANNOTATION: &str = "regcred.dev/spec";
/// Marks function configuration that a KRM runner must not emit.
pub const LOCAL_CONFIG_ANNOTATION: &str = "config.kubernetes.io/local-config";

/// Annotation prefixes kustomize and kpt use to track a resource (file
/// path, index, ids); a replaced resource must carry them over unchanged.
const RUNNER_ANNOTATION_PREFIXES: &[&str] = &[
    "config.kubernetes.io/",
    "internal.config.kubernetes.io/",
    "config.k8s.io/",
    "kustomize.config.k8s.io/",
];

/// Annotations in which kpt and kustomize record the file a resource came from.
const PATH_ANNOTATIONS: &[&str] = &[
    "internal.config.kubernetes.io/path",
    "config.kubernetes.io/path",
];

/// Kinds that live outside namespaces; they never take a default namespace.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PriorityClass",
    "IngressClass",
    "RuntimeClass",
    "CSIDriver",
    "CSINode",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "VolumeAttachment",
    "CertificateSigningRequest",
    "FlowSchema",
    "PriorityLevelConfiguration",
];

/// The core (`v1`) kinds regcred reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreKind {
    Namespace,
    Secret,
    ServiceAccount,
}

impl CoreKind {
    fn as_str(self) -> &'static str {
        match self {
            CoreKind::Namespace => "Namespace",
            CoreKind::Secret => "Secret",
            CoreKind::ServiceAccount => "ServiceAccount",
        }
    }
}

/// `kind`, if it is a string.
pub fn kind(obj: &Value) -> Option<&str> {
    obj.get("kind").and_then(yaml::as_str)
}

/// `apiVersion`, if it is a string.
pub fn api_version(obj: &Value) -> Option<&str> {
    obj.get("apiVersion").and_then(yaml::as_str)
}

/// Whether `obj` is the core `v1` object of this kind (a CRD may reuse the
/// kind name in another group; that is not a Secret).
pub fn is(obj: &Value, core: CoreKind) -> bool {
    is_core(kind(obj), api_version(obj), core)
}

/// [`is`] from an object's kind and apiVersion.
pub fn is_core(kind: Option<&str>, api_version: Option<&str>, core: CoreKind) -> bool {
    kind == Some(core.as_str()) && api_version == Some("v1")
}

/// Whether a kind lives outside namespaces.
pub fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED.contains(&kind)
}

/// `metadata.name` as a string.
pub fn name(obj: &Value) -> Option<&str> {
    obj.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(yaml::as_str)
}

/// `metadata.namespace` as a string.
pub fn namespace(obj: &Value) -> Option<&str> {
    obj.get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(yaml::as_str)
}

/// The namespace an object lands in when applied: `metadata.namespace`,
/// else `default_ns` (`kubectl apply -n`, Argo CD's destination namespace)
/// for namespaced kinds; cluster-scoped kinds never take one.
pub fn effective_namespace<'a>(
    kind: Option<&str>,
    namespace: Option<&'a str>,
    default_ns: Option<&'a str>,
) -> Option<&'a str> {
    namespace.or_else(|| default_ns.filter(|_| !kind.is_some_and(is_cluster_scoped)))
}

/// [`effective_namespace`] of a parsed object.
pub fn effective_namespace_of<'a>(obj: &'a Value, default_ns: Option<&'a str>) -> Option<&'a str> {
    effective_namespace(kind(obj), namespace(obj), default_ns)
}

/// `metadata.labels`, tolerating absent metadata.
pub fn labels(obj: &Value) -> Mapping {
    obj.get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_mapping)
        .cloned()
        .unwrap_or_default()
}

/// One annotation's value, when it is a string.
pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(key))
        .and_then(yaml::as_str)
}

/// True when the object opts out with `regcred.dev/skip: "true"`.
pub fn opted_out(obj: &Value) -> bool {
    obj.get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(SKIP_ANNOTATION))
        .and_then(yaml::scalar_string)
        .is_some_and(|v| v == "true")
}

/// True for function configuration a runner marked local (never output).
pub fn is_local_config(obj: &Value) -> bool {
    annotation(obj, LOCAL_CONFIG_ANNOTATION) == Some("true")
}

/// True for objects regcred generated (its managed-by label).
pub fn is_managed(obj: &Value) -> bool {
    obj.get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .and_then(yaml::as_str)
        == Some(MANAGED_BY_VALUE)
}

/// The file kpt or kustomize says the object came from.
pub fn annotated_path(obj: &Value) -> Option<String> {
    PATH_ANNOTATIONS
        .iter()
        .find_map(|k| annotation(obj, k))
        .map(str::to_string)
}

/// `obj` with `metadata.namespace` set to `ns`.
pub fn with_namespace(mut obj: Value, ns: &str) -> Value {
    if let Some(Value::Mapping(meta)) = obj.get_mut("metadata") {
        meta.insert(Value::String("namespace".into()), Value::String(ns.into()));
    }
    obj
}

/// Copies the runner's bookkeeping annotations from `old` onto `new`, so a
/// resource replaced in place keeps its identity for kustomize and kpt.
pub fn keep_runner_annotations(old: &Value, new: &mut Value) {
    let Some(old_ann) = old
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_mapping)
    else {
        return;
    };
    let kept: Vec<(Value, Value)> = old_ann
        .iter()
        .filter(|(k, _)| {
            yaml::as_str(k)
                .is_some_and(|k| RUNNER_ANNOTATION_PREFIXES.iter().any(|p| k.starts_with(p)))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if kept.is_empty() {
        return;
    }
    let Some(Value::Mapping(meta)) = new.get_mut("metadata") else {
        return;
    };
    let ann = meta
        .entry(Value::String("annotations".into()))
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    if let Value::Mapping(ann) = ann {
        for (k, v) in kept {
            ann.insert(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(s: &str) -> Value {
        yaml::load_stream(s, "t").unwrap().remove(0).value
    }

    #[test]
    fn effective_namespace_skips_cluster_scoped_kinds() {
        let cm = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
        let ns = load("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n");
        let placed = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n");
        assert_eq!(effective_namespace_of(&cm, Some("d")), Some("d"));
        assert_eq!(effective_namespace_of(&ns, Some("d")), None);
        assert_eq!(effective_namespace_of(&placed, Some("d")), Some("x"));
        assert_eq!(effective_namespace_of(&cm, None), None);
    }

    #[test]
    fn core_kinds_need_api_version_v1() {
        let sa = load("apiVersion: v1\nkind: ServiceAccount\n");
        let crd = load("apiVersion: example.com/v1\nkind: ServiceAccount\n");
        assert!(is(&sa, CoreKind::ServiceAccount));
        assert!(!is(&crd, CoreKind::ServiceAccount));
        assert!(!is(&sa, CoreKind::Secret));
    }
}
