//! Credential documents: the plaintext of one credential file together
//! with its format, and the one reader that picks a value out of it.
//!
//! The format is known before the content is looked at: decryption reports
//! the format of the file it decrypted (SOPS knows its store), and a
//! plaintext file's extension names it (`.env`, `.ini`, `.yaml`, `.json`;
//! an age file's inner extension, as in `creds.env.age`). Only a file with
//! no telling extension is recognised by content, trying YAML or JSON, then
//! INI, then dotenv. Guessing a known format again would misread it: the
//! dotenv line `PASS=abc: def` is also the YAML mapping `{"PASS=abc": "def"}`.

use super::keypath;
use crate::sops::stores::ini;
use crate::yaml::{self, scalar_string};
use anyhow::{Result, anyhow, bail};
use serde_yaml_ng::{Mapping, Value};
use std::cell::OnceCell;
use zeroize::{Zeroize, Zeroizing};

/// How a credential document is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML or JSON (JSON is YAML to the reader).
    Yaml,
    Dotenv,
    Ini,
    /// Not known from the name: recognised by content.
    Unknown,
}

impl Format {
    /// The format a file name says, looking through a trailing `.age`.
    pub fn from_name(path: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        let name = lower.strip_suffix(".age").unwrap_or(&lower);
        match name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("yaml" | "yml" | "json") => Format::Yaml,
            Some("env") => Format::Dotenv,
            Some("ini") => Format::Ini,
            _ => Format::Unknown,
        }
    }
}

/// The plaintext of one credential file.
pub struct Document {
    pub text: Zeroizing<String>,
    pub format: Format,
    /// The tree, parsed on the first key read: a spec usually reads several
    /// keys (a username and a password per registry) from one file, and
    /// parsing it again for each was most of a small render's work.
    parsed: OnceCell<Value>,
}

impl Document {
    pub fn new(text: Zeroizing<String>, format: Format) -> Self {
        Document {
            text,
            format,
            parsed: OnceCell::new(),
        }
    }

    /// The whole file as one value: its trailing newline dropped.
    pub fn whole(&self) -> Zeroizing<String> {
        Zeroizing::new(self.text.trim_end_matches(['\n', '\r']).to_string())
    }

    /// The document as a tree, read in its format once.
    pub fn tree(&self, file: &str) -> Result<&Value> {
        if let Some(tree) = self.parsed.get() {
            return Ok(tree);
        }
        let tree = self.parse(file)?;
        Ok(self.parsed.get_or_init(|| tree))
    }

    fn parse(&self, file: &str) -> Result<Value> {
        let text = self.text.as_str();
        let parsed = match self.format {
            Format::Yaml => yaml_mapping(text, file)?,
            Format::Dotenv => dotenv(text),
            Format::Ini => ini_tree(text),
            Format::Unknown => yaml_mapping(text, file)
                .ok()
                .flatten()
                .or_else(|| has_ini_section(text).then(|| ini_tree(text)).flatten())
                .or_else(|| dotenv(text)),
        };
        parsed.ok_or_else(|| match self.format {
            Format::Unknown => anyhow!(
                "{file}: not a YAML, JSON, INI or dotenv document (a key can only be read from one of those)"
            ),
            Format::Yaml => anyhow!("{file}: not a YAML or JSON mapping"),
            Format::Dotenv => anyhow!("{file}: not a dotenv file (KEY=value lines)"),
            Format::Ini => anyhow!("{file}: not an INI file"),
        })
    }

    /// The scalar at `key`, for the spec field `field`. Errors name the key
    /// path and the file, never the document's contents.
    pub fn extract(&self, key: &str, field: &str, file: &str) -> Result<Zeroizing<String>> {
        let path = keypath::parse(key, field)?;
        let doc = self.tree(file).map_err(|e| e.context(field.to_string()))?;
        match keypath::lookup(doc, &path) {
            None => {
                let near = keypath::keys_near(doc, &path, 20);
                let hint = if near.is_empty() {
                    String::new()
                } else {
                    format!(" (keys there: {})", near.join(", "))
                };
                bail!("{field}: key {key:?} not found in {file}{hint}")
            }
            Some(v) => match scalar_string(v) {
                Some(s) => Ok(Zeroizing::new(s)),
                None => bail!("{field}: key {key:?} in {file} is not a string, number or boolean"),
            },
        }
    }
}

/// The parsed tree holds the file's secrets as plain strings for as long as
/// the document is kept for reuse, so they are wiped with its text.
impl Drop for Document {
    fn drop(&mut self) {
        if let Some(tree) = self.parsed.get_mut() {
            wipe(tree);
        }
    }
}

