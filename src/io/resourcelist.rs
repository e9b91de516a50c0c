//! KRM function I/O: the `ResourceList` read/process/write loop, shaped
//! like kyaml's `framework.Execute`.
//!
//! See the KRM Functions Specification. Two facts shape this module, and
//! [`execute`] is the only place that applies them: runners parse stdout
//! before they look at the exit code, so even a failure writes a valid
//! ResourceList; and an empty `items` from a transformer deletes every
//! resource, so on failure the input items are echoed back unchanged next
//! to the error results. A block-style input (what kustomize and kpt send)
//! is echoed as the very text it arrived in, not re-serialised; items that
//! do not parse are not echoed (the runner would fail on them instead of
//! showing the error).

use crate::k8s::finding::Finding;
use crate::k8s::meta;
use crate::k8s::resource::Item;
use crate::k8s::scan::Scanned;
use crate::yaml::{self, lite};
use anyhow::{Context, Result, bail};
use serde_yaml_ng::{Mapping, Value};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Outcome;
use super::documents::Reading;

/// The ResourceList apiVersion written when the input names none.
const DEFAULT_API_VERSION: &str = "config.kubernetes.io/v1";

const ORIGIN: &str = "stdin (ResourceList)";

/// A ResourceList read from stdin. Its items are not parsed up front:
/// [`ResourceList::for_each_item`] hands them over one at a time, so a
/// caller can turn the ones it will not touch into text before the next
/// is parsed.
pub struct ResourceList<'a> {
    api_version: String,
    /// `functionConfig`, when present and not null.
    pub function_config: Option<Value>,
    items: Items<'a>,
    /// Every item has been parsed once without error, so its text can be
    /// echoed as it is: how many there are.
    items_valid: Cell<Option<usize>>,
}

enum Items<'a> {
    /// Parsed with the whole document (JSON or flow-style input).
    Parsed(Vec<Value>),
    /// A block-style document: `items` parsed element by element.
    Streamed(yaml::TopLevel<'a>),
}

/// What processing one ResourceList produced.
#[derive(Default)]
pub struct Processed {
    /// The output items.
    pub items: Vec<Item>,
    /// Output items after `items`, made as they are written.
    pub tail: Option<Box<dyn Iterator<Item = Item>>>,
    /// The `results` entries.
    pub results: Vec<Finding>,
    /// A validator failed: echo the input items instead of `items`, exit 1.
    pub failed: bool,
    /// Lines for stderr (warnings, validation errors).
    pub stderr: Vec<String>,
}

/// Reads the ResourceList in `input`, runs `process` on it and writes the
/// output ResourceList. On any error, and when `process` reports a failed
/// validation, the input items go back unchanged next to the results.
pub fn execute(input: &str, process: impl FnOnce(&ResourceList) -> Result<Processed>) -> Outcome {
    let rl = match read(input) {
        Ok(rl) => rl,
        Err(e) => {
            let out = write_items(
                DEFAULT_API_VERSION,
                &[],
                &[Finding::error(format!("{e:#}"))],
            );
            return Outcome::failed(e, out.unwrap_or_default());
        }
    };
    match process(&rl) {
        Ok(p) if !p.failed => match stream_items(&rl.api_version, p.items, p.tail, &p.results) {
            Ok((head, stream)) => Outcome {
                stdout: head.into(),
                stream: Some(stream),
                stderr: p.stderr,
                ..Outcome::default()
            },
            Err(e) => rl.failure(e),
        },
        Ok(p) => match rl.echo(&p.results) {
            Ok(stdout) => Outcome {
                stdout: stdout.into(),
                stderr: p.stderr,
                code: 1,
                ..Outcome::default()
            },
            Err(e) => rl.failure(e),
        },
        Err(e) => rl.failure(e),
    }
}

/// The output for input that is not a ResourceList at all (not UTF-8, not
/// YAML): no items to echo, the error as the one result.
pub fn unreadable(e: anyhow::Error) -> Outcome {
    let out = write_items(
        DEFAULT_API_VERSION,
        &[],
        &[Finding::error(format!("{e:#}"))],
    );
    Outcome::failed(e, out.unwrap_or_default())
}

/// Reads a ResourceList (or a `List`) from stdin text. Like kyaml, the
/// apiVersion is not checked, only remembered to be echoed back.
fn read(text: &str) -> Result<ResourceList<'_>> {
    // Streaming `items` is only an optimisation: anything it could get wrong
    // (a duplicate key, an alias in `items` to an anchor in the header) is
    // left to the full parse.
    let (header, items) = match yaml::TopLevel::split(text) {
        Some(top) if top.keys_unique() => {
            let header = top.without_joined("items");
            if header.as_deref().unwrap_or(text).contains('&') {
                (None, None)
            } else {
                (header, Some(top))
            }
        }
        _ => (None, None),
    };
    let mut docs = match (&items, header) {
        (None, _) => yaml::load_stream(text, ORIGIN)?,
        // The header without the items' lines: a ResourceList's items are
        // most of its lines, and the parser reads blank lines one by one.
        // On an error, the header with the items' lines blanked gives the
        // message, with the line numbers of the input.
        (Some(top), Some(joined)) => match yaml::load_stream(&joined, ORIGIN) {
            Ok(docs) => docs,
            Err(_) => yaml::load_stream(&top.without("items"), ORIGIN)?,
        },
        (Some(top), None) => yaml::load_stream(&top.without("items"), ORIGIN)?,
    };
    if docs.len() != 1 {
        bail!(
            "stdin: expected one ResourceList document, found {}",
            docs.len()
        );
    }
    let mut doc = docs.remove(0).value;
    let kind = meta::kind(&doc).unwrap_or_default();
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
        items_valid: Cell::new(None),
    })
}

