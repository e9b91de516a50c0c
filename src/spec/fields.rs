//! The strict field reader every spec type is parsed with: unknown keys
//! are errors, and every error names the field path.

use crate::yaml::{self, scalar_string};
use anyhow::{Result, bail};
use serde_yaml_ng::{Mapping, Value};

/// A mapping being read, with its field path, that rejects unknown keys.
pub(super) struct Fields<'a> {
    map: &'a Mapping,
    path: String,
}

impl<'a> Fields<'a> {
    pub(super) fn new(value: &'a Value, path: &str, allowed: &[&str]) -> Result<Self> {
        let Some(map) = value.as_mapping() else {
            bail!("{path}: must be a mapping");
        };
        for key in map.keys() {
            match yaml::as_str(key) {
                Some(k) if allowed.contains(&k) => {}
                Some(k) => bail!(
                    "{}: unknown field `{k}` (expected one of: {})",
                    if path.is_empty() { "<root>" } else { path },
                    allowed.join(", ")
                ),
                None => bail!("{path}: keys must be strings"),
            }
        }
        Ok(Fields {
            map,
            path: path.to_string(),
        })
    }

    pub(super) fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(super) fn string(&self, key: &str) -> Result<Option<String>> {
        self.get(key)
            .map(|v| {
                scalar_string(v)
                    .ok_or_else(|| anyhow::anyhow!("{}: must be a string", self.path(key)))
            })
            .transpose()
    }

    pub(super) fn bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => bail!("{}: must be true or false", self.path(key)),
        }
    }

    pub(super) fn string_list(&self, key: &str) -> Result<Option<Vec<String>>> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let Some(seq) = v.as_sequence() else {
            bail!("{}: must be a list of strings", self.path(key));
        };
        seq.iter()
            .enumerate()
            .map(|(i, item)| {
                scalar_string(item)
                    .ok_or_else(|| anyhow::anyhow!("{}[{i}]: must be a string", self.path(key)))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    pub(super) fn string_map(&self, key: &str) -> Result<Vec<(String, String)>> {
        let Some(v) = self.get(key) else {
            return Ok(Vec::new());
        };
        string_map(v, &self.path(key))
    }
}

/// A mapping of string to string, in the order written.
pub(super) fn string_map(v: &Value, path: &str) -> Result<Vec<(String, String)>> {
    let Some(map) = v.as_mapping() else {
        bail!("{path}: must be a mapping of strings");
    };
    map.iter()
        .map(|(k, v)| {
            let k =
                yaml::as_str(k).ok_or_else(|| anyhow::anyhow!("{path}: keys must be strings"))?;
            let v =
                scalar_string(v).ok_or_else(|| anyhow::anyhow!("{path}.{k}: must be a string"))?;
            Ok((k.to_string(), v))
        })
        .collect()
}
