//! Comments of a YAML file, placed in the tree where sops' YAML store puts
//! them: each `#` line becomes a comment item of a mapping or sequence,
//! before or after a given entry.
//!
//! sops takes yaml.v3's head, line and foot comments and appends them to the
//! enclosing mapping or sequence around the entry they belong to. Only the
//! container and the order matter (the writer regroups them), so what is
//! reproduced here is yaml.v3's scanner (`scan_comments`, the block ends of
//! `unroll_indent`) as far as it decides that, with positions from the YAML
//! loader (see [`region_targets`]):
//!
//! * comment lines after some content `P` and before the next entry `T`
//!   are a head comment of `T`, except a first stretch that ends at a
//!   blank line right after `P`, or at a line (or `T`) left of `P`'s block
//!   in another column: that is a foot comment of `P`. Later such
//!   stretches go to the first block that ends at or after them;
//! * a comment after content on its line goes above the entry it follows
//!   (into a flow collection that a key's value opens on that line);
//! * an empty sequence item takes no comments, and comments inside an empty
//!   flow collection written over several lines are lost, as in sops.
//!
//! Files sops wrote have only the first kind, in its own layout, and are
//! placed exactly (including the comments sops itself then fails to
//! decrypt because they land in another mapping); hand-written files follow
//! the same rules, which `tests/sops_fidelity.rs` and the reference sops
//! agree on for the common layouts.

use crate::yaml::Shape;
use std::collections::HashMap;
use yaml_rust2::scanner::TScalarStyle;

/// A `#` comment: its position and text after the `#`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Comment {
    pub(super) line: usize,
    pub(super) col: usize,
    pub(super) text: String,
    /// Content precedes it on its line.
    pub(super) inline: bool,
    /// What precedes it on its line.
    pub(super) before: String,
}

/// Where comments go: per container (entry indices from the document root),
/// (slot, phase, text) in document order. Slot `i` is before entry `i`;
/// in a slot, foot comments of the entry before (phase 0) come ahead of
/// head comments of the entry after (phase 1), as sops appends them.
pub(super) type Placement = HashMap<Vec<usize>, Vec<(usize, u8, String)>>;

const FOOT: u8 = 0;
const HEAD: u8 = 1;

/// Every comment of `text`. `shapes` gives the scalars, whose quoted or
/// block content may hold a `#` that is not a comment.
pub(super) fn scan(text: &str, shapes: &[&Shape]) -> Vec<Comment> {
    let lines: Vec<Vec<char>> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l).chars().collect())
        .collect();
    let mut masked: Vec<Vec<bool>> = lines.iter().map(|l| vec![false; l.len()]).collect();
    let mut scalars = Vec::new();
    for shape in shapes {
        collect_scalars(shape, &mut scalars);
    }
    for (line, col, style, empty) in scalars {
        let (l, c) = (line.saturating_sub(1), col);
        match style {
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => {
                mask_quoted(
                    &lines,
                    &mut masked,
                    l,
                    c,
                    style == TScalarStyle::DoubleQuoted,
                );
            }
            TScalarStyle::Literal | TScalarStyle::Folded if !empty => {
                mask_block(&lines, &mut masked, l, c);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (l, chars) in lines.iter().enumerate() {
        for (c, &ch) in chars.iter().enumerate() {
            if ch != '#' || masked[l][c] {
                continue;
            }
            if c > 0 && !matches!(chars[c - 1], ' ' | '\t') {
                continue;
            }
            out.push(Comment {
                line: l + 1,
                col: c,
                text: chars[c + 1..].iter().collect(),
                inline: chars[..c].iter().any(|ch| !matches!(ch, ' ' | '\t')),
                before: chars[..c].iter().collect(),
            });
            break;
        }
    }
    out
}

fn collect_scalars(shape: &Shape, out: &mut Vec<(usize, usize, TScalarStyle, bool)>) {
    match shape {
        Shape::Scalar {
            line,
            col,
            style,
            empty,
        } => out.push((*line, *col, *style, *empty)),
        Shape::Alias { .. } => {}
        Shape::Seq { items, .. } => items.iter().for_each(|s| collect_scalars(s, out)),
        Shape::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
            collect_scalars(k, out);
            collect_scalars(v, out);
        }),
    }
}

