//! Paths inside an archive: normalisation and joining, refusing anything that leaves it.
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use crate::{Error, Result};

/// Normalises a path inside the archive: `./x`, `x/`, `a//b` and `a/./b` become `x` and `a/b`;
/// `a/../b` becomes `b`. A path that is absolute or climbs above the root with `..` is
/// refused with [`Error::PathEscape`]. The root itself normalises to the empty string.
pub(crate) fn normalize(path: &str) -> Result<String> {
    if path.starts_with('/') {
        return Err(escape(path));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(escape(path));
                }
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// The target of a symbolic link at `link` (a normalised path) pointing to `target`, normalised.
/// Relative targets are relative to the link's directory; absolute ones are refused.
pub(crate) fn join_symlink(link: &str, target: &str) -> Result<String> {
    if target.starts_with('/') {
        return Err(escape(target));
    }
    let dir = match link.rfind('/') {
        Some(i) => &link[..i],
        None => "",
    };
    let joined = if dir.is_empty() {
        target.to_owned()
    } else {
        format!("{dir}/{target}")
    };
    normalize(&joined).map_err(|_| escape(&joined))
}

fn escape(path: &str) -> Error {
    Error::PathEscape { path: clip(path) }
}

/// Shortens an untrusted string before it is kept in an error.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 256;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // tests index what they just asserted
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(normalize("./x").unwrap(), "x");
        assert_eq!(normalize("x").unwrap(), "x");
        assert_eq!(normalize("a//b/./c/").unwrap(), "a/b/c");
        assert_eq!(normalize("a/../b").unwrap(), "b");
        assert_eq!(normalize("./").unwrap(), "");
        assert!(matches!(normalize("../x"), Err(Error::PathEscape { .. })));
        assert!(matches!(
            normalize("a/../../x"),
            Err(Error::PathEscape { .. })
        ));
        assert!(matches!(
            normalize("/etc/passwd"),
            Err(Error::PathEscape { .. })
        ));
    }

    #[test]
    fn joins_links() {
        assert_eq!(
            join_symlink("id/layer.tar", "../abc.tar").unwrap(),
            "abc.tar"
        );
        assert_eq!(join_symlink("a", "b").unwrap(), "b");
        assert_eq!(join_symlink("d/a", "./b").unwrap(), "d/b");
        assert!(matches!(
            join_symlink("id/layer.tar", "../../x"),
            Err(Error::PathEscape { .. })
        ));
        assert!(matches!(
            join_symlink("a", "/abs"),
            Err(Error::PathEscape { .. })
        ));
    }
}
