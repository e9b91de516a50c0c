//! `regcred check`: catch ImagePullBackOff before deploy.
//!
//! Walks every pod template in the rendered manifests and, for each image
//! from a private registry (one of the specs' registries, or listed under
//! `spec.check.privateRegistries`), asks what kubelet would: does the pod's
//! own `imagePullSecrets`, or its ServiceAccount's, reference a Secret whose
//! `auths` has credentials for this image? Also warns on `:latest` or
//! untagged images and on `imagePullPolicy: Always` with a digest, as the
//! Kubernetes docs advise. Only server names are read from Secrets; no
//! credential value is kept or printed.

use super::{Job, Output};
use crate::k8s::finding::{Finding, ResourceRef, Severity};
use crate::k8s::image::{self, ImageRef, KeyMatcher};
use crate::k8s::meta::{self, CoreKind};
use crate::k8s::workloads::{self, ExtraKind};
use crate::spec::Registry;
use crate::yaml;
use base64::Engine as _;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// What to check against.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Registry keys that need credentials (the specs' registries plus
    /// `check.privateRegistries` and `--private-registry`).
    pub private_registries: Vec<String>,
    /// Kinds with pod templates besides the built-in workloads.
    pub extra_kinds: Vec<ExtraKind>,
    /// Namespace of namespaced objects without one.
    pub default_namespace: Option<String>,
    /// `--strict`: every registry needs credentials unless it is known
    /// public (Docker Hub's official `library/` images, `public_registries`).
    pub strict: bool,
    /// `--public-registry`: registry keys that need no credentials.
    pub public_registries: Vec<String>,
}

impl CheckOptions {
    /// Private registries and extra kinds from the specs alone, for a
    /// check of output rendered earlier: the servers each spec names
    /// (imported docker configs are read for theirs).
    /// The second value lists docker configs whose registry names could
    /// not be read (when only names are needed).
    pub fn from_specs(jobs: &[Job]) -> anyhow::Result<(Self, Vec<String>)> {
        let mut opts = CheckOptions::default();
        let mut unknown = Vec::new();
        for job in jobs {
            for reg in &job.spec.registries {
                match reg {
                    Registry::Server { server, .. } => opts.private_registries.push(server.clone()),
                    Registry::DockerConfig { source, .. } => match job
                        .resolver
                        .docker_config(source)
                    {
                        Ok(entries) => opts
                            .private_registries
                            .extend(entries.into_iter().map(|e| e.server)),
                        Err(e) if !job.resolver.reads_values() => unknown.push(format!("{e:#}")),
                        Err(e) => return Err(e),
                    },
                }
            }
            opts.private_registries
                .extend(job.spec.check.private_registries.iter().cloned());
            opts.extra_kinds
                .extend(job.spec.check.pod_spec_paths.iter().cloned());
        }
        Ok((opts, unknown))
    }

    /// Private registries and extra kinds from the specs of a render.
    pub fn from_render(jobs: &[Job], out: &Output) -> Self {
        let mut opts = CheckOptions::default();
        for (job, report) in jobs.iter().zip(&out.reports) {
            opts.private_registries
                .extend(report.registries.iter().cloned());
            opts.private_registries
                .extend(job.spec.check.private_registries.iter().cloned());
            opts.extra_kinds
                .extend(job.spec.check.pod_spec_paths.iter().cloned());
        }
        opts
    }
}

type Key = (String, String);

/// Registry servers each dockerconfigjson/dockercfg Secret has credentials for.
fn secret_servers(items: &[&Value], default_ns: Option<&str>) -> BTreeMap<Key, Vec<String>> {
    let mut out = BTreeMap::new();
    for item in items {
        if !meta::is(item, CoreKind::Secret) {
            continue;
        }
        let (Some(ns), Some(name)) = (
            meta::effective_namespace_of(item, default_ns),
            meta::name(item),
        ) else {
            continue;
        };
        let servers = match item.get("type").and_then(yaml::as_str) {
            Some("kubernetes.io/dockerconfigjson") => servers_in(item, ".dockerconfigjson", true),
            Some("kubernetes.io/dockercfg") => servers_in(item, ".dockercfg", false),
            _ => continue,
        };
        out.insert((ns.to_string(), name.to_string()), servers);
    }
    out
}

