//! KRM function I/O: the `ResourceList` wire format kustomize and kpt speak.
//!
//! See the KRM Functions Specification. Two facts shape this module:
//! runners parse stdout before they look at the exit code, so even a
//! failure writes a valid ResourceList; and an empty `items` from a
//! transformer deletes every resource, so on failure the input items are
//! echoed back unchanged next to the error results.

use crate::render::{Finding, Item, Severity};
use crate::spec::{API_VERSION, KIND};
use crate::yaml;
use anyhow::{Result, bail};
use serde_yaml_ng::{Mapping, Value};
use std::path::{Path, PathBuf};

/// The ResourceList apiVersion written when the input names none.
pub const DEFAULT_API_VERSION: &str = "config.kubernetes.io/v1";

/// A ResourceList read from stdin. Its items are not parsed up front:
/// `for_each_item` hands them over one at a time, so a caller can turn the
/// ones it will not touch into text before the next is parsed.
pub struct ResourceList<'a> {
    pub api_version: String,
    pub function_config: Option<Value>,
    items: Items<'a>,
}

enum Items<'a> {
    /// Parsed with the whole document (JSON or flow-style input).
    Parsed(Vec<Value>),
    /// A block-style document: `items` parsed element by element.
    Streamed(yaml::TopLevel<'a>),
}

const ORIGIN: &str = "stdin (ResourceList)";

/// Reads a ResourceList (or a `List`) from stdin text. Like kyaml, the
/// apiVersion is not checked, only remembered to be echoed back.
pub fn read(text: &str) -> Result<ResourceList<'_>> {
    let (header, items) = match yaml::TopLevel::split(text) {
        Some(top) => (top.without("items"), Some(top)),
        None => (String::new(), None),
    };
    let source = if items.is_some() {
        header.as_str()
    } else {
        text
    };
    let mut docs = yaml::load_stream(source, ORIGIN)?;
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
    let items = match items {
        Some(top) => Items::Streamed(top),
        // Moved out, not cloned: a ResourceList can be tens of megabytes.
        None => match doc.as_mapping_mut().and_then(|m| m.remove("items")) {
            None | Some(Value::Null) => Items::Parsed(Vec::new()),
            Some(Value::Sequence(s)) => Items::Parsed(s),
            Some(_) => bail!("stdin: ResourceList items must be a list"),
        },
    };
    Ok(ResourceList {
        api_version: doc
            .get("apiVersion")
            .and_then(yaml::as_str)
            .unwrap_or(DEFAULT_API_VERSION)
            .to_string(),
        function_config: doc.get("functionConfig").filter(|v| !v.is_null()).cloned(),
        items,
    })
}

impl ResourceList<'_> {
    /// Calls `f` with every item, in order.
    pub fn for_each_item(self, mut f: impl FnMut(Value) -> Result<()>) -> Result<()> {
        match self.items {
            Items::Parsed(items) => items.into_iter().try_for_each(f),
            Items::Streamed(top) => top.for_each_element("items", ORIGIN, &mut f).map(|_| ()),
        }
    }

    /// Every item as a tree.
    pub fn into_items(self) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        self.for_each_item(|v| {
            out.push(v);
            Ok(())
        })?;
        Ok(out)
    }
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
    let items: Vec<Item> = items.into_iter().map(Item::Tree).collect();
    write_results(
        api_version,
        &items,
        findings.iter().map(result_value).collect(),
    )
}

/// Writes the output ResourceList with prepared `results` entries. Text
/// items are placed as sequence entries directly: shifting a document body
/// two columns right is exactly how the writer nests it under `- `.
pub fn write_results(api_version: &str, items: &[Item], results: Vec<Value>) -> Result<String> {
    let mut head = Mapping::new();
    head.insert(s("apiVersion"), s(api_version));
    head.insert(s("kind"), s("ResourceList"));
    let mut out = yaml::to_string(&Value::Mapping(head))?;
    if items.is_empty() {
        out.push_str("items: []\n");
    } else {
        out.push_str("items:\n");
        for item in items {
            push_entry(&mut out, &item.to_yaml()?);
        }
    }
    if !results.is_empty() {
        let mut tail = Mapping::new();
        tail.insert(s("results"), Value::Sequence(results));
        out.push_str(&yaml::to_string(&Value::Mapping(tail))?);
    }
    Ok(out)
}

/// Appends a document body as a `- ` entry of a sequence at column 0.
fn push_entry(out: &mut String, body: &str) {
    for (i, line) in body.split_inclusive('\n').enumerate() {
        if i == 0 {
            out.push_str("- ");
        } else if line != "\n" {
            out.push_str("  ");
        }
        out.push_str(line);
    }
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
