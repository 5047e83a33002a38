//! Layers applied onto a directory.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;

use rustix::fs::{
    AtFlags, Dev, FileType, Gid, Mode, OFlags, Timespec, Timestamps, Uid, XattrFlags,
};
use tar::EntryType;

use crate::error::{Error, Hostile, Result};
use crate::limits;
use crate::path::{special, RelPath, Special};
use crate::root::{kind_of, list, remove_tree, Root, SymlinkPolicy};

/// How layers are applied. Not `#[non_exhaustive]`, so that it can be written as
/// `Options { rootless: true, ..Options::default() }`; new fields come with defaults.
#[derive(Debug, Clone)]
pub struct Options {
    /// Every owner becomes the caller (`umoci unpack --rootless`): no `chown`, device nodes
    /// skipped, only `user.*` xattrs. Implied when the process is not root.
    pub rootless: bool,
    /// A hostile entry is skipped and reported as a [`Warning`] instead of failing the
    /// unpack.
    pub lenient: bool,
    /// What a symbolic link in the middle of an entry's path does.
    pub symlinks: SymlinkPolicy,
    /// The most entries (of all layers together); more is [`Hostile::TooManyEntries`].
    pub max_entries: usize,
    /// The largest sparse file (its apparent size); bigger is [`Hostile::SparseTooLarge`].
    pub max_sparse_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rootless: false,
            lenient: false,
            symlinks: SymlinkPolicy::Resolve,
            max_entries: limits::MAX_ENTRIES,
            max_sparse_size: limits::MAX_SPARSE_SIZE,
        }
    }
}

/// Something not applied, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Warning {
    /// The layer's position, from 0.
    pub layer: usize,
    /// The entry's name as the tar has it.
    pub entry: String,
    /// What was skipped.
    pub kind: WarningKind,
}

/// What a [`Warning`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WarningKind {
    /// A device node, skipped without privileges.
    DeviceSkipped,
    /// An extended attribute not set (not `user.*` without privileges, or refused by the
    /// filesystem, or on a file kind that cannot carry it).
    XattrSkipped {
        /// The attribute's name.
        name: String,
    },
    /// A hostile entry skipped under [`Options::lenient`].
    Skipped(Hostile),
    /// An entry type that is not a file system object (a tar typeflag), skipped.
    UnsupportedType(u8),
    /// In an export, a hard link whose target an upper layer hides; skipped.
    LinkTargetHidden,
}

/// What an unpack or export did besides its job.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Report {
    /// Entries read, of all layers.
    pub entries: u64,
    /// What was skipped, in order.
    pub warnings: Vec<Warning>,
}

/// Applies layers, bottom first, onto a directory: the engine of [`crate::unpack`], usable on
/// its own for tars that are not in an image (the fuzz target drives it).
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let mut tar = tar::Builder::new(Vec::new());
/// let mut h = tar::Header::new_gnu();
/// h.set_size(2);
/// h.set_mode(0o644);
/// tar.append_data(&mut h, "etc/hi", &b"hi"[..])?;
/// let mut u = oci_unpack::Unpacker::new(dir.path(), oci_unpack::Options::default())?;
/// u.apply_layer(&tar.into_inner()?[..])?;
/// u.finish()?;
/// assert_eq!(std::fs::read(dir.path().join("etc/hi"))?, b"hi");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Unpacker {
    root: Root,
    opts: Options,
    privileged: bool,
    report: Report,
    layer: usize,
    /// Directories whose mode and mtime are set at the end (children change a directory's
    /// mtime, and a read-only one would refuse them).
    dirs: BTreeMap<RelPath, (u32, u64)>,
    buf: Vec<u8>,
    /// The last parent directory looked up: entries of a tar come directory by directory.
    /// Dropped before anything is removed (the only way a path can change what it names).
    cache: Option<(RelPath, Arc<OwnedFd>)>,
}

