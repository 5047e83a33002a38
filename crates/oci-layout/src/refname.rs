//! The grammar of `org.opencontainers.image.ref.name` values (OCI image spec, annotations):
//!
//! ```text
//! ref       ::= component ("/" component)*
//! component ::= alphanum (separator alphanum)*
//! alphanum  ::= [A-Za-z0-9]+
//! separator ::= [-._:@+] | "--"
//! ```
//!
//! containers/image (skopeo's `oci:` transport) checks ref names with the same grammar.

use crate::{Error, Result};

/// Checks `name` against the OCI ref name grammar.
///
/// ```
/// use oci_layout::check_ref_name;
/// assert!(check_ref_name("latest").is_ok());
/// assert!(check_ref_name("example.com/app:1.0").is_ok());
/// assert!(check_ref_name("a--b").is_ok());
/// assert!(check_ref_name("").is_err());
/// assert!(check_ref_name("a..b").is_err());
/// assert!(check_ref_name("-a").is_err());
/// assert!(check_ref_name("a//b").is_err());
/// ```
pub fn check_ref_name(name: &str) -> Result<()> {
    let bad = |reason| {
        Err(Error::InvalidRefName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("empty");
    }
    for component in name.split('/') {
        if let Err(reason) = check_component(component) {
            return bad(reason);
        }
    }
    Ok(())
}

fn check_component(c: &str) -> std::result::Result<(), &'static str> {
    let b = c.as_bytes();
    if b.is_empty() {
        return Err("empty component (leading, trailing or doubled '/')");
    }
    let mut i = 0;
    loop {
        // An alphanumeric run.
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i == start {
            return Err(
                "a component must start and end with a letter or digit, with one \
                        separator (one of -._:@+ or --) between letters and digits",
            );
        }
        if i == b.len() {
            return Ok(());
        }
        // One separator.
        match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => i += 2,
            b'-' | b'.' | b'_' | b':' | b'@' | b'+' => i += 1,
            _ => return Err("only letters, digits and the separators -._:@+ are allowed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        for ok in [
            "a",
            "A9",
            "v1.0.0",
            "a_b",
            "a:b",
            "a@b",
            "a+b",
            "a--b",
            "x/y/z",
            "r.io/app:v1",
        ] {
            assert!(check_ref_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "/", "a/", "/a", "a//b", "a-", ".a", "a..b", "a---b", "a-.b", "a b", "é", "a\n",
        ] {
            assert!(check_ref_name(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        /// Names built from the grammar are accepted.
        #[test]
        fn grammar_names_pass(parts in proptest::collection::vec(
            proptest::collection::vec(("[A-Za-z0-9]{1,4}", "(-|\\.|_|:|@|\\+|--)"), 1..4), 1..4)) {
            let name = parts.iter().map(|comp| {
                let mut s = String::new();
                for (i, (alnum, sep)) in comp.iter().enumerate() {
                    if i > 0 { s.push_str(sep); }
                    s.push_str(alnum);
                }
                s
            }).collect::<Vec<_>>().join("/");
            prop_assert!(check_ref_name(&name).is_ok(), "{}", name);
        }

        /// A name with any other character is refused, and nothing panics.
        #[test]
        fn other_characters_fail(prefix in "[a-z]{0,3}", c in "[^A-Za-z0-9/._:@+-]", suffix in "[a-z]{0,3}") {
            let name = format!("{prefix}{c}{suffix}");
            prop_assert!(check_ref_name(&name).is_err());
        }
    }
}
