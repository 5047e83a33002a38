//! [`Options`] of a [`crate::StreamLayer`], and their validation.

use oci_types::{Compression, Digest, MediaType};

use crate::codec::Codec;
use crate::{Error, Result};

/// The default gzip level: 1, the fastest, as go-containerregistry's `stream.NewLayer` uses.
/// Deflated by ISA-L's igzip level 1: a tar of `/usr` comes within 1% of `pigz -1`'s size for
/// about a third of the CPU of any other deflate.
pub const DEFAULT_GZIP_LEVEL: u32 = 1;
/// The highest gzip level: libdeflate's 12 (levels 2 to 12 are libdeflate's). Levels 1 to 9
/// compare with gzip's; 10 to 12 are slower and smaller.
pub const MAX_GZIP_LEVEL: u32 = 12;
/// The default zstd level: 3, zstd's own default.
pub const DEFAULT_ZSTD_LEVEL: u32 = 3;
/// The highest zstd level.
pub const MAX_ZSTD_LEVEL: u32 = 22;
/// The default block size for gzip (and no compression): 1 MiB of input per independently
/// compressed block.
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;
/// The default block size for zstd: 2 MiB (zstd finds matches much farther back than
/// deflate's 32 KiB window, so it gains more from larger blocks).
pub const DEFAULT_ZSTD_BLOCK_SIZE: usize = 2 << 20;
/// The smallest block size accepted.
pub const MIN_BLOCK_SIZE: usize = 1 << 10;
/// The largest block size accepted.
pub const MAX_BLOCK_SIZE: usize = 64 << 20;
/// The largest number of compression threads accepted.
pub const MAX_THREADS: usize = 256;

/// How a [`crate::StreamLayer`] compresses: algorithm, level, threads, block size and the
/// media type it reports. Build with the methods; [`Options::default`] is gzip at level
/// [`DEFAULT_GZIP_LEVEL`] on all cores in [`DEFAULT_BLOCK_SIZE`] blocks.
///
/// The output bytes depend on the input, the compression, the level and the block size, and
/// on nothing else: not on the number of threads, the timing, or how the source and the
/// consumer chunk their reads.
///
/// ```
/// use oci_stream::{Options, StreamLayer};
/// use oci_types::{Compression, Digest};
///
/// let opts = Options::new().compression(Compression::Zstd).level(9).threads(2);
/// let layer = StreamLayer::with_options(&b"tar bytes"[..], opts).unwrap();
/// # let _ = layer;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    compression: Compression,
    level: Option<u32>,
    media_type: Option<MediaType>,
    threads: Option<usize>,
    block_size: Option<usize>,
    verified_diff_id: Option<Digest>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            compression: Compression::Gzip,
            level: None,
            media_type: None,
            threads: None,
            block_size: None,
            verified_diff_id: None,
        }
    }
}

impl Options {
    /// The default options (same as [`Options::default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The compression algorithm: [`Compression::Gzip`] (the default), [`Compression::Zstd`],
    /// or [`Compression::None`] (the blob is the tar itself; digest and diff_id are equal).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// The compression level: gzip 0 (stored, no compression) to [`MAX_GZIP_LEVEL`], zstd 1 to
    /// [`MAX_ZSTD_LEVEL`]. Without it, [`DEFAULT_GZIP_LEVEL`] or [`DEFAULT_ZSTD_LEVEL`].
    /// Ignored for [`Compression::None`].
    pub fn level(mut self, level: u32) -> Self {
        self.level = Some(level);
        self
    }

    /// The media type the layer reports. Without it, the OCI layer type of the compression
    /// (`application/vnd.oci.image.layer.v1.tar+gzip` for gzip); go-containerregistry's
    /// default is Docker's layer type, which this sets with
    /// `MediaType::docker_layer(Compression::Gzip)`.
    pub fn media_type(mut self, media_type: MediaType) -> Self {
        self.media_type = Some(media_type);
        self
    }

