//! `dir:`: containers/image's directory transport, byte-compatible with skopeo's: a `version`
//! file (`Directory Transport Version: 1.1`), `manifest.json` (the image's manifest, or an
//! index), each blob in a file named by the hex of its digest, and the manifests of an
//! index's images as `HEX.manifest.json`.
//!
//! Written into a temporary directory beside the destination and renamed into place; an
//! existing destination (which must be a `dir:` copy, with its `version` file, or empty) is
//! exchanged with it in one `renameat2(RENAME_EXCHANGE)` and removed only then.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oci_partial::{BlobReader, Child, Image, ImageIndex};
use oci_types::limits::MAX_MANIFEST_SIZE;
use oci_types::{Descriptor, Digest, MediaType};

use crate::blobs::{self, Blobs};
use crate::error::{Error, Result};
use crate::sink::{temp_beside, TempGuard};
use crate::source::{Content, Source};

/// The `version` file's content.
const VERSION: &[u8] = b"Directory Transport Version: 1.1\n";

struct DirBlobs {
    dir: PathBuf,
}

impl Blobs for DirBlobs {
    fn open(&self, digest: &Digest) -> io::Result<BlobReader> {
        Ok(Box::new(File::open(self.dir.join(digest.encoded()))?))
    }
    fn open_manifest(&self, digest: &Digest) -> io::Result<BlobReader> {
        Ok(Box::new(File::open(
            self.dir.join(format!("{}.manifest.json", digest.encoded())),
        )?))
    }
}

/// The media type of a manifest without a descriptor: its `mediaType` field, else an index
/// when it lists `manifests`, else a Docker or OCI manifest by its config's media type.
fn guess_media_type(bytes: &[u8]) -> MediaType {
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    if let Some(mt) = v.get("mediaType").and_then(|m| m.as_str()) {
        let Ok(mt) = mt.parse::<MediaType>();
        return mt;
    }
    if v.get("manifests").is_some() {
        return MediaType::OciIndex;
    }
    match v
        .get("config")
        .and_then(|c| c.get("mediaType"))
        .and_then(|m| m.as_str())
    {
        Some("application/vnd.docker.container.image.v1+json") => MediaType::DockerManifest,
        _ => MediaType::OciManifest,
    }
}

/// Opens the image (or index) of a `dir:` directory.
pub(crate) fn open(path: &Path) -> Result<Source> {
    let label = format!("dir:{}", path.display());
    let io_at = |op: &'static str, p: PathBuf| {
        move |source| Error::Io {
            op,
            path: p,
            source,
        }
    };
    let manifest_path = path.join("manifest.json");
    let file = File::open(&manifest_path).map_err(io_at("opening", manifest_path.clone()))?;
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(io_at("reading", manifest_path.clone()))?;
    if bytes.len() as u64 > MAX_MANIFEST_SIZE {
        return Err(Error::Document {
            name: label,
            source: Box::new(oci_types::Error::TooLarge {
                what: "manifest.json",
                size: bytes.len() as u64,
                limit: MAX_MANIFEST_SIZE,
            }),
        });
    }
    let media_type = guess_media_type(&bytes);
    let blobs: Arc<dyn Blobs> = Arc::new(DirBlobs {
        dir: path.to_owned(),
    });
    let at = |source| Error::Image {
        name: label.clone(),
        source: Box::new(source),
    };
    let content = if media_type.is_index() {
        Content::Index(blobs::index_from_bytes(blobs, Some(media_type), bytes).map_err(at)?)
    } else {
        let desc = Descriptor::new(media_type, Digest::sha256(&bytes), bytes.len() as u64);
        Content::Image(blobs::image_from_bytes(blobs, desc, bytes).map_err(at)?)
    };
    Ok(Source {
        content,
        tags: Vec::new(),
    })
}

/// Writes an image; returns its manifest's digest.
pub(crate) fn write_image(path: &Path, image: &dyn Image) -> Result<Digest> {
    replace(path, |tmp| {
        let mut seen = HashSet::new();
        let raw = write_image_blobs(tmp, image, &mut seen)?;
        write_file(&tmp.join("manifest.json"), &raw)?;
        Ok(Digest::sha256(&raw))
    })
}

/// Writes an index, each of its images' manifests as `HEX.manifest.json`; returns the
/// index's digest.
pub(crate) fn write_index(path: &Path, index: &dyn ImageIndex) -> Result<Digest> {
    replace(path, |tmp| {
        let mut seen = HashSet::new();
        let raw = write_index_children(tmp, index, &mut seen, 0)?;
        write_file(&tmp.join("manifest.json"), &raw)?;
        Ok(Digest::sha256(&raw))
    })
}

