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

use std::collections::BTreeMap;
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

    /// The text that failed to parse.
    pub fn input(&self) -> &str {
        &self.input
    }

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

impl ImageRef {
    /// Registry host with optional port: `docker.io`, `localhost:5000`,
    /// `[::1]:5000`. Empty only for names distribution cannot split, such as
    /// `foo_bar.com/x` (`_` is not allowed in a host, so the whole name is a
    /// path); kubelet then still matches credentials on `foo_bar.com`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Repository path inside the registry: `library/nginx`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tag as written, if any (never defaulted; see [`Self::with_default_tag`]).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`sha256:…`), if any.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

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

    /// [`Self::familiar_name`] with the tag and digest: `nginx:1.27`.
    pub fn familiar_string(&self) -> String {
        self.with_suffix(self.familiar_name())
    }

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

/// The `auths` keys of every pull secret a pod can use, indexed as
/// kubelet's `BasicDockerKeyring` indexes them.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: Vec<String>,
    /// Index key to positions in `keys`, most specific (reverse-sorted) first.
    index: Vec<(String, Vec<usize>)>,
    ignored: Vec<usize>,
}

impl Keyring {
    /// Indexes `keys` (server strings exactly as in `auths`), in the order
    /// kubelet adds them: secret by secret, key by key.
    pub fn new<I, S>(keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let keys: Vec<String> = keys.into_iter().map(|k| k.as_ref().to_string()).collect();
        let mut by_index_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut ignored = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            match index_key(key) {
                Some(k) => by_index_key.entry(k).or_default().push(i),
                None => ignored.push(i),
            }
        }
        Keyring {
            keys,
            index: by_index_key.into_iter().rev().collect(),
            ignored,
        }
    }

    /// The keys whose credentials kubelet would try for `image`, in the order
    /// it tries them (most specific first); empty when it would pull
    /// anonymously.
    pub fn lookup(&self, image: &ImageRef) -> Vec<&str> {
        self.lookup_indices(image)
            .into_iter()
            .map(|i| self.keys[i].as_str())
            .collect()
    }

    /// Like [`Self::lookup`], as positions in the keys given to [`Self::new`],
    /// so a caller can tell which secret each credential came from.
    pub fn lookup_indices(&self, image: &ImageRef) -> Vec<usize> {
        self.lookup_name(&image.name())
    }

    /// Keys kubelet skips because Go's `url.Parse` rejects them (a bad port,
    /// a space or other character not allowed in a host, a bad `%` escape).
    pub fn ignored(&self) -> Vec<&str> {
        self.ignored
            .iter()
            .map(|&i| self.keys[i].as_str())
            .collect()
    }

    /// `BasicDockerKeyring.Lookup` on a repository name string.
    fn lookup_name(&self, name: &str) -> Vec<usize> {
        let mut found: Vec<usize> = self
            .index
            .iter()
            .filter(|(k, _)| urls_match_str(k, name))
            .flat_map(|(_, positions)| positions.iter().copied())
            .collect();
        if found.is_empty() && is_default_registry_match(name) {
            // Docker Hub fallback: only the key that is exactly the old index host.
            if let Some((_, positions)) =
                self.index.iter().find(|(k, _)| k == LEGACY_DEFAULT_DOMAIN)
            {
                found.extend(positions);
            }
        }
        found
    }
}

/// Whether kubelet would use the credentials stored under `auths` key `key`
/// for `image`, were it the only key.
pub fn registry_matches(key: &str, image: &ImageRef) -> bool {
    !Keyring::new([key]).lookup_indices(image).is_empty()
}

/// The index key kubelet's `BasicDockerKeyring.Add` derives from an `auths`
/// key: `https://` assumed, scheme dropped, a leading `/v1/` or `/v2/`
/// reduced to `/`, then host plus any remaining path. `None` for a key Go's
/// `url.Parse` rejects (kubelet logs and skips it).
fn index_key(key: &str) -> Option<String> {
    let url = if key.starts_with("https://") || key.starts_with("http://") {
        go_url_parse(key)?
    } else {
        go_url_parse(&format!("https://{key}"))?
    };
    let mut path = url.path.as_str();
    if path.starts_with("/v2/") || path.starts_with("/v1/") {
        path = &path[3..];
    }
    Some(if path.is_empty() || path == "/" {
        url.host
    } else {
        format!("{}{path}", url.host)
    })
}

/// `isDefaultRegistryMatch`: whether a repository name is a Docker Hub one
/// by its looks. On normalised names this is `docker.io`, but also any host
/// without `.` or `:`, such as `localhost` (kubelet's quirk, kept).
fn is_default_registry_match(image: &str) -> bool {
    let Some((first, _)) = image.split_once('/') else {
        return !image.is_empty();
    };
    if first.is_empty() {
        return false;
    }
    first == DEFAULT_DOMAIN || first == LEGACY_DEFAULT_DOMAIN || !first.contains(['.', ':'])
}

/// `URLsMatchStr`: whether index key `glob` covers repository name `target`.
/// Ports must be equal (none equals none only), hosts must have as many
/// dot-separated labels and each label must match as a `filepath.Match`
/// glob, and the key's path must be a string prefix of the target's:
/// `registry.example.com/team` also covers `registry.example.com/team-b`.
/// A key or name Go cannot parse matches nothing.
fn urls_match_str(glob: &str, target: &str) -> bool {
    let (Some(glob), Some(target)) = (
        go_url_parse(&format!("https://{glob}")),
        go_url_parse(&format!("https://{target}")),
    ) else {
        return false;
    };
    let (glob_parts, glob_port) = split_url(&glob.host);
    let (target_parts, target_port) = split_url(&target.host);
    glob_port == target_port
        && glob_parts.len() == target_parts.len()
        && target.path.starts_with(&glob.path)
        && glob_parts
            .iter()
            .zip(&target_parts)
            .all(|(g, t)| go_glob_match(g.as_bytes(), t.as_bytes()) == Ok(true))
}

