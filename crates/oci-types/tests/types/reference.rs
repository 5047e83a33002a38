//! Image references, against the test tables of github.com/distribution/reference
//! (reference_test.go, normalize_test.go, regexp_test.go), plus round-trip proptests.
//!
//! Where this crate's errors are finer than distribution's (a bad tag is `InvalidTag`, a bad
//! digest `InvalidDigest`, where distribution says "invalid reference format"), the row says
//! so; every case distribution's tables list with an error gets the same error here.

use oci_types::{Digest, Error, Reference, ReferenceErrorKind as K};
use proptest::prelude::*;

/// How a row's input is parsed.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// `Reference::parse_strict` (distribution's `Parse`).
    Strict,
    /// `FromStr` (distribution's `ParseNormalizedNamed`).
    Normalized,
}
use self::Mode::{Normalized as N, Strict as S};

/// What a row expects.
#[derive(Debug)]
enum Want {
    Ok {
        domain: String,
        path: String,
        tag: Option<String>,
        digest: Option<String>,
        /// `Display`; for strict rows, the input when not given.
        full: Option<String>,
        /// `familiar()`, when the row checks it.
        familiar: Option<String>,
    },
    Err(K),
}

fn ok(domain: &str, path: &str) -> Want {
    Want::Ok {
        domain: domain.into(),
        path: path.into(),
        tag: None,
        digest: None,
        full: None,
        familiar: None,
    }
}

fn err(kind: K) -> Want {
    Want::Err(kind)
}

impl Want {
    fn set(
        mut self,
        f: impl FnOnce(
            &mut Option<String>,
            &mut Option<String>,
            &mut Option<String>,
            &mut Option<String>,
        ),
    ) -> Want {
        if let Want::Ok {
            tag,
            digest,
            full,
            familiar,
            ..
        } = &mut self
        {
            f(tag, digest, full, familiar);
        }
        self
    }
    fn tag(self, t: &str) -> Want {
        self.set(|tag, _, _, _| *tag = Some(t.into()))
    }
    fn digest(self, d: &str) -> Want {
        self.set(|_, digest, _, _| *digest = Some(d.into()))
    }
    fn full(self, s: &str) -> Want {
        self.set(|_, _, full, _| *full = Some(s.into()))
    }
    fn familiar(self, s: &str) -> Want {
        self.set(|_, _, _, familiar| *familiar = Some(s.into()))
    }
}

fn parse(mode: Mode, s: &str) -> Result<Reference, Error> {
    match mode {
        S => Reference::parse_strict(s),
        N => s.parse(),
    }
}

/// The one check every table row goes through.
fn check(mode: Mode, input: &str, want: &Want) {
    let got = parse(mode, input);
    match (want, got) {
        (
            Want::Err(kind),
            Err(Error::InvalidReference {
                input: reported,
                kind: got,
            }),
        ) => {
            assert_eq!(got, *kind, "{mode:?} {input:?}");
            assert!(
                input.starts_with(reported.trim_end_matches("...")),
                "{mode:?} {input:?}"
            );
        }
        (Want::Err(kind), other) => panic!("{mode:?} {input:?}: want {kind:?}, got {other:?}"),
        (Want::Ok { .. }, Err(e)) => panic!("{mode:?} {input:?}: want a reference, got {e}"),
        (
            Want::Ok {
                domain,
                path,
                tag,
                digest,
                full,
                familiar,
            },
            Ok(r),
        ) => {
            let ctx = format!("{mode:?} {input:?} -> {r:?}");
            assert_eq!(r.domain(), domain, "{ctx}");
            assert_eq!(r.path(), path, "{ctx}");
            assert_eq!(r.tag(), tag.as_deref(), "{ctx}");
            assert_eq!(r.digest().map(Digest::as_str), digest.as_deref(), "{ctx}");
            let repository = if domain.is_empty() {
                path.clone()
            } else {
                format!("{domain}/{path}")
            };
            assert_eq!(r.repository(), repository, "{ctx}");
            assert_eq!(r.name(), repository, "{ctx}");
            let full = match (full, mode) {
                (Some(f), _) => f.as_str(),
                (None, S) => input,
                (None, N) => "",
            };
            if !full.is_empty() {
                assert_eq!(r.to_string(), full, "{ctx}");
            }
            if let Some(f) = familiar {
                assert_eq!(r.familiar(), *f, "{ctx}");
            }
            // familiar() is familiar_name() plus the tag and digest.
            let mut suffix = String::new();
            if let Some(t) = r.tag() {
                suffix += &format!(":{t}");
            }
            if let Some(d) = r.digest() {
                suffix += &format!("@{d}");
            }
            assert_eq!(
                r.familiar(),
                format!("{}{suffix}", r.familiar_name()),
                "{ctx}"
            );
            // The string form parses back to the same reference, in the same mode.
            assert_eq!(parse(mode, &r.to_string()).unwrap(), r, "{ctx}");
            if let N = mode {
                assert_eq!(r.familiar().parse::<Reference>().unwrap(), r, "{ctx}");
            }
        }
    }
}

const F64: &str = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
const BE: &str = "sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912";
const HEX64: &str = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
const SONG: &str = "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev";

fn run(rows: Vec<(Mode, String, Want)>) {
    for (mode, input, want) in &rows {
        check(*mode, input, want);
    }
}

