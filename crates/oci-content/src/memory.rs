//! An in-memory store with the same behaviour as the local one, for tests and caches.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use oci_types::{Algorithm, Descriptor, Digest, Digester};

use crate::filters::Filters;
use crate::reader::{embedded_reader, BytesReaderAt};
use crate::InvalidArgumentKind;
use crate::{
    CommitOpts, Error, Info, IngestManager, Ingester, Labels, Manager, Precondition, Provider,
    ReaderAt, Result, Status, Subject, Writer, WriterOpts,
};

#[derive(Debug)]
struct Blob {
    data: Arc<[u8]>,
    created_at: SystemTime,
    updated_at: SystemTime,
    labels: Labels,
}

#[derive(Debug)]
struct Ingest {
    data: Vec<u8>,
    started_at: SystemTime,
    updated_at: SystemTime,
    total: Option<u64>,
    expected: Option<Digest>,
    locked: bool,
}

#[derive(Debug, Default)]
struct State {
    blobs: HashMap<Digest, Blob>,
    ingests: HashMap<String, Ingest>,
}

/// A content store in memory. Cloning is cheap; clones share the content.
///
/// ```
/// use oci_content::{read_blob, write_blob, CommitOpts, MemoryStore};
/// use oci_types::{Descriptor, MediaType};
/// let store = MemoryStore::new();
/// let desc = Descriptor::of_bytes(MediaType::OciConfig, b"{}");
/// write_blob(&store, "config", &b"{}"[..], &desc, CommitOpts::new()).unwrap();
/// assert_eq!(read_blob(&store, &desc, 1024).unwrap(), b"{}");
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock leaves plain data behind; keep using it.
    state.lock().unwrap_or_else(|p| p.into_inner())
}

fn digester(algorithm: &Algorithm, bytes: &[u8]) -> Result<Digester> {
    let mut d = Digester::new(algorithm)
        .map_err(|e| Error::invalid("digest", InvalidArgumentKind::Types(Box::new(e))))?;
    d.update(bytes);
    Ok(d)
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn info_of(digest: &Digest, blob: &Blob) -> Info {
        Info {
            digest: digest.clone(),
            size: blob.data.len() as u64,
            created_at: blob.created_at,
            updated_at: blob.updated_at,
            labels: blob.labels.clone(),
        }
    }

    fn status_of(reference: &str, ingest: &Ingest) -> Status {
        Status {
            reference: reference.to_owned(),
            offset: ingest.data.len() as u64,
            total: ingest.total,
            expected: ingest.expected.clone(),
            started_at: ingest.started_at,
            updated_at: ingest.updated_at,
        }
    }
}

impl Provider for MemoryStore {
    fn reader_at(&self, desc: &Descriptor) -> Result<Box<dyn ReaderAt>> {
        if let Some(r) = embedded_reader(desc)? {
            return Ok(r);
        }
        let state = lock(&self.state);
        let blob = state
            .blobs
            .get(&desc.digest)
            .ok_or_else(|| Error::blob_not_found(&desc.digest))?;
        Ok(Box::new(BytesReaderAt::new(blob.data.clone())))
    }
}

impl Ingester for MemoryStore {
    fn writer(&self, opts: WriterOpts) -> Result<Box<dyn Writer>> {
        opts.check()?;
        let expected = opts.desc.as_ref().map(|d| d.digest.clone());
        let total = opts.total();
        let mut state = lock(&self.state);
        let mut algorithm = Algorithm::Sha256;
        if let Some(d) = &expected {
            if state.blobs.contains_key(d) {
                return Err(Error::blob_exists(d));
            }
            if d.digester().is_ok() {
                algorithm = d.algorithm().clone();
            }
        }
        let now = SystemTime::now();
        // Room for the promised size up front, within reason (a descriptor may lie).
        let room = total.map_or(0, |t| t.min(16 << 20) as usize);
        let fresh = || Ingest {
            data: Vec::with_capacity(room),
            started_at: now,
            updated_at: now,
            total,
            expected: expected.clone(),
            locked: false,
        };
        let ingest = state
            .ingests
            .entry(opts.reference.clone())
            .or_insert_with(fresh);
        if ingest.locked {
            return Err(Error::locked(&opts.reference));
        }
        if let (Some(want), Some(have)) = (total, ingest.total) {
            if want != have {
                // Another blob than the one this ingest was for: start over.
                ingest.data.clear();
                ingest.started_at = now;
                ingest.updated_at = now;
                ingest.total = Some(want);
            }
        }
        ingest.total = ingest.total.or(total);
        ingest.expected = expected.clone().or(ingest.expected.take());
        ingest.locked = true;
        let digester = digester(&algorithm, &ingest.data)?;
        let status = MemoryStore::status_of(&opts.reference, ingest);
        Ok(Box::new(MemoryWriter {
            store: self.clone(),
            status,
            algorithm,
            digester,
            open: true,
        }))
    }
}