impl ResourceList<'_> {
    /// Calls `f` with every item, in order. Items of a block-style input
    /// are parsed here, one at a time.
    pub fn for_each_item(&self, mut f: impl FnMut(Value) -> Result<()>) -> Result<()> {
        match &self.items {
            Items::Parsed(items) => items.iter().cloned().try_for_each(f),
            Items::Streamed(top) => {
                let mut parsed_all = true;
                let mut n = 0;
                top.for_each_element("items", ORIGIN, |v| {
                    n += 1;
                    f(v).inspect_err(|_| parsed_all = false)
                })?;
                self.items_valid.set(parsed_all.then_some(n));
                Ok(())
            }
        }
    }

    /// The items, read by the fast reader ([`lite`]) straight from `src`
    /// (the text this list was read from): `None` when they are outside
    /// its subset or any is not a resource to take as it is; the caller
    /// then reads them with [`Self::for_each_item`].
    pub fn fast_items(&self, src: &Arc<String>, reading: &Reading) -> Option<Vec<Item>> {
        let Items::Streamed(top) = &self.items else {
            return None;
        };
        let range = top.entry_range("items")?;
        let head = "items:\n";
        if !src[range.clone()].starts_with(head) {
            return None;
        }
        let mut items = Vec::new();
        lite::elements(
            src,
            range.start + head.len()..range.end,
            || Scanned::new(reading.labels),
            |element, written, scanned| {
                items.extend(reading.item(src, element, written, scanned, true)?);
                Some(())
            },
        )?;
        self.items_valid.set(Some(items.len()));
        Some(items)
    }

    /// Whether the items' text parses into at least one item (an empty or
    /// null `items` is written `items: []`): known when
    /// processing read them all, else found out now (an error before the
    /// items were read).
    fn items_parse(&self, top: &yaml::TopLevel) -> bool {
        if let Some(n) = self.items_valid.get() {
            return n > 0;
        }
        let mut n = 0;
        top.for_each_element("items", ORIGIN, |_| {
            n += 1;
            Ok(())
        })
        .is_ok()
            && n > 0
    }

    /// The output for an error: the input items unchanged with the error
    /// as the result or, when even they cannot be written (a tree the
    /// writer refuses), no items. Never an empty stdout.
    fn failure(&self, e: anyhow::Error) -> Outcome {
        let results = [Finding::error(format!("{e:#}"))];
        let out = self
            .echo(&results)
            .or_else(|_| write_items(&self.api_version, &[], &results));
        Outcome::failed(e, out.unwrap_or_default())
    }

    /// The output ResourceList for a failure: the input items unchanged.
    fn echo(&self, results: &[Finding]) -> Result<String> {
        match &self.items {
            Items::Parsed(items) => {
                let items: Vec<Item> = items.iter().cloned().map(Item::Tree).collect();
                write_items(&self.api_version, &items, results)
            }
            Items::Streamed(top) => {
                let mut out = header(&self.api_version)?;
                match top.entry_text("items").filter(|_| self.items_parse(top)) {
                    Some(text) => {
                        out.push_str(text);
                        if !text.ends_with('\n') {
                            out.push('\n');
                        }
                    }
                    None => out.push_str("items: []\n"),
                }
                push_results(&mut out, results)?;
                Ok(out)
            }
        }
    }
}