fn write_index_children(
    dir: &Path,
    index: &dyn ImageIndex,
    seen: &mut HashSet<Digest>,
    depth: usize,
) -> Result<Vec<u8>> {
    if depth > 8 {
        return Err(Error::TooDeep {
            name: format!("dir:{}", dir.display()),
            depth: 8,
        });
    }
    let at = |source| partial_error(dir, source);
    for child in index.manifests().map_err(at)? {
        let (digest, raw) = match child {
            Child::Image(image) => {
                let raw = write_image_blobs(dir, image.as_ref(), seen)?;
                (Digest::sha256(&raw), raw)
            }
            Child::Index(inner) => {
                let raw = write_index_children(dir, inner.as_ref(), seen, depth + 1)?;
                (Digest::sha256(&raw), raw)
            }
            _ => continue,
        };
        write_file(
            &dir.join(format!("{}.manifest.json", digest.encoded())),
            &raw,
        )?;
    }
    index.raw_manifest().map_err(at)
}

fn partial_error(dir: &Path, source: oci_partial::Error) -> Error {
    Error::Image {
        name: format!("dir:{}", dir.display()),
        source: Box::new(source),
    }
}

/// Writes an image's layers and config (each once), returns its manifest bytes (known once
/// its layers have streamed).
fn write_image_blobs(dir: &Path, image: &dyn Image, seen: &mut HashSet<Digest>) -> Result<Vec<u8>> {
    let at = |source| partial_error(dir, source);
    for layer in image.layers().map_err(at)? {
        // A layer whose digest is known and already written is not read again.
        if let Ok(d) = layer.digest() {
            if seen.contains(&d) {
                continue;
            }
        }
        let mut hashing = layer.compressed_hashing().map_err(at)?;
        let tmp = dir.join(".blob.tmp");
        copy_to_file(&mut hashing, &tmp)?;
        let digest = hashing.digest();
        rename(&tmp, &dir.join(digest.encoded()))?;
        seen.insert(digest);
    }
    let config = image.raw_config_file().map_err(at)?;
    let config_digest = image.config_name().map_err(at)?;
    if seen.insert(config_digest.clone()) {
        write_file(&dir.join(config_digest.encoded()), &config)?;
    }
    image.raw_manifest().map_err(at)
}

fn copy_to_file(r: &mut impl Read, path: &Path) -> Result<()> {
    let io_err = |source| Error::Io {
        op: "writing",
        path: path.to_owned(),
        source,
    };
    let file = File::create(path).map_err(io_err)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    io::copy(r, &mut w).map_err(|e| match oci_types::Error::from_io(e) {
        oci_types::Error::Io(source) => io_err(source),
        other => Error::Document {
            name: path.display().to_string(),
            source: Box::new(other),
        },
    })?;
    w.flush().map_err(io_err)?;
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(path, bytes).map_err(|source| Error::Io {
        op: "writing",
        path: path.to_owned(),
        source,
    })
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(|source| Error::Io {
        op: "renaming to",
        path: to.to_owned(),
        source,
    })
}

/// Builds a new `dir:` in a temporary directory beside `path` with `fill`, then puts it in
/// place of `path` (an existing one, a `dir:` copy or empty, is removed only then).
fn replace(path: &Path, fill: impl FnOnce(&Path) -> Result<Digest>) -> Result<Digest> {
    if path.exists() {
        let empty = fs::read_dir(path)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty && !path.join("version").is_file() {
            return Err(Error::Io {
                op: "writing dir:",
                path: path.to_owned(),
                source: io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "a non-empty directory that is no dir: copy (it has no version file)",
                ),
            });
        }
    }
    crate::cleanup::remove_stale_beside(path);
    let tmp = TempGuard::new(temp_beside(path, "dir")?);
    fs::create_dir(tmp.path()).map_err(|source| Error::Io {
        op: "creating",
        path: tmp.path().to_owned(),
        source,
    })?;
    write_file(&tmp.path().join("version"), VERSION)?;
    let digest = fill(tmp.path())?;
    if path.exists() {
        // One atomic exchange: at no moment is `path` missing, so a process killed here
        // leaves the old copy or the new one in place (and the other in the temporary
        // directory, which the next write removes). A filesystem without RENAME_EXCHANGE
        // gets two renames, with a moment between them where `path` is absent.
        match rustix::fs::renameat_with(
            rustix::fs::CWD,
            tmp.path(),
            rustix::fs::CWD,
            path,
            rustix::fs::RenameFlags::EXCHANGE,
        ) {
            // `tmp` now holds the old copy: its guard removes it.
            Ok(()) => return Ok(digest),
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {}
            Err(e) => {
                return Err(Error::Io {
                    op: "exchanging with",
                    path: path.to_owned(),
                    source: e.into(),
                })
            }
        }
        let old = TempGuard::new(temp_beside(path, "old")?);
        rename(path, old.path())?;
        if let Err(e) = rename(tmp.path(), path) {
            let _ = fs::rename(old.path(), path);
            old.keep();
            return Err(e);
        }
        drop(old);
    } else {
        rename(tmp.path(), path)?;
    }
    tmp.keep();
    Ok(digest)
}