/// Masks a quoted scalar from its opening quote to its closing one.
fn mask_quoted(lines: &[Vec<char>], masked: &mut [Vec<bool>], l: usize, c: usize, double: bool) {
    let quote = if double { '"' } else { '\'' };
    let (mut l, mut c) = (l, c);
    let mut first = true;
    while l < lines.len() {
        while c < lines[l].len() {
            masked[l][c] = true;
            let ch = lines[l][c];
            if first {
                first = false;
            } else if double && ch == '\\' {
                if c + 1 < lines[l].len() {
                    masked[l][c + 1] = true;
                    c += 1;
                }
            } else if ch == quote {
                if !double && lines[l].get(c + 1) == Some(&'\'') {
                    masked[l][c + 1] = true;
                    c += 1;
                } else {
                    return;
                }
            }
            c += 1;
        }
        l += 1;
        c = 0;
    }
}

/// Masks a block scalar's content: from its first content line, every
/// line that is blank or indented at least as far.
fn mask_block(lines: &[Vec<char>], masked: &mut [Vec<bool>], l: usize, c: usize) {
    for line in l..lines.len() {
        let chars = &lines[line];
        let indent = chars.iter().take_while(|ch| **ch == ' ').count();
        let blank = chars.iter().all(|ch| matches!(ch, ' ' | '\t'));
        if !blank && indent < c {
            return;
        }
        masked[line].iter_mut().for_each(|m| *m = true);
    }
}

/// One mapping key or sequence item: where it starts, its container and
/// its index there.
#[derive(Debug, Clone)]
struct Entry {
    line: usize,
    col: usize,
    container: Vec<usize>,
    index: usize,
    /// An entry of a flow collection (`[a, b]`, `{a: 1}`).
    flow: bool,
    /// A mapping entry's value is a flow collection starting on this line:
    /// its line and path.
    flow_value: Option<(usize, Vec<usize>)>,
    /// A sequence item with nothing after its `-`: it takes no comments.
    empty_item: bool,
    /// A sequence item (else a mapping key).
    item: bool,
    /// A mapping key with nothing after its `:`.
    empty_value: bool,
}

fn entries(
    shape: &Shape,
    lines: &[Vec<char>],
    path: &mut Vec<usize>,
    in_flow: bool,
    out: &mut Vec<Entry>,
) {
    let flow_value = |v: &Shape, path: &Vec<usize>, i: usize| match v {
        Shape::Seq {
            flow: true, line, ..
        }
        | Shape::Map {
            flow: true, line, ..
        } => {
            let mut p = path.clone();
            p.push(i);
            Some((*line, p))
        }
        _ => None,
    };
    match shape {
        Shape::Map {
            entries: e, flow, ..
        } => {
            for (i, (k, v)) in e.iter().enumerate() {
                let (line, col) = k.start();
                let col = key_start(lines, line, col);
                out.push(Entry {
                    line,
                    col,
                    container: path.clone(),
                    index: i,
                    flow: in_flow || *flow,
                    flow_value: flow_value(v, path, i),
                    empty_item: false,
                    item: false,
                    empty_value: is_empty_plain(v),
                });
                path.push(i);
                entries(v, lines, path, in_flow || *flow, out);
                path.pop();
            }
        }
        Shape::Seq {
            items,
            flow,
            line: seq_line,
            col: seq_col,
        } => {
            let dash_col = if *flow {
                *seq_col
            } else {
                dash_column(lines, *seq_line, *seq_col)
            };
            let mut dash_line = seq_line.saturating_sub(1);
            for (i, item) in items.iter().enumerate() {
                let (mut line, item_col) = item.start();
                if !*flow {
                    // A block item starts at its `-` (an empty item is
                    // reported where the next token starts).
                    if let Some(l) = (dash_line + 1..=line).find(|l| is_dash(lines, *l, dash_col)) {
                        line = l;
                    }
                    dash_line = line;
                }
                out.push(Entry {
                    line,
                    col: if *flow { item_col } else { dash_col },
                    container: path.clone(),
                    index: i,
                    flow: in_flow || *flow,
                    // (A comment after an item's flow collection stays above the item.)
                    flow_value: None,
                    empty_item: !*flow && is_empty_plain(item),
                    item: true,
                    empty_value: false,
                });
                path.push(i);
                entries(item, lines, path, in_flow || *flow, out);
                path.pop();
            }
        }
        Shape::Scalar { .. } | Shape::Alias { .. } => {}
    }
}