/// Where relative credential paths start in KRM mode: the package
/// `kpt fn render` names in `internal.config.kubernetes.io/package-path`,
/// when that lies inside the working directory (an annotation written into
/// a spec must not widen what the function may read), else the working
/// directory itself.
pub fn package_root(function_config: &Value, cwd: &Path) -> PathBuf {
    let annotated = meta::annotation(
        function_config,
        "internal.config.kubernetes.io/package-path",
    )
    .map(|p| cwd.join(p));
    match (
        annotated.and_then(|p| p.canonicalize().ok()),
        cwd.canonicalize().ok(),
    ) {
        (Some(pkg), Some(cwd)) if pkg.starts_with(&cwd) => pkg,
        _ => cwd.to_path_buf(),
    }
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// One `results` entry: message, severity, and where it points (the
/// resource, the field in it, the file it came from).
fn result_value(f: &Finding) -> Value {
    let mut m = Mapping::new();
    m.insert(s("message"), s(&f.full_message()));
    m.insert(s("severity"), s(f.severity.as_str()));
    if let Some(r) = &f.resource {
        let mut rm = Mapping::new();
        rm.insert(s("apiVersion"), s(&r.api_version));
        rm.insert(s("kind"), s(&r.kind));
        rm.insert(s("name"), s(&r.name));
        if let Some(ns) = &r.namespace {
            rm.insert(s("namespace"), s(ns));
        }
        m.insert(s("resourceRef"), Value::Mapping(rm));
    }
    for (key, value) in [("field", &f.field), ("file", &f.file)] {
        if let Some(path) = value {
            let mut fm = Mapping::new();
            fm.insert(s("path"), s(path));
            m.insert(s(key), Value::Mapping(fm));
        }
    }
    Value::Mapping(m)
}

fn header(api_version: &str) -> Result<String> {
    let mut head = Mapping::new();
    head.insert(s("apiVersion"), s(api_version));
    head.insert(s("kind"), s("ResourceList"));
    yaml::to_string(&Value::Mapping(head))
}

fn push_results(out: &mut String, results: &[Finding]) -> Result<()> {
    if !results.is_empty() {
        let mut tail = Mapping::new();
        tail.insert(
            s("results"),
            Value::Sequence(results.iter().map(result_value).collect()),
        );
        out.push_str(&yaml::to_string(&Value::Mapping(tail))?);
    }
    Ok(())
}

/// Writes the output ResourceList whole (the error and echo paths).
fn write_items(api_version: &str, items: &[Item], results: &[Finding]) -> Result<String> {
    let mut out = header(api_version)?.into_bytes();
    write_list(&mut out, items, std::iter::empty())?;
    let mut out = String::from_utf8(out).context("items are UTF-8")?;
    push_results(&mut out, results)?;
    Ok(out)
}

/// The `items` entry: `items: []`, or every item as a sequence entry
/// ([`Item::write_entry`]), `items` first and then `more`.
fn write_list(
    w: &mut dyn std::io::Write,
    items: &[Item],
    more: impl Iterator<Item = Item>,
) -> std::io::Result<()> {
    let mut more = more.peekable();
    if items.is_empty() && more.peek().is_none() {
        return w.write_all(b"items: []\n");
    }
    w.write_all(b"items:\n")?;
    for item in items {
        item.write_entry(w)?;
    }
    for item in more {
        item.write_entry(w)?;
    }
    Ok(())
}

/// The output ResourceList as its header and a stream of the items and
/// results: written as produced, so a large list is never held whole.
/// Everything that can fail (a tree the writer refuses) fails here.
fn stream_items(
    api_version: &str,
    items: Vec<Item>,
    more: Option<Box<dyn Iterator<Item = Item>>>,
    results: &[Finding],
) -> Result<(String, super::Stream)> {
    let head = header(api_version)?;
    let mut tail = String::new();
    push_results(&mut tail, results)?;
    let items = super::documents::frozen(items)?;
    let write = move |w: &mut dyn std::io::Write| {
        write_list(w, &items, more.into_iter().flatten())?;
        w.write_all(tail.as_bytes())
    };
    Ok((head, super::Stream(Box::new(write))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::anyhow;

    fn items_of(stdout: &str) -> Vec<Value> {
        let docs = yaml::load_stream(stdout, "stdout").unwrap();
        assert_eq!(docs.len(), 1, "{stdout}");
        assert_eq!(docs[0].value["kind"], Value::from("ResourceList"));
        docs[0].value["items"]
            .as_sequence()
            .unwrap_or_else(|| panic!("items is not a list:\n{stdout}"))
            .clone()
    }

    // Found by fuzzing (krm_reader): an item the writer refuses (a complex
    // mapping key) left stdout empty, which a runner reads before the exit
    // code; now the input items come back with the error.
    #[test]
    fn unwritable_items_still_give_a_resource_list_on_stdout() {
        let block = "kind: ResourceList\nitems:\n- kind: Pod\n  ? [a]\n  : b\n";
        let flow = "{kind: ResourceList, items: [{kind: Pod, [a]: b}]}";
        for input in [block, flow] {
            let out = execute(input, |rl| {
                let mut items = Vec::new();
                rl.for_each_item(|v| {
                    items.push(Item::Tree(v));
                    Ok(())
                })?;
                Ok(Processed {
                    items,
                    ..Processed::default()
                })
            })
            .collected();
            assert_eq!(out.code, 1);
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert!(stdout.contains("complex mapping keys"), "{stdout}");
            let items = items_of(&stdout);
            // The block text is echoed as it came; a parsed tree that cannot
            // be written is left out.
            assert_eq!(items.len(), usize::from(input == block), "{stdout}");
        }
    }

    // Found by fuzzing (krm_reader): an `items:` with no value was echoed
    // as it was, which is `items: null`, not the list the KRM spec requires.
    #[test]
    fn null_items_are_echoed_as_an_empty_list() {
        for input in [
            "kind: ResourceList\nitems:\nfunctionConfig: {}\n",
            "kind: ResourceList\nitems: ~\n",
            "kind: ResourceList\nitems: []\n",
        ] {
            let out = execute(input, |_| Err(anyhow!("boom"))).collected();
            assert_eq!(out.code, 1);
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert!(items_of(&stdout).is_empty(), "{stdout}");
        }
    }
}
