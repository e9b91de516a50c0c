//! Container image references, and which registry credentials kubelet would
//! use to pull them.
//!
//! `regcred check` decides offline whether a pod will find a pull secret for
//! each of its images, so both halves must agree with the cluster, quirks
//! included, or the check either misses an ImagePullBackOff or cries wolf:
//!
//! - **Parsing** is distribution/reference's `ParseNormalizedNamed`
//!   (`normalize.go`, `reference.go`, `regexp.go`), the parser kubelet runs on
//!   every container image (`parsers.ParseImageName`). `nginx` is
//!   `docker.io/library/nginx`, a first component is a registry host only if
//!   it has a `.` or `:`, is `localhost` or has an uppercase letter, and
//!   `index.docker.io` is folded into `docker.io`. The grammar is written out
//!   by hand instead of as one regex so that a rejection can say which part
//!   is wrong.
//! - **Matching** is kubelet's credential keyring
//!   (`pkg/credentialprovider/keyring.go`, `BasicDockerKeyring`): every
//!   `auths` key of every pull secret is indexed once (scheme and a leading
//!   `/v1/` or `/v2/` dropped), the index is searched most specific key first
//!   with a per-label host glob, an exact port and a *string* prefix on the
//!   path, and only when nothing matched do Docker Hub images fall back to
//!   the key `index.docker.io` (which `https://index.docker.io/v1/`, the
//!   `kubectl create secret docker-registry` default, becomes).

use std::fmt;
use std::str::FromStr;

/// Where images without a registry host come from.
const DEFAULT_DOMAIN: &str = "docker.io";
/// Docker Hub's old name; `splitDockerDomain` folds it into [`DEFAULT_DOMAIN`].
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// Namespace of Docker Hub's official images (`nginx` is `library/nginx`).
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// Tag assumed when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
/// Longest repository path (without the registry host) the grammar allows.
pub const PATH_MAX_LEN: usize = 255;
/// Longest tag the grammar allows.
const TAG_MAX_LEN: usize = 128;

/// A parsed, normalised image reference such as
/// `docker.io/library/nginx:1.27@sha256:…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

/// Which rule a rejected reference broke; each is one of distribution's (or
/// go-digest's) error values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Nothing to parse (`ErrNameEmpty`).
    NameEmpty,
    /// Does not match the reference grammar (`ErrReferenceInvalidFormat`).
    InvalidFormat,
    /// Would match if it were lowercase (`ErrNameContainsUppercase`).
    NameContainsUppercase,
    /// Repository path longer than [`PATH_MAX_LEN`] (`ErrNameTooLong`).
    NameTooLong,
    /// 64 lowercase hex digits alone: an image ID, not a name.
    HexIdentifier,
    /// Digest hex has the wrong case or alphabet (`ErrDigestInvalidFormat`).
    DigestInvalidFormat,
    /// Digest hex has the wrong length for its algorithm (`ErrDigestInvalidLength`).
    DigestInvalidLength,
    /// Digest algorithm is not sha256, sha384 or sha512 (`ErrDigestUnsupported`).
    DigestUnsupported,
}

/// A rejected image reference: the input, the rule and a readable reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    input: String,
    kind: ParseErrorKind,
    reason: String,
}

impl ParseError {
    fn new(input: &str, kind: ParseErrorKind, reason: String) -> Self {
        ParseError {
            input: input.to_string(),
            kind,
            reason,
        }
    }

    #[cfg(test)]
    /// The text that failed to parse.
    pub fn input(&self) -> &str {
        &self.input
    }

