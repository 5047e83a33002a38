//! The files of a layout beside `blobs/`: the `oci-layout` header, `index.json` (replaced
//! atomically and durably) and the two lock files that serialise changes across processes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use oci_types::{Index, MediaType, Raw};
use serde::{Deserialize, Serialize};

use crate::{Error, NotALayoutKind, Result};

/// The name of the layout header file.
pub(crate) const OCI_LAYOUT: &str = "oci-layout";
/// The name of the root index.
pub(crate) const INDEX_JSON: &str = "index.json";
/// The lock taken (exclusively) while `index.json` is read, changed and replaced.
pub(crate) const INDEX_LOCK: &str = "index.json.lock";
/// The lock writers share while they add blobs, and garbage collection takes exclusively, so
/// that it never removes the blobs of an image still being written.
pub(crate) const GC_LOCK: &str = "gc.lock";
/// The temporary file a new `index.json` is written to before the rename.
const INDEX_TMP: &str = "index.json.tmp";
/// The temporary file of a new `oci-layout` header.
const OCI_LAYOUT_TMP: &str = "oci-layout.tmp";

/// The layout version this crate writes.
pub const IMAGE_LAYOUT_VERSION: &str = "1.0.0";

/// The largest `oci-layout` file read.
const MAX_HEADER_SIZE: u64 = 64 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    image_layout_version: String,
}

/// Reads at most `limit` bytes of `path`; a longer file is an error.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let f = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut buf = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io("read", path, e))?;
    if buf.len() as u64 > limit {
        let source = oci_types::Error::TooLarge {
            what: "layout file",
            size: buf.len() as u64,
            limit,
        };
        return Err(Error::invalid_file(path.to_owned(), source));
    }
    Ok(buf)
}

/// Checks the `oci-layout` header of the layout at `root`.
pub(crate) fn check_header(root: &Path) -> Result<()> {
    let path = root.join(OCI_LAYOUT);
    let bytes = match fs::metadata(&path) {
        Ok(m) if m.is_file() => read_limited(&path, MAX_HEADER_SIZE)?,
        Ok(_) => {
            return Err(Error::NotALayout {
                path: root.to_owned(),
                kind: NotALayoutKind::LayoutFileNotAFile,
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::NotALayout {
                path: root.to_owned(),
                kind: NotALayoutKind::NoLayoutFile,
            })
        }
        Err(e) => return Err(Error::io("stat", path, e)),
    };
    let header: Header = serde_json::from_slice(&bytes).map_err(|e| {
        let source = oci_types::Error::Json {
            what: "oci-layout",
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        Error::invalid_file(&path, source)
    })?;
    let v = &header.image_layout_version;
    if v.split('.').next() != Some("1") {
        return Err(Error::UnsupportedVersion {
            path,
            version: v.clone(),
        });
    }
    Ok(())
}

/// Writes the `oci-layout` header (atomically).
pub(crate) fn write_header(root: &Path) -> Result<()> {
    let header = Header {
        image_layout_version: IMAGE_LAYOUT_VERSION.to_owned(),
    };
    let bytes = serde_json::to_vec(&header).map_err(|e| {
        Error::io(
            "encode",
            root.join(OCI_LAYOUT),
            io::Error::other(e.to_string()),
        )
    })?;
    replace_file(root, OCI_LAYOUT_TMP, OCI_LAYOUT, &bytes)
}

/// Reads and parses `index.json`, keeping its bytes.
pub(crate) fn read_index(root: &Path) -> Result<Raw<Index>> {
    let path = root.join(INDEX_JSON);
    let bytes = match read_limited(&path, oci_types::limits::MAX_MANIFEST_SIZE) {
        Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            return Err(Error::NotALayout {
                path: root.to_owned(),
                kind: NotALayoutKind::NoIndex,
            })
        }
        other => other?,
    };
    Raw::parse(bytes).map_err(|source| Error::invalid_file(path, source))
}

/// Whether `root` has an `index.json`.
pub(crate) fn has_index(root: &Path) -> bool {
    root.join(INDEX_JSON).is_file()
}

/// Serialises `index` (with its media type set, as the spec recommends) and replaces
/// `index.json` with it. The caller holds the index lock.
pub(crate) fn write_index(root: &Path, mut index: Index) -> Result<Raw<Index>> {
    if index.media_type.is_none() {
        index.media_type = Some(MediaType::OciIndex);
    }
    let raw = Raw::from_value(index)
        .map_err(|source| Error::invalid_file(root.join(INDEX_JSON), source))?;
    replace_file(root, INDEX_TMP, INDEX_JSON, raw.bytes())?;
    Ok(raw)
}

/// Replaces `root/name` with `bytes` through `root/tmp` ([`oci_types::fs::replace_file`]):
/// readers see the old file or the new one, never a mix, and after a crash the file is one
/// of the two.
fn replace_file(root: &Path, tmp: &str, name: &str, bytes: &[u8]) -> Result<()> {
    Ok(oci_types::fs::replace_file(
        &root.join(tmp),
        &root.join(name),
        bytes,
    )?)
}

/// A held file lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub(crate) struct Lock {
    _file: File,
}

/// How a lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Several holders at once (writers adding blobs).
    Shared,
    /// One holder (index changes, garbage collection).
    Exclusive,
}

/// Takes the lock `root/name`, waiting for it. The lock file is created when missing and
/// never removed (removing a lock file lets two processes lock two different files).
pub(crate) fn lock(root: &Path, name: &str, mode: Mode) -> Result<Lock> {
    let path: PathBuf = root.join(name);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io("open lock file", &path, e))?;
    let locked = match mode {
        Mode::Shared => file.lock_shared(),
        Mode::Exclusive => file.lock(),
    };
    locked.map_err(|e| Error::io("lock", &path, e))?;
    Ok(Lock { _file: file })
}

/// Takes the lock `root/name` exclusively if nobody holds it; `None` when someone does.
pub(crate) fn try_lock_exclusive(root: &Path, name: &str) -> Result<Option<Lock>> {
    let path: PathBuf = root.join(name);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io("open lock file", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(Lock { _file: file })),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(Error::io("lock", &path, e)),
    }
}