/// reference_test.go, TestReferenceParse (distribution's `Parse`).
#[test]
fn reference_parse_table() {
    let at = |s: &str| format!("{s}@{F64}");
    run(vec![
        (S, "test_com".into(), ok("", "test_com")),
        (S, "test.com:tag".into(), ok("", "test.com").tag("tag")),
        (S, "test.com:5000".into(), ok("", "test.com").tag("5000")),
        (S, "test.com/repo:tag".into(), ok("test.com", "repo").tag("tag")),
        (S, "test:5000/repo".into(), ok("test:5000", "repo")),
        (S, "test:5000/repo:tag".into(), ok("test:5000", "repo").tag("tag")),
        (S, at("test:5000/repo"), ok("test:5000", "repo").digest(F64)),
        (S, at("test:5000/repo:tag"), ok("test:5000", "repo").tag("tag").digest(F64)),
        (S, "".into(), err(K::NameEmpty)),
        (S, ":justtag".into(), err(K::InvalidFormat)),
        (S, at(""), err(K::InvalidFormat)),
        // distribution: digest.ErrDigestInvalidLength.
        (S, format!("repo@sha256:{}", "f".repeat(34)), err(K::InvalidDigest)),
        // distribution: digest.ErrDigestUnsupported.
        (S, format!("validname@invaliddigest:{}", "f".repeat(64)), err(K::UnsupportedDigestAlgorithm)),
        // distribution's test has sha512 unregistered; docker (and this crate) accept it.
        (
            S,
            format!("validname@sha512:{}", "f".repeat(128)),
            ok("", "validname").digest(&format!("sha512:{}", "f".repeat(128))),
        ),
        (S, "Uppercase:tag".into(), err(K::NameContainsUppercase)),
        // "Uppercase/lowercase:tag" is a valid name with domain "Uppercase".
        (S, "Uppercase/lowercase:tag".into(), ok("Uppercase", "lowercase").tag("tag")),
        (S, "test:5000/Uppercase/lowercase:tag".into(), err(K::NameContainsUppercase)),
        (S, "lowercase:Uppercase".into(), ok("", "lowercase").tag("Uppercase")),
        (S, format!("domain/{}:tag", "a".repeat(256)), err(K::NameTooLong)),
        (
            S,
            format!("{}a:tag-puts-this-over-max", "a/".repeat(127)),
            ok("a", &format!("{}a", "a/".repeat(126))).tag("tag-puts-this-over-max"),
        ),
        (S, "aa/asdf$$^/aa".into(), err(K::InvalidFormat)),
        (S, "sub-dom1.foo.com/bar/baz/quux".into(), ok("sub-dom1.foo.com", "bar/baz/quux")),
        (
            S,
            "sub-dom1.foo.com/bar/baz/quux:some-long-tag".into(),
            ok("sub-dom1.foo.com", "bar/baz/quux").tag("some-long-tag"),
        ),
        (
            S,
            "b.gcr.io/test.example.com/my-app:test.example.com".into(),
            ok("b.gcr.io", "test.example.com/my-app").tag("test.example.com"),
        ),
        (S, "xn--n3h.com/myimage:xn--n3h.com".into(), ok("xn--n3h.com", "myimage").tag("xn--n3h.com")),
        (
            S,
            at("xn--7o8h.com/myimage:xn--7o8h.com"),
            ok("xn--7o8h.com", "myimage").tag("xn--7o8h.com").digest(F64),
        ),
        (S, "foo_bar.com:8080".into(), ok("", "foo_bar.com").tag("8080")),
        (S, "foo/foo_bar.com:8080".into(), ok("foo", "foo_bar.com").tag("8080")),
        (S, "192.168.1.1".into(), ok("", "192.168.1.1")),
        (S, "192.168.1.1:tag".into(), ok("", "192.168.1.1").tag("tag")),
        (S, "192.168.1.1:5000".into(), ok("", "192.168.1.1").tag("5000")),
        (S, "192.168.1.1/repo".into(), ok("192.168.1.1", "repo")),
        (S, "192.168.1.1:5000/repo".into(), ok("192.168.1.1:5000", "repo")),
        (S, "192.168.1.1:5000/repo:5050".into(), ok("192.168.1.1:5000", "repo").tag("5050")),
        (S, "[2001:db8::1]".into(), err(K::InvalidFormat)),
        (S, "[2001:db8::1]:5000".into(), err(K::InvalidFormat)),
        (S, "[2001:db8::1]:tag".into(), err(K::InvalidFormat)),
        (S, "[2001:db8::1]/repo".into(), ok("[2001:db8::1]", "repo")),
        (S, "[2001:db8:1:2:3:4:5:6]/repo:tag".into(), ok("[2001:db8:1:2:3:4:5:6]", "repo").tag("tag")),
        (S, "[2001:db8::1]:5000/repo".into(), ok("[2001:db8::1]:5000", "repo")),
        (S, "[2001:db8::1]:5000/repo:tag".into(), ok("[2001:db8::1]:5000", "repo").tag("tag")),
        (S, at("[2001:db8::1]:5000/repo"), ok("[2001:db8::1]:5000", "repo").digest(F64)),
        (S, at("[2001:db8::1]:5000/repo:tag"), ok("[2001:db8::1]:5000", "repo").tag("tag").digest(F64)),
        (S, "[2001:db8::]:5000/repo".into(), ok("[2001:db8::]:5000", "repo")),
        (S, "[::1]:5000/repo".into(), ok("[::1]:5000", "repo")),
        (S, "[fe80::1%eth0]:5000/repo".into(), err(K::InvalidFormat)),
        (S, "[fe80::1%@invalidzone]:5000/repo".into(), err(K::InvalidFormat)),
        (
            S,
            format!("example.com/{}:tag", "a".repeat(255)),
            ok("example.com", &"a".repeat(255)).tag("tag"),
        ),
        // reference_test.go, TestSerialization (its valid rows).
        (S, "example.com:8000/named".into(), ok("example.com:8000", "named")),
        (S, "example.com:8000/named:tagged".into(), ok("example.com:8000", "named").tag("tagged")),
        (
            S,
            "other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112".into(),
            ok("other.com", "named")
                .digest("sha256:1234567890098765432112345667890098765432112345667890098765432112"),
        ),
    ]);
}