impl Manager for MemoryStore {
    fn info(&self, digest: &Digest) -> Result<Info> {
        let state = lock(&self.state);
        let blob = state
            .blobs
            .get(digest)
            .ok_or_else(|| Error::blob_not_found(digest))?;
        Ok(MemoryStore::info_of(digest, blob))
    }

    fn update(&self, info: &Info, fieldpaths: &[&str]) -> Result<Info> {
        let mut state = lock(&self.state);
        let blob = state
            .blobs
            .get_mut(&info.digest)
            .ok_or_else(|| Error::blob_not_found(&info.digest))?;
        blob.labels = crate::info::apply_update(&blob.labels, info, fieldpaths)?;
        blob.updated_at = SystemTime::now();
        Ok(MemoryStore::info_of(&info.digest, blob))
    }

    fn walk(&self, filters: &[&str], f: &mut dyn FnMut(Info) -> Result<()>) -> Result<()> {
        let filters = Filters::parse_all(filters)?;
        let infos: Vec<Info> = {
            let state = lock(&self.state);
            state
                .blobs
                .iter()
                .map(|(d, b)| MemoryStore::info_of(d, b))
                .collect()
        };
        for info in infos.into_iter().filter(|i| filters.matches(i)) {
            f(info)?;
        }
        Ok(())
    }

    fn delete(&self, digest: &Digest) -> Result<()> {
        let mut state = lock(&self.state);
        state
            .blobs
            .remove(digest)
            .map(|_| ())
            .ok_or_else(|| Error::blob_not_found(digest))
    }
}

impl IngestManager for MemoryStore {
    fn status(&self, reference: &str) -> Result<Status> {
        let state = lock(&self.state);
        let ingest = state
            .ingests
            .get(reference)
            .ok_or_else(|| Error::ingest_not_found(reference))?;
        Ok(MemoryStore::status_of(reference, ingest))
    }

    fn list_statuses(&self, filters: &[&str]) -> Result<Vec<Status>> {
        let filters = Filters::parse_all(filters)?;
        let state = lock(&self.state);
        Ok(state
            .ingests
            .iter()
            .map(|(r, i)| MemoryStore::status_of(r, i))
            .filter(|s| filters.matches(s))
            .collect())
    }

    fn abort(&self, reference: &str) -> Result<()> {
        let mut state = lock(&self.state);
        match state.ingests.get(reference) {
            None => Err(Error::ingest_not_found(reference)),
            Some(i) if i.locked => Err(Error::locked(reference)),
            Some(_) => {
                state.ingests.remove(reference);
                Ok(())
            }
        }
    }
}

/// A writer of [`MemoryStore`]; see [`Writer`].
#[derive(Debug)]
pub struct MemoryWriter {
    store: MemoryStore,
    /// The ingest as this writer last saw it (`offset` kept current).
    status: Status,
    algorithm: Algorithm,
    digester: Digester,
    open: bool,
}

impl MemoryWriter {
    fn closed(&self) -> Error {
        Error::closed(&self.status.reference)
    }

    fn release(&mut self, state: &mut State) {
        if let Some(i) = state.ingests.get_mut(&self.status.reference) {
            i.locked = false;
        }
        self.open = false;
    }

