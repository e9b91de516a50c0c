//! Output manifests rendered from the minijinja templates in `templates/`.
//!
//! The templates are embedded at build time so the binary is self-contained.
//! Rendered text is parsed back and checked to be the kind, name and
//! namespace we meant to produce before anything is emitted: a template edit
//! that breaks the YAML fails the render instead of shipping a bad manifest.
//!
//! The Secret's `.dockerconfigjson` is megabytes at thousands of registries.
//! It does not go through the template and the YAML reader: they run with
//! [`PAYLOAD_MARK`] in its place, and the value is set in the tree (or
//! spliced into the stamp) afterwards, which gives the same tree and text
//! (see [`payload_spliceable`]).

use crate::k8s::meta;
use crate::k8s::resource::Stamp;
use crate::yaml;
use anyhow::{Result, anyhow, bail};
use minijinja::Environment;
use serde::Serialize;
use serde_yaml_ng::Value;
use std::sync::OnceLock;

/// One embedded template. It is compiled on first use, in an environment
/// of its own with only the `tojson` filter the templates use: a run that
/// creates no ServiceAccount never compiles that template, and no run
/// registers minijinja's built-in filters and tests, which cost as much as
/// compiling a template (2% of a small render).
pub struct Template {
    name: &'static str,
    source: &'static str,
    env: OnceLock<Environment<'static>>,
}

/// The pull Secret of one namespace.
pub static SECRET: Template = Template {
    name: "secret.yaml.j2",
    source: include_str!("../../templates/secret.yaml.j2"),
    env: OnceLock::new(),
};

/// A ServiceAccount the spec names and the input lacks.
pub static SERVICE_ACCOUNT: Template = Template {
    name: "serviceaccount.yaml.j2",
    source: include_str!("../../templates/serviceaccount.yaml.j2"),
    env: OnceLock::new(),
};

impl Template {
    fn env(&self) -> &Environment<'static> {
        self.env.get_or_init(|| {
            let mut env = Environment::empty();
            env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
            env.add_filter("tojson", minijinja::filters::tojson);
            env.add_template(self.name, self.source)
                .unwrap_or_else(|e| panic!("embedded template {} is invalid: {e}", self.name));
            env
        })
    }
}

/// Context of the Secret template.
#[derive(Serialize)]
pub struct SecretContext<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub labels: &'a [(String, String)],
    pub annotations: &'a [(String, String)],
    pub dockerconfigjson: &'a str,
}

/// Context of the ServiceAccount template.
#[derive(Serialize)]
pub struct ServiceAccountContext<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub labels: &'a [(String, String)],
    pub annotations: &'a [(String, String)],
    pub pull_secrets: &'a [String],
}

/// Renders `template` and returns the single object it produced, after
/// checking its kind, name and namespace.
pub fn render(
    template: &Template,
    ctx: impl Serialize,
    kind: &str,
    name: &str,
    namespace: &str,
) -> Result<Value> {
    let text = template
        .env()
        .get_template(template.name)
        .and_then(|t| t.render(minijinja::value::Serde(&ctx)));
    let template = template.name;
    let text =
        text.map_err(|e| anyhow!("template {template}, line {}: {e}", e.line().unwrap_or(0)))?;
    let mut docs = yaml::load_stream(&text, &format!("output of template {template}"))?;
    if docs.len() != 1 {
        bail!(
            "template {template} produced {} documents, expected 1",
            docs.len()
        );
    }
    let value = docs.remove(0).value;
    let got_kind = meta::kind(&value);
    if got_kind != Some(kind)
        || meta::name(&value) != Some(name)
        || meta::namespace(&value) != Some(namespace)
    {
        bail!(
            "template {template} produced {got_kind:?} {:?}/{:?}, expected {kind} {namespace}/{name}",
            meta::namespace(&value),
            meta::name(&value)
        );
    }
    Ok(value)
}

/// Stands for the Secret's `.dockerconfigjson` while the template runs. A
/// plain scalar to the writer, so that its text is the mark itself.
pub const PAYLOAD_MARK: &str = "regcredDockerconfigjsonValue7f3a";

/// The key of the Secret's payload under `data`.
const PAYLOAD_KEY: &str = ".dockerconfigjson";

