//! Entry names: checked and split into components before anything touches the disk.

use crate::error::Hostile;
use crate::limits;

/// A checked relative path inside the root: no empty, `.` or `..` component, no NUL byte.
/// Empty for the root itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RelPath(Vec<u8>);

impl RelPath {
    /// Checks a tar entry name (or hard link target). Leading `./` and `/`-separated `.`
    /// components are dropped; `..` anywhere and a leading `/` are refused.
    pub(crate) fn parse(name: &[u8], link: bool) -> Result<RelPath, Hostile> {
        if name.len() > limits::MAX_PATH || name.contains(&0) {
            return Err(Hostile::BadName);
        }
        if name.first() == Some(&b'/') {
            return Err(if link {
                Hostile::LinkOutside
            } else {
                Hostile::Absolute
            });
        }
        let mut out = Vec::with_capacity(name.len());
        let mut depth = 0usize;
        for comp in name.split(|&b| b == b'/') {
            match comp {
                b"" | b"." => continue,
                b".." => {
                    return Err(if link {
                        Hostile::LinkOutside
                    } else {
                        Hostile::ParentDir
                    })
                }
                _ => {}
            }
            depth += 1;
            if depth > limits::MAX_DEPTH {
                return Err(Hostile::TooDeep);
            }
            if !out.is_empty() {
                out.push(b'/');
            }
            out.extend_from_slice(comp);
        }
        Ok(RelPath(out))
    }

    /// The bytes, components joined by `/`; empty for the root.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether this is the root.
    pub(crate) fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The parent (the root's parent is the root) and the last component.
    pub(crate) fn split_last(&self) -> (RelPath, &[u8]) {
        match self.0.iter().rposition(|&b| b == b'/') {
            Some(i) => (RelPath(self.0[..i].to_vec()), &self.0[i + 1..]),
            None => (RelPath(Vec::new()), &self.0[..]),
        }
    }

    /// `self/name` (`name` a single checked component).
    pub(crate) fn join(&self, name: &[u8]) -> RelPath {
        let mut v = self.0.clone();
        if !v.is_empty() {
            v.push(b'/');
        }
        v.extend_from_slice(name);
        RelPath(v)
    }

    /// The proper ancestors, outermost first, not counting the root.
    pub(crate) fn ancestors(&self) -> impl Iterator<Item = &[u8]> {
        self.0
            .iter()
            .enumerate()
            .filter(|(_, &b)| b == b'/')
            .map(|(i, _)| &self.0[..i])
    }

    /// The path for system calls: `.` for the root.
    pub(crate) fn for_syscall(&self) -> &[u8] {
        if self.0.is_empty() {
            b"."
        } else {
            &self.0
        }
    }
}

/// What an entry's last component says it is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Special<'a> {
    /// An ordinary name.
    None,
    /// `.wh..wh..opq`: the parent hides what lower layers put in it.
    Opaque,
    /// `.wh.NAME`: `NAME` of the parent is removed from lower layers.
    Whiteout(&'a [u8]),
    /// Another `.wh..wh.` name: AUFS's own metadata (`.wh..wh.plnk`, `.wh..wh.aufs`), skipped.
    AufsMeta,
}

/// The prefix of whiteouts (image-spec, "Whiteouts").
pub(crate) const WHITEOUT: &[u8] = b".wh.";
/// The opaque whiteout's name.
pub(crate) const OPAQUE: &[u8] = b".wh..wh..opq";
/// The prefix AUFS reserves for its metadata.
const AUFS_META: &[u8] = b".wh..wh.";

/// Classifies a last component.
pub(crate) fn special(name: &[u8]) -> Result<Special<'_>, Hostile> {
    if name == OPAQUE {
        return Ok(Special::Opaque);
    }
    if name.starts_with(AUFS_META) {
        return Ok(Special::AufsMeta);
    }
    match name.strip_prefix(WHITEOUT) {
        None => Ok(Special::None),
        Some(b"" | b"." | b"..") => Err(Hostile::BadWhiteout),
        Some(target) => Ok(Special::Whiteout(target)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests
    use super::*;

    fn check(name: &str, want: Result<&str, Hostile>) {
        let got = RelPath::parse(name.as_bytes(), false);
        assert_eq!(
            got.as_ref()
                .map(|p| std::str::from_utf8(p.as_bytes()).unwrap()),
            want.as_ref().map(|s| *s),
            "{name}"
        );
    }

    #[test]
    fn names() {
        check("a/b", Ok("a/b"));
        check("./a/./b/", Ok("a/b"));
        check("./", Ok(""));
        check(".", Ok(""));
        check("a//b", Ok("a/b"));
        check("../a", Err(Hostile::ParentDir));
        check("a/../../b", Err(Hostile::ParentDir));
        check("a/..", Err(Hostile::ParentDir));
        check("/etc/passwd", Err(Hostile::Absolute));
        check("a\0b", Err(Hostile::BadName));
        check(&"a/".repeat(600), Err(Hostile::TooDeep));
        assert_eq!(
            RelPath::parse(b"/x", true).unwrap_err(),
            Hostile::LinkOutside
        );
    }

    #[test]
    fn specials() {
        assert_eq!(special(b".wh..wh..opq"), Ok(Special::Opaque));
        assert_eq!(special(b".wh..wh.plnk"), Ok(Special::AufsMeta));
        assert_eq!(special(b".wh.foo"), Ok(Special::Whiteout(b"foo")));
        assert_eq!(special(b".wh.."), Err(Hostile::BadWhiteout));
        assert_eq!(special(b".wh..."), Err(Hostile::BadWhiteout));
        assert_eq!(special(b"foo"), Ok(Special::None));
        let p = RelPath::parse(b"a/b/c", false).unwrap();
        let anc: Vec<_> = p.ancestors().collect();
        assert_eq!(anc, vec![&b"a"[..], &b"a/b"[..]]);
        assert_eq!(p.split_last().1, b"c");
    }
}
