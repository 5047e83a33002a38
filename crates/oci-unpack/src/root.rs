//! The capability: a directory file descriptor that every path is resolved beneath.
//!
//! This is the only module that names paths to the kernel. Every lookup starts at the root's
//! descriptor and goes through `openat2(2)` with `RESOLVE_IN_ROOT` (a symbolic link, `..` or
//! absolute target met on the way is resolved as if the root were `/`, so nothing outside it
//! is ever reached, atomically, by the kernel) and `RESOLVE_NO_MAGICLINKS` (no `/proc`
//! jumps). The last component is then operated on relative to its parent's descriptor with
//! `*at` calls that do not follow it (`O_NOFOLLOW`, `O_EXCL`, `AT_SYMLINK_NOFOLLOW`): an
//! entry replaces what is there instead of writing through it.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// Dangling links followed when making missing directories (the kernel's own limit).
const MAX_HOPS: usize = 40;

fn is(e: &io::Error, errno: Errno) -> bool {
    e.raw_os_error() == Some(errno.raw_os_error())
}

/// `path` with empty and `.` components dropped and `..` applied, never above the root
/// (how the root's `/..` resolves). Only a shortcut: the result is still resolved by the
/// kernel inside the root.
fn lexical(path: &[u8]) -> Vec<u8> {
    let mut comps: Vec<&[u8]> = Vec::new();
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                comps.pop();
            }
            c => comps.push(c),
        }
    }
    comps.join(&b'/')
}

/// How a symbolic link met in the middle of an entry's path is treated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SymlinkPolicy {
    /// Followed, inside the root: a link to `/usr` leads to the root's `usr` (what umoci and
    /// containerd do; a later layer may write through a link an earlier one made).
    #[default]
    Resolve,
    /// Refused: the entry is a [`Hostile::SymlinkInPath`](crate::Hostile::SymlinkInPath).
    Reject,
}

/// A directory every path is resolved inside.
#[derive(Debug)]
pub(crate) struct Root {
    fd: OwnedFd,
    resolve: ResolveFlags,
}

impl Root {
    /// Opens `path`, which must be a directory.
    pub(crate) fn open(path: &Path, policy: SymlinkPolicy) -> io::Result<Root> {
        let fd = rustix::fs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut resolve = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
        if policy == SymlinkPolicy::Reject {
            resolve |= ResolveFlags::NO_SYMLINKS;
        }
        Ok(Root { fd, resolve })
    }

    /// Opens `rel` (components joined by `/`, `.` for the root) inside the root.
    fn lookup(&self, rel: &[u8], flags: OFlags) -> io::Result<OwnedFd> {
        let mut tries = 0;
        loop {
            match rustix::fs::openat2(
                &self.fd,
                rel,
                flags | OFlags::CLOEXEC,
                Mode::empty(),
                self.resolve,
            ) {
                // The kernel asks to retry when a rename raced with the lookup.
                Err(Errno::AGAIN) if tries < 16 => tries += 1,
                r => return r.map_err(io::Error::from),
            }
        }
    }

    /// The directory `rel` as a descriptor for `*at` calls; with `create`, missing
    /// directories on the way are made (mode 0755, as tar does), also where a dangling
    /// symbolic link points (inside the root, as containerd's applier does).
    pub(crate) fn dir(&self, rel: &[u8], create: bool) -> io::Result<OwnedFd> {
        self.dir_hops(rel, create, 0)
    }

    fn dir_hops(&self, rel: &[u8], create: bool, hops: usize) -> io::Result<OwnedFd> {
        let flags = OFlags::PATH | OFlags::DIRECTORY;
        if rel.is_empty() {
            return self.lookup(b".", flags);
        }
        match self.lookup(rel, flags) {
            Err(e) if create && is(&e, Errno::NOENT) => {}
            r => return r,
        }
        let mut cur = self.lookup(b".", flags)?;
        let mut end = 0;
        for comp in rel.split(|&b| b == b'/') {
            let start = end;
            end += comp.len();
            let prefix = &rel[..end];
            end += 1;
            cur = match self.lookup(prefix, flags) {
                Ok(fd) => fd,
                Err(e) if is(&e, Errno::NOENT) => {
                    match rustix::fs::mkdirat(&cur, comp, Mode::from_raw_mode(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    match self.lookup(prefix, flags) {
                        Err(e) if is(&e, Errno::NOENT) && hops < MAX_HOPS => {
                            // A dangling symbolic link: make what it points to instead.
                            let target = rustix::fs::readlinkat(&cur, comp, Vec::new())?;
                            let mut path = Vec::new();
                            if target.as_bytes().first() != Some(&b'/') {
                                path.extend_from_slice(&rel[..start]);
                            }
                            path.push(b'/');
                            path.extend_from_slice(target.as_bytes());
                            path.push(b'/');
                            path.extend_from_slice(rel.get(end..).unwrap_or_default());
                            return self.dir_hops(&lexical(&path), create, hops + 1);
                        }
                        r => r?,
                    }
                }
                Err(e) => return Err(e),
            };
        }
        Ok(cur)
    }

    /// Opens directory `rel` for reading its metadata and setting it (not `O_PATH`).
    pub(crate) fn open_dir_rw(&self, parent: &impl AsFd, name: &[u8]) -> io::Result<OwnedFd> {
        let name: &[u8] = if name.is_empty() { b"." } else { name };
        Ok(rustix::fs::openat(
            parent,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?)
    }
}

/// The type of `name` in `dir`, not following a link; `None` when it does not exist.
pub(crate) fn kind_of(dir: &impl AsFd, name: &[u8]) -> io::Result<Option<FileType>> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The names in directory `dir` (without `.` and `..`).
pub(crate) fn list(dir: &impl AsFd) -> io::Result<Vec<Vec<u8>>> {
    let mut names = Vec::new();
    for entry in Dir::read_from(dir)? {
        let entry = entry?;
        let n = entry.file_name().to_bytes();
        if n != b"." && n != b".." {
            names.push(n.to_vec());
        }
    }
    Ok(names)
}

/// Removes `name` from `dir` and, when it is a directory, everything in it; links are
/// removed, never followed. A missing `name` is not an error.
pub(crate) fn remove_tree(dir: &impl AsFd, name: &[u8], depth: usize) -> io::Result<()> {
    match kind_of(dir, name)? {
        None => Ok(()),
        Some(FileType::Directory) => {
            if depth > crate::limits::MAX_DEPTH * 2 {
                return Err(io::Error::other("directory tree too deep to remove"));
            }
            let sub = rustix::fs::openat(
                dir,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            for child in list(&sub)? {
                remove_tree(&sub, &child, depth + 1)?;
            }
            Ok(rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)?)
        }
        Some(_) => Ok(rustix::fs::unlinkat(dir, name, AtFlags::empty())?),
    }
}
