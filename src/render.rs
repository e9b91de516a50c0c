//! The render engine: specs + input resources -> output resources.
//!
//! Output order is fixed so that output is deterministic and idempotent:
//! input items in input order (ServiceAccounts patched in place, Secrets
//! regcred generated earlier replaced in place), then new Secrets, then new
//! ServiceAccounts, each sorted by namespace then name.

use crate::dockerconfig::{self, AuthEntry};
use crate::names::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, SPEC_ANNOTATION};
use crate::source::Resolver;
use crate::spec::{Registry, Spec, ValueSource};
use crate::target::{self, Inventory, NamespaceInfo, Selection, name_of, namespace_of};
use crate::templates::{self, SecretContext, ServiceAccountContext};
use crate::yaml;
use crate::{imageref, workloads};
use anyhow::{Context, Result, bail};
use base64::Engine as _;
use serde_yaml_ng::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How serious a finding is, as KRM results spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// Something worth telling the user; never carries a credential value.
#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    pub message: String,
    /// Spec field path, e.g. `spec.registries[0].password`.
    pub field: Option<String>,
    /// The spec's name (a `RegistryCredentials` resource reference).
    pub spec_name: Option<String>,
}

/// A spec together with the resolver for its credential sources.
pub struct Job {
    pub spec: Spec,
    pub resolver: Resolver,
}

/// One resource: a parsed tree, or, for a resource regcred neither reads
/// nor changes, its YAML text written as soon as it was parsed. Pass-through
/// items are most of a large input; keeping them as text holds memory near
/// the input size instead of ~15 times it (a parsed tree's size).
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Tree(Value),
    Text(Passthrough),
}

/// A pass-through resource as text, with what output naming needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Passthrough {
    /// The resource as a YAML document body, exactly as the writer emits it.
    pub text: String,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

impl Item {
    /// Keeps `value` as a tree only when `needs_tree`; otherwise writes it out.
    pub fn new(value: Value, needs_tree: bool) -> Result<Item> {
        if needs_tree {
            return Ok(Item::Tree(value));
        }
        Ok(Item::Text(Passthrough {
            text: yaml::to_string(&value)?,
            kind: value.get("kind").and_then(yaml::as_str).map(str::to_string),
            name: name_of(&value).map(str::to_string),
            namespace: namespace_of(&value).map(str::to_string),
        }))
    }

    /// The tree, if this item is kept as one.
    pub fn as_value(&self) -> Option<&Value> {
        match self {
            Item::Tree(v) => Some(v),
            Item::Text(_) => None,
        }
    }

    /// The item as a YAML document body.
    pub fn to_yaml(&self) -> Result<String> {
        match self {
            Item::Tree(v) => yaml::to_string(v),
            Item::Text(p) => Ok(p.text.clone()),
        }
    }

    pub fn kind(&self) -> Option<&str> {
        match self {
            Item::Tree(v) => v.get("kind").and_then(yaml::as_str),
            Item::Text(p) => p.kind.as_deref(),
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            Item::Tree(v) => name_of(v),
            Item::Text(p) => p.name.as_deref(),
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        match self {
            Item::Tree(v) => namespace_of(v),
            Item::Text(p) => p.namespace.as_deref(),
        }
    }
}

/// Whether render (or check) may read or change `item` for these jobs: the
/// kinds it patches or inspects, configuration, and the workloads and
/// custom resources `inject` or `check` look into.
pub fn needs_tree(item: &Value, jobs: &[Job]) -> bool {
    let kind = item.get("kind").and_then(yaml::as_str).unwrap_or_default();
    if matches!(kind, "Namespace" | "Secret" | "ServiceAccount") || is_config(item) {
        return true;
    }
    jobs.iter().any(|j| {
        let spec = &j.spec;
        ((spec.inject.workloads || spec.check.enabled)
            && workloads::path_for(item, &spec.check.pod_spec_paths).is_some())
            || spec.inject.field_paths.iter().any(|f| f.kind == kind)
    })
}

/// What a render produced.
#[derive(Debug)]
pub struct Output {
    pub items: Vec<Item>,
    pub findings: Vec<Finding>,
    /// Per spec: which namespaces were targeted or skipped.
    pub selections: Vec<Selection>,
    pub summary: Summary,
    /// Per spec: what it rendered where (for `regcred explain`).
    pub reports: Vec<SpecReport>,
}

/// What one spec did, by namespace; never holds credential values.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SpecReport {
    pub spec: String,
    pub origin: String,
    pub secret_name: String,
    /// Registry servers in the Secret, in `auths` order.
    pub registries: Vec<String>,
    pub namespaces: Vec<NamespaceReport>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct NamespaceReport {
    pub namespace: String,
    pub patched_service_accounts: Vec<String>,
    pub created_service_accounts: Vec<String>,
    /// `Kind/name` of workloads and resources that got the pull Secret.
    pub injected: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    pub namespace: String,
    pub reason: String,
}

impl SpecReport {
    fn namespace(&mut self, ns: &str) -> Option<&mut NamespaceReport> {
        // Built from the sorted, deduplicated targets: no linear scan per SA.
        let i = self
            .namespaces
            .binary_search_by(|n| n.namespace.as_str().cmp(ns))
            .ok()?;
        Some(&mut self.namespaces[i])
    }
}

/// Counts for `--verbose` and reports.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    /// Secrets rendered (new or replaced in place).
    pub secrets: usize,
    /// ServiceAccounts in the input that reference a rendered Secret.
    pub patched_service_accounts: usize,
    /// ServiceAccounts regcred created.
    pub created_service_accounts: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "{} rendered, {} patched, {} created",
            plural(self.secrets, "Secret", "Secrets"),
            plural(
                self.patched_service_accounts,
                "ServiceAccount",
                "ServiceAccounts"
            ),
            self.created_service_accounts
        )
    }
}