    fn commit_locked(
        &mut self,
        state: &mut State,
        size: Option<u64>,
        expected: Option<&Digest>,
        opts: CommitOpts,
    ) -> Result<()> {
        let reference = self.status.reference.clone();
        if let Some(labels) = &opts.labels {
            crate::info::validate_labels(labels)?;
        }
        let ingest = state
            .ingests
            .get(&reference)
            .ok_or_else(|| Error::ingest_not_found(&reference))?;
        let actual = ingest.data.len() as u64;
        let mismatch = |reason| Error::FailedPrecondition {
            subject: Subject::Ingest(reference.clone()),
            reason: Box::new(reason),
        };
        if let Some(size) = size {
            if size != actual {
                return Err(mismatch(Precondition::SizeMismatch {
                    expected: size,
                    actual,
                }));
            }
        }
        if let Some(expected) = expected {
            if expected.algorithm() != &self.algorithm {
                if let Ok(d) = digester(expected.algorithm(), &ingest.data) {
                    self.algorithm = expected.algorithm().clone();
                    self.digester = d;
                }
            }
        }
        let digest = self.digester.current();
        if let Some(expected) = expected {
            if expected != &digest {
                let reason = Precondition::DigestMismatch {
                    expected: expected.clone(),
                    actual: digest,
                };
                return Err(mismatch(reason));
            }
        }
        let ingest = state
            .ingests
            .remove(&reference)
            .ok_or_else(|| Error::ingest_not_found(&reference))?;
        if state.blobs.contains_key(&digest) {
            return Err(Error::blob_exists(&digest));
        }
        let now = SystemTime::now();
        let blob = Blob {
            data: ingest.data.into(),
            created_at: now,
            updated_at: now,
            labels: opts.labels.unwrap_or_default(),
        };
        state.blobs.insert(digest, blob);
        Ok(())
    }
}

impl Write for MemoryWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.open {
            return Err(self.closed().into_io());
        }
        let mut state = lock(&self.store.state);
        let Some(ingest) = state.ingests.get_mut(&self.status.reference) else {
            return Err(Error::ingest_not_found(&self.status.reference).into_io());
        };
        ingest.data.extend_from_slice(buf);
        ingest.updated_at = SystemTime::now();
        self.status.offset = ingest.data.len() as u64;
        self.status.updated_at = ingest.updated_at;
        self.digester.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Writer for MemoryWriter {
    fn digest(&self) -> Digest {
        self.digester.current()
    }

    fn status(&self) -> Result<Status> {
        Ok(self.status.clone())
    }

    fn commit(
        &mut self,
        size: Option<u64>,
        expected: Option<&Digest>,
        opts: CommitOpts,
    ) -> Result<()> {
        if !self.open {
            return Err(self.closed());
        }
        let store = self.store.clone();
        let mut state = lock(&store.state);
        let result = self.commit_locked(&mut state, size, expected, opts);
        self.release(&mut state);
        result
    }

    fn truncate(&mut self, size: u64) -> Result<()> {
        if !self.open {
            return Err(self.closed());
        }
        let store = self.store.clone();
        let mut state = lock(&store.state);
        let reference = &self.status.reference;
        let ingest = state
            .ingests
            .get_mut(reference)
            .ok_or_else(|| Error::ingest_not_found(reference))?;
        let len = ingest.data.len() as u64;
        if size > len {
            return Err(Error::invalid(
                "size",
                InvalidArgumentKind::TruncatePastEnd {
                    reference: reference.to_owned(),
                    size,
                    len,
                },
            ));
        }
        ingest
            .data
            .truncate(usize::try_from(size).unwrap_or(usize::MAX));
        ingest.updated_at = SystemTime::now();
        self.digester = digester(&self.algorithm, &ingest.data)?;
        self.status.offset = size;
        self.status.updated_at = ingest.updated_at;
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        if self.open {
            let store = self.store.clone();
            let mut state = lock(&store.state);
            self.release(&mut state);
        }
        Ok(())
    }
}

impl Drop for MemoryWriter {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
