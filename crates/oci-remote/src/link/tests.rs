//! Tests of `Link` parsing and reference resolution (RFC 8288, RFC 3986 section 5.2).
#![allow(clippy::indexing_slicing)] // tests index what they just asserted

use super::*;
use crate::error::{Expected, HeaderErrorKind as K};
use crate::Error;
use proptest::prelude::*;

#[test]
fn registry_links() {
    for (header, expected) in [
        // distribution (registry:2), tags/list and _catalog.
        (
            r#"</v2/foo/tags/list?last=b&n=2>; rel="next""#,
            Some("/v2/foo/tags/list?last=b&n=2"),
        ),
        (
            r#"</v2/_catalog?last=library%2Fubuntu&n=100>; rel="next""#,
            Some("/v2/_catalog?last=library%2Fubuntu&n=100"),
        ),
        // Unquoted rel, no spaces.
        (
            "</v2/x/tags/list?n=1&last=a>;rel=next",
            Some("/v2/x/tags/list?n=1&last=a"),
        ),
        // Several relation types; case-insensitive.
        (r#"</p2>; rel="prev NEXT""#, Some("/p2")),
        // An absolute URL (some registries send one).
        (
            r#"<https://ghcr.io/v2/o/i/tags/list?last=v1&n=10>; rel="next""#,
            Some("https://ghcr.io/v2/o/i/tags/list?last=v1&n=10"),
        ),
        // Several links; the next one is not first; commas inside the target.
        (
            r#"</first>; rel="first", </a,b?x=1,2>; rel="next"; title="page, 2""#,
            Some("/a,b?x=1,2"),
        ),
        // Other params first, spaces around ';' and '='.
        (
            r#"  </n> ;  type = "text/plain" ;  rel = "next"  "#,
            Some("/n"),
        ),
        // A rel without a value, an empty param, a flag param.
        ("</n>; rel; foo", None),
        ("</n>;; rel=next;", Some("/n")),
        // No next.
        (r#"</prev>; rel="prev""#, None),
        (r#"</x>; rel="nextpage""#, None),
        ("</x>", None),
        ("", None),
        ("  ,  ", None),
        // Only the first rel counts.
        (r#"</x>; rel="prev"; rel="next""#, None),
        // The first next wins.
        (r#"</1>; rel=next, </2>; rel=next"#, Some("/1")),
    ] {
        let got = next_link(header).unwrap_or_else(|e| panic!("{header}: {e}"));
        assert_eq!(got.as_deref(), expected, "{header}");
    }
}

#[test]
fn malformed_links_are_errors() {
    for (header, want) in [
        (
            r#"/v2/foo/tags/list?last=b; rel="next""#,
            K::Unexpected {
                expected: Expected::LinkStart,
                found: Some('/'),
                at: 0,
            },
        ),
        (
            r#"</v2/foo; rel="next""#,
            K::Unexpected {
                expected: Expected::LinkEnd,
                found: Some(' '),
                at: 9,
            },
        ),
        (
            r#"</v2/f oo>; rel="next""#,
            K::Unexpected {
                expected: Expected::LinkEnd,
                found: Some(' '),
                at: 6,
            },
        ),
        (r#"</x>; rel="next"#, K::UnterminatedQuote { at: 10 }),
        (
            r#"</x>; rel="#,
            K::NoValue {
                name: "rel".into(),
                link: true,
                found: None,
                at: 10,
            },
        ),
        (
            r#"</x> rel="next""#,
            K::Unexpected {
                expected: Expected::LinkSeparator,
                found: Some('r'),
                at: 5,
            },
        ),
        (
            r#"</x>; "rel"="next""#,
            K::Unexpected {
                expected: Expected::LinkParameter,
                found: Some('"'),
                at: 6,
            },
        ),
        (
            "</x\u{0}>; rel=next",
            K::Unexpected {
                expected: Expected::LinkEnd,
                found: Some('\0'),
                at: 3,
            },
        ),
        (
            r#"</x>; rel="next" garbage"#,
            K::Unexpected {
                expected: Expected::LinkSeparator,
                found: Some('g'),
                at: 17,
            },
        ),
    ] {
        match next_link(header) {
            Err(Error::InvalidHeader {
                header: "Link",
                kind,
            }) => assert_eq!(kind, want, "{header:?}"),
            other => panic!("{header:?}: {other:?}"),
        }
    }
}

#[test]
fn resolve_registry_shapes() {
    let base = "https://reg.example:5000/v2/foo/tags/list?n=2";
    assert_eq!(
        resolve(base, "/v2/foo/tags/list?last=b&n=2"),
        "https://reg.example:5000/v2/foo/tags/list?last=b&n=2"
    );
    assert_eq!(
        resolve(base, "http://other:80/v2/x?last=a"),
        "http://other:80/v2/x?last=a"
    );
    assert_eq!(
        resolve(base, "list?last=b"),
        "https://reg.example:5000/v2/foo/tags/list?last=b"
    );
    assert_eq!(
        resolve("http://localhost:5000", "/v2/_catalog?last=a"),
        "http://localhost:5000/v2/_catalog?last=a"
    );
    assert_eq!(
        resolve("http://localhost:5000", "v2/_catalog"),
        "http://localhost:5000/v2/_catalog"
    );
    assert_eq!(
        resolve("http://[::1]:5000/v2/a/b", "c"),
        "http://[::1]:5000/v2/a/c"
    );
}

/// The examples of RFC 3986 section 5.4.
#[test]
fn resolve_rfc3986_examples() {
    let base = "http://a/b/c/d;p?q";
    for (reference, expected) in [
        ("g:h", "g:h"),
        ("g", "http://a/b/c/g"),
        ("./g", "http://a/b/c/g"),
        ("g/", "http://a/b/c/g/"),
        ("/g", "http://a/g"),
        ("//g", "http://g"),
        ("?y", "http://a/b/c/d;p?y"),
        ("g?y", "http://a/b/c/g?y"),
        ("#s", "http://a/b/c/d;p?q#s"),
        ("g#s", "http://a/b/c/g#s"),
        ("g?y#s", "http://a/b/c/g?y#s"),
        (";x", "http://a/b/c/;x"),
        ("g;x", "http://a/b/c/g;x"),
        ("g;x?y#s", "http://a/b/c/g;x?y#s"),
        ("", "http://a/b/c/d;p?q"),
        (".", "http://a/b/c/"),
        ("./", "http://a/b/c/"),
        ("..", "http://a/b/"),
        ("../", "http://a/b/"),
        ("../g", "http://a/b/g"),
        ("../..", "http://a/"),
        ("../../", "http://a/"),
        ("../../g", "http://a/g"),
        ("../../../g", "http://a/g"),
        ("../../../../g", "http://a/g"),
        ("/./g", "http://a/g"),
        ("/../g", "http://a/g"),
        ("g.", "http://a/b/c/g."),
        (".g", "http://a/b/c/.g"),
        ("g..", "http://a/b/c/g.."),
        ("..g", "http://a/b/c/..g"),
        ("./../g", "http://a/b/g"),
        ("./g/.", "http://a/b/c/g/"),
        ("g/./h", "http://a/b/c/g/h"),
        ("g/../h", "http://a/b/c/h"),
        ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
        ("g;x=1/../y", "http://a/b/c/y"),
        ("g?y/./x", "http://a/b/c/g?y/./x"),
        ("g?y/../x", "http://a/b/c/g?y/../x"),
        ("g#s/./x", "http://a/b/c/g#s/./x"),
        ("g#s/../x", "http://a/b/c/g#s/../x"),
    ] {
        assert_eq!(resolve(base, reference), expected, "{reference:?}");
    }
    // A fragment of the base is dropped.
    assert_eq!(resolve("http://a/b#f", "c"), "http://a/c");
    // A base without a scheme cannot be resolved against.
    assert_eq!(resolve("not a url", "/x"), "/x");
}

fn rel_value() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("next".to_owned()),
            Just("NeXt".to_owned()),
            "[a-z]{1,6}"
        ],
        1..4,
    )
    .prop_map(|v| v.join(" "))
}

proptest! {
    /// A header built from links gives back the target of the first whose rel has next.
    #[test]
    fn link_header_round_trip(
        links in prop::collection::vec(
            ("/v2/[a-z0-9/]{1,20}(\\?[a-z]=[a-z0-9,;%]{0,8}(&n=[0-9]{1,3})?)?",
             rel_value(),
             any::<bool>(),
             prop::option::of("[ -~]{0,10}")),
            0..5,
        )
    ) {
        let mut header = String::new();
        for (i, (target, rel, quoted, title)) in links.iter().enumerate() {
            if i > 0 {
                header.push_str(", ");
            }
            header.push_str(&format!("<{target}>"));
            if let Some(title) = title {
                let escaped = title.replace('\\', "\\\\").replace('"', "\\\"");
                header.push_str(&format!("; title=\"{escaped}\""));
            }
            if *quoted || rel.contains(' ') {
                header.push_str(&format!("; rel=\"{rel}\""));
            } else {
                header.push_str(&format!(";rel={rel}"));
            }
        }
        let expected = links
            .iter()
            .find(|(_, rel, _, _)| rel.split(' ').any(|r| r.eq_ignore_ascii_case("next")))
            .map(|(target, _, _, _)| target.clone());
        prop_assert_eq!(next_link(&header).unwrap(), expected, "{:?}", header);
    }

    #[test]
    fn next_link_never_panics(s in any::<String>()) {
        let _ = next_link(&s);
    }

    #[test]
    fn resolve_never_panics_and_keeps_absolute_urls(
        // No dot segments in the base: RFC 3986 keeps the base path as is for `?q`.
        base in "[a-z]{1,5}://[a-z0-9.:\\[\\]]{0,12}(/[a-z]{0,4}){0,4}(\\?[a-z=&/.]{0,6})?",
        reference in "(/|\\./|\\.\\./)?([a-z.]{1,4}/){0,4}(\\?[a-z=&]{0,6})?",
    ) {
        let got = resolve(&base, &reference);
        let origin_end = base.find("://").unwrap() + 3;
        let origin_end = origin_end + base[origin_end..].find(['/', '?']).unwrap_or(base.len() - origin_end);
        prop_assert!(got.starts_with(&base[..origin_end]), "{} + {} = {}", base, reference, got);
        let path = &got[origin_end..];
        let path = path.split('?').next().unwrap();
        prop_assert!(!path.split('/').any(|s| s == "." || s == ".."), "{}", got);
        prop_assert_eq!(resolve(&base, &got), got.clone());
    }
}
