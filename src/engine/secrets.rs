//! Secrets: resolving each spec's credentials into one `.dockerconfigjson`
//! payload, rendering its Secret in every target namespace, and placing
//! them among the input (replacing regcred's own earlier output in place,
//! never anyone else's Secret).

use super::templates::{self, SecretContext};
use super::{Job, Key, spec_finding, spec_id};
use crate::credentials::Resolver;
use crate::credentials::dockerconfig::{self, AuthEntry, AuthsJson};
use crate::engine::targeting::Selection;
use crate::k8s::finding::{Finding, Severity};
use crate::k8s::meta::{self, CoreKind, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SPEC_ANNOTATION};
use crate::k8s::resource::{Item, Stamp, Stamped};
use crate::spec::{Registry, Spec, ValueSource};
use anyhow::{Context, Result, bail};
use base64::Engine as _;
use serde_yaml_ng::Value;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

/// One spec's Secret, rendered once and copied into each target namespace.
#[derive(Debug)]
pub(super) struct SpecSecret {
    /// Registry servers in the Secret, in `auths` order (taken by the
    /// spec's report).
    pub servers: Vec<String>,
    /// The Secret of the first target namespace (`None`: no target), with
    /// [`templates::PAYLOAD_MARK`] for its `.dockerconfigjson` when
    /// `payload` is set.
    first: Option<Value>,
    /// The `.dockerconfigjson` value, put in when a tree is made: it is
    /// megabytes at thousands of registries, and each tree needs a copy.
    payload: Option<String>,
    /// The same as text with a hole for the namespace (compact renders).
    stamp: Option<Arc<Stamp>>,
}

impl SpecSecret {
    /// The Secret in namespace `ns`, as the output holds it.
    fn item(&self, ns: &str) -> Item {
        match &self.stamp {
            Some(stamp) => Item::Stamped(Stamped {
                stamp: Arc::clone(stamp),
                namespace: ns.into(),
                name: None,
            }),
            None => Item::Tree(self.tree(ns)),
        }
    }

    fn tree(&self, ns: &str) -> Value {
        let first = self
            .first
            .as_ref()
            .expect("a Secret is placed only for a target");
        let tree = if meta::namespace(first) == Some(ns) {
            first.clone()
        } else {
            meta::with_namespace(first.clone(), ns)
        };
        match &self.payload {
            Some(payload) => templates::with_payload(tree, payload),
            None => tree,
        }
    }
}

/// Resolves each spec's credentials and renders its Secret once; fails
/// when two specs would render the same Secret in one namespace.
pub(super) fn render_secrets(
    jobs: &[Job],
    selections: &[Selection],
    findings: &mut Vec<Finding>,
    compact: bool,
) -> Result<Vec<SpecSecret>> {
    let mut out = Vec::new();
    for (idx, (job, sel)) in jobs.iter().zip(selections).enumerate() {
        let Some(first_ns) = sel.targets.first() else {
            out.push(SpecSecret {
                servers: Vec::new(),
                first: None,
                payload: None,
                stamp: None,
            });
            continue;
        };
        let spec = &job.spec;
        let payload = payload(spec, &job.resolver, findings).with_context(|| spec.origin.clone());
        job.resolver.forget();
        let (payload, servers) = payload?;
        // In the order the namespaces are rendered: the first, then the rest.
        conflicts(jobs, selections, idx, ..1)?;
        // The template runs (and is checked) once per spec; other
        // namespaces get a copy with their namespace.
        let (rendered, payload) = render_secret(spec, first_ns, payload)?;
        conflicts(jobs, selections, idx, 1..)?;
        let stamp = compact
            .then(|| match &payload {
                Some(p) => templates::stamp_secret(&rendered, &spec.secret_name, p),
                None => templates::stamp(&rendered, "Secret", Some(&spec.secret_name)),
            })
            .flatten()
            .map(Arc::new);
        out.push(SpecSecret {
            servers,
            first: Some(rendered),
            payload,
            stamp,
        });
    }
    Ok(out)
}

/// The spec's Secret in namespace `ns` as the template renders it: with
/// the payload's mark and the payload to put in its place when that gives
/// the same (see [`templates::payload_spliceable`]), else with the payload.
fn render_secret(spec: &Spec, ns: &str, payload: String) -> Result<(Value, Option<String>)> {
    let mut labels = vec![(MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string())];
    labels.extend(spec.secret_labels.iter().cloned());
    let mut annotations = vec![(SPEC_ANNOTATION.to_string(), spec_id(spec))];
    annotations.extend(spec.secret_annotations.iter().cloned());
    let render = |dockerconfigjson: &str| {
        let ctx = SecretContext {
            name: &spec.secret_name,
            namespace: ns,
            labels: &labels,
            annotations: &annotations,
            dockerconfigjson,
        };
        templates::render(&templates::SECRET, ctx, "Secret", &spec.secret_name, ns)
    };
    let marked = render(templates::PAYLOAD_MARK)?;
    if templates::payload_spliceable(&marked) {
        return Ok((marked, Some(payload)));
    }
    Ok((render(&payload)?, None))
}