/// The entry being applied, for errors.
struct Ctx<'a> {
    layer: usize,
    name: &'a [u8],
}

impl Ctx<'_> {
    fn entry(&self) -> String {
        String::from_utf8_lossy(self.name).into_owned()
    }
    fn io(&self, source: io::Error) -> Error {
        Error::Entry {
            layer: self.layer,
            entry: self.entry(),
            source,
        }
    }
    fn hostile(&self, kind: Hostile) -> Error {
        Error::Hostile {
            layer: self.layer,
            entry: self.entry(),
            kind,
        }
    }
}

/// Maps a lookup error to a hostile kind when it is one.
fn lookup_error(ctx: &Ctx<'_>, e: io::Error) -> Error {
    match e.raw_os_error() {
        Some(c) if c == rustix::io::Errno::LOOP.raw_os_error() => {
            ctx.hostile(Hostile::SymlinkInPath)
        }
        Some(c) if c == rustix::io::Errno::NOTDIR.raw_os_error() => {
            ctx.hostile(Hostile::NotADirectory)
        }
        Some(c) if c == rustix::io::Errno::XDEV.raw_os_error() => {
            ctx.hostile(Hostile::SymlinkInPath)
        }
        _ => ctx.io(e),
    }
}

fn is_errno(e: &io::Error, errno: rustix::io::Errno) -> bool {
    e.raw_os_error() == Some(errno.raw_os_error())
}

/// Paths written by the layer being applied: whiteouts only hide what lower layers wrote.
type Written = HashSet<RelPath>;

impl Unpacker {
    /// Applies onto `root`, an existing directory (normally empty).
    pub fn new(root: &Path, opts: Options) -> Result<Unpacker> {
        let r = Root::open(root, opts.symlinks).map_err(|source| Error::Io {
            path: root.to_path_buf(),
            source,
        })?;
        let privileged = !opts.rootless && rustix::process::geteuid().is_root();
        Ok(Unpacker {
            root: r,
            opts,
            privileged,
            report: Report::default(),
            layer: 0,
            dirs: BTreeMap::new(),
            buf: vec![0; 256 << 10],
            cache: None,
        })
    }

    /// Applies the next layer (an uncompressed tar), bottom layer first.
    pub fn apply_layer(&mut self, tar: impl Read) -> Result<()> {
        self.apply_dyn(&mut { tar })
    }

    fn apply_dyn(&mut self, tar: &mut dyn Read) -> Result<()> {
        let layer = self.layer;
        self.layer += 1;
        let tar_err = |source| Error::Tar { layer, source };
        let mut archive = tar::Archive::new(tar);
        let mut written = Written::new();
        for entry in archive.entries().map_err(tar_err)? {
            let mut entry = entry.map_err(tar_err)?;
            self.report.entries += 1;
            let name = entry.path_bytes().into_owned();
            let ctx = Ctx { layer, name: &name };
            if self.report.entries > self.opts.max_entries as u64 {
                return Err(ctx.hostile(Hostile::TooManyEntries));
            }
            match self.apply_entry(&ctx, &mut entry, &mut written) {
                Ok(()) => {}
                Err(Error::Hostile { kind, .. }) if self.opts.lenient => {
                    self.warn(&ctx, WarningKind::Skipped(kind));
                }
                Err(e) => return Err(e),
            }
            // What the entry left unread (a skipped one's data) is read by the next
            // `entries` step, through the same reader: a layer is always read to its end.
        }
        // The rest of the stream (zero blocks, padding) is read too, so the diff_id is of it
        // all.
        io::copy(archive.into_inner(), &mut io::sink()).map_err(tar_err)?;
        Ok(())
    }

    fn warn(&mut self, ctx: &Ctx<'_>, kind: WarningKind) {
        self.report.warnings.push(Warning {
            layer: ctx.layer,
            entry: ctx.entry(),
            kind,
        });
    }

