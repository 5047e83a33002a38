//! The local store's writer: appends to `ingest/H/data` under that file's lock, hashing as it
//! goes, and commits by hard-linking the synced, verified file into `blobs/`.

use std::fs::{self, File, FileTimes};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::SystemTime;

use oci_types::{Algorithm, Digest, Digester, HashingReader};

use super::fsutil::{make_read_only, remove_tree, same_file, sync_dir};
use super::ingest::{self, DATA};
use super::writeback::Writeback;
use super::LocalStore;
use crate::InvalidArgumentKind;
use crate::{CommitOpts, Error, Precondition, Result, Status, Subject, Writer};

const HASH_BUFFER_SIZE: usize = 1 << 20;

/// A writer of [`LocalStore`]; see [`Writer`].
///
/// It holds the lock of its ingest (a lock on the `data` file, which the operating system
/// releases when the writer is dropped or its process dies).
#[derive(Debug)]
pub struct LocalWriter {
    store: LocalStore,
    reference: String,
    dir: PathBuf,
    /// The locked data file; `None` once closed or committed.
    file: Option<File>,
    algorithm: Algorithm,
    /// The hash of the data, unless `adopted`.
    digester: Digester,
    /// The digest of all `offset` bytes of data, taken from the [`HashingReader`] they were
    /// copied from ([`Writer::copy_hashed`]); `digester` is then empty.
    adopted: Option<Digest>,
    offset: u64,
    total: Option<u64>,
    expected: Option<Digest>,
    started_at: SystemTime,
    updated_at: SystemTime,
    /// Background syncs of what was written, so that the commit's fsync has little left.
    writeback: Writeback,
}

/// Hashes the first `len` bytes of `file` with `algorithm`.
fn hash_prefix(
    file: &File,
    path: &std::path::Path,
    algorithm: &Algorithm,
    len: u64,
) -> Result<Digester> {
    let mut d = Digester::new(algorithm)
        .map_err(|e| Error::invalid("digest", InvalidArgumentKind::Types(Box::new(e))))?;
    let mut buf = vec![0u8; HASH_BUFFER_SIZE];
    let mut at = 0u64;
    while at < len {
        let want = buf
            .len()
            .min(usize::try_from(len - at).unwrap_or(usize::MAX));
        let n = read_at(file, &mut buf[..want], at).map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            let e = io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "ingest data shrank while hashing",
            );
            return Err(Error::io("read", path, e));
        }
        d.update(&buf[..n]);
        at += n as u64;
    }
    Ok(d)
}

#[cfg(unix)]
pub(super) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

#[cfg(windows)]
pub(super) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::windows::fs::FileExt;
    file.seek_read(buf, offset)
}

#[cfg(not(any(unix, windows)))]
pub(super) fn read_at(_file: &File, _buf: &mut [u8], _offset: u64) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "positional reads need unix or windows",
    ))
}