/// The first target of spec `idx` that an earlier spec with the same
/// Secret name targets too is an error naming both.
fn conflicts(
    jobs: &[Job],
    selections: &[Selection],
    idx: usize,
    which: impl std::slice::SliceIndex<[String], Output = [String]>,
) -> Result<()> {
    let spec = &jobs[idx].spec;
    let earlier: Vec<usize> = (0..idx)
        .filter(|&j| jobs[j].spec.secret_name == spec.secret_name)
        .collect();
    if earlier.is_empty() {
        return Ok(());
    }
    for ns in &selections[idx].targets[which] {
        if let Some(&other) = earlier
            .iter()
            .find(|&&j| selections[j].targets.binary_search(ns).is_ok())
        {
            bail!(
                "{} and {} both render Secret {ns}/{}: give one of them another spec.secretName",
                jobs[other].spec.origin,
                spec.origin,
                spec.secret_name
            );
        }
    }
    Ok(())
}

/// The base64 `.dockerconfigjson` of one spec and its servers. Plaintext
/// credentials live only inside this function, in zeroizing buffers, one
/// entry at a time: each is written into the document as it is resolved.
fn payload(
    spec: &Spec,
    resolver: &Resolver,
    findings: &mut Vec<Finding>,
) -> Result<(String, Vec<String>)> {
    let mut json = AuthsJson::new();
    let mut servers: Vec<String> = Vec::with_capacity(spec.registries.len());
    // Where each entry comes from, for messages: a registry's field and
    // `.server`, or a dockerConfig field and nothing.
    let mut fields: Vec<(&str, &str)> = Vec::with_capacity(spec.registries.len());
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
                    findings.push(spec_finding(
                        spec,
                        Severity::Warning,
                        field,
                        "literal password in the spec: encrypt it (a SOPS or age file) or read it from an environment variable".into(),
                    ));
                }
                let get =
                    |s: &Option<ValueSource>| s.as_ref().map(|s| resolver.resolve(s)).transpose();
                let credential = |s: &Option<ValueSource>| -> Result<_> {
                    let value = get(s)?;
                    if let (Some(v), Some(s)) = (&value, s) {
                        if v.is_empty() && !s.allows_empty() {
                            bail!(
                                "{}: the credential is empty, which makes every pull fail (set allowEmpty: true on the source if that is meant)",
                                s.field()
                            );
                        }
                    }
                    Ok(value)
                };
                let entry = AuthEntry {
                    server: server.clone(),
                    username: credential(username)?,
                    password: credential(password)?,
                    email: get(email)?,
                    auth: credential(auth)?,
                    ..Default::default()
                };
                if let (Some(value), Some(source)) = (&entry.auth, auth) {
                    if !value.is_empty() && resolver.reads_values() {
                        dockerconfig::check_auth(value, source.field())?;
                    }
                }
                json.push(&entry);
                servers.push(entry.server);
                fields.push((field.as_str(), ".server"));
            }
            Registry::DockerConfig { source, field } => match resolver.docker_config(source) {
                Ok(imported) => {
                    for e in imported {
                        json.push(&e);
                        servers.push(e.server);
                        fields.push((field.as_str(), ""));
                    }
                }
                // Only names were needed: say which are unknown, do not fail.
                Err(e) if !resolver.reads_values() => findings.push(spec_finding(
                    spec,
                    Severity::Warning,
                    field,
                    format!(
                        "the registry names in this docker config.json are unknown without reading it ({e:#}); they are left out"
                    ),
                )),
                Err(e) => return Err(e),
            },
        }
    }
    let mut seen = HashMap::with_capacity(servers.len());
    for (server, &(field, suffix)) in servers.iter().zip(&fields) {
        if let Some((first, first_suffix)) = seen.insert(server.as_str(), (field, suffix)) {
            bail!(
                "{field}{suffix}: duplicate server {server:?} in one Secret (first from {first}{first_suffix})"
            );
        }
    }
    drop(seen);
    let json = json.finish();
    let payload = base64::engine::general_purpose::STANDARD.encode(json.as_bytes());
    Ok((payload, servers))
}