/// Whether `marked`, the Secret template's output for [`PAYLOAD_MARK`],
/// holds the mark as its `data.".dockerconfigjson"` and nowhere else. Then
/// [`with_payload`] gives the template's output for any base64 value: the
/// template's `tojson` quotes base64 without escapes, and the reader reads
/// the quoted scalar back as the same string. Otherwise (a template that
/// uses the value elsewhere) the caller renders with the value itself.
pub fn payload_spliceable(marked: &Value) -> bool {
    marked
        .get("data")
        .and_then(|d| d.get(PAYLOAD_KEY))
        .and_then(Value::as_str)
        == Some(PAYLOAD_MARK)
        && yaml::to_string(marked).is_ok_and(|t| t.matches(PAYLOAD_MARK).count() == 1)
}

/// `marked` (see [`payload_spliceable`]) with its payload set to `payload`,
/// a base64 string.
pub fn with_payload(mut marked: Value, payload: &str) -> Value {
    if let Some(Value::Mapping(data)) = marked.get_mut("data") {
        data.insert(
            Value::String(PAYLOAD_KEY.into()),
            Value::String(payload.into()),
        );
    }
    marked
}

/// The stamp of `marked` (see [`payload_spliceable`]) with `payload`
/// spliced in: the writer writes a one-line string value the same
/// wherever it stands, so replacing the mark's text with the payload's
/// gives the writer's text of [`with_payload`]. The mark occurs once (the
/// caller checked), so the value is copied once, not searched.
pub fn stamp_secret(marked: &Value, name: &str, payload: &str) -> Option<Stamp> {
    let mut stamp = stamp(marked, "Secret", Some(name))?;
    stamp.replace_once(PAYLOAD_MARK, &yaml::one_line_string(payload)?)?;
    Some(stamp)
}

/// Placeholders for a stamp's holes (a spec that uses them in its own
/// labels or annotations gets no stamp: each must occur once).
const NAMESPACE_MARK: &str = "regcred-stamp-namespace-hole-7f3a";
const NAME_MARK: &str = "regcred-stamp-name-hole-7f3a";

/// `value` (a rendered object) as a stamp with a hole for its namespace
/// and, unless `name` is given, its name: written once, filled per
/// namespace. `None` when the stamp would not write exactly what the
/// writer writes for `value` (the caller then keeps trees).
pub fn stamp(value: &Value, kind: &str, name: Option<&str>) -> Option<Stamp> {
    let mut marked = meta::with_namespace(value.clone(), NAMESPACE_MARK);
    if name.is_none() {
        if let Some(Value::Mapping(m)) = marked.get_mut("metadata") {
            m.insert(
                Value::String("name".into()),
                Value::String(NAME_MARK.into()),
            );
        }
    }
    let text = yaml::to_string(&marked).ok()?;
    let stamp = Stamp::new(
        kind,
        name.map(str::to_string),
        &text,
        NAMESPACE_MARK,
        NAME_MARK,
    )?;
    let expected = yaml::to_string(value).ok()?;
    let filled = stamp.fill(meta::namespace(value)?, meta::name(value))?;
    (filled == expected).then_some(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(dockerconfigjson: &str, annotations: &[(String, String)]) -> Result<Value> {
        let labels = [("app".to_string(), "web".to_string())];
        let ctx = SecretContext {
            name: "pull",
            namespace: "shop",
            labels: &labels,
            annotations,
            dockerconfigjson,
        };
        render(&SECRET, ctx, "Secret", "pull", "shop")
    }

    /// The mark stands for any base64 payload: the tree and the stamp's
    /// text are what rendering the payload itself gives.
    #[test]
    fn a_marked_secret_is_the_secret_of_its_payload() {
        let marked = secret(PAYLOAD_MARK, &[]).unwrap();
        assert!(payload_spliceable(&marked));
        // Plain, quoted (a leading digit or `+`), and padded payloads.
        for payload in ["eyJhdXRocyI6e319", "0ABC+/==", "+abc", "true", ""] {
            let whole = secret(payload, &[]).unwrap();
            assert_eq!(with_payload(marked.clone(), payload), whole, "{payload}");
            let stamp = stamp_secret(&marked, "pull", payload).unwrap();
            let text = stamp.fill("shop", None).unwrap();
            assert_eq!(text, yaml::to_string(&whole).unwrap(), "{payload}");
        }
    }

    /// A spec whose own labels or annotations hold the mark renders with
    /// the payload itself.
    #[test]
    fn a_mark_used_elsewhere_is_not_spliced() {
        let annotations = [("note".to_string(), PAYLOAD_MARK.to_string())];
        let marked = secret(PAYLOAD_MARK, &annotations).unwrap();
        assert!(!payload_spliceable(&marked));
    }
}
