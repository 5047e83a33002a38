//! A directory as a tar stream, made on the fly and deterministically (moved here from the
//! CLI so that libraries build layers from directories too).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// Options for [`DirTar`]: what of the files' metadata goes into the tar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirTarOptions {
    /// Keep each file's mtime (clamped to [`DirTarOptions::epoch`] when set, as
    /// `tar --clamp-mtime` does); otherwise every entry gets the epoch, or 0.
    pub keep_mtime: bool,
    /// Keep each file's numeric owner and group; otherwise 0:0.
    pub keep_owners: bool,
    /// `SOURCE_DATE_EPOCH`: the mtime of every entry, or with `keep_mtime` the latest one.
    pub epoch: Option<u64>,
    /// Keep each entry's extended attributes, as `SCHILY.xattr.NAME` PAX records (what GNU
    /// tar `--xattrs`, containerd and umoci write), in name order; `security.selinux` is left
    /// out, as umoci leaves it out: it labels the host's file, not the image's.
    pub keep_xattrs: bool,
}

impl DirTarOptions {
    /// The defaults (mtimes 0, owners 0:0), with [`DirTarOptions::epoch`] from
    /// `SOURCE_DATE_EPOCH` when it is set; a value that is not a number of seconds is an
    /// error.
    pub fn from_env() -> crate::Result<DirTarOptions> {
        let epoch = match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(s) if !s.trim().is_empty() => {
                Some(s.trim().parse::<u64>().map_err(|_| crate::Error::Invalid {
                    what: "SOURCE_DATE_EPOCH",
                    kind: crate::InvalidKind::NotSeconds { value: s.clone() },
                })?)
            }
            _ => None,
        };
        Ok(DirTarOptions {
            epoch,
            ..DirTarOptions::default()
        })
    }

    /// The same options keeping mtimes (`true`) or not.
    pub fn keep_mtime(mut self, keep: bool) -> DirTarOptions {
        self.keep_mtime = keep;
        self
    }

    /// The same options keeping owners (`true`) or not.
    pub fn keep_owners(mut self, keep: bool) -> DirTarOptions {
        self.keep_owners = keep;
        self
    }

    /// The same options keeping extended attributes (`true`) or not.
    pub fn keep_xattrs(mut self, keep: bool) -> DirTarOptions {
        self.keep_xattrs = keep;
        self
    }

    /// The same options with `SOURCE_DATE_EPOCH` given.
    pub fn epoch(mut self, epoch: Option<u64>) -> DirTarOptions {
        self.epoch = epoch;
        self
    }

    fn mtime(&self, on_disk: i64) -> u64 {
        let on_disk = u64::try_from(on_disk).unwrap_or(0);
        match (self.keep_mtime, self.epoch) {
            (true, Some(e)) => on_disk.min(e),
            (true, None) => on_disk,
            (false, e) => e.unwrap_or(0),
        }
    }
}

/// Reads a directory as a tar: entries sorted by path (bytewise), owners 0:0 with no names
/// unless asked to keep them, permission bits kept, mtimes 0 (or `SOURCE_DATE_EPOCH`) unless
/// asked to keep them, hard links written as link entries to their first path. The same tree
/// gives the same bytes, whatever its files' times on disk.
///
/// The tar is written by a thread into a pipe, so memory stays flat whatever the tree's size.
/// A failure while walking surfaces as an error from `read`, never as a short tar.
pub struct DirTar {
    pipe: Option<io::PipeReader>,
    worker: Option<JoinHandle<io::Result<()>>>,
}

impl DirTar {
    /// Starts tarring `root`.
    pub fn new(root: &Path, opts: DirTarOptions) -> io::Result<DirTar> {
        Self::start(root, None, opts)
    }

