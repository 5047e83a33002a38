//! The local store: containerd's `content/local` directory format.
//!
//! ```text
//! ROOT/blobs/ALG/HEX            committed blobs, read-only (also an OCI layout's blob tree)
//! ROOT/ingest/SHA256(REF)/      one directory per unfinished write:
//!     data  ref  startedat  updatedat  [total]
//! ROOT/labels/ALG/HEX           labels of blobs (ocikit's; containerd keeps them elsewhere)
//! ```

mod fsutil;
mod ingest;
mod labels;
mod writeback;
mod writer;

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use oci_types::{Algorithm, Descriptor, Digest};

use crate::filters::Filters;
use crate::reader::embedded_reader;
use crate::{
    Error, Info, IngestManager, Ingester, Manager, Provider, ReaderAt, Result, Status, Writer,
    WriterOpts,
};
use labels::LabelStore;
pub use writer::LocalWriter;

const BLOBS: &str = "blobs";
const INGEST: &str = "ingest";

/// A content store in a directory, in the same format as containerd's `content/local` store:
/// containerd (`ROOT/io.containerd.content.v1.content`) and ocikit can open each other's
/// stores and resume each other's interrupted writes.
///
/// - Commits are atomic and durable: the data is fsynced, checked, and hard-linked into
///   `blobs/` (then the directory is fsynced), so `blobs/` never shows a partial blob.
/// - A writer holds an operating-system lock on its ingest's `data` file: a second writer of
///   the same ref gets [`Error::Unavailable`], in this process or another; the lock goes away
///   with the writer or its process.
/// - A writer opened on an existing ingest continues at its end, re-hashing what is there.
/// - Labels live in `labels/`, one JSON file per labelled blob.
///
/// Cloning is cheap; clones share the directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: Arc<PathBuf>,
    labels: Arc<LabelStore>,
}

impl LocalStore {
    /// Opens (creating it if needed) the store at `root`.
    pub fn open(root: impl AsRef<Path>) -> Result<LocalStore> {
        let root = root.as_ref();
        fs::create_dir_all(root).map_err(|e| Error::io("create", root, e))?;
        let meta = fs::metadata(root).map_err(|e| Error::io("stat", root, e))?;
        if !meta.is_dir() {
            let e = io::Error::new(
                io::ErrorKind::NotADirectory,
                "store root is not a directory",
            );
            return Err(Error::io("open", root, e));
        }
        Ok(LocalStore {
            root: Arc::new(root.to_owned()),
            labels: Arc::new(LabelStore::new(root)),
        })
    }

    /// The store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `digest` lives (or would live): `ROOT/blobs/ALG/HEX`.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join(BLOBS)
            .join(digest.algorithm().as_str())
            .join(digest.encoded())
    }

    /// The directory of the ingest `reference`: `ROOT/ingest/HEX-OF-SHA256(REF)`.
    pub fn ingest_path(&self, reference: &str) -> PathBuf {
        ingest::dir_for(&self.root.join(INGEST), reference)
    }

    /// Removes the damaged ingest directories no writer holds, and returns their names (the
    /// hex of the SHA-256 of their ref).
    ///
    /// A directory is damaged when its status cannot be read: a write killed while it set up
    /// its metadata, or a commit or abort killed while it removed the directory, leaves one.
    /// [`IngestManager::list_statuses`] skips such directories and [`IngestManager::abort`]
    /// cannot name them (their `ref` may be gone), so this is how they go; garbage
    /// collectors call it after aborting the abandoned ingests. The directory's lock is held
    /// while it is removed, as [`IngestManager::abort`] holds it: a live writer's ingest
    /// never vanishes under it.
    pub fn remove_damaged_ingests(&self) -> Result<Vec<String>> {
        let root = self.root.join(INGEST);
        let entries = match fs::read_dir(&root) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read directory", &root, e)),
        };
        let mut removed = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read directory", &root, e))?;
            let dir = entry.path();
            if !entry.file_type().is_ok_and(|t| t.is_dir())
                || ingest::read_status(&dir, None).is_ok()
            {
                continue;
            }
            let Some((lock, created_data)) = ingest::lock_damaged(&dir)? else {
                continue;
            };
            // A writer may have finished setting the ingest up before we took the lock. Not
            // when the `data` is the empty one we just created: then the status reads only
            // because of it (a commit killed after it moved `data` into place leaves `ref`
            // and the timestamps), and the directory is still damaged.
            if !created_data && ingest::read_status(&dir, None).is_ok() {
                continue;
            }
            fsutil::remove_tree(&dir)?;
            drop(lock);
            removed.push(entry.file_name().to_string_lossy().into_owned());
        }
        removed.sort();
        Ok(removed)
    }

    /// Opens a writer; the same as [`Ingester::writer`] with the concrete type.
    pub fn local_writer(&self, opts: WriterOpts) -> Result<LocalWriter> {
        opts.check()?;
        let expected = opts.desc.as_ref().map(|d| d.digest.clone());
        let mut algorithm = Algorithm::Sha256;
        if let Some(d) = &expected {
            if self.blob_path(d).exists() {
                return Err(Error::blob_exists(d));
            }
            if d.digester().is_ok() {
                algorithm = d.algorithm().clone();
            }
        }
        let dir = self.ingest_path(&opts.reference);
        let file = ingest::open_locked(&self.root.join(INGEST), &dir)?
            .ok_or_else(|| Error::locked(&opts.reference))?;
        let total = opts.total();
        LocalWriter::start(
            self.clone(),
            opts.reference,
            dir,
            file,
            total,
            expected,
            algorithm,
        )
    }

    fn info_of(&self, digest: &Digest, meta: &fs::Metadata) -> Result<Info> {
        let created_at = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let (labels, updated_at) = match self.labels.get(digest)? {
            Some(r) => (r.labels, r.updated_at.max(created_at)),
            None => (Default::default(), created_at),
        };
        Ok(Info {
            digest: digest.clone(),
            size: meta.len(),
            created_at,
            updated_at,
            labels,
        })
    }
}

