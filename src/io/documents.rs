//! Manifest documents in and out: a YAML stream of Kubernetes resources
//! read from an input, and items written back as a stream.

use crate::k8s::meta::{CoreKind, is_core};
use crate::k8s::names;
use crate::k8s::resource::{self, Account, Item, Passthrough, Role, Text};
use crate::k8s::scan::Scanned;
use crate::yaml::{self, lite};
use anyhow::{Result, bail};
use serde_yaml_ng::Value;
use std::io::Write;
use std::ops::Range;
use std::sync::Arc;

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

/// Writes items as a YAML stream, documents separated by `---`.
pub fn write_stream(items: &[Item], w: &mut dyn Write) -> std::io::Result<()> {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            w.write_all(b"---\n")?;
        }
        item.write_body(w)?;
    }
    Ok(())
}

/// Items as a YAML stream written as it is produced. Trees are written
/// to text first, so that writing can fail only in the writer (nothing
/// reaches stdout for an item the writer refuses).
pub fn streamed(items: Vec<Item>, tail: Box<dyn Iterator<Item = Item>>) -> Result<super::Stream> {
    let items = frozen(items)?;
    Ok(super::Stream(Box::new(move |w| {
        write_stream(&items, w)?;
        let mut first = items.is_empty();
        for item in tail {
            if !first {
                w.write_all(b"---\n")?;
            }
            first = false;
            item.write_body(w)?;
        }
        Ok(())
    })))
}

/// `items` with every tree written to text.
pub fn frozen(items: Vec<Item>) -> Result<Vec<Item>> {
    items
        .into_iter()
        .map(|i| match i {
            Item::Tree(v) => Item::new(v, false),
            other => Ok(other),
        })
        .collect()
}

/// How to keep a resource the fast reader read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Keep {
    /// Not a resource of the output (a spec among the inputs).
    Drop,
    Tree,
    /// Text; a `v1` Namespace or ServiceAccount keeps what patching and
    /// targeting need.
    Text,
}

/// What the caller decides about the resources the fast reader reads.
pub struct Reading<'a> {
    /// Collect Namespaces' labels (a selector reads them).
    pub labels: bool,
    /// The Secret name of each spec, by index: which ones a
    /// ServiceAccount's `imagePullSecrets` already names.
    pub secrets: Arc<[Box<str>]>,
    pub keep: &'a dyn Fn(&Scanned) -> Keep,
}

/// The resources of a YAML stream, read by the fast reader
/// ([`yaml::lite`]): `None` when the stream is outside its subset or any
/// resource is not one [`resources`] accepts. The caller then reads it
/// with [`resources`], which gives the same items, or the error.
pub fn fast_resources(text: &Arc<String>, reading: &Reading) -> Option<Vec<Item>> {
    let ranges = lite::split_stream(text)?;
    let mut items = Vec::with_capacity(ranges.len());
    lite::documents(
        text,
        ranges,
        || Scanned::new(reading.labels),
        |range, written, scanned| {
            items.extend(reading.item(text, range, written, scanned, false)?);
            Some(())
        },
    )?;
    Some(items)
}

impl Reading<'_> {
    /// The item for one resource the fast reader read from `src[range]`
    /// and wrote as `written`; `Some(None)` when it is dropped.
    pub fn item(
        &self,
        src: &Arc<String>,
        range: Range<usize>,
        written: &str,
        mut s: Scanned,
        entry: bool,
    ) -> Option<Option<Item>> {
        if s.has_sops || !(s.has_api_version && s.has_kind) {
            return None;
        }
        let (kind, api) = (s.kind.as_deref(), s.api_version.as_deref());
        names::check_identity(kind, api, s.name.as_deref(), s.namespace.as_deref()).ok()?;
        let keep = (self.keep)(&s);
        if keep == Keep::Drop {
            return Some(None);
        }
        if keep == Keep::Tree {
            let docs = yaml::load_stream(&src[range], "input").ok()?;
            let [doc] = <[_; 1]>::try_from(docs).ok()?;
            let value = match (entry, doc.value) {
                (false, v) => v,
                (true, Value::Sequence(seq)) => <[_; 1]>::try_from(seq).ok()?.into_iter().next()?,
                _ => return None,
            };
            return Some(Some(Item::Tree(value)));
        }
        let role = if is_core(kind, api, CoreKind::Namespace) {
            Role::Namespace {
                labels: self.labels.then(|| Box::new(s.labels.clone())),
                skip: s.skip,
            }
        } else if is_core(kind, api, CoreKind::ServiceAccount) {
            Role::ServiceAccount(Account {
                skip: s.skip,
                list: s.pull_list,
                has: self.named(&s.pulls),
                added: 0,
                appended: None,
            })
        } else {
            Role::Plain
        };
        let pod = s.pod_facts();
        let fields = [
            (s.kind_at, s.kind),
            (s.name_at, s.name),
            (s.namespace_at, s.namespace),
        ];
        let input = &src[range.clone()];
        // A ResourceList from kustomize differs from what the writer writes
        // only in a few quotes (`'0'` for `"0"`): such a resource keeps the
        // input's range and those bytes, not a copy of its text.
        let patches = match written == input {
            true => Some(Vec::new()),
            false if matches!(role, Role::Plain) => resource::patches(input, written, &fields),
            false => None,
        };
        let text = match patches {
            Some(_) => Text::input(src, range, entry)?,
            None => Text::owned(written.to_string(), entry)?,
        };
        let mut item = Passthrough::new(text, fields, pod, role);
        item.patch(patches.unwrap_or_default());
        Some(Some(Item::Text(item)))
    }

    /// Bit `j` set when `pulls` names spec `j`'s Secret.
    fn named(&self, pulls: &[String]) -> u32 {
        let mut bits = 0;
        for (j, secret) in self.secrets.iter().take(32).enumerate() {
            if pulls.iter().any(|p| p == &**secret) {
                bits |= 1 << j;
            }
        }
        bits
    }
}
