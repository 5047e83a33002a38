//! Labels of the local store, kept beside the blobs in `labels/ALG/HEX` (one small JSON file
//! per labelled blob: `{"labels":{...},"updatedAt":"RFC 3339"}`), since containerd keeps its
//! labels in a database this store does not have. Changes are serialised across processes by
//! a lock on `labels/.lock` and land by atomic rename.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use oci_types::Digest;
use serde::{Deserialize, Serialize};

use super::fsutil::{read_small, write_atomic};
use crate::{timefmt, Error, Labels, Result};

/// The name of the labels directory under the store's root.
pub(super) const LABELS_DIR: &str = "labels";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordFile {
    labels: Labels,
    updated_at: String,
}

/// The labels of one blob and when they last changed.
#[derive(Debug, Clone)]
pub(super) struct Record {
    pub(super) labels: Labels,
    pub(super) updated_at: SystemTime,
}

#[derive(Debug)]
pub(super) struct LabelStore {
    dir: PathBuf,
}

/// Holds `labels/.lock` until dropped.
struct Guard {
    _file: File,
}

impl LabelStore {
    pub(super) fn new(root: &Path) -> LabelStore {
        LabelStore {
            dir: root.join(LABELS_DIR),
        }
    }

    fn path(&self, digest: &Digest) -> PathBuf {
        self.dir
            .join(digest.algorithm().as_str())
            .join(digest.encoded())
    }

    fn lock(&self) -> Result<Guard> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io("create", &self.dir, e))?;
        let path = self.dir.join(".lock");
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        f.lock().map_err(|e| Error::io("lock", &path, e))?;
        Ok(Guard { _file: f })
    }

    /// The record of `digest`, if it has one.
    pub(super) fn get(&self, digest: &Digest) -> Result<Option<Record>> {
        let path = self.path(digest);
        let Some(text) = read_small(&path)? else {
            return Ok(None);
        };
        let bad = |why: String| {
            Error::io(
                "parse",
                &path,
                io::Error::new(io::ErrorKind::InvalidData, why),
            )
        };
        let file: RecordFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let updated_at = timefmt::parse(&file.updated_at)
            .ok_or_else(|| bad(format!("bad timestamp {:?}", file.updated_at)))?;
        Ok(Some(Record {
            labels: file.labels,
            updated_at,
        }))
    }

    /// Replaces the labels of `digest` with what `change` makes of the current ones, at
    /// `now`; returns the new labels.
    pub(super) fn modify(
        &self,
        digest: &Digest,
        now: SystemTime,
        change: impl FnOnce(&Labels) -> Result<Labels>,
    ) -> Result<Labels> {
        let _guard = self.lock()?;
        let current = self.get(digest)?.map(|r| r.labels).unwrap_or_default();
        let labels = change(&current)?;
        let path = self.path(digest);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        }
        let file = RecordFile {
            labels,
            updated_at: timefmt::format(now),
        };
        let json = serde_json::to_vec(&file)
            .map_err(|e| Error::io("encode", &path, io::Error::other(e)))?;
        write_atomic(&path, &json)?;
        Ok(file.labels)
    }

    /// Forgets the labels of `digest`.
    pub(super) fn remove(&self, digest: &Digest) -> Result<()> {
        let path = self.path(digest);
        if !path.exists() {
            return Ok(());
        }
        let _guard = self.lock()?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &path, e)),
        }
    }
}