/// Where a key's entry starts: at a `?` (complex key), tag or anchor
/// written before the key's text on its line.
fn key_start(lines: &[Vec<char>], line: usize, col: usize) -> usize {
    let Some(chars) = lines.get(line.wrapping_sub(1)) else {
        return col;
    };
    let mut start = col;
    loop {
        let mut c = start;
        while c > 0 && matches!(chars.get(c - 1), Some(' ' | '\t')) {
            c -= 1;
        }
        let end = c;
        while c > 0 && !matches!(chars.get(c - 1), Some(' ' | '\t')) {
            c -= 1;
        }
        if c == end {
            return start;
        }
        let token = &chars[c..end];
        if token == ['?'] || matches!(token.first(), Some('!' | '&')) {
            start = c;
        } else {
            return start;
        }
    }
}

/// Start lines of the empty flow collections in `shape`.
fn empty_flows(shape: &Shape, out: &mut Vec<usize>) {
    match shape {
        Shape::Seq {
            flow: true,
            items,
            line,
            ..
        } if items.is_empty() => out.push(*line),
        Shape::Map {
            flow: true,
            entries,
            line,
            ..
        } if entries.is_empty() => out.push(*line),
        Shape::Seq { items, .. } => items.iter().for_each(|s| empty_flows(s, out)),
        Shape::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
            empty_flows(k, out);
            empty_flows(v, out);
        }),
        Shape::Scalar { .. } | Shape::Alias { .. } => {}
    }
}

/// A node written as nothing at all (an empty plain scalar).
fn is_empty_plain(shape: &Shape) -> bool {
    matches!(
        shape,
        Shape::Scalar {
            style: TScalarStyle::Plain,
            empty: true,
            ..
        }
    )
}

/// The column of a block sequence's `-`: where it was reported, or (for a
/// sequence not indented under its key) left of that, before the first item.
fn dash_column(lines: &[Vec<char>], line: usize, col: usize) -> usize {
    let Some(chars) = lines.get(line.wrapping_sub(1)) else {
        return col;
    };
    if chars.get(col) == Some(&'-') {
        return col;
    }
    let mut c = col;
    while c > 0 && matches!(chars.get(c - 1), Some(' ' | '\t')) {
        c -= 1;
    }
    if c > 0 && chars.get(c - 1) == Some(&'-') {
        c - 1
    } else {
        col
    }
}

/// Line `line` (1-based) has a sequence `-` at `col`.
fn is_dash(lines: &[Vec<char>], line: usize, col: usize) -> bool {
    lines.get(line.wrapping_sub(1)).is_some_and(|chars| {
        chars.get(col) == Some(&'-')
            && chars
                .get(col + 1)
                .is_none_or(|c| matches!(c, ' ' | '\t' | '\r'))
    })
}