/// regexp_test.go: TestReferenceRegexp, TestFullNameRegexp and TestDomainRegexp, through
/// `parse_strict`. A name the name grammar refuses may still be a valid reference when its
/// `:` reads as a tag; those rows say so.
#[test]
fn grammar_tables() {
    let mut rows: Vec<(Mode, String, Want)> = vec![
        // TestReferenceRegexp.
        (
            S,
            "registry.com:8080/myapp:tag".into(),
            ok("registry.com:8080", "myapp").tag("tag"),
        ),
        (
            S,
            format!("registry.com:8080/myapp@{BE}"),
            ok("registry.com:8080", "myapp").digest(BE),
        ),
        (
            S,
            format!("registry.com:8080/myapp:tag2@{BE}"),
            ok("registry.com:8080", "myapp").tag("tag2").digest(BE),
        ),
        // distribution: no match (invalid reference format) for the next three.
        (
            S,
            "registry.com:8080/myapp@sha256:badbadbadbad".into(),
            err(K::InvalidDigest),
        ),
        (
            S,
            "registry.com:8080/myapp:invalid~tag".into(),
            err(K::InvalidTag),
        ),
        (
            S,
            "bad_hostname.com:8080/myapp:tag".into(),
            err(K::InvalidFormat),
        ),
        (
            S,
            format!("localhost:8080@{BE}"),
            ok("", "localhost").tag("8080").digest(BE),
        ),
        (
            S,
            format!("localhost:8080/name@{BE}"),
            ok("localhost:8080", "name").digest(BE),
        ),
        (
            S,
            format!("localhost:http/name@{BE}"),
            err(K::InvalidFormat),
        ),
        (S, format!("localhost@{BE}"), ok("", "localhost").digest(BE)),
        (
            S,
            "registry.com:8080/myapp@bad".into(),
            err(K::InvalidDigest),
        ),
        (
            S,
            "registry.com:8080/myapp@2bad".into(),
            err(K::InvalidDigest),
        ),
        // TestFullNameRegexp.
        (S, "".into(), err(K::NameEmpty)),
        (S, "short".into(), ok("", "short")),
        (S, "simple/name".into(), ok("simple", "name")),
        (S, "library/ubuntu".into(), ok("library", "ubuntu")),
        (
            S,
            "docker/stevvooe/app".into(),
            ok("docker", "stevvooe/app"),
        ),
        (
            S,
            "aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb".into(),
            ok("aa", "aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb"),
        ),
        (S, "aa/aa/bb/bb/bb".into(), ok("aa", "aa/bb/bb/bb")),
        (S, "a/a/a/a".into(), ok("a", "a/a/a")),
        (S, "a/a/a/a/".into(), err(K::InvalidFormat)),
        (S, "a//a/a".into(), err(K::InvalidFormat)),
        (S, "a".into(), ok("", "a")),
        (S, "a/aa".into(), ok("a", "aa")),
        (S, "a/aa/a".into(), ok("a", "aa/a")),
        (S, "foo.com".into(), ok("", "foo.com")),
        (S, "foo.com/".into(), err(K::InvalidFormat)),
        (S, "foo.com:8080/bar".into(), ok("foo.com:8080", "bar")),
        (S, "foo.com:http/bar".into(), err(K::InvalidFormat)),
        (S, "foo.com/bar".into(), ok("foo.com", "bar")),
        (S, "foo.com/bar/baz".into(), ok("foo.com", "bar/baz")),
        (S, "localhost:8080/bar".into(), ok("localhost:8080", "bar")),
        (
            S,
            "sub-dom1.foo.com/bar/baz/quux".into(),
            ok("sub-dom1.foo.com", "bar/baz/quux"),
        ),
        (
            S,
            "blog.foo.com/bar/baz".into(),
            ok("blog.foo.com", "bar/baz"),
        ),
        (S, "a^a".into(), err(K::InvalidFormat)),
        (S, "aa/asdf$$^/aa".into(), err(K::InvalidFormat)),
        (S, "asdf$$^/aa".into(), err(K::InvalidFormat)),
        (S, "aa-a/a".into(), ok("aa-a", "a")),
        (
            S,
            format!("{}a", "a/".repeat(128)),
            ok("a", &format!("{}a", "a/".repeat(127))),
        ),
        (S, "a-/a/a/a".into(), err(K::InvalidFormat)),
        (S, "foo.com/a-/a/a".into(), err(K::InvalidFormat)),
        (S, "-foo/bar".into(), err(K::InvalidFormat)),
        (S, "foo/bar-".into(), err(K::InvalidFormat)),
        (S, "foo-/bar".into(), err(K::InvalidFormat)),
        (S, "foo/-bar".into(), err(K::InvalidFormat)),
        (S, "_foo/bar".into(), err(K::InvalidFormat)),
        (S, "foo_bar".into(), ok("", "foo_bar")),
        (S, "foo_bar.com".into(), ok("", "foo_bar.com")),
        // Not a name, but a reference with tag 8080.
        (
            S,
            "foo_bar.com:8080".into(),
            ok("", "foo_bar.com").tag("8080"),
        ),
        (S, "foo_bar.com:8080/app".into(), err(K::InvalidFormat)),
        (S, "foo.com/foo_bar".into(), ok("foo.com", "foo_bar")),
        (S, "____/____".into(), err(K::InvalidFormat)),
        (S, "_docker/_docker".into(), err(K::InvalidFormat)),
        (S, "docker_/docker_".into(), err(K::InvalidFormat)),
        (
            S,
            "b.gcr.io/test.example.com/my-app".into(),
            ok("b.gcr.io", "test.example.com/my-app"),
        ),
        (
            S,
            "xn--n3h.com/myimage".into(),
            ok("xn--n3h.com", "myimage"),
        ),
        (
            S,
            "xn--7o8h.com/myimage".into(),
            ok("xn--7o8h.com", "myimage"),
        ),
        (
            S,
            "example.com/xn--7o8h.com/myimage".into(),
            ok("example.com", "xn--7o8h.com/myimage"),
        ),
        (
            S,
            "example.com/some_separator__underscore/myimage".into(),
            ok("example.com", "some_separator__underscore/myimage"),
        ),
        (
            S,
            "example.com/__underscore/myimage".into(),
            err(K::InvalidFormat),
        ),
        (
            S,
            "example.com/..dots/myimage".into(),
            err(K::InvalidFormat),
        ),
        (S, "example.com/.dots/myimage".into(), err(K::InvalidFormat)),
        (
            S,
            "example.com/nodouble..dots/myimage".into(),
            err(K::InvalidFormat),
        ),
        (S, "docker./docker".into(), err(K::InvalidFormat)),
        (S, ".docker/docker".into(), err(K::InvalidFormat)),
        (S, "docker-/docker".into(), err(K::InvalidFormat)),
        (S, "-docker/docker".into(), err(K::InvalidFormat)),
        (S, "do..cker/docker".into(), err(K::InvalidFormat)),
        (S, "do__cker:8080/docker".into(), err(K::InvalidFormat)),
        (S, "do__cker/docker".into(), ok("", "do__cker/docker")),
        (
            S,
            "registry.io/foo/project--id.module--name.ver---sion--name".into(),
            ok(
                "registry.io",
                "foo/project--id.module--name.ver---sion--name",
            ),
        ),
        (S, "Asdf.com/foo/bar".into(), ok("Asdf.com", "foo/bar")),
        (S, "Foo/FarB".into(), err(K::NameContainsUppercase)),
        // Parse's upper-case check lower-cases as Go does: KELVIN SIGN becomes "k".
        (S, "\u{212A}".into(), err(K::NameContainsUppercase)),
        (S, "caf\u{e9}".into(), err(K::InvalidFormat)),
    ];
    // TestDomainRegexp: "<domain>/foo" has that domain exactly when the domain matches.
    for d in [
        "test.com",
        "test.com:10304",
        "localhost",
        "localhost:8080",
        "a",
        "a.b",
        "ab.cd.com",
        "a-b.com",
        "ab.c-om",
        "0101.com",
        "001a.com",
        "b.gbc.io:443",
        "b.gbc.io",
        "xn--n3h.com",
        "Asdf.com",
        "192.168.1.1:75050",
        "192.168.1.1:750050",
        "[fd00:1:2::3]:75050",
        "[fd00123123123]:75050",
        "[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050",
        "[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505",
    ] {
        rows.push((S, format!("{d}/foo"), ok(d, "foo")));
    }
    for d in [
        "test.com:http",
        "-ab.com",
        "ab-.com",
        "ab.-com",
        "ab.com-",
        "[fd00:1:2::3]75050",
        "[fd00:1:2::3]::75050",
        "[fd00:1:2::3%eth0]:75050",
        "fd00:1:2::3:75050",
    ] {
        rows.push((S, format!("{d}/foo"), err(K::InvalidFormat)));
    }
    run(rows);
}

