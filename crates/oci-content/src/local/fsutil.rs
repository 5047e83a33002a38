//! File-system helpers of the local store: durable renames, file identity, locks, and the
//! small text files of an ingest.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::{timefmt, Error, Result};

impl From<oci_types::fs::FsError> for Error {
    fn from(e: oci_types::fs::FsError) -> Error {
        Error::io(e.op.as_str(), e.path, e.source)
    }
}

/// Makes a directory's entries durable (a no-op where directories cannot be opened).
pub(super) fn sync_dir(dir: &Path) -> Result<()> {
    Ok(oci_types::fs::sync_dir(dir)?)
}

/// Writes `bytes` to `path` through `path.tmp`, an fsync and a rename (then an fsync of the
/// directory), so readers see the old or the new contents, never a mix, and a crash leaves
/// one of the two. Callers hold the lock of the directory's ingest or labels.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    Ok(oci_types::fs::replace_file(
        &PathBuf::from(tmp),
        path,
        bytes,
    )?)
}

/// Tries to take the exclusive lock of `file` without waiting; `Ok(false)` when another
/// handle (of this process or another) holds it. The lock goes with the handle.
pub(super) fn try_lock(file: &File) -> io::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(fs::TryLockError::WouldBlock) => Ok(false),
        Err(fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Whether `path` still names the file `file` is open on (it may have been removed and
/// created again by someone else since `file` was opened).
pub(super) fn same_file(file: &File, path: &Path) -> io::Result<bool> {
    let on_disk = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let open = file.metadata()?;
        Ok(open.dev() == on_disk.dev() && open.ino() == on_disk.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = (file, on_disk);
        Ok(true)
    }
}

/// Reads a small text file; `Ok(None)` when it does not exist.
pub(super) fn read_small(path: &Path) -> Result<Option<String>> {
    match fs::read(path) {
        Ok(b) if b.len() > 64 * 1024 => Err(Error::io(
            "read",
            path,
            io::Error::new(io::ErrorKind::InvalidData, "file too large"),
        )),
        Ok(b) => String::from_utf8(b).map(Some).map_err(|_| {
            Error::io(
                "read",
                path,
                io::Error::new(io::ErrorKind::InvalidData, "not UTF-8"),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// Reads a timestamp file in Go's `MarshalText` format; `Ok(None)` when it does not exist.
pub(super) fn read_timestamp(path: &Path) -> Result<Option<SystemTime>> {
    let Some(text) = read_small(path)? else {
        return Ok(None);
    };
    timefmt::parse(&text).map(Some).ok_or_else(|| {
        let e = io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad timestamp {text:?}"),
        );
        Error::io("parse", path, e)
    })
}

/// Writes a timestamp file in Go's `MarshalText` format.
pub(super) fn write_timestamp(path: &Path, t: SystemTime) -> Result<()> {
    write_atomic(path, timefmt::format(t).as_bytes())
}

/// Makes a file read-only for everyone, as containerd does with committed blobs.
pub(super) fn make_read_only(file: &File, path: &Path) -> Result<()> {
    let mut perm = file
        .metadata()
        .map_err(|e| Error::io("stat", path, e))?
        .permissions();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        perm.set_mode(perm.mode() & 0o777 & !0o333);
    }
    #[cfg(not(unix))]
    perm.set_readonly(true);
    file.set_permissions(perm)
        .map_err(|e| Error::io("chmod", path, e))
}

/// Removes a directory tree, tolerating its absence.
pub(super) fn remove_tree(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", dir, e)),
    }
}
