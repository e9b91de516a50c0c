//! The JSON store: sops reads a JSON object token by token into an ordered
//! list of items (so a key given twice stays twice), decodes every number
//! as float64, and writes Go's `encoding/json` output indented with tabs.

use crate::gocompat::{json, strconv};
use crate::sops::tree::Node;
use anyhow::{Result, anyhow, bail};

/// The JSON document as a one-document tree. The top level must be an
/// object, as sops requires; a UTF-8 byte order mark before it is skipped.
pub(super) fn parse(text: &str, origin: &str) -> Result<Vec<Node>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut p = Parser {
        b: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let doc = p
        .document()
        .map_err(|e| anyhow!("{origin}: invalid JSON at {}: {e}", p.position()))?;
    Ok(vec![doc])
}

/// The tree as JSON, with a final newline.
pub(super) fn emit(doc: &Node) -> Vec<u8> {
    let mut out = String::new();
    json_node(&mut out, doc, 0);
    out.push('\n');
    out.into_bytes()
}

/// Deepest nesting accepted, as for YAML documents.
const MAX_DEPTH: usize = 256;

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    /// "line L, column C" of the current position (errors never quote input).
    fn position(&self) -> String {
        let upto = &self.b[..self.i.min(self.b.len())];
        let line = upto.iter().filter(|c| **c == b'\n').count() + 1;
        let col = upto.iter().rev().take_while(|c| **c != b'\n').count() + 1;
        format!("line {line}, column {col}")
    }

    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn document(&mut self) -> Result<Node> {
        self.ws();
        if self.b.get(self.i) != Some(&b'{') {
            bail!("the top level must be an object");
        }
        let doc = self.value()?;
        self.ws();
        if self.i < self.b.len() {
            bail!("unexpected content after the top-level object");
        }
        Ok(doc)
    }

    fn value(&mut self) -> Result<Node> {
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => self.nested(|p| p.object()),
            Some(b'[') => self.nested(|p| p.array()),
            Some(b'"') => Ok(Node::Str(self.string()?)),
            Some(b't') => self.word("true", Node::Bool(true)),
            Some(b'f') => self.word("false", Node::Bool(false)),
            Some(b'n') => self.word("null", Node::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => bail!("unexpected character"),
            None => bail!("unexpected end of input"),
        }
    }

    fn nested(&mut self, f: impl FnOnce(&mut Self) -> Result<Node>) -> Result<Node> {
        if self.depth >= MAX_DEPTH {
            bail!("nested deeper than {MAX_DEPTH} levels");
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn object(&mut self) -> Result<Node> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Node::Map(items));
        }
        loop {
            self.ws();
            if self.b.get(self.i) != Some(&b'"') {
                bail!("expected an object key");
            }
            let key = self.string()?;
            self.ws();
            if self.b.get(self.i) != Some(&b':') {
                bail!("expected ':' after an object key");
            }
            self.i += 1;
            // Duplicate keys are kept, in order, as sops keeps them.
            items.push((key, self.value()?));
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Node::Map(items));
                }
                _ => bail!("expected ',' or '}}' in an object"),
            }
        }
    }

    fn array(&mut self) -> Result<Node> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.b.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Node::Seq(items));
        }
        loop {
            items.push(self.value()?);
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Node::Seq(items));
                }
                _ => bail!("expected ',' or ']' in an array"),
            }
        }
    }

    fn word(&mut self, word: &str, node: Node) -> Result<Node> {
        if self.b[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(node)
        } else {
            bail!("unexpected character")
        }
    }

    /// A JSON number, decoded as Go's `encoding/json` decodes it into an
    /// `interface{}`: a float64, and an error when it does not fit one.
    fn number(&mut self) -> Result<Node> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.b.get(p.i).is_some_and(u8::is_ascii_digit) {
                p.i += 1;
            }
            p.i - s
        };
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => bail!("invalid number"),
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if digits(self) == 0 {
                bail!("invalid number");
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                bail!("invalid number");
            }
        }
        let text = std::str::from_utf8(&self.b[start..self.i]).unwrap_or_default();
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Node::Float(f)),
            _ => bail!("a number does not fit a float64 (sops cannot read it either)"),
        }
    }

    /// A JSON string. As Go decodes them, an unpaired surrogate escape
    /// becomes U+FFFD.
    fn string(&mut self) -> Result<String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while self
                .b
                .get(self.i)
                .is_some_and(|c| *c != b'"' && *c != b'\\' && *c >= 0x20)
            {
                self.i += 1;
            }
            out.push_str(
                std::str::from_utf8(&self.b[start..self.i])
                    .map_err(|_| anyhow!("invalid UTF-8 in a string"))?,
            );
            match self.b.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = *self
                        .b
                        .get(self.i)
                        .ok_or_else(|| anyhow!("unexpected end of input"))?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi)
                                && self.b[self.i..].starts_with(b"\\u")
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                } else {
                                    self.i = save;
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(c.unwrap_or('\u{fffd}'));
                        }
                        _ => bail!("invalid escape in a string"),
                    }
                }
                Some(_) => bail!("control character in a string"),
                None => bail!("unexpected end of input in a string"),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let h = self
            .b
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| anyhow!("invalid \\u escape"))?;
        self.i += 4;
        Ok(h)
    }
}