/// normalize_test.go, TestValidateReferenceName and TestValidateRemoteName.
#[test]
fn validate_names_table() {
    let hub = |path: &str| ok("docker.io", path);
    run(vec![
        (
            N,
            "docker/docker".into(),
            hub("docker/docker").familiar("docker/docker"),
        ),
        (
            N,
            "library/debian".into(),
            hub("library/debian").familiar("debian"),
        ),
        (
            N,
            "debian".into(),
            hub("library/debian").full("docker.io/library/debian"),
        ),
        (
            N,
            "localhost/library/debian".into(),
            ok("localhost", "library/debian"),
        ),
        (
            N,
            "localhost/debian".into(),
            ok("localhost", "debian").familiar("localhost/debian"),
        ),
        (
            N,
            "LOCALDOMAIN/library/debian".into(),
            ok("LOCALDOMAIN", "library/debian"),
        ),
        (N, "LOCALDOMAIN/debian".into(), ok("LOCALDOMAIN", "debian")),
        (N, "docker.io/docker/docker".into(), hub("docker/docker")),
        (
            N,
            "docker.io/library/debian".into(),
            hub("library/debian").familiar("debian"),
        ),
        (
            N,
            "docker.io/debian".into(),
            hub("library/debian").full("docker.io/library/debian"),
        ),
        (
            N,
            "index.docker.io/docker/docker".into(),
            hub("docker/docker").full("docker.io/docker/docker"),
        ),
        (
            N,
            "index.docker.io/library/debian".into(),
            hub("library/debian").familiar("debian"),
        ),
        (N, "index.docker.io/debian".into(), hub("library/debian")),
        (
            N,
            "127.0.0.1:5000/docker/docker".into(),
            ok("127.0.0.1:5000", "docker/docker"),
        ),
        (
            N,
            "127.0.0.1:5000/library/debian".into(),
            ok("127.0.0.1:5000", "library/debian"),
        ),
        (
            N,
            "127.0.0.1:5000/debian".into(),
            ok("127.0.0.1:5000", "debian"),
        ),
        (
            N,
            "192.168.0.1".into(),
            hub("library/192.168.0.1").familiar("192.168.0.1"),
        ),
        (
            N,
            "192.168.0.1:80".into(),
            hub("library/192.168.0.1")
                .tag("80")
                .familiar("192.168.0.1:80"),
        ),
        (
            N,
            "192.168.0.1:8/debian".into(),
            ok("192.168.0.1:8", "debian"),
        ),
        (
            N,
            "192.168.0.2:25000/debian".into(),
            ok("192.168.0.2:25000", "debian"),
        ),
        (
            N,
            SONG.into(),
            hub(&format!("library/{SONG}")).familiar(SONG),
        ),
        (
            N,
            "[fc00::1]:5000/docker".into(),
            ok("[fc00::1]:5000", "docker"),
        ),
        (
            N,
            "[fc00::1]:5000/docker/docker".into(),
            ok("[fc00::1]:5000", "docker/docker"),
        ),
        (
            N,
            "[fc00:1:2:3:4:5:6:7]:5000/library/debian".into(),
            ok("[fc00:1:2:3:4:5:6:7]:5000", "library/debian"),
        ),
        // Valid with a domain; this crate's familiar form keeps "library/" so that it does not
        // read back as an image ID (distribution gives the bare hex).
        (
            N,
            format!("docker.io/{HEX64}"),
            hub(&format!("library/{HEX64}")).familiar(&format!("library/{HEX64}")),
        ),
        (
            N,
            "Docker/docker".into(),
            ok("Docker", "docker").familiar("Docker/docker"),
        ),
        (N, "DOCKER/docker".into(), ok("DOCKER", "docker")),
        (
            N,
            "https://github.com/docker/docker".into(),
            err(K::InvalidFormat),
        ),
        (N, "docker/Docker".into(), err(K::NameContainsUppercase)),
        (N, "-docker".into(), err(K::InvalidFormat)),
        (N, "-docker/docker".into(), err(K::InvalidFormat)),
        (N, "-docker.io/docker/docker".into(), err(K::InvalidFormat)),
        (N, "docker///docker".into(), err(K::InvalidFormat)),
        (
            N,
            "docker.io/docker/Docker".into(),
            err(K::NameContainsUppercase),
        ),
        (N, "docker.io/docker///docker".into(), err(K::InvalidFormat)),
        (N, "[fc00::1]".into(), err(K::InvalidFormat)),
        (N, "[fc00::1]:5000".into(), err(K::InvalidFormat)),
        (N, "fc00::1:5000/debian".into(), err(K::InvalidFormat)),
        (
            N,
            "[fe80::1%eth0]:5000/debian".into(),
            err(K::InvalidFormat),
        ),
        (
            N,
            "[2001:db8:3:4::192.0.2.33]:5000/debian".into(),
            err(K::InvalidFormat),
        ),
        (N, HEX64.into(), err(K::HexIdentifier)),
        // TestValidateRemoteName.
        (N, "docker-rules/docker".into(), hub("docker-rules/docker")),
        (
            N,
            "docker---rules/docker".into(),
            hub("docker---rules/docker"),
        ),
        (N, "doc/docker".into(), hub("doc/docker")),
        (N, "d/docker".into(), hub("d/docker")),
        (N, "jess/t".into(), hub("jess/t").familiar("jess/t")),
        (N, "dock__er/docker".into(), hub("dock__er/docker")),
        (N, "docker-/docker".into(), err(K::InvalidFormat)),
        (N, "-docker-/docker".into(), err(K::InvalidFormat)),
        (N, "____/____".into(), err(K::InvalidFormat)),
        (N, "_docker/_docker".into(), err(K::InvalidFormat)),
        (N, "dock..er/docker".into(), err(K::InvalidFormat)),
        (N, "dock_.er/docker".into(), err(K::InvalidFormat)),
        (N, "dock-.er/docker".into(), err(K::InvalidFormat)),
        (N, "docker/".into(), err(K::InvalidFormat)),
        (
            N,
            format!(
                "{}/docker",
                "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_"
                    .repeat(4)
                    .trim_end_matches('_')
            ),
            err(K::NameTooLong),
        ),
    ]);
}