    /// Starts tarring `root` as a layer over `base` (the tree of the layers below): what is
    /// in `base` but not in `root` gets a whiteout entry (`DIR/.wh.NAME`, empty, mode 0, as
    /// containerd's differ writes it), in the same sorted order; a removed directory gets one
    /// whiteout, not one per entry inside it. Everything in `root` is written, changed or not.
    pub fn over(root: &Path, base: &Path, opts: DirTarOptions) -> io::Result<DirTar> {
        if !fs::metadata(base)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a directory", base.display()),
            ));
        }
        Self::start(root, Some(base.to_owned()), opts)
    }

    fn start(root: &Path, base: Option<PathBuf>, opts: DirTarOptions) -> io::Result<DirTar> {
        let meta = fs::metadata(root)?;
        if !meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a directory", root.display()),
            ));
        }
        let (reader, writer) = io::pipe()?;
        let root = root.to_owned();
        let worker = std::thread::Builder::new()
            .name("ocikit-dirtar".into())
            .spawn(move || write_tree(&root, base.as_deref(), writer, opts))?;
        Ok(DirTar {
            pipe: Some(reader),
            worker: Some(worker),
        })
    }

    fn join(&mut self) -> io::Result<()> {
        match self.worker.take() {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("directory tar thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Read for DirTar {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(pipe) = self.pipe.as_mut() else {
            return Ok(0);
        };
        let n = pipe.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.pipe = None;
            self.join()?;
        }
        Ok(n)
    }
}

impl Drop for DirTar {
    fn drop(&mut self) {
        // Closing the read end makes the writer fail with EPIPE, so the thread ends.
        self.pipe = None;
        let _ = self.join();
    }
}

/// The whiteouts of what `base` has and `root` lacks: `PARENT/.wh.NAME`, for the topmost
/// missing path only.
fn whiteouts(root: &Path, base: &Path) -> io::Result<Vec<PathBuf>> {
    let mut gone = Vec::new();
    let mut in_base = Vec::new();
    collect(base, Path::new(""), &mut in_base)?;
    in_base.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    let mut removed: HashSet<PathBuf> = HashSet::new();
    for rel in in_base {
        if rel.ancestors().skip(1).any(|a| removed.contains(a)) {
            continue;
        }
        if fs::symlink_metadata(root.join(&rel)).is_ok() {
            continue;
        }
        let (Some(parent), Some(name)) = (rel.parent(), rel.file_name()) else {
            continue;
        };
        let mut wh = std::ffi::OsString::from(".wh.");
        wh.push(name);
        gone.push(parent.join(wh));
        removed.insert(rel);
    }
    Ok(gone)
}

fn write_tree(
    root: &Path,
    base: Option<&Path>,
    out: io::PipeWriter,
    opts: DirTarOptions,
) -> io::Result<()> {
    let mut paths = Vec::new();
    collect(root, Path::new(""), &mut paths)?;
    let gone: HashSet<PathBuf> = match base {
        Some(base) => whiteouts(root, base)?.into_iter().collect(),
        None => HashSet::new(),
    };
    paths.extend(gone.iter().cloned());
    paths.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    let mut builder = tar::Builder::new(io::BufWriter::with_capacity(256 * 1024, out));
    builder.follow_symlinks(false);
    let mut seen: HashMap<(u64, u64), PathBuf> = HashMap::new();
    for rel in &paths {
        if gone.contains(rel) {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0);
            h.set_uid(0);
            h.set_gid(0);
            h.set_size(0);
            h.set_mtime(opts.epoch.unwrap_or(0));
            builder.append_data(&mut h, rel, io::empty())?;
            continue;
        }
        let full = root.join(rel);
        let meta = fs::symlink_metadata(&full)?;
        let ft = meta.file_type();
        let mut h = tar::Header::new_gnu();
        h.set_mode(meta.mode() & 0o7777);
        if opts.keep_owners {
            h.set_uid(u64::from(meta.uid()));
            h.set_gid(u64::from(meta.gid()));
        } else {
            h.set_uid(0);
            h.set_gid(0);
        }
        h.set_mtime(opts.mtime(meta.mtime()));
        // A second path of a hard-linked file is a link entry: its xattrs are the first's.
        let linked = ft.is_file() && seen.contains_key(&(meta.dev(), meta.ino()));
        if opts.keep_xattrs && !linked {
            let records = xattrs(&full)?;
            if !records.is_empty() {
                append_pax(&mut builder, rel, &records, opts.mtime(meta.mtime()))?;
            }
        }
        if ft.is_dir() {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            let mut name = rel.as_os_str().to_owned();
            name.push("/");
            builder.append_data(&mut h, Path::new(&name), io::empty())?;
        } else if ft.is_symlink() {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            let target = fs::read_link(&full)?;
            builder.append_link(&mut h, rel, &target)?;
        } else if ft.is_file() {
            if meta.nlink() > 1 {
                if let Some(first) = seen.get(&(meta.dev(), meta.ino())) {
                    h.set_entry_type(tar::EntryType::Link);
                    h.set_size(0);
                    builder.append_link(&mut h, rel, first)?;
                    continue;
                }
                seen.insert((meta.dev(), meta.ino()), rel.clone());
            }
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(meta.len());
            let f = fs::File::open(&full)?;
            // Guard against a file that changes size while being read: the header is written.
            builder.append_data(
                &mut h,
                rel,
                ExactLen {
                    inner: f,
                    left: meta.len(),
                    path: &full,
                },
            )?;
        } else {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "{}: special files (devices, fifos, sockets) are not supported",
                    full.display()
                ),
            ));
        }
    }
    let mut w = builder.into_inner()?;
    w.flush()
}

