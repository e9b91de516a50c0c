//! Manifest documents in and out: a YAML stream of Kubernetes resources
//! read from an input, and items written back as a stream.

use crate::k8s::names;
use crate::k8s::resource::Item;
use crate::yaml;
use anyhow::{Result, bail};
use serde_yaml_ng::Value;

/// Non-empty documents of a YAML stream, each a Kubernetes resource.
/// Anything else (a credentials file, a SOPS file) is refused rather than
/// passed through to the output: a credential must never be mistaken for
/// a manifest and printed. So is an object whose namespace or name the API
/// server would reject (or that would lead a `-o DIR` path elsewhere).
pub fn resources(text: &str, origin: &str) -> Result<Vec<Value>> {
    let docs = yaml::load_stream(text, origin)?;
    let mut items = Vec::new();
    for d in docs {
        let line = d.line;
        let Value::Mapping(m) = &d.value else {
            if d.value.is_null() {
                continue;
            }
            bail!("{origin}: line {line}: a Kubernetes resource must be a mapping");
        };
        if m.contains_key("sops") {
            bail!(
                "{origin}: line {line}: a SOPS-encrypted file among the inputs; reference it from the spec instead"
            );
        }
        if !(m.contains_key("apiVersion") && m.contains_key("kind")) {
            bail!(
                "{origin}: line {line}: not a Kubernetes resource (no apiVersion and kind); keep credential files out of the inputs or reference them from the spec"
            );
        }
        names::check_object(&d.value).map_err(|e| e.context(format!("{origin}: line {line}")))?;
        items.push(d.value);
    }
    Ok(items)
}

/// Items as a YAML stream, documents separated by `---`.
pub fn stream(items: &[Item]) -> Result<String> {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&item.to_yaml()?);
    }
    Ok(out)
}