/// normalize_test.go, TestParseRepositoryInfo: familiar, full, and ambiguous spellings of
/// the same repository.
#[test]
fn repository_info_table() {
    // (remote name, familiar name, full name, ambiguous name, domain)
    let table: &[(&str, &str, &str, &str, &str)] = &[
        (
            "fooo",
            "localhost/fooo",
            "localhost/fooo",
            "localhost/fooo",
            "localhost",
        ),
        (
            "fooo/bar",
            "localhost/fooo/bar",
            "localhost/fooo/bar",
            "localhost/fooo/bar",
            "localhost",
        ),
        (
            "fooo",
            "LOCALDOMAIN/fooo",
            "LOCALDOMAIN/fooo",
            "LOCALDOMAIN/fooo",
            "LOCALDOMAIN",
        ),
        (
            "fooo/bar",
            "LOCALDOMAIN/fooo/bar",
            "LOCALDOMAIN/fooo/bar",
            "LOCALDOMAIN/fooo/bar",
            "LOCALDOMAIN",
        ),
        (
            "fooo/bar",
            "fooo/bar",
            "docker.io/fooo/bar",
            "index.docker.io/fooo/bar",
            "docker.io",
        ),
        (
            "library/ubuntu",
            "ubuntu",
            "docker.io/library/ubuntu",
            "library/ubuntu",
            "docker.io",
        ),
        (
            "nonlibrary/ubuntu",
            "nonlibrary/ubuntu",
            "docker.io/nonlibrary/ubuntu",
            "",
            "docker.io",
        ),
        (
            "other/library",
            "other/library",
            "docker.io/other/library",
            "",
            "docker.io",
        ),
        (
            "private/moonbase",
            "127.0.0.1:8000/private/moonbase",
            "127.0.0.1:8000/private/moonbase",
            "",
            "127.0.0.1:8000",
        ),
        (
            "privatebase",
            "127.0.0.1:8000/privatebase",
            "127.0.0.1:8000/privatebase",
            "",
            "127.0.0.1:8000",
        ),
        (
            "private/moonbase",
            "example.com/private/moonbase",
            "example.com/private/moonbase",
            "",
            "example.com",
        ),
        (
            "privatebase",
            "example.com/privatebase",
            "example.com/privatebase",
            "",
            "example.com",
        ),
        (
            "private/moonbase",
            "example.com:8000/private/moonbase",
            "example.com:8000/private/moonbase",
            "",
            "example.com:8000",
        ),
        (
            "privatebasee",
            "example.com:8000/privatebasee",
            "example.com:8000/privatebasee",
            "",
            "example.com:8000",
        ),
        (
            "library/ubuntu-12.04-base",
            "ubuntu-12.04-base",
            "docker.io/library/ubuntu-12.04-base",
            "index.docker.io/library/ubuntu-12.04-base",
            "docker.io",
        ),
        (
            "library/foo",
            "foo",
            "docker.io/library/foo",
            "docker.io/foo",
            "docker.io",
        ),
        (
            "library/foo/bar",
            "library/foo/bar",
            "docker.io/library/foo/bar",
            "",
            "docker.io",
        ),
        (
            "store/foo/bar",
            "store/foo/bar",
            "docker.io/store/foo/bar",
            "",
            "docker.io",
        ),
        ("bar", "Foo/bar", "Foo/bar", "", "Foo"),
        ("bar", "FOO/bar", "FOO/bar", "", "FOO"),
    ];
    let mut rows = Vec::new();
    for &(remote, familiar, full, ambiguous, domain) in table {
        for input in [familiar, full, ambiguous] {
            if !input.is_empty() {
                rows.push((
                    N,
                    input.to_owned(),
                    ok(domain, remote).full(full).familiar(familiar),
                ));
            }
        }
    }
    run(rows);
}

