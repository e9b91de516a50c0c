//! What render needs to know about a resource, picked out while the fast
//! reader ([`crate::yaml::lite`]) copies it: the same answers [`meta`] and
//! [`workloads`] give for a tree, without building one.
//!
//! [`meta`]: super::meta
//! [`workloads`]: super::workloads

use super::meta::{LOCAL_CONFIG_ANNOTATION, SKIP_ANNOTATION};
use super::workloads::PodFacts;
use crate::yaml::lite::{self, Node, Seg, Shape, Visitor};
use crate::yaml::scalar_string;
use serde_yaml_ng::{Mapping, Value};
use std::ops::Range;

/// Where each built-in workload kind keeps its PodSpec (see
/// [`super::workloads::pod_spec_path`]), as keys.
const POD_PATHS: [&[&str]; 4] = [
    &["spec"],
    &["template", "spec"],
    &["spec", "template", "spec"],
    &["spec", "jobTemplate", "spec", "template", "spec"],
];

/// The container lists of a PodSpec, in the order [`super::workloads::containers`] reads them.
const CONTAINER_LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// A resource's top-level `imagePullSecrets`, as a ServiceAccount patch needs it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum PullList {
    #[default]
    Absent,
    /// `null` or `[]`: replaced by a list, in place (the range of the entry
    /// in the written text).
    Replace(u32, u32),
    /// A non-empty list, ending at this offset of the written text.
    List(u32),
    /// Not a list: patching it is an error.
    Invalid,
}

/// What one pod-spec path of a resource holds.
#[derive(Debug, Default)]
struct PodCandidate {
    present: bool,
    service_account_name: Option<String>,
    service_account: Option<String>,
    own_pull_secrets: bool,
    images: [Vec<String>; 3],
}

/// The facts of one resource.
#[derive(Debug, Default)]
pub struct Scanned {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// Where `kind`, `metadata.name` and `metadata.namespace` are spelled
    /// as they are in the written text (offset, length).
    pub kind_at: Option<(u32, u32)>,
    pub name_at: Option<(u32, u32)>,
    pub namespace_at: Option<(u32, u32)>,
    pub has_api_version: bool,
    pub has_kind: bool,
    pub has_sops: bool,
    /// `metadata.labels` (only collected when asked for).
    pub labels: Mapping,
    /// Labels that are not scalars (left to the full parser).
    pub odd_labels: bool,
    /// `regcred.dev/skip: "true"`.
    pub skip: bool,
    /// `config.kubernetes.io/local-config: "true"`.
    pub local_config: bool,
    /// Names in the top-level `imagePullSecrets`.
    pub pulls: Vec<String>,
    pub pull_list: PullList,
    pods: [PodCandidate; 4],
    want_labels: bool,
}

impl Scanned {
    /// A scanner; `labels` when the caller needs `metadata.labels`.
    pub fn new(labels: bool) -> Self {
        Scanned {
            want_labels: labels,
            ..Scanned::default()
        }
    }

    /// The pod facts of a built-in workload kind, as
    /// [`super::workloads::pod_facts`] gives them for the tree: taken out
    /// of the scan (called once per resource, and copying its strings was
    /// a tenth of making a text item).
    pub fn pod_facts(&mut self) -> Option<PodFacts> {
        let path = super::workloads::pod_spec_path(
            self.kind.as_deref()?,
            self.api_version.as_deref().unwrap_or_default(),
        )?;
        let i = POD_PATHS
            .iter()
            .position(|p| path.split('.').eq(p.iter().copied()))
            .expect("every pod spec path is scanned");
        let pod = &mut self.pods[i];
        pod.present.then(|| PodFacts {
            service_account: pod
                .service_account_name
                .take()
                .or_else(|| pod.service_account.take())
                .unwrap_or_else(|| "default".to_string()),
            images: std::mem::take(&mut pod.images).concat(),
            own_pull_secrets: pod.own_pull_secrets,
        })
    }
}

/// The `imagePullSecrets` names of a ServiceAccount kept as text after its
/// patch: the names it was read with, then `appended` (what its
/// `resource::Account` adds; passed in so this reader does not depend on
/// the items built from it).
pub fn pulls_after(text: &str, entry: bool, appended: &[Box<str>]) -> Vec<String> {
    let mut s = Scanned::new(false);
    let mut out = String::new();
    let read = if entry {
        lite::element(text, 0..text.len(), &mut out, &mut s).is_some()
    } else {
        lite::document(text, 0..text.len(), &mut out, &mut s).is_some()
    };
    debug_assert!(read, "a text item is what the writer writes");
    let added = appended.iter().map(|n| n.to_string());
    s.pulls.into_iter().chain(added).collect()
}

