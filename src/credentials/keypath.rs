//! Key paths into a credentials document: `a.b.c` or the sops `--extract`
//! form `["a"]["b.c"][0]`.

use crate::yaml::scalar_string;
use anyhow::{Result, bail};
use serde_yaml_ng::{Mapping, Value};

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

/// The key names of the deepest mapping `path` reaches, for "not found"
/// messages: names only, never values, at most `limit` of them.
pub fn keys_near(doc: &Value, path: &[Segment], limit: usize) -> Vec<String> {
    let mut node = doc;
    for seg in path {
        match lookup(node, std::slice::from_ref(seg)) {
            Some(next) => node = next,
            None => break,
        }
    }
    node.as_mapping()
        .map(|m| m.keys().filter_map(scalar_string).take(limit).collect())
        .unwrap_or_default()
}

fn mapping_get<'a>(m: &'a Mapping, key: &str) -> Option<&'a Value> {
    m.iter()
        .find(|(k, _)| scalar_string(k).as_deref() == Some(key))
        .map(|(_, v)| v)
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
}
