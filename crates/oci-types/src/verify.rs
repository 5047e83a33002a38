//! A reader that checks digest and size as bytes flow through it.

use std::io::{self, Read};

use crate::{Digest, Digester, Error};

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
    inner: R,
    expected: Digest,
    expected_size: Option<u64>,
    digester: Digester,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Reading,
    Verified,
    Failed,
}

impl<R: Read> VerifyingReader<R> {
    /// Wraps `inner`, expecting it to hash to `expected` and (if given) to be `size` bytes.
    /// Fails when `expected` uses an algorithm that cannot be computed.
    pub fn new(inner: R, expected: Digest, size: Option<u64>) -> Result<Self, Error> {
        let digester = expected.digester()?;
        Ok(VerifyingReader {
            inner,
            expected,
            expected_size: size,
            digester,
            state: State::Reading,
        })
    }

    /// True once the whole stream was read and matched.
    pub fn is_verified(&self) -> bool {
        self.state == State::Verified
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.digester.bytes()
    }

    /// The expected digest.
    pub fn expected(&self) -> &Digest {
        &self.expected
    }

    /// Gives back the inner reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn fail(&mut self, e: Error) -> io::Error {
        self.state = State::Failed;
        e.into_io()
    }

    fn finish(&mut self) -> io::Result<()> {
        let n = self.digester.bytes();
        if let Some(size) = self.expected_size {
            if n != size {
                let e = Error::SizeMismatch {
                    expected_digest: self.expected.clone(),
                    expected: size,
                    actual: n,
                    truncated: false,
                };
                return Err(self.fail(e));
            }
        }
        let actual = self.digester.current();
        if actual != self.expected {
            let e = Error::DigestMismatch {
                expected: self.expected.clone(),
                actual,
            };
            return Err(self.fail(e));
        }
        self.state = State::Verified;
        Ok(())
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.state {
            State::Verified => return Ok(0),
            State::Failed => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "verification already failed",
                ))
            }
            State::Reading => {}
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // Never read more than one byte past the expected size: enough to detect overflow.
        let limit = match self.expected_size {
            Some(size) => {
                let left = size.saturating_sub(self.digester.bytes()).saturating_add(1);
                buf.len().min(usize::try_from(left).unwrap_or(usize::MAX))
            }
            None => buf.len(),
        };
        let n = match self.inner.read(&mut buf[..limit]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                self.state = State::Failed;
                return Err(e);
            }
        };
        if n == 0 {
            self.finish()?;
            return Ok(0);
        }
        self.digester.update(&buf[..n]);
        if let Some(size) = self.expected_size {
            if self.digester.bytes() > size {
                let e = Error::SizeMismatch {
                    expected_digest: self.expected.clone(),
                    expected: size,
                    actual: self.digester.bytes(),
                    truncated: true,
                };
                return Err(self.fail(e));
            }
        }
        Ok(n)
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
