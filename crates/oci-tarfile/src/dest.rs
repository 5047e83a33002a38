//! [`Destination`]: the blob-by-blob way of writing an image into a docker archive, in the
//! manner of containers/image's `ImageDestination`.

use std::io::Read;
use std::path::Path;

use oci_types::{Descriptor, Digest, Manifest, MediaType, Reference};

use crate::compression;
use crate::limits::MAX_CONFIG_SIZE;
use crate::tags::NameTag;
use crate::writer::{Core, Expect, FileOut, Stored};
use crate::{CountedImage, Error, InvalidManifestKind, Result, Writer, WriterOptions};

/// What is known about a blob before it is put: any of digest, size and media type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlobInfo {
    /// The digest the stream must have.
    pub digest: Option<Digest>,
    /// The size the stream must have.
    pub size: Option<u64>,
    /// The media type (a config type makes the blob the image config).
    pub media_type: Option<MediaType>,
}

impl BlobInfo {
    /// Nothing known.
    pub fn new() -> BlobInfo {
        BlobInfo::default()
    }

    /// Media type, digest and size of a descriptor.
    pub fn from_descriptor(d: &Descriptor) -> BlobInfo {
        BlobInfo {
            digest: Some(d.digest.clone()),
            size: Some(d.size),
            media_type: Some(d.media_type.clone()),
        }
    }

    /// The same info with `digest`.
    pub fn with_digest(mut self, digest: Digest) -> BlobInfo {
        self.digest = Some(digest);
        self
    }

    /// The same info with `size`.
    pub fn with_size(mut self, size: u64) -> BlobInfo {
        self.size = Some(size);
        self
    }

    /// The same info with `media_type`.
    pub fn with_media_type(mut self, media_type: MediaType) -> BlobInfo {
        self.media_type = Some(media_type);
        self
    }
}

/// A blob the archive holds: the digest and size of the stream it was put as.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Blob {
    /// The digest of the stream as put.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
}

enum Slot<'w> {
    Owned(Box<Writer>),
    Borrowed(&'w mut Writer),
}

impl Slot<'_> {
    fn get(&mut self) -> &mut Core<FileOut> {
        match self {
            Slot::Owned(w) => &mut w.core,
            Slot::Borrowed(w) => &mut w.core,
        }
    }
}

/// Puts one image into a docker archive blob by blob: `put_blob` for the config and each
/// layer, `put_manifest`, `add_repo_tags`, then `commit`.
///
/// A destination made by [`Destination::create`] owns its archive and its `commit` finishes
/// it; one made by [`Destination::for_writer`] adds its image to a [`Writer`] that may hold
/// several, and the writer's [`Writer::commit`] finishes the archive.
///
/// Blobs are verified as they flow: a digest or size mismatch, or a read error, fails
/// `put_blob` and leaves nothing of that blob in the archive. Layers arrive compressed or not
/// and are stored as the writer's [`WriterOptions`] say (uncompressed by default).
pub struct Destination<'w> {
    writer: Slot<'w>,
    tags: Vec<NameTag>,
    /// The manifest put: the config's sha256 and the stored layers.
    image: Option<(Digest, Vec<Stored>)>,
}

impl std::fmt::Debug for Destination<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Destination")
            .field("tags", &self.tags)
            .finish_non_exhaustive()
    }
}

impl Destination<'static> {
    /// A destination writing a new archive at `path` (refused when `path` is a non-empty file).
    pub fn create(path: impl AsRef<Path>) -> Result<Destination<'static>> {
        Destination::with_options(path, WriterOptions::default())
    }

    /// As [`Destination::create`], with writer options.
    pub fn with_options(
        path: impl AsRef<Path>,
        options: WriterOptions,
    ) -> Result<Destination<'static>> {
        let writer = Writer::with_options(path, options)?;
        Ok(Destination {
            writer: Slot::Owned(Box::new(writer)),
            tags: Vec::new(),
            image: None,
        })
    }
}

