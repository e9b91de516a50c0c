//! The INI store: sections, keys and comments read and written as sops does
//! through go-ini (gopkg.in/ini.v1), metadata flattened into a `[sops]`
//! section. A separate, plainer lexer, [`entries`], reads INI credential
//! documents (plaintext files and what decryption writes).

use super::flat::{self, scalar_text};
use crate::sops::tree::Node;
use anyhow::{Result, anyhow, bail};

/// One INI line: its section, and the key/value pair (`None` for a `[section]` header).
pub(crate) type Entry = (String, Option<(String, String)>);

/// INI lines as (section, key, value); `DEFAULT` holds keys before any section.
/// Besides plain `key = value` lines it reads the quoting go-ini writes
/// (what `regcred decrypt` and `sops --decrypt` put out): a backquoted key,
/// and a backquoted or `"""`-quoted value, which may span lines.
pub(crate) fn entries(text: &str) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut section = "DEFAULT".to_string();
    let mut lines = text.lines().enumerate();
    while let Some((n, raw)) = lines.next() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            out.push((section.clone(), None));
            continue;
        }
        let quoted_key = line
            .strip_prefix('`')
            .and_then(|l| l.split_once('`'))
            .and_then(|(k, rest)| {
                let rest = rest.trim_start();
                rest.strip_prefix(['=', ':']).map(|v| (k, v))
            });
        let Some((k, v)) = quoted_key
            .or_else(|| line.split_once('='))
            .or_else(|| line.split_once(':'))
        else {
            bail!("INI line {}: expected key = value", n + 1);
        };
        let v = v.trim();
        let quote = ["\"\"\"", "`"].into_iter().find(|q| v.starts_with(q));
        let v = match quote {
            Some(q) => {
                let mut value = v[q.len()..].to_string();
                while !value.contains(q) {
                    let Some((_, next)) = lines.next() else {
                        bail!("INI line {}: a quoted value is not closed", n + 1);
                    };
                    value.push('\n');
                    value.push_str(next);
                }
                value[..value.find(q).unwrap_or(value.len())].to_string()
            }
            None => v
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(v)
                .replace("\\n", "\n"),
        };
        out.push((section.clone(), Some((k.trim().to_string(), v))));
    }
    Ok(out)
}

/// One section as go-ini loads it: its name, comment and keys (each with
/// its value and comment), in order.
struct Section {
    name: String,
    comment: String,
    keys: Vec<(String, String, String)>,
}

/// `ini.LoadSources(ini.LoadOptions{AllowNonUniqueSections: true}, ..)`, as
/// sops loads INI files (gopkg.in/ini.v1 v1.67): keys before any section go
/// to `DEFAULT`; comment lines and a value's inline `#`/`;` comment become
/// the comment of the next key or section; a key given twice keeps its
/// place and takes the later value; a repeated section stays separate.
fn load(text: &str) -> Result<Vec<Section>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let mut sections = vec![Section {
        name: "DEFAULT".into(),
        comment: String::new(),
        keys: Vec::new(),
    }];
    let mut comment = String::new();
    let mut n = 0;
    while let Some(raw) = lines.next() {
        n += 1;
        let line = raw.trim_start();
        if line.is_empty() {
            continue;
        }
        if line.starts_with(['#', ';']) {
            comment.push_str(line);
            continue;
        }
        if line.starts_with('[') {
            let Some(close) = line.rfind(']') else {
                bail!("INI line {n}: unclosed section");
            };
            let name = &line[1..close];
            if name.is_empty() {
                bail!("INI line {n}: empty section name");
            }
            if let Some(i) = line[close + 1..].find(['#', ';']) {
                comment.push_str(&line[close + 1 + i..]);
            }
            sections.push(Section {
                name: name.to_string(),
                comment: std::mem::take(&mut comment).trim().to_string(),
                keys: Vec::new(),
            });
            continue;
        }
        let (name, offset) =
            key_name(line).ok_or_else(|| anyhow!("INI line {n}: expected key = value"))?;
        let value = value(&line[offset..], &mut lines, &mut comment)
            .ok_or_else(|| anyhow!("INI line {n}: a quoted value is not closed"))?;
        let section = sections.last_mut().expect("DEFAULT is always there");
        let key_comment = std::mem::take(&mut comment).trim().to_string();
        match section.keys.iter_mut().find(|(k, _, _)| *k == name) {
            Some(k) => {
                k.1 = value;
                k.2 = key_comment;
            }
            None => section.keys.push((name, value, key_comment)),
        }
    }
    Ok(sections)
}