/// A blob file of the local store, read with positional reads.
#[derive(Debug)]
struct FileReaderAt {
    file: File,
    size: u64,
}

impl ReaderAt for FileReaderAt {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.size {
            return Ok(0);
        }
        let left = usize::try_from(self.size - offset).unwrap_or(usize::MAX);
        let n = buf.len().min(left);
        writer::read_at(&self.file, &mut buf[..n], offset)
    }

    fn size(&self) -> u64 {
        self.size
    }
}

impl Provider for LocalStore {
    fn reader_at(&self, desc: &Descriptor) -> Result<Box<dyn ReaderAt>> {
        if let Some(r) = embedded_reader(desc)? {
            return Ok(r);
        }
        let path = self.blob_path(&desc.digest);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::blob_not_found(&desc.digest))
            }
            Err(e) => return Err(Error::io("open", &path, e)),
        };
        let size = file
            .metadata()
            .map_err(|e| Error::io("stat", &path, e))?
            .len();
        Ok(Box::new(FileReaderAt { file, size }))
    }
}

impl Ingester for LocalStore {
    fn writer(&self, opts: WriterOpts) -> Result<Box<dyn Writer>> {
        Ok(Box::new(self.local_writer(opts)?))
    }
}

impl Manager for LocalStore {
    fn info(&self, digest: &Digest) -> Result<Info> {
        let path = self.blob_path(digest);
        match fs::metadata(&path) {
            Ok(m) if m.is_file() => self.info_of(digest, &m),
            Ok(_) => Err(Error::blob_not_found(digest)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::blob_not_found(digest)),
            Err(e) => Err(Error::io("stat", &path, e)),
        }
    }

    fn update(&self, info: &Info, fieldpaths: &[&str]) -> Result<Info> {
        let current = self.info(&info.digest)?;
        let now = SystemTime::now();
        let labels = self.labels.modify(&info.digest, now, |cur| {
            crate::info::apply_update(cur, info, fieldpaths)
        })?;
        Ok(Info {
            labels,
            updated_at: now.max(current.created_at),
            ..current
        })
    }

    fn walk(&self, filters: &[&str], f: &mut dyn FnMut(Info) -> Result<()>) -> Result<()> {
        let filters = Filters::parse_all(filters)?;
        let blobs = self.root.join(BLOBS);
        let algs = match fs::read_dir(&blobs) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("read directory", &blobs, e)),
        };
        for alg in algs {
            let alg = alg.map_err(|e| Error::io("read directory", &blobs, e))?;
            let (Some(alg_name), true) = (
                alg.file_name().to_str().map(str::to_owned),
                alg.path().is_dir(),
            ) else {
                continue;
            };
            let alg_dir = alg.path();
            let entries =
                fs::read_dir(&alg_dir).map_err(|e| Error::io("read directory", &alg_dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| Error::io("read directory", &alg_dir, e))?;
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                // Skip anything that is not a blob (temporary files, stray names).
                let Ok(digest) = Digest::from_parts(&alg_name, &name) else {
                    continue;
                };
                let meta = match entry.metadata() {
                    Ok(m) if m.is_file() => m,
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::io("stat", entry.path(), e)),
                };
                let info = self.info_of(&digest, &meta)?;
                if filters.matches(&info) {
                    f(info)?;
                }
            }
        }
        Ok(())
    }

    fn delete(&self, digest: &Digest) -> Result<()> {
        let path = self.blob_path(digest);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::blob_not_found(digest))
            }
            Err(e) => return Err(Error::io("remove", &path, e)),
        }
        self.labels.remove(digest)
    }
}

impl IngestManager for LocalStore {
    fn status(&self, reference: &str) -> Result<Status> {
        ingest::read_status(&self.ingest_path(reference), Some(reference)).map_err(|e| match e {
            Error::NotFound { .. } => Error::ingest_not_found(reference),
            other => other,
        })
    }

    fn list_statuses(&self, filters: &[&str]) -> Result<Vec<Status>> {
        let filters = Filters::parse_all(filters)?;
        let root = self.root.join(INGEST);
        let entries = match fs::read_dir(&root) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read directory", &root, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read directory", &root, e))?;
            // Ingests being created or removed right now, or damaged ones, are skipped.
            let Ok(status) = ingest::read_status(&entry.path(), None) else {
                continue;
            };
            if filters.matches(&status) {
                out.push(status);
            }
        }
        Ok(out)
    }

    fn abort(&self, reference: &str) -> Result<()> {
        if reference.is_empty() {
            return Err(Error::invalid("ref", crate::InvalidArgumentKind::EmptyRef));
        }
        let dir = self.ingest_path(reference);
        if !dir.is_dir() {
            return Err(Error::ingest_not_found(reference));
        }
        // Holding the lock while removing keeps a live writer's data from vanishing under it.
        let lock = ingest::lock_existing(&dir, reference)?;
        fsutil::remove_tree(&dir)?;
        drop(lock);
        Ok(())
    }
}
