//! Garbage collection: removing the blobs that nothing in `index.json` reaches.

use std::collections::BTreeSet;

use oci_content::{IngestManager, Manager};

use oci_types::limits::MAX_MANIFEST_SIZE;
use oci_types::{Descriptor, Digest, Index, Manifest};

use crate::{files, Error, Layout, Result};

/// What [`Layout::gc`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GcReport {
    /// The blobs removed, with their sizes, in digest order.
    pub removed: Vec<(Digest, u64)>,
    /// How many blobs were kept.
    pub kept: usize,
    /// The refs of the unfinished ingests removed (writes that were interrupted).
    pub ingests: Vec<String>,
    /// The damaged ingest directories removed, by name (see
    /// [`oci_content::LocalStore::remove_damaged_ingests`]).
    pub damaged_ingests: Vec<String>,
}

impl GcReport {
    /// The bytes freed by the removed blobs.
    pub fn bytes(&self) -> u64 {
        self.removed.iter().map(|(_, n)| n).sum()
    }
}

impl Layout {
    /// Removes every blob that nothing in `index.json` reaches, and the store's abandoned
    /// ingests; returns what was removed.
    ///
    /// Reachable are the entries of `index.json` and, recursively, the entries of the indexes
    /// among them, the configs, layers and subjects of manifests, and the subjects of
    /// indexes. Entries whose media type is unknown are read as manifests or indexes when
    /// they parse as one (so artifacts of any kind keep what they point at).
    ///
    /// Runs with writers excluded (it waits for the writes under way, and writes wait for it):
    /// the blobs of an image being written are never removed. A manifest or index in the
    /// layout that cannot be parsed stops the collection with an error before anything is
    /// removed; a blob that is referenced but missing is ignored.
    pub fn gc(&self) -> Result<GcReport> {
        let locks = self.gc_locks()?;
        let keep = self.reachable(files::read_index(self.root())?.value())?;

        let mut report = GcReport::default();
        let mut doomed = Vec::new();
        self.store()
            .walk(&[], &mut |info| {
                if keep.contains(&info.digest) {
                    report.kept += 1;
                } else {
                    doomed.push((info.digest, info.size));
                }
                Ok(())
            })
            .map_err(|e| self.content_error(e))?;
        doomed.sort();
        for (digest, size) in doomed {
            match self.store().delete(&digest) {
                Ok(()) => report.removed.push((digest, size)),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(self.content_error(e)),
            }
        }

        // With writers excluded, an ingest is abandoned unless a writer of another program
        // holds it (then the store refuses to abort it).
        let statuses = self
            .store()
            .list_statuses(&[])
            .map_err(|e| self.content_error(e))?;
        for s in statuses {
            if self.abort(&s.reference) {
                report.ingests.push(s.reference);
            }
        }
        report.ingests.sort();
        report.damaged_ingests = self
            .store()
            .remove_damaged_ingests()
            .map_err(|e| self.content_error(e))?;
        self.remove_empty_ingest_dir();
        drop(locks);
        Ok(report)
    }

    /// The digests reachable from `index`.
    fn reachable(&self, index: &Index) -> Result<BTreeSet<Digest>> {
        let mut keep = BTreeSet::new();
        let mut todo: Vec<Descriptor> = index.manifests.clone();
        todo.extend(index.subject.clone());
        while let Some(desc) = todo.pop() {
            if !keep.insert(desc.digest.clone()) {
                continue;
            }
            let mt = &desc.media_type;
            let known = mt.is_index() || mt.is_image_manifest();
            let maybe =
                !known && !mt.is_layer() && !mt.is_config() && desc.size <= MAX_MANIFEST_SIZE;
            if !(known || maybe) || !self.has_blob(&desc.digest)? {
                continue;
            }
            let bytes = match self.read_small(&desc, MAX_MANIFEST_SIZE) {
                Ok(b) => b,
                Err(_) if maybe => continue,
                Err(e) => return Err(e),
            };
            let bad = |source| Error::blob(&desc.digest, source);
            if mt.is_index() {
                let i = Index::from_slice(&bytes).map_err(bad)?;
                todo.extend(i.manifests);
                todo.extend(i.subject);
            } else if mt.is_image_manifest() {
                let m = Manifest::from_slice(&bytes).map_err(bad)?;
                push_manifest(&mut todo, m);
            } else if let Ok(m) = Manifest::from_slice(&bytes) {
                push_manifest(&mut todo, m);
            } else if let Ok(i) = Index::from_slice(&bytes) {
                todo.extend(i.manifests);
                todo.extend(i.subject);
            }
        }
        Ok(keep)
    }
}

fn push_manifest(todo: &mut Vec<Descriptor>, m: Manifest) {
    todo.push(m.config);
    todo.extend(m.layers);
    todo.extend(m.subject);
}
