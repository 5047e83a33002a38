//! The [`Layer`] trait.

use std::io::{self, Read};

use oci_types::{Descriptor, Digest, HashingReader, MediaType};

use crate::Result;

/// A boxed reader over blob bytes, as returned by [`Layer::compressed`] and friends.
pub type BlobReader = Box<dyn Read + Send>;

/// A layer of an image: a blob (as stored, usually compressed) and its uncompressed tar.
///
/// Required methods are what every source knows; the provided ones are optional capabilities
/// with a default that works for any layer, which a source overrides when it can do better
/// (knows the full descriptor, knows the uncompressed size, can check existence cheaply).
///
/// Readers returned by [`Layer::compressed`] and [`Layer::uncompressed`] are fresh on every
/// call (except for one-shot streaming layers, which say so with [`crate::Error::Consumed`]).
/// Sources verify what they read: a reader fails with a digest or size mismatch at the end of
/// a stream that does not match what the layer claims.
pub trait Layer: Send + Sync {
    /// The digest of the blob as stored (compressed).
    fn digest(&self) -> Result<Digest>;
    /// The digest of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    fn diff_id(&self) -> Result<Digest>;
    /// A fresh reader over the blob as stored.
    fn compressed(&self) -> Result<BlobReader>;
    /// A fresh reader over the uncompressed tar.
    fn uncompressed(&self) -> Result<BlobReader>;
    /// The size of the blob as stored.
    fn size(&self) -> Result<u64>;
    /// The media type of the blob.
    fn media_type(&self) -> Result<MediaType>;

    /// The full descriptor of the blob; sources that know urls, annotations or a platform
    /// override this. The default has media type, digest and size.
    fn descriptor(&self) -> Result<Descriptor> {
        Ok(Descriptor::new(
            self.media_type()?,
            self.digest()?,
            self.size()?,
        ))
    }

    /// The size of the uncompressed tar. The default streams [`Layer::uncompressed`] once and
    /// counts; sources that know it override this.
    fn uncompressed_size(&self) -> Result<u64> {
        let mut r = self.uncompressed()?;
        io::copy(&mut r, &mut io::sink())
            .map_err(|e| crate::Error::io("counting uncompressed layer", e))
    }

    /// [`Layer::compressed`] through a [`HashingReader`], for a sink that needs the digest of
    /// what it copies (a content store naming the blob it commits): it takes the reader's
    /// digest instead of hashing the bytes again. A layer whose digest is computed as it
    /// streams (oci-stream's `StreamLayer`) hands out the very
    /// reader whose digest becomes its own, so the stream is hashed once for both; layers that
    /// wrap another forward this. The default wraps [`Layer::compressed`] in a SHA-256
    /// [`HashingReader`].
    fn compressed_hashing(&self) -> Result<HashingReader<BlobReader>> {
        Ok(HashingReader::new(self.compressed()?))
    }

    /// Whether the blob exists where the layer comes from, without reading its content.
    /// The default opens [`Layer::compressed`] and drops the reader, which reads nothing from
    /// a file but may start a download: remote sources override it.
    fn exists(&self) -> Result<bool> {
        self.compressed().map(|_| true)
    }
}
