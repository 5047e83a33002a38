//! Layer compression for the whole workspace: detection by magic bytes, streaming
//! decompression and compression. Every crate that reads or writes compressed layers goes
//! through here (oci-tarfile, `validate`, `random`); `oci-stream` compresses in parallel
//! blocks on its own, with the same formats.
//!
//! - [`sniff`] / [`peek_format`]: gzip, zstd or neither, and bzip2 and xz recognised so that
//!   they fail with [`Error::UnsupportedCompression`] instead of passing as a tar.
//! - [`decoder`] / [`decompress`]: gzip of any number of members (as `gzip -d` reads it, and
//!   as a stream layer of any ocikit version is read), zstd of any number of frames.
//! - [`compress`]: a deterministic single-threaded encoder.
//!
//! Everything here streams: nothing buffers a whole layer.
//!
//! ```
//! use std::io::Read;
//! use oci_partial::compression::{compress, decompress, detect};
//! use oci_types::Compression;
//!
//! let mut gz = Vec::new();
//! compress(&b"hello"[..], Compression::Gzip, None).read_to_end(&mut gz).unwrap();
//! assert_eq!(detect(&gz), Compression::Gzip);
//!
//! let mut plain = Vec::new();
//! decompress(&gz[..]).unwrap().read_to_end(&mut plain).unwrap();
//! assert_eq!(plain, b"hello");
//! ```

use std::io::{self, Read};

pub use oci_types::Compression;
use oci_types::MediaType;

use crate::{Error, Result};

/// A boxed reader borrowing for `'a`; with `'a = 'static` it is a [`crate::BlobReader`].
pub type Stream<'a> = Box<dyn Read + Send + 'a>;

/// The gzip magic bytes (RFC 1952).
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The Zstandard frame magic bytes (RFC 8878), little-endian `0xFD2FB528`.
pub const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The default gzip level: 1 (best speed), as go-containerregistry uses when it compresses
/// a layer (`partial.UncompressedToLayer`, `tarball.LayerFromFile` both default to
/// `gzip.BestSpeed`). The bytes differ from Go's anyway (another deflate implementation), so
/// only the trade-off is shared, not the digests.
pub const DEFAULT_GZIP_LEVEL: u32 = 1;
/// The default zstd level: 3, zstd's own default.
pub const DEFAULT_ZSTD_LEVEL: u32 = 3;
/// The highest gzip level; higher requested levels are clamped to it.
pub const MAX_GZIP_LEVEL: u32 = 9;
/// The highest zstd level; higher requested levels are clamped to it.
pub const MAX_ZSTD_LEVEL: u32 = 22;

/// The compression of a blob, from its first bytes: gzip (`1f 8b`), zstd (`28 b5 2f fd`),
/// anything else (including too few bytes) is [`Compression::None`].
pub fn detect(prefix: &[u8]) -> Compression {
    if prefix.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else if prefix.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else {
        Compression::None
    }
}

/// The bzip2 magic bytes (`BZh`).
pub const BZIP2_MAGIC: [u8; 3] = *b"BZh";
/// The xz magic bytes.
pub const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0];
/// How many leading bytes [`sniff`] needs to tell every format it knows.
pub const MAGIC_LEN: usize = 6;

/// A stream's format by its magic bytes: a [`Compression`] ocikit reads, or one it recognises
/// but does not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// gzip, zstd, or neither ([`Compression::None`]: taken as a plain tar).
    Supported(Compression),
    /// bzip2, allowed in old Docker layers.
    Bzip2,
    /// xz, allowed in old Docker layers.
    Xz,
}

impl Format {
    /// The compression, or the typed error naming the unsupported format and `what` was
    /// compressed with it.
    pub fn supported(self, what: &str) -> Result<Compression> {
        match self {
            Format::Supported(c) => Ok(c),
            Format::Bzip2 => Err(Error::UnsupportedCompression {
                what: what.to_owned(),
                format: "bzip2",
            }),
            Format::Xz => Err(Error::UnsupportedCompression {
                what: what.to_owned(),
                format: "xz",
            }),
        }
    }
}

/// The format of a stream from its first bytes (up to [`MAGIC_LEN`]; fewer only for a shorter
/// stream).
pub fn sniff(prefix: &[u8]) -> Format {
    if prefix.starts_with(&BZIP2_MAGIC) {
        Format::Bzip2
    } else if prefix.starts_with(&XZ_MAGIC) {
        Format::Xz
    } else {
        Format::Supported(detect(prefix))
    }
}

/// Peeks at the first [`MAGIC_LEN`] bytes of `reader` and returns its format together with a
/// reader that still yields every byte of the original stream (the peeked ones first).
pub fn peek_format<'a, R: Read + Send + 'a>(mut reader: R) -> io::Result<(Format, Stream<'a>)> {
    let (prefix, n) = read_prefix::<MAGIC_LEN>(&mut reader)?;
    let format = sniff(&prefix[..n]);
    let prefix = io::Cursor::new(prefix).take(n as u64);
    Ok((format, Box::new(prefix.chain(reader))))
}