    fn apply_entry(
        &mut self,
        ctx: &Ctx<'_>,
        entry: &mut tar::Entry<'_, &mut dyn Read>,
        written: &mut Written,
    ) -> Result<()> {
        let etype = entry.header().entry_type();
        if matches!(
            etype,
            EntryType::XGlobalHeader
                | EntryType::XHeader
                | EntryType::GNULongName
                | EntryType::GNULongLink
        ) {
            return Ok(());
        }
        let path = RelPath::parse(ctx.name, false).map_err(|k| ctx.hostile(k))?;
        let (parent, leaf) = path.split_last();
        if path.is_root() {
            if !etype.is_dir() {
                return Err(ctx.hostile(Hostile::RootNotDirectory));
            }
            let meta = Meta::read(entry).map_err(|e| ctx.io(e))?;
            let fd = self.root.dir(b"", false).map_err(|e| ctx.io(e))?;
            let dir = self.root.open_dir_rw(&fd, b"").map_err(|e| ctx.io(e))?;
            self.set_owner_xattrs(ctx, &dir, &meta, true)?;
            self.dirs.insert(path, (meta.mode, meta.mtime));
            return Ok(());
        }
        match special(leaf).map_err(|k| ctx.hostile(k))? {
            Special::AufsMeta => return Ok(()),
            Special::Opaque => {
                self.cache = None;
                // Like any whiteout, it creates nothing: no directory, nothing to clear.
                let dir = match self.root.dir(parent.for_syscall(), false) {
                    Ok(d) => d,
                    Err(e)
                        if is_errno(&e, rustix::io::Errno::NOENT)
                            || is_errno(&e, rustix::io::Errno::NOTDIR) =>
                    {
                        return Ok(())
                    }
                    Err(e) => return Err(lookup_error(ctx, e)),
                };
                return clear_lower(&dir, &parent, written, 0).map_err(|e| ctx.io(e));
            }
            Special::Whiteout(target) => {
                let hidden = parent.join(target);
                self.cache = None;
                let dir = match self.root.dir(parent.for_syscall(), false) {
                    Ok(d) => d,
                    // Nothing there to remove.
                    Err(e)
                        if is_errno(&e, rustix::io::Errno::NOENT)
                            || is_errno(&e, rustix::io::Errno::NOTDIR) =>
                    {
                        return Ok(())
                    }
                    Err(e) => return Err(lookup_error(ctx, e)),
                };
                if !written.contains(&hidden) {
                    return remove_tree(&dir, target, 0).map_err(|e| ctx.io(e));
                }
                // This layer wrote it: a whiteout hides only what lower layers put there,
                // which for a directory is what this layer did not write inside it.
                if kind_of(&dir, target).map_err(|e| ctx.io(e))? == Some(FileType::Directory) {
                    let sub = rustix::fs::openat(
                        &dir,
                        target,
                        OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                        Mode::empty(),
                    )
                    .map_err(|e| ctx.io(e.into()))?;
                    return clear_lower(&sub, &hidden, written, 0).map_err(|e| ctx.io(e));
                }
                return Ok(());
            }
            Special::None => {}
        }
        let dir = self.parent_dir(ctx, &parent)?;
        let meta = Meta::read(entry).map_err(|e| ctx.io(e))?;
        // What is there is replaced, except a directory by a directory (merged).
        let existing = kind_of(&*dir, leaf).map_err(|e| ctx.io(e))?;
        let keep_dir = etype.is_dir() && existing == Some(FileType::Directory);
        if existing.is_some() && !keep_dir {
            if etype.is_hard_link() {
                // Check the target first: a link to itself must not delete its target.
                let target = link_target(ctx, entry)?;
                if target == path {
                    return Ok(());
                }
            }
            self.cache = None;
            remove_tree(&*dir, leaf, 0).map_err(|e| ctx.io(e))?;
        }
        let dir = &*dir;
        match etype {
            EntryType::Directory => {
                if !keep_dir {
                    rustix::fs::mkdirat(dir, leaf, Mode::from_raw_mode(0o700))
                        .map_err(|e| ctx.io(e.into()))?;
                }
                let fd = self.root.open_dir_rw(&dir, leaf).map_err(|e| ctx.io(e))?;
                self.set_owner_xattrs(ctx, &fd, &meta, true)?;
                // Writable while layers are applied; the real mode at the end.
                let _ = rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o700));
                self.dirs.insert(path.clone(), (meta.mode, meta.mtime));
            }
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let sparse = etype == EntryType::GNUSparse;
                if sparse && entry.size() > self.opts.max_sparse_size {
                    return Err(ctx.hostile(Hostile::SparseTooLarge));
                }
                let fd = rustix::fs::openat(
                    dir,
                    leaf,
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )
                .map_err(|e| ctx.io(e.into()))?;
                let mut file = File::from(fd);
                copy_data(entry, &mut file, &mut self.buf, sparse).map_err(|e| ctx.io(e))?;
                self.set_owner_xattrs(ctx, &file, &meta, false)?;
                rustix::fs::fchmod(&file, Mode::from_raw_mode(meta.mode))
                    .map_err(|e| ctx.io(e.into()))?;
                rustix::fs::futimens(&file, &times(meta.mtime)).map_err(|e| ctx.io(e.into()))?;
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| ctx.hostile(Hostile::BadName))?;
                if target.len() > limits::MAX_PATH || target.contains(&0) {
                    return Err(ctx.hostile(Hostile::BadName));
                }
                rustix::fs::symlinkat(&*target, dir, leaf).map_err(|e| ctx.io(e.into()))?;
                self.chown_at(ctx, dir, leaf, &meta)?;
                if !meta.xattrs.is_empty() {
                    for (k, _) in &meta.xattrs {
                        self.warn(
                            ctx,
                            WarningKind::XattrSkipped {
                                name: String::from_utf8_lossy(k).into_owned(),
                            },
                        );
                    }
                }
                rustix::fs::utimensat(dir, leaf, &times(meta.mtime), AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| ctx.io(e.into()))?;
            }
            EntryType::Link => {
                let target = link_target(ctx, entry)?;
                let (tparent, tleaf) = target.split_last();
                if target.is_root() {
                    return Err(ctx.hostile(Hostile::LinkTarget));
                }
                let tdir = self
                    .root
                    .dir(tparent.for_syscall(), false)
                    .map_err(|e| match e {
                        e if is_errno(&e, rustix::io::Errno::NOENT) => {
                            ctx.hostile(Hostile::LinkTarget)
                        }
                        e => lookup_error(ctx, e),
                    })?;
                match rustix::fs::linkat(&tdir, tleaf, dir, leaf, AtFlags::empty()) {
                    Ok(()) => {}
                    Err(rustix::io::Errno::NOENT | rustix::io::Errno::PERM) => {
                        return Err(ctx.hostile(Hostile::LinkTarget))
                    }
                    Err(e) => return Err(ctx.io(e.into())),
                }
            }
            EntryType::Fifo | EntryType::Char | EntryType::Block => {
                let (kind, dev) = match etype {
                    EntryType::Fifo => (FileType::Fifo, 0),
                    EntryType::Char => (FileType::CharacterDevice, meta.dev),
                    _ => (FileType::BlockDevice, meta.dev),
                };
                if kind != FileType::Fifo && !self.privileged {
                    self.warn(ctx, WarningKind::DeviceSkipped);
                    return Ok(());
                }
                rustix::fs::mknodat(
                    dir,
                    leaf,
                    kind,
                    Mode::from_raw_mode(meta.mode & 0o7777),
                    dev as Dev,
                )
                .map_err(|e| ctx.io(e.into()))?;
                self.chown_at(ctx, dir, leaf, &meta)?;
                // mknod applies the umask; chmod does not (and keeps setuid/sticky).
                rustix::fs::chmodat(dir, leaf, Mode::from_raw_mode(meta.mode), AtFlags::empty())
                    .map_err(|e| ctx.io(e.into()))?;
                for (k, _) in &meta.xattrs {
                    self.warn(
                        ctx,
                        WarningKind::XattrSkipped {
                            name: String::from_utf8_lossy(k).into_owned(),
                        },
                    );
                }
                rustix::fs::utimensat(dir, leaf, &times(meta.mtime), AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|e| ctx.io(e.into()))?;
            }
            other => {
                self.warn(ctx, WarningKind::UnsupportedType(other.as_byte()));
                return Ok(());
            }
        }
        // The path and its parents are this layer's: an opaque marker keeps them.
        if !written.contains(&parent) {
            for a in path.ancestors() {
                if let Ok(a) = RelPath::parse(a, false) {
                    written.insert(a);
                }
            }
        }
        written.insert(path);
        Ok(())
    }

    /// The directory `parent`, made when missing; the cached one when it is the last asked.
    fn parent_dir(&mut self, ctx: &Ctx<'_>, parent: &RelPath) -> Result<Arc<OwnedFd>> {
        if let Some((p, fd)) = &self.cache {
            if p == parent {
                return Ok(Arc::clone(fd));
            }
        }
        let fd = self
            .root
            .dir(parent.for_syscall(), true)
            .map_err(|e| lookup_error(ctx, e))?;
        let fd = Arc::new(fd);
        self.cache = Some((parent.clone(), Arc::clone(&fd)));
        Ok(fd)
    }

    /// Owner (when privileged) and xattrs of an open file or directory.
    fn set_owner_xattrs(
        &mut self,
        ctx: &Ctx<'_>,
        fd: &impl AsFd,
        meta: &Meta,
        dir: bool,
    ) -> Result<()> {
        if self.privileged {
            rustix::fs::fchown(
                fd,
                Some(Uid::from_raw(meta.uid)),
                Some(Gid::from_raw(meta.gid)),
            )
            .map_err(|e| ctx.io(e.into()))?;
        }
        let _ = dir;
        for (name, value) in &meta.xattrs {
            let user = name.starts_with(b"user.");
            let ok = (user || self.privileged)
                && rustix::fs::fsetxattr(fd, name.as_slice(), value, XattrFlags::empty()).is_ok();
            if !ok {
                self.warn(
                    ctx,
                    WarningKind::XattrSkipped {
                        name: String::from_utf8_lossy(name).into_owned(),
                    },
                );
            }
        }
        Ok(())
    }

    fn chown_at(&self, ctx: &Ctx<'_>, dir: &OwnedFd, leaf: &[u8], meta: &Meta) -> Result<()> {
        if self.privileged {
            rustix::fs::chownat(
                dir,
                leaf,
                Some(Uid::from_raw(meta.uid)),
                Some(Gid::from_raw(meta.gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(|e| ctx.io(e.into()))?;
        }
        Ok(())
    }

    /// Sets the directories' modes and mtimes (deepest first) and returns the report.
    pub fn finish(self) -> Result<Report> {
        for (path, (mode, mtime)) in self.dirs.iter().rev() {
            let ctx = Ctx {
                layer: self.layer.saturating_sub(1),
                name: path.as_bytes(),
            };
            let (parent, leaf) = path.split_last();
            // A directory a later layer removed or replaced has nothing to set.
            let Ok(pfd) = self.root.dir(parent.for_syscall(), false) else {
                continue;
            };
            let leaf: &[u8] = if path.is_root() { b"" } else { leaf };
            let Ok(fd) = self.root.open_dir_rw(&pfd, leaf) else {
                continue;
            };
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(*mode)).map_err(|e| ctx.io(e.into()))?;
            rustix::fs::futimens(&fd, &times(*mtime)).map_err(|e| ctx.io(e.into()))?;
        }
        Ok(self.report)
    }
}

/// Removes from directory `dir` (at `rel`) everything the current layer did not write.
fn clear_lower(dir: &OwnedFd, rel: &RelPath, written: &Written, depth: usize) -> io::Result<()> {
    if depth > limits::MAX_DEPTH {
        return Err(io::Error::other("directory tree too deep"));
    }
    let fd = rustix::fs::openat(
        dir,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    for name in list(&fd)? {
        let child = rel.join(&name);
        if !written.contains(&child) {
            remove_tree(&fd, &name, 0)?;
        } else if kind_of(&fd, &name)? == Some(FileType::Directory) {
            let sub = rustix::fs::openat(
                &fd,
                name.as_slice(),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            clear_lower(&sub, &child, written, depth + 1)?;
        }
    }
    Ok(())
}

fn link_target(ctx: &Ctx<'_>, entry: &tar::Entry<'_, &mut dyn Read>) -> Result<RelPath> {
    let name = entry
        .link_name_bytes()
        .ok_or_else(|| ctx.hostile(Hostile::LinkTarget))?;
    RelPath::parse(&name, true).map_err(|k| ctx.hostile(k))
}

fn times(mtime: u64) -> Timestamps {
    let t = Timespec {
        tv_sec: i64::try_from(mtime).unwrap_or(i64::MAX),
        tv_nsec: 0,
    };
    Timestamps {
        last_access: t,
        last_modification: t,
    }
}

/// An entry's metadata, PAX records applied.
pub(crate) struct Meta {
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) mtime: u64,
    pub(crate) dev: u64,
    pub(crate) xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Meta {
    pub(crate) fn read<R: Read>(entry: &mut tar::Entry<'_, R>) -> io::Result<Meta> {
        let h = entry.header();
        let mut m = Meta {
            mode: h.mode()? & 0o7777,
            // Empty owner fields (some writers leave them blank) mean root.
            uid: h
                .uid()
                .ok()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            gid: h
                .gid()
                .ok()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            mtime: h.mtime().unwrap_or(0),
            dev: 0,
            xattrs: Vec::new(),
        };
        if matches!(h.entry_type(), EntryType::Char | EntryType::Block) {
            let major = h.device_major()?.unwrap_or(0);
            let minor = h.device_minor()?.unwrap_or(0);
            m.dev = rustix::fs::makedev(major, minor);
        }
        if let Some(pax) = entry.pax_extensions()? {
            for ext in pax {
                let ext = ext?;
                let key = ext.key_bytes();
                let num = || {
                    std::str::from_utf8(ext.value_bytes())
                        .ok()
                        .and_then(|s| s.parse::<u64>().ok())
                };
                if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                    m.xattrs.push((name.to_vec(), ext.value_bytes().to_vec()));
                } else if key == b"uid" {
                    m.uid = num().and_then(|n| u32::try_from(n).ok()).unwrap_or(m.uid);
                } else if key == b"gid" {
                    m.gid = num().and_then(|n| u32::try_from(n).ok()).unwrap_or(m.gid);
                } else if key == b"mtime" {
                    let s = std::str::from_utf8(ext.value_bytes()).unwrap_or("");
                    let secs = s.split('.').next().unwrap_or("");
                    m.mtime = secs.parse().unwrap_or(m.mtime);
                }
            }
        }
        Ok(m)
    }
}

/// Copies an entry's data into `file`; for a sparse file, runs of zeros become holes.
fn copy_data(src: &mut dyn Read, file: &mut File, buf: &mut [u8], sparse: bool) -> io::Result<()> {
    let mut len = 0u64;
    let mut hole = false;
    loop {
        let n = match src.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        len += n as u64;
        if sparse && chunk.iter().all(|&b| b == 0) {
            file.seek(SeekFrom::Current(n as i64))?;
            hole = true;
        } else {
            file.write_all(chunk)?;
            hole = false;
        }
    }
    if hole {
        file.set_len(len)?;
    }
    Ok(())
}