/// `SplitURL`: host labels and port, via `net.SplitHostPort`; a host it
/// cannot split (no port, say) is kept whole with an empty port.
fn split_url(host: &str) -> (Vec<&str>, &str) {
    let (h, port) = split_host_port(host).unwrap_or((host, ""));
    (h.split('.').collect(), port)
}

/// Go's `net.SplitHostPort`.
fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let i = hostport.rfind(':')?;
    let (host, j, k) = if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        if end + 1 != i {
            return None;
        }
        (&hostport[1..end], 1, end + 1)
    } else {
        let host = &hostport[..i];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if hostport[j..].contains('[') || hostport[k..].contains(']') {
        return None;
    }
    Some((host, &hostport[i + 1..]))
}

/// The parts of a Go `*url.URL` the keyring reads.
struct GoUrl {
    host: String,
    path: String,
}

/// Go's `url.Parse` for an `http://` or `https://` URL, reduced to what the
/// keyring uses: the host (with port, after userinfo) and the unescaped
/// path, or `None` where Go returns an error. IPv6 zone identifiers are not
/// modelled.
fn go_url_parse(raw: &str) -> Option<GoUrl> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let (rest, fragment) = match raw.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (raw, None),
    };
    if let Some(f) = fragment {
        go_unescape(f, false)?;
    }
    let rest = rest
        .strip_prefix("https:")
        .or_else(|| rest.strip_prefix("http:"))?;
    let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
    let rest = rest.strip_prefix("//")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            if !userinfo
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&b))
            {
                return None;
            }
            go_unescape(userinfo, false)?;
            host
        }
        None => authority,
    };
    Some(GoUrl {
        host: go_parse_host(host)?,
        path: go_unescape(path, false)?,
    })
}

/// Go's `parseHost`: a port must be digits, then the host is unescaped.
fn go_parse_host(host: &str) -> Option<String> {
    let valid_port = |p: &str| {
        p.is_empty()
            || p.strip_prefix(':')
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
    };
    if host.starts_with('[') {
        let i = host.rfind(']')?;
        if !valid_port(&host[i + 1..]) {
            return None;
        }
    } else if host.rfind(':').is_some_and(|i| !valid_port(&host[i..])) {
        return None;
    }
    go_unescape(host, true)
}

