//! kubelet's credential keyring (`pkg/credentialprovider/keyring.go`,
//! `BasicDockerKeyring`): which `auths` keys cover an image.

use super::{DEFAULT_DOMAIN, ImageRef, LEGACY_DEFAULT_DOMAIN};
use crate::gocompat::filepath::glob_match;
use crate::gocompat::url::{parse as go_url_parse, split_host_port};
use std::collections::BTreeMap;

/// The `auths` keys of every pull secret a pod can use, indexed as
/// kubelet's `BasicDockerKeyring` indexes them.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    /// The keys as given; only the tests read them back by position.
    #[cfg_attr(not(test), allow(dead_code))]
    keys: Vec<String>,
    /// Index key to positions in `keys`, most specific (reverse-sorted) first.
    index: Vec<(String, Vec<usize>)>,
    #[cfg_attr(not(test), allow(dead_code))]
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

    #[cfg(test)]
    /// The keys whose credentials kubelet would try for `image`, in the order
    /// it tries them (most specific first); empty when it would pull
    /// anonymously.
    pub fn lookup(&self, image: &ImageRef) -> Vec<&str> {
        self.lookup_indices(image)
            .into_iter()
            .map(|i| self.keys[i].as_str())
            .collect()
    }

    /// Like `lookup`, as positions in the keys given to [`Self::new`],
    /// so a caller can tell which secret each credential came from.
    pub fn lookup_indices(&self, image: &ImageRef) -> Vec<usize> {
        self.lookup_name(&image.name())
    }

    #[cfg(test)]
    /// Keys kubelet skips because Go's `url.Parse` rejects them (a bad port,
    /// a space or other character not allowed in a host, a bad `%` escape).
    pub fn ignored(&self) -> Vec<&str> {
        self.ignored
            .iter()
            .map(|&i| self.keys[i].as_str())
            .collect()
    }

    /// `BasicDockerKeyring.Lookup` on a repository name string.
    pub(super) fn lookup_name(&self, name: &str) -> Vec<usize> {
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
#[cfg(any(test, feature = "fuzzing"))]
pub fn registry_matches(key: &str, image: &ImageRef) -> bool {
    KeyMatcher::new(key).matches(image)
}

/// One `auths` key, indexed once (its URL parsed) to be matched against
/// many images: a render or check builds one per registry, not one per
/// image and registry.
#[derive(Debug, Clone)]
pub struct KeyMatcher {
    key: String,
    keyring: Keyring,
}

impl KeyMatcher {
    pub fn new(key: &str) -> Self {
        KeyMatcher {
            key: key.to_string(),
            keyring: Keyring::new([key]),
        }
    }

    /// The key as given.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether kubelet would use this key's credentials for `image`, were
    /// it the only key (what the tests' `registry_matches` asks).
    pub fn matches(&self, image: &ImageRef) -> bool {
        !self.keyring.lookup_indices(image).is_empty()
    }
}

/// The index key kubelet's `BasicDockerKeyring.Add` derives from an `auths`
/// key: `https://` assumed, scheme dropped, a leading `/v1/` or `/v2/`
/// reduced to `/`, then host plus any remaining path. `None` for a key Go's
/// `url.Parse` rejects (kubelet logs and skips it).
pub(super) fn index_key(key: &str) -> Option<String> {
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
pub(super) fn is_default_registry_match(image: &str) -> bool {
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
pub(super) fn urls_match_str(glob: &str, target: &str) -> bool {
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
            .all(|(g, t)| glob_match(g.as_bytes(), t.as_bytes()) == Ok(true))
}

/// `SplitURL`: host labels and port, via `net.SplitHostPort`; a host it
/// cannot split (no port, say) is kept whole with an empty port.
fn split_url(host: &str) -> (Vec<&str>, &str) {
    let (h, port) = split_host_port(host).unwrap_or((host, ""));
    (h.split('.').collect(), port)
}