type Key = (String, String);

/// Rendered Secrets by (namespace, name), with the index of their spec.
type RenderedSecrets = BTreeMap<Key, (usize, Value)>;

/// Renders every job over `items`.
pub fn render(items: Vec<Value>, jobs: &[Job]) -> Result<Output> {
    render_in(items.into_iter().map(Item::Tree).collect(), jobs, None)
}

/// Renders with a default namespace for namespaced objects that carry none
/// (as `kubectl apply -n NS` or Argo CD's destination namespace would place
/// them). Text items pass through in place; only trees are looked at.
pub fn render_in(input: Vec<Item>, jobs: &[Job], default_ns: Option<&str>) -> Result<Output> {
    // Trees go through the pipeline below; `layout` remembers where each
    // input item sits so the output keeps the input order.
    let mut items: Vec<Value> = Vec::new();
    let mut layout: Vec<Option<Passthrough>> = Vec::with_capacity(input.len());
    let mut text_namespaces: Vec<String> = Vec::new();
    for item in input {
        match item {
            Item::Tree(v) => {
                items.push(v);
                layout.push(None);
            }
            Item::Text(p) => {
                let cluster = p
                    .kind
                    .as_deref()
                    .is_some_and(|k| CLUSTER_SCOPED.contains(&k));
                if let Some(ns) = p.namespace.as_deref().or(default_ns.filter(|_| !cluster)) {
                    text_namespaces.push(ns.to_string());
                }
                layout.push(Some(p));
            }
        }
    }
    let mut findings = Vec::new();
    let mut inventory = inventory(&items, default_ns);
    for ns in text_namespaces {
        inventory.entry(ns).or_default();
    }
    let selections: Vec<Selection> = jobs
        .iter()
        .map(|j| target::select_namespaces(&j.spec.namespaces, &inventory))
        .collect();
    for (job, sel) in jobs.iter().zip(&selections) {
        targeting_findings(&job.spec, sel, &mut findings);
    }

    let (secrets, servers) = render_secrets(jobs, &selections, &mut findings)?;
    let mut reports: Vec<SpecReport> = jobs
        .iter()
        .zip(&selections)
        .zip(servers)
        .map(|((job, sel), registries)| SpecReport {
            spec: spec_id(&job.spec),
            origin: job.spec.origin.clone(),
            secret_name: job.spec.secret_name.clone(),
            registries,
            namespaces: sel
                .targets
                .iter()
                .map(|ns| NamespaceReport {
                    namespace: ns.clone(),
                    ..Default::default()
                })
                .collect(),
            skipped: sel
                .skipped
                .iter()
                .map(|(ns, why)| Skipped {
                    namespace: ns.clone(),
                    reason: why.to_string(),
                })
                .collect(),
        })
        .collect();
    let secret_count = secrets.len();
    let new_secrets = place_secrets(&mut items, secrets, default_ns)?;
    let (existing_sas, patched) =
        patch_service_accounts(&mut items, jobs, &selections, &mut reports, default_ns)?;
    let new_sas = missing_service_accounts(jobs, &selections, &existing_sas, &mut reports)?;
    let sa_pulls = service_account_pulls(&items, &new_sas, default_ns);
    inject(
        &mut items,
        jobs,
        &selections,
        &mut reports,
        &sa_pulls,
        default_ns,
    )?;
    let summary = Summary {
        secrets: secret_count,
        patched_service_accounts: patched,
        created_service_accounts: new_sas.len(),
    };

    // Input order first (trees back in their places), then the new objects.
    let mut trees = items.into_iter();
    let mut out: Vec<Item> = layout
        .into_iter()
        .map(|slot| match slot {
            Some(p) => Item::Text(p),
            None => Item::Tree(trees.next().expect("one tree per tree slot")),
        })
        .collect();
    out.extend(new_secrets.into_iter().map(Item::Tree));
    out.extend(new_sas.into_iter().map(Item::Tree));
    Ok(Output {
        items: out,
        findings,
        selections,
        summary,
        reports,
    })
}