/// Places `comments` (sorted by position) in documents `docs`, given by
/// their shapes, the text's lines and the lines of its `---` markers.
/// Returns one [`Placement`] per document.
pub(super) fn place(
    comments: &[Comment],
    docs: &[&Shape],
    text: &str,
    markers: &[usize],
) -> Vec<Placement> {
    let lines: Vec<Vec<char>> = text.split('\n').map(|l| l.chars().collect()).collect();
    let mut blank: Vec<bool> = text.split('\n').map(|l| l.trim().is_empty()).collect();
    // What follows the last line break is the end, not a blank line.
    if let Some(last) = blank.last_mut() {
        *last = false;
    }
    let is_blank = |line: usize| line >= 1 && blank.get(line - 1).copied().unwrap_or(true);
    // Document k starts at the `---` before its content, else at its content.
    let mut bounds = vec![0usize; docs.len()];
    for k in 1..docs.len() {
        let start = docs[k].start().0;
        let prev = docs[k - 1].start().0;
        bounds[k] = markers
            .iter()
            .copied()
            .filter(|m| *m > prev && *m <= start)
            .max()
            .unwrap_or(start);
    }
    let lists: Vec<Vec<Entry>> = docs
        .iter()
        .map(|d| {
            let mut v = Vec::new();
            entries(d, &lines, &mut Vec::new(), false, &mut v);
            v.sort_by_key(|e| (e.line, e.col));
            v
        })
        .collect();
    // Comments inside an empty flow collection left open on its line
    // (`key: {` ... `}`, as yaml.v3 writes one holding comments) are lost
    // by yaml.v3.
    let mut inside_empty_flow = vec![false; lines.len() + 2];
    for d in docs {
        let mut starts = Vec::new();
        empty_flows(d, &mut starts);
        for start in starts {
            let open = lines.get(start - 1).is_some_and(|l| {
                matches!(l.iter().rev().find(|c| !c.is_whitespace()), Some('{' | '['))
            });
            if !open {
                continue;
            }
            for l in start + 1..=lines.len() {
                let t: String = lines[l - 1].iter().collect();
                if matches!(t.trim(), "}" | "]") {
                    break;
                }
                inside_empty_flow[l] = true;
            }
        }
    }
    let mut out = vec![Placement::new(); docs.len()];
    let mut i = 0;
    while i < comments.len() {
        let c = &comments[i];
        if inside_empty_flow[c.line] {
            i += 1;
            continue;
        }
        let Some(k) = bounds.iter().rposition(|b| *b <= c.line) else {
            i += 1;
            continue;
        };
        let list = &lists[k];
        // A comment after a lone `-` is a head comment of the item it opens.
        let lone_dash = c.inline && c.before.trim_start_matches(['-', ' ', '\t']).is_empty();
        if c.inline && !lone_dash {
            let (container, slot) = line_target(c, list);
            out[k]
                .entry(container)
                .or_default()
                .push((slot, HEAD, c.text.clone()));
            i += 1;
            continue;
        }
        let col = if lone_dash {
            c.before
                .rfind('-')
                .map_or(c.col, |d| c.before[..d].chars().count())
        } else {
            c.col
        };
        if lone_dash {
            // A head comment of whatever follows: the item the `-` opens,
            // or when that is empty, the next entry.
            let item = list
                .iter()
                .find(|e| !e.flow && e.line == c.line && e.col == col);
            let target = match item {
                Some(e) if !e.empty_item => Some(e),
                _ => list
                    .iter()
                    .find(|e| !e.flow && !e.empty_item && e.line > c.line),
            };
            let (container, slot) = target.map_or((Vec::new(), top_len(list)), |e| {
                (e.container.clone(), e.index)
            });
            out[k]
                .entry(container)
                .or_default()
                .push((slot, HEAD, c.text.clone()));
            i += 1;
            continue;
        }
        // A region: the comment lines up to the next content.
        let mut j = i + 1;
        while j < comments.len()
            && !comments[j].inline
            && (comments[j - 1].line + 1..comments[j].line).all(&is_blank)
        {
            j += 1;
        }
        let region: Vec<(usize, &Comment)> = comments[i..j].iter().map(|c| (c.line, c)).collect();
        for ((container, slot), phase, texts) in region_targets(&region, list, &is_blank) {
            for text in texts {
                out[k]
                    .entry(container.clone())
                    .or_default()
                    .push((slot, phase, text));
            }
        }
        i = j;
    }
    out
}

type Target = (Vec<usize>, usize);

/// One stretch of comment lines yaml.v3 keeps together, and what it made
/// of it.
enum Segment {
    /// A foot comment of the prior content.
    Foot,
    /// A foot comment no longer tied to the prior content: it goes to the
    /// first block that ends at or after it.
    LooseFoot,
    /// A head comment of the next content.
    Head,
}