    #[cfg(test)]
    /// The rule it broke.
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// Why, e.g. `invalid reference format: repository name must be lowercase`.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "image {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// Parses an image reference as kubelet does (`ParseNormalizedNamed`):
/// Docker Hub defaults are filled in, nothing else is guessed.
pub fn parse(s: &str) -> Result<ImageRef, ParseError> {
    // distribution would report "invalid reference format" for "" (it parses
    // "docker.io/library/"); saying what is missing is kinder.
    if s.is_empty() {
        return Err(empty_error(s));
    }
    if s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ParseError::new(
            s,
            ParseErrorKind::HexIdentifier,
            format!("invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"),
        ));
    }
    let (domain, remainder) = split_docker_domain(s);
    let remote = remainder.split(':').next().unwrap_or_default();
    if remote.to_lowercase() != remote {
        return Err(ParseError::new(
            s,
            ParseErrorKind::NameContainsUppercase,
            format!("invalid reference format: repository name ({remote}) must be lowercase"),
        ));
    }
    parse_reference(&format!("{domain}/{remainder}")).map_err(|e| ParseError {
        input: s.into(),
        ..e
    })
}

impl FromStr for ImageRef {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// Accessors that only the ported upstream tests read are compiled for
/// tests only.
impl ImageRef {
    /// Registry host with optional port: `docker.io`, `localhost:5000`,
    /// `[::1]:5000`. Empty only for names distribution cannot split, such as
    /// `foo_bar.com/x` (`_` is not allowed in a host, so the whole name is a
    /// path); kubelet then still matches credentials on `foo_bar.com`.
    #[cfg(test)]
    pub fn domain(&self) -> &str {
        &self.domain
    }

    #[cfg(test)]
    /// Repository path inside the registry: `library/nginx`.
    pub fn path(&self) -> &str {
        &self.path
    }

    #[cfg(test)]
    /// The tag as written, if any (never defaulted; see [`Self::with_default_tag`]).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`sha256:…`), if any.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    #[cfg(test)]
    /// Whether the reference names a tag itself.
    pub fn has_explicit_tag(&self) -> bool {
        self.tag.is_some()
    }

    /// Full repository name without tag or digest, `docker.io/library/nginx`:
    /// the string kubelet hands its keyring (`repoToPull`).
    pub fn name(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    #[cfg(test)]
    /// The short name `docker` prints: `nginx`, `user/app`,
    /// `registry.example.com/app` (distribution's `familiarizeName`).
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(rest) if !rest.contains('/') => rest.to_string(),
            _ => self.path.clone(),
        }
    }

    #[cfg(test)]
    /// [`Self::familiar_name`] with the tag and digest: `nginx:1.27`.
    pub fn familiar_string(&self) -> String {
        self.with_suffix(self.familiar_name())
    }

    #[cfg(test)]
    /// The same reference with tag `latest` added when it has neither tag
    /// nor digest (distribution's `TagNameOnly`): what a runtime pulls.
    pub fn with_default_tag(&self) -> ImageRef {
        let mut r = self.clone();
        if r.tag.is_none() && r.digest.is_none() {
            r.tag = Some(DEFAULT_TAG.to_string());
        }
        r
    }

    /// True when the image can change under the same reference: no digest,
    /// and no tag or the tag `latest`. A digest pins the image whatever the
    /// tag says. (The API server's pull-policy default looks only at the tag:
    /// `:latest@sha256:…` still defaults to `Always`.)
    pub fn is_latest_or_untagged(&self) -> bool {
        self.digest.is_none() && self.tag.as_deref().is_none_or(|t| t == DEFAULT_TAG)
    }

    fn with_suffix(&self, mut s: String) -> String {
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

/// Normalised form, `docker.io/library/nginx:1.27`; no tag is invented.
impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.with_suffix(self.name()))
    }
}