impl<'w> Destination<'w> {
    /// A destination adding one image to `writer`.
    pub fn for_writer(writer: &'w mut Writer) -> Destination<'w> {
        Destination {
            writer: Slot::Borrowed(writer),
            tags: Vec::new(),
            image: None,
        }
    }

    /// Stores a blob from `stream`. A blob whose media type is a config type (or, with no
    /// media type, whose first byte is `{`) is the image config, kept as is (up to
    /// [`crate::limits::MAX_CONFIG_SIZE`]); anything else is a layer. Returns the digest and
    /// size of the stream. A blob already in the archive (same digest) is not read again.
    pub fn put_blob(&mut self, stream: impl Read, info: &BlobInfo) -> Result<Blob> {
        if let Some(b) = self.try_reusing_blob(info)? {
            return Ok(b);
        }
        let what = match &info.digest {
            Some(d) => format!("blob {d}"),
            None => "blob".to_owned(),
        };
        let (detected, mut stream) =
            compression::peek(stream).map_err(|e| Error::io(format!("reading {what}"), e))?;
        let first = stream
            .get_ref()
            .0
            .get_ref()
            .iter()
            .copied()
            .find(|b| !b.is_ascii_whitespace());
        let is_config = match &info.media_type {
            Some(mt) => mt.is_config(),
            None => {
                detected == compression::Detected::Known(oci_types::Compression::None)
                    && first == Some(b'{')
            }
        };
        if is_config {
            return self.put_config(&mut stream, info, &what);
        }
        let expect = Expect {
            digest: info.digest.clone(),
            size: info.size,
            diff_id: None,
        };
        let (_, blob) = self.writer.get().store_layer(stream, expect, &what)?;
        Ok(blob)
    }

    fn put_config(&mut self, stream: &mut impl Read, info: &BlobInfo, what: &str) -> Result<Blob> {
        let mut bytes = Vec::new();
        stream
            .take(MAX_CONFIG_SIZE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(format!("reading {what}"), e))?;
        let size = bytes.len() as u64;
        if size > MAX_CONFIG_SIZE {
            return Err(Error::TooLarge {
                what: "config",
                path: what.to_owned(),
                size,
                limit: MAX_CONFIG_SIZE,
            });
        }
        if let Some(expected) = info.size {
            if expected != size {
                return Err(Error::SizeMismatch {
                    what: what.to_owned(),
                    expected,
                    actual: size,
                    more: false,
                });
            }
        }
        let digest = match &info.digest {
            Some(d) => {
                d.verify(&bytes).map_err(|e| match e {
                    oci_types::Error::DigestMismatch { expected, actual } => {
                        Error::digest_mismatch(what, expected, actual)
                    }
                    other => Error::types(format!("verifying {what}"), other),
                })?;
                d.clone()
            }
            None => Digest::sha256(&bytes),
        };
        self.writer.get().store_config(&bytes, Some(&digest))?;
        Ok(Blob { digest, size })
    }

    /// The blob `info.digest` names when the archive holds it already (a config, a layer by
    /// the digest it was put with, or by its diff_id); `None` otherwise or without a digest.
    pub fn try_reusing_blob(&mut self, info: &BlobInfo) -> Result<Option<Blob>> {
        let Some(d) = &info.digest else {
            return Ok(None);
        };
        let w = self.writer.get();
        if let Some(c) = w.config(d) {
            return Ok(Some(Blob {
                digest: d.clone(),
                size: c.len() as u64,
            }));
        }
        Ok(w.stored_blob(d).map(|(_, size)| Blob {
            digest: d.clone(),
            size,
        }))
    }

    /// Takes the image's manifest (Docker schema2 or OCI image manifest). Its config and
    /// layers must have been put; the layers' diff_ids must match the config's.
    pub fn put_manifest(&mut self, manifest: &[u8]) -> Result<()> {
        if self.image.is_some() {
            return Err(Error::InvalidManifest {
                kind: InvalidManifestKind::AlreadyPut,
            });
        }
        let m =
            Manifest::from_slice(manifest).map_err(|e| Error::types("parsing the manifest", e))?;
        let mt = m.media_type();
        if !mt.is_image_manifest() {
            return Err(Error::InvalidManifest {
                kind: InvalidManifestKind::NotAnImageManifest { media_type: mt },
            });
        }
        if !m.config.media_type.is_config() {
            return Err(Error::InvalidManifest {
                kind: InvalidManifestKind::NotAnImageConfig {
                    media_type: m.config.media_type.clone(),
                },
            });
        }
        let w = self.writer.get();
        let config = w
            .config(&m.config.digest)
            .ok_or_else(|| Error::MissingBlob {
                what: "config",
                digest: m.config.digest.clone(),
            })?;
        let mut layers = Vec::with_capacity(m.layers.len());
        for l in &m.layers {
            let (s, _) = w.stored_blob(&l.digest).ok_or_else(|| Error::MissingBlob {
                what: "layer",
                digest: l.digest.clone(),
            })?;
            layers.push(s);
        }
        w.check_diff_ids(&config, &layers, CountedImage::PutManifest)?;
        self.image = Some((Digest::sha256(&config), layers));
        Ok(())
    }

    /// Adds tags to the image (`name` alone means `name:latest`; digest references are
    /// refused).
    pub fn add_repo_tags(&mut self, tags: &[Reference]) -> Result<()> {
        for t in tags {
            let nt = NameTag::from_reference(t)?;
            if !self.tags.contains(&nt) {
                self.tags.push(nt);
            }
        }
        Ok(())
    }

    /// Records the image (legacy layer directories, its `manifest.json` item and tags) and,
    /// for a destination that owns its archive, finishes the archive. Fails when no manifest
    /// was put.
    pub fn commit(mut self) -> Result<()> {
        let Some((config_digest, layers)) = self.image.take() else {
            return Err(Error::NoManifest);
        };
        let w = self.writer.get();
        let config = w.config(&config_digest).ok_or_else(|| Error::MissingBlob {
            what: "config",
            digest: config_digest.clone(),
        })?;
        let item = w.add_item(&config_digest, &config, &layers)?;
        w.add_tags(item, &self.tags);
        match self.writer {
            Slot::Owned(w) => w.commit(),
            Slot::Borrowed(_) => Ok(()),
        }
    }
}

impl Writer {
    /// A [`Destination`] adding one image to this writer.
    pub fn destination(&mut self) -> Destination<'_> {
        Destination::for_writer(self)
    }
}
