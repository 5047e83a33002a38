//! Compression detection by magic bytes, and decompressing readers: the archive's view of
//! `oci_partial::compression`, the workspace's one compression module (which recognises
//! bzip2 and xz, and decodes gzip of any number of members).

use std::io::{self, Cursor, Read};

use oci_partial::compression::{self as common, Format, MAGIC_LEN};
use oci_types::Compression;

use crate::{Error, Result};

/// What the first bytes of a stream say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detected {
    /// gzip, zstd or neither (taken as a plain tar).
    Known(Compression),
    /// A compression this crate cannot read.
    Unsupported(&'static str),
}

/// Looks at up to [`MAGIC_LEN`] leading bytes.
pub(crate) fn detect(prefix: &[u8]) -> Detected {
    match common::sniff(prefix) {
        Format::Supported(c) => Detected::Known(c),
        Format::Bzip2 => Detected::Unsupported("bzip2"),
        Format::Xz => Detected::Unsupported("xz"),
        _ => Detected::Unsupported("an unknown compression"),
    }
}

/// A stream whose first bytes were read to detect its compression, put back in front.
pub(crate) type Peeked<R> = io::Chain<Cursor<Vec<u8>>, R>;

/// Reads up to [`MAGIC_LEN`] bytes of `r` to detect its compression, and gives back a reader
/// over the whole stream (the peeked bytes first).
pub(crate) fn peek<R: Read>(mut r: R) -> io::Result<(Detected, Peeked<R>)> {
    let mut prefix = Vec::with_capacity(MAGIC_LEN);
    let mut buf = [0u8; MAGIC_LEN];
    while prefix.len() < MAGIC_LEN {
        match r.read(&mut buf[..MAGIC_LEN - prefix.len()]) {
            Ok(0) => break,
            Ok(n) => prefix.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let d = detect(&prefix);
    Ok((d, Cursor::new(prefix).chain(r)))
}

/// A decompressing reader (or a pass-through one for plain data).
pub(crate) type Decoder<R> = common::Decoder<R>;

/// A decompressing reader for `compression` over `r`.
pub(crate) fn decompress<R: Read>(r: R, compression: Compression) -> io::Result<Decoder<R>> {
    common::Decoder::new(r, compression)
}

/// Detects the compression of `r` and returns a reader over its decompressed bytes, with the
/// compression found. `what` names the stream in errors.
pub(crate) fn auto_decompress<R: Read>(
    r: R,
    what: &str,
) -> Result<(Compression, Decoder<Peeked<R>>)> {
    let (detected, r) = peek(r).map_err(|e| Error::io(format!("reading {what}"), e))?;
    match detected {
        Detected::Known(c) => {
            let d = decompress(r, c).map_err(|e| Error::io(format!("decompressing {what}"), e))?;
            Ok((c, d))
        }
        Detected::Unsupported(format) => Err(Error::UnsupportedCompression {
            what: what.to_owned(),
            format,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn detects_and_decompresses() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"hello").unwrap();
        let gz = gz.finish().unwrap();
        let zs = zstd::encode_all(&b"hello"[..], 1).unwrap();
        for (input, c) in [
            (gz, Compression::Gzip),
            (zs, Compression::Zstd),
            (b"hello".to_vec(), Compression::None),
        ] {
            let (found, mut r) = auto_decompress(&input[..], "t").unwrap();
            assert_eq!(found, c);
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, b"hello");
        }
        assert!(matches!(
            auto_decompress(&b"BZh91AY"[..], "t"),
            Err(Error::UnsupportedCompression {
                format: "bzip2",
                ..
            })
        ));
        let (found, _) = auto_decompress(&b""[..], "t").unwrap();
        assert_eq!(found, Compression::None);
    }
}
