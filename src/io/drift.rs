//! Drift: `regcred render --check DIR`, is the committed rendered output current?
//!
//! For teams that commit rendered manifests (Flux users, whose
//! kustomize-controller cannot run plugins), CI re-renders and compares,
//! the way `cargo fmt --check` does. The diff never shows credentials:
//! Secret `data`/`stringData` values are replaced by a short digest keyed
//! with a random per-run salt on both sides, so a rotated password still
//! shows up as a changed line, yet the digest cannot be used to guess a
//! weak password offline.

use super::output_dir::{MARKER, Planned};
use super::{files, walk};
use crate::k8s::meta;
use crate::yaml;
use anyhow::Result;
use serde_yaml_ng::Value;
use sha2::{Digest, Sha256};
use similar::TextDiff;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Compares the planned files with the `*.yaml` files under `dir`; returns
/// a unified diff, empty when everything is current.
///
/// Files regcred did not write (no [`MARKER`] line), such as a
/// `kustomization.yaml` kept next to the output, are not its business: they
/// are ignored unless regcred would write a file of the same name.
///
/// `open` turns an existing file into what `-o` would have written in
/// plaintext, when it is encrypted (`None` leaves it as it is).
pub fn diff_dir(
    dir: &Path,
    planned: &[Planned],
    open: &dyn Fn(&Path, &str) -> Result<Option<String>>,
) -> Result<String> {
    let planned: BTreeMap<&PathBuf, &String> = planned.iter().map(|(p, t)| (p, t)).collect();
    let mut existing: BTreeMap<PathBuf, String> = BTreeMap::new();
    if dir.is_dir() {
        for path in walk::files(dir, walk::YAML)? {
            let text = files::read_text(&path)?;
            if text.starts_with(MARKER) || planned.contains_key(&path) {
                let text = open(&path, &text)?.unwrap_or(text);
                existing.insert(path, text);
            }
        }
    }
    let mut out = String::new();
    let mut paths: Vec<&PathBuf> = existing.keys().chain(planned.keys().copied()).collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        // An empty file still differs from a missing one.
        let shown_text = |t: &String| {
            if t.is_empty() {
                "<empty file>\n".to_string()
            } else {
                redact(t)
            }
        };
        let old = existing.get(path).map(shown_text).unwrap_or_default();
        let new = planned.get(path).map(|t| shown_text(t)).unwrap_or_default();
        if old == new {
            continue;
        }
        let shown = path.display().to_string();
        let (a, b) = match (existing.contains_key(path), planned.contains_key(path)) {
            (false, _) => ("/dev/null".to_string(), format!("{shown} (missing)")),
            (_, false) => (format!("{shown} (stale)"), "/dev/null".to_string()),
            _ => (shown.clone(), shown),
        };
        out.push_str(
            &TextDiff::from_lines(&old, &new)
                .unified_diff()
                .context_radius(3)
                .header(&a, &b)
                .to_string(),
        );
    }
    Ok(out)
}

/// A random salt, the same for every file of one run.
fn salt() -> &'static [u8; 32] {
    static SALT: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    SALT.get_or_init(|| {
        let mut s = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut s);
        s
    })
}

/// Replaces every Secret `data`/`stringData` value by `<redacted ...>`.
/// A file that does not parse (say, a merge conflict in a committed Secret)
/// is hidden entirely: it might hold credentials.
pub fn redact(text: &str) -> String {
    let Ok(docs) = yaml::load_stream(text, "check") else {
        return format!(
            "<file does not parse as YAML: {} lines hidden>\n",
            text.lines().count()
        );
    };
    let mut values: Vec<Value> = docs.into_iter().map(|d| d.value).collect();
    let mut touched = false;
    for v in values.iter_mut() {
        // By kind alone, whatever the apiVersion: hiding too much is safe.
        if meta::kind(v) != Some("Secret") {
            continue;
        }
        for field in ["data", "stringData"] {
            if let Some(Value::Mapping(m)) = v.get_mut(field) {
                for (_, val) in m.iter_mut() {
                    let mut h = Sha256::new();
                    h.update(salt());
                    h.update(yaml::as_str(val).unwrap_or_default().as_bytes());
                    let digest = h.finalize();
                    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
                    *val = Value::String(format!("<redacted {hex}>"));
                    touched = true;
                }
            }
        }
    }
    if !touched {
        return text.to_string();
    }
    yaml::stream_to_string(&values).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_but_changes_still_show() {
        let a = redact("kind: Secret\ndata:\n  .dockerconfigjson: c2VjcmV0MQ==\n");
        let b = redact("kind: Secret\ndata:\n  .dockerconfigjson: c2VjcmV0Mg==\n");
        assert!(!a.contains("c2VjcmV0MQ") && a.contains("<redacted "));
        assert_ne!(a, b);
        let cm = "kind: ConfigMap\ndata:\n  a: b\n";
        assert_eq!(redact(cm), cm);
        let conflict = "<<<<<<< HEAD\nkind: Secret\ndata:\n  k: c2VjcmV0\n";
        assert!(!redact(conflict).contains("c2VjcmV0"));
    }
}
