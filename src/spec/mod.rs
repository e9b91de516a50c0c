//! The `RegistryCredentials` spec: the contract users write.
//!
//! Parsed by hand from a YAML value rather than with `#[derive(Deserialize)]`
//! for two reasons: every error must name the exact field path
//! (`spec.registries[1].password.file`), and serde's messages quote the
//! offending value (`invalid type: string "hunter2"`), which for a credential
//! field would leak it.

mod fields;
mod selector;

pub(crate) use selector::{AccountPattern, LabelSelector, Pattern};

use crate::k8s::workloads::ExtraKind;
use crate::k8s::{meta, names};
use crate::yaml::scalar_string;
use anyhow::{Result, bail};
use fields::Fields;
use serde_yaml_ng::{Mapping, Value};

/// The JSON Schema of the spec (`regcred schema`), for editors
/// (yaml-language-server) and validators (kubeconform). The parser is the
/// reference: a test checks the schema names exactly the fields it accepts.
pub const SCHEMA: &str = include_str!("schema.json");

pub const API_VERSION: &str = "regcred.dev/v1alpha1";
pub const KIND: &str = "RegistryCredentials";

/// One `RegistryCredentials` document.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `metadata.name`.
    pub name: String,
    /// Where the spec came from, for messages: a file path or `functionConfig`.
    pub origin: String,
    pub secret_name: String,
    pub registries: Vec<Registry>,
    pub namespaces: NamespaceTargets,
    pub service_accounts: ServiceAccountTargets,
    pub secret_labels: Vec<(String, String)>,
    pub secret_annotations: Vec<(String, String)>,
    pub service_account_annotations: Vec<(String, String)>,
    /// `spec.decryption.ageKeyFile`: an extra age identity file, relative
    /// to the spec's root.
    pub age_key_file: Option<String>,
    pub inject: Inject,
    pub check: CheckConfig,
}

/// `spec.inject`: put the pull Secret into pod templates and custom
/// resources too, not only ServiceAccounts.
#[derive(Debug, Clone, Default)]
pub struct Inject {
    /// Pod templates whose images come from one of the spec's registries.
    pub workloads: bool,
    /// `imagePullSecrets`-like lists in other kinds (operators' CRs).
    pub field_paths: Vec<FieldPath>,
}

/// A list of `{name: ...}` entries at `path` in objects of `kind`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPath {
    pub kind: String,
    pub api_version: Option<String>,
    pub path: String,
}

/// `spec.check`: what `regcred check` (and the KRM validator) needs.
#[derive(Debug, Clone, Default)]
pub struct CheckConfig {
    /// Also run the check when running as a KRM function.
    pub enabled: bool,
    /// Registries that need credentials besides the spec's own.
    pub private_registries: Vec<String>,
    /// Further kinds with a pod template, and where it is.
    pub pod_spec_paths: Vec<ExtraKind>,
}

/// One entry of `spec.registries`.
// A spec holds a handful of these; boxing the larger variant buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Registry {
    /// Credentials for one server.
    Server {
        server: String,
        username: Option<ValueSource>,
        password: Option<ValueSource>,
        email: Option<ValueSource>,
        auth: Option<ValueSource>,
        field: String,
    },
    /// Every entry of a docker `config.json` `auths` object.
    DockerConfig { source: ValueSource, field: String },
}

/// Where a credential value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueSource {
    Literal {
        value: String,
        field: String,
    },
    Env {
        name: String,
        field: String,
        /// `allowEmpty: true`: an empty value is what the user means.
        allow_empty: bool,
    },
    File {
        path: String,
        key: Option<String>,
        field: String,
        allow_empty: bool,
    },
}

impl ValueSource {
    /// Whether an empty value is allowed (`allowEmpty: true`); an empty
    /// credential otherwise makes every pull fail, so it is an error.
    pub fn allows_empty(&self) -> bool {
        match self {
            ValueSource::Literal { .. } => false,
            ValueSource::Env { allow_empty, .. } | ValueSource::File { allow_empty, .. } => {
                *allow_empty
            }
        }
    }

