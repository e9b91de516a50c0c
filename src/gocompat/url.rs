//! Go's `net/url.Parse` and `net.SplitHostPort`, reduced to what kubelet's
//! keyring reads, with Go's exact rejections.

/// Go's `net.SplitHostPort`.
pub(crate) fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
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
pub(crate) struct Url {
    pub(crate) host: String,
    pub(crate) path: String,
}

/// Go's `url.Parse` for an `http://` or `https://` URL, reduced to what the
/// keyring uses: the host (with port, after userinfo) and the unescaped
/// path, or `None` where Go returns an error. IPv6 zone identifiers are not
/// modelled.
pub(crate) fn parse(raw: &str) -> Option<Url> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let (rest, fragment) = match raw.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (raw, None),
    };
    if let Some(f) = fragment {
        unescape(f, false)?;
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
            unescape(userinfo, false)?;
            host
        }
        None => authority,
    };
    Some(Url {
        host: parse_host(host)?,
        path: unescape(path, false)?,
    })
}

/// Go's `parseHost`: a port must be digits, then the host is unescaped.
fn parse_host(host: &str) -> Option<String> {
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
    unescape(host, true)
}

/// Go's `url.unescape` in host mode (`in_host`) or path/other mode: `%XX`
/// must be two hex digits; a host may only escape non-ASCII bytes (or
/// `%25`) and may only contain letters, digits, `-._~` and sub-delimiters.
fn unescape(s: &str, in_host: bool) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
