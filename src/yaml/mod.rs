//! YAML reading and writing that keeps every scalar meaning the same to
//! YAML 1.1 readers (kubectl, sigs.k8s.io/yaml) and YAML 1.2 readers
//! (kustomize's kyaml, serde_yaml) alike.
//!
//! Why not `serde_yaml_ng::from_str` / `to_string` for manifests: the
//! serde_yaml family forgets whether a scalar was quoted (`0755` and `'0755'`
//! both become the string `"0755"`) and writes strings such as `yes`, `on`,
//! `1_000` or `2024-01-01` unquoted, which a YAML 1.1 reader turns into a
//! boolean, a number or a date. So this module reads the event stream with
//! `yaml-rust2`, which reports each scalar's style, and builds
//! `serde_yaml_ng::Value`s with two rules:
//!
//! * quoted and block scalars are strings; plain scalars that both YAML
//!   versions read the same way become typed values (`null`, `true`, `42`,
//!   `1.5`) or plain strings;
//! * a plain scalar whose meaning depends on the YAML version (`0755`,
//!   `yes`, `0x1F`, `1_000`, `2024-01-01`, ...) is kept verbatim, wrapped in a
//!   private tag ([`RAW_PLAIN_TAG`]), and written back exactly as it was read,
//!   so every reader sees after regcred what it saw before.
//!
//! The writer quotes every string that any YAML version could read as
//! something else, and uses literal blocks for multi-line text.

//!
//! [`load`] reads, [`emit`] writes; the scalar rules both share live here.

mod emit;
pub(crate) mod lite;
mod load;

pub use emit::{stream_to_string, to_string};
pub use load::{Document, Shape, TopLevel, load_stream, load_stream_with_shapes};

use serde_yaml_ng::value::{Tag, TaggedValue};
use serde_yaml_ng::{Number, Value};

/// Private tag marking a plain scalar that must be written back verbatim.
pub const RAW_PLAIN_TAG: &str = "regcred.dev/raw-plain";

/// Returns the string content of a value, looking through the raw-plain tag.
pub fn as_str(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Tagged(t) if is_raw_plain(t) => t.value.as_str(),
        _ => None,
    }
}

/// A scalar as a string: strings as they are, numbers and booleans as
/// written. Keys and values of credential documents, labels and spec fields
/// are all read this way, so `0123` or `true` never turn into something else.
pub fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => as_str(other).map(str::to_string),
    }
}

/// A one-line string as the writer writes it as a mapping value or a
/// sequence entry (plain or double-quoted); `None` for text the writer
/// would put in a block.
pub fn one_line_string(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    if plain_is_safe(s) {
        return Some(std::borrow::Cow::Borrowed(s));
    }
    if s.contains('\n') {
        return None;
    }
    emit::scalar_text(&Value::String(s.to_string()), 0, false)
        .ok()
        .map(std::borrow::Cow::Owned)
}

fn is_raw_plain(t: &TaggedValue) -> bool {
    t.tag == Tag::new(RAW_PLAIN_TAG)
}

/// True when `s` can be written as a plain scalar and every YAML reader,
/// 1.1 or 1.2, reads it back as this same string.
pub fn plain_is_safe(s: &str) -> bool {
    plain_ends_ok(s) && plain_bytes(s.as_bytes())
}

/// The rules of [`plain_is_safe`] on the ends of `s` and on `s` as a
/// whole, without the per-byte ones ([`plain_bytes`]): the fast reader
/// checks the bytes in the loop that finds where a key or scalar ends, and
/// only these here.
pub(crate) fn plain_ends_ok(s: &str) -> bool {
    // Runs for every key and scalar read and written (a million times in a
    // large input): bytes, no allocation.
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    let start_ok = first.is_ascii_alphabetic() || first == b'/' || first == b'_';
    // A leading dot is fine before a letter (`.dockerconfigjson`), but
    // `.5`, `.inf` and `.nan` are numbers.
    if !(start_ok || (first == b'.' && dot_word(s))) || matches!(last, b' ' | b':') {
        return false;
    }
    !(b.len() <= 5 && is_keyword(b))
}