/// Keys of `auths` (or of the legacy `.dockercfg` object) in `data` (base64)
/// or `stringData`. The decoded JSON is zeroized when dropped.
fn servers_in(secret: &Value, key: &str, under_auths: bool) -> Vec<String> {
    let decoded: Option<Zeroizing<Vec<u8>>> = secret
        .get("data")
        .and_then(|d| d.get(key))
        .and_then(yaml::as_str)
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .map(Zeroizing::new)
        .or_else(|| {
            secret
                .get("stringData")
                .and_then(|d| d.get(key))
                .and_then(yaml::as_str)
                .map(|s| Zeroizing::new(s.as_bytes().to_vec()))
        });
    let Some(bytes) = decoded else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    let map = if under_auths {
        json.get("auths")
    } else {
        Some(&json)
    };
    map.and_then(|m| m.as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Checks every pod template of `items`. `origins[i]` names the file item
/// `i` came from, when known.
pub fn check(items: &[&Value], origins: &[Option<String>], opts: &CheckOptions) -> Vec<Finding> {
    let default_ns = opts.default_namespace.as_deref();
    let matchers = Matchers::new(opts, secret_servers(items, default_ns));
    let sas = workloads::service_account_pulls(items.iter().copied(), default_ns);
    let mut findings = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(path) = workloads::path_for(item, &opts.extra_kinds) else {
            continue;
        };
        let Some(pod) = workloads::pod_spec(item, &opts.extra_kinds) else {
            continue;
        };
        let ns = meta::effective_namespace_of(item, default_ns)
            .unwrap_or("default")
            .to_string();
        let base = Finding {
            resource: Some(ResourceRef {
                api_version: meta::api_version(item).unwrap_or_default().to_string(),
                kind: meta::kind(item).unwrap_or_default().to_string(),
                name: meta::name(item).unwrap_or_default().to_string(),
                namespace: Some(ns.clone()),
            }),
            file: origins
                .get(i)
                .cloned()
                .flatten()
                .or_else(|| meta::annotated_path(item)),
            ..Finding::new(Severity::Info, "")
        };
        let sa_name = workloads::service_account(pod);
        let sa = sas.get(&(ns.clone(), sa_name.clone()));
        // Admission copies the ServiceAccount's pull secrets into a pod only
        // when the pod lists none of its own.
        let mut pulls = workloads::pull_secret_names(pod);
        if pulls.is_empty() {
            pulls = sa.cloned().unwrap_or_default();
        }
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for c in workloads::containers(pod) {
            let n = index.entry(c.list).or_default();
            let field = format!("{path}.{}[{n}].image", c.list);
            *n += 1;
            let Some(image_text) = c.image.clone() else {
                continue;
            };
            let found = |severity, message: String| Finding {
                severity,
                container: Some(c.name.clone()),
                field: Some(field.clone()),
                image: Some(image_text.clone()),
                message,
                ..base.clone()
            };
            let image = match image::parse(&image_text) {
                Ok(image) => image,
                Err(e) => {
                    findings.push(found(
                        Severity::Error,
                        format!("invalid image reference: {}", e.reason()),
                    ));
                    continue;
                }
            };
            if image.is_latest_or_untagged() {
                findings.push(found(
                    Severity::Warning,
                    "image has no tag or the tag `latest`: pin a version tag or a digest so every node runs the same image".into(),
                ));
            }
            if image.digest().is_some() && c.pull_policy.as_deref() == Some("Always") {
                findings.push(found(
                    Severity::Warning,
                    "imagePullPolicy: Always with a digest contacts the registry on every start for an image that cannot change; IfNotPresent is enough".into(),
                ));
            }
            let pod = PodView {
                ns: &ns,
                sa_name: &sa_name,
                sa_known: sa.is_some(),
                pulls: &pulls,
            };
            if let Some(message) = coverage_gap(&image, &pod, &matchers, opts) {
                findings.push(found(Severity::Error, message));
            }
        }
    }
    findings
}

/// What a pod can pull with: its namespace, ServiceAccount and the pull
/// Secrets it ends up with.
struct PodView<'a> {
    ns: &'a str,
    sa_name: &'a str,
    /// The ServiceAccount is in the input (else its live list is unknown).
    sa_known: bool,
    pulls: &'a [String],
}

/// The registry an image needs credentials for: one of the private
/// registries it matches, or in strict mode any registry not known public.
fn needs_credentials(image: &ImageRef, opts: &CheckOptions, m: &Matchers) -> Option<String> {
    if let Some(k) = m.private.iter().find(|k| k.matches(image)) {
        return Some(k.key().to_string());
    }
    let name = image.name();
    let public =
        name.starts_with("docker.io/library/") || m.public.iter().any(|k| k.matches(image));
    (opts.strict && !public).then(|| name.split('/').next().unwrap_or_default().to_string())
}