/// yaml.v3's scanner on the comment lines between two pieces of content
/// (`scan_comments`), then where sops ends up with each part. `P` is the
/// last block entry before them, `T` the next one, `I` the indentation of
/// `P`'s block.
fn region_targets(
    region: &[(usize, &Comment)],
    list: &[Entry],
    is_blank: &dyn Fn(usize) -> bool,
) -> Vec<(Target, u8, Vec<String>)> {
    let first = region[0].1;
    let last_line = region[region.len() - 1].0;
    let prev = prev_entry(list, first.line, first.col);
    // What comes next, and what takes a head comment: an empty item takes
    // none, the entry after it does (or, with none, the comment is lost).
    let next = list.iter().find(|e| !e.flow && e.line > last_line);
    let taker = list
        .iter()
        .find(|e| !e.flow && !e.empty_item && e.line > last_line);
    let head = match (next, taker) {
        (Some(n), None) if n.empty_item => None,
        _ => Some(head_target(taker, list)),
    };
    let Some(p) = prev else {
        // Nothing before: head comments of what follows.
        return head
            .map(|target| {
                (
                    target,
                    HEAD,
                    region.iter().map(|(_, c)| c.text.clone()).collect(),
                )
            })
            .into_iter()
            .collect();
    };
    let indent = p.col;
    let mut first_empty = !is_blank(first.line - 1);
    let mut segments: Vec<(Segment, usize, usize)> = Vec::new(); // (kind, from, to)
    let mut from = 0;
    // Only the first stretch stays tied to the prior content, and one
    // closed by a blank line only when it is not dedented.
    let close =
        |segments: &mut Vec<(Segment, usize, usize)>, from: usize, to: usize, loose: bool| {
            let kind = if segments.is_empty() && !loose {
                Segment::Foot
            } else {
                Segment::LooseFoot
            };
            segments.push((kind, from, to));
        };
    for n in 1..=region.len() {
        let seg_col = region[from].1.col;
        let prev_line = region[n - 1].0;
        let gap = n < region.len() && region[n].0 > prev_line + 1
            || n == region.len() && next.is_some() && is_blank(prev_line + 1);
        if gap && from < n {
            // The first blank line: the comment so far is a foot of the
            // prior content when it followed it directly (unless that was
            // a key with nothing after it), or when it is dedented.
            let direct = segments.is_empty() && !p.empty_value;
            if first_empty && (direct || seg_col < indent) {
                close(&mut segments, from, n, seg_col < indent);
                from = n;
            }
            first_empty = false;
        }
        if n < region.len() {
            let c = region[n].1;
            if from < n && c.col < indent && c.col != region[from].1.col {
                close(&mut segments, from, n, false);
                from = n;
            }
        } else if from < n {
            let seg_col = region[from].1.col;
            match next {
                Some(t) if t.col < indent && t.col != seg_col => {
                    close(&mut segments, from, n, false);
                }
                Some(_) => segments.push((Segment::Head, from, n)),
                None => {
                    // The end of the stream ends the comment like a blank line.
                    let direct = segments.is_empty() && !p.empty_value;
                    if first_empty && !is_blank(prev_line + 1) && (direct || seg_col < indent) {
                        close(&mut segments, from, n, seg_col < indent);
                    } else {
                        segments.push((Segment::Head, from, n));
                    }
                }
            }
        }
    }
    let blocks = open_blocks(list, p);
    segments
        .into_iter()
        .filter_map(|(kind, from, to)| {
            let phase = if matches!(kind, Segment::Head) {
                HEAD
            } else {
                FOOT
            };
            let target = match kind {
                Segment::Foot => match p.container.split_last() {
                    // (An empty item leaves only its `-`: the foot goes to
                    // what holds the sequence.)
                    Some((last, parent)) if p.empty_item => (parent.to_vec(), last + 1),
                    _ => (p.container.clone(), p.index + 1),
                },
                Segment::LooseFoot => match loose_foot(region, from, &blocks, next) {
                    Some(t) => t,
                    None => head.clone()?,
                },
                Segment::Head => head.clone()?,
            };
            Some((
                target,
                phase,
                region[from..to]
                    .iter()
                    .map(|(_, c)| c.text.clone())
                    .collect(),
            ))
        })
        .collect()
}

