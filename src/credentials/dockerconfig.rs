//! The `.dockerconfigjson` payload, byte for byte as
//! `kubectl create secret docker-registry` writes it.
//!
//! kubectl marshals a Go struct (`username, password, email, auth`, all
//! `omitempty`) with `encoding/json`, which escapes `<`, `>`, `&`, U+2028 and
//! U+2029 and writes compact JSON. Matching that exactly means a Secret
//! rendered by regcred diffs clean against one made by hand.

use super::document::Document;
use crate::gocompat::json::push_string;
use crate::k8s::names;
use crate::yaml::scalar_string;
use anyhow::{Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_yaml_ng::Value;
use zeroize::Zeroizing;

/// One entry of `auths`, keyed by the server exactly as written.
#[derive(Default)]
pub struct AuthEntry {
    pub server: String,
    pub username: Option<Zeroizing<String>>,
    pub password: Option<Zeroizing<String>>,
    pub email: Option<Zeroizing<String>>,
    pub auth: Option<Zeroizing<String>>,
    pub identity_token: Option<Zeroizing<String>>,
    pub registry_token: Option<Zeroizing<String>>,
}

impl AuthEntry {
    /// `auth` as given, else `base64(username:password)` as kubectl computes it.
    fn auth_value(&self) -> Option<Zeroizing<String>> {
        if let Some(a) = &self.auth {
            return Some(a.clone());
        }
        let (u, p) = (self.username.as_ref()?, self.password.as_ref()?);
        let mut joined = Zeroizing::new(Vec::with_capacity(u.len() + 1 + p.len()));
        joined.extend_from_slice(u.as_bytes());
        joined.push(b':');
        joined.extend_from_slice(p.as_bytes());
        Some(Zeroizing::new(STANDARD.encode(joined.as_slice())))
    }

    /// The most bytes the entry can take in JSON (every character escaped
    /// as `\u00XX`), with the comma before it.
    fn json_bound(&self) -> usize {
        let quoted = |n: usize| 6 * n + 2;
        // A comma, the quoted name and a colon: at most 20 bytes.
        let field = |v: &Option<Zeroizing<String>>| v.as_ref().map_or(0, |v| 20 + quoted(v.len()));
        let auth = match (&self.auth, &self.username, &self.password) {
            (Some(_), ..) => field(&self.auth),
            (None, Some(u), Some(p)) => 20 + quoted((u.len() + 1 + p.len()).div_ceil(3) * 4),
            _ => 0,
        };
        4 + quoted(self.server.len())
            + field(&self.username)
            + field(&self.password)
            + field(&self.email)
            + auth
            + field(&self.identity_token)
            + field(&self.registry_token)
    }
}

/// `{"auths":{...}}`, built one entry at a time, so that a caller can drop
/// each entry's plaintext as soon as it is written. The buffer grows by
/// copying into a larger zeroizing one, never by reallocating in place,
/// which would leave a copy of the credentials behind.
pub struct AuthsJson {
    out: Zeroizing<String>,
    entries: usize,
}

impl AuthsJson {
    const OPEN: &'static str = "{\"auths\":{";
    const CLOSE: &'static str = "}}";

    pub fn new() -> Self {
        let mut out = Zeroizing::new(String::with_capacity(1024));
        out.push_str(Self::OPEN);
        AuthsJson { out, entries: 0 }
    }

    /// Appends one entry of `auths`.
    pub fn push(&mut self, e: &AuthEntry) {
        let need = self.out.len() + e.json_bound() + Self::CLOSE.len();
        if need > self.out.capacity() {
            let mut grown =
                Zeroizing::new(String::with_capacity(need.max(2 * self.out.capacity())));
            grown.push_str(&self.out);
            self.out = grown;
        }
        if self.entries > 0 {
            self.out.push(',');
        }
        self.entries += 1;
        push_entry(&mut self.out, e);
    }

    /// The document (room for its end was kept by every push).
    pub fn finish(mut self) -> Zeroizing<String> {
        self.out.push_str(Self::CLOSE);
        self.out
    }
}

impl Default for AuthsJson {
    fn default() -> Self {
        Self::new()
    }
}

/// Renders `{"auths":{...}}` in entry order.
#[cfg(test)]
fn to_json(entries: &[AuthEntry]) -> Zeroizing<String> {
    let mut json = AuthsJson::new();
    for e in entries {
        json.push(e);
    }
    json.finish()
}

/// One `"server":{...}` of `auths`, fields in kubectl's order, empty ones
/// left out.
fn push_entry(out: &mut String, e: &AuthEntry) {
    push_string(out, &e.server);
    out.push_str(":{");
    let auth = e.auth_value();
    let fields = [
        ("username", e.username.as_ref()),
        ("password", e.password.as_ref()),
        ("email", e.email.as_ref()),
        ("auth", auth.as_ref()),
        ("identitytoken", e.identity_token.as_ref()),
        ("registrytoken", e.registry_token.as_ref()),
    ];
    let mut first = true;
    for (name, value) in fields {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            continue;
        };
        if !first {
            out.push(',');
        }
        first = false;
        push_string(out, name);
        out.push(':');
        push_string(out, value);
    }
    out.push('}');
}

