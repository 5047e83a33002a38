//! An ingest directory as containerd's `content/local` lays it out:
//! `ingest/HEX-OF-SHA256(REF)/` holding `data` (the bytes so far), `ref` (the ref, raw),
//! `startedat` and `updatedat` (Go `time.MarshalText`, RFC 3339 with nanoseconds) and, when
//! the expected size is known, `total` (decimal).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use oci_types::Digest;

use super::fsutil::{
    read_small, read_timestamp, same_file, try_lock, write_atomic, write_timestamp,
};
use crate::{Error, Result, Status};

pub(super) const DATA: &str = "data";
const REF: &str = "ref";
const STARTED_AT: &str = "startedat";
const UPDATED_AT: &str = "updatedat";
const TOTAL: &str = "total";

/// The directory of the ingest `reference` under the ingest root.
pub(super) fn dir_for(ingest_root: &Path, reference: &str) -> PathBuf {
    ingest_root.join(Digest::sha256(reference.as_bytes()).encoded())
}

/// Reads the status of the ingest in `dir` (without taking its lock). A missing file is
/// [`Error::NotFound`], a malformed one an I/O error of kind `InvalidData`.
pub(super) fn read_status(dir: &Path, expect_ref: Option<&str>) -> Result<Status> {
    let not_found = || Error::ingest_not_found(expect_ref.unwrap_or(""));
    let data = dir.join(DATA);
    let meta = match fs::metadata(&data) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(Error::io("stat", &data, e)),
    };
    let reference = read_small(&dir.join(REF))?.ok_or_else(not_found)?;
    if expect_ref.is_some_and(|r| r != reference) {
        let e = io::Error::new(
            io::ErrorKind::InvalidData,
            format!("ingest holds ref {reference:?}"),
        );
        return Err(Error::io("check ref", dir.join(REF), e));
    }
    let started_at = read_timestamp(&dir.join(STARTED_AT))?.ok_or_else(not_found)?;
    let mut updated_at = read_timestamp(&dir.join(UPDATED_AT))?.ok_or_else(not_found)?;
    // `updatedat` is written when a writer closes; the data's mtime may be newer.
    if let Ok(mtime) = meta.modified() {
        updated_at = updated_at.max(mtime);
    }
    Ok(Status {
        reference,
        offset: meta.len(),
        total: read_total(dir),
        expected: None,
        started_at,
        updated_at,
    })
}

/// The `total` file, when present and a positive number (containerd ignores it otherwise).
fn read_total(dir: &Path) -> Option<u64> {
    let text = read_small(&dir.join(TOTAL)).ok()??;
    text.trim().parse::<u64>().ok().filter(|&t| t > 0)
}

/// Opens an ingest's `data` for reading and appending, creating it empty when missing.
fn open_data(data: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(data)
}

/// Opens `dir/data` and takes its lock, creating the directory and file when needed.
/// `Ok(None)` when another writer holds the lock.
pub(super) fn open_locked(ingest_root: &Path, dir: &Path) -> Result<Option<File>> {
    let data = dir.join(DATA);
    // A remover (commit, abort) may delete the directory between our steps; start over then.
    let (mut tries, mut waits) = (0, 0);
    while tries < 16 {
        tries += 1;
        // Another process may remove an empty `ingest/` while we create it: both kinds of race
        // (it vanished, or it appeared between the check and the create) mean "try again".
        match fs::create_dir_all(ingest_root) {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::AlreadyExists | io::ErrorKind::NotFound
                ) =>
            {
                continue
            }
            Err(e) => return Err(Error::io("create", ingest_root, e)),
        }
        match fs::create_dir(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("create", dir, e)),
        }
        let file = match open_data(&data) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("open", &data, e)),
        };
        if !try_lock(&file).map_err(|e| Error::io("lock", &data, e))? {
            // Without a `ref` the holder is a writer initializing the ingest or a pruner
            // removing a damaged one: wait a moment for either to finish.
            if waits < 100 && !dir.join(REF).exists() {
                (tries, waits) = (tries - 1, waits + 1);
                std::thread::sleep(std::time::Duration::from_millis(1));
                continue;
            }
            return Ok(None);
        }
        if same_file(&file, &data).map_err(|e| Error::io("stat", &data, e))? {
            return Ok(Some(file));
        }
    }
    let e = io::Error::other("the ingest directory was removed again and again while opening it");
    Err(Error::io("open", data, e))
}

/// Opens an existing ingest's data and takes its lock, for removal. `Ok(None)` when there is
/// no data file; `Err(Unavailable)` when a writer holds it.
pub(super) fn lock_existing(dir: &Path, reference: &str) -> Result<Option<File>> {
    let data = dir.join(DATA);
    let file = match OpenOptions::new().read(true).write(true).open(&data) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("open", &data, e)),
    };
    if !try_lock(&file).map_err(|e| Error::io("lock", &data, e))? {
        return Err(Error::locked(reference));
    }
    Ok(Some(file))
}

/// Takes the lock of a damaged ingest directory for its removal, creating an empty `data`
/// when there is none (a directory whose removal was interrupted has lost it); the flag says
/// whether it did. `Ok(None)` when a writer holds the lock or the directory is gone.
pub(super) fn lock_damaged(dir: &Path) -> Result<Option<(File, bool)>> {
    let data = dir.join(DATA);
    let created = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&data);
    let (file, created) = match created {
        Ok(f) => (f, true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            match OpenOptions::new().read(true).write(true).open(&data) {
                Ok(f) => (f, false),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(Error::io("open", &data, e)),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("open", &data, e)),
    };
    if !try_lock(&file).map_err(|e| Error::io("lock", &data, e))? {
        return Ok(None);
    }
    if !same_file(&file, &data).map_err(|e| Error::io("stat", &data, e))? {
        return Ok(None);
    }
    Ok(Some((file, created)))
}

/// What a locked writer found in its ingest directory.
pub(super) struct Found {
    pub(super) started_at: SystemTime,
    pub(super) updated_at: SystemTime,
    pub(super) total: Option<u64>,
}

/// Reads the ingest's metadata for a writer that holds the lock; `None` when the ingest is new
/// or unusable (missing files, another ref, or a total that contradicts `total`).
pub(super) fn resumable(dir: &Path, reference: &str, total: Option<u64>) -> Option<Found> {
    let st = read_status(dir, Some(reference)).ok()?;
    if let (Some(want), Some(have)) = (total, st.total) {
        if want != have {
            return None;
        }
    }
    Some(Found {
        started_at: st.started_at,
        updated_at: st.updated_at,
        total: st.total,
    })
}

/// Writes the metadata of a fresh ingest.
pub(super) fn initialize(
    dir: &Path,
    reference: &str,
    now: SystemTime,
    total: Option<u64>,
) -> Result<()> {
    write_atomic(&dir.join(REF), reference.as_bytes())?;
    write_timestamp(&dir.join(STARTED_AT), now)?;
    write_timestamp(&dir.join(UPDATED_AT), now)?;
    match total {
        Some(t) => write_total(dir, t),
        None => match fs::remove_file(dir.join(TOTAL)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", dir.join(TOTAL), e)),
        },
    }
}

pub(super) fn write_total(dir: &Path, total: u64) -> Result<()> {
    write_atomic(&dir.join(TOTAL), total.to_string().as_bytes())
}

pub(super) fn write_updated_at(dir: &Path, t: SystemTime) -> Result<()> {
    write_timestamp(&dir.join(UPDATED_AT), t)
}