/// Bytes a plain scalar may hold ([`plain_chars`]), as a table.
pub(crate) static PLAIN_ALLOWED: [bool; 256] = plain_chars();

/// Whether every byte is one a plain scalar may hold and `: ` (a mapping)
/// never occurs. (` #`, a comment, needs no check: `#` is never allowed.)
fn plain_bytes(b: &[u8]) -> bool {
    let mut bad = false;
    let mut prev_colon = false;
    for &c in b {
        bad |= !PLAIN_ALLOWED[usize::from(c)] | (prev_colon & (c == b' '));
        prev_colon = c == b':';
    }
    !bad
}

/// `.word`, but not `.inf` or `.nan` in any case.
fn dot_word(s: &str) -> bool {
    s.as_bytes().get(1).is_some_and(u8::is_ascii_alphabetic)
        && !(s.eq_ignore_ascii_case(".inf") || s.eq_ignore_ascii_case(".nan"))
}

/// The YAML 1.1 and 1.2 keywords a string of at most five letters can be,
/// in any case: booleans and null.
fn is_keyword(b: &[u8]) -> bool {
    let mut lower = [0u8; 5];
    for (l, c) in lower.iter_mut().zip(b) {
        *l = c.to_ascii_lowercase();
    }
    matches!(
        &lower[..b.len()],
        b"y" | b"n" | b"yes" | b"no" | b"on" | b"off" | b"true" | b"false" | b"null"
    )
}

/// True when `s`, written as a plain scalar anywhere in a block document
/// (key, value, sequence entry, a document of its own), reads back as the
/// same plain scalar. The loader keeps a version-dependent plain scalar
/// verbatim only when this holds, and the writer only then writes one
/// verbatim: what a lenient reader took from flow context (`[?]`, `{|x: 1}`)
/// or a folded multi-line scalar would mean something else, or nothing, in
/// block context. Every scalar refused here is a string to every reader.
pub fn plain_verbatim_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let second = s[first.len_utf8()..].chars().next();
    let indicator = match first {
        // `-1`, `-.inf`, `?x`, `:x` are plain; `- x`, `? x`, `: x` are not.
        '-' | '?' | ':' => second.is_none_or(|c| c == ' '),
        _ => "[]{},#&*!|>'\"%@`".contains(first),
    };
    !indicator
        && !s.starts_with("---")
        && !s.starts_with("...")
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && s.chars()
            .all(|c| c == ' ' || !(c.is_control() || c.is_whitespace() || c == '\u{FEFF}'))
}

/// ASCII letters, digits and ` -_./:@+=%$()^,`.
const fn plain_chars() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = (i as u8).is_ascii_alphanumeric();
        i += 1;
    }
    let extra = b" -_./:@+=%$()^,";
    let mut j = 0;
    while j < extra.len() {
        t[extra[j] as usize] = true;
        j += 1;
    }
    t
}

/// YAML's spelling of NaN and the infinities, which every reader agrees on.
/// The prefix of YAML's core tags (`!!str` is `tag:yaml.org,2002:str`).
const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// A number as both YAML versions read it back as the same number (shared
/// by the writer and by the reader, which keeps only numbers it can write).
fn number_text(n: &Number) -> String {
    if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
        if let Some(special) = special_float(f) {
            return special.into();
        }
        // Both YAML versions read a float only with a dot and, in YAML 1.1,
        // a signed exponent: 1e300 must be written 1.0e+300.
        let s = format!("{f:?}");
        return match s.split_once('e') {
            Some((m, e)) => {
                let m = if m.contains('.') {
                    m.to_string()
                } else {
                    format!("{m}.0")
                };
                let e = if e.starts_with('-') {
                    e.to_string()
                } else {
                    format!("+{e}")
                };
                format!("{m}e{e}")
            }
            None if s.contains('.') => s,
            None => format!("{s}.0"),
        };
    }
    n.to_string()
}