/// Checks an `auth` value the way kubelet's credentialprovider decodes it:
/// standard base64 of `username:password`. Anything else renders a Secret
/// that makes every pull fail. The error never shows the value.
pub fn check_auth(auth: &str, field: &str) -> Result<()> {
    let decoded = STANDARD.decode(auth.as_bytes()).ok().map(Zeroizing::new);
    if !decoded.is_some_and(|d| d.contains(&b':')) {
        bail!("{field}: not base64(username:password), which is what kubelet expects in auth");
    }
    Ok(())
}

/// Reads every `auths` entry of a docker `config.json`, in file order.
pub fn import(content: &Document, field: &str, file: &str) -> Result<Vec<AuthEntry>> {
    let doc = content.tree(file)?;
    let Some(auths) = doc.get("auths").and_then(Value::as_mapping) else {
        bail!(
            "{field}: {file} has no \"auths\" object (credential helpers and credsStore are not supported)"
        );
    };
    if auths.is_empty() {
        bail!("{field}: {file} has an empty \"auths\" object");
    }
    auths
        .iter()
        .map(|(server, entry)| {
            let server = scalar_string(server).unwrap_or_default();
            names::check_server(&server, &format!("{field} ({file}: auths key)"))?;
            let get = |k: &str| entry.get(k).and_then(scalar_string).map(Zeroizing::new);
            let e = AuthEntry {
                username: get("username"),
                password: get("password"),
                email: get("email"),
                auth: get("auth"),
                identity_token: get("identitytoken"),
                registry_token: get("registrytoken"),
                server,
            };
            if let Some(auth) = &e.auth {
                check_auth(
                    auth,
                    &format!("{field} ({file}: auths entry {:?})", e.server),
                )?;
            }
            if e.auth_value().is_none() && e.identity_token.is_none() {
                bail!(
                    "{field}: {file}: auths entry {:?} has neither auth nor username and password",
                    e.server
                );
            }
            Ok(e)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(server: &str, u: &str, p: &str, email: Option<&str>) -> AuthEntry {
        AuthEntry {
            server: server.into(),
            username: Some(Zeroizing::new(u.into())),
            password: Some(Zeroizing::new(p.into())),
            email: email.map(|e| Zeroizing::new(e.into())),
            ..Default::default()
        }
    }

    #[test]
    fn matches_kubectl_layout_and_escaping() {
        let json = to_json(&[entry("r.io:5000", "robot$ci", "p<&>\"", None)]);
        assert_eq!(
            json.as_str(),
            r#"{"auths":{"r.io:5000":{"username":"robot$ci","password":"p\u003c\u0026\u003e\"","auth":"cm9ib3QkY2k6cDwmPiI="}}}"#
        );
        let json = to_json(&[
            entry("a", "u", "p", Some("e@x")),
            entry("b", "u", "p", None),
        ]);
        assert!(json.starts_with(
            r#"{"auths":{"a":{"username":"u","password":"p","email":"e@x","auth":"dTpw"},"b":"#
        ));
    }

    #[test]
    fn the_document_never_outgrows_its_buffer_in_place() {
        let mut json = AuthsJson::new();
        for i in 0..200 {
            let worst = "<".repeat(i * 7);
            json.push(&entry(&format!("r{i}.io"), &worst, "\u{1}", Some(&worst)));
            assert!(json.out.len() + AuthsJson::CLOSE.len() <= json.out.capacity());
        }
        assert!(json.finish().ends_with("}}}"));
    }

    #[test]
    fn imports_docker_config_in_file_order() {
        let cfg = r#"{"auths":{"z.io":{"auth":"eDp5"},"a.io":{"username":"u","password":"p"}}}"#;
        let doc = |text: &str| {
            Document::new(
                Zeroizing::new(text.to_string()),
                super::super::document::Format::Yaml,
            )
        };
        let entries = import(&doc(cfg), "f", "config.json").unwrap();
        assert_eq!(
            entries
                .iter()
                .map(|e| e.server.as_str())
                .collect::<Vec<_>>(),
            ["z.io", "a.io"]
        );
        assert_eq!(
            to_json(&entries).as_str(),
            r#"{"auths":{"z.io":{"auth":"eDp5"},"a.io":{"username":"u","password":"p","auth":"dTpw"}}}"#
        );
        assert!(import(&doc(r#"{"credsStore":"desktop"}"#), "f", "c").is_err());
    }

    #[test]
    fn auth_must_decode_to_user_colon_password() {
        assert!(check_auth("dTpw", "f").is_ok());
        for bad in ["pants", "dXNlcg==", "dTpw!", ""] {
            let e = check_auth(bad, "spec.registries[0].auth")
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("spec.registries[0].auth"), "{e}");
            assert!(!e.contains(bad) || bad.is_empty(), "{e}");
        }
    }
}
