//! A reader that checks digest and size as bytes flow through it (a [`HashingReader`] made
//! by [`HashingReader::verifying`], under the name callers know).

use std::io::{self, Read};

use crate::{Digest, Error, HashingReader};

/// Wraps any [`Read`], hashing and counting what passes. At the end of the stream it checks
/// the digest (and the size, when one was given); on a mismatch the final `read` fails with
/// an [`io::Error`] of kind `InvalidData` carrying [`Error::DigestMismatch`] or
/// [`Error::SizeMismatch`] (recover it with [`Error::from_io`]).
///
/// A stream that runs past the expected size fails as soon as it does, so a hostile source
/// cannot make the reader consume unbounded data.
///
/// ```
/// use std::io::Read;
/// use oci_types::{Digest, Error, VerifyingReader};
/// let data = b"layer bytes";
/// let mut ok = VerifyingReader::new(&data[..], Digest::sha256(data), Some(11)).unwrap();
/// let mut out = Vec::new();
/// ok.read_to_end(&mut out).unwrap();
/// assert!(ok.is_verified());
///
/// let mut bad = VerifyingReader::new(&b"other bytes"[..], Digest::sha256(data), None).unwrap();
/// let err = Error::from_io(bad.read_to_end(&mut Vec::new()).unwrap_err());
/// assert!(matches!(err, Error::DigestMismatch { .. }));
/// ```
#[derive(Debug)]
pub struct VerifyingReader<R> {
    inner: HashingReader<R>,
    expected: Digest,
}

impl<R: Read> VerifyingReader<R> {
    /// Wraps `inner`, expecting it to hash to `expected` and (if given) to be `size` bytes.
    /// Fails when `expected` uses an algorithm that cannot be computed.
    pub fn new(inner: R, expected: Digest, size: Option<u64>) -> Result<Self, Error> {
        Ok(VerifyingReader {
            inner: HashingReader::verifying(inner, expected.clone(), size)?,
            expected,
        })
    }

    /// True once the whole stream was read and matched.
    pub fn is_verified(&self) -> bool {
        self.inner.is_ended()
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.inner.bytes_read()
    }

    /// The expected digest.
    pub fn expected(&self) -> &Digest {
        &self.expected
    }

    /// Gives back the inner reader.
    pub fn into_inner(self) -> R {
        self.inner.into_inner()
    }

    /// The [`HashingReader`] doing the work, for a consumer that takes its digest
    /// (see [`HashingReader::verifying`]).
    pub fn into_hashing(self) -> HashingReader<R> {
        self.inner
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(data: &[u8], expected: &[u8], size: Option<u64>) -> Result<Vec<u8>, Error> {
        let mut r = VerifyingReader::new(data, Digest::sha256(expected), size)?;
        let mut out = Vec::new();
        r.read_to_end(&mut out).map_err(Error::from_io)?;
        assert!(r.is_verified());
        Ok(out)
    }

    #[test]
    fn matches_and_mismatches() {
        assert_eq!(run(b"abc", b"abc", Some(3)).unwrap(), b"abc");
        assert_eq!(run(b"abc", b"abc", None).unwrap(), b"abc");
        assert!(matches!(
            run(b"abd", b"abc", Some(3)),
            Err(Error::DigestMismatch { .. })
        ));
        assert!(matches!(
            run(b"ab", b"abc", Some(3)),
            Err(Error::SizeMismatch {
                expected: 3,
                actual: 2,
                truncated: false,
                ..
            })
        ));
        assert!(matches!(
            run(b"abcd", b"abc", Some(3)),
            Err(Error::SizeMismatch {
                expected: 3,
                actual: 4,
                truncated: true,
                ..
            })
        ));
        assert!(matches!(run(b"", b"", Some(0)), Ok(v) if v.is_empty()));
    }

    #[test]
    fn stops_early_on_overlong_stream() {
        // An endless stream must be cut off right after the expected size.
        let endless = io::repeat(7);
        let mut r = VerifyingReader::new(endless, Digest::sha256(b"x"), Some(1)).unwrap();
        let err = Error::from_io(io::copy(&mut r, &mut io::sink()).unwrap_err());
        assert!(
            matches!(
                err,
                Error::SizeMismatch {
                    truncated: true,
                    ..
                }
            ),
            "{err}"
        );
        assert!(r.bytes_read() <= 2);
    }

    #[test]
    fn error_message_names_both_digests() {
        let err = run(b"abd", b"abc", None).unwrap_err().to_string();
        assert!(err.contains(Digest::sha256(b"abc").as_str()));
        assert!(err.contains(Digest::sha256(b"abd").as_str()));
    }
}
