//! The two forms a resource takes in memory.
//!
//! A resource regcred reads or changes is kept as a parsed tree. One it
//! neither reads nor changes is written out as YAML text as soon as it is
//! parsed, with only the metadata output naming needs: pass-through
//! resources are most of a large input, and text holds memory near the
//! input size instead of the ~15 times a tree costs.

use super::meta;
use super::workloads::{self, PodFacts};
use crate::yaml;
use anyhow::Result;
use serde_yaml_ng::Value;

/// One resource: a parsed tree, or a pass-through resource as text.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Tree(Value),
    Text(Passthrough),
}

/// A pass-through resource as text, with what output naming needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Passthrough {
    /// The resource as a YAML document body, exactly as the writer emits it.
    pub text: String,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// For a workload: whom its pods run as and what they pull.
    pub pod: Option<PodFacts>,
}

impl Item {
    /// Keeps `value` as a tree only when `needs_tree`; otherwise writes it out.
    pub fn new(value: Value, needs_tree: bool) -> Result<Item> {
        if needs_tree {
            return Ok(Item::Tree(value));
        }
        Ok(Item::Text(Passthrough {
            text: yaml::to_string(&value)?,
            kind: meta::kind(&value).map(str::to_string),
            name: meta::name(&value).map(str::to_string),
            namespace: meta::namespace(&value).map(str::to_string),
            pod: workloads::pod_facts(&value),
        }))
    }

    /// The tree, if this item is kept as one.
    pub fn as_value(&self) -> Option<&Value> {
        match self {
            Item::Tree(v) => Some(v),
            Item::Text(_) => None,
        }
    }

    /// The item as a YAML document body.
    pub fn to_yaml(&self) -> Result<String> {
        match self {
            Item::Tree(v) => yaml::to_string(v),
            Item::Text(p) => Ok(p.text.clone()),
        }
    }

    pub fn kind(&self) -> Option<&str> {
        match self {
            Item::Tree(v) => meta::kind(v),
            Item::Text(p) => p.kind.as_deref(),
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            Item::Tree(v) => meta::name(v),
            Item::Text(p) => p.name.as_deref(),
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        match self {
            Item::Tree(v) => meta::namespace(v),
            Item::Text(p) => p.namespace.as_deref(),
        }
    }

    /// The namespace the item lands in, as [`meta::effective_namespace`] says.
    pub fn effective_namespace<'a>(&'a self, default_ns: Option<&'a str>) -> Option<&'a str> {
        meta::effective_namespace(self.kind(), self.namespace(), default_ns)
    }
}
