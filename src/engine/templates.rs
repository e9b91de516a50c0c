//! Output manifests rendered from the minijinja templates in `templates/`.
//!
//! The templates are embedded at build time so the binary is self-contained.
//! Rendered text is parsed back and checked to be the kind, name and
//! namespace we meant to produce before anything is emitted: a template edit
//! that breaks the YAML fails the render instead of shipping a bad manifest.

use crate::k8s::meta;
use crate::k8s::resource::Stamp;
use crate::yaml;
use anyhow::{Result, anyhow, bail};
use minijinja::Environment;
use serde::Serialize;
use serde_yaml_ng::Value;
use std::sync::OnceLock;

pub const SECRET: &str = "secret.yaml.j2";
pub const SERVICE_ACCOUNT: &str = "serviceaccount.yaml.j2";

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in [
            (SECRET, include_str!("../../templates/secret.yaml.j2")),
            (
                SERVICE_ACCOUNT,
                include_str!("../../templates/serviceaccount.yaml.j2"),
            ),
        ] {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("embedded template {name} is invalid: {e}"));
        }
        env
    })
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
    template: &str,
    ctx: impl Serialize,
    kind: &str,
    name: &str,
    namespace: &str,
) -> Result<Value> {
    let text = env()
        .get_template(template)
        .and_then(|t| t.render(minijinja::value::Serde(&ctx)))
        .map_err(|e| anyhow!("template {template}, line {}: {e}", e.line().unwrap_or(0)))?;
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