impl LocalWriter {
    /// Sets up a writer over a locked data file: resumes the ingest (re-hashing its data) when
    /// it is usable, starts it afresh otherwise.
    pub(super) fn start(
        store: LocalStore,
        reference: String,
        dir: PathBuf,
        mut file: File,
        total: Option<u64>,
        expected: Option<Digest>,
        algorithm: Algorithm,
    ) -> Result<LocalWriter> {
        let data = dir.join(DATA);
        let now = SystemTime::now();
        let (digester, offset, started_at, updated_at, total) =
            match ingest::resumable(&dir, &reference, total) {
                Some(found) => {
                    let len = file
                        .metadata()
                        .map_err(|e| Error::io("stat", &data, e))?
                        .len();
                    let digester = hash_prefix(&file, &data, &algorithm, len)?;
                    if found.total.is_none() {
                        if let Some(t) = total {
                            ingest::write_total(&dir, t)?;
                        }
                    }
                    (
                        digester,
                        len,
                        found.started_at,
                        found.updated_at,
                        found.total.or(total),
                    )
                }
                None => {
                    let fresh = file
                        .set_len(0)
                        .map_err(|e| Error::io("truncate", &data, e))
                        .and_then(|()| ingest::initialize(&dir, &reference, now, total));
                    if let Err(e) = fresh {
                        // An ingest whose metadata could not be written (a full disk) is no
                        // ingest: no ref names it, so nothing would ever remove it. Removed
                        // here, while this writer still holds its lock.
                        let _ = remove_tree(&dir);
                        return Err(e);
                    }
                    let digester = Digester::new(&algorithm).map_err(|e| {
                        Error::invalid("digest", InvalidArgumentKind::Types(Box::new(e)))
                    })?;
                    (digester, 0, now, now, total)
                }
            };
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io("seek", &data, e))?;
        Ok(LocalWriter {
            store,
            reference,
            dir,
            file: Some(file),
            algorithm,
            digester,
            adopted: None,
            offset,
            total,
            expected,
            started_at,
            updated_at,
            writeback: Writeback::default(),
        })
    }

    fn data_path(&self) -> PathBuf {
        self.dir.join(DATA)
    }

    fn subject(&self) -> Subject {
        Subject::Ingest(self.reference.clone())
    }

    /// The digest of the data written so far.
    fn current_digest(&self) -> Digest {
        match &self.adopted {
            Some(d) => d.clone(),
            None => self.digester.current(),
        }
    }

    /// Hashes the data again from the file, for a writer whose digest was adopted (before
    /// more is written) or whose copy failed midway.
    fn rehash(&mut self) -> Result<()> {
        let data = self.data_path();
        let Some(file) = self.file.as_ref() else {
            return Err(Error::closed(&self.reference));
        };
        self.digester = hash_prefix(file, &data, &self.algorithm, self.offset)?;
        self.adopted = None;
        Ok(())
    }

    fn mismatch(&self, reason: Precondition) -> Error {
        Error::FailedPrecondition {
            subject: self.subject(),
            reason: Box::new(reason),
        }
    }

    /// The commit proper; the caller drops the file (and so the lock) whatever happens.
    fn commit_file(
        &mut self,
        file: &File,
        size: Option<u64>,
        expected: Option<&Digest>,
        opts: CommitOpts,
    ) -> Result<()> {
        let data = self.data_path();
        // First, so that no clone of the handle outlives the commit, whatever it returns.
        self.writeback
            .finish()
            .map_err(|e| Error::io("fsync", &data, e))?;
        if let Some(labels) = &opts.labels {
            crate::info::validate_labels(labels)?;
        }
        file.sync_data().map_err(|e| Error::io("fsync", &data, e))?;
        let actual = file
            .metadata()
            .map_err(|e| Error::io("stat", &data, e))?
            .len();
        if let Some(size) = size {
            if size != actual {
                return Err(self.mismatch(Precondition::SizeMismatch {
                    expected: size,
                    actual,
                }));
            }
        }
        let mut digest = self.current_digest();
        if let Some(expected) = expected {
            if expected.algorithm() != &self.algorithm {
                // Opened without knowing the algorithm: hash again with the expected one.
                if let Ok(d) = hash_prefix(file, &data, expected.algorithm(), actual) {
                    digest = d.current();
                    self.algorithm = expected.algorithm().clone();
                    self.digester = d;
                }
            }
            if expected != &digest {
                let reason = Precondition::DigestMismatch {
                    expected: expected.clone(),
                    actual: digest,
                };
                return Err(self.mismatch(reason));
            }
        }
        // We hold the lock, so nobody else can have replaced the ingest; check anyway before
        // publishing, since linking goes by path.
        if !same_file(file, &data).map_err(|e| Error::io("stat", &data, e))? {
            return Err(Error::ingest_not_found(&self.reference));
        }

        let target = self.store.blob_path(&digest);
        let alg_dir = target.parent().map(PathBuf::from).unwrap_or_default();
        if target.exists() {
            remove_tree(&self.dir)?;
            return Err(Error::blob_exists(&digest));
        }
        let created_dir = !alg_dir.is_dir();
        if created_dir {
            fs::create_dir_all(&alg_dir).map_err(|e| Error::io("create", &alg_dir, e))?;
        }
        let now = SystemTime::now();
        file.set_times(FileTimes::new().set_accessed(now).set_modified(now))
            .map_err(|e| Error::io("set times", &data, e))?;
        make_read_only(file, &data)?;
        // A hard link publishes the complete file atomically and, unlike a rename, fails when
        // the blob appeared meanwhile, so of racing commits exactly one wins.
        match fs::hard_link(&data, &target) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                remove_tree(&self.dir)?;
                return Err(Error::blob_exists(&digest));
            }
            Err(_) => {
                // File systems without hard links: rename (same content if a racer won).
                fs::rename(&data, &target).map_err(|e| Error::io("rename", &target, e))?;
            }
        }
        sync_dir(&alg_dir)?;
        if created_dir {
            let blobs = self.store.root().join(super::BLOBS);
            sync_dir(&blobs)?;
            sync_dir(self.store.root())?;
        }
        // The blob is in place; what follows cannot undo it.
        remove_tree(&self.dir)?;
        if let Some(labels) = opts.labels {
            self.store.labels.modify(&digest, now, |_| Ok(labels))?;
        }
        Ok(())
    }
}

