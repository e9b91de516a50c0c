//! Tables are kept one case per line (`rustfmt::skip`) so they read like
//! the upstream tables they were ported from.

use super::keyring::{Keyring, index_key, is_default_registry_match, urls_match_str};
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

fn ok(input: &str, repository: &str, domain: &str, tag: &str, digest: &str) -> (String, Expect) {
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
    let short =
        "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
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