/// go-ini's `readKeyName` with the delimiters `=` and `:`: the key and
/// where its value starts.
fn key_name(line: &str) -> Option<(String, usize)> {
    let quote = if line.starts_with("\"\"\"") && line.len() > 6 {
        "\"\"\""
    } else if line.starts_with('"') {
        "\""
    } else if line.starts_with('`') {
        "`"
    } else {
        ""
    };
    if !quote.is_empty() {
        let q = quote.len();
        let pos = line[q..].find(quote)? + q;
        let i = line[pos + q..].find(['=', ':'])?;
        return Some((line[q..pos].trim().to_string(), pos + i + q + 1));
    }
    let end = line.find(['=', ':'])?;
    if end == 0 {
        return None;
    }
    let name = line[..end].trim();
    (!name.is_empty()).then(|| (name.to_string(), end + 1))
}

/// go-ini's `readValue`: `\"\"\"` or backtick quoting (which may span lines),
/// a `\\` line continuation, an inline comment from the first `#` or `;`,
/// and surrounding single or double quotes removed.
fn value<'a>(
    rest: &str,
    lines: &mut impl Iterator<Item = &'a str>,
    comment: &mut String,
) -> Option<String> {
    let line = rest.trim_start();
    if line.is_empty() {
        return Some(String::new());
    }
    let quote = if line.len() > 3 && line.starts_with("\"\"\"") {
        "\"\"\""
    } else if line.starts_with('`') {
        "`"
    } else {
        ""
    };
    if !quote.is_empty() {
        let q = quote.len();
        if let Some(pos) = line[q..].rfind(quote) {
            return Some(line[q..q + pos].to_string());
        }
        // Until the line holding the closing quote.
        let mut val = line[q..].to_string();
        for next in lines {
            if let Some(pos) = next.rfind(quote) {
                val.push_str(&next[..pos]);
                if let Some(i) = next[pos..].find(['#', ';']) {
                    comment.push_str(next[pos + i..].trim());
                }
                return Some(val);
            }
            val.push_str(next);
        }
        return None;
    }
    let mut line = line.trim().to_string();
    if line.ends_with('\\') {
        line.pop();
        for next in lines {
            let next = next.trim();
            if next.is_empty() {
                break;
            }
            line.push_str(next);
            if !line.ends_with('\\') {
                break;
            }
            line.pop();
        }
        return Some(line);
    }
    if let Some(i) = line.find(['#', ';']) {
        comment.push_str(&line[i..]);
        line = line[..i].trim().to_string();
    }
    let surrounded = |q: char| {
        line.len() >= 2
            && line.starts_with(q)
            && line.ends_with(q)
            && line[1..].find(q) == Some(line.len() - 2)
    };
    if surrounded('\'') || surrounded('"') {
        line = line[1..line.len() - 1].to_string();
    }
    Some(line)
}

/// sops' `stripCommentChar`.
fn strip_comment_char(c: &str) -> String {
    if c.starts_with(';') {
        c.trim_start_matches([';', ' ']).to_string()
    } else if c.starts_with('#') {
        c.trim_start_matches(['#', ' ']).to_string()
    } else {
        c.to_string()
    }
}

/// Sections as a one-document tree (a section's comment first, each key's
/// comment after it, as sops' INI store builds it), and the `[sops]`
/// section as metadata.
pub(super) fn parse(text: &str) -> Result<(Vec<Node>, Option<Node>)> {
    let mut tree = Vec::new();
    let mut md = None;
    for section in load(text)? {
        if section.name == "sops" {
            if md.is_none() {
                let flat: Vec<(String, String)> = section
                    .keys
                    .into_iter()
                    .map(|(k, v, _)| (k, v.replace("\\n", "\n")))
                    .collect();
                md = Some(flat);
            }
            continue;
        }
        let mut items = Vec::new();
        if !section.comment.is_empty() {
            items.push((
                String::new(),
                Node::Comment(strip_comment_char(&section.comment)),
            ));
        }
        for (k, v, c) in section.keys {
            items.push((k, Node::Str(v)));
            if !c.is_empty() {
                items.push((String::new(), Node::Comment(strip_comment_char(&c))));
            }
        }
        tree.push((section.name, Node::Map(items)));
    }
    let metadata = md.map(|flat| flat::unflatten(&flat)).transpose()?;
    Ok((vec![Node::Map(tree)], metadata))
}

