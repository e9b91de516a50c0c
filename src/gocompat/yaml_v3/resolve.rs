//! yaml.v3's `resolve("", s)`: what a plain scalar means to it (`resolve.go`),
//! plus the two extra checks its encoder makes before writing a string plain
//! (`isBase60Float`, `isOldBool` in `encode.go`).

/// The type yaml.v3 gives a plain scalar, with its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX` (yaml.v3 decodes it as `uint64`).
    Uint(u64),
    Float(f64),
    /// A timestamp, as Go's `time.MarshalText` writes it (RFC 3339 with nanoseconds).
    Timestamp(String),
    Str,
}

/// `resolve("", s)` for a plain scalar.
pub(crate) fn resolve(s: &str) -> Resolved {
    let Some(&first) = s.as_bytes().first() else {
        return Resolved::Null;
    };
    let hint = match first {
        b'+' | b'-' => b'S',
        b'0'..=b'9' => b'D',
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => b'M',
        b'.' => b'.',
        // `<<` is in yaml.v3's map but has no hint, so it resolves as a string.
        _ => return Resolved::Str,
    };
    match s {
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match hint {
        b'.' => match parse_float(s) {
            Some(f) => Resolved::Float(f),
            None => Resolved::Str,
        },
        b'D' | b'S' => resolve_number(s),
        _ => Resolved::Str,
    }
}

fn resolve_number(s: &str) -> Resolved {
    if let Some(t) = timestamp(s) {
        return Resolved::Timestamp(t);
    }
    let plain = s.replace('_', "");
    if let Some(i) = parse_int(&plain) {
        return Resolved::Int(i);
    }
    if let Some(u) = parse_uint(&plain) {
        return Resolved::Uint(u);
    }
    // (Signed `0b`/`0o` spellings, which yaml.v3 retries by hand, are
    // already integers here: `ParseInt` with base 0 takes them.)
    match yaml_style_float(&plain)
        .then(|| parse_float(&plain))
        .flatten()
    {
        Some(f) => Resolved::Float(f),
        None => Resolved::Str,
    }
}

fn valid_digits(s: &str, radix: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_digit(radix))
}

/// `strconv.ParseInt(s, 0, 64)` (underscores already removed).
fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let u = parse_uint(body)?;
    if neg {
        if u <= i64::MAX as u64 + 1 {
            Some((u as i128).wrapping_neg() as i64)
        } else {
            None
        }
    } else {
        i64::try_from(u).ok()
    }
}

/// `strconv.ParseUint(s, 0, 64)`: `0x`, `0o`, `0b` and a leading `0` (octal).
fn parse_uint(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (digits, radix) = if let Some(h) = lower.strip_prefix("0x") {
        (h, 16)
    } else if let Some(o) = lower.strip_prefix("0o") {
        (o, 8)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (b, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    if !valid_digits(digits, radix) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// yaml.v3's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `strconv.ParseFloat(s, 64)` for the decimal forms yaml.v3 can reach, with
/// Go's underscore rule; `None` also when the value overflows (Go's
/// `ErrRange`), so `1e400` stays a string.
fn parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    // Underscores only between digits (Go's `underscoreOK`).
    if s.contains('_') {
        let mut prev = b'^';
        for (i, &c) in b.iter().enumerate() {
            if i == 0 && (c == b'-' || c == b'+') {
                continue;
            }
            if c == b'_' {
                if !prev.is_ascii_digit() {
                    return None;
                }
            } else if prev == b'_' && !c.is_ascii_digit() {
                return None;
            }
            prev = c;
        }
        if prev == b'_' {
            return None;
        }
    }
    let clean = s.replace('_', "");
    let body = clean.strip_prefix(['-', '+']).unwrap_or(&clean);
    // Decimal syntax only: Rust would also take "inf" and "nan" words.
    if !body
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'-' | b'+'))
        || !body.bytes().any(|c| c.is_ascii_digit())
    {
        return None;
    }
    let f: f64 = clean.parse().ok()?;
    f.is_finite().then_some(f)
}

/// yaml.v3's `parseTimestamp`: the four `time.Parse` layouts it tries,
/// returning the time as `MarshalText` writes it.
pub(crate) fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    parse_layout(s, Some(b'T'), true)
        .or_else(|| parse_layout(s, Some(b't'), true))
        .or_else(|| parse_layout(s, Some(b' '), false))
        .or_else(|| parse_layout(s, None, false))
}