    /// The spec field this source was written at, for messages.
    pub fn field(&self) -> &str {
        match self {
            ValueSource::Literal { field, .. }
            | ValueSource::Env { field, .. }
            | ValueSource::File { field, .. } => field,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NamespaceTargets {
    pub include: Vec<Pattern>,
    /// True when the user wrote `include` (the default `["*"]` is implicit).
    pub include_explicit: bool,
    pub exclude: Vec<Pattern>,
    pub names: Vec<String>,
    pub selector: Option<LabelSelector>,
}

#[derive(Debug, Clone)]
pub struct ServiceAccountTargets {
    pub include: Vec<AccountPattern>,
    pub exclude: Vec<AccountPattern>,
    pub create_missing: bool,
}

impl Spec {
    /// Every file path a credential source of this spec reads.
    pub fn credential_files(&self) -> Vec<&str> {
        fn file(s: &ValueSource) -> Option<&str> {
            match s {
                ValueSource::File { path, .. } => Some(path.as_str()),
                _ => None,
            }
        }
        self.registries
            .iter()
            .flat_map(|r| match r {
                Registry::Server {
                    username,
                    password,
                    email,
                    auth,
                    ..
                } => [username, password, email, auth]
                    .into_iter()
                    .flatten()
                    .filter_map(file)
                    .collect::<Vec<_>>(),
                Registry::DockerConfig { source, .. } => file(source).into_iter().collect(),
            })
            .chain(self.age_key_file.as_deref())
            .collect()
    }
}

/// True when `doc` declares itself a `RegistryCredentials` of any version.
pub fn is_spec(doc: &Value) -> bool {
    meta::kind(doc) == Some(KIND)
}

/// Parses and validates one spec document. `origin` names its source.
pub fn parse(doc: &Value, origin: &str) -> Result<Spec> {
    parse_inner(doc, None, origin).map_err(|e| e.context(format!("{origin}: invalid {KIND}")))
}

/// [`parse`], dropping each registry's tree as soon as it is read. A spec
/// of thousands of registries then does not hold every registry twice
/// (tree and [`Registry`]), and the memory of one registry's tree is
/// reused for the next one's fields instead of freed in one piece at the
/// end. The same result and the same first error as [`parse`].
pub fn parse_owned(mut doc: Value, origin: &str) -> Result<Spec> {
    let registries = match doc.get_mut("spec").and_then(|s| s.get_mut("registries")) {
        Some(Value::Sequence(seq)) => Some(std::mem::take(seq)),
        _ => None,
    };
    parse_inner(&doc, registries, origin)
        .map_err(|e| e.context(format!("{origin}: invalid {KIND}")))
}

/// `registries`: `spec.registries` when the caller took the sequence out
/// of `doc` (see [`parse_owned`]).
fn parse_inner(doc: &Value, registries: Option<Vec<Value>>, origin: &str) -> Result<Spec> {
    let top = Fields::new(doc, "", &["apiVersion", "kind", "metadata", "spec"])?;
    let api_version = top.string("apiVersion")?.unwrap_or_default();
    let kind = top.string("kind")?.unwrap_or_default();
    if kind != KIND || api_version != API_VERSION {
        bail!("apiVersion/kind: expected {API_VERSION} {KIND}, found {api_version:?} {kind:?}");
    }
    let name = meta::name(doc).unwrap_or_default().to_string();
    let Some(spec_value) = top.get("spec") else {
        bail!("spec: required");
    };
    let spec = Fields::new(
        spec_value,
        "spec",
        &[
            "secretName",
            "registries",
            "namespaces",
            "serviceAccounts",
            "secret",
            "serviceAccount",
            "decryption",
            "inject",
            "check",
        ],
    )?;

    let secret_name = match spec.string("secretName")? {
        Some(s) => s,
        None if !name.is_empty() => name.clone(),
        None => bail!("spec.secretName: required when metadata.name is not set"),
    };
    names::check_subdomain(&secret_name, "spec.secretName")?;

    let (secret_labels, secret_annotations) = parse_meta(spec.get("secret"), "spec.secret", true)?;
    let (_, service_account_annotations) =
        parse_meta(spec.get("serviceAccount"), "spec.serviceAccount", false)?;
    let age_key_file = match spec.get("decryption") {
        Some(d) => Fields::new(d, "spec.decryption", &["ageKeyFile"])?.string("ageKeyFile")?,
        None => None,
    };
    let inject = parse_inject(spec.get("inject"))?;
    let check = parse_check(spec.get("check"))?;
    Ok(Spec {
        inject,
        check,
        age_key_file,
        name,
        origin: origin.to_string(),
        secret_name,
        registries: parse_registries(&spec, registries)?,
        namespaces: parse_namespaces(spec.get("namespaces"))?,
        service_accounts: parse_service_accounts(spec.get("serviceAccounts"))?,
        secret_labels,
        secret_annotations,
        service_account_annotations,
    })
}

/// `spec.registries`, from `taken` when the caller took the sequence out
/// of the document.
fn parse_registries(spec: &Fields, taken: Option<Vec<Value>>) -> Result<Vec<Registry>> {
    let path = spec.path("registries");
    if let Some(seq) = taken {
        return registries_from(seq, &path);
    }
    let Some(seq) = spec.get("registries").and_then(Value::as_sequence) else {
        bail!("{path}: required: a list of at least one registry");
    };
    registries_from(seq, &path)
}

/// The registries of a sequence, each item dropped once read when the
/// sequence is owned. The first error in list order wins: a registry that
/// does not parse, or a server listed twice before it.
fn registries_from<V: std::borrow::Borrow<Value>>(
    seq: impl IntoIterator<Item = V, IntoIter: ExactSizeIterator>,
    path: &str,
) -> Result<Vec<Registry>> {
    let seq = seq.into_iter();
    if seq.len() == 0 {
        bail!("{path}: must list at least one registry");
    }
    let mut registries = Vec::with_capacity(seq.len());
    let mut failed = None;
    for (i, item) in seq.enumerate() {
        match parse_registry(item.borrow(), &format!("{path}[{i}]")) {
            Ok(reg) => registries.push(reg),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    // Duplicates among the registries read (a set of borrowed servers,
    // not a copy of each).
    let mut servers = std::collections::HashSet::with_capacity(registries.len());
    for reg in &registries {
        if let Registry::Server { server, field, .. } = reg {
            if !servers.insert(server.as_str()) {
                bail!("{field}.server: duplicate server {server:?} in one Secret");
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(registries),
    }
}

fn parse_registry(item: &Value, field: &str) -> Result<Registry> {
    let f = Fields::new(
        item,
        field,
        &[
            "server",
            "username",
            "password",
            "email",
            "auth",
            "dockerConfig",
        ],
    )?;
    if let Some(dc) = f.get("dockerConfig") {
        if let Some(other) = ["server", "username", "password", "email", "auth"]
            .iter()
            .find(|k| f.get(k).is_some())
        {
            bail!(
                "{field}: dockerConfig cannot be combined with {other} (the config file carries every field)"
            );
        }
        let source = parse_source(dc, &f.path("dockerConfig"))?;
        if let ValueSource::File { key: Some(_), .. } = source {
            bail!(
                "{}.key: dockerConfig imports a whole config.json; it takes no key",
                f.path("dockerConfig")
            );
        }
        if !matches!(source, ValueSource::File { .. }) {
            bail!(
                "{}: must be a {{file: PATH}} source",
                f.path("dockerConfig")
            );
        }
        return Ok(Registry::DockerConfig {
            source,
            field: f.path("dockerConfig"),
        });
    }
    let Some(server) = f.string("server")? else {
        bail!("{}: required (or use dockerConfig)", f.path("server"));
    };
    names::check_server(&server, &f.path("server"))?;
    let opt = |key: &str| {
        f.get(key)
            .map(|v| parse_source(v, &f.path(key)))
            .transpose()
    };
    let (username, password, email, auth) = (
        opt("username")?,
        opt("password")?,
        opt("email")?,
        opt("auth")?,
    );
    if auth.is_none() && (username.is_none() || password.is_none()) {
        bail!("{field}: username and password are required (or a precomputed auth)");
    }
    Ok(Registry::Server {
        server,
        username,
        password,
        email,
        auth,
        field: field.to_string(),
    })
}

/// A credential value: a literal scalar, `{env: NAME}`, or `{file: PATH[, key: K]}`.
pub fn parse_source(v: &Value, field: &str) -> Result<ValueSource> {
    if let Some(value) = scalar_string(v) {
        return Ok(ValueSource::Literal {
            value,
            field: field.to_string(),
        });
    }
    let f = Fields::new(v, field, &["env", "file", "key", "allowEmpty"]).map_err(|e| {
        e.context(format!(
            "{field}: must be a string, {{env: NAME}} or {{file: PATH}}"
        ))
    })?;
    let allow_empty = f.bool("allowEmpty", false)?;
    match (f.string("env")?, f.string("file")?, f.string("key")?) {
        (Some(name), None, None) if !name.is_empty() => Ok(ValueSource::Env {
            name,
            field: f.path("env"),
            allow_empty,
        }),
        (None, Some(path), key) if !path.is_empty() => {
            if key.as_deref() == Some("") {
                bail!("{}: must not be empty", f.path("key"));
            }
            Ok(ValueSource::File {
                path,
                key,
                field: f.path("file"),
                allow_empty,
            })
        }
        _ => bail!("{field}: exactly one of env or file (with an optional key) must be set"),
    }
}

fn patterns(list: Vec<String>, field: &str) -> Result<Vec<Pattern>> {
    list.iter()
        .enumerate()
        .map(|(i, p)| Pattern::new(p, &format!("{field}[{i}]")))
        .collect()
}

fn account_patterns(list: Vec<String>, field: &str) -> Result<Vec<AccountPattern>> {
    list.iter()
        .enumerate()
        .map(|(i, p)| AccountPattern::new(p, &format!("{field}[{i}]")))
        .collect()
}

fn parse_namespaces(v: Option<&Value>) -> Result<NamespaceTargets> {
    let empty = Value::Mapping(Mapping::new());
    let f = Fields::new(
        v.unwrap_or(&empty),
        "spec.namespaces",
        &["include", "exclude", "names", "selector"],
    )?;
    let include = f.string_list("include")?;
    let names = f.string_list("names")?.unwrap_or_default();
    for (i, n) in names.iter().enumerate() {
        names::check_label(n, &format!("spec.namespaces.names[{i}]"))?;
    }
    Ok(NamespaceTargets {
        include_explicit: include.is_some(),
        include: patterns(
            include.unwrap_or_else(|| vec!["*".into()]),
            &f.path("include"),
        )?,
        exclude: patterns(
            f.string_list("exclude")?.unwrap_or_default(),
            &f.path("exclude"),
        )?,
        names,
        selector: f
            .get("selector")
            .map(|s| LabelSelector::parse(s, &f.path("selector")))
            .transpose()?,
    })
}

fn parse_service_accounts(v: Option<&Value>) -> Result<ServiceAccountTargets> {
    let empty = Value::Mapping(Mapping::new());
    let f = Fields::new(
        v.unwrap_or(&empty),
        "spec.serviceAccounts",
        &["include", "exclude", "createMissing"],
    )?;
    let include = account_patterns(
        f.string_list("include")?
            .unwrap_or_else(|| vec!["default".into()]),
        &f.path("include"),
    )?;
    for p in &include {
        if p.name.is_literal() {
            names::check_subdomain(p.name.as_str(), &p.name.field)?;
        }
        if let Some(ns) = p.namespace.as_ref().filter(|ns| ns.is_literal()) {
            names::check_label(ns.as_str(), &ns.field)?;
        }
    }
    Ok(ServiceAccountTargets {
        include,
        exclude: account_patterns(
            f.string_list("exclude")?.unwrap_or_default(),
            &f.path("exclude"),
        )?,
        create_missing: f.bool("createMissing", true)?,
    })
}

fn dotted_path(s: &str, field: &str) -> Result<String> {
    if s.is_empty() || s.split('.').any(str::is_empty) {
        bail!("{field}: must be a dotted path like spec.imagePullSecrets");
    }
    Ok(s.to_string())
}

fn parse_inject(v: Option<&Value>) -> Result<Inject> {
    let empty = Value::Mapping(Mapping::new());
    let f = Fields::new(
        v.unwrap_or(&empty),
        "spec.inject",
        &["workloads", "fieldPaths"],
    )?;
    let mut field_paths = Vec::new();
    if let Some(list) = f.get("fieldPaths") {
        let Some(seq) = list.as_sequence() else {
            bail!("spec.inject.fieldPaths: must be a list");
        };
        for (i, item) in seq.iter().enumerate() {
            let field = format!("spec.inject.fieldPaths[{i}]");
            let e = Fields::new(item, &field, &["kind", "apiVersion", "path"])?;
            let (Some(kind), Some(path)) = (e.string("kind")?, e.string("path")?) else {
                bail!("{field}: kind and path are required");
            };
            field_paths.push(FieldPath {
                kind,
                api_version: e.string("apiVersion")?,
                path: dotted_path(&path, &e.path("path"))?,
            });
        }
    }
    Ok(Inject {
        workloads: f.bool("workloads", false)?,
        field_paths,
    })
}

fn parse_check(v: Option<&Value>) -> Result<CheckConfig> {
    let empty = Value::Mapping(Mapping::new());
    let f = Fields::new(
        v.unwrap_or(&empty),
        "spec.check",
        &["enabled", "privateRegistries", "podSpecPaths"],
    )?;
    let private_registries = f.string_list("privateRegistries")?.unwrap_or_default();
    for (i, r) in private_registries.iter().enumerate() {
        names::check_server(r, &format!("spec.check.privateRegistries[{i}]"))?;
    }
    let mut pod_spec_paths = Vec::new();
    if let Some(list) = f.get("podSpecPaths") {
        let Some(seq) = list.as_sequence() else {
            bail!("spec.check.podSpecPaths: must be a list");
        };
        for (i, item) in seq.iter().enumerate() {
            let field = format!("spec.check.podSpecPaths[{i}]");
            let e = Fields::new(item, &field, &["kind", "path"])?;
            let (Some(kind), Some(path)) = (e.string("kind")?, e.string("path")?) else {
                bail!("{field}: kind and path are required");
            };
            pod_spec_paths.push(ExtraKind {
                kind,
                path: dotted_path(&path, &e.path("path"))?,
            });
        }
    }
    Ok(CheckConfig {
        enabled: f.bool("enabled", false)?,
        private_registries,
        pod_spec_paths,
    })
}

type Meta = (Vec<(String, String)>, Vec<(String, String)>);

/// `labels` and `annotations` of `spec.secret` / `spec.serviceAccount`.
fn parse_meta(v: Option<&Value>, path: &str, labels_allowed: bool) -> Result<Meta> {
    let empty = Value::Mapping(Mapping::new());
    let allowed: &[&str] = if labels_allowed {
        &["labels", "annotations"]
    } else {
        &["annotations"]
    };
    let f = Fields::new(v.unwrap_or(&empty), path, allowed)?;
    let labels = f.string_map("labels")?;
    if let Some((k, _)) = labels
        .iter()
        .find(|(k, _)| k == crate::k8s::meta::MANAGED_BY_LABEL)
    {
        bail!("{}.labels.{k}: reserved; regcred sets it", path);
    }
    Ok((labels, f.string_map("annotations")?))
}

#[cfg(test)]
mod tests;