impl Write for LocalWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.adopted.is_some() {
            self.rehash().map_err(Error::into_io)?;
        }
        let Some(file) = self.file.as_mut() else {
            return Err(Error::closed(&self.reference).into_io());
        };
        let n = file.write(buf)?;
        self.writeback.wrote(file, n);
        self.digester.update(&buf[..n]);
        self.offset += n as u64;
        self.updated_at = SystemTime::now();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Writer for LocalWriter {
    fn digest(&self) -> Digest {
        self.current_digest()
    }

    /// Writes the reader's bytes without hashing them when the ingest is empty, the reader
    /// untouched and its algorithm the ingest's: the reader's digest is then the data's.
    /// Otherwise, or when a read or write fails midway (the data is hashed again from the
    /// file then), it is an ordinary hashed copy.
    fn copy_hashed(&mut self, reader: &mut HashingReader<Box<dyn Read + Send>>) -> Result<u64> {
        let fresh = self.offset == 0
            && self.adopted.is_none()
            && reader.bytes_read() == 0
            && reader.algorithm() == self.algorithm;
        if !fresh {
            return crate::helpers::pump(self, reader);
        }
        let data = self.data_path();
        let mut buf = vec![0u8; crate::COPY_BUFFER_SIZE];
        let copied = loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break Ok(self.offset),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(Error::from_io(e, self.subject())),
            };
            let Some(file) = self.file.as_mut() else {
                break Err(Error::closed(&self.reference));
            };
            if let Err(e) = file.write_all(&buf[..n]) {
                // How much of the buffer went in is unknown: count the file.
                if let Ok(m) = file.metadata() {
                    self.offset = m.len();
                }
                break Err(Error::io("write", &data, e));
            }
            self.writeback.wrote(file, n);
            self.offset += n as u64;
            self.updated_at = SystemTime::now();
        };
        match copied {
            Ok(n) if reader.bytes_read() == n => {
                self.adopted = Some(reader.digest());
                Ok(n)
            }
            Ok(n) => {
                // The reader's digest covers other bytes than the file's (the check above
                // rules that out; this keeps a wrong digest from ever being adopted).
                self.rehash()?;
                Ok(n)
            }
            Err(e) => {
                if self.rehash().is_err() {
                    self.file = None; // unusable; a later writer resumes from the file
                }
                Err(e)
            }
        }
    }

    fn status(&self) -> Result<Status> {
        Ok(Status {
            reference: self.reference.clone(),
            offset: self.offset,
            total: self.total,
            expected: self.expected.clone(),
            started_at: self.started_at,
            updated_at: self.updated_at,
        })
    }

    fn commit(
        &mut self,
        size: Option<u64>,
        expected: Option<&Digest>,
        opts: CommitOpts,
    ) -> Result<()> {
        let Some(file) = self.file.take() else {
            return Err(Error::closed(&self.reference));
        };
        let result = self.commit_file(&file, size, expected, opts);
        drop(file);
        result
    }

    fn truncate(&mut self, size: u64) -> Result<()> {
        let data = self.data_path();
        let Some(file) = self.file.as_mut() else {
            return Err(Error::closed(&self.reference));
        };
        if size > self.offset {
            return Err(Error::invalid(
                "size",
                InvalidArgumentKind::TruncatePastEnd {
                    reference: self.reference.clone(),
                    size,
                    len: self.offset,
                },
            ));
        }
        file.set_len(size)
            .map_err(|e| Error::io("truncate", &data, e))?;
        file.seek(SeekFrom::Start(size))
            .map_err(|e| Error::io("seek", &data, e))?;
        let file: &File = file;
        self.digester = hash_prefix(file, &data, &self.algorithm, size)?;
        self.adopted = None;
        self.offset = size;
        self.updated_at = SystemTime::now();
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let result = ingest::write_updated_at(&self.dir, self.updated_at);
        // Background sync errors do not matter to an ingest left to resume: the commit syncs.
        let _ = self.writeback.finish();
        drop(file);
        result
    }
}

impl Drop for LocalWriter {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
