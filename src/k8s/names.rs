//! Kubernetes naming rules.
//!
//! The rules are apimachinery's (`pkg/util/validation`): Secret and
//! ServiceAccount names are DNS-1123 subdomains, Namespace names DNS-1123
//! labels. Checking them here turns an apply-time API error into a
//! render-time message that names the spec field.

use super::meta::{self, CoreKind};
use anyhow::{Result, bail};
use serde_yaml_ng::Value;

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
    if !is_subdomain(s) {
        bail!(
            "{field}: {s:?} is not a valid name (DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)"
        );
    }
    Ok(())
}

fn is_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label)
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

/// A name the API server accepts for any object (apimachinery's
/// `ValidatePathSegmentName`): not `.` or `..`, no `/` or `%`. Names become
/// path components of `-o DIR` files, so this is also what keeps them there.
pub fn is_path_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '%', '\0'])
}

/// A kind as Go type names spell it: ASCII letters and digits.
fn is_kind(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Checks the identity of an input object before regcred targets, patches
/// or writes it: its kind, `metadata.namespace` (a DNS-1123 label) and
/// `metadata.name` (a path segment; a DNS-1123 label for a Namespace, a
/// subdomain for a Secret or ServiceAccount). The error names the object.
pub fn check_object(obj: &Value) -> Result<()> {
    check_identity(
        meta::kind(obj),
        meta::api_version(obj),
        meta::name(obj),
        meta::namespace(obj),
    )
}

/// [`check_object`] from the object's kind, apiVersion, name and namespace.
pub fn check_identity(
    kind: Option<&str>,
    api_version: Option<&str>,
    name: Option<&str>,
    namespace: Option<&str>,
) -> Result<()> {
    let kind = kind.unwrap_or_default();
    // Messages are put together only on error: this runs for every resource.
    let what = || format!("{kind} {}", name.unwrap_or("(no name)"));
    if !is_kind(kind) {
        bail!(
            "{}: kind {kind:?} is not a valid kind (letters and digits only)",
            what()
        );
    }
    if let Some(ns) = namespace {
        if !is_label(ns) {
            check_label(ns, &format!("{}: metadata.namespace", what()))?;
        }
    }
    let Some(name) = name else {
        return Ok(());
    };
    let core = |c: CoreKind| meta::is_core(Some(kind), api_version, c);
    let field = || format!("{}: metadata.name", what());
    if core(CoreKind::Namespace) {
        if is_label(name) {
            Ok(())
        } else {
            check_label(name, &field())
        }
    } else if core(CoreKind::Secret) || core(CoreKind::ServiceAccount) {
        if is_subdomain(name) {
            Ok(())
        } else {
            check_subdomain(name, &field())
        }
    } else if !is_path_segment(name) {
        bail!(
            "{}: {name:?} is not a valid name (it may not be '.' or '..' or contain '/' or '%')",
            field()
        )
    } else {
        Ok(())
    }
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

    #[test]
    fn objects_with_names_that_would_leave_a_directory_are_rejected() {
        let obj = |ns: &str, kind: &str, name: &str| {
            crate::yaml::load_stream(
                &format!("apiVersion: v1\nkind: {kind}\nmetadata: {{name: '{name}', namespace: '{ns}'}}\n"),
                "t",
            )
            .unwrap()
            .remove(0)
            .value
        };
        assert!(check_object(&obj("shop", "ConfigMap", "system:settings")).is_ok());
        for (ns, kind, name) in [
            ("../../escaped", "ConfigMap", "x"),
            ("/abs", "ConfigMap", "x"),
            ("Bad_NS", "ConfigMap", "x"),
            ("shop", "ConfigMap", "../x"),
            ("shop", "ConfigMap", ".."),
            ("shop", "Secret", "Upper"),
            ("shop", "Con/figMap", "x"),
        ] {
            let e = check_object(&obj(ns, kind, name)).unwrap_err().to_string();
            assert!(e.contains("is not a valid"), "{ns} {kind} {name}: {e}");
        }
    }
}
