//! Picking one value out of a credentials document: `a.b.c` or the sops
//! `--extract` form `["a"]["b.c"][0]`, over YAML, JSON or dotenv.
//!
//! Errors name the key path and the file, never the document's contents.

use crate::spec::scalar_string;
use crate::yaml;
use anyhow::{Result, bail};
use serde_yaml_ng::{Mapping, Value};
use zeroize::Zeroizing;

#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Parses a key path. Dotted segments that are all digits also index lists.
pub fn parse(key: &str, field: &str) -> Result<Vec<Segment>> {
    if key.starts_with('[') {
        return parse_brackets(key, field);
    }
    if key.split('.').any(str::is_empty) {
        bail!("{field}: key path {key:?} has an empty segment");
    }
    Ok(key
        .split('.')
        .map(|s| Segment::Key(s.to_string()))
        .collect())
}

fn parse_brackets(key: &str, field: &str) -> Result<Vec<Segment>> {
    let bad = || anyhow::anyhow!("{field}: key path {key:?} is not of the form [\"a\"][\"b\"][0]");
    let mut rest = key;
    let mut segs = Vec::new();
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[').ok_or_else(bad)?;
        let end = inner.find(']').ok_or_else(bad)?;
        let (token, after) = (&inner[..end], &inner[end + 1..]);
        let seg = if let Some(quoted) = token.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Segment::Key(quoted.to_string())
        } else if let Some(quoted) = token.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
            Segment::Key(quoted.to_string())
        } else {
            Segment::Index(token.parse().map_err(|_| bad())?)
        };
        segs.push(seg);
        rest = after;
    }
    Ok(segs)
}

/// Walks `doc` along `path`; a digit-only key also indexes a sequence.
pub fn lookup<'a>(doc: &'a Value, path: &[Segment]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |node, seg| match (seg, node) {
        (Segment::Key(k), Value::Mapping(m)) => mapping_get(m, k),
        (Segment::Key(k), Value::Sequence(s)) => k.parse::<usize>().ok().and_then(|i| s.get(i)),
        (Segment::Index(i), Value::Sequence(s)) => s.get(*i),
        (Segment::Index(i), Value::Mapping(m)) => mapping_get(m, &i.to_string()),
        _ => None,
    })
}

fn mapping_get<'a>(m: &'a Mapping, key: &str) -> Option<&'a Value> {
    m.iter()
        .find(|(k, _)| scalar_string(k).as_deref() == Some(key))
        .map(|(_, v)| v)
}

/// Parses a credentials document: YAML or JSON mapping, else dotenv.
pub fn parse_document(content: &str, file: &str) -> Result<Value> {
    if let Ok(mut docs) = yaml::load_stream(content, file) {
        if docs.len() == 1 && docs[0].value.is_mapping() {
            return Ok(docs.remove(0).value);
        }
    }
    if let Some(ini) = parse_ini(content) {
        return Ok(ini);
    }
    parse_dotenv(content).ok_or_else(|| {
        anyhow::anyhow!("{file}: not a YAML, JSON, INI or dotenv document (a key can only be read from one of those)")
    })
}

/// `[section]` / `key = value`: looked up as `section.key`.
fn parse_ini(content: &str) -> Option<Value> {
    if !content
        .lines()
        .any(|l| l.trim().starts_with('[') && l.trim().ends_with(']'))
    {
        return None;
    }
    let mut root = Mapping::new();
    for (section, entry) in crate::sops::formats::ini_entries(content).ok()? {
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
fn parse_dotenv(content: &str) -> Option<Value> {
    let mut map = Mapping::new();
    for line in content.lines() {
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

/// Extracts the scalar at `key` from `content`, for the spec field `field`.
pub fn extract(content: &str, key: &str, field: &str, file: &str) -> Result<Zeroizing<String>> {
    let path = parse(key, field)?;
    let doc = parse_document(content, file).map_err(|e| e.context(field.to_string()))?;
    match lookup(&doc, &path) {
        None => bail!("{field}: key {key:?} not found in {file}"),
        Some(v) => match scalar_string(v) {
            Some(s) => Ok(Zeroizing::new(s)),
            None => bail!("{field}: key {key:?} in {file} is not a string, number or boolean"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_and_bracket_paths() {
        assert_eq!(
            parse("a.b", "f").unwrap(),
            [Segment::Key("a".into()), Segment::Key("b".into())]
        );
        assert_eq!(
            parse(r#"["a"]["b.c"][0]"#, "f").unwrap(),
            [
                Segment::Key("a".into()),
                Segment::Key("b.c".into()),
                Segment::Index(0)
            ]
        );
        assert!(parse("a..b", "f").is_err());
        assert!(parse(r#"["a"]x"#, "f").is_err());
    }

    #[test]
    fn extracts_from_yaml_json_and_dotenv() {
        let yaml = "tokens:\n  ghcr: s3cret\n  list: [one, two]\n  'b.c': dotted\n  num: 0123\n";
        assert_eq!(*extract(yaml, "tokens.ghcr", "f", "x").unwrap(), "s3cret");
        assert_eq!(*extract(yaml, "tokens.list.1", "f", "x").unwrap(), "two");
        assert_eq!(
            *extract(yaml, r#"["tokens"]["b.c"]"#, "f", "x").unwrap(),
            "dotted"
        );
        assert_eq!(*extract(yaml, "tokens.num", "f", "x").unwrap(), "0123");
        assert_eq!(
            *extract(r#"{"a": {"b": "json"}}"#, "a.b", "f", "x").unwrap(),
            "json"
        );
        let ini = "[registry]\nuser = robot\n; comment\ntoken = \"t k\"\n";
        assert_eq!(*extract(ini, "registry.token", "f", "x").unwrap(), "t k");
        let env = "# c\nexport USER=robot\nPASS=\"p=w d\"\n";
        assert_eq!(*extract(env, "PASS", "f", "x").unwrap(), "p=w d");
        assert_eq!(*extract(env, "USER", "f", "x").unwrap(), "robot");
    }

    #[test]
    fn missing_key_names_the_path_not_the_contents() {
        let e = extract(
            "tokens: {ghcr: CANARY}\n",
            "tokens.gitlab",
            "spec.x.password.key",
            "c.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("tokens.gitlab")
                && e.contains("c.yaml")
                && e.contains("spec.x.password.key"),
            "{e}"
        );
        assert!(!e.contains("CANARY"), "{e}");
        let e = extract("tokens: {ghcr: [CANARY]}\n", "tokens.ghcr", "f", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("CANARY"), "{e}");
    }
}
