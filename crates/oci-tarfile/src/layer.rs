//! [`ArchiveLayer`]: one layer file of a docker archive, as an [`oci_partial::Layer`].

use std::io::{self, BufReader};
use std::sync::{Arc, OnceLock};

use oci_partial::{BlobReader, Layer};
use oci_types::{Compression, Descriptor, Digest, Digester, HashingReader, MediaType};

use crate::compression;
use crate::reader::{Entry, Reader};
use crate::{Error, Result};

/// Read buffer for layer streams: big enough that small caller buffers do not turn into
/// many small reads of the file.
const STREAM_BUFFER: usize = 128 * 1024;

/// A layer stored in a docker archive.
///
/// Its media type follows what is stored: an uncompressed tar is
/// `application/vnd.docker.image.rootfs.diff.tar`, gzip and zstd are detected by their magic
/// bytes. Its digest (of the bytes as stored) is computed by reading the file once and then
/// cached; any complete, verified read through [`Layer::compressed`] or
/// [`Layer::uncompressed`] fills the cache as well. When `manifest.json` gives a
/// `LayerSources` descriptor for the layer's diff_id, that descriptor is the layer's
/// descriptor (media type, digest, size, urls) and nothing is read to describe it; its stored
/// stream is then verified against that descriptor, so a foreign layer whose blob the archive
/// does not hold (`docker save` keeps only the tar) streams only uncompressed.
pub(crate) struct ArchiveLayer {
    reader: Arc<Reader>,
    /// The path as `manifest.json` gives it (for errors).
    path: String,
    /// The regular file the path resolves to.
    entry: Entry,
    diff_id: Digest,
    compression: Compression,
    source: Option<Descriptor>,
    digest: Arc<OnceLock<Digest>>,
}

impl ArchiveLayer {
    pub(crate) fn new(
        reader: Arc<Reader>,
        path: String,
        entry: Entry,
        diff_id: Digest,
        source: Option<Descriptor>,
    ) -> Result<ArchiveLayer> {
        let (detected, _) = compression::peek(reader.open_entry(&entry))
            .map_err(|e| Error::io(format!("reading layer {path}"), e))?;
        let compression = match detected {
            compression::Detected::Known(c) => c,
            compression::Detected::Unsupported(format) => {
                return Err(Error::UnsupportedCompression {
                    what: format!("layer {path}"),
                    format,
                })
            }
        };
        Ok(ArchiveLayer {
            reader,
            path,
            entry,
            diff_id,
            compression,
            source,
            digest: Arc::default(),
        })
    }

    /// How the layer is stored.
    pub(crate) fn compression(&self) -> Compression {
        self.compression
    }

    /// The digest of the stored bytes, computing it (one read) when it is not known yet. For
    /// an uncompressed layer this is its diff_id: a file that hashes to anything else is
    /// refused with [`Error::DigestMismatch`].
    pub(crate) fn stored_digest(&self) -> Result<Digest> {
        if let Some(src) = &self.source {
            return Ok(src.digest.clone());
        }
        if let Some(d) = self.digest.get() {
            return Ok(d.clone());
        }
        let mut r = BufReader::with_capacity(STREAM_BUFFER, self.reader.open_entry(&self.entry));
        let mut digester = Digester::new_sha256();
        io::copy(&mut r, &mut digester)
            .map_err(|e| Error::io(format!("reading layer {}", self.path), e))?;
        let actual = digester.finish();
        if self.compression == Compression::None && actual != self.diff_id {
            return Err(Error::digest_mismatch(
                format!("layer {} (its diff_id in the config)", self.path),
                self.diff_id.clone(),
                actual,
            ));
        }
        Ok(self.digest.get_or_init(|| actual).clone())
    }

    /// The stored bytes, verified against the digest when it is known; otherwise hashed as
    /// they flow, the digest cached at the end.
    pub(crate) fn stored(&self) -> Result<BlobReader> {
        Ok(Box::new(self.stored_hashing()?))
    }

