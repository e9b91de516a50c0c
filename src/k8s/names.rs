//! Kubernetes naming rules.
//!
//! The rules are apimachinery's (`pkg/util/validation`): Secret and
//! ServiceAccount names are DNS-1123 subdomains, Namespace names DNS-1123
//! labels. Checking them here turns an apply-time API error into a
//! render-time message that names the spec field.

use anyhow::{Result, bail};

fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// DNS-1123 label: at most 63 of `[a-z0-9-]`, alphanumeric at both ends.
pub fn check_label(s: &str, field: &str) -> Result<()> {
    if !is_label(s) {
        bail!(
            "{field}: {s:?} is not a valid namespace name (DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)"
        );
    }
    Ok(())
}

/// DNS-1123 subdomain: at most 253 characters, dot-separated labels.
pub fn check_subdomain(s: &str, field: &str) -> Result<()> {
    if s.len() > 253 || !s.split('.').all(is_label) {
        bail!(
            "{field}: {s:?} is not a valid name (DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)"
        );
    }
    Ok(())
}

/// A registry server key as kubectl accepts it: any non-empty string
/// without whitespace or control characters. It is never normalised.
pub fn check_server(s: &str, field: &str) -> Result<()> {
    if s.is_empty() {
        bail!("{field}: must not be empty");
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("{field}: must not contain whitespace or control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_subdomains() {
        for ok in ["a", "team-a", "a1", &"a".repeat(63)] {
            assert!(check_label(ok, "f").is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"a".repeat(64)] {
            assert!(check_label(bad, "f").is_err(), "{bad}");
        }
        assert!(check_subdomain("regcred.team-a", "f").is_ok());
        assert!(check_subdomain("a..b", "f").is_err());
        assert!(check_subdomain(&"a".repeat(254), "f").is_err());
    }

    #[test]
    fn servers_reject_whitespace_and_control_characters() {
        assert!(check_server("registry.example.com:5000/team", "f").is_ok());
        for bad in ["", "a b", "a\tb", "a\u{7}"] {
            let e = check_server(bad, "spec.registries[0].server")
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("spec.registries[0].server"), "{e}");
        }
    }
}
