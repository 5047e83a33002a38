//! The `Link` header (RFC 8288) of paginated answers (`tags/list`, `_catalog`), and resolving
//! the reference it holds against the URL asked (RFC 3986 section 5.2).
//!
//! ```text
//! Link       = #link-value
//! link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
//! link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
//! ```
//!
//! As for `WWW-Authenticate`, an unquoted value may hold any visible character but `,`, `;`,
//! `"` and `\`.

use crate::challenge::{is_bare_value_char, Parser};
use crate::Result;

const HEADER: &str = "Link";

/// The URI reference of the first link of `header` whose relation types include `next`
/// (`</v2/foo/tags/list?last=b&n=2>; rel="next"` gives `/v2/foo/tags/list?last=b&n=2`), or
/// `None` when no link is `next`. Resolve it with [`resolve`].
///
/// `rel` may be quoted or not and list several types separated by spaces; types compare
/// case-insensitively; only the first `rel` of a link counts (RFC 8288 section 3.3).
///
/// Errors: [`crate::Error::InvalidHeader`] when the header breaks the grammar.
pub(crate) fn next_link(header: &str) -> Result<Option<String>> {
    let mut p = Parser::new(header, HEADER);
    let mut next = None;
    loop {
        p.skip_list_separators();
        if p.at_end() {
            return Ok(next);
        }
        let (target, rels) = link_value(&mut p)?;
        let is_next = rels.is_some_and(|rels| {
            rels.split([' ', '\t'])
                .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        if is_next && next.is_none() {
            next = Some(target.to_owned());
        }
    }
}

/// One `<target>; params`: the target and the value of its first `rel`.
fn link_value<'a>(p: &mut Parser<'a>) -> Result<(&'a str, Option<String>)> {
    if !p.eat(b'<') {
        return Err(p.invalid(format!("expected '<', found {}", p.found())));
    }
    let target = p.take_chars_while(|c| c != '>' && !c.is_whitespace() && !c.is_control());
    if !p.eat(b'>') {
        return Err(p.invalid(format!(
            "expected '>' closing the link target, found {}",
            p.found()
        )));
    }
    let mut rel = None;
    loop {
        p.skip_ows();
        match p.peek() {
            None | Some(b',') => return Ok((target, rel)),
            Some(b';') => p.eat(b';'),
            Some(_) => {
                return Err(p.invalid(format!(
                    "expected ';' or ',' after a link, found {}",
                    p.found()
                )))
            }
        };
        p.skip_ows();
        let name = p.token();
        if name.is_empty() {
            // `<x>;` or `<x>; ;`: an empty parameter, tolerated.
            if matches!(p.peek(), None | Some(b',' | b';')) {
                continue;
            }
            return Err(p.invalid(format!("expected a link parameter, found {}", p.found())));
        }
        p.skip_ows();
        let value = if p.eat(b'=') {
            p.skip_ows();
            if p.peek() == Some(b'"') {
                Some(p.quoted()?)
            } else {
                let bare = p.take_chars_while(|c| is_bare_value_char(c) && c != ';');
                if bare.is_empty() {
                    return Err(p.invalid(format!(
                        "link parameter {name} has no value, found {}",
                        p.found()
                    )));
                }
                Some(bare.to_owned())
            }
        } else {
            None
        };
        if rel.is_none() && name.eq_ignore_ascii_case("rel") {
            rel = Some(value.unwrap_or_default());
        }
    }
}

/// `reference` resolved against `base_url` (`scheme://host[:port]/path?query`), as RFC 3986
/// section 5.2 does: an absolute URL is kept, `//host/p` takes the base's scheme, `/p` the
/// base's scheme and host, `?q` the base's path, and a relative path (`p`, `../p`) is joined
/// to the base's directory. Dot segments of the resulting path are removed. A base without a
/// scheme (which this crate never makes) gives `reference` unchanged.
pub(crate) fn resolve(base_url: &str, reference: &str) -> String {
    if scheme_len(reference).is_some() {
        return reference.to_owned();
    }
    let Some(scheme_end) = scheme_len(base_url) else {
        return reference.to_owned();
    };
    let base = base_url.split('#').next().unwrap_or(base_url);
    if reference.starts_with("//") {
        return format!("{}{reference}", &base[..=scheme_end]);
    }
    // The origin is `scheme:` plus `//authority` when there is one.
    let after_scheme = &base[scheme_end + 1..];
    let authority_len = match after_scheme.strip_prefix("//") {
        Some(rest) => 2 + rest.find(['/', '?']).unwrap_or(rest.len()),
        None => 0,
    };
    let origin = &base[..scheme_end + 1 + authority_len];
    let rest = &base[origin.len()..];
    let (base_path, base_query) = match rest.find('?') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (ref_path, ref_tail) = match reference.find(['?', '#']) {
        Some(i) => reference.split_at(i),
        None => (reference, ""),
    };
    if ref_path.is_empty() {
        // `""`, `?q`, `#f`: the base's path, with the reference's query if it has one.
        let query = if ref_tail.starts_with('?') {
            ""
        } else {
            base_query
        };
        return format!("{origin}{base_path}{query}{ref_tail}");
    }
    let path = if ref_path.starts_with('/') {
        remove_dot_segments(ref_path)
    } else {
        let dir = match base_path.rfind('/') {
            Some(i) => &base_path[..=i],
            // No path at all: RFC 3986 5.2.3 joins with "/" when there is an authority.
            None if authority_len > 0 => "/",
            None => "",
        };
        remove_dot_segments(&format!("{dir}{ref_path}"))
    };
    format!("{origin}{path}{ref_tail}")
}

/// The length of the scheme of `s` (`http` in `http://...`) when it has one: `ALPHA *(
/// ALPHA / DIGIT / "+" / "-" / "." )` followed by `:`.
fn scheme_len(s: &str) -> Option<usize> {
    let end = s.find(':')?;
    let scheme = &s.as_bytes()[..end];
    let valid = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    valid.then_some(end)
}

/// RFC 3986 section 5.2.4: `.` and `..` segments removed from a path.
fn remove_dot_segments(path: &str) -> String {
    let absolute = path.starts_with('/');
    let segments: Vec<&str> = path.split('/').collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." | ".." => {
                // Never pop the empty segment before the leading '/'.
                if *segment == ".." && out.len() > usize::from(absolute) {
                    out.pop();
                }
                if i == last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if absolute && !joined.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        for header in [
            r#"/v2/foo/tags/list?last=b; rel="next""#,
            r#"</v2/foo; rel="next""#,
            r#"</v2/f oo>; rel="next""#,
            r#"</x>; rel="next"#,
            r#"</x>; rel="#,
            r#"</x> rel="next""#,
            r#"</x>; "rel"="next""#,
            "</x\u{0}>; rel=next",
            r#"</x>; rel="next" garbage"#,
        ] {
            match next_link(header) {
                Err(Error::InvalidHeader {
                    header: "Link",
                    reason,
                }) => assert!(!reason.is_empty()),
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
}