/// A scalar's string, as `yaml::as_str` reads it.
fn string(node: &Node) -> Option<String> {
    match node {
        Node::Scalar(s) => s.string().map(|s| s.into_owned()),
        _ => None,
    }
}

/// Where a string scalar was written as its own text.
fn at(node: &Node) -> Option<(u32, u32)> {
    match node {
        Node::Scalar(s) => s
            .written_as_is()
            .map(|r| (offset(r.start), offset(r.len()))),
        _ => None,
    }
}

fn value(node: &Node) -> Option<Value> {
    match node {
        Node::Scalar(s) => Some(s.value()),
        Node::Null => Some(Value::Null),
        _ => None,
    }
}

/// Whether `path` starts with the keys `keys`; the rest of the path.
fn below<'p, 'a>(path: &'p [Seg<'a>], keys: &[&str]) -> Option<&'p [Seg<'a>]> {
    if path.len() < keys.len() || !path.iter().zip(keys).all(|(s, k)| s.is(k)) {
        return None;
    }
    Some(&path[keys.len()..])
}

impl Visitor for Scanned {
    fn node(&mut self, path: &[Seg], node: Node) {
        let Some(first) = path.first() else {
            return;
        };
        match path {
            [k] if k.is("apiVersion") => {
                self.has_api_version = true;
                self.api_version = string(&node);
            }
            [k] if k.is("kind") => {
                self.has_kind = true;
                self.kind = string(&node);
                self.kind_at = at(&node);
            }
            [k] if k.is("sops") => self.has_sops = true,
            [k] if k.is("imagePullSecrets") => {
                self.pull_list = match node {
                    Node::Sequence => PullList::List(0),
                    Node::EmptySequence | Node::Null => PullList::Replace(0, 0),
                    Node::Scalar(s) if s.value().is_null() => PullList::Replace(0, 0),
                    _ => PullList::Invalid,
                }
            }
            [k, Seg::Index(_), n] if k.is("imagePullSecrets") && n.is("name") => {
                if let Some(name) = string(&node) {
                    self.pulls.push(name);
                }
            }
            [m, rest @ ..] if m.is("metadata") => self.metadata(rest, node),
            _ if first.is("spec") || first.is("template") => self.pod(path, &node),
            _ => {}
        }
    }

    fn top_entry(&mut self, key: &Seg, _shape: Shape, range: Range<usize>) {
        if !key.is("imagePullSecrets") {
            return;
        }
        let (start, end) = (offset(range.start), offset(range.end));
        self.pull_list = match self.pull_list {
            PullList::List(_) => PullList::List(end),
            PullList::Replace(..) => PullList::Replace(start, end),
            other => other,
        };
    }
}

/// Offsets in one resource's text fit in 32 bits (inputs are far smaller).
fn offset(n: usize) -> u32 {
    u32::try_from(n).expect("a resource of less than 4 GiB")
}

impl Scanned {
    fn metadata(&mut self, rest: &[Seg], node: Node) {
        match rest {
            [k] if k.is("name") => {
                self.name = string(&node);
                self.name_at = at(&node);
            }
            [k] if k.is("namespace") => {
                self.namespace = string(&node);
                self.namespace_at = at(&node);
            }
            [l, key] if l.is("labels") && self.want_labels => match (key, value(&node)) {
                (Seg::Key(k), Some(v)) => {
                    self.labels.insert(Value::String(k.to_string()), v);
                }
                _ => self.odd_labels = true,
            },
            [l, _, ..] if l.is("labels") => self.odd_labels |= self.want_labels,
            [a, key] if a.is("annotations") => {
                if key.is(SKIP_ANNOTATION) {
                    self.skip =
                        value(&node).and_then(|v| scalar_string(&v)).as_deref() == Some("true");
                } else if key.is(LOCAL_CONFIG_ANNOTATION) {
                    self.local_config = string(&node).as_deref() == Some("true");
                }
            }
            _ => {}
        }
    }

