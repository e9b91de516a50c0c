//! Go's `path/filepath.Match` on Unix, byte for byte.

/// Go's `path/filepath.Match` on Unix (`*`, `?`, `[…]` with `^` and ranges,
/// `\` escapes); `Err` for a malformed pattern, which kubelet treats as no
/// match.
pub(crate) fn glob_match(pattern: &[u8], name: &[u8]) -> Result<bool, ()> {
    let mut pattern = pattern;
    let mut name = name;
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing * matches the rest unless it holds a separator.
            return Ok(!name.contains(&b'/'));
        }
        // Match at the current position; the last chunk must use up the name.
        match match_chunk(chunk, name)? {
            Some(t) if t.is_empty() || !pattern.is_empty() => {
                name = t;
                continue;
            }
            _ => {}
        }
        if star {
            // Let the star swallow 1, 2, … bytes, never a separator.
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                if let Some(t) = match_chunk(chunk, &name[i + 1..])? {
                    if pattern.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'pattern;
                }
                i += 1;
            }
        }
        // No match; the rest of the pattern must still be well-formed.
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, b"")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Leading stars, then the chunk up to the next star outside a class.
fn scan_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut p = pattern;
    let mut star = false;
    while p.first() == Some(&b'*') {
        p = &p[1..];
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'\\' if i + 1 < p.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &p[..i], &p[i..])
}

/// Matches one star-free chunk at the start of `s`: `Ok(Some(rest))` on a
/// match, `Ok(None)` on none, `Err` for a malformed chunk (checked even
/// after the match has failed, as Go does).
fn match_chunk<'a>(chunk: &[u8], s: &'a [u8]) -> Result<Option<&'a [u8]>, ()> {
    let mut chunk = chunk;
    let mut s = s;
    let mut failed = false;
    while !chunk.is_empty() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match chunk[0] {
            b'[' => {
                let mut r = 0;
                if !failed {
                    let (c, n) = decode_rune(s);
                    r = c;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if chunk.first() == Some(&b']') && ranges > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk[0] == b'-' {
                        let (h, rest) = get_esc(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    ranges += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    s = &s[decode_rune(s).1..];
                }
                chunk = &chunk[1..];
            }
            c => {
                let c = if c == b'\\' {
                    chunk = &chunk[1..];
                    *chunk.first().ok_or(())?
                } else {
                    c
                };
                if !failed {
                    if c != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    Ok(if failed { None } else { Some(s) })
}

/// One (possibly escaped) character of a class; it must not end the chunk.
fn get_esc(chunk: &[u8]) -> Result<(u32, &[u8]), ()> {
    let mut chunk = chunk;
    match chunk.first() {
        None | Some(b'-') | Some(b']') => return Err(()),
        Some(b'\\') => {
            chunk = &chunk[1..];
            if chunk.is_empty() {
                return Err(());
            }
        }
        _ => {}
    }
    let (r, n) = decode_rune(chunk);
    if r == u32::from(char::REPLACEMENT_CHARACTER) && n == 1 {
        return Err(());
    }
    let rest = &chunk[n..];
    if rest.is_empty() {
        return Err(());
    }
    Ok((r, rest))
}

/// Go's `utf8.DecodeRune`: U+FFFD and width 1 for an invalid byte.
fn decode_rune(b: &[u8]) -> (u32, usize) {
    let width = match b.first() {
        None => return (u32::from(char::REPLACEMENT_CHARACTER), 0),
        Some(&c) if c < 0x80 => return (u32::from(c), 1),
        Some(&c) if c >= 0xf0 => 4,
        Some(&c) if c >= 0xe0 => 3,
        Some(_) => 2,
    };
    match b.get(..width).and_then(|w| std::str::from_utf8(w).ok()) {
        Some(s) => (u32::from(s.chars().next().unwrap_or_default()), width),
        None => (u32::from(char::REPLACEMENT_CHARACTER), 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[rustfmt::skip]
    fn go_glob_semantics() {
        for (pattern, name, want) in [
            ("*", "abc", Ok(true)),
            ("*", "", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*c", "abbbc", Ok(true)),
            ("a*c", "abbbd", Ok(false)),
            ("*c", "abc", Ok(true)),
            ("a*b*c", "axbyc", Ok(true)),
            ("a?c", "abc", Ok(true)),
            ("a?c", "ac", Ok(false)),
            ("[a-c]x", "bx", Ok(true)),
            ("[^a-c]x", "dx", Ok(true)),
            ("[^a-c]x", "bx", Ok(false)),
            ("[\\]]", "]", Ok(true)),
            ("a\\*", "a*", Ok(true)),
            ("a\\*", "ab", Ok(false)),
            ("[", "a", Err(())),
            ("[]", "a", Err(())),
            ("a[", "b", Err(())),
            ("a\\", "a", Err(())),
            ("*x", "a/x", Ok(false)),
        ] {
            let got = glob_match(pattern.as_bytes(), name.as_bytes());
            assert_eq!(got, want, "{pattern} vs {name}");
        }
    }
}