/// Zeroes every string value in `v` (keys are names, and cannot be changed
/// in place).
fn wipe(v: &mut Value) {
    match v {
        Value::String(s) => s.zeroize(),
        Value::Sequence(items) => items.iter_mut().for_each(wipe),
        Value::Mapping(m) => m.values_mut().for_each(wipe),
        Value::Tagged(t) => wipe(&mut t.value),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// A YAML or JSON document that is one mapping. Parse errors carry
/// positions only.
fn yaml_mapping(text: &str, file: &str) -> Result<Option<Value>> {
    let mut docs = yaml::load_stream(text, file)?;
    Ok((docs.len() == 1 && docs[0].value.is_mapping()).then(|| docs.remove(0).value))
}

fn has_ini_section(text: &str) -> bool {
    text.lines()
        .any(|l| l.trim().starts_with('[') && l.trim().ends_with(']'))
}

/// `[section]` / `key = value`, looked up as `section.key`, with the INI
/// lexer that also reads what sops' INI store writes.
fn ini_tree(text: &str) -> Option<Value> {
    let mut root = Mapping::new();
    for (section, entry) in ini::entries(text).ok()? {
        let sec = root
            .entry(Value::String(section))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if let (Some((k, v)), Value::Mapping(m)) = (entry, sec) {
            m.insert(Value::String(k), Value::String(v));
        }
    }
    Some(Value::Mapping(root))
}

/// `KEY=value` lines, `#` comments, optional `export ` and quotes.
fn dotenv(text: &str) -> Option<Value> {
    let mut map = Mapping::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (k, v) = line.split_once('=')?;
        let v = v.trim();
        let v = [('"', '"'), ('\'', '\'')]
            .iter()
            .find_map(|(a, b)| v.strip_prefix(*a).and_then(|s| s.strip_suffix(*b)))
            .unwrap_or(v);
        map.insert(
            Value::String(k.trim().to_string()),
            Value::String(v.to_string()),
        );
    }
    (!map.is_empty()).then_some(Value::Mapping(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str, format: Format) -> Document {
        Document::new(Zeroizing::new(text.to_string()), format)
    }

    #[test]
    fn wipe_empties_every_string_value() {
        let d = doc(
            "a: {b: [s3cret, 1, {c: t0ken}]}\nd: !x tagged\n",
            Format::Yaml,
        );
        let mut tree = d.tree("f").unwrap().clone();
        wipe(&mut tree);
        let text = serde_yaml_ng::to_string(&tree).unwrap();
        assert!(
            !text.contains("s3cret") && !text.contains("t0ken") && !text.contains("tagged"),
            "{text}"
        );
        assert!(text.contains("b:") && text.contains('1'), "{text}");
    }

    fn get(text: &str, format: Format, key: &str) -> String {
        doc(text, format)
            .extract(key, "f", "x")
            .unwrap()
            .to_string()
    }

    #[test]
    fn formats_from_names() {
        assert_eq!(Format::from_name("c/pw.env"), Format::Dotenv);
        assert_eq!(Format::from_name("c/pw.env.age"), Format::Dotenv);
        assert_eq!(Format::from_name("a.INI"), Format::Ini);
        assert_eq!(Format::from_name("a.json"), Format::Yaml);
        assert_eq!(Format::from_name("creds/pw"), Format::Unknown);
        assert_eq!(Format::from_name("pw.age"), Format::Unknown);
    }

    #[test]
    fn extracts_from_every_format() {
        let yaml = "tokens:\n  ghcr: s3cret\n  list: [one, two]\n  'b.c': dotted\n  num: 0123\n";
        for format in [Format::Yaml, Format::Unknown] {
            assert_eq!(get(yaml, format, "tokens.ghcr"), "s3cret");
            assert_eq!(get(yaml, format, "tokens.list.1"), "two");
            assert_eq!(get(yaml, format, r#"["tokens"]["b.c"]"#), "dotted");
            assert_eq!(get(yaml, format, "tokens.num"), "0123");
        }
        assert_eq!(get(r#"{"a": {"b": "json"}}"#, Format::Yaml, "a.b"), "json");
        let ini = "[registry]\nuser = robot\n; comment\ntoken = \"t k\"\n";
        assert_eq!(get(ini, Format::Ini, "registry.token"), "t k");
        assert_eq!(get(ini, Format::Unknown, "registry.token"), "t k");
        let env = "# c\nexport USER=robot\nPASS=\"p=w d\"\n";
        assert_eq!(get(env, Format::Dotenv, "PASS"), "p=w d");
        assert_eq!(get(env, Format::Unknown, "USER"), "robot");
    }

    #[test]
    fn a_dotenv_line_that_is_also_yaml_is_read_as_dotenv() {
        assert_eq!(get("PASS=abc: def\n", Format::Dotenv, "PASS"), "abc: def");
    }

    #[test]
    fn missing_key_names_the_path_not_the_contents() {
        let e = doc("tokens: {ghcr: CANARY}\n", Format::Yaml)
            .extract("tokens.gitlab", "spec.x.password.key", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("tokens.gitlab")
                && e.contains("c.yaml")
                && e.contains("spec.x.password.key"),
            "{e}"
        );
        assert!(!e.contains("CANARY"), "{e}");
        assert!(e.contains("(keys there: ghcr)"), "{e}");
        let e = doc("tokens: {ghcr: [CANARY]}\n", Format::Yaml)
            .extract("tokens.ghcr", "f", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("CANARY"), "{e}");
        let e = format!(
            "{:#}",
            doc("CANARY=1\n", Format::Yaml)
                .extract("A", "f", "c.yaml")
                .unwrap_err()
        );
        assert!(!e.contains("CANARY"), "{e}");
    }
}