/// `splitDockerDomain`: decides whether the first component is a registry.
fn split_docker_domain(name: &str) -> (&str, String) {
    let Some((maybe_domain, maybe_remote)) = name.split_once('/') else {
        // A single element ("ubuntu", "ubuntu:latest", even "example.com")
        // is never a host: it could be "hostname:port" otherwise.
        return (DEFAULT_DOMAIN, format!("{OFFICIAL_REPO_PREFIX}{name}"));
    };
    let (domain, remote) = if maybe_domain == "localhost" {
        (maybe_domain, maybe_remote)
    } else if maybe_domain == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, maybe_remote)
    } else if maybe_domain.contains(['.', ':']) || maybe_domain.to_lowercase() != maybe_domain {
        // A dot or colon means a host, IP address or port; an uppercase
        // letter cannot be a (lowercase-only) namespace, so it is a host too.
        (maybe_domain, maybe_remote)
    } else {
        (DEFAULT_DOMAIN, name)
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        // "docker.io/ubuntu" is "docker.io/library/ubuntu", on Docker Hub only.
        return (domain, format!("{OFFICIAL_REPO_PREFIX}{remote}"));
    }
    (domain, remote.to_string())
}

fn empty_error(s: &str) -> ParseError {
    ParseError::new(
        s,
        ParseErrorKind::NameEmpty,
        "repository name must have at least one component".into(),
    )
}

/// distribution's `Parse`: the grammar alone, no Docker Hub defaults.
fn parse_reference(s: &str) -> Result<ImageRef, ParseError> {
    if s.is_empty() {
        return Err(empty_error(s));
    }
    let Some((domain, path, tag, digest)) = split_reference(s) else {
        let lower = s.to_lowercase();
        if lower != s && split_reference(&lower).is_some() {
            return Err(ParseError::new(
                s,
                ParseErrorKind::NameContainsUppercase,
                "invalid reference format: repository name must be lowercase".into(),
            ));
        }
        return Err(ParseError::new(
            s,
            ParseErrorKind::InvalidFormat,
            format!("invalid reference format: {}", diagnose(s)),
        ));
    };
    if path.len() > PATH_MAX_LEN {
        return Err(ParseError::new(
            s,
            ParseErrorKind::NameTooLong,
            format!("repository name must not be more than {PATH_MAX_LEN} characters"),
        ));
    }
    if let Some(d) = digest {
        validate_digest(d).map_err(|kind| {
            let why = match kind {
                ParseErrorKind::DigestInvalidLength => "invalid checksum digest length",
                ParseErrorKind::DigestUnsupported => "unsupported digest algorithm",
                _ => "invalid checksum digest format",
            };
            ParseError::new(s, kind, format!("{why} ({d})"))
        })?;
    }
    Ok(ImageRef {
        domain: domain.into(),
        path: path.into(),
        tag: tag.map(Into::into),
        digest: digest.map(Into::into),
    })
}

type Parts<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>);

/// `name [":" tag] ["@" digest]`, split into domain, path, tag and digest,
/// or `None` when the text is not in the grammar. The split is unambiguous:
/// `@` occurs only before the digest, and a `:` is the tag separator exactly
/// when no `/` follows it (a port is always followed by the path).
fn split_reference(s: &str) -> Option<Parts<'_>> {
    let (rest, digest) = split_digest(s);
    if digest.is_some_and(|d| !is_digest_pattern(d)) {
        return None;
    }
    let (name, tag) = split_tag(rest);
    if tag.is_some_and(|t| !is_tag(t)) {
        return None;
    }
    let (domain, path) = split_name(name)?;
    Some((domain, path, tag, digest))
}

fn split_digest(s: &str) -> (&str, Option<&str>) {
    match s.split_once('@') {
        Some((rest, d)) => (rest, Some(d)),
        None => (s, None),
    }
}

fn split_tag(s: &str) -> (&str, Option<&str>) {
    match s.rfind(':') {
        Some(i) if !s[i + 1..].contains('/') => (&s[..i], Some(&s[i + 1..])),
        _ => (s, None),
    }
}

/// `[domain "/"] path`: the first component is the domain when it can be
/// one and the rest is a valid path (the regex's greedy optional group).
fn split_name(name: &str) -> Option<(&str, &str)> {
    match name.split_once('/') {
        Some((d, p)) if is_domain_and_port(d) && is_remote_name(p) => Some((d, p)),
        _ => is_remote_name(name).then_some(("", name)),
    }
}

