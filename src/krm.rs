//! KRM function I/O: the `ResourceList` wire format kustomize and kpt speak.
//!
//! See the KRM Functions Specification. Two facts shape this module:
//! runners parse stdout before they look at the exit code, so even a
//! failure writes a valid ResourceList; and an empty `items` from a
//! transformer deletes every resource, so on failure the input items are
//! echoed back unchanged next to the error results.

use crate::render::{Finding, Severity};
use crate::spec::{API_VERSION, KIND};
use crate::yaml;
use anyhow::{Result, bail};
use serde_yaml_ng::{Mapping, Value};
use std::path::{Path, PathBuf};

/// The ResourceList apiVersion written when the input names none.
pub const DEFAULT_API_VERSION: &str = "config.kubernetes.io/v1";

/// A parsed ResourceList.
#[derive(Debug, Default)]
pub struct ResourceList {
    pub api_version: String,
    pub items: Vec<Value>,
    pub function_config: Option<Value>,
}

/// Reads a ResourceList (or a `List`) from stdin text. Like kyaml, the
/// apiVersion is not checked, only remembered to be echoed back.
pub fn read(text: &str) -> Result<ResourceList> {
    let mut docs = yaml::load_stream(text, "stdin (ResourceList)")?;
    if docs.len() != 1 {
        bail!(
            "stdin: expected one ResourceList document, found {}",
            docs.len()
        );
    }
    let mut doc = docs.remove(0).value;
    let kind = doc.get("kind").and_then(yaml::as_str).unwrap_or_default();
    if kind != "ResourceList" && kind != "List" {
        bail!("stdin: expected kind ResourceList, found {kind:?}");
    }
    // Moved out, not cloned: a ResourceList can be tens of megabytes.
    let items = match doc.as_mapping_mut().and_then(|m| m.remove("items")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(s)) => s,
        Some(_) => bail!("stdin: ResourceList items must be a list"),
    };
    Ok(ResourceList {
        api_version: doc
            .get("apiVersion")
            .and_then(yaml::as_str)
            .unwrap_or(DEFAULT_API_VERSION)
            .to_string(),
        items,
        function_config: doc.get("functionConfig").filter(|v| !v.is_null()).cloned(),
    })
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// Where relative credential paths start in KRM mode: the package
/// `kpt fn render` names in `internal.config.kubernetes.io/package-path`,
/// when that lies inside the working directory (an annotation written into
/// a spec must not widen what the function may read), else the working
/// directory itself.
pub fn package_root(function_config: &Value, cwd: &Path) -> PathBuf {
    let annotated = function_config
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get("internal.config.kubernetes.io/package-path"))
        .and_then(yaml::as_str)
        .map(|p| cwd.join(p));
    match (
        annotated.and_then(|p| p.canonicalize().ok()),
        cwd.canonicalize().ok(),
    ) {
        (Some(pkg), Some(cwd)) if pkg.starts_with(&cwd) => pkg,
        _ => cwd.to_path_buf(),
    }
}

/// One `results` entry, pointing at the spec resource and field.
pub fn result_value(f: &Finding) -> Value {
    let mut m = Mapping::new();
    m.insert(s("message"), s(&f.message));
    m.insert(s("severity"), s(f.severity.as_str()));
    if let Some(name) = &f.spec_name {
        let mut r = Mapping::new();
        r.insert(s("apiVersion"), s(API_VERSION));
        r.insert(s("kind"), s(KIND));
        r.insert(s("name"), s(name));
        m.insert(s("resourceRef"), Value::Mapping(r));
        if let Some(field) = &f.field {
            let mut fm = Mapping::new();
            fm.insert(s("path"), s(field));
            m.insert(s("field"), Value::Mapping(fm));
        }
    }
    Value::Mapping(m)
}

/// A `regcred check` finding as a result entry, pointing at the workload,
/// the image field and the file.
pub fn check_result(f: &crate::check::CheckFinding) -> Value {
    let mut m = Mapping::new();
    let mut message = f.message.clone();
    if let (Some(c), Some(i)) = (&f.container, &f.image) {
        message = format!("container {c} image {i}: {message}");
    }
    m.insert(s("message"), s(&message));
    m.insert(s("severity"), s(f.severity.as_str()));
    let mut r = Mapping::new();
    r.insert(s("apiVersion"), s(&f.api_version));
    r.insert(s("kind"), s(&f.kind));
    r.insert(s("name"), s(&f.name));
    r.insert(s("namespace"), s(&f.namespace));
    m.insert(s("resourceRef"), Value::Mapping(r));
    if let Some(field) = &f.field {
        let mut fm = Mapping::new();
        fm.insert(s("path"), s(field));
        m.insert(s("field"), Value::Mapping(fm));
    }
    if let Some(file) = &f.file {
        let mut fm = Mapping::new();
        fm.insert(s("path"), s(file));
        m.insert(s("file"), Value::Mapping(fm));
    }
    Value::Mapping(m)
}

/// Writes the output ResourceList.
pub fn write(api_version: &str, items: Vec<Value>, findings: &[Finding]) -> Result<String> {
    write_results(
        api_version,
        items,
        findings.iter().map(result_value).collect(),
    )
}

/// Writes the output ResourceList with prepared `results` entries.
pub fn write_results(api_version: &str, items: Vec<Value>, results: Vec<Value>) -> Result<String> {
    let mut m = Mapping::new();
    m.insert(s("apiVersion"), s(api_version));
    m.insert(s("kind"), s("ResourceList"));
    m.insert(s("items"), Value::Sequence(items));
    if !results.is_empty() {
        m.insert(s("results"), Value::Sequence(results));
    }
    yaml::to_string(&Value::Mapping(m))
}

/// An error as a result entry: the whole message, severity error.
pub fn error_finding(message: String) -> Finding {
    Finding {
        severity: Severity::Error,
        message,
        field: None,
        spec_name: None,
    }
}