/// normalize_test.go: TestNormalizedSplitHostname, TestParseReferenceWithTagAndDigest, the
/// named rows of TestParseAnyReference; plus the error classes of this crate.
#[test]
fn normalized_table() {
    let busybox_86 = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
    let redis_dbcc = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
    let hub = |path: &str| ok("docker.io", path);
    run(vec![
        // TestNormalizedSplitHostname.
        (N, "test.com/foo".into(), ok("test.com", "foo")),
        (N, "test_com/foo".into(), hub("test_com/foo")),
        (N, "docker/migrator".into(), hub("docker/migrator")),
        (N, "test.com:8080/foo".into(), ok("test.com:8080", "foo")),
        (N, "test-com:8080/foo".into(), ok("test-com:8080", "foo")),
        (
            N,
            "foo".into(),
            hub("library/foo")
                .full("docker.io/library/foo")
                .familiar("foo"),
        ),
        (N, "xn--n3h.com/foo".into(), ok("xn--n3h.com", "foo")),
        (
            N,
            "xn--n3h.com:18080/foo".into(),
            ok("xn--n3h.com:18080", "foo"),
        ),
        (
            N,
            "docker.io/foo".into(),
            hub("library/foo").familiar("foo"),
        ),
        (N, "docker.io/library/foo".into(), hub("library/foo")),
        (
            N,
            "docker.io/library/foo/bar".into(),
            hub("library/foo/bar").familiar("library/foo/bar"),
        ),
        // TestParseReferenceWithTagAndDigest.
        (
            N,
            format!("busybox:latest@{busybox_86}"),
            hub("library/busybox")
                .tag("latest")
                .digest(busybox_86)
                .full(&format!("docker.io/library/busybox:latest@{busybox_86}"))
                .familiar(&format!("busybox:latest@{busybox_86}")),
        ),
        // TestParseAnyReference, the rows that are names.
        (
            N,
            "redis".into(),
            hub("library/redis").full("docker.io/library/redis"),
        ),
        (
            N,
            "redis:latest".into(),
            hub("library/redis")
                .tag("latest")
                .full("docker.io/library/redis:latest"),
        ),
        (
            N,
            "docker.io/library/redis:latest".into(),
            hub("library/redis").tag("latest").familiar("redis:latest"),
        ),
        (
            N,
            format!("redis@{redis_dbcc}"),
            hub("library/redis")
                .digest(redis_dbcc)
                .full(&format!("docker.io/library/redis@{redis_dbcc}")),
        ),
        (
            N,
            "dmcgowan/myapp".into(),
            hub("dmcgowan/myapp").full("docker.io/dmcgowan/myapp"),
        ),
        (
            N,
            "dmcgowan/myapp:latest".into(),
            hub("dmcgowan/myapp").tag("latest"),
        ),
        (
            N,
            "docker.io/mcgowan/myapp:latest".into(),
            hub("mcgowan/myapp")
                .tag("latest")
                .familiar("mcgowan/myapp:latest"),
        ),
        (
            N,
            format!("dmcgowan/myapp@{redis_dbcc}"),
            hub("dmcgowan/myapp")
                .digest(redis_dbcc)
                .full(&format!("docker.io/dmcgowan/myapp@{redis_dbcc}")),
        ),
        (N, "dbcc1".into(), hub("library/dbcc1")),
        (
            N,
            HEX64[..63].into(),
            hub(&format!("library/{}", &HEX64[..63])),
        ),
        // A bare digest is not a name: it reads as image "sha256" with the hex as its tag.
        (
            N,
            redis_dbcc.into(),
            hub("library/sha256").tag(&redis_dbcc[7..]),
        ),
        // distribution: a name whose first component looks like a domain but is not a valid
        // one is a path without domain.
        (
            N,
            "foo_bar.com/app".into(),
            ok("", "foo_bar.com/app")
                .full("foo_bar.com/app")
                .familiar("foo_bar.com/app"),
        ),
        // Familiar forms keep docker.io where dropping it would change the meaning.
        (
            N,
            "docker.io/a.b/c".into(),
            hub("a.b/c").familiar("docker.io/a.b/c"),
        ),
        (
            N,
            "docker.io/localhost/c".into(),
            hub("localhost/c").familiar("docker.io/localhost/c"),
        ),
        (
            N,
            "index.docker.io:443/c".into(),
            ok("index.docker.io:443", "c"),
        ),
        (N, "localhost".into(), hub("library/localhost")),
        (
            N,
            "localhost:5000".into(),
            hub("library/localhost").tag("5000"),
        ),
        // Length: the path (after normalisation) counts, not the domain.
        (
            N,
            format!("example.com/{}", "a".repeat(255)),
            ok("example.com", &"a".repeat(255)),
        ),
        (
            N,
            format!("example.com/{}", "a".repeat(256)),
            err(K::NameTooLong),
        ),
        (
            N,
            format!("docker.io/{}", "a".repeat(247)),
            hub(&format!("library/{}", "a".repeat(247))),
        ),
        (N, "a".repeat(248), err(K::NameTooLong)),
        (
            N,
            format!("{}.com/a", "a".repeat(1000)),
            ok(&format!("{}.com", "a".repeat(1000)), "a"),
        ),
        (N, "a".repeat(4097), err(K::TooLong)),
        (S, "a".repeat(4097), err(K::TooLong)),
        // Error classes.
        (N, "".into(), err(K::NameEmpty)),
        (N, ":justtag".into(), err(K::InvalidFormat)),
        (N, "busybox:".into(), err(K::InvalidTag)),
        (N, "busybox:-foo".into(), err(K::InvalidTag)),
        (
            N,
            format!("busybox:{}", "t".repeat(128)),
            hub("library/busybox").tag(&"t".repeat(128)),
        ),
        (
            N,
            format!("busybox:{}", "t".repeat(129)),
            err(K::InvalidTag),
        ),
        (N, "busybox@".into(), err(K::InvalidDigest)),
        (N, "busybox@sha256:abc".into(), err(K::InvalidDigest)),
        (
            N,
            format!("busybox@sha256:{}", "F".repeat(64)),
            err(K::InvalidDigest),
        ),
        (
            N,
            format!("busybox@sha256:{}", "f".repeat(65)),
            err(K::InvalidDigest),
        ),
        (N, format!("busybox@{F64}@{F64}"), err(K::InvalidDigest)),
        (
            N,
            format!("busybox@md5:{}", "f".repeat(32)),
            err(K::UnsupportedDigestAlgorithm),
        ),
        // As distribution: the case check runs up to the first ':', here inside the digest.
        (
            N,
            format!("busybox@SHA256:{}", "f".repeat(64)),
            err(K::NameContainsUppercase),
        ),
        (N, "Busybox".into(), err(K::NameContainsUppercase)),
        (
            N,
            "busybox:Latest".into(),
            hub("library/busybox").tag("Latest"),
        ),
        (N, "\u{212A}".into(), err(K::NameContainsUppercase)),
        (N, "b\u{fc}sybox".into(), err(K::InvalidFormat)),
        (N, "foo:a:b".into(), err(K::InvalidFormat)),
        (N, "a/b c".into(), err(K::InvalidFormat)),
    ]);
}