/// Go's `url.unescape` in host mode (`in_host`) or path/other mode: `%XX`
/// must be two hex digits; a host may only escape non-ASCII bytes (or
/// `%25`) and may only contain letters, digits, `-._~` and sub-delimiters.
fn go_unescape(s: &str, in_host: bool) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = |x: u8| (x as char).to_digit(16);
                let (hi, lo) = (hex(*b.get(i + 1)?)?, hex(*b.get(i + 2)?)?);
                if in_host && hi < 8 && &s[i..i + 3] != "%25" {
                    return None;
                }
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            c => {
                if in_host
                    && c < 0x80
                    && !(c.is_ascii_alphanumeric() || b"-_.~!$&'()*+,;=:[]<>\"".contains(&c))
                {
                    return None;
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Go's `path/filepath.Match` on Unix (`*`, `?`, `[…]` with `^` and ranges,
/// `\` escapes); `Err` for a malformed pattern, which kubelet treats as no
/// match.
fn go_glob_match(pattern: &[u8], name: &[u8]) -> Result<bool, ()> {
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
    //! Tables are kept one case per line (`rustfmt::skip`) so they read like
    //! the upstream tables they were ported from.

    use super::*;
    use ParseErrorKind::*;

    const FF64: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    // ---------------------------------------------------------------------
    // Ported from github.com/distribution/reference at commit
    // 0965666a6ade2e06035fe352e38344be1e68951a (2026-04-18):
    // reference_test.go (TestReferenceParse, TestSerialization,
    // TestWithNameFailure, TestDomainAndPath, TestParseNamed) and
    // normalize_test.go (TestValidateReferenceName, TestValidateRemoteName,
    // TestParseRepositoryInfo, TestParseReferenceWithTagAndDigest,
    // TestInvalidReferenceComponents, TestParseAnyReference,
    // TestNormalizedSplitHostname, TestParseDockerRef).
    // ---------------------------------------------------------------------

    /// Expected result of the grammar-only `Parse`: (repository, domain, tag,
    /// digest), empty strings for "none", or the error kind.
    type Expect = Result<(String, String, String, String), ParseErrorKind>;

    fn ok(
        input: &str,
        repository: &str,
        domain: &str,
        tag: &str,
        digest: &str,
    ) -> (String, Expect) {
        let want = (repository.into(), domain.into(), tag.into(), digest.into());
        (input.into(), Ok(want))
    }

    fn err(input: &str, kind: ParseErrorKind) -> (String, Expect) {
        (input.into(), Err(kind))
    }

    /// reference_test.go `TestReferenceParse`, plus `TestSerialization` and
    /// the too-long name of `TestWithNameFailure`.
    #[rustfmt::skip]
    fn reference_parse_cases() -> Vec<(String, Expect)> {
        let d = &format!("sha256:{FF64}");
        let (a255, a256) = ("a".repeat(255), "a".repeat(256));
        let deep = format!("{}a", "a/".repeat(127));
        vec![
            ok("test_com", "test_com", "", "", ""),
            ok("test.com:tag", "test.com", "", "tag", ""),
            ok("test.com:5000", "test.com", "", "5000", ""),
            ok("test.com/repo:tag", "test.com/repo", "test.com", "tag", ""),
            ok("test:5000/repo", "test:5000/repo", "test:5000", "", ""),
            ok("test:5000/repo:tag", "test:5000/repo", "test:5000", "tag", ""),
            ok(&format!("test:5000/repo@{d}"), "test:5000/repo", "test:5000", "", d),
            ok(&format!("test:5000/repo:tag@{d}"), "test:5000/repo", "test:5000", "tag", d),
            err("", NameEmpty),
            err(":justtag", InvalidFormat),
            err(&format!("@{d}"), InvalidFormat),
            err("repo@sha256:ffffffffffffffffffffffffffffffffff", DigestInvalidLength),
            err(&format!("validname@invaliddigest:{FF64}"), DigestUnsupported),
            // Upstream expects ErrDigestUnsupported only because its test
            // binary does not link crypto/sha512; kubelet does, so it parses.
            ok(&format!("validname@sha512:{FF64}{FF64}"), "validname", "", "", &format!("sha512:{FF64}{FF64}")),
            err("Uppercase:tag", NameContainsUppercase),
            err("test:5000/Uppercase/lowercase:tag", NameContainsUppercase),
            ok("lowercase:Uppercase", "lowercase", "", "Uppercase", ""),
            err(&format!("domain/{a256}:tag"), NameTooLong),
            ok(&format!("{deep}:tag-puts-this-over-max"), &deep, "a", "tag-puts-this-over-max", ""),
            err("aa/asdf$$^/aa", InvalidFormat),
            ok("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "", ""),
            ok("sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "some-long-tag", ""),
            ok("b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io/test.example.com/my-app", "b.gcr.io", "test.example.com", ""),
            ok("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage", "xn--n3h.com", "xn--n3h.com", ""),
            ok(&format!("xn--7o8h.com/myimage:xn--7o8h.com@{d}"), "xn--7o8h.com/myimage", "xn--7o8h.com", "xn--7o8h.com", d),
            ok("foo_bar.com:8080", "foo_bar.com", "", "8080", ""),
            ok("foo/foo_bar.com:8080", "foo/foo_bar.com", "foo", "8080", ""),
            ok("192.168.1.1", "192.168.1.1", "", "", ""),
            ok("192.168.1.1:tag", "192.168.1.1", "", "tag", ""),
            ok("192.168.1.1:5000", "192.168.1.1", "", "5000", ""),
            ok("192.168.1.1/repo", "192.168.1.1/repo", "192.168.1.1", "", ""),
            ok("192.168.1.1:5000/repo", "192.168.1.1:5000/repo", "192.168.1.1:5000", "", ""),
            ok("192.168.1.1:5000/repo:5050", "192.168.1.1:5000/repo", "192.168.1.1:5000", "5050", ""),
            err("[2001:db8::1]", InvalidFormat),
            err("[2001:db8::1]:5000", InvalidFormat),
            err("[2001:db8::1]:tag", InvalidFormat),
            ok("[2001:db8::1]/repo", "[2001:db8::1]/repo", "[2001:db8::1]", "", ""),
            ok("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]/repo", "[2001:db8:1:2:3:4:5:6]", "tag", ""),
            ok("[2001:db8::1]:5000/repo", "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "", ""),
            ok("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "tag", ""),
            ok(&format!("[2001:db8::1]:5000/repo@{d}"), "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "", d),
            ok(&format!("[2001:db8::1]:5000/repo:tag@{d}"), "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "tag", d),
            ok("[2001:db8::]:5000/repo", "[2001:db8::]:5000/repo", "[2001:db8::]:5000", "", ""),
            ok("[::1]:5000/repo", "[::1]:5000/repo", "[::1]:5000", "", ""),
            err("[fe80::1%eth0]:5000/repo", InvalidFormat),
            err("[fe80::1%@invalidzone]:5000/repo", InvalidFormat),
            ok(&format!("example.com/{a255}:tag"), &format!("example.com/{a255}"), "example.com", "tag", ""),
            // TestSerialization
            ok("example.com:8000/named", "example.com:8000/named", "example.com:8000", "", ""),
            ok("example.com:8000/named:tagged", "example.com:8000/named", "example.com:8000", "tagged", ""),
            ok("other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112", "other.com/named", "other.com", "", "sha256:1234567890098765432112345667890098765432112345667890098765432112"),
            // TestWithNameFailure
            err(&format!("example.com/{a256}"), NameTooLong),
        ]
    }

    #[test]
    fn reference_parse_table() {
        for (input, want) in reference_parse_cases() {
            let got = parse_reference(&input);
            match (&want, &got) {
                (Err(kind), Err(e)) => assert_eq!(e.kind(), *kind, "{input}: {e}"),
                (Ok((repository, domain, tag, digest)), Ok(r)) => {
                    assert_eq!(r.to_string(), input, "round trip");
                    assert_eq!(&r.name(), repository, "{input}");
                    assert_eq!(r.domain(), domain, "{input}");
                    assert_eq!(r.tag().unwrap_or_default(), tag, "{input}");
                    assert_eq!(r.digest().unwrap_or_default(), digest, "{input}");
                }
                _ => panic!("{input}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    #[rustfmt::skip]
    fn domain_and_path_table() {
        // reference_test.go TestDomainAndPath (through Parse; no case has a tag).
        for (input, domain, path) in [
            ("test.com/foo", "test.com", "foo"),
            ("test_com/foo", "", "test_com/foo"),
            ("test:8080/foo", "test:8080", "foo"),
            ("test.com:8080/foo", "test.com:8080", "foo"),
            ("test-com:8080/foo", "test-com:8080", "foo"),
            ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
        ] {
            let r = parse_reference(input).unwrap();
            assert_eq!((r.domain(), r.path()), (domain, path), "{input}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn parse_named_is_canonical_only_when_normalisation_changes_nothing() {
        // reference_test.go TestParseNamed: ParseNamed accepts a name only if
        // normalising it changes nothing.
        for (input, canonical) in [
            ("test.com/foo", Some(("test.com", "foo"))),
            ("test:8080/foo", Some(("test:8080", "foo"))),
            ("test_com/foo", None),
            ("test.com", None),
            ("foo", None),
            ("library/foo", None),
            ("docker.io/library/foo", Some(("docker.io", "library/foo"))),
            ("docker.io/foo", None),
        ] {
            let r = parse(input).unwrap();
            let got = (r.to_string() == input).then(|| (r.domain(), r.path()));
            assert_eq!(got, canonical, "{input}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn validate_reference_name() {
        // normalize_test.go TestValidateReferenceName.
        for valid in [
            "docker/docker", "library/debian", "debian", "localhost/library/debian",
            "localhost/debian", "LOCALDOMAIN/library/debian", "LOCALDOMAIN/debian",
            "docker.io/docker/docker", "docker.io/library/debian", "docker.io/debian",
            "index.docker.io/docker/docker", "index.docker.io/library/debian",
            "index.docker.io/debian", "127.0.0.1:5000/docker/docker",
            "127.0.0.1:5000/library/debian", "127.0.0.1:5000/debian", "192.168.0.1",
            "192.168.0.1:80", "192.168.0.1:8/debian", "192.168.0.2:25000/debian",
            "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
            "[fc00::1]:5000/docker", "[fc00::1]:5000/docker/docker",
            "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
            "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "Docker/docker", "DOCKER/docker",
        ] {
            assert!(parse(valid).is_ok(), "{valid}: {:?}", parse(valid));
        }
        for invalid in [
            "https://github.com/docker/docker", "docker/Docker", "-docker", "-docker/docker",
            "-docker.io/docker/docker", "docker///docker", "docker.io/docker/Docker",
            "docker.io/docker///docker", "[fc00::1]", "[fc00::1]:5000", "fc00::1:5000/debian",
            "[fe80::1%eth0]:5000/debian", "[2001:db8:3:4::192.0.2.33]:5000/debian",
            "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        ] {
            assert!(parse(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn validate_remote_name() {
        // normalize_test.go TestValidateRemoteName.
        for valid in [
            "docker/docker", "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
            "docker-rules/docker", "docker---rules/docker", "doc/docker", "d/docker", "jess/t",
            "dock__er/docker",
        ] {
            assert!(parse(valid).is_ok(), "{valid}");
        }
        let too_long = format!("{}/docker", "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_".repeat(4));
        for invalid in [
            "docker/Docker", "docker///docker",
            "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "-docker/docker", "docker-/docker", "-docker-/docker", "____/____", "_docker/_docker",
            "dock..er/docker", "dock_.er/docker", "dock-.er/docker", "docker/", &too_long,
        ] {
            assert!(parse(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn parse_repository_info() {
        // normalize_test.go TestParseRepositoryInfo: the familiar, full and
        // ambiguous spellings all give the same familiar name, full name,
        // domain and path.
        for (path, familiar, full, ambiguous, domain) in [
            ("fooo", "localhost/fooo", "localhost/fooo", "localhost/fooo", "localhost"),
            ("fooo/bar", "localhost/fooo/bar", "localhost/fooo/bar", "localhost/fooo/bar", "localhost"),
            ("fooo", "LOCALDOMAIN/fooo", "LOCALDOMAIN/fooo", "LOCALDOMAIN/fooo", "LOCALDOMAIN"),
            ("fooo/bar", "LOCALDOMAIN/fooo/bar", "LOCALDOMAIN/fooo/bar", "LOCALDOMAIN/fooo/bar", "LOCALDOMAIN"),
            ("fooo/bar", "fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar", "docker.io"),
            ("library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "library/ubuntu", "docker.io"),
            ("nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "", "docker.io"),
            ("other/library", "other/library", "docker.io/other/library", "", "docker.io"),
            ("private/moonbase", "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase", "", "127.0.0.1:8000"),
            ("privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "", "127.0.0.1:8000"),
            ("private/moonbase", "example.com/private/moonbase", "example.com/private/moonbase", "", "example.com"),
            ("privatebase", "example.com/privatebase", "example.com/privatebase", "", "example.com"),
            ("private/moonbase", "example.com:8000/private/moonbase", "example.com:8000/private/moonbase", "", "example.com:8000"),
            ("privatebasee", "example.com:8000/privatebasee", "example.com:8000/privatebasee", "", "example.com:8000"),
            ("library/ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base", "index.docker.io/library/ubuntu-12.04-base", "docker.io"),
            ("library/foo", "foo", "docker.io/library/foo", "docker.io/foo", "docker.io"),
            ("library/foo/bar", "library/foo/bar", "docker.io/library/foo/bar", "", "docker.io"),
            ("store/foo/bar", "store/foo/bar", "docker.io/store/foo/bar", "", "docker.io"),
            ("bar", "Foo/bar", "Foo/bar", "", "Foo"),
            ("bar", "FOO/bar", "FOO/bar", "", "FOO"),
        ] {
            for input in [familiar, full, ambiguous].into_iter().filter(|s| !s.is_empty()) {
                let r = parse(input).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(r.familiar_name(), familiar, "{input}");
                assert_eq!(r.to_string(), full, "{input}");
                assert_eq!(r.domain(), domain, "{input}");
                assert_eq!(r.path(), path, "{input}");
            }
        }
    }

    #[test]
    fn tag_and_digest_together() {
        // normalize_test.go TestParseReferenceWithTagAndDigest.
        let short = "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
        let r = parse(short).unwrap();
        assert_eq!(r.to_string(), format!("docker.io/library/{short}"));
        assert_eq!(r.tag(), Some("latest"));
        assert!(r.digest().unwrap().starts_with("sha256:86e0"));
        assert_eq!(r.familiar_string(), short);
        // TestInvalidReferenceComponents
        assert!(parse("-foo").is_err());
    }

    #[test]
    #[rustfmt::skip]
    fn normalised_equivalents() {
        // normalize_test.go TestParseAnyReference, the named cases (a bare
        // digest or image ID is not an image reference for a pod).
        let dg = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
        let id63 = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9";
        for (input, equivalent) in [
            ("redis".to_string(), "docker.io/library/redis".to_string()),
            ("redis:latest".into(), "docker.io/library/redis:latest".into()),
            ("docker.io/library/redis:latest".into(), "docker.io/library/redis:latest".into()),
            (format!("redis@{dg}"), format!("docker.io/library/redis@{dg}")),
            (format!("docker.io/library/redis@{dg}"), format!("docker.io/library/redis@{dg}")),
            ("dmcgowan/myapp".into(), "docker.io/dmcgowan/myapp".into()),
            ("dmcgowan/myapp:latest".into(), "docker.io/dmcgowan/myapp:latest".into()),
            ("docker.io/mcgowan/myapp:latest".into(), "docker.io/mcgowan/myapp:latest".into()),
            (format!("dmcgowan/myapp@{dg}"), format!("docker.io/dmcgowan/myapp@{dg}")),
            (format!("docker.io/dmcgowan/myapp@{dg}"), format!("docker.io/dmcgowan/myapp@{dg}")),
            (id63.into(), format!("docker.io/library/{id63}")),
            ("dbcc1".into(), "docker.io/library/dbcc1".into()),
        ] {
            assert_eq!(parse(&input).unwrap().to_string(), equivalent, "{input}");
        }
        // A bare image ID is refused as a name.
        assert_eq!(parse(&dg["sha256:".len()..]).unwrap_err().kind(), HexIdentifier);
    }

    #[test]
    #[rustfmt::skip]
    fn normalised_split_hostname() {
        // normalize_test.go TestNormalizedSplitHostname.
        for (input, domain, path) in [
            ("test.com/foo", "test.com", "foo"),
            ("test_com/foo", "docker.io", "test_com/foo"),
            ("docker/migrator", "docker.io", "docker/migrator"),
            ("test.com:8080/foo", "test.com:8080", "foo"),
            ("test-com:8080/foo", "test-com:8080", "foo"),
            ("foo", "docker.io", "library/foo"),
            ("xn--n3h.com/foo", "xn--n3h.com", "foo"),
            ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
            ("docker.io/foo", "docker.io", "library/foo"),
            ("docker.io/library/foo", "docker.io", "library/foo"),
            ("docker.io/library/foo/bar", "docker.io", "library/foo/bar"),
        ] {
            let r = parse(input).unwrap();
            assert_eq!((r.domain(), r.path()), (domain, path), "{input}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn default_tag() {
        // normalize_test.go TestParseDockerRef, less its tag-and-digest case
        // (ParseDockerRef drops the tag there; regcred keeps both).
        let dg = "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582";
        let busybox = "docker.io/library/busybox:latest";
        for (input, expected) in [
            ("busybox".to_string(), busybox.to_string()),
            ("busybox:latest".into(), busybox.into()),
            (format!("busybox@{dg}"), format!("docker.io/library/busybox@{dg}")),
            ("library/busybox".into(), busybox.into()),
            ("docker.io/busybox".into(), busybox.into()),
            ("docker.io/library/busybox".into(), busybox.into()),
            ("docker.io/busybox:latest".into(), busybox.into()),
            ("library/busybox:latest".into(), busybox.into()),
            ("docker.io/library/busybox:latest".into(), busybox.into()),
            ("gcr.io/library/busybox".into(), "gcr.io/library/busybox:latest".into()),
        ] {
            let r = parse(&input).unwrap().with_default_tag();
            assert_eq!(r.to_string(), expected, "{input}");
            assert!(parse_reference(&expected).is_ok(), "{expected}");
        }
    }

    // ---------------------------------------------------------------------
    // regcred's own parsing cases.
    // ---------------------------------------------------------------------

    #[test]
    fn accessors_and_helpers() {
        let r = parse("nginx").unwrap();
        assert_eq!((r.domain(), r.path()), ("docker.io", "library/nginx"));
        assert_eq!((r.tag(), r.digest()), (None, None));
        assert_eq!(r.name(), "docker.io/library/nginx");
        assert_eq!(r.to_string(), "docker.io/library/nginx");
        assert_eq!(r.familiar_name(), "nginx");
        assert!(!r.has_explicit_tag() && r.is_latest_or_untagged());
        let latest = r.with_default_tag();
        assert_eq!(latest.to_string(), "docker.io/library/nginx:latest");
        assert_eq!(latest.familiar_string(), "nginx:latest");

        let r: ImageRef = "registry.example.com:5000/team/app:1.2".parse().unwrap();
        assert_eq!(r.domain(), "registry.example.com:5000");
        assert_eq!(r.path(), "team/app");
        assert_eq!(r.familiar_name(), "registry.example.com:5000/team/app");
        assert!(r.has_explicit_tag() && !r.is_latest_or_untagged());
        assert_eq!(r.with_default_tag(), r);

        let pinned = parse(&format!("app:latest@sha256:{FF64}")).unwrap();
        assert!(!pinned.is_latest_or_untagged());
        assert!(parse("app:latest").unwrap().is_latest_or_untagged());
        let digest_only = parse(&format!("app@sha256:{FF64}")).unwrap();
        assert!(!digest_only.has_explicit_tag() && !digest_only.is_latest_or_untagged());
        assert_eq!(digest_only.with_default_tag(), digest_only);
    }

    #[test]
    #[rustfmt::skip]
    fn docker_hub_normalisation() {
        for (input, full) in [
            ("nginx", "docker.io/library/nginx"),
            ("user/repo", "docker.io/user/repo"),
            ("index.docker.io/nginx", "docker.io/library/nginx"),
            ("index.docker.io/user/repo:1", "docker.io/user/repo:1"),
            ("localhost/app", "localhost/app"),
            ("localhost:5000/app", "localhost:5000/app"),
            // Only docker.io gets "library/": other hosts keep one-part paths.
            ("example.com/app", "example.com/app"),
            // A single element is never a host, even with a dot.
            ("example.com", "docker.io/library/example.com"),
            ("registry-1.docker.io/library/nginx", "registry-1.docker.io/library/nginx"),
            // An underscore rules the first part out as a host, so the whole
            // name becomes a path with no domain.
            ("foo_bar.com/x", "foo_bar.com/x"),
        ] {
            assert_eq!(parse(input).unwrap().to_string(), full, "{input}");
        }
        assert_eq!(parse("foo_bar.com/x").unwrap().domain(), "");
    }

    #[test]
    #[rustfmt::skip]
    fn rejections_say_why() {
        for (input, kind, reason) in [
            ("", NameEmpty, "at least one component"),
            ("Nginx", NameContainsUppercase, "repository name (library/Nginx) must be lowercase"),
            ("team/App:1", NameContainsUppercase, "repository name (team/App) must be lowercase"),
            ("Registry.example.com/App", NameContainsUppercase, "repository name (App) must be lowercase"),
            ("Foo_bar/x", NameContainsUppercase, "invalid reference format: repository name must be lowercase"),
            ("nginx:-bad", InvalidFormat, "tag \"-bad\""),
            ("nginx: 1", InvalidFormat, "tag \" 1\""),
            ("nginx::1", InvalidFormat, "path component \"nginx:\""),
            ("docker///docker", InvalidFormat, "empty path component"),
            ("docker/", InvalidFormat, "empty path component"),
            ("reg_istry.example.com:5000/app", InvalidFormat, "\"reg_istry.example.com:5000\" is not a valid registry host"),
            ("registry.example.com/a$b", InvalidFormat, "path component \"a$b\""),
            (" nginx", InvalidFormat, "path component \" nginx\""),
            ("app@sha256", InvalidFormat, "digest \"sha256\""),
            ("app@sha256:abcd", InvalidFormat, "is not algorithm:hex"),
            ("app@x@y", InvalidFormat, "only one '@'"),
            ("app@sha256:ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD", DigestInvalidFormat, "invalid checksum digest format"),
            // The lowercase check sees everything up to the first ':'.
            ("app@SHA256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", NameContainsUppercase, "(library/app@SHA256)"),
            ("example.com/app:1@SHA256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", DigestInvalidFormat, "format"),
            ("app@md5:ffffffffffffffffffffffffffffffff", DigestUnsupported, "unsupported digest algorithm"),
            ("app@sha256:fffffffffffffffffffffffffffffffff", DigestInvalidLength, "length"),
        ] {
            let e = parse(input).unwrap_err();
            assert_eq!(e.kind(), kind, "{input}: {e}");
            assert!(e.reason().contains(reason), "{input}: {e}");
            assert_eq!(e.input(), input);
            assert!(e.to_string().starts_with(&format!("image {input:?}: ")), "{e}");
        }
    }

    #[test]
    fn limits() {
        let long_tag = format!("app:{}", "t".repeat(129));
        assert!(
            parse(&long_tag)
                .unwrap_err()
                .reason()
                .contains("longer than 128")
        );
        assert!(parse(&format!("app:{}", "t".repeat(128))).is_ok());
        assert!(parse(&format!("app@sha384:{}", &FF64.repeat(2)[..96])).is_ok());
        assert!(parse(&format!("app@sha512:{}", FF64.repeat(2))).is_ok());
        // The 255 limit is on the path; the host does not count.
        let host = format!("{}.example.com", "h".repeat(60));
        assert!(parse(&format!("{host}/{}", "p".repeat(255))).is_ok());
        let e = parse(&format!("x.io/{}", "p".repeat(256))).unwrap_err();
        assert_eq!(e.kind(), NameTooLong);
        // Errors work with anyhow's `?`.
        let e: anyhow::Error = parse("UPPER").unwrap_err().into();
        assert!(e.to_string().contains("must be lowercase"));
    }

    #[test]
    #[rustfmt::skip]
    fn grammar_pieces() {
        for c in ["a", "a0", "a.b", "a_b", "a__b", "a-b", "a---b", "a.b-c_d__e"] {
            assert!(is_path_component(c), "{c}");
        }
        for c in ["", "A", "a.", ".a", "a..b", "a___b", "a_.b", "a-.b", "a.-b", "a/b", "a:b"] {
            assert!(!is_path_component(c), "{c}");
        }
        for d in ["a", "A-b.c", "1.2.3.4:80", "[::1]", "[::1]:5", "localhost:5000", "x--y"] {
            assert!(is_domain_and_port(d), "{d}");
        }
        for d in ["", "-a", "a-", "a..b", "a:", "a:x", "a:1:2", "[]", "[::1", "[::1]:", "[g::1]", "a_b"] {
            assert!(!is_domain_and_port(d), "{d}");
        }
    }

    // ---------------------------------------------------------------------
    // Ported from kubernetes/kubernetes pkg/credentialprovider/keyring_test.go
    // at commit 6fbbec6ac5711b8c65a2420394b2bb2a2ccf5bff: TestUrlsMatch,
    // TestDockerKeyringForGlob, TestKeyringMiss,
    // TestKeyringMissWithDockerHubCredentials,
    // TestKeyringHitWithUnqualifiedDockerHub,
    // TestKeyringHitWithUnqualifiedLibraryDockerHub,
    // TestKeyringHitWithQualifiedDockerHub, TestIsDefaultRegistryMatch,
    // TestDockerKeyringLookup, TestIssue3797. The keyring.go code they test
    // (Add, Lookup, URLsMatch, isDefaultRegistryMatch) reads the same at
    // 4f3d0e3bde114269650781020d9b05cbd428d4ba and in the current
    // TrackedAuthConfig version. Like kubelet's tests these look up raw
    // strings, some of which are not image references.
    // ---------------------------------------------------------------------

    fn lookup_keys<'a>(keys: &[&'a str], name: &str) -> Vec<&'a str> {
        let kr = Keyring::new(keys);
        kr.lookup_name(name).into_iter().map(|i| keys[i]).collect()
    }

    #[test]
    #[rustfmt::skip]
    fn urls_match_table() {
        for (glob, target, want) in [
            // match when there is no path component
            ("*.kubernetes.io", "prefix.kubernetes.io", true),
            ("prefix.*.io", "prefix.kubernetes.io", true),
            ("prefix.kubernetes.*", "prefix.kubernetes.io", true),
            ("*-good.kubernetes.io", "prefix-good.kubernetes.io", true),
            // match with path components
            ("*.kubernetes.io/blah", "prefix.kubernetes.io/blah", true),
            ("prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", true),
            // match with path components and ports
            ("*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", true),
            ("prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", true),
            // no match when number of parts mismatch
            ("*.kubernetes.io", "kubernetes.io", false),
            ("*.*.kubernetes.io", "prefix.kubernetes.io", false),
            ("*.*.kubernetes.io", "kubernetes.io", false),
            // no match when some parts mismatch
            ("kubernetes.io", "kubernetes.com", false),
            ("k*.io", "quay.io", false),
            // no match when ports mismatch
            ("*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", false),
            ("prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", false),
        ] {
            assert_eq!(urls_match_str(glob, target), want, "{glob} vs {target}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn keyring_for_glob_hits() {
        // TestDockerKeyringForGlob: each key alone, target + "/foo/bar".
        for (key, target) in [
            ("https://hello.kubernetes.io", "hello.kubernetes.io"),
            ("https://*.docker.io", "prefix.docker.io"),
            ("https://prefix.*.io", "prefix.docker.io"),
            ("https://prefix.docker.*", "prefix.docker.io"),
            ("https://*.docker.io/path", "prefix.docker.io/path"),
            ("https://prefix.*.io/path", "prefix.docker.io/path/subpath"),
            ("https://prefix.docker.*/path", "prefix.docker.io/path"),
            ("https://*.docker.io:8888", "prefix.docker.io:8888"),
            ("https://prefix.*.io:8888", "prefix.docker.io:8888"),
            ("https://prefix.docker.*:8888", "prefix.docker.io:8888"),
            ("https://*.docker.io/path:1111", "prefix.docker.io/path:1111"),
            ("https://*.docker.io/v1/", "prefix.docker.io/path:1111"),
            ("https://*.docker.io/v2/", "prefix.docker.io/path:1111"),
            ("https://prefix.docker.*/path:1111", "prefix.docker.io/path:1111"),
            ("prefix.docker.io:1111", "prefix.docker.io:1111/path"),
            ("*.docker.io:1111", "prefix.docker.io:1111/path"),
        ] {
            let name = format!("{target}/foo/bar");
            assert_eq!(lookup_keys(&[key], &name), [key], "{key} vs {name}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn keyring_misses() {
        // TestKeyringMiss: each key alone, target + "/foo/bar".
        for (key, target) in [
            ("https://hello.kubernetes.io", "world.mesos.org/foo/bar"),
            ("https://*.docker.com", "prefix.docker.io"),
            ("https://suffix.*.io", "prefix.docker.io"),
            ("https://prefix.docker.c*", "prefix.docker.io"),
            ("https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111"),
            ("suffix.*.io", "prefix.docker.io"),
        ] {
            let name = format!("{target}/foo/bar");
            assert!(lookup_keys(&[key], &name).is_empty(), "{key} vs {name}");
        }
    }

    #[test]
    fn keyring_docker_hub_credentials() {
        let hub = "https://index.docker.io/v1/";
        // TestKeyringMissWithDockerHubCredentials
        assert!(lookup_keys(&[hub], "world.mesos.org/foo/bar").is_empty());
        // TestKeyringHitWithUnqualifiedDockerHub, ...UnqualifiedLibraryDockerHub
        assert_eq!(lookup_keys(&[hub], "google/docker-registry"), [hub]);
        assert_eq!(lookup_keys(&[hub], "jenkins"), [hub]);
        // TestKeyringHitWithQualifiedDockerHub
        let qualified = "index.docker.io/v1//google/docker-registry";
        assert_eq!(lookup_keys(&[hub], qualified), [hub]);
        // The same images parsed first, as kubelet really looks them up.
        for image in [
            "google/docker-registry",
            "jenkins",
            "index.docker.io/library/jenkins",
        ] {
            assert!(registry_matches(hub, &parse(image).unwrap()), "{image}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn default_registry_match_table() {
        // TestIsDefaultRegistryMatch
        for (image, want) in [
            ("foo/bar", true),
            ("docker.io/foo/bar", true),
            ("index.docker.io/foo/bar", true),
            ("foo", true),
            ("", false),
            ("registry.tld/foo/bar", false),
            ("registry:5000/foo/bar", false),
            ("myhostdocker.io/foo/bar", false),
        ] {
            assert_eq!(is_default_registry_match(image), want, "{image:?}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn keyring_lookup_orders_most_specific_first() {
        // TestDockerKeyringLookup: "grace" is keyed bar.example.com/pong,
        // "ada" bar.example.com.
        let (grace, ada) = ("bar.example.com/pong", "bar.example.com");
        for (name, want) in [
            ("bar.example.com", vec![ada]),
            ("bar.example.com/pong", vec![grace, ada]),
            ("bar.example.com/ping", vec![ada]),
            // a string prefix, not a path segment: /pongz is covered by /pong
            ("bar.example.com/pongz", vec![grace, ada]),
            ("bar.example.com/pong/pang", vec![grace, ada]),
            ("example.com", vec![]),
            ("foo.example.com", vec![]),
        ] {
            assert_eq!(lookup_keys(&[grace, ada], name), want, "{name}");
        }
        // TestIssue3797: a scheme and a /v1/ path still match the bare host.
        let quay = "https://quay.io/v1/";
        for name in ["quay.io", "quay.io/foo", "quay.io/foo/bar"] {
            assert_eq!(lookup_keys(&[quay], name), [quay], "{name}");
        }
    }

    // ---------------------------------------------------------------------
    // regcred's own matching cases, on parsed images.
    // ---------------------------------------------------------------------

    #[test]
    #[rustfmt::skip]
    fn registry_matches_table() {
        for (key, image, want) in [
            ("registry.example.com", "registry.example.com/app", true),
            ("registry.example.com", "registry.example.com/team/app:1", true),
            ("https://registry.example.com", "registry.example.com/app", true),
            ("http://registry.example.com/", "registry.example.com/app", true),
            ("https://registry.example.com/v2/", "registry.example.com/app", true),
            // ports must be equal, absence included
            ("registry.example.com:5000", "registry.example.com:5000/app", true),
            ("registry.example.com:5000", "registry.example.com/app", false),
            ("registry.example.com", "registry.example.com:5000/app", false),
            ("registry.example.com:5001", "registry.example.com:5000/app", false),
            // path prefixes, compared as strings
            ("registry.example.com/team", "registry.example.com/team/app", true),
            ("registry.example.com/team", "registry.example.com/team", true),
            ("registry.example.com/team", "registry.example.com/team-b/app", true),
            ("registry.example.com/team/", "registry.example.com/team-b/app", false),
            ("registry.example.com/team", "registry.example.com/other/app", false),
            ("https://registry.example.com/v1/team", "registry.example.com/team/app", true),
            // "/v1" without its slash is a path, not the API version
            ("https://registry.example.com/v1", "registry.example.com/team/app", false),
            // host globs, one label per *
            ("*.example.com", "a.example.com/app", true),
            ("*.example.com", "a.b.example.com/app", false),
            ("*.example.com", "example.com/app", false),
            ("*.example.com:5000", "a.example.com:5000/app", true),
            ("*.example.com", "a.example.com:5000/app", false),
            ("*.dkr.ecr.*.amazonaws.com", "1234.dkr.ecr.eu-west-1.amazonaws.com/app", true),
            ("reg[0-9].example.com", "reg7.example.com/app", true),
            ("reg[0-9].example.com", "rega.example.com/app", false),
            // hosts are compared as written
            ("Registry.example.com", "registry.example.com/app", false),
            ("registry.example.com", "REGISTRY.example.com/app", false),
            // Docker Hub
            ("https://index.docker.io/v1/", "nginx", true),
            ("index.docker.io", "user/app", true),
            ("https://index.docker.io/v2/", "docker.io/user/app", true),
            ("docker.io", "nginx", true),
            ("https://docker.io", "user/app", true),
            ("docker.io/library", "nginx", true),
            ("docker.io/user", "user/app", true),
            ("docker.io/user", "nginx", false),
            ("registry-1.docker.io", "nginx", false),
            ("index.docker.io/v1", "nginx", false),
            ("index.docker.io/library", "nginx", false),
            ("https://index.docker.io/v1/", "registry.example.com/app", false),
            // kubelet's fallback takes any host without '.' or ':' for Hub
            ("https://index.docker.io/v1/", "localhost/app", true),
            ("https://index.docker.io/v1/", "localhost:5000/app", false),
            // IP hosts; without a port, brackets are a filepath.Match class
            ("[::1]:5000", "[::1]:5000/app", true),
            ("[::1]", "[::1]/app", false),
            ("[::1]", "[::1]:5000/app", false),
            ("10.0.0.1:5000", "10.0.0.1:5000/app", true),
            // a key with a bad port is skipped
            ("registry.example.com:port", "registry.example.com/app", false),
            // userinfo, query and fragment are dropped by url.Parse
            ("https://user@registry.example.com/?x=1#y", "registry.example.com/app", true),
        ] {
            let r = parse(image).unwrap();
            assert_eq!(registry_matches(key, &r), want, "{key} vs {image}");
        }
    }

    #[test]
    fn keyring_order_and_fallback() {
        let keys = [
            "https://index.docker.io/v1/",
            "registry.example.com",
            "registry.example.com/team",
            "https://registry.example.com/v2/",
            "*.example.com",
            "registry.example.com:bad",
        ];
        let kr = Keyring::new(keys);
        assert_eq!(kr.ignored(), ["registry.example.com:bad"]);
        // Reverse-sorted index: "registry.example.com/team", then
        // "registry.example.com" (two keys, in the order given), then
        // "*.example.com".
        let team = parse("registry.example.com/team/app").unwrap();
        assert_eq!(kr.lookup_indices(&team), [2, 1, 3, 4]);
        assert_eq!(
            kr.lookup(&team)[..2],
            ["registry.example.com/team", "registry.example.com"]
        );
        // Hub images reach the index.docker.io key only by the fallback...
        let hub = "https://index.docker.io/v1/";
        assert_eq!(kr.lookup(&parse("nginx").unwrap()), [hub]);
        // ...which any direct match pre-empts.
        let both = Keyring::new(["docker.io/library", hub]);
        assert_eq!(both.lookup(&parse("nginx").unwrap()), ["docker.io/library"]);
        assert_eq!(both.lookup(&parse("user/app").unwrap()), [hub]);
        // The same key in two secrets: both credentials, in order.
        let dup = Keyring::new(["quay.io", "quay.io"]);
        assert_eq!(dup.lookup_indices(&parse("quay.io/a/b").unwrap()), [0, 1]);
        assert!(Keyring::default().lookup(&team).is_empty());
    }

    #[test]
    #[rustfmt::skip]
    fn index_keys_follow_kubelet_add() {
        for (key, want) in [
            ("registry.example.com", Some("registry.example.com")),
            ("https://index.docker.io/v1/", Some("index.docker.io")),
            ("http://x", Some("x")),
            ("x/v2/", Some("x")),
            ("x/v1/team", Some("x/team")),
            ("x/v1", Some("x/v1")),
            ("x/", Some("x")),
            ("x/a%20b", Some("x/a b")),
            ("x/a%zz", None),
            ("x y", None),
            ("x:99a", None),
            ("x\t", None),
            ("[::1", None),
            ("us\"er@x", None),
            // only lowercase schemes are recognised
            ("HTTPS://x", Some("HTTPS://x")),
        ] {
            assert_eq!(index_key(key).as_deref(), want, "{key}");
        }
    }

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
            let got = go_glob_match(pattern.as_bytes(), name.as_bytes());
            assert_eq!(got, want, "{pattern} vs {name}");
        }
    }

    #[test]
    #[rustfmt::skip]
    fn split_host_port_follows_go() {
        for (hostport, want) in [
            ("a:1", Some(("a", "1"))),
            ("a:", Some(("a", ""))),
            ("a", None),
            ("[::1]:5", Some(("::1", "5"))),
            ("[::1]", None),
            ("::1", None),
            ("a]:1", None),
        ] {
            assert_eq!(split_host_port(hostport), want, "{hostport}");
        }
    }
}