    /// The number of compression threads, 1 to [`MAX_THREADS`]. Without it, as many as the
    /// machine has cores (`std::thread::available_parallelism`). With 1, blocks are
    /// compressed on the thread that reads the layer. Reading the source and hashing always
    /// happen on the thread that reads the layer.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// The number of input bytes per independently compressed block, [`MIN_BLOCK_SIZE`] to
    /// [`MAX_BLOCK_SIZE`]; without it [`DEFAULT_BLOCK_SIZE`], or [`DEFAULT_ZSTD_BLOCK_SIZE`]
    /// for zstd. Larger blocks compress slightly better and need more memory: three blocks per
    /// thread are in flight, each with its input and output.
    pub fn block_size(mut self, bytes: usize) -> Self {
        self.block_size = Some(bytes);
        self
    }

    /// The diff_id of the input, for input whose reader already checks it as the bytes flow
    /// (every ocikit source does: a layer read from an archive or a layout fails at its end
    /// when the tar does not hash to its diff_id). The stream then does not hash the input a
    /// second time, which takes one SHA-256 pass off the thread that reads the source, and
    /// the layer reports this diff_id. Do not use it for input that nothing verifies.
    pub fn verified_diff_id(mut self, diff_id: Digest) -> Self {
        self.verified_diff_id = Some(diff_id);
        self
    }

    /// Checks the options and fills in the defaults.
    pub(crate) fn resolve(&self) -> Result<Resolved> {
        let codec = match &self.compression {
            Compression::Gzip => {
                let level = self.level.unwrap_or(DEFAULT_GZIP_LEVEL);
                check_range("level", level, 0, MAX_GZIP_LEVEL, "gzip")?;
                Codec::Gzip { level }
            }
            Compression::Zstd => {
                let level = self.level.unwrap_or(DEFAULT_ZSTD_LEVEL);
                check_range("level", level, 1, MAX_ZSTD_LEVEL, "zstd")?;
                Codec::Zstd { level }
            }
            Compression::None => Codec::Identity,
            other => {
                return Err(Error::InvalidOption {
                    option: "compression",
                    value: format!("{other:?}"),
                    allowed: "gzip, zstd or none".to_string(),
                })
            }
        };
        let threads = match self.threads {
            Some(n) => {
                check_range("threads", n, 1, MAX_THREADS, "compression threads")?;
                n
            }
            None => std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS)),
        };
        let block_size = self.block_size.unwrap_or(match codec {
            Codec::Zstd { .. } => DEFAULT_ZSTD_BLOCK_SIZE,
            _ => DEFAULT_BLOCK_SIZE,
        });
        check_range(
            "block_size",
            block_size,
            MIN_BLOCK_SIZE,
            MAX_BLOCK_SIZE,
            "bytes",
        )?;
        let media_type = match &self.media_type {
            Some(m) => m.clone(),
            None => MediaType::oci_layer(self.compression),
        };
        Ok(Resolved {
            codec,
            threads,
            block_size,
            media_type,
            verified_diff_id: self.verified_diff_id.clone(),
        })
    }
}

fn check_range<T: PartialOrd + std::fmt::Display>(
    option: &'static str,
    value: T,
    min: T,
    max: T,
    unit: &str,
) -> Result<()> {
    if value < min || value > max {
        return Err(Error::InvalidOption {
            option,
            value: value.to_string(),
            allowed: format!("{min} to {max} ({unit})"),
        });
    }
    Ok(())
}

/// Checked options with defaults filled in.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) codec: Codec,
    pub(crate) threads: usize,
    pub(crate) block_size: usize,
    pub(crate) media_type: MediaType,
    pub(crate) verified_diff_id: Option<Digest>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let r = Options::default().resolve().unwrap();
        assert_eq!(
            r.codec,
            Codec::Gzip {
                level: DEFAULT_GZIP_LEVEL
            }
        );
        assert_eq!(r.block_size, DEFAULT_BLOCK_SIZE);
        assert_eq!(r.media_type, MediaType::OciLayerGzip);
        assert!(r.threads >= 1);
        let r = Options::new()
            .compression(Compression::Zstd)
            .resolve()
            .unwrap();
        assert_eq!(
            r.codec,
            Codec::Zstd {
                level: DEFAULT_ZSTD_LEVEL
            }
        );
        assert_eq!(r.block_size, DEFAULT_ZSTD_BLOCK_SIZE);
        let r = Options::new()
            .compression(Compression::Zstd)
            .block_size(5000)
            .resolve();
        assert_eq!(r.unwrap().block_size, 5000);
    }
}
