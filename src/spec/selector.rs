//! Selectors a spec is written with: glob patterns for names and
//! Kubernetes `LabelSelector`s for namespace labels.

use super::fields::{Fields, string_map};
use crate::yaml::scalar_string;
use anyhow::{Result, bail};
use serde_yaml_ng::{Mapping, Value};

/// A glob pattern with the text and spec field it came from.
#[derive(Debug, Clone)]
pub struct Pattern {
    glob: glob::Pattern,
    pub field: String,
}

impl Pattern {
    pub fn new(text: &str, field: &str) -> Result<Self> {
        if text.is_empty() {
            bail!("{field}: pattern must not be empty");
        }
        match glob::Pattern::new(text) {
            Ok(glob) => Ok(Pattern {
                glob,
                field: field.to_string(),
            }),
            Err(e) => bail!("{field}: invalid glob pattern {text:?}: {}", e.msg),
        }
    }

    pub fn matches(&self, s: &str) -> bool {
        self.glob.matches(s)
    }

    pub fn as_str(&self) -> &str {
        self.glob.as_str()
    }

    /// A pattern without glob metacharacters names exactly one object.
    pub fn is_literal(&self) -> bool {
        !self.as_str().contains(['*', '?', '['])
    }
}

/// A ServiceAccount pattern: `name`, or `namespace/name` to limit it to
/// namespaces (each part a glob).
#[derive(Debug, Clone)]
pub struct AccountPattern {
    pub namespace: Option<Pattern>,
    pub name: Pattern,
}

impl AccountPattern {
    /// Parses `name` or `namespace/name`; `field` names the list entry.
    pub fn new(text: &str, field: &str) -> Result<Self> {
        let (namespace, name) = match text.split_once('/') {
            Some((ns, name)) => (Some(Pattern::new(ns, field)?), name),
            None => (None, text),
        };
        if name.contains('/') {
            bail!("{field}: {text:?} has more than one '/' (expected NAME or NAMESPACE/NAME)");
        }
        Ok(AccountPattern {
            namespace,
            name: Pattern::new(name, field)?,
        })
    }

    /// Whether the pattern selects ServiceAccount `ns/name`.
    pub fn matches(&self, ns: &str, name: &str) -> bool {
        self.namespace.as_ref().is_none_or(|p| p.matches(ns)) && self.name.matches(name)
    }

    /// The one name this pattern selects in `ns`, if it names exactly one
    /// (a literal name, and a namespace part that takes `ns`).
    pub fn literal_in(&self, ns: &str) -> Option<&str> {
        (self.name.is_literal() && self.namespace.as_ref().is_none_or(|p| p.matches(ns)))
            .then(|| self.name.as_str())
    }
}

/// Kubernetes `LabelSelector`: `matchLabels` and `matchExpressions`, ANDed.
#[derive(Debug, Clone, Default)]
pub struct LabelSelector {
    match_labels: Vec<(String, String)>,
    expressions: Vec<Requirement>,
}

#[derive(Debug, Clone)]
struct Requirement {
    key: String,
    op: Operator,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    pub fn parse(v: &Value, field: &str) -> Result<Self> {
        let f = Fields::new(v, field, &["matchLabels", "matchExpressions"])?;
        let match_labels = match f.get("matchLabels") {
            Some(m) => string_map(m, &f.path("matchLabels"))?,
            None => Vec::new(),
        };
        let mut expressions = Vec::new();
        if let Some(list) = f.get("matchExpressions") {
            let Some(seq) = list.as_sequence() else {
                bail!("{}: must be a list", f.path("matchExpressions"));
            };
            for (i, e) in seq.iter().enumerate() {
                expressions.push(Requirement::parse(
                    e,
                    &format!("{}[{i}]", f.path("matchExpressions")),
                )?);
            }
        }
        Ok(LabelSelector {
            match_labels,
            expressions,
        })
    }

    /// Whether an object with `labels` is selected.
    pub fn matches(&self, labels: &Mapping) -> bool {
        let get = |k: &str| labels.get(k).and_then(scalar_string);
        self.match_labels
            .iter()
            .all(|(k, v)| get(k).as_deref() == Some(v.as_str()))
            && self.expressions.iter().all(|r| {
                let value = get(&r.key);
                match r.op {
                    Operator::In => value.is_some_and(|v| r.values.contains(&v)),
                    Operator::NotIn => value.is_none_or(|v| !r.values.contains(&v)),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                }
            })
    }
}

impl Requirement {
    fn parse(v: &Value, field: &str) -> Result<Self> {
        let f = Fields::new(v, field, &["key", "operator", "values"])?;
        let Some(key) = f.string("key")? else {
            bail!("{}: required", f.path("key"));
        };
        let op = match f.string("operator")?.as_deref() {
            Some("In") => Operator::In,
            Some("NotIn") => Operator::NotIn,
            Some("Exists") => Operator::Exists,
            Some("DoesNotExist") => Operator::DoesNotExist,
            _ => bail!(
                "{}: must be one of In, NotIn, Exists, DoesNotExist",
                f.path("operator")
            ),
        };
        let values = match f.get("values").and_then(Value::as_sequence) {
            Some(seq) => seq.iter().filter_map(scalar_string).collect(),
            None => Vec::new(),
        };
        let needs_values = matches!(op, Operator::In | Operator::NotIn);
        if needs_values == values.is_empty() {
            bail!(
                "{}: {} values for operator {op:?}",
                f.path("values"),
                if needs_values {
                    "requires"
                } else {
                    "must not have"
                }
            );
        }
        Ok(Requirement { key, op, values })
    }
}