/// A reader over the decompressed bytes of `reader`, compressed with `compression`: gzip of
/// any number of members, zstd of any number of frames, anything else passed through.
pub fn decoder<'a, R: Read + Send + 'a>(
    reader: R,
    compression: Compression,
) -> io::Result<Stream<'a>> {
    Ok(Box::new(Decoder::new(reader, compression)?))
}

/// The decompressing reader behind [`decoder`], unboxed, for readers that are not `Send`
/// or callers that keep the concrete type.
pub struct Decoder<R: Read>(DecoderKind<R>);

enum DecoderKind<R: Read> {
    Plain(R),
    Gzip(Box<flate2::read::MultiGzDecoder<R>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, io::BufReader<R>>>),
}

impl<R: Read> Decoder<R> {
    /// A reader over the decompressed bytes of `reader` (see [`decoder`]).
    pub fn new(reader: R, compression: Compression) -> io::Result<Self> {
        Ok(Decoder(match compression {
            Compression::Gzip => {
                DecoderKind::Gzip(Box::new(flate2::read::MultiGzDecoder::new(reader)))
            }
            Compression::Zstd => {
                DecoderKind::Zstd(Box::new(zstd::stream::read::Decoder::new(reader)?))
            }
            _ => DecoderKind::Plain(reader),
        }))
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.0 {
            DecoderKind::Plain(r) => r.read(buf),
            DecoderKind::Gzip(r) => r.read(buf),
            DecoderKind::Zstd(r) => r.read(buf),
        }
    }
}

impl<R: Read> std::fmt::Debug for Decoder<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.0 {
            DecoderKind::Plain(_) => "none",
            DecoderKind::Gzip(_) => "gzip",
            DecoderKind::Zstd(_) => "zstd",
        };
        f.debug_tuple("Decoder").field(&kind).finish()
    }
}

/// Reads up to `N` bytes (fewer only at end of stream), retrying on short reads.
fn read_prefix<const N: usize>(r: &mut dyn Read) -> io::Result<([u8; N], usize)> {
    let mut buf = [0u8; N];
    let mut n = 0;
    while n < N {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((buf, n))
}

/// Peeks at the first bytes of `reader` and returns its compression together with a reader
/// that still yields every byte of the original stream (the peeked ones first).
pub fn peek<'a, R: Read + Send + 'a>(mut reader: R) -> Result<(Compression, Stream<'a>)> {
    let (prefix, n) = read_prefix::<4>(&mut reader)
        .map_err(|e| Error::io("peeking at the compression of a blob", e))?;
    let compression = detect(&prefix[..n]);
    let prefix = io::Cursor::new(prefix).take(n as u64);
    Ok((compression, Box::new(prefix.chain(reader))))
}

/// A reader over the decompressed content of `reader`, whatever its compression: the magic
/// bytes decide (not a media type, which may lie), and the peeked bytes are not lost.
///
/// gzip streams of several concatenated members decode completely (as `gzip -d` does), and so
/// do zstd streams of several frames. Anything that is neither gzip, zstd, bzip2 nor xz passes
/// through unchanged; bzip2 and xz are [`Error::UnsupportedCompression`]. Corrupt compressed
/// data surfaces as an `io::Error` while reading.
pub fn decompress<'a, R: Read + Send + 'a>(reader: R) -> Result<Stream<'a>> {
    let (format, reader) =
        peek_format(reader).map_err(|e| Error::io("peeking at the compression of a blob", e))?;
    let compression = format.supported("a blob")?;
    decoder(reader, compression).map_err(|e| Error::io("starting a decoder", e))
}