/// True for resources that are function configuration, not output.
fn is_config(item: &Value) -> bool {
    crate::spec::is_spec(item)
        || item
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get("config.kubernetes.io/local-config"))
            .and_then(yaml::as_str)
            == Some("true")
}

fn is_kind(item: &Value, kind: &str) -> bool {
    item.get("kind").and_then(yaml::as_str) == Some(kind)
        && item.get("apiVersion").and_then(yaml::as_str) == Some("v1")
}

/// Kinds that live outside namespaces; they never put an object into the
/// default namespace.
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

/// `metadata.namespace`, else the default namespace for namespaced kinds.
fn effective_ns<'a>(item: &'a Value, default_ns: Option<&'a str>) -> Option<&'a str> {
    namespace_of(item).or_else(|| {
        let kind = item.get("kind").and_then(yaml::as_str).unwrap_or_default();
        default_ns.filter(|_| !CLUSTER_SCOPED.contains(&kind))
    })
}

/// Every namespace the input mentions.
fn inventory(items: &[Value], default_ns: Option<&str>) -> Inventory {
    let mut inv = Inventory::new();
    for item in items.iter().filter(|i| !is_config(i)) {
        if is_kind(item, "Namespace") {
            if let Some(name) = name_of(item) {
                inv.insert(
                    name.to_string(),
                    NamespaceInfo {
                        labels: Some(target::labels_of(item)),
                        skip: target::opted_out(item),
                    },
                );
            }
        } else if let Some(ns) = effective_ns(item, default_ns) {
            inv.entry(ns.to_string()).or_default();
        }
    }
    inv
}

fn targeting_findings(spec: &Spec, sel: &Selection, findings: &mut Vec<Finding>) {
    let warn = |field: &str, message: String| Finding {
        severity: Severity::Warning,
        message,
        field: Some(field.to_string()),
        spec_name: Some(spec.name.clone()),
    };
    if spec.namespaces.include_explicit && sel.matched_by_pattern == 0 {
        findings.push(warn(
            "spec.namespaces.include",
            "no namespace in the input matches these patterns (a kustomize generator receives no resources: list namespaces under spec.namespaces.names)".into(),
        ));
    }
    if sel.targets.is_empty() {
        findings.push(warn(
            "spec.namespaces",
            "no target namespace: this spec renders nothing".into(),
        ));
    }
}

