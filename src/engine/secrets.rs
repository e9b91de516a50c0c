//! Secrets: resolving each spec's credentials into one `.dockerconfigjson`
//! payload, rendering its Secret in every target namespace, and placing
//! them among the input (replacing regcred's own earlier output in place,
//! never anyone else's Secret).

use super::templates::{self, SecretContext};
use super::{Job, Key, spec_finding, spec_id};
use crate::credentials::Resolver;
use crate::credentials::dockerconfig::{self, AuthEntry};
use crate::engine::targeting::Selection;
use crate::k8s::finding::{Finding, Severity};
use crate::k8s::meta::{self, CoreKind, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SPEC_ANNOTATION};
use crate::spec::{Registry, Spec, ValueSource};
use anyhow::{Context, Result, bail};
use base64::Engine as _;
use serde_yaml_ng::Value;
use std::collections::{BTreeMap, HashMap};

/// Rendered Secrets by (namespace, name), with the index of their spec.
type RenderedSecrets = BTreeMap<Key, (usize, Value)>;

/// Resolves a spec's credentials and renders its Secret for every target.
pub(super) fn render_secrets(
    jobs: &[Job],
    selections: &[Selection],
    findings: &mut Vec<Finding>,
) -> Result<(RenderedSecrets, Vec<Vec<String>>)> {
    let mut out: RenderedSecrets = BTreeMap::new();
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
                Some(rendered) => meta::with_namespace(rendered.clone(), ns),
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
                entries.push(entry);
                fields.push(format!("{field}.server"));
            }
            Registry::DockerConfig { source, field } => match resolver.docker_config(source) {
                Ok(imported) => {
                    for e in imported {
                        entries.push(e);
                        fields.push(field.clone());
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
    let mut seen = HashMap::with_capacity(entries.len());
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

/// Replaces Secrets regcred rendered earlier in place; refuses to overwrite
/// anyone else's. Returns the Secrets that are new, sorted.
pub(super) fn place_secrets(
    items: &mut [Value],
    mut secrets: RenderedSecrets,
    default_ns: Option<&str>,
) -> Result<Vec<Value>> {
    for item in items.iter_mut().filter(|i| meta::is(i, CoreKind::Secret)) {
        let (Some(ns), Some(name)) = (
            meta::effective_namespace_of(item, default_ns),
            meta::name(item),
        ) else {
            continue;
        };
        let key = (ns.to_string(), name.to_string());
        if let Some((_, secret)) = secrets.get(&key) {
            if !meta::is_managed(item) {
                bail!(
                    "Secret {ns}/{name} already exists in the input and is not managed by regcred (no label {MANAGED_BY_LABEL}: {MANAGED_BY_VALUE}): remove it or choose another spec.secretName"
                );
            }
            let by_spec = |v: &Value| meta::annotation(v, SPEC_ANNOTATION).map(str::to_string);
            if let (Some(before), Some(now)) = (by_spec(item), by_spec(secret)) {
                if before != now {
                    bail!(
                        "Secret {ns}/{name} was rendered by spec {before:?} and spec {now:?} renders it too: give one of them another spec.secretName"
                    );
                }
            }
            let mut fresh = secret.clone();
            meta::keep_runner_annotations(item, &mut fresh);
            *item = fresh;
            secrets.remove(&key);
        }
    }
    Ok(secrets.into_values().map(|(_, v)| v).collect())
}