/// The tree (and metadata, as a last `[sops]` section) written as sops
/// writes it through go-ini: a comment above its section or key, `=`
/// aligned per section (counting bytes), values quoted when go-ini would
/// misread them, a blank line between sections, an empty `DEFAULT` left out.
pub(super) fn emit(doc: &Node, metadata: Option<&Node>) -> Vec<u8> {
    let mut sections: Vec<Section> = Vec::new();
    if let Node::Map(items) = doc {
        for (name, body) in items {
            let Node::Map(entries) = body else {
                continue;
            };
            let mut section = Section {
                name: name.clone(),
                comment: String::new(),
                keys: Vec::new(),
            };
            let mut rest = entries.as_slice();
            if let Some(((_, Node::Comment(c)), tail)) = rest.split_first() {
                section.comment = c.clone();
                rest = tail;
            }
            for (k, v) in rest {
                match v {
                    // A comment belongs to the key before it (the last one wins).
                    Node::Comment(c) => {
                        if let Some(last) = section.keys.last_mut() {
                            last.2 = c.clone();
                        }
                    }
                    v => {
                        let value = scalar_text(v);
                        match section.keys.iter_mut().find(|(name, _, _)| name == k) {
                            Some(existing) => existing.1 = value,
                            None => section.keys.push((k.clone(), value, String::new())),
                        }
                    }
                }
            }
            sections.push(section);
        }
    }
    if let Some(md) = metadata {
        sections.push(Section {
            name: "sops".into(),
            comment: String::new(),
            keys: flat::flatten_sorted(md)
                .into_iter()
                .map(|(k, v)| (k, v.replace('\n', "\\n"), String::new()))
                .collect(),
        });
    }
    let mut out = String::new();
    let last = sections.len().saturating_sub(1);
    for (i, section) in sections.iter().enumerate() {
        write_comment(&mut out, &section.comment, false);
        if i > 0 || !section.name.eq_ignore_ascii_case("DEFAULT") {
            out.push_str(&format!("[{}]\n", section.name));
        } else if section.keys.is_empty() {
            continue;
        }
        let quoted = |k: &str| {
            if k.contains('"') || k.contains(['=', ':']) {
                format!("`{k}`")
            } else if k.contains('`') {
                format!("\"\"\"{k}\"\"\"")
            } else {
                k.to_string()
            }
        };
        let width = section
            .keys
            .iter()
            .map(|(k, _, _)| quoted(k).len())
            .max()
            .unwrap_or(0);
        for (k, v, c) in &section.keys {
            write_comment(&mut out, c, true);
            let k = quoted(k);
            let v = if v.contains(['\n', '`']) {
                format!("\"\"\"{v}\"\"\"")
            } else if v.contains(['#', ';']) {
                format!("`{v}`")
            } else if v.trim().len() != v.len() {
                format!("\"{v}\"")
            } else {
                v.clone()
            };
            out.push_str(&format!("{k}{} = {v}\n", " ".repeat(width - k.len())));
        }
        if i != last {
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// go-ini writes each comment line with its `;` or `#` (adding `; `), a
/// key's comment lines trimmed.
fn write_comment(out: &mut String, comment: &str, trim: bool) {
    if comment.is_empty() {
        return;
    }
    for line in comment.split('\n') {
        match line.chars().next() {
            Some(c @ ('#' | ';')) => {
                out.push(c);
                out.push(' ');
                out.push_str(line[1..].trim());
            }
            _ => {
                out.push_str("; ");
                out.push_str(if trim { line.trim() } else { line });
            }
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keys_and_comments_load_as_go_ini_loads_them() {
        let text = "top = 1\n# c1\n[s] ; after\na = x # inline\nb = \"q\"\nc = `a#b`\nd = \"\"\"l1\nl2\"\"\"\na = y\n[s]\ne = 2\n";
        let (docs, md) = parse(text).unwrap();
        assert!(md.is_none());
        let c = |s: &str| (String::new(), Node::Comment(s.into()));
        let str = |k: &str, v: &str| (k.to_string(), Node::Str(v.into()));
        assert_eq!(
            docs[0],
            Node::Map(vec![
                ("DEFAULT".into(), Node::Map(vec![str("top", "1")])),
                (
                    "s".into(),
                    Node::Map(vec![
                        c("c1\n; after"),
                        str("a", "y"),
                        str("b", "q"),
                        str("c", "a#b"),
                        str("d", "l1\nl2"),
                    ])
                ),
                ("s".into(), Node::Map(vec![str("e", "2")])),
            ])
        );
        assert_eq!(
            String::from_utf8(emit(&docs[0], None)).unwrap(),
            "top = 1\n\n; c1\n; after\n[s]\na = y\nb = q\nc = `a#b`\nd = \"\"\"l1\nl2\"\"\"\n\n[s]\ne = 2\n"
        );
    }

    #[test]
    fn the_lexer_reads_what_go_ini_writes() {
        let text = "[s]\n`a=b` = `x#y`\nm = \"\"\"l1\nl2\"\"\"\np = \" sp \"\n";
        let got: Vec<_> = entries(text)
            .unwrap()
            .into_iter()
            .filter_map(|(_, e)| e)
            .collect();
        assert_eq!(
            got,
            vec![
                ("a=b".to_string(), "x#y".to_string()),
                ("m".into(), "l1\nl2".into()),
                ("p".into(), " sp ".into()),
            ]
        );
    }
}