/// Resolves a spec's credentials and renders its Secret for every target.
fn render_secrets(
    jobs: &[Job],
    selections: &[Selection],
    findings: &mut Vec<Finding>,
) -> Result<(RenderedSecrets, Vec<Vec<String>>)> {
    let mut out: BTreeMap<Key, (usize, Value)> = BTreeMap::new();
    let mut servers = Vec::new();
    for (idx, (job, sel)) in jobs.iter().zip(selections).enumerate() {
        if sel.targets.is_empty() {
            servers.push(Vec::new());
            continue;
        }
        let spec = &job.spec;
        let payload = payload(spec, &job.resolver, findings).with_context(|| spec.origin.clone());
        job.resolver.forget();
        let (payload, spec_servers) = payload?;
        servers.push(spec_servers);
        let mut labels = vec![(MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string())];
        labels.extend(spec.secret_labels.iter().cloned());
        let mut annotations = vec![(SPEC_ANNOTATION.to_string(), spec_id(spec))];
        annotations.extend(spec.secret_annotations.iter().cloned());
        let mut first: Option<Value> = None;
        for ns in &sel.targets {
            let key = (ns.clone(), spec.secret_name.clone());
            if let Some((other, _)) = out.get(&key) {
                bail!(
                    "{} and {} both render Secret {ns}/{}: give one of them another spec.secretName",
                    jobs[*other].spec.origin,
                    spec.origin,
                    spec.secret_name
                );
            }
            // The template runs (and is checked) once per spec; other
            // namespaces get a copy with their namespace.
            let secret = match &first {
                Some(rendered) => with_namespace(rendered.clone(), ns),
                None => {
                    let ctx = SecretContext {
                        name: &spec.secret_name,
                        namespace: ns,
                        labels: &labels,
                        annotations: &annotations,
                        dockerconfigjson: &payload,
                    };
                    let rendered =
                        templates::render(templates::SECRET, ctx, "Secret", &spec.secret_name, ns)?;
                    first.insert(rendered).clone()
                }
            };
            out.insert(key, (idx, secret));
        }
    }
    Ok((out, servers))
}

/// `obj` with `metadata.namespace` set to `ns`.
fn with_namespace(mut obj: Value, ns: &str) -> Value {
    if let Some(Value::Mapping(meta)) = obj.get_mut("metadata") {
        meta.insert(Value::String("namespace".into()), Value::String(ns.into()));
    }
    obj
}

/// The base64 `.dockerconfigjson` of one spec. Plaintext credentials live
/// only inside this function, in zeroizing buffers.
fn payload(
    spec: &Spec,
    resolver: &Resolver,
    findings: &mut Vec<Finding>,
) -> Result<(String, Vec<String>)> {
    let mut entries: Vec<AuthEntry> = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    for reg in &spec.registries {
        match reg {
            Registry::Server {
                server,
                username,
                password,
                email,
                auth,
                field,
            } => {
                if let Some(ValueSource::Literal { field, .. }) = password {
                    findings.push(Finding {
                        severity: Severity::Warning,
                        message: "literal password in the spec: encrypt it (a SOPS or age file) or read it from an environment variable".into(),
                        field: Some(field.clone()),
                        spec_name: Some(spec.name.clone()),
                    });
                }
                let get =
                    |s: &Option<ValueSource>| s.as_ref().map(|s| resolver.resolve(s)).transpose();
                entries.push(AuthEntry {
                    server: server.clone(),
                    username: get(username)?,
                    password: get(password)?,
                    email: get(email)?,
                    auth: get(auth)?,
                    ..Default::default()
                });
                fields.push(format!("{field}.server"));
            }
            Registry::DockerConfig { source, field } => {
                for e in resolver.docker_config(source)? {
                    entries.push(e);
                    fields.push(field.clone());
                }
            }
        }
    }
    let mut seen = HashMap::new();
    for (e, field) in entries.iter().zip(&fields) {
        if let Some(first) = seen.insert(e.server.as_str(), field) {
            bail!(
                "{field}: duplicate server {:?} in one Secret (first from {first})",
                e.server
            );
        }
    }
    let json = dockerconfig::to_json(&entries);
    let servers = entries.iter().map(|e| e.server.clone()).collect();
    Ok((
        base64::engine::general_purpose::STANDARD.encode(json.as_bytes()),
        servers,
    ))
}

/// How a spec names itself on its Secrets: `metadata.name`, else the Secret name.
fn spec_id(spec: &Spec) -> String {
    if spec.name.is_empty() {
        spec.secret_name.clone()
    } else {
        spec.name.clone()
    }
}

fn is_managed(item: &Value) -> bool {
    item.get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.get(MANAGED_BY_LABEL))
        .and_then(yaml::as_str)
        == Some(MANAGED_BY_VALUE)
}

