//! Durable, atomic file replacement: the one way every ocikit crate puts a finished file
//! under its final name.
//!
//! [`replace_file`] writes a temporary file, fsyncs it, renames it over the target and fsyncs
//! the directory, so a reader sees the old file or the new one, never a mix, and after a
//! crash the target is one of the two. [`commit`] and [`rename`] are its last steps, for
//! files written some other way.
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("oci-types-fs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let target = dir.join("index.json");
//! oci_types::fs::replace_file(&dir.join("index.json.tmp"), &target, b"{}").unwrap();
//! assert_eq!(std::fs::read(&target).unwrap(), b"{}");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The step of a file replacement that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FsOp {
    /// Creating the temporary file.
    Create,
    /// Writing the temporary file.
    Write,
    /// Flushing the temporary file to disk.
    Fsync,
    /// Renaming the temporary file over the target.
    Rename,
    /// Opening the directory to flush its entries.
    OpenDirectory,
    /// Flushing the directory's entries to disk.
    FsyncDirectory,
}

impl FsOp {
    /// The step as a short verb phrase (`"create"`, `"fsync directory"`, ...), the words the
    /// crates' `Io { op, .. }` errors use.
    pub fn as_str(self) -> &'static str {
        match self {
            FsOp::Create => "create",
            FsOp::Write => "write",
            FsOp::Fsync => "fsync",
            FsOp::Rename => "rename",
            FsOp::OpenDirectory => "open directory",
            FsOp::FsyncDirectory => "fsync directory",
        }
    }
}

/// A failed step of a file replacement: which step, on which path, and the I/O error.
#[derive(Debug, thiserror::Error)]
#[error("{} {}: {source}", op.as_str(), path.display())]
#[non_exhaustive]
pub struct FsError {
    /// The step that failed.
    pub op: FsOp,
    /// The file or directory it failed on (the target, for [`FsOp::Rename`]).
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: io::Error,
}

impl FsError {
    fn new(op: FsOp, path: &Path, source: io::Error) -> FsError {
        FsError {
            op,
            path: path.to_owned(),
            source,
        }
    }
}

/// Makes a directory's entries durable (a no-op where directories cannot be opened).
///
/// # Errors
///
/// [`FsOp::OpenDirectory`] or [`FsOp::FsyncDirectory`].
pub fn sync_dir(dir: &Path) -> Result<(), FsError> {
    #[cfg(unix)]
    {
        let d = File::open(dir).map_err(|e| FsError::new(FsOp::OpenDirectory, dir, e))?;
        d.sync_all()
            .map_err(|e| FsError::new(FsOp::FsyncDirectory, dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// The directory a path's entry lives in (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Renames the finished (already fsynced) file or directory `tmp` over `target` and fsyncs
/// the target's directory.
///
/// # Errors
///
/// [`FsOp::Rename`] (naming `target`), or a step of [`sync_dir`].
pub fn rename(tmp: &Path, target: &Path) -> Result<(), FsError> {
    std::fs::rename(tmp, target).map_err(|e| FsError::new(FsOp::Rename, target, e))?;
    sync_dir(parent(target))
}

/// Commits the file `tmp`, open as `file` and fully written: fsyncs it, renames it over
/// `target` and fsyncs the target's directory.
///
/// # Errors
///
/// [`FsOp::Fsync`] (naming `tmp`), or a step of [`rename`].
pub fn commit(file: &File, tmp: &Path, target: &Path) -> Result<(), FsError> {
    file.sync_all()
        .map_err(|e| FsError::new(FsOp::Fsync, tmp, e))?;
    rename(tmp, target)
}

/// Replaces `target` with `bytes`: writes `tmp` (created or truncated), fsyncs it, renames it
/// over `target`, fsyncs the directory. On an error before the rename, `tmp` is removed.
///
/// # Errors
///
/// The [`FsError`] of the step that failed.
pub fn replace_file(tmp: &Path, target: &Path, bytes: &[u8]) -> Result<(), FsError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)
        .map_err(|e| FsError::new(FsOp::Create, tmp, e))?;
    let written = f
        .write_all(bytes)
        .map_err(|e| FsError::new(FsOp::Write, tmp, e))
        .and_then(|()| f.sync_all().map_err(|e| FsError::new(FsOp::Fsync, tmp, e)));
    drop(f);
    if let Err(e) = written {
        let _ = std::fs::remove_file(tmp);
        return Err(e);
    }
    if let Err(e) = std::fs::rename(tmp, target) {
        let _ = std::fs::remove_file(tmp);
        return Err(FsError::new(FsOp::Rename, target, e));
    }
    sync_dir(parent(target))
}
