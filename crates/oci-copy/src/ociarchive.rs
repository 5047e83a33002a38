//! `oci-archive:`: a tar of an OCI image layout, what `skopeo copy ... oci-archive:` and
//! `podman save --format oci-archive` write.
//!
//! Read in place: the tar's headers are indexed once (`oci_tarfile::Reader`) and each blob is
//! read from its entry, verified as it flows; nothing is extracted. A compressed tar (or
//! standard input) is first decompressed into an anonymous temporary file.
//!
//! Written through a temporary OCI layout beside the destination, then tarred into a
//! temporary file beside it in one pass and renamed over it: a tar header needs its blob's
//! size and `index.json` is known last, so the layout is built first (the blobs are written
//! once to the layout and once to the tar).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oci_layout::Layout;
use oci_partial::{BlobReader, ImageIndex};
use oci_tarfile::Reader;
use oci_types::limits::MAX_MANIFEST_SIZE;
use oci_types::{Descriptor, Digest};

use crate::blobs::{self, Blobs};
use crate::error::{Error, Result};
use crate::name::ImageName;
use crate::sink::{temp_beside, TempGuard};
use crate::source::{Content, Source};

/// The blobs of an OCI layout inside a tar.
struct TarBlobs {
    reader: Reader,
}

impl Blobs for TarBlobs {
    fn open(&self, digest: &Digest) -> std::io::Result<BlobReader> {
        let path = format!("blobs/{}/{}", digest.algorithm().as_str(), digest.encoded());
        self.reader
            .open(&path)
            .map(|r| Box::new(r) as BlobReader)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::NotFound, e))
    }
}

/// The archive's `index.json` as an index, and its blobs.
pub(crate) fn top_index(path: &Path) -> Result<Arc<dyn ImageIndex>> {
    let at = |source| Error::Archive {
        path: path.to_owned(),
        source: Box::new(source),
    };
    let reader = if path == Path::new("-") {
        Reader::tar_from_stream(std::io::stdin())
    } else {
        Reader::tar_from_file(path)
    }
    .map_err(at)?;
    let bytes = reader
        .read_file("index.json", MAX_MANIFEST_SIZE, "index.json")
        .map_err(at)?;
    let blobs: Arc<dyn Blobs> = Arc::new(TarBlobs { reader });
    blobs::index_from_bytes(blobs, None, bytes).map_err(|source| Error::Image {
        name: format!("oci-archive:{}", path.display()),
        source: Box::new(source),
    })
}

/// The image or index `reference` names in the archive, or its only entry.
pub(crate) fn open(name: &ImageName, path: &Path, reference: Option<&str>) -> Result<Source> {
    let label = name.to_string();
    let index = top_index(path)?;
    let at = |source| Error::Image {
        name: label.clone(),
        source: Box::new(source),
    };
    let entries = index.index_manifest().map_err(at)?.manifests;
    let desc = match reference {
        Some(r) => entries
            .iter()
            .find(|d| d.ref_name() == Some(r))
            .cloned()
            .ok_or_else(|| Error::Empty {
                name: label.clone(),
            })?,
        None => match entries.as_slice() {
            [one] => one.clone(),
            [] => return Err(Error::Empty { name: label }),
            several => {
                return Err(Error::Ambiguous {
                    name: label,
                    count: several.len(),
                    hint: "oci-archive:PATH:REF",
                })
            }
        },
    };
    let tags = desc.ref_name().map(str::to_owned).into_iter().collect();
    let content = if desc.media_type.is_index() {
        Content::Index(index.image_index(&desc.digest).map_err(at)?)
    } else {
        Content::Image(index.image(&desc.digest).map_err(at)?)
    };
    Ok(Source { content, tags })
}

/// Writes a layout with `write` and tars it at `path`, atomically.
pub(crate) fn write(
    path: &Path,
    write: impl FnOnce(&Layout) -> oci_layout::Result<Descriptor>,
) -> Result<Descriptor> {
    if path.is_dir() {
        return Err(Error::Io {
            op: "writing the archive",
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        });
    }
    crate::cleanup::remove_stale_beside(path);
    let dir = TempGuard::new(temp_beside(path, "layout")?);
    let layout = Layout::create(dir.path()).map_err(|source| Error::Layout {
        path: path.to_owned(),
        source: Box::new(source),
    })?;
    let desc = write(&layout).map_err(|source| Error::Layout {
        path: path.to_owned(),
        source: Box::new(source),
    })?;
    drop(layout);
    let tmp = TempGuard::new(temp_beside(path, "archive")?);
    tar_layout(dir.path(), tmp.path()).map_err(|source| Error::Io {
        op: "writing the archive",
        path: path.to_owned(),
        source,
    })?;
    oci_types::fs::rename(tmp.path(), path).map_err(|e| Error::Io {
        op: "renaming the finished archive to",
        path: path.to_owned(),
        source: e.source,
    })?;
    tmp.keep();
    Ok(desc)
}

/// Tars the layout at `dir` into `out`: `oci-layout`, `index.json`, `blobs/` (the store's
/// own `ingest/`, `labels/` and lock files stay out), sorted, owners 0:0, mtimes 0.
fn tar_layout(dir: &Path, out: &Path) -> std::io::Result<()> {
    let file = File::create(out)?;
    let mut tar = tar::Builder::new(BufWriter::with_capacity(1 << 20, file));
    tar.mode(tar::HeaderMode::Deterministic);
    let mut paths: Vec<(String, PathBuf)> = vec![
        ("oci-layout".to_owned(), dir.join("oci-layout")),
        ("index.json".to_owned(), dir.join("index.json")),
    ];
    let mut dirs = vec!["blobs/".to_owned()];
    let mut algs: Vec<_> = std::fs::read_dir(dir.join("blobs"))?
        .collect::<std::io::Result<Vec<_>>>()?
        .into_iter()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    algs.sort();
    for alg in algs {
        dirs.push(format!("blobs/{alg}/"));
        let mut hexes: Vec<_> = std::fs::read_dir(dir.join("blobs").join(&alg))?
            .collect::<std::io::Result<Vec<_>>>()?
            .into_iter()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        hexes.sort();
        for hex in hexes {
            paths.push((
                format!("blobs/{alg}/{hex}"),
                dir.join("blobs").join(&alg).join(&hex),
            ));
        }
    }
    // Directories first, as skopeo writes them, then the files in order.
    for d in &dirs {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        h.set_mtime(0);
        tar.append_data(&mut h, d, std::io::empty())?;
    }
    for (name, p) in paths {
        let mut f = File::open(&p)?;
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(f.metadata()?.len());
        h.set_mtime(0);
        tar.append_data(&mut h, &name, &mut f)?;
    }
    let mut w = tar.into_inner()?;
    w.flush()?;
    w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}