/// Replaces Secrets regcred rendered earlier in place; refuses to overwrite
/// anyone else's. Returns the Secrets that are new, sorted.
fn place_secrets(
    items: &mut [Value],
    mut secrets: BTreeMap<Key, (usize, Value)>,
    default_ns: Option<&str>,
) -> Result<Vec<Value>> {
    for item in items.iter_mut().filter(|i| is_kind(i, "Secret")) {
        let (Some(ns), Some(name)) = (effective_ns(item, default_ns), name_of(item)) else {
            continue;
        };
        let key = (ns.to_string(), name.to_string());
        if let Some((_, secret)) = secrets.get(&key) {
            if !is_managed(item) {
                bail!(
                    "Secret {ns}/{name} already exists in the input and is not managed by regcred (no label {MANAGED_BY_LABEL}: {MANAGED_BY_VALUE}): remove it or choose another spec.secretName"
                );
            }
            let annotation = |v: &Value| {
                v.get("metadata")
                    .and_then(|m| m.get("annotations"))
                    .and_then(|a| a.get(SPEC_ANNOTATION))
                    .and_then(yaml::as_str)
                    .map(str::to_string)
            };
            if let (Some(before), Some(now)) = (annotation(item), annotation(secret)) {
                if before != now {
                    bail!(
                        "Secret {ns}/{name} was rendered by spec {before:?} and spec {now:?} renders it too: give one of them another spec.secretName"
                    );
                }
            }
            let mut fresh = secret.clone();
            keep_runner_annotations(item, &mut fresh);
            *item = fresh;
            secrets.remove(&key);
        }
    }
    Ok(secrets.into_values().map(|(_, v)| v).collect())
}

/// Annotation prefixes kustomize and kpt use to track a resource (file
/// path, index, ids); a replaced resource must carry them over unchanged.
const RUNNER_ANNOTATION_PREFIXES: &[&str] = &[
    "config.kubernetes.io/",
    "internal.config.kubernetes.io/",
    "config.k8s.io/",
    "kustomize.config.k8s.io/",
];

