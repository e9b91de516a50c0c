//! Go's `strconv.FormatFloat` and `encoding/json`'s float spelling.
//!
//! Rust's `{}` for `f64` already prints the shortest digits that round-trip,
//! as Go does with precision -1; what differs is when each switches to an
//! exponent and how the exponent is written.

/// `strconv.FormatFloat(f, 'f', -1, 64)`: shortest round-trip digits, never
/// an exponent.
pub(crate) fn format_f(f: f64) -> String {
    if let Some(special) = special(f) {
        return special.into();
    }
    format!("{f}")
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` (what yaml.v3 writes): shortest
/// digits, in `%e` form when the decimal exponent is < -4 or >= 6.
pub(crate) fn format_g(f: f64) -> String {
    if let Some(special) = special(f) {
        return special.into();
    }
    let (mant, exp) = split_exp(f);
    if f != 0.0 && !(-4..6).contains(&exp) {
        format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        format!("{f}")
    }
}

/// `encoding/json` float64: plain digits unless the exponent is < -6 or
/// >= 21, then Go's `e-7` / `e+21` spelling.
pub(crate) fn format_json(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (mant, exp) = split_exp(f);
        return if exp < 0 {
            format!("{mant}e-{}", -exp)
        } else {
            format!("{mant}e+{exp:02}")
        };
    }
    format!("{f}")
}

/// Go's spelling of NaN and the infinities.
fn special(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f.is_infinite() {
        Some(if f > 0.0 { "+Inf" } else { "-Inf" })
    } else {
        None
    }
}

/// Shortest mantissa and decimal exponent of `f` (`1.5e3` -> ("1.5", 3)).
fn split_exp(f: f64) -> (String, i32) {
    let s = format!("{f:e}");
    let (mant, e) = s.split_once('e').unwrap_or((&s, "0"));
    (mant.to_string(), e.parse().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_match_go() {
        assert_eq!(format_f(1e21), "1000000000000000000000");
        assert_eq!(format_f(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_g(1500000.0), "1.5e+06");
        assert_eq!(format_g(0.00001), "1e-05");
        assert_eq!(format_g(123456.0), "123456");
        assert_eq!(format_json(1e21), "1e+21");
        assert_eq!(format_json(1e-7), "1e-7");
        assert_eq!(format_json(0.5), "0.5");
    }
}