/// The largest list of names, and the largest value, Linux keeps (`XATTR_LIST_MAX`,
/// `XATTR_SIZE_MAX`).
const XATTR_MAX: usize = 64 << 10;

/// The extended attributes of `path` (a symlink itself, not its target), sorted by name,
/// without `security.selinux`. A filesystem without them gives none.
fn xattrs(path: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    use rustix::io::Errno;
    let mut names = vec![0u8; XATTR_MAX];
    let n = match rustix::fs::llistxattr(path, &mut names[..]) {
        Ok(n) => n,
        Err(Errno::NOTSUP) => return Ok(Vec::new()),
        Err(e) => return Err(io::Error::from(e)),
    };
    let mut out = Vec::new();
    let mut value = vec![0u8; XATTR_MAX];
    for name in names.get(..n).unwrap_or_default().split(|&b| b == 0) {
        if name.is_empty() || name == b"security.selinux" {
            continue;
        }
        let name = String::from_utf8(name.to_vec()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: an extended attribute name is not UTF-8",
                    path.display()
                ),
            )
        })?;
        let len = match rustix::fs::lgetxattr(path, name.as_str(), &mut value[..]) {
            Ok(len) => len,
            // Removed since the listing.
            Err(Errno::NODATA) => continue,
            Err(e) => return Err(io::Error::from(e)),
        };
        out.push((name, value.get(..len).unwrap_or_default().to_vec()));
    }
    out.sort();
    Ok(out)
}

/// Writes a PAX extended header (`x`) holding `SCHILY.xattr.NAME=VALUE` records for the entry
/// `rel` that follows, named as Go names it (`DIR/PaxHeaders.0/NAME`, cut to 100 bytes).
fn append_pax<W: Write>(
    builder: &mut tar::Builder<W>,
    rel: &Path,
    xattrs: &[(String, Vec<u8>)],
    mtime: u64,
) -> io::Result<()> {
    let mut data = Vec::new();
    for (name, value) in xattrs {
        let key = format!("SCHILY.xattr.{name}");
        // "LEN KEY=VALUE\n", where LEN counts the whole record, its own digits included.
        let rest = 1 + key.len() + 1 + value.len() + 1;
        let mut len = rest + 1;
        while len != rest + len.to_string().len() {
            len = rest + len.to_string().len();
        }
        data.extend_from_slice(format!("{len} {key}=").as_bytes());
        data.extend_from_slice(value);
        data.push(b'\n');
    }
    let name = {
        let dir = rel.parent().unwrap_or(Path::new(""));
        let file = rel.file_name().unwrap_or_default();
        let mut bytes = dir
            .join("PaxHeaders.0")
            .join(file)
            .into_os_string()
            .into_encoded_bytes();
        // Cut at a character boundary: the name is informative only.
        bytes.truncate(100);
        while std::str::from_utf8(&bytes).is_err() {
            bytes.pop();
        }
        String::from_utf8(bytes).unwrap_or_default()
    };
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::XHeader);
    h.set_path(&name)?;
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(mtime);
    h.set_size(data.len() as u64);
    h.set_cksum();
    builder.append(&h, &data[..])
}

fn collect(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(root.join(rel))? {
        let entry = entry?;
        let child = rel.join(entry.file_name());
        let is_dir = entry.file_type()?.is_dir();
        out.push(child.clone());
        if is_dir {
            collect(root, &child, out)?;
        }
    }
    Ok(())
}