/// Replaces Secrets regcred rendered earlier in place; refuses to overwrite
/// anyone else's. Returns the (namespace, name) of those replaced: the
/// others are new.
pub(super) fn place_secrets(
    items: &mut [Item],
    secrets: &[SpecSecret],
    jobs: &[Job],
    selections: &[Selection],
    default_ns: Option<&str>,
) -> Result<HashSet<Key>> {
    // The spec whose Secret `name` lands in `ns` (one at most: conflicts
    // failed the render).
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (j, job) in jobs.iter().enumerate() {
        by_name
            .entry(job.spec.secret_name.as_str())
            .or_default()
            .push(j);
    }
    let owner = |ns: &str, name: &str| {
        by_name.get(name)?.iter().copied().find(|&j| {
            selections[j]
                .targets
                .binary_search_by(|t| t.as_str().cmp(ns))
                .is_ok()
        })
    };
    let mut replaced: HashSet<Key> = HashSet::new();
    for item in items.iter_mut() {
        let Item::Tree(item) = item else {
            continue;
        };
        if !meta::is(item, CoreKind::Secret) {
            continue;
        }
        let (Some(ns), Some(name)) = (
            meta::effective_namespace_of(item, default_ns),
            meta::name(item),
        ) else {
            continue;
        };
        let Some(j) = owner(ns, name) else {
            continue;
        };
        let key = (ns.to_string(), name.to_string());
        if replaced.contains(&key) {
            continue;
        }
        let secret = secrets[j].tree(ns);
        if !meta::is_managed(item) {
            bail!(
                "Secret {ns}/{name} already exists in the input and is not managed by regcred (no label {MANAGED_BY_LABEL}: {MANAGED_BY_VALUE}): remove it or choose another spec.secretName"
            );
        }
        let by_spec = |v: &Value| meta::annotation(v, SPEC_ANNOTATION).map(str::to_string);
        if let (Some(before), Some(now)) = (by_spec(item), by_spec(&secret)) {
            if before != now {
                bail!(
                    "Secret {ns}/{name} was rendered by spec {before:?} and spec {now:?} renders it too: give one of them another spec.secretName"
                );
            }
        }
        let mut fresh = secret;
        meta::keep_runner_annotations(item, &mut fresh);
        *item = fresh;
        replaced.insert(key);
    }
    Ok(replaced)
}

/// The Secrets a render adds, sorted by namespace and name, made one at a
/// time as they are taken: a compact render holds no item per Secret, only
/// each spec's target list, which it has anyway.
#[derive(Debug)]
pub struct NewSecrets {
    secrets: Vec<SpecSecret>,
    names: Vec<String>,
    targets: Vec<Vec<String>>,
    replaced: HashSet<Key>,
    /// The next target of each spec.
    next: Vec<usize>,
    /// With several specs: their next targets, smallest first, so that
    /// taking one costs log(specs), not specs.
    heap: BinaryHeap<Reverse<(String, String, usize)>>,
}

impl NewSecrets {
    pub(super) fn new(
        secrets: Vec<SpecSecret>,
        jobs: &[Job],
        targets: Vec<Vec<String>>,
        replaced: HashSet<Key>,
    ) -> Self {
        let names: Vec<String> = jobs.iter().map(|j| j.spec.secret_name.clone()).collect();
        let mut heap = BinaryHeap::new();
        if secrets.len() > 1 {
            for (j, t) in targets.iter().enumerate() {
                if let Some(ns) = t.first() {
                    heap.push(Reverse((ns.clone(), names[j].clone(), j)));
                }
            }
        }
        NewSecrets {
            next: vec![0; secrets.len()],
            names,
            secrets,
            targets,
            replaced,
            heap,
        }
    }

    /// The spec of the next Secret, in (namespace, name) order.
    fn take(&mut self) -> Option<usize> {
        if self.secrets.len() == 1 {
            return (self.next[0] < self.targets[0].len()).then_some(0);
        }
        let Reverse((_, name, j)) = self.heap.pop()?;
        if let Some(ns) = self.targets[j].get(self.next[j] + 1) {
            self.heap.push(Reverse((ns.clone(), name, j)));
        }
        Some(j)
    }
}

impl Iterator for NewSecrets {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            let j = self.take()?;
            let ns = &self.targets[j][self.next[j]];
            self.next[j] += 1;
            if !self.replaced.is_empty()
                && self.replaced.contains(&(ns.clone(), self.names[j].clone()))
            {
                continue;
            }
            return Some(self.secrets[j].item(ns));
        }
    }
}