pub fn special_float(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some(".nan")
    } else if f.is_infinite() {
        Some(if f > 0.0 { ".inf" } else { "-.inf" })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml_ng::Mapping;

    /// `plain_is_safe` as first written (one check after another), the
    /// reference for the faster one.
    fn plain_is_safe_reference(s: &str) -> bool {
        let allowed = plain_chars();
        let b = s.as_bytes();
        let Some(&first) = b.first() else {
            return false;
        };
        let dot_word = first == b'.'
            && b.get(1).is_some_and(u8::is_ascii_alphabetic)
            && !(s.eq_ignore_ascii_case(".inf") || s.eq_ignore_ascii_case(".nan"));
        if !first.is_ascii_alphabetic() && first != b'/' && first != b'_' && !dot_word {
            return false;
        }
        if matches!(b[b.len() - 1], b' ' | b':') {
            return false;
        }
        let mut prev = 0u8;
        for &c in b {
            if !allowed[usize::from(c)]
                || (prev == b':' && c == b' ')
                || (prev == b' ' && c == b'#')
            {
                return false;
            }
            prev = c;
        }
        !(b.len() <= 5
            && matches!(first.to_ascii_lowercase(), b'y' | b'n' | b'o' | b't' | b'f')
            && ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]
                .iter()
                .any(|k| s.eq_ignore_ascii_case(k)))
    }

    #[test]
    fn plain_is_safe_agrees_with_its_reference() {
        // Every string of up to three characters from an alphabet that holds
        // each class of byte the rules look at, and the keywords in mixed case.
        let alphabet: Vec<char> = "aAyYnNoOtTfF./_-:# 0'\"\u{e9}\ttrueIN".chars().collect();
        let mut strings = vec![String::new()];
        for len in 1..=3 {
            let mut idx = vec![0; len];
            loop {
                strings.push(idx.iter().map(|&i| alphabet[i]).collect());
                let Some(pos) = (0..len).rev().find(|&p| idx[p] + 1 < alphabet.len()) else {
                    break;
                };
                idx[pos] += 1;
                idx[pos + 1..].fill(0);
            }
        }
        for word in [
            "y",
            "n",
            "yes",
            "no",
            "on",
            "off",
            "true",
            "false",
            "null",
            "True",
            "NULL",
            "oFf",
            "yess",
            "nulls",
            "falsey",
            ".inf",
            ".Nan",
            ".infx",
            ".5",
            ".a",
            "a: b",
            "a:b",
            "a #b",
            "a#b",
            "a b:",
            "name",
            "ghcr.io/x:1.4",
            "--x",
            "a:  b",
        ] {
            strings.push(word.to_string());
        }
        for s in &strings {
            assert_eq!(plain_is_safe(s), plain_is_safe_reference(s), "{s:?}");
        }
    }

    fn roundtrip(src: &str) -> String {
        let docs = load_stream(src, "test").unwrap();
        stream_to_string(docs.iter().map(|d| &d.value)).unwrap()
    }

    #[test]
    fn ambiguous_plain_scalars_are_written_back_verbatim() {
        let src = "a: 0755\nb: yes\nc: 1_000\nd: 2024-01-01\ne: 0x1F\nf: 1e3\ng: ~\n";
        assert_eq!(
            roundtrip(src),
            "a: 0755\nb: yes\nc: 1_000\nd: 2024-01-01\ne: 0x1F\nf: 1e3\ng: null\n"
        );
    }

    #[test]
    fn floats_are_written_so_both_yaml_versions_read_floats() {
        let src = "a: 1.5\nb: 1.0e+300\nc: 3.0e8\nd: !!float 1\ne: 1.0e-7\n";
        assert_eq!(
            roundtrip(src),
            "a: 1.5\nb: 1.0e+300\nc: 3.0e8\nd: 1.0\ne: 1.0e-7\n"
        );
    }

    #[test]
    fn quoted_lookalikes_stay_quoted() {
        let src = "a: \"yes\"\nb: 'on'\nc: \"0755\"\nd: \"1_000\"\ne: \"~\"\nf: \"2024-01-01\"\ng: \"Y\"\nh: \"1e3\"\n";
        assert_eq!(
            roundtrip(src),
            "a: \"yes\"\nb: \"on\"\nc: \"0755\"\nd: \"1_000\"\ne: \"~\"\nf: \"2024-01-01\"\ng: \"Y\"\nh: \"1e3\"\n"
        );
    }

    #[test]
    fn multiline_strings_use_literal_blocks_that_roundtrip() {
        for s in ["a\nb\n", "a\nb", "a\n\nb\n\n\n", "x:\n  - y\n"] {
            let mut m = Mapping::new();
            m.insert("k".into(), Value::String(s.into()));
            let text = to_string(&Value::Mapping(m.clone())).unwrap();
            let back = load_stream(&text, "t").unwrap().remove(0).value;
            assert_eq!(back, Value::Mapping(m), "{text}");
        }
    }

    #[test]
    fn block_layout_matches_kubectl_style() {
        let src = "a:\n  b:\n  - x: 1\n    y: [2]\n  - - z\n  c: {}\n";
        assert_eq!(
            roundtrip(src),
            "a:\n  b:\n  - x: 1\n    y:\n    - 2\n  - - z\n  c: {}\n"
        );
    }

    #[test]
    fn errors_name_line_and_column_but_not_content() {
        let err = load_stream("a: 1\nb: [secretvalue\n", "f.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("f.yaml: invalid YAML: line"), "{err}");
        assert!(!err.contains("secretvalue"), "{err}");
    }

    #[test]
    fn top_level_entries_stream_items_one_at_a_time() {
        let text = "apiVersion: v1\nkind: ResourceList\nitems:\n- a: 1\n  b: |\n    x\n\n    y\n- c: [2]\nfunctionConfig:\n  k: v\n";
        let top = TopLevel::split(text).expect("block style splits");
        let header = load_stream(&top.without("items"), "t")
            .unwrap()
            .remove(0)
            .value;
        assert!(header.get("items").is_none());
        assert_eq!(header["functionConfig"]["k"], Value::String("v".into()));
        let mut seen = Vec::new();
        assert!(
            top.for_each_element("items", "t", |v| {
                seen.push(v);
                Ok(())
            })
            .unwrap()
        );
        let whole = load_stream(text, "t").unwrap().remove(0).value;
        assert_eq!(Value::Sequence(seen), whole["items"]);
        // Errors keep the line numbers of the whole text.
        let bad = "kind: ResourceList\nitems:\n- a: 1\n- b: [\n";
        let err = TopLevel::split(bad)
            .unwrap()
            .for_each_element("items", "stdin", |_| Ok(()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 5"), "{err}");
        // Flow style and JSON are not split (callers parse them whole).
        assert!(TopLevel::split("{\"items\": []}").is_none());
        assert!(TopLevel::split("a: 1\n---\nb: 2\n").is_none());
    }

    #[test]
    fn a_header_without_its_items_lines_reads_as_with_them_blanked() {
        let header = |t: &str| load_stream(t, "t").map(|mut d| d.remove(0).value);
        let items = "items:\n- a: 1\n\n- b: 2\n";
        for (before, after) in [
            (
                "apiVersion: v1\nkind: ResourceList\n",
                "functionConfig:\n  k: v\n",
            ),
            ("kind: ResourceList\n# c\n\n", ""),
            ("---\n", "kind: List\nx: |+\n  y\n\nz: 1\n"),
            ("kind: ResourceList\nx: a\n  b\n", "y: c\n"),
        ] {
            let text = format!("{before}{items}{after}");
            let top = TopLevel::split(&text).unwrap();
            let joined = top.without_joined("items").expect(&text);
            assert_eq!(joined, format!("{before}{after}"));
            assert_eq!(
                header(&joined).unwrap(),
                header(&top.without("items")).unwrap(),
                "{text}"
            );
        }
        // Where the blank lines could be part of a value, the items' lines
        // stay blank lines: a `|+` scalar keeps them, a quoted one folds them.
        for before in [
            "x: |+\n  y\n",
            "x: \"a\n",
            "x: [a,\n",
            "x: >\n  y\n",
            "x: 'a\nb: c\n",
        ] {
            let text = format!("kind: ResourceList\n{before}{items}");
            if let Some(top) = TopLevel::split(&text) {
                assert!(top.without_joined("items").is_none(), "{text}");
            }
        }
    }

    /// Reading `src`, writing each document and reading that back gives
    /// the same values (the property `fuzz/` checks for any input).
    fn assert_roundtrips(src: &str) -> String {
        let docs = load_stream(src, "t").unwrap();
        let mut all = String::new();
        for d in &docs {
            let text = to_string(&d.value).unwrap();
            let back = load_stream(&text, "written")
                .unwrap_or_else(|e| panic!("{src:?} written as {text:?}: {e}"));
            assert_eq!(back.len(), 1, "{text:?}");
            assert_eq!(back[0].value, d.value, "{src:?} written as {text:?}");
            all.push_str(&text);
        }
        all
    }

    // Found by fuzzing (yaml_roundtrip): plain scalars read in flow context
    // that are block-scalar or key indicators, or folded onto several lines,
    // were written back verbatim and read as something else, or not at all.
    #[test]
    fn raw_plain_scalars_block_style_cannot_hold_are_written_as_strings() {
        for src in [
            "{a: {|ier: web}}",
            "[?, b]",
            "[>x, '%y']",
            "[44\r\r\r3]",
            "a: 44\n\n\n  3\n",
            "[--- x, ... y]",
            "{0755 x: 1}",
            "--- |\n  ...\n",
            "--- |\n  a\n  --- b\n",
        ] {
            assert_roundtrips(src);
        }
        // Version-dependent scalars that block style can hold stay verbatim.
        assert_eq!(
            assert_roundtrips("[0755, yes, -0, +1, ?x, :y, 1:20]"),
            "- 0755\n- yes\n- -0\n- +1\n- ?x\n- :y\n- 1:20\n"
        );
    }

    // Found by fuzzing (yaml_roundtrip): a tag was written as `serde_yaml`
    // shows it, which the reader could not read back (`!!` for the
    // non-specific tag `!`, spaces from `%20`).
    #[test]
    fn tags_are_written_so_they_read_back() {
        for src in [
            "[!, b]",
            "a: ! x",
            "a: !a%20b%21 x",
            "!thing {k: !!omap [a]}",
            "%TAG !e! tag:example.com,2000:\n---\na: !e!foo x\n",
            "a: !<tag:example.com,2000:x> y",
            "[a, !{d: e}, !t [1, [2]], [!u {f: g}]]",
        ] {
            assert_roundtrips(src);
        }
        // yaml-rust2 misdecodes escaped UTF-8 in tags: refused on input.
        let e = load_stream("a: !x%C3%A9 {b: c}", "t").unwrap_err();
        assert!(e.to_string().contains("tags must be ASCII"), "{e}");
    }

    // Found by fuzzing (krm_reader): a line that ended the items list early
    // (less indented than an item, or after a lone carriage return) left
    // the rest of `items` unread: those resources were silently dropped,
    // and on failure the echoed text was not YAML.
    #[test]
    fn streamed_items_that_end_the_list_early_are_an_error_not_dropped() {
        for text in [
            "kind: ResourceList\nitems:\n- \n    a: v1\n  kind: Namespace\n- b: 1\n",
            "kind: ResourceList\nitems:\n- a: 1\n \rb: 2\n- c: 3\n",
            "kind: ResourceList\nitems:\n- a: 1\n junk\n",
        ] {
            assert!(load_stream(text, "t").is_err(), "{text:?}");
            let top = TopLevel::split(text).expect("block style splits");
            let mut seen = 0;
            let result = top.for_each_element("items", "stdin", |_| {
                seen += 1;
                Ok(())
            });
            assert!(result.is_err(), "{text:?}: {seen} items, then Ok");
        }
    }

    // Found by fuzzing (yaml_roundtrip): the empty verbatim tag `!<>`
    // panicked in serde_yaml_ng's `Tag::new`, in every mode that reads YAML.
    #[test]
    fn empty_verbatim_tag_is_an_error_not_a_panic() {
        for src in ["a: !<> x", "a: !<> {b: c}", "!<> [1]"] {
            let e = load_stream(src, "t").unwrap_err().to_string();
            assert!(e.contains("empty tag"), "{src:?}: {e}");
        }
    }

    // Found by review while fuzzing: the private tag that marks verbatim plain
    // scalars could be written in the input, and a scalar tagged with it
    // came out untagged (`!regcred.dev/raw-plain x` became `x`).
    #[test]
    fn the_private_raw_plain_tag_is_refused_on_input() {
        for src in [
            "a: !regcred.dev/raw-plain x",
            "a: !<!regcred.dev/raw-plain> [x]",
        ] {
            let e = load_stream(src, "t").unwrap_err().to_string();
            assert!(e.contains("is reserved"), "{src:?}: {e}");
        }
    }

    // Found by review while fuzzing: a key longer than YAML's 1024-character limit
    // for implicit keys was written as `key: value`, which no reader reads.
    #[test]
    fn keys_longer_than_1024_characters_are_written_explicitly() {
        let k = "k".repeat(1100);
        let text = assert_roundtrips(&format!(
            "{{\"{k}\": 1, \"{k} x\": {{a: b}}, \"{k}y\": [1, 2], short: [{{\"{k}\": c}}]}}"
        ));
        assert!(text.starts_with(&format!("? {k}\n: 1\n")), "{text}");
        assert_roundtrips(&format!("? {}\n: 1\n", "é".repeat(1025)));
        assert_eq!(
            assert_roundtrips(&format!("{}: 1", "k".repeat(1024)))
                .lines()
                .count(),
            1
        );
    }

    #[test]
    fn unicode_line_breaks_fold_as_go_yaml_folds_them() {
        let docs = load_stream(
            "a: 'x\u{2028}    y'\nb: |\n    p\u{2029}    q\nc: \"d\\Le\"\n",
            "t",
        )
        .unwrap();
        let v = &docs[0].value;
        assert_eq!(v["a"], Value::String("x\u{2028}y".into()));
        assert_eq!(v["b"], Value::String("p\u{2029}q\n".into()));
        assert_eq!(v["c"], Value::String("d\u{2028}e".into()));
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let err = load_stream("a: 1\na: 2\n", "f").unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("duplicate"), "{err}");
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_errors_not_crashes() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
            let prev = ["a", "b", "c", "d", "e", "f", "g", "h"][i];
            let refs = vec![format!("*{prev}"); 10].join(", ");
            bomb.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        let e = load_stream(&bomb, "bomb.yaml").unwrap_err().to_string();
        assert!(
            e.contains("bomb.yaml") && e.contains("alias expansion is limited"),
            "{e}"
        );
        // A repeated block reused a few times is fine.
        let reuse = "base: &b {cpu: 1, memory: 2}\nx: *b\ny: *b\nz: [*b, *b]\n";
        assert_eq!(
            load_stream(reuse, "t").unwrap()[0].value["z"][1]["cpu"],
            Value::from(1)
        );
        let deep = "- ".repeat(7000) + "x\n";
        let e = load_stream(&deep, "deep.yaml").unwrap_err().to_string();
        assert!(e.contains("nested deeper than 128 levels"), "{e}");
        let ok = "- ".repeat(100) + "x\n";
        assert!(load_stream(&ok, "t").is_ok());
    }
}