/// Reads exactly `left` bytes from a file, failing if it is shorter (it shrank while being
/// tarred) and ignoring growth.
struct ExactLen<'a> {
    inner: fs::File,
    left: u64,
    path: &'a Path,
}

impl Read for ExactLen<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let max = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} shrank while being read", self.path.display()),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(dir: &Path) -> Vec<u8> {
        let mut out = Vec::new();
        DirTar::new(dir, DirTarOptions::default())
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn deterministic_sorted_with_links() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        fs::create_dir(d.join("b")).unwrap();
        fs::write(d.join("b/z.txt"), b"zz").unwrap();
        fs::write(d.join("a.txt"), b"hello").unwrap();
        fs::hard_link(d.join("a.txt"), d.join("c.txt")).unwrap();
        std::os::unix::fs::symlink("a.txt", d.join("l")).unwrap();
        let one = tar_of(d);
        assert_eq!(one, tar_of(d));
        let mut ar = tar::Archive::new(&one[..]);
        let got: Vec<(String, tar::EntryType)> = ar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    e.header().entry_type(),
                )
            })
            .collect();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a.txt", "b/", "b/z.txt", "c.txt", "l"]);
        assert_eq!(got[3].1, tar::EntryType::Link);
        assert_eq!(got[4].1, tar::EntryType::Symlink);
    }

    #[test]
    fn xattrs_are_kept_as_pax_records_when_asked() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        fs::write(d.join("a.txt"), b"hello").unwrap();
        fs::hard_link(d.join("a.txt"), d.join("b.txt")).unwrap();
        fs::write(d.join("c.txt"), b"plain").unwrap();
        let set = |name: &str, value: &[u8]| {
            rustix::fs::setxattr(
                d.join("a.txt"),
                name,
                value,
                rustix::fs::XattrFlags::empty(),
            )
        };
        if set("user.ocikit.b", b"two").is_err() {
            eprintln!("SKIPPED: the temporary directory's filesystem has no user xattrs");
            return;
        }
        set("user.ocikit.a", b"one\0binary=x").unwrap();
        let opts = DirTarOptions::default().keep_xattrs(true);
        let mut with = Vec::new();
        DirTar::new(d, opts)
            .unwrap()
            .read_to_end(&mut with)
            .unwrap();
        assert_ne!(with, tar_of(d), "without the option, no xattrs");
        let mut ar = tar::Archive::new(&with[..]);
        let mut found = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let records: Vec<(String, Vec<u8>)> = match e.pax_extensions().unwrap() {
                Some(p) => p
                    .map(|r| {
                        let r = r.unwrap();
                        (r.key().unwrap().to_owned(), r.value_bytes().to_vec())
                    })
                    .collect(),
                None => Vec::new(),
            };
            found.push((path, records));
        }
        let xattr = |k: &str, v: &[u8]| (format!("SCHILY.xattr.{k}"), v.to_vec());
        assert_eq!(
            found,
            [
                (
                    "a.txt".to_owned(),
                    vec![
                        xattr("user.ocikit.a", b"one\0binary=x"),
                        xattr("user.ocikit.b", b"two")
                    ]
                ),
                // The hard link carries no records of its own: it is the first path's file.
                ("b.txt".to_owned(), vec![]),
                ("c.txt".to_owned(), vec![]),
            ]
        );
        // GNU tar reads them back onto the file.
        let out = t.path().join("x");
        fs::create_dir(&out).unwrap();
        let tarfile = t.path().join("x.tar");
        fs::write(&tarfile, &with).unwrap();
        let status = std::process::Command::new("tar")
            .args(["--xattrs", "--xattrs-include=user.*", "-xf"])
            .arg(&tarfile)
            .arg("-C")
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success());
        let mut buf = [0u8; 64];
        let n = rustix::fs::getxattr(out.join("a.txt"), "user.ocikit.a", &mut buf[..]).unwrap();
        assert_eq!(&buf[..n], b"one\0binary=x");
    }

    #[test]
    fn missing_dir_is_an_error() {
        assert!(DirTar::new(Path::new("/nonexistent-ocikit"), DirTarOptions::default()).is_err());
    }
}