    fn pod(&mut self, path: &[Seg], node: &Node) {
        // Most nodes of a workload are none of these: decided by the last
        // step, before any path is compared.
        let wanted = path.last().is_some_and(|last| {
            [
                "spec",
                "serviceAccountName",
                "serviceAccount",
                "name",
                "image",
            ]
            .iter()
            .any(|k| last.is(k))
        });
        if !wanted {
            return;
        }
        for (i, keys) in POD_PATHS.iter().enumerate() {
            let Some(rest) = below(path, keys) else {
                continue;
            };
            let pod = &mut self.pods[i];
            match rest {
                [] => pod.present = matches!(node, Node::Mapping | Node::EmptyMapping),
                [k] if k.is("serviceAccountName") => pod.service_account_name = string(node),
                [k] if k.is("serviceAccount") => pod.service_account = string(node),
                [k, Seg::Index(_), n] if k.is("imagePullSecrets") && n.is("name") => {
                    pod.own_pull_secrets |= string(node).is_some();
                }
                [list, Seg::Index(_), image] if image.is("image") => {
                    if let Some(l) = CONTAINER_LISTS.iter().position(|c| list.is(c)) {
                        if let Some(image) = string(node) {
                            pod.images[l].push(image);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::{meta, workloads};
    use crate::yaml::{lite, load_stream};

    fn scan(text: &str) -> (Scanned, String) {
        let mut s = Scanned::new(true);
        let mut out = String::new();
        assert_eq!(
            lite::document(text, 0..text.len(), &mut out, &mut s),
            Some(true),
            "{text}"
        );
        (s, out)
    }

    #[test]
    fn facts_match_what_the_tree_says() {
        for text in [
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n  labels: {}\nspec:\n  template:\n    spec:\n      serviceAccount: old\n      serviceAccountName: api\n      imagePullSecrets:\n      - name: own\n      containers:\n      - name: a\n        image: ghcr.io/a:1\n      - name: b\n      initContainers:\n      - image: init:1\n",
            "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          serviceAccount: legacy\n          containers:\n          - image: x\n",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec: {}\n",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  imagePullSecrets:\n  - other: x\n  containers: []\n",
            "apiVersion: example.com/v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - image: x\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: '0755'\n  namespace: \"a\"\n  annotations:\n    regcred.dev/skip: 'true'\n",
        ] {
            let (mut s, _) = scan(text);
            let tree = load_stream(text, "t").unwrap().remove(0).value;
            assert_eq!(s.pod_facts(), workloads::pod_facts(&tree), "{text}");
            assert_eq!(s.kind.as_deref(), meta::kind(&tree));
            assert_eq!(s.name.as_deref(), meta::name(&tree));
            assert_eq!(s.namespace.as_deref(), meta::namespace(&tree));
            assert_eq!(s.skip, meta::opted_out(&tree));
        }
    }

    #[test]
    fn pull_lists_point_into_the_written_text() {
        let (s, out) =
            scan("kind: ServiceAccount\nimagePullSecrets:\n  - name: a\n  - {}\nautomount: true\n");
        assert_eq!(s.pulls, ["a"]);
        let PullList::List(end) = s.pull_list else {
            panic!("{:?}", s.pull_list)
        };
        assert_eq!(
            &out[..end as usize],
            "kind: ServiceAccount\nimagePullSecrets:\n- name: a\n- {}\n"
        );
        for empty in [
            "imagePullSecrets: []\n",
            "imagePullSecrets:\n",
            "imagePullSecrets: ~\n",
        ] {
            let (s, out) = scan(&format!("kind: ServiceAccount\n{empty}x: 1\n"));
            let PullList::Replace(a, b) = s.pull_list else {
                panic!("{empty}: {:?}", s.pull_list)
            };
            assert!(
                out[a as usize..b as usize].starts_with("imagePullSecrets:"),
                "{out}"
            );
            assert_eq!(&out[b as usize..], "x: 1\n");
        }
        let (s, _) = scan("kind: ServiceAccount\nimagePullSecrets: x\n");
        assert_eq!(s.pull_list, PullList::Invalid);
        let (s, _) = scan("kind: ServiceAccount\n");
        assert_eq!(s.pull_list, PullList::Absent);
    }

    #[test]
    fn labels_are_collected_when_asked_for() {
        let (s, _) = scan("kind: Namespace\nmetadata:\n  labels:\n    a: 'yes'\n    num: 1\n");
        let tree = load_stream("a: 'yes'\nnum: 1\n", "t")
            .unwrap()
            .remove(0)
            .value;
        assert_eq!(Value::Mapping(s.labels.clone()), tree);
        assert!(!s.odd_labels);
        let (s, _) = scan("kind: Namespace\nmetadata:\n  labels:\n    a:\n      b: c\n");
        assert!(s.odd_labels);
    }
}