/// normalize_test.go TestParseDockerRef, for `tag_or_latest` (distribution's `TagNameOnly`).
#[test]
fn tag_or_latest() {
    let d = "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582";
    for (input, expected) in [
        ("busybox", "docker.io/library/busybox:latest".to_owned()),
        (
            "busybox:latest",
            "docker.io/library/busybox:latest".to_owned(),
        ),
        (
            &format!("busybox@{d}"),
            format!("docker.io/library/busybox@{d}"),
        ),
        (
            "library/busybox",
            "docker.io/library/busybox:latest".to_owned(),
        ),
        (
            "docker.io/busybox",
            "docker.io/library/busybox:latest".to_owned(),
        ),
        (
            "docker.io/library/busybox",
            "docker.io/library/busybox:latest".to_owned(),
        ),
        (
            "docker.io/busybox:latest",
            "docker.io/library/busybox:latest".to_owned(),
        ),
        (
            "library/busybox:latest",
            "docker.io/library/busybox:latest".to_owned(),
        ),
        (
            "gcr.io/library/busybox",
            "gcr.io/library/busybox:latest".to_owned(),
        ),
        (
            "gcr.io/library/busybox:v1",
            "gcr.io/library/busybox:v1".to_owned(),
        ),
        // Unlike ParseDockerRef, a tag next to a digest is kept.
        (
            &format!("gcr.io/library/busybox:latest@{d}"),
            format!("gcr.io/library/busybox:latest@{d}"),
        ),
    ] {
        let r: Reference = input.parse().unwrap();
        assert_eq!(r.tag_or_latest().to_string(), expected, "{input}");
    }
}

/// reference_test.go TestWithTag, TestWithDigest; normalize_test.go
/// TestInvalidReferenceComponents.
#[test]
fn with_tag_and_digest() {
    let d: Digest = BE.parse().unwrap();
    for (name, tag, digest, combined) in [
        (
            "test.com/foo",
            Some("tag"),
            None,
            "test.com/foo:tag".to_owned(),
        ),
        ("foo", Some("tag2"), None, "foo:tag2".to_owned()),
        (
            "test.com:8000/foo",
            Some("tag4"),
            None,
            "test.com:8000/foo:tag4".to_owned(),
        ),
        (
            "test.com:8000/foo",
            Some("TAG5"),
            None,
            "test.com:8000/foo:TAG5".to_owned(),
        ),
        (
            "test.com:8000/foo",
            Some("TAG5"),
            Some(&d),
            format!("test.com:8000/foo:TAG5@{BE}"),
        ),
        ("test.com/foo", None, Some(&d), format!("test.com/foo@{BE}")),
        ("foo", None, Some(&d), format!("foo@{BE}")),
        (
            "test.com:8000/foo",
            Some("latest"),
            Some(&d),
            format!("test.com:8000/foo:latest@{BE}"),
        ),
    ] {
        // Digest first then tag, and tag first then digest, give the same reference.
        let mut a = Reference::parse_strict(name).unwrap();
        let mut b = a.clone();
        if let Some(d) = digest {
            a = a.with_digest(d.clone()).unwrap();
        }
        if let Some(t) = tag {
            a = a.with_tag(t).unwrap();
            b = b.with_tag(t).unwrap();
        }
        if let Some(d) = digest {
            b = b.with_digest(d.clone()).unwrap();
        }
        assert_eq!(a.to_string(), combined);
        assert_eq!(a, b);
        assert_eq!(Reference::parse_strict(&combined).unwrap(), a);
    }
    let busybox: Reference = "busybox".parse().unwrap();
    assert!("-foo".parse::<Reference>().is_err());
    for bad in ["-foo", "", ".x", "a:b", "a/b", &"t".repeat(129)] {
        let e = busybox.clone().with_tag(bad).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidReference {
                    kind: K::InvalidTag,
                    ..
                }
            ),
            "{bad}: {e}"
        );
    }
    let other: Digest = format!("md5:{}", "f".repeat(32)).parse().unwrap();
    let e = busybox.clone().with_digest(other).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidReference {
                kind: K::UnsupportedDigestAlgorithm,
                ..
            }
        ),
        "{e}"
    );
    let sha512 = Digest::compute(&oci_types::Algorithm::Sha512, b"x").unwrap();
    let r = busybox.with_digest(sha512.clone()).unwrap();
    assert_eq!(r.to_string(), format!("docker.io/library/busybox@{sha512}"));
    assert_eq!(r.to_string().parse::<Reference>().unwrap(), r);
}