/// The registries of a check, each indexed once (not once per image).
struct Matchers {
    private: Vec<KeyMatcher>,
    public: Vec<KeyMatcher>,
    /// The servers of each pull Secret.
    secrets: BTreeMap<Key, Vec<KeyMatcher>>,
}

impl Matchers {
    fn new(opts: &CheckOptions, secrets: BTreeMap<Key, Vec<String>>) -> Self {
        let index = |keys: &[String]| keys.iter().map(|k| KeyMatcher::new(k)).collect();
        Matchers {
            private: index(&opts.private_registries),
            public: index(&opts.public_registries),
            secrets: secrets
                .into_iter()
                .map(|(key, servers)| (key, index(&servers)))
                .collect(),
        }
    }
}

/// Why a private image has no credentials, or `None` when it is covered or public.
fn coverage_gap(
    image: &ImageRef,
    pod: &PodView,
    m: &Matchers,
    opts: &CheckOptions,
) -> Option<String> {
    let secrets = &m.secrets;
    let PodView {
        ns,
        sa_name,
        sa_known,
        pulls,
    } = *pod;
    let registry = needs_credentials(image, opts, m)?;
    let covered = pulls.iter().any(|secret| {
        secrets
            .get(&(ns.to_string(), secret.clone()))
            .is_some_and(|servers| servers.iter().any(|s| s.matches(image)))
    });
    if covered {
        return None;
    }
    let mut message = format!(
        "image from private registry {registry:?} but neither the pod's imagePullSecrets nor ServiceAccount {ns}/{sa_name} references a Secret with credentials for it: expect ImagePullBackOff"
    );
    let missing: Vec<&str> = pulls
        .iter()
        .filter(|s| !secrets.contains_key(&(ns.to_string(), (*s).clone())))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        message.push_str(&format!(
            " (referenced but not in the input: {})",
            missing.join(", ")
        ));
    }
    if !sa_known {
        message.push_str(&format!(
            " (ServiceAccount {ns}/{sa_name} is not in the input, so its live imagePullSecrets are unknown)"
        ));
    }
    Some(message)
}

/// Human-readable report, grouped by namespace.
pub fn to_text(findings: &[Finding]) -> String {
    let mut by_ns: BTreeMap<&str, Vec<(&Finding, &ResourceRef)>> = BTreeMap::new();
    for f in findings {
        if let Some(r) = &f.resource {
            by_ns
                .entry(r.namespace.as_deref().unwrap_or_default())
                .or_default()
                .push((f, r));
        }
    }
    let mut out = String::new();
    for (ns, list) in by_ns {
        out.push_str(&format!("namespace {ns}\n"));
        for (f, r) in list {
            let file = f
                .file
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            let container = f
                .container
                .as_deref()
                .map(|c| format!(" container {c}"))
                .unwrap_or_default();
            let image = f
                .image
                .as_deref()
                .map(|i| format!(" image {i}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {:<7} {}/{}{file}{container}{image}: {}\n",
                f.severity.as_str(),
                r.kind,
                r.name,
                f.message
            ));
        }
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    out.push_str(&format!(
        "{}, {}\n",
        plural(errors, "error"),
        plural(warnings, "warning")
    ));
    out
}

/// The findings as a JSON array, one object per finding with every field
/// (`null` when unknown), for CI tools.
pub fn to_json(findings: &[Finding]) -> String {
    let rows: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let r = f.resource.clone().unwrap_or_default();
            serde_json::json!({
                "severity": f.severity.as_str(),
                "namespace": r.namespace.unwrap_or_default(),
                "api_version": r.api_version,
                "kind": r.kind,
                "name": r.name,
                "file": f.file,
                "container": f.container,
                "field": f.field,
                "image": f.image,
                "message": f.message,
            })
        })
        .collect();
    serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"
}

/// `error: namespace/Kind/name: message` lines for the errors, as the KRM
/// validator prints them.
pub fn error_lines(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| {
            let r = f.resource.clone().unwrap_or_default();
            format!(
                "error: {}/{}/{}: {}",
                r.namespace.unwrap_or_default(),
                r.kind,
                r.name,
                f.message
            )
        })
        .collect()
}