/// A reader that compresses `reader` on the fly with `compression` at `level` (`None`: the
/// default level, [`DEFAULT_GZIP_LEVEL`] or [`DEFAULT_ZSTD_LEVEL`]; levels above the maximum
/// are clamped, a zstd level of 0 means zstd's default). [`Compression::None`] passes `reader`
/// through.
///
/// The output is deterministic: the same input, compression and level give the same bytes,
/// however the input arrives and whatever buffer sizes the caller reads with (the encoders
/// are driven in fixed-size pieces, and the gzip header carries no timestamp or file name).
/// That is what lets a layer compute its digest in one pass and stream the same bytes again
/// later. (Determinism is within one build: another version of the compression libraries may
/// produce other, equally valid, bytes.)
///
/// An error starting the encoder (zstd's context allocation) is reported by the first read.
pub fn compress<'a, R: Read + Send + 'a>(
    reader: R,
    compression: Compression,
    level: Option<u32>,
) -> Stream<'a> {
    // Encoders (zlib-rs at some levels) emit different bytes for the same input when it is
    // fed or drained in different pieces, so both sides get fixed-size pieces: full reads of
    // the input, and output drawn CHUNK bytes at a time whatever the caller's buffer.
    let input = FullReads(reader);
    match compression {
        Compression::Gzip => {
            let level = level.unwrap_or(DEFAULT_GZIP_LEVEL).min(MAX_GZIP_LEVEL);
            let enc = flate2::read::GzEncoder::new(input, flate2::Compression::new(level));
            Box::new(FixedChunks::new(enc))
        }
        Compression::Zstd => {
            let level = level.unwrap_or(DEFAULT_ZSTD_LEVEL).min(MAX_ZSTD_LEVEL);
            // The clamp keeps the level well inside i32.
            let level = i32::try_from(level).unwrap_or(0);
            match zstd::stream::read::Encoder::new(input, level) {
                Ok(enc) => Box::new(FixedChunks::new(enc)),
                Err(e) => Box::new(FailingReader(Some(e))),
            }
        }
        _ => Box::new(input.0),
    }
}

/// The size of the pieces an encoder's output is drawn in.
const CHUNK: usize = 64 * 1024;

/// A reader that fills the caller's buffer completely (short only at the end of the stream),
/// so that what an encoder sees does not depend on how its source delivers the bytes.
struct FullReads<R>(R);

impl<R: Read> Read for FullReads<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.0.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // What was read is handed out; the error comes again on the next read.
                Err(_) if n > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }
}

/// A reader that draws from its inner reader only with a [`CHUNK`]-byte buffer, once the
/// previous piece was handed out, so the inner reader sees the same calls whatever buffer
/// sizes the caller reads with.
struct FixedChunks<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
}

impl<R: Read> FixedChunks<R> {
    fn new(inner: R) -> Self {
        FixedChunks {
            inner,
            buf: vec![0; CHUNK].into_boxed_slice(),
            pos: 0,
            len: 0,
        }
    }
}

impl<R: Read> Read for FixedChunks<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.pos == self.len {
            self.len = self.inner.read(&mut self.buf)?;
            self.pos = 0;
        }
        let n = out.len().min(self.len - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The layer media type for `compression`, in the Docker family when `docker` is true (Docker
/// has no zstd layer type: the OCI one is used, as containers/image does), else in the OCI
/// family.
pub fn media_type_for(compression: Compression, docker: bool) -> MediaType {
    if docker {
        MediaType::docker_layer(compression)
    } else {
        MediaType::oci_layer(compression)
    }
}

/// A reader whose first read returns a stored error, then end of stream.
struct FailingReader(Option<io::Error>);

impl Read for FailingReader {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_magic() {
        assert_eq!(detect(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(detect(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Compression::Zstd);
        assert_eq!(detect(&[0x28, 0xb5, 0x2f]), Compression::None);
        assert_eq!(detect(&[0x1f]), Compression::None);
        assert_eq!(detect(b""), Compression::None);
        assert_eq!(detect(b"ustar"), Compression::None);
    }

    #[test]
    fn bzip2_and_xz_are_typed_errors() {
        assert_eq!(sniff(b"BZh91AY&SY"), Format::Bzip2);
        assert_eq!(sniff(&[0xfd, b'7', b'z', b'X', b'Z', 0, 4]), Format::Xz);
        assert_eq!(sniff(&[0x1f, 0x8b]), Format::Supported(Compression::Gzip));
        assert_eq!(sniff(b"BZ"), Format::Supported(Compression::None));
        for (input, name) in [(&b"BZh91AY&SY"[..], "bzip2"), (&XZ_MAGIC[..], "xz")] {
            match decompress(input) {
                Err(Error::UnsupportedCompression { format, .. }) => assert_eq!(format, name),
                Err(e) => panic!("{name}: {e}"),
                Ok(_) => panic!("{name} decompressed"),
            }
        }
    }

    #[test]
    fn gzip_of_several_members_decodes_whole() {
        let mut gz = Vec::new();
        for part in [&b"one "[..], b"two ", b"three"] {
            compress(part, Compression::Gzip, None)
                .read_to_end(&mut gz)
                .unwrap();
        }
        let mut plain = Vec::new();
        decompress(&gz[..])
            .unwrap()
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, b"one two three");
    }

    #[test]
    fn peek_keeps_short_streams() {
        for input in [&b""[..], b"a", b"ab", b"abc", b"abcd", b"abcde"] {
            let (c, mut r) = peek(input).unwrap();
            assert_eq!(c, Compression::None);
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, input);
        }
    }

    #[test]
    fn failing_reader_reports_once() {
        let mut r = FailingReader(Some(io::Error::other("boom")));
        assert!(r.read(&mut [0; 4]).is_err());
        assert_eq!(r.read(&mut [0; 4]).unwrap(), 0);
    }
}