/// Go `encoding/json` + `json.Indent(.., "", "\t")` layout.
fn json_node(out: &mut String, node: &Node, depth: usize) {
    let tabs = |out: &mut String, n: usize| out.extend(std::iter::repeat_n('\t', n));
    match node {
        Node::Map(items) if items.iter().any(|(_, v)| !matches!(v, Node::Comment(_))) => {
            out.push_str("{\n");
            let items: Vec<_> = items
                .iter()
                .filter(|(_, v)| !matches!(v, Node::Comment(_)))
                .collect();
            for (i, (k, v)) in items.iter().enumerate() {
                tabs(out, depth + 1);
                json::push_string(out, k);
                out.push_str(": ");
                json_node(out, v, depth + 1);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            tabs(out, depth);
            out.push('}');
        }
        Node::Seq(items) if items.iter().any(|v| !matches!(v, Node::Comment(_))) => {
            out.push_str("[\n");
            let items: Vec<_> = items
                .iter()
                .filter(|v| !matches!(v, Node::Comment(_)))
                .collect();
            for (i, v) in items.iter().enumerate() {
                tabs(out, depth + 1);
                json_node(out, v, depth + 1);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            tabs(out, depth);
            out.push(']');
        }
        Node::Map(_) => out.push_str("{}"),
        Node::Seq(_) => out.push_str("[]"),
        Node::Str(s) | Node::Time(s) => json::push_string(out, s),
        Node::Bytes(b) => json::push_string(out, &String::from_utf8_lossy(b)),
        Node::Int(i) => out.push_str(&i.to_string()),
        Node::Float(f) => out.push_str(&strconv::format_json(*f)),
        Node::Bool(b) => out.push_str(&b.to_string()),
        Node::Null | Node::Comment(_) => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_floats_and_layout_is_tab_indented() {
        let docs = parse(r#"{"a": 7, "b": [1e21, "x<"]}"#, "t").unwrap();
        assert_eq!(
            String::from_utf8(emit(&docs[0])).unwrap(),
            "{\n\t\"a\": 7,\n\t\"b\": [\n\t\t1e+21,\n\t\t\"x\\u003c\"\n\t]\n}\n"
        );
    }

    #[test]
    fn duplicate_keys_stay_in_order() {
        let docs = parse("{\"a\": 1, \"b\": 2, \"a\": 3}", "t").unwrap();
        assert_eq!(
            String::from_utf8(emit(&docs[0])).unwrap(),
            "{\n\t\"a\": 1,\n\t\"b\": 2,\n\t\"a\": 3\n}\n"
        );
    }

    #[test]
    fn numbers_that_overflow_a_float64_are_errors() {
        let e = parse("{\"a\": 1e400}", "f.json").unwrap_err().to_string();
        assert!(
            e.starts_with("f.json: invalid JSON at line 1, column 12"),
            "{e}"
        );
        let docs = parse("{\"a\": 1e-400, \"b\": -0}", "t").unwrap();
        assert_eq!(
            String::from_utf8(emit(&docs[0])).unwrap(),
            "{\n\t\"a\": 0,\n\t\"b\": -0\n}\n"
        );
    }

    #[test]
    fn strings_decode_as_go_decodes_them() {
        let docs = parse(
            "\u{feff}{\"k\u{e9}\": \"\\ud83d\\ude00 \\ud800 \\u00e9\\/\"}",
            "t",
        )
        .unwrap();
        assert_eq!(
            docs[0],
            Node::Map(vec![(
                "k\u{e9}".into(),
                Node::Str("\u{1F600} \u{fffd} \u{e9}/".into())
            )])
        );
        for bad in [
            "[1]",
            "{\"a\": 1} x",
            "{\"a\": 01}",
            "{\"a\": \"\u{1}\"}",
            "{\"a\" 1}",
        ] {
            assert!(parse(bad, "t").is_err(), "{bad}");
        }
    }
}
