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
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use crate::error::Expected;
use crate::header::{is_bare_value_char, Parser};
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
        return Err(p.unexpected(Expected::LinkStart));
    }
    let target = p.take_chars_while(|c| c != '>' && !c.is_whitespace() && !c.is_control());
    if !p.eat(b'>') {
        return Err(p.unexpected(Expected::LinkEnd));
    }
    let mut rel = None;
    loop {
        p.skip_ows();
        match p.peek() {
            None | Some(b',') => return Ok((target, rel)),
            Some(b';') => p.eat(b';'),
            Some(_) => return Err(p.unexpected(Expected::LinkSeparator)),
        };
        p.skip_ows();
        let name = p.token();
        if name.is_empty() {
            // `<x>;` or `<x>; ;`: an empty parameter, tolerated.
            if matches!(p.peek(), None | Some(b',' | b';')) {
                continue;
            }
            return Err(p.unexpected(Expected::LinkParameter));
        }
        p.skip_ows();
        let value = if p.eat(b'=') {
            p.skip_ows();
            if p.peek() == Some(b'"') {
                Some(p.quoted()?)
            } else {
                let bare = p.take_chars_while(|c| is_bare_value_char(c) && c != ';');
                if bare.is_empty() {
                    return Err(p.no_value(name, true));
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
    let scheme = s.as_bytes().get(..end)?;
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
mod tests;