/// `2006-1-2`, then (when `sep` is given) `<sep>15:4:5.999999999`, then
/// (when `zone`) `Z07:00`; nothing may follow.
fn parse_layout(s: &str, sep: Option<u8>, zone: bool) -> Option<String> {
    let b = s.as_bytes();
    let year: i32 = s[..4].parse().ok()?;
    let mut i = 5;
    let month = getnum(b, &mut i)?;
    lit(b, &mut i, b'-')?;
    let day = getnum(b, &mut i)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return None;
    }
    let date = format!("{year:04}-{month:02}-{day:02}");
    let Some(sep) = sep else {
        return (i == b.len()).then(|| format!("{date}T00:00:00Z"));
    };
    lit(b, &mut i, sep)?;
    let hour = getnum(b, &mut i)?;
    lit(b, &mut i, b':')?;
    let minute = getnum(b, &mut i)?;
    lit(b, &mut i, b':')?;
    let second = getnum(b, &mut i)?;
    if hour >= 24 || minute >= 60 || second >= 60 {
        return None;
    }
    let mut frac = String::new();
    if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let digits = &s[start..i.min(start + 9)];
        let trimmed = digits.trim_end_matches('0');
        if !trimmed.is_empty() {
            frac = format!(".{trimmed}");
        }
    }
    let offset = if zone {
        match b.get(i) {
            Some(b'Z') => {
                i += 1;
                "Z".to_string()
            }
            Some(&sign @ (b'+' | b'-')) => {
                let z = b.get(i..i + 6)?;
                if z[3] != b':' || !z[1..3].iter().chain(&z[4..6]).all(u8::is_ascii_digit) {
                    return None;
                }
                i += 6;
                let num = |d: &[u8]| u32::from(d[0] - b'0') * 10 + u32::from(d[1] - b'0');
                let (h, m) = (num(&z[1..3]), num(&z[4..6]));
                // Go accepts offsets of 24 hours or 60 minutes and
                // writes the offset back normalised.
                if h > 24 || m > 60 {
                    return None;
                }
                let total = h * 60 + m;
                if total == 0 {
                    "Z".to_string()
                } else {
                    format!("{}{:02}:{:02}", sign as char, total / 60, total % 60)
                }
            }
            _ => return None,
        }
    } else {
        "Z".to_string()
    };
    (i == b.len()).then(|| format!("{date}T{hour:02}:{minute:02}:{second:02}{frac}{offset}"))
}

/// Go's `getnum(value, false)`: one or two digits.
fn getnum(b: &[u8], i: &mut usize) -> Option<u32> {
    let d1 = *b.get(*i)?;
    if !d1.is_ascii_digit() {
        return None;
    }
    *i += 1;
    let mut n = u32::from(d1 - b'0');
    if let Some(&d2) = b.get(*i) {
        if d2.is_ascii_digit() {
            *i += 1;
            n = n * 10 + u32::from(d2 - b'0');
        }
    }
    Some(n)
}

fn lit(b: &[u8], i: &mut usize, c: u8) -> Option<()> {
    (b.get(*i) == Some(&c)).then(|| *i += 1)
}

fn days_in(month: u32, year: i32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
pub(crate) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) || !s.contains(':') {
        return false;
    }
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        match (b.get(i), b.get(i + 1)) {
            (Some(b'0'..=b'5'), Some(b'0'..=b'9')) => i += 2,
            (Some(b'0'..=b'9'), _) => i += 1,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// `isOldBool`: YAML 1.1 booleans that yaml.v3 reads as strings but still
/// quotes on the way out.
pub(crate) fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_as_in_yaml_v3() {
        assert_eq!(resolve(""), Resolved::Null);
        assert_eq!(resolve("yes"), Resolved::Str);
        assert_eq!(resolve("True"), Resolved::Bool(true));
        assert_eq!(resolve("0755"), Resolved::Int(493));
        assert_eq!(resolve("0x1F"), Resolved::Int(31));
        assert_eq!(resolve("-0b101"), Resolved::Int(-5));
        assert_eq!(resolve("0o17"), Resolved::Int(15));
        assert_eq!(resolve("1_000"), Resolved::Int(1000));
        assert_eq!(resolve("089"), Resolved::Float(89.0));
        assert_eq!(resolve("1e3"), Resolved::Float(1000.0));
        assert_eq!(resolve(".5"), Resolved::Float(0.5));
        assert_eq!(resolve("1e400"), Resolved::Str);
        assert_eq!(resolve("1e-400"), Resolved::Float(0.0));
        assert_eq!(resolve("18446744073709551615"), Resolved::Uint(u64::MAX));
        assert_eq!(resolve("-key-1"), Resolved::Str);
        assert_eq!(resolve("9+uB="), Resolved::Str);
        assert_eq!(resolve(".inf"), Resolved::Float(f64::INFINITY));
        assert_eq!(resolve("<<"), Resolved::Str);
        assert_eq!(resolve("0x"), Resolved::Str);
    }

    #[test]
    fn timestamps_follow_go_time_parse() {
        let t = |s: &str| timestamp(s);
        assert_eq!(t("2024-01-01").as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(t("2024-1-2").as_deref(), Some("2024-01-02T00:00:00Z"));
        assert_eq!(
            t("2001-12-14t21:59:43.10-05:00").as_deref(),
            Some("2001-12-14T21:59:43.1-05:00")
        );
        assert_eq!(
            t("2001-12-14 21:59:43.10").as_deref(),
            Some("2001-12-14T21:59:43.1Z")
        );
        assert_eq!(
            t("2025-01-02T03:04:05+00:00").as_deref(),
            Some("2025-01-02T03:04:05Z")
        );
        assert_eq!(t("2001-12-14 21:59:43.10 -5"), None);
        assert_eq!(t("2024-02-30"), None);
        assert_eq!(t("2024-01-01x"), None);
        assert_eq!(
            t("2024-01-01T1:2:3Z").as_deref(),
            Some("2024-01-01T01:02:03Z")
        );
    }

    #[test]
    fn old_bools_and_base60_floats() {
        assert!(is_old_bool("y") && is_old_bool("OFF") && !is_old_bool("true"));
        assert!(is_base60_float("190:20:30.15") && is_base60_float("1:20"));
        assert!(!is_base60_float("1:2:") && !is_base60_float("a:1") && !is_base60_float("12"));
    }
}
