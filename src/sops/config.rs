//! `.sops.yaml` creation rules, as `sops --encrypt` applies them: the
//! nearest `.sops.yaml` above the file, first rule whose `path_regex`
//! matches the file's path relative to that config's directory.

use crate::io::files;
use crate::yaml;
use anyhow::{Context, Result, anyhow, bail};
use regex::Regex;
use serde_yaml_ng::Value;
use std::path::{Path, PathBuf};

use super::EncryptOptions;

const RULE_KEYS: &[&str] = &[
    "encrypted_regex",
    "unencrypted_regex",
    "encrypted_suffix",
    "unencrypted_suffix",
];

/// Finds the nearest `.sops.yaml` walking up from `file`'s directory.
fn find_config(file: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(file).ok()?;
    abs.ancestors()
        .skip(1)
        .map(|d| d.join(".sops.yaml"))
        .find(|p| p.is_file())
}

/// The encryption options the matching creation rule gives for `file`,
/// or `None` when there is no `.sops.yaml`.
pub fn options_for(file: &Path) -> Result<Option<(PathBuf, EncryptOptions)>> {
    let Some(config) = find_config(file) else {
        return Ok(None);
    };
    let text = files::read_text(&config)?;
    let origin = config.display().to_string();
    let doc = yaml::load_stream(&text, &origin)?
        .into_iter()
        .next()
        .map(|d| d.value)
        .unwrap_or(Value::Null);
    let rules = doc
        .get("creation_rules")
        .and_then(Value::as_sequence)
        .ok_or_else(|| anyhow!("{origin}: no creation_rules"))?;
    let dir = config.parent().unwrap_or(Path::new("/"));
    let abs = std::path::absolute(file)?;
    let rel = abs
        .strip_prefix(dir)
        .unwrap_or(&abs)
        .to_string_lossy()
        .replace('\\', "/");
    for (i, rule) in rules.iter().enumerate() {
        let field = format!("{origin}: creation_rules[{i}]");
        if let Some(re) = rule.get("path_regex").and_then(yaml::as_str) {
            let re = Regex::new(re)
                .with_context(|| format!("{field}.path_regex: invalid regular expression"))?;
            if !re.is_match(&rel) {
                continue;
            }
        }
        return parse_rule(rule, &field).map(|o| Some((config.clone(), o)));
    }
    bail!("{origin}: no creation rule matches {rel}")
}

fn parse_rule(rule: &Value, field: &str) -> Result<EncryptOptions> {
    if rule.get("key_groups").is_some() {
        bail!(
            "{field}: key_groups are not supported by regcred encrypt (use sops for Shamir key groups)"
        );
    }
    let recipients: Vec<String> = match rule.get("age") {
        Some(v) => match v.as_sequence() {
            Some(seq) => seq
                .iter()
                .filter_map(yaml::as_str)
                .map(str::to_string)
                .collect(),
            None => yaml::as_str(v)
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        },
        None => Vec::new(),
    };
    if recipients.is_empty() {
        bail!("{field}: no age recipients (regcred encrypts to age only)");
    }
    let set: Vec<(String, String)> = RULE_KEYS
        .iter()
        .filter_map(|k| {
            rule.get(*k)
                .and_then(yaml::as_str)
                .map(|v| (k.to_string(), v.to_string()))
        })
        .collect();
    if set.len() > 1 {
        bail!(
            "{field}: sets both {} and {}: only one encryption rule is allowed",
            set[0].0,
            set[1].0
        );
    }
    Ok(EncryptOptions {
        recipients,
        rule: set.into_iter().next(),
        mac_only_encrypted: rule
            .get("mac_only_encrypted")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}
