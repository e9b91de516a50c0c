//! The `sops` metadata block: who can unwrap the data key, the MAC, and the
//! rule deciding which values are encrypted. Accepts what every sops
//! version from 3.7 on writes (empty `kms: []` lists, JSON nulls, any key
//! order, flattened dotenv/INI keys).

use super::tree::Node;
use crate::gocompat::strconv;
use anyhow::{Result, anyhow, bail};
use regex::Regex;

use super::tree::Rule;

/// One age recipient and the data key (or share) wrapped to it.
#[derive(Debug, Clone)]
pub struct AgeKey {
    pub recipient: String,
    pub enc: String,
}

#[derive(Debug, Clone)]
pub struct Metadata {
    /// Key groups; a file with top-level key lists has exactly one.
    pub groups: Vec<Vec<AgeKey>>,
    /// Keys of backends regcred cannot use (pgp, kms, ...), for messages.
    pub foreign_keys: Vec<String>,
    pub shamir_threshold: Option<usize>,
    pub lastmodified: String,
    pub mac: String,
    pub rule: Rule,
    pub mac_only_encrypted: bool,
}

impl Metadata {
    /// The age recipients of every key group, in file order.
    pub fn recipients(&self) -> Vec<String> {
        self.groups
            .iter()
            .flatten()
            .map(|k| k.recipient.clone())
            .collect()
    }
}

const RULE_KEYS: &[&str] = &[
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
];

const FOREIGN_BACKENDS: &[&str] = &["pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"];

