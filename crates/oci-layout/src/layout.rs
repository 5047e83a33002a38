//! [`Layout`]: opening and creating a layout, and the changes to its `index.json`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use oci_content::{LocalStore, Precondition, Subject};
use oci_partial::Matcher;
use oci_types::{Descriptor, Digest, Index, MediaType, Raw, ANNOTATION_REF_NAME};

use crate::files::{self, Mode, GC_LOCK, INDEX_LOCK};
use crate::{check_ref_name, Error, NotALayoutKind, Result};

/// How long [`Layout::tidy`] tries a taken writers' lock again.
const TIDY_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// An OCI image layout directory: `oci-layout`, `index.json` and `blobs/ALG/HEX`.
///
/// The blobs live in an [`oci_content::LocalStore`] whose root is the layout's root, so every
/// blob is written through a verified, crash-safe ingest (and the store may keep an `ingest/`
/// directory beside `blobs/` while writes are under way; it is removed again when empty).
///
/// Changes to `index.json` are atomic (a new file, fsynced, renamed over the old one, then the
/// directory fsynced) and serialised across threads and processes by a lock on
/// `index.json.lock`; each change re-reads `index.json` under that lock, so concurrent writers
/// never lose each other's entries. Writers also hold a shared lock on `gc.lock` while they
/// add blobs, which [`Layout::gc`] takes exclusively: garbage collection never removes the
/// blobs of an image that is still being written.
///
/// `Layout` is cheap to clone, `Send` and `Sync`.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
    store: LocalStore,
}

impl Layout {
    /// Creates a new, empty layout in `dir` (creating `dir` when needed); fails with
    /// [`Error::AlreadyALayout`] when `dir` holds a layout already.
    pub fn create(dir: impl AsRef<Path>) -> Result<Layout> {
        Self::init(dir.as_ref(), false)
    }

    /// Opens the layout in `dir`, creating an empty one when `dir` holds none.
    pub fn open_or_create(dir: impl AsRef<Path>) -> Result<Layout> {
        Self::init(dir.as_ref(), true)
    }