fn head_target(next: Option<&Entry>, list: &[Entry]) -> Target {
    next.map_or((Vec::new(), top_len(list)), |t| {
        (t.container.clone(), t.index)
    })
}

/// A block mapping or sequence open at some entry.
struct Block {
    path: Vec<usize>,
    indent: usize,
    seq: bool,
    len: usize,
}

/// The blocks around `p`, innermost first.
fn open_blocks(list: &[Entry], p: &Entry) -> Vec<Block> {
    (0..=p.container.len())
        .rev()
        .filter_map(|n| {
            let path = &p.container[..n];
            let members: Vec<&Entry> = list
                .iter()
                .filter(|e| !e.flow && e.container == path)
                .collect();
            let first = members.first()?;
            Some(Block {
                path: path.to_vec(),
                indent: first.col,
                seq: first.item,
                len: members.len(),
            })
        })
        .collect()
}

/// yaml.v3 ends each block that the next content (or the end) closes
/// before the first comment in that block's column; a loose foot comment
/// joins the first of those block ends at or after it. A mapping keeps it
/// after its last entry, a sequence hands it to the entry holding it.
fn loose_foot(
    region: &[(usize, &Comment)],
    from: usize,
    blocks: &[Block],
    next: Option<&Entry>,
) -> Option<Target> {
    let mut mark: isize = -1;
    for b in blocks {
        if next.is_some_and(|t| t.col >= b.indent) {
            break;
        }
        if let Some(n) = region.iter().position(|(_, c)| c.col == b.indent) {
            mark = n as isize;
        }
        if mark >= from as isize {
            return Some(if b.seq {
                match b.path.split_last() {
                    Some((last, parent)) => (parent.to_vec(), last + 1),
                    None => (Vec::new(), b.len),
                }
            } else {
                (b.path.clone(), b.len)
            });
        }
    }
    None
}

/// The last block entry that starts before (line, col).
fn prev_entry(list: &[Entry], line: usize, col: usize) -> Option<&Entry> {
    list.iter()
        .rfind(|e| !e.flow && (e.line, e.col) < (line, col))
}

fn top_len(list: &[Entry]) -> usize {
    list.iter().filter(|e| e.container.is_empty()).count()
}

/// A comment after content on its line: above the entry it follows, or at
/// the start of a flow collection that entry's value opens.
fn line_target(c: &Comment, list: &[Entry]) -> (Vec<usize>, usize) {
    let prev = list
        .iter()
        .rfind(|e| !e.flow && (e.line, e.col) < (c.line, c.col));
    match prev {
        Some(Entry {
            flow_value: Some((line, path)),
            ..
        }) if *line <= c.line => (path.clone(), 0),
        Some(e) => (e.container.clone(), e.index),
        None => (Vec::new(), 0),
    }
}

/// Lines (1-based) holding a `---` document marker.
pub(super) fn document_markers(text: &str) -> Vec<usize> {
    text.split('\n')
        .enumerate()
        .filter(|(_, l)| {
            let l = l.strip_suffix('\r').unwrap_or(l);
            l == "---" || l.starts_with("--- ") || l.starts_with("---\t")
        })
        .map(|(i, _)| i + 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments_of(text: &str) -> Vec<(usize, usize, String, bool)> {
        let docs = crate::yaml::load_stream_with_shapes(text, "t").unwrap();
        let shapes: Vec<&Shape> = docs.iter().map(|(_, s)| s).collect();
        scan(text, &shapes)
            .into_iter()
            .map(|c| (c.line, c.col, c.text, c.inline))
            .collect()
    }

    #[test]
    fn hashes_in_quoted_and_block_scalars_are_not_comments() {
        let text = "# top\na: \"q #x\" # after\nb: 'it''s #y'\nc: |\n    lit # no\n    # no\n# yes\nd: a#b\n";
        assert_eq!(
            comments_of(text),
            vec![
                (1, 0, " top".into(), false),
                (2, 10, " after".into(), true),
                (7, 0, " yes".into(), false),
            ]
        );
    }
}