fn text(node: Option<&Node>) -> Option<String> {
    match node? {
        Node::Str(s) | Node::Time(s) => Some(s.clone()),
        Node::Int(i) => Some(i.to_string()),
        Node::Float(f) => Some(strconv::format_f(*f)),
        Node::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn age_keys(list: Option<&Node>) -> Result<Vec<AgeKey>> {
    match list {
        None | Some(Node::Null) => Ok(Vec::new()),
        Some(Node::Seq(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let get = |k: &str| {
                    text(item.get(k)).ok_or_else(|| anyhow!("sops.age[{i}].{k}: missing"))
                };
                Ok(AgeKey {
                    recipient: get("recipient")?,
                    enc: get("enc")?,
                })
            })
            .collect(),
        Some(_) => bail!("sops.age: must be a list"),
    }
}

fn foreign(group: &Node, out: &mut Vec<String>) {
    for backend in FOREIGN_BACKENDS {
        if let Some(Node::Seq(items)) = group.get(backend) {
            for item in items {
                let id = [
                    "fp",
                    "arn",
                    "resource_id",
                    "vault_url",
                    "vault_address",
                    "key_id",
                ]
                .iter()
                .find_map(|k| text(item.get(k)))
                .unwrap_or_default();
                out.push(format!("{backend} {id}").trim_end().to_string());
            }
        }
    }
}

/// `3.9.0`, `3.10.2`, `3.11.0-rc.1`: the CLI refuses anything else.
/// Spelled out rather than a regular expression, which took as long to
/// compile as a small render's decryption.
fn is_semver(v: &str) -> bool {
    let (core, build) = v.split_once('+').map_or((v, None), |(c, b)| (c, Some(b)));
    let (core, pre) = core
        .split_once('-')
        .map_or((core, None), |(c, p)| (c, Some(p)));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ident = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    let mut parts = core.split('.');
    let three = (0..3).all(|_| parts.next().is_some_and(digits)) && parts.next().is_none();
    three && pre.is_none_or(ident) && build.is_none_or(ident)
}

/// sops re-formats `lastmodified` as RFC 3339 with whole seconds before
/// using it as the MAC's AAD.
fn normalise_time(t: &str) -> String {
    match t.find('.') {
        Some(dot) => {
            let zone = t[dot..].find(['Z', '+', '-']).map_or("", |z| &t[dot + z..]);
            format!("{}{zone}", &t[..dot])
        }
        None => t.to_string(),
    }
}

/// `shamir_threshold`: with several key groups, sops splits the data key
/// so that 2 to (number of groups) shares recombine it; one group is never
/// split. Anything else cannot come from sops and would break the unwrap.
fn threshold(text: &str, groups: usize) -> Result<usize> {
    let t: usize = text
        .parse()
        .map_err(|_| anyhow!("sops metadata: shamir_threshold is not a number"))?;
    let range = if groups > 1 { 2..=groups } else { 1..=1 };
    if !range.contains(&t) {
        bail!(
            "sops metadata: shamir_threshold {t} is out of range for {groups} key group(s) (expected {} to {})",
            range.start(),
            range.end()
        );
    }
    Ok(t)
}

pub fn parse(md: &Node) -> Result<Metadata> {
    if !matches!(md, Node::Map(_)) {
        bail!("sops metadata: must be a mapping");
    }
    // Checked, not kept: a file without a semantic version is not sops'.
    let version =
        text(md.get("version")).ok_or_else(|| anyhow!("sops metadata: version is missing"))?;
    if !is_semver(&version) {
        bail!("sops metadata: version {version:?} is not a semantic version (x.y.z)");
    }
    let mac = text(md.get("mac")).ok_or_else(|| anyhow!("sops metadata: mac is missing"))?;
    let lastmodified = text(md.get("lastmodified"))
        .ok_or_else(|| anyhow!("sops metadata: lastmodified is missing"))?;

    let set: Vec<(&str, String)> = RULE_KEYS
        .iter()
        .filter_map(|k| text(md.get(k)).filter(|v| !v.is_empty()).map(|v| (*k, v)))
        .collect();
    if set.len() > 1 {
        bail!(
            "sops metadata sets both {} and {}: only one encryption rule is allowed",
            set[0].0,
            set[1].0
        );
    }
    let regex =
        |v: &str| Regex::new(v).map_err(|_| anyhow!("sops metadata: invalid regular expression"));
    let rule = match set.first() {
        None => Rule::UnencryptedSuffix("_unencrypted".into()),
        Some(("unencrypted_suffix", v)) => Rule::UnencryptedSuffix(v.clone()),
        Some(("encrypted_suffix", v)) => Rule::EncryptedSuffix(v.clone()),
        Some(("unencrypted_regex", v)) => Rule::UnencryptedRegex(regex(v)?),
        Some(("encrypted_regex", v)) => Rule::EncryptedRegex(regex(v)?),
        Some(_) => Rule::ByContent,
    };

    let mut foreign_keys = Vec::new();
    let groups = match md.get("key_groups") {
        Some(Node::Seq(groups)) if !groups.is_empty() => groups
            .iter()
            .map(|g| {
                foreign(g, &mut foreign_keys);
                age_keys(g.get("age"))
            })
            .collect::<Result<Vec<_>>>()?,
        _ => {
            foreign(md, &mut foreign_keys);
            vec![age_keys(md.get("age"))?]
        }
    };
    if groups.iter().all(Vec::is_empty) && foreign_keys.is_empty() {
        bail!("sops metadata: no keys found in file");
    }
    let shamir_threshold = match text(md.get("shamir_threshold")) {
        Some(t) => Some(threshold(&t, groups.len())?),
        None => None,
    };
    let mac_only_encrypted = matches!(md.get("mac_only_encrypted"), Some(Node::Bool(true)))
        || text(md.get("mac_only_encrypted")).as_deref() == Some("true");
    Ok(Metadata {
        groups,
        foreign_keys,
        shamir_threshold,
        lastmodified: normalise_time(&lastmodified),
        mac,
        rule,
        mac_only_encrypted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_and_time() {
        assert!(is_semver("3.9.0") && is_semver("3.11.0-rc.1"));
        assert!(!is_semver("3.9") && !is_semver("latest"));
        assert_eq!(
            normalise_time("2024-01-01T10:00:00.123Z"),
            "2024-01-01T10:00:00Z"
        );
        assert_eq!(
            normalise_time("2024-01-01T10:00:00.5+02:00"),
            "2024-01-01T10:00:00+02:00"
        );
    }

    /// The hand-written check accepts exactly what sops' pattern does.
    #[test]
    fn semver_matches_the_pattern_it_replaced() {
        let re =
            Regex::new(r"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$").unwrap();
        let parts = [
            "", "3", "10", ".", "-", "+", "rc", "rc.1", "a-b", "x", "٣", " ",
        ];
        let mut checked = 0;
        for a in parts {
            for b in parts {
                for c in parts {
                    for v in [
                        format!("{a}.{b}.{c}"),
                        format!("{a}{b}{c}"),
                        format!("3.9.0{a}{b}{c}"),
                    ] {
                        assert_eq!(is_semver(&v), re.is_match(&v), "{v:?}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 5000);
    }

    #[test]
    fn shamir_threshold_out_of_range_is_an_error() {
        assert_eq!(threshold("2", 3).unwrap(), 2);
        assert_eq!(threshold("3", 3).unwrap(), 3);
        assert_eq!(threshold("1", 1).unwrap(), 1);
        for (t, groups) in [("0", 2), ("1", 2), ("4", 3), ("0", 1), ("2", 1), ("-1", 2)] {
            assert!(threshold(t, groups).is_err(), "{t} of {groups}");
        }
    }
}