    /// Opens an existing layout: `dir` must have an `oci-layout` file of version 1.x
    /// ([`Error::NotALayout`], [`Error::UnsupportedVersion`] otherwise) and a valid
    /// `index.json`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Layout> {
        let root = dir.as_ref();
        match fs::metadata(root) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(Error::NotALayout {
                    path: root.to_owned(),
                    kind: NotALayoutKind::NotADirectory,
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::NotALayout {
                    path: root.to_owned(),
                    kind: NotALayoutKind::Missing,
                })
            }
            Err(e) => return Err(Error::io("stat", root, e)),
        }
        files::check_header(root)?;
        files::read_index(root)?;
        Self::at(root)
    }

    fn at(root: &Path) -> Result<Layout> {
        let store =
            LocalStore::open(root).map_err(|source| Error::content(root.to_owned(), source))?;
        Ok(Layout {
            root: root.to_owned(),
            store,
        })
    }

    fn init(root: &Path, existing_ok: bool) -> Result<Layout> {
        fs::create_dir_all(root).map_err(|e| Error::io("create", root, e))?;
        // Under the index lock, so that two processes creating the same layout do not
        // replace each other's first index.json.
        let _lock = files::lock(root, INDEX_LOCK, Mode::Exclusive)?;
        let has_header = root.join(files::OCI_LAYOUT).exists();
        if has_header || files::has_index(root) {
            if !existing_ok {
                return Err(Error::AlreadyALayout {
                    path: root.to_owned(),
                });
            }
            if has_header {
                files::check_header(root)?;
            }
        }
        let blobs = root.join("blobs").join("sha256");
        fs::create_dir_all(&blobs).map_err(|e| Error::io("create", &blobs, e))?;
        if !files::has_index(root) {
            files::write_index(root, Index::new(MediaType::OciIndex))?;
        } else {
            files::read_index(root)?;
        }
        if !has_header {
            // Last: a directory with an `oci-layout` file is a complete layout.
            files::write_header(root)?;
        }
        Self::at(root)
    }

    /// The layout's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The content store holding the layout's blobs (its root is the layout's root).
    pub fn store(&self) -> &LocalStore {
        &self.store
    }

    /// Where the blob `digest` lives (or would live): `ROOT/blobs/ALG/HEX`.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.store.blob_path(digest)
    }

    /// `index.json` as it is now, with its bytes.
    pub fn index(&self) -> Result<Raw<Index>> {
        files::read_index(&self.root)
    }

    /// Changes `index.json`: under the index lock, reads the current file, lets `change` edit
    /// it, and replaces the file when `change` returns true. Returns what `change` returned
    /// besides, and the index as it is afterwards.
    ///
    /// Every change of this crate goes through here; use it for edits the other methods do
    /// not offer. The lock serialises changes across threads and processes.
    pub fn update_index<T>(
        &self,
        change: impl FnOnce(&mut Index) -> Result<(bool, T)>,
    ) -> Result<(T, Raw<Index>)> {
        let _lock = files::lock(&self.root, INDEX_LOCK, Mode::Exclusive)?;
        let current = files::read_index(&self.root)?;
        let mut index = current.value().clone();
        let (changed, out) = change(&mut index)?;
        if !changed {
            return Ok((out, current));
        }
        let raw = files::write_index(&self.root, index)?;
        Ok((out, raw))
    }

    /// Adds `desc` to `index.json`, after the entries there (duplicates are kept, as
    /// go-containerregistry's `AppendDescriptor` does).
    pub fn append_descriptor(&self, desc: Descriptor) -> Result<()> {
        if let Some(name) = desc.ref_name() {
            check_ref_name(name)?;
        }
        self.update_index(|index| {
            index.manifests.push(desc);
            Ok((true, ()))
        })?;
        Ok(())
    }

    /// Removes every entry of `index.json` that `matcher` accepts and adds `desc` in place of
    /// the first one removed (at the end when none was). Returns the removed entries.
    ///
    /// To tag, replace the entries with the same ref name, as skopeo does:
    /// `replace_descriptor(desc, &Matcher::annotation(ANNOTATION_REF_NAME, name))`.
    pub fn replace_descriptor(
        &self,
        desc: Descriptor,
        matcher: &Matcher,
    ) -> Result<Vec<Descriptor>> {
        if let Some(name) = desc.ref_name() {
            check_ref_name(name)?;
        }
        let (removed, _) = self.update_index(|index| {
            let (removed, at) = remove_matching(index, matcher);
            let at = at.unwrap_or(index.manifests.len());
            index.manifests.insert(at, desc);
            Ok((true, removed))
        })?;
        Ok(removed)
    }

    /// Removes every entry of `index.json` that `matcher` accepts and returns them. Their
    /// blobs stay until [`Layout::gc`].
    pub fn remove_descriptor(&self, matcher: &Matcher) -> Result<Vec<Descriptor>> {
        let (removed, _) = self.update_index(|index| {
            let (removed, _) = remove_matching(index, matcher);
            Ok((!removed.is_empty(), removed))
        })?;
        Ok(removed)
    }

    /// Adds the manifest or index `desc` to `index.json` as a write of this crate does: with
    /// `ref_name`, replacing the entries with the same ref name; without, adding it unless an
    /// entry without ref name has the same digest already.
    pub(crate) fn record(&self, desc: Descriptor, ref_name: Option<&str>) -> Result<Descriptor> {
        let mut desc = desc;
        desc.annotations.remove(ANNOTATION_REF_NAME);
        match ref_name {
            Some(name) => {
                check_ref_name(name)?;
                let desc = desc.with_annotation(ANNOTATION_REF_NAME, name);
                self.replace_descriptor(
                    desc.clone(),
                    &Matcher::annotation(ANNOTATION_REF_NAME, name),
                )?;
                Ok(desc)
            }
            None => {
                let entry = desc.clone();
                self.update_index(|index| {
                    let present = index
                        .manifests
                        .iter()
                        .any(|d| d.digest == entry.digest && d.ref_name().is_none());
                    if !present {
                        index.manifests.push(entry);
                    }
                    Ok((!present, ()))
                })?;
                Ok(desc)
            }
        }
    }

    /// Takes the lock writers share (see the type's documentation).
    pub(crate) fn writer_lock(&self) -> Result<files::Lock> {
        files::lock(&self.root, GC_LOCK, Mode::Shared)
    }

    /// Takes the locks of garbage collection: writers' lock exclusively, then the index lock.
    pub(crate) fn gc_locks(&self) -> Result<(files::Lock, files::Lock)> {
        let gc = files::lock(&self.root, GC_LOCK, Mode::Exclusive)?;
        let index = files::lock(&self.root, INDEX_LOCK, Mode::Exclusive)?;
        Ok((gc, index))
    }

    /// Removes the store's `ingest/` directory when it is empty and no writer of this crate is
    /// at work (the writers' lock is free), so a layout looks like one written by other tools
    /// once writes are over. Best effort: nothing happens when the lock stays taken.
    ///
    /// A lock released a moment ago can still be held for a few milliseconds: a child process
    /// that another thread of this program is starting holds a copy of every open file
    /// description, the lock's included, from its fork until its exec closes it. So a taken
    /// lock is tried again for up to [`TIDY_WAIT`] before giving up.
    pub(crate) fn tidy(&self) {
        let deadline = std::time::Instant::now() + TIDY_WAIT;
        loop {
            match files::try_lock_exclusive(&self.root, GC_LOCK) {
                Ok(Some(_lock)) => return self.remove_empty_ingest_dir(),
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                _ => return,
            }
        }
    }

    /// Removes `ingest/` if it is empty. The caller holds the writers' lock exclusively: a
    /// store writer creating the directory at the same moment could fail otherwise.
    pub(crate) fn remove_empty_ingest_dir(&self) {
        let _ = fs::remove_dir(self.root.join("ingest"));
    }

    /// Wraps a content store error, turning digest and size mismatches of blobs into
    /// [`Error::Blob`].
    pub(crate) fn content_error(&self, e: oci_content::Error) -> Error {
        match e {
            oci_content::Error::FailedPrecondition {
                subject: Subject::Blob(digest),
                reason,
            } => {
                let source = match *reason {
                    Precondition::DigestMismatch { expected, actual } => {
                        oci_types::Error::DigestMismatch { expected, actual }
                    }
                    Precondition::SizeMismatch { expected, actual } => {
                        oci_types::Error::SizeMismatch {
                            expected_digest: digest.clone(),
                            expected,
                            actual,
                            truncated: false,
                        }
                    }
                    other => oci_types::Error::Invalid {
                        what: "blob",
                        kind: oci_types::InvalidKind::Refused(other.to_string()),
                    },
                };
                Error::blob(&digest, source)
            }
            oci_content::Error::NotFound {
                subject: Subject::Blob(digest),
            } => Error::NotFound {
                what: "blob",
                digest,
                path: self.root.clone(),
            },
            source => Error::content(self.root.clone(), source),
        }
    }
}

/// Removes the entries `matcher` accepts; returns them and the position of the first.
fn remove_matching(index: &mut Index, matcher: &Matcher) -> (Vec<Descriptor>, Option<usize>) {
    let mut removed = Vec::new();
    let mut first = None;
    let mut kept = Vec::with_capacity(index.manifests.len());
    for d in std::mem::take(&mut index.manifests) {
        if matcher.matches(&d) {
            first.get_or_insert(kept.len());
            removed.push(d);
        } else {
            kept.push(d);
        }
    }
    index.manifests = kept;
    (removed, first)
}