/// Copies the runner's bookkeeping annotations from `old` onto `new`.
fn keep_runner_annotations(old: &Value, new: &mut Value) {
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

/// Appends each spec's Secret to the `imagePullSecrets` of matching input
/// ServiceAccounts. Returns the (namespace, name) of every input SA and how
/// many of them a spec selected.
fn patch_service_accounts(
    items: &mut [Value],
    jobs: &[Job],
    selections: &[Selection],
    reports: &mut [SpecReport],
    default_ns: Option<&str>,
) -> Result<(BTreeSet<Key>, usize)> {
    let mut existing = BTreeSet::new();
    let mut patched = 0;
    for item in items.iter_mut().filter(|i| is_kind(i, "ServiceAccount")) {
        let (Some(ns), Some(name)) = (effective_ns(item, default_ns), name_of(item)) else {
            continue;
        };
        let (ns, name) = (ns.to_string(), name.to_string());
        existing.insert((ns.clone(), name.clone()));
        if target::opted_out(item) {
            continue;
        }
        let mut selected = false;
        for ((job, sel), report) in jobs.iter().zip(selections).zip(reports.iter_mut()) {
            let sa = &job.spec.service_accounts;
            if sel.targets.binary_search(&ns).is_ok()
                && target::service_account_selected(&sa.include, &sa.exclude, &name)
            {
                add_pull_secret(item, &job.spec.secret_name)
                    .map_err(|e| e.context(format!("ServiceAccount {ns}/{name}")))?;
                selected = true;
                if let Some(r) = report.namespace(&ns) {
                    r.patched_service_accounts.push(name.clone());
                }
            }
        }
        patched += usize::from(selected);
    }
    Ok((existing, patched))
}

/// Appends `{name: secret}` unless present; keeps every other entry.
fn add_pull_secret(sa: &mut Value, secret: &str) -> Result<()> {
    add_name_entry(sa, &["imagePullSecrets"], secret)
}

/// Appends `{name: secret}` to the list at `path` below `obj` (creating the
/// mappings and the list on the way) unless an entry with that name exists.
fn add_name_entry(obj: &mut Value, path: &[&str], secret: &str) -> Result<()> {
    let (last, parents) = path.split_last().expect("a non-empty path");
    let mut node = obj;
    for key in parents {
        let Value::Mapping(map) = node else {
            bail!("{key}: parent is not a mapping");
        };
        node = map
            .entry(Value::String((*key).into()))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if node.is_null() {
            *node = Value::Mapping(Mapping::new());
        }
    }
    let Value::Mapping(map) = node else {
        bail!("{}: parent is not a mapping", path.join("."));
    };
    let list = map
        .entry(Value::String((*last).into()))
        .or_insert_with(|| Value::Sequence(Vec::new()));
    if list.is_null() {
        *list = Value::Sequence(Vec::new());
    }
    let Value::Sequence(seq) = list else {
        bail!("{}: must be a list", path.join("."));
    };
    let present = seq
        .iter()
        .any(|e| e.get("name").and_then(yaml::as_str) == Some(secret));
    if !present {
        let mut entry = Mapping::new();
        entry.insert(Value::String("name".into()), Value::String(secret.into()));
        seq.push(Value::Mapping(entry));
    }
    Ok(())
}

/// `spec.inject`: adds each spec's Secret to pod templates (in target
/// namespaces) that pull from its registries, and to the configured
/// `fieldPaths` of other kinds. Objects opted out with `regcred.dev/skip`
/// are left alone.
fn inject(
    items: &mut [Value],
    jobs: &[Job],
    selections: &[Selection],
    reports: &mut [SpecReport],
    sa_pulls: &BTreeMap<Key, Vec<String>>,
    default_ns: Option<&str>,
) -> Result<()> {
    for item in items.iter_mut() {
        if is_config(item) || target::opted_out(item) {
            continue;
        }
        let Some(ns) = effective_ns(item, default_ns).map(str::to_string) else {
            continue;
        };
        let kind = item
            .get("kind")
            .and_then(yaml::as_str)
            .unwrap_or_default()
            .to_string();
        let api = item
            .get("apiVersion")
            .and_then(yaml::as_str)
            .unwrap_or_default()
            .to_string();
        let name = name_of(item).unwrap_or_default().to_string();
        for ((job, sel), report) in jobs.iter().zip(selections).zip(reports.iter_mut()) {
            if sel.targets.binary_search(&ns).is_err() {
                continue;
            }
            let spec = &job.spec;
            let context = || format!("{kind} {ns}/{name}");
            let mut touched = false;
            if spec.inject.workloads {
                if let Some(pod) = workloads::pod_spec_mut(item, &spec.check.pod_spec_paths) {
                    if pulls_from(pod, &report.registries) {
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

/// `imagePullSecrets` of every ServiceAccount after regcred's changes (input
/// ones patched in place, and the ones it creates), by (namespace, name).
fn service_account_pulls(
    items: &[Value],
    created: &[Value],
    default_ns: Option<&str>,
) -> BTreeMap<Key, Vec<String>> {
    items
        .iter()
        .chain(created)
        .filter(|i| is_kind(i, "ServiceAccount"))
        .filter_map(|sa| {
            let key = (
                effective_ns(sa, default_ns)?.to_string(),
                name_of(sa)?.to_string(),
            );
            Some((key, workloads::pull_secret_names(sa)))
        })
        .collect()
}

/// Whether any container of a pod spec runs an image from `registries`
/// (matched as kubelet's credential keyring matches).
fn pulls_from(pod: &Value, registries: &[String]) -> bool {
    workloads::containers(pod).iter().any(|c| {
        c.image
            .as_deref()
            .and_then(|i| imageref::parse(i).ok())
            .is_some_and(|image| {
                registries
                    .iter()
                    .any(|k| imageref::registry_matches(k, &image))
            })
    })
}

#[derive(Default)]
struct NewServiceAccount {
    pull_secrets: Vec<String>,
    annotations: Vec<(String, String)>,
}

/// ServiceAccounts the specs name literally that the input lacks. Every
/// spec whose patterns select a created SA adds its Secret to it, exactly as
/// it would if the SA were in the input, so re-rendering the output changes
/// nothing.
fn missing_service_accounts(
    jobs: &[Job],
    selections: &[Selection],
    existing: &BTreeSet<Key>,
    reports: &mut [SpecReport],
) -> Result<Vec<Value>> {
    let mut wanted: BTreeMap<Key, NewServiceAccount> = BTreeMap::new();
    for (job, sel) in jobs.iter().zip(selections) {
        let sa = &job.spec.service_accounts;
        if !sa.create_missing {
            continue;
        }
        for ns in &sel.targets {
            for p in sa.include.iter().filter(|p| p.is_literal()) {
                let name = p.as_str();
                let key = (ns.clone(), name.to_string());
                if existing.contains(&key) || sa.exclude.iter().any(|x| x.matches(name)) {
                    continue;
                }
                let new = wanted.entry(key).or_default();
                merge_annotations(&mut new.annotations, &job.spec.service_account_annotations)
                    .map_err(|e| {
                        e.context(format!("ServiceAccount {ns}/{name} ({})", job.spec.origin))
                    })?;
            }
        }
    }
    for ((ns, name), new) in wanted.iter_mut() {
        for ((job, sel), report) in jobs.iter().zip(selections).zip(reports.iter_mut()) {
            let sa = &job.spec.service_accounts;
            if sel.targets.binary_search(ns).is_ok()
                && target::service_account_selected(&sa.include, &sa.exclude, name)
                && !new.pull_secrets.contains(&job.spec.secret_name)
            {
                new.pull_secrets.push(job.spec.secret_name.clone());
                if let Some(r) = report.namespace(ns) {
                    r.created_service_accounts.push(name.clone());
                }
            }
        }
    }
    let labels = [(MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string())];
    wanted
        .into_iter()
        .map(|((ns, name), new)| {
            let ctx = ServiceAccountContext {
                name: &name,
                namespace: &ns,
                labels: &labels,
                annotations: &new.annotations,
                pull_secrets: &new.pull_secrets,
            };
            templates::render(
                templates::SERVICE_ACCOUNT,
                ctx,
                "ServiceAccount",
                &name,
                &ns,
            )
        })
        .collect()
}

fn merge_annotations(into: &mut Vec<(String, String)>, from: &[(String, String)]) -> Result<()> {
    for (k, v) in from {
        match into.iter().find(|(ek, _)| ek == k) {
            Some((_, ev)) if ev != v => bail!("specs disagree on annotation {k}: {ev:?} vs {v:?}"),
            Some(_) => {}
            None => into.push((k.clone(), v.clone())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The output as trees (render over trees never produces text items).
    fn values(items: Vec<Item>) -> Vec<Value> {
        items
            .into_iter()
            .map(|i| match i {
                Item::Tree(v) => v,
                Item::Text(p) => panic!("unexpected text item {p:?}"),
            })
            .collect()
    }

    fn items(text: &str) -> Vec<Value> {
        yaml::load_stream(text, "t")
            .unwrap()
            .into_iter()
            .map(|d| d.value)
            .collect()
    }

    fn job(body: &str) -> Job {
        let text = format!(
            "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata:\n  name: regcred\nspec:\n{body}"
        );
        let doc = yaml::load_stream(&text, "t").unwrap().remove(0).value;
        Job {
            spec: crate::spec::parse(&doc, "spec.yaml").unwrap(),
            resolver: Resolver::new(Path::new("."), false).unwrap(),
        }
    }

    use std::path::Path;

    const REG: &str = "  registries: [{server: r.io, username: u, password: {env: HOME}}]\n";

    fn pulls(v: &Value) -> Vec<String> {
        v["imagePullSecrets"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn add_pull_secret_keeps_entries_and_never_duplicates() {
        let mut sa =
            items("kind: ServiceAccount\nimagePullSecrets:\n- name: a\n- {name: b, extra: kept}\n")
                .remove(0);
        add_pull_secret(&mut sa, "regcred").unwrap();
        add_pull_secret(&mut sa, "regcred").unwrap();
        add_pull_secret(&mut sa, "a").unwrap();
        assert_eq!(pulls(&sa), ["a", "b", "regcred"]);
        assert_eq!(
            sa["imagePullSecrets"][1]["extra"],
            Value::String("kept".into())
        );
        let mut bare = items("kind: ServiceAccount\nimagePullSecrets: null\n").remove(0);
        add_pull_secret(&mut bare, "x").unwrap();
        assert_eq!(pulls(&bare), ["x"]);
        let mut bad = items("kind: ServiceAccount\nimagePullSecrets: x\n").remove(0);
        assert!(add_pull_secret(&mut bad, "x").is_err());
    }

    #[test]
    fn two_specs_compose_on_shared_service_accounts() {
        let input = items(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: shared}\n",
        );
        let a = job(&format!(
            "  secretName: team-a\n{REG}  namespaces: {{names: [shared, only-a]}}\n"
        ));
        let b = job(&format!(
            "  secretName: team-b\n{REG}  namespaces: {{names: [shared]}}\n  serviceAccounts: {{include: [default, builder]}}\n"
        ));
        let out = values(render(input, &[a, b]).unwrap().items);
        assert_eq!(pulls(&out[0]), ["team-a", "team-b"]);
        let described: Vec<String> = out[1..]
            .iter()
            .map(|i| {
                format!(
                    "{}/{}/{}",
                    i["kind"].as_str().unwrap(),
                    namespace_of(i).unwrap(),
                    name_of(i).unwrap()
                )
            })
            .collect();
        assert_eq!(
            described,
            [
                "Secret/only-a/team-a",
                "Secret/shared/team-a",
                "Secret/shared/team-b",
                "ServiceAccount/only-a/default",
                "ServiceAccount/shared/builder",
            ]
        );
    }

    #[test]
    fn same_secret_from_two_specs_is_a_conflict() {
        let a = job(&format!("{REG}  namespaces: {{names: [x]}}\n"));
        let b = job(&format!("{REG}  namespaces: {{names: [x]}}\n"));
        let err = render(Vec::new(), &[a, b]).unwrap_err().to_string();
        assert!(err.contains("both render Secret x/regcred"), "{err}");
    }

    #[test]
    fn text_items_pass_through_in_place_and_count_for_targeting() {
        let deploy = items("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, labels: {a: 'yes'}}\n").remove(0);
        let sa = items(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: shop}\n",
        )
        .remove(0);
        let j = job(REG);
        assert!(!needs_tree(&deploy, std::slice::from_ref(&j)));
        assert!(needs_tree(&sa, std::slice::from_ref(&j)));
        let input = vec![Item::new(deploy.clone(), false).unwrap(), Item::Tree(sa)];
        let out = render_in(input, &[j], None).unwrap();
        // The Deployment is still text, first, and made `shop` a target.
        assert_eq!(
            out.items[0].to_yaml().unwrap(),
            yaml::to_string(&deploy).unwrap()
        );
        assert!(matches!(out.items[0], Item::Text(_)));
        assert_eq!(out.items[2].kind(), Some("Secret"));
        assert_eq!(out.items[2].namespace(), Some("shop"));
        let inject = job(&format!("{REG}  inject: {{workloads: true}}\n"));
        assert!(
            needs_tree(&deploy, &[inject]),
            "inject looks into workloads"
        );
    }

    #[test]
    fn a_second_spec_cannot_take_over_another_specs_secret() {
        let first = job(&format!("{REG}  namespaces: {{names: [x]}}\n"));
        let once = values(render(Vec::new(), &[first]).unwrap().items);
        let text = format!(
            "apiVersion: regcred.dev/v1alpha1\nkind: RegistryCredentials\nmetadata:\n  name: other-team\nspec:\n  secretName: regcred\n{REG}  namespaces: {{names: [x]}}\n"
        );
        let doc = yaml::load_stream(&text, "t").unwrap().remove(0).value;
        let second = Job {
            spec: crate::spec::parse(&doc, "other.yaml").unwrap(),
            resolver: Resolver::new(Path::new("."), false).unwrap(),
        };
        let err = render(once.clone(), &[second]).unwrap_err().to_string();
        assert!(
            err.contains("rendered by spec \"regcred\" and spec \"other-team\""),
            "{err}"
        );
        // The same spec re-rendering its own output is fine.
        let again = render(
            once.clone(),
            &[job(&format!("{REG}  namespaces: {{names: [x]}}\n"))],
        )
        .unwrap();
        assert_eq!(values(again.items), once);
    }

    #[test]
    fn managed_secrets_are_replaced_in_place_and_opted_out_sas_untouched() {
        let input = items(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n  namespace: a\n  labels: {app.kubernetes.io/managed-by: regcred}\n  annotations: {config.kubernetes.io/path: a/s.yaml, note: dropped}\ndata: {old: x}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: a\n  annotations: {regcred.dev/skip: 'true'}\n",
        );
        let out = values(render(input, &[job(REG)]).unwrap().items);
        assert_eq!(
            out.len(),
            2,
            "no new objects: the Secret was replaced, the SA exists"
        );
        let secret = &out[0];
        assert!(secret["data"].get("old").is_none());
        assert!(secret["data"].get(".dockerconfigjson").is_some());
        let ann = secret["metadata"]["annotations"].as_mapping().unwrap();
        assert_eq!(
            ann.get("config.kubernetes.io/path").and_then(Value::as_str),
            Some("a/s.yaml")
        );
        assert!(ann.get("note").is_none());
        assert!(out[1].get("imagePullSecrets").is_none());
    }
}