/// reference_test.go TestSerialization, through serde (as a string, parsed by `FromStr`).
#[test]
fn serde_as_string() {
    let r: Reference = "example.com:8000/named:tagged".parse().unwrap();
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#""example.com:8000/named:tagged""#
    );
    let back: Reference = serde_json::from_str(r#""example.com:8000/named:tagged""#).unwrap();
    assert_eq!(back, r);
    let b: Reference = serde_json::from_str(r#""busybox""#).unwrap();
    assert_eq!(
        serde_json::to_string(&b).unwrap(),
        r#""docker.io/library/busybox""#
    );
    let e = serde_json::from_str::<Reference>(r#""""#).unwrap_err();
    assert!(e.to_string().contains("at least one component"), "{e}");
    assert!(serde_json::from_str::<Reference>(r#""Busybox""#).is_err());
    assert!(serde_json::from_str::<Reference>("42").is_err());
    let t = Reference::try_from("busybox").unwrap();
    assert_eq!(t, b);
}

#[test]
fn errors_carry_input_and_kind() {
    let e = "docker/Docker".parse::<Reference>().unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"invalid reference "docker/Docker": repository name must be lowercase"#
    );
    // Long input is clipped in the error.
    let e = "A".repeat(5000).parse::<Reference>().unwrap_err();
    match e {
        Error::InvalidReference { input, kind } => {
            assert_eq!(kind, K::TooLong);
            assert!(input.len() < 200, "{}", input.len());
        }
        other => panic!("{other}"),
    }
}

/// A generated valid reference: its parts, and its string.
#[derive(Debug, Clone)]
struct Generated {
    domain: Option<String>,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Generated {
    fn string(&self) -> String {
        let mut s = String::new();
        if let Some(d) = &self.domain {
            s += d;
            s.push('/');
        }
        s += &self.path;
        if let Some(t) = &self.tag {
            s += &format!(":{t}");
        }
        if let Some(d) = &self.digest {
            s += &format!("@{d}");
        }
        s
    }
}

fn domain_strategy() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        // Dotted names, mixed case allowed in domains.
        prop::collection::vec("[a-zA-Z0-9]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?", 2..4)
            .prop_map(|c| c.join(".")),
        Just("localhost".to_owned()),
        Just("docker.io".to_owned()),
        Just("index.docker.io".to_owned()),
        (0u8..=255, 0u8..=255, 0u8..=255, 0u8..=255)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        "[0-9a-f]{1,4}(:[0-9a-f]{0,4}){1,7}".prop_map(|h| format!("[{h}]")),
        // A single word is a domain only with a port; see below.
        "[a-z][a-z0-9-]{0,6}[a-z0-9]",
    ];
    (host, proptest::option::of(1u32..65536)).prop_map(|(h, port)| match port {
        Some(p) => format!("{h}:{p}"),
        None if h.contains(['.', '[']) || h == "localhost" => h,
        None => format!("{h}:5000"),
    })
}

fn path_strategy() -> impl Strategy<Value = String> {
    let component = (
        "[a-z0-9]{1,6}",
        prop::collection::vec(
            (
                prop_oneof![
                    Just("."),
                    Just("_"),
                    Just("__"),
                    Just("-"),
                    Just("--"),
                    Just("---")
                ],
                "[a-z0-9]{1,6}",
            ),
            0..3,
        ),
    )
        .prop_map(|(first, rest)| {
            let mut c = first;
            for (sep, part) in rest {
                c += sep;
                c += &part;
            }
            c
        });
    prop::collection::vec(component, 1..4).prop_map(|c| c.join("/"))
}

fn generated() -> impl Strategy<Value = Generated> {
    (
        proptest::option::of(domain_strategy()),
        path_strategy(),
        proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
        proptest::option::of(prop::collection::vec(any::<u8>(), 0..16)),
    )
        .prop_map(|(domain, path, tag, bytes)| Generated {
            domain,
            path,
            tag,
            digest: bytes.map(|b| Digest::sha256(&b).to_string()),
        })
}

proptest! {
    /// Display then FromStr gives the same reference, and so does the familiar form.
    #[test]
    fn valid_references_round_trip(g in generated()) {
        let s = g.string();
        let r: Reference = s.parse().unwrap();
        prop_assert_eq!(r.tag(), g.tag.as_deref());
        prop_assert_eq!(r.digest().map(|d| d.to_string()), g.digest.clone());
        match &g.domain {
            Some(d) if d == "docker.io" || d == "index.docker.io" => {
                prop_assert_eq!(r.domain(), "docker.io");
                let path = if g.path.contains('/') { g.path.clone() } else { format!("library/{}", g.path) };
                prop_assert_eq!(r.path(), path);
            }
            Some(d) => {
                prop_assert_eq!(r.domain(), d.as_str());
                prop_assert_eq!(r.path(), g.path.as_str());
                prop_assert_eq!(r.to_string(), s.clone());
            }
            None => {
                // A first path component with a '.' reads as a domain.
                let first = g.path.split('/').next().unwrap_or_default();
                if !(g.path.contains('/') && first.contains('.')) {
                    prop_assert_eq!(r.domain(), "docker.io");
                }
            }
        }
        prop_assert_eq!(&r.to_string().parse::<Reference>().unwrap(), &r);
        prop_assert_eq!(&r.familiar().parse::<Reference>().unwrap(), &r);
        prop_assert_eq!(&Reference::parse_strict(&r.to_string()).unwrap(), &r);
        let json = serde_json::to_string(&r).unwrap();
        prop_assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r);
    }

    /// No input panics; whatever parses prints back to itself.
    #[test]
    fn arbitrary_input_never_panics(s in prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9:/@._\\[\\]-]{0,80}",
        "[a-z0-9./:]{0,30}(@sha256:[0-9a-f]{64})?",
    ]) {
        if let Ok(r) = s.parse::<Reference>() {
            prop_assert_eq!(&r.to_string().parse::<Reference>().unwrap(), &r);
            prop_assert_eq!(&r.familiar().parse::<Reference>().unwrap(), &r);
        }
        if let Ok(r) = Reference::parse_strict(&s) {
            prop_assert_eq!(r.to_string(), s);
        }
    }
}