/// Says which part of a reference that `split_reference` rejected is wrong.
fn diagnose(s: &str) -> String {
    let (rest, digest) = split_digest(s);
    if let Some(d) = digest {
        if d.contains('@') {
            return "only one '@' may separate the digest".into();
        }
        if !is_digest_pattern(d) {
            return format!("digest {d:?} is not algorithm:hex (at least 32 hex digits)");
        }
    }
    let (name, tag) = split_tag(rest);
    if let Some(t) = tag {
        if t.len() > TAG_MAX_LEN {
            return format!("tag {t:?} is longer than {TAG_MAX_LEN} characters");
        }
        if !is_tag(t) {
            return format!(
                "tag {t:?} must be letters, digits, '_', '.' and '-', not starting with '.' or '-'"
            );
        }
    }
    if name.is_empty() {
        return "missing repository name".into();
    }
    let components: Vec<&str> = name.split('/').collect();
    for (i, c) in components.iter().enumerate() {
        let may_be_domain = i == 0 && components.len() > 1;
        if c.is_empty() {
            return format!("empty path component in {name:?}");
        }
        if may_be_domain && is_domain_and_port(c) || is_path_component(c) {
            continue;
        }
        return if may_be_domain && c.contains(['.', ':', '[']) {
            format!("{c:?} is not a valid registry host")
        } else {
            format!(
                "path component {c:?} must be lowercase letters and digits separated by '.', '_', '__' or '-'"
            )
        };
    }
    "does not match the reference grammar".into()
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_lower_alnum(b[0]) || !is_lower_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_lower_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while !is_lower_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

/// `path-component ("/" path-component)*`
fn is_remote_name(p: &str) -> bool {
    p.split('/').all(is_path_component)
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`
fn is_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
}

/// `host [":" port]`, host a dotted domain name (IPv4 included) or an IPv6
/// address in brackets (hex and colons only: no zone, no embedded IPv4).
fn is_domain_and_port(d: &str) -> bool {
    let port = if let Some(inner) = d.strip_prefix('[') {
        let Some((addr, port)) = inner.split_once(']') else {
            return false;
        };
        if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        port
    } else {
        let (host, port) = match d.find(':') {
            Some(i) => d.split_at(i),
            None => (d, ""),
        };
        if !host.split('.').all(is_domain_component) {
            return false;
        }
        port
    };
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `[\w][\w.-]{0,127}`
fn is_tag(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= TAG_MAX_LEN
        && word(b[0])
        && b.iter().all(|&x| word(x) || x == b'.' || x == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`
fn is_digest_pattern(d: &str) -> bool {
    let Some((algorithm, hex)) = d.split_once(':') else {
        return false;
    };
    let component = |c: &str| {
        let b = c.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
    };
    algorithm.split(['-', '_', '+', '.']).all(component)
        && hex.len() >= 32
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// go-digest's `Digest.Validate` for a string that already matched
/// [`is_digest_pattern`]. sha384 and sha512 are accepted because kubelet
/// links them (distribution's own tests register only sha256).
fn validate_digest(d: &str) -> Result<(), ParseErrorKind> {
    let (algorithm, hex) = d.split_once(':').unwrap_or((d, ""));
    let size = match algorithm {
        "sha256" => 32,
        "sha384" => 48,
        "sha512" => 64,
        // go-digest's own pattern wants a lowercase algorithm.
        a if a.bytes().any(|b| b.is_ascii_uppercase()) => {
            return Err(ParseErrorKind::DigestInvalidFormat);
        }
        _ => return Err(ParseErrorKind::DigestUnsupported),
    };
    if hex.len() != size * 2 {
        return Err(ParseErrorKind::DigestInvalidLength);
    }
    if hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ParseErrorKind::DigestInvalidFormat);
    }
    Ok(())
}

mod keyring;
#[cfg(test)]
mod tests;

pub(crate) use keyring::KeyMatcher;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use keyring::registry_matches;