    /// The layer as stored, through the [`HashingReader`] that verifies it (or, when nothing
    /// tells its digest, computes it); the digest is cached at the end of a matching stream.
    pub(crate) fn stored_hashing(&self) -> Result<HashingReader<BlobReader>> {
        let section: BlobReader = Box::new(BufReader::with_capacity(
            STREAM_BUFFER,
            self.reader.open_entry(&self.entry),
        ));
        let size = self.entry.size;
        let expected = match (&self.source, self.digest.get()) {
            (Some(src), _) => Some((src.digest.clone(), src.size)),
            (None, Some(d)) => Some((d.clone(), size)),
            (None, None) if self.compression == Compression::None => {
                Some((self.diff_id.clone(), size))
            }
            (None, None) => None,
        };
        Ok(match expected {
            Some((digest, size)) => HashingReader::verifying(section, digest, Some(size))
                .map_err(|e| Error::types(format!("reading layer {}", self.path), e))?
                .on_end(self.cache_digest(self.source.is_none())),
            None => HashingReader::new(section).on_end(self.cache_digest(true)),
        })
    }

    /// The end hook that caches the stored digest (when `cache`) once a stream matched.
    fn cache_digest(&self, cache: bool) -> impl FnOnce(&Digest, u64) -> io::Result<()> {
        let cell = cache.then(|| Arc::clone(&self.digest));
        move |d, _| {
            if let Some(cell) = cell {
                let _ = cell.set(d.clone());
            }
            Ok(())
        }
    }

    /// The uncompressed tar, verified against the diff_id.
    pub(crate) fn uncompressed_stream(&self) -> Result<BlobReader> {
        let section = BufReader::with_capacity(STREAM_BUFFER, self.reader.open_entry(&self.entry));
        let plain = compression::decompress(section, self.compression)
            .map_err(|e| Error::io(format!("decompressing layer {}", self.path), e))?;
        let size = (self.compression == Compression::None).then_some(self.entry.size);
        // A verified uncompressed layer read as stored proves its digest too.
        let cache = self.compression == Compression::None && self.source.is_none();
        let v = HashingReader::verifying(plain, self.diff_id.clone(), size)
            .map_err(|e| Error::types(format!("reading layer {}", self.path), e))?
            .on_end(self.cache_digest(cache));
        Ok(Box::new(v))
    }

    pub(crate) fn stored_media_type(&self) -> MediaType {
        match &self.source {
            Some(src) => src.media_type.clone(),
            None => MediaType::docker_layer(self.compression),
        }
    }

    pub(crate) fn stored_size(&self) -> u64 {
        match &self.source {
            Some(src) => src.size,
            None => self.entry.size,
        }
    }

    pub(crate) fn stored_descriptor(&self) -> Result<Descriptor> {
        match &self.source {
            Some(src) => Ok(src.clone()),
            None => Ok(Descriptor::new(
                self.stored_media_type(),
                self.stored_digest()?,
                self.entry.size,
            )),
        }
    }

    /// Whether `manifest.json` gave a `LayerSources` descriptor for this layer.
    pub(crate) fn has_source_descriptor(&self) -> bool {
        self.source.is_some()
    }

    pub(crate) fn diff_id_ref(&self) -> &Digest {
        &self.diff_id
    }
}

impl Layer for ArchiveLayer {
    fn digest(&self) -> oci_partial::Result<Digest> {
        Ok(self.stored_digest()?)
    }
    fn diff_id(&self) -> oci_partial::Result<Digest> {
        Ok(self.diff_id.clone())
    }
    fn compressed(&self) -> oci_partial::Result<BlobReader> {
        Ok(self.stored()?)
    }
    fn compressed_hashing(&self) -> oci_partial::Result<HashingReader<BlobReader>> {
        Ok(self.stored_hashing()?)
    }
    fn uncompressed(&self) -> oci_partial::Result<BlobReader> {
        Ok(self.uncompressed_stream()?)
    }
    fn size(&self) -> oci_partial::Result<u64> {
        Ok(self.stored_size())
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        Ok(self.stored_media_type())
    }
    fn descriptor(&self) -> oci_partial::Result<Descriptor> {
        Ok(self.stored_descriptor()?)
    }
    fn uncompressed_size(&self) -> oci_partial::Result<u64> {
        if self.compression == Compression::None {
            return Ok(self.entry.size);
        }
        let mut r = self.uncompressed_stream()?;
        io::copy(&mut r, &mut io::sink())
            .map_err(|e| oci_partial::Error::io(format!("reading layer {}", self.path), e))
    }
    fn exists(&self) -> oci_partial::Result<bool> {
        Ok(true)
    }
}
