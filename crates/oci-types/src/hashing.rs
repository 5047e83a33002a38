//! A reader whose digest is of exactly the bytes it handed out, to be shared by everyone who
//! needs the digest of one stream.

use std::fmt;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::{Algorithm, Digest, Digester, Error};

/// Called once at the end of a [`HashingReader`]'s stream with its digest and size; an error
/// fails that read and every later one.
pub type OnEnd = Box<dyn FnOnce(&Digest, u64) -> io::Result<()> + Send>;

/// Wraps a [`Read`], hashing and counting every byte it hands out.
///
/// Its digest is computed here and nowhere else, from what `read` returned, so it is the
/// digest of exactly the bytes its reader received: whoever reads a whole stream through it
/// and keeps every byte (a content store writing them to a file) can take
/// [`HashingReader::digest`] as the digest of what it kept, instead of hashing the same bytes a
/// second time. The producer of the stream learns the same digest through
/// [`HashingReader::on_end`], so a stream hashed once serves both sides.
///
/// The end of the stream is the first read that returns 0 into a non-empty buffer, or, when
/// the inner reader can tell earlier, the read after which the flag given to
/// [`HashingReader::ends_when`] is set.
///
/// ```
/// use std::io::Read;
/// use std::sync::{Arc, Mutex};
/// use oci_types::{Digest, HashingReader};
///
/// let seen = Arc::new(Mutex::new(None));
/// let record = Arc::clone(&seen);
/// let mut r = HashingReader::new(&b"layer bytes"[..]).on_end(move |digest, size| {
///     *record.lock().unwrap() = Some((digest.clone(), size));
///     Ok(())
/// });
/// let mut out = Vec::new();
/// r.read_to_end(&mut out).unwrap();
/// assert_eq!(r.digest(), Digest::sha256(b"layer bytes"));
/// assert_eq!(*seen.lock().unwrap(), Some((Digest::sha256(b"layer bytes"), 11)));
/// ```
pub struct HashingReader<R> {
    inner: R,
    digester: Digester,
    state: State,
    on_end: Option<OnEnd>,
    ends_when: Option<Arc<AtomicBool>>,
    /// What the stream must be, for [`HashingReader::verifying`].
    expected: Option<(Digest, Option<u64>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Reading,
    Ended,
    Failed(io::ErrorKind, String),
}

impl<R: Read> HashingReader<R> {
    /// Hashes `inner` with SHA-256.
    pub fn new(inner: R) -> Self {
        Self::from_digester(inner, Digester::new_sha256())
    }

    /// Hashes `inner` with `algorithm`; fails for algorithms that cannot be computed.
    pub fn with_algorithm(inner: R, algorithm: &Algorithm) -> Result<Self, Error> {
        Ok(Self::from_digester(inner, Digester::new(algorithm)?))
    }

    /// Hashes `inner` and checks at its end that it is `expected` (and `size` bytes, when
    /// given): on a mismatch the read that ends the stream fails with an [`io::Error`] of kind
    /// `InvalidData` carrying [`Error::DigestMismatch`] or [`Error::SizeMismatch`] (recover it
    /// with [`Error::from_io`]), before any `on_end`. A stream that runs past `size` fails as
    /// soon as it does, and the reader never asks the inner one for more than one byte past
    /// it. Fails when `expected` uses an algorithm that cannot be computed.
    pub fn verifying(inner: R, expected: Digest, size: Option<u64>) -> Result<Self, Error> {
        let mut r = Self::from_digester(inner, expected.digester()?);
        r.expected = Some((expected, size));
        Ok(r)
    }

    fn from_digester(inner: R, digester: Digester) -> Self {
        HashingReader {
            inner,
            digester,
            state: State::Reading,
            on_end: None,
            ends_when: None,
            expected: None,
        }
    }

    /// Calls `f` with the digest and size once the stream has ended (replacing an earlier
    /// `on_end`). An error from `f` is the error of the read that ended the stream.
    #[must_use]
    pub fn on_end(
        mut self,
        f: impl FnOnce(&Digest, u64) -> io::Result<()> + Send + 'static,
    ) -> Self {
        self.on_end = Some(Box::new(f));
        self
    }

    /// Ends the stream right after the read during which `flag` became set, without waiting
    /// for a read that returns 0 (the inner reader sets it when it has handed out its last
    /// byte, so a consumer that stops at a known size still sees the end). Only when it ends
    /// is decided by the flag: the digest is still of what was handed out.
    #[must_use]
    pub fn ends_when(mut self, flag: Arc<AtomicBool>) -> Self {
        self.ends_when = Some(flag);
        self
    }

    /// Wraps the inner reader with `f` (a progress counter, say). The digest stays that of
    /// the bytes this reader hands out: those handed out already, then those of the new
    /// inner reader.
    pub fn map_inner<S: Read>(self, f: impl FnOnce(R) -> S) -> HashingReader<S> {
        HashingReader {
            inner: f(self.inner),
            digester: self.digester,
            state: self.state,
            on_end: self.on_end,
            ends_when: self.ends_when,
            expected: self.expected,
        }
    }

    /// Gives back the inner reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R> HashingReader<R> {
    /// The algorithm of the digest.
    pub fn algorithm(&self) -> Algorithm {
        self.digester.algorithm()
    }

    /// The digest of the bytes handed out so far.
    pub fn digest(&self) -> Digest {
        self.digester.current()
    }

    /// The number of bytes handed out so far.
    pub fn bytes_read(&self) -> u64 {
        self.digester.bytes()
    }

    /// Whether the stream has ended (and matched what [`HashingReader::verifying`] expects,
    /// and its `on_end` succeeded).
    pub fn is_ended(&self) -> bool {
        self.state == State::Ended
    }

    /// The digest the stream must have, for a reader made by [`HashingReader::verifying`].
    pub fn expected(&self) -> Option<&Digest> {
        self.expected.as_ref().map(|(d, _)| d)
    }

    fn fail(&mut self, e: io::Error) -> io::Error {
        self.state = State::Failed(e.kind(), e.to_string());
        e
    }

    /// The error of a stream that is not what was expected.
    fn mismatch(&self, at_end: bool) -> Option<Error> {
        let (expected, size) = self.expected.as_ref()?;
        let n = self.digester.bytes();
        match size {
            Some(size) if n > *size || (at_end && n != *size) => {
                return Some(Error::SizeMismatch {
                    expected_digest: expected.clone(),
                    expected: *size,
                    actual: n,
                    truncated: !at_end,
                })
            }
            _ => {}
        }
        if !at_end {
            return None;
        }
        let actual = self.digester.current();
        (actual != *expected).then(|| Error::DigestMismatch {
            expected: expected.clone(),
            actual,
        })
    }

    fn end(&mut self) -> io::Result<()> {
        if let Some(e) = self.mismatch(true) {
            return Err(self.fail(e.into_io()));
        }
        self.state = State::Ended;
        if let Some(f) = self.on_end.take() {
            let digest = self.digester.current();
            if let Err(e) = f(&digest, self.digester.bytes()) {
                return Err(self.fail(e));
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.state {
            State::Reading => {}
            State::Ended => return Ok(0),
            State::Failed(kind, msg) => {
                return Err(io::Error::new(*kind, format!("failed earlier: {msg}")))
            }
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // Never more than one byte past the expected size: enough to see an overflow.
        let limit = match &self.expected {
            Some((_, Some(size))) => {
                let left = size.saturating_sub(self.digester.bytes()).saturating_add(1);
                buf.len().min(usize::try_from(left).unwrap_or(usize::MAX))
            }
            _ => buf.len(),
        };
        let n = match self.inner.read(&mut buf[..limit]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) if self.expected.is_some() => return Err(self.fail(e)),
            Err(e) => return Err(e),
        };
        if n == 0 {
            self.end()?;
            return Ok(0);
        }
        let n = n.min(limit); // a reader that claims more than the buffer holds
        self.digester.update(&buf[..n]);
        if let Some(e) = self.mismatch(false) {
            return Err(self.fail(e.into_io()));
        }
        if self
            .ends_when
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Acquire))
        {
            self.end()?;
        }
        Ok(n)
    }
}

impl<R> fmt::Debug for HashingReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashingReader")
            .field("bytes", &self.digester.bytes())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::Mutex;

    /// Hands out its bytes in reads of at most `step` and sets `flag` with its last byte.
    struct Chunks {
        data: Vec<u8>,
        at: usize,
        step: usize,
        flag: Arc<AtomicBool>,
    }

    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.step).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            if self.at == self.data.len() {
                self.flag.store(true, Ordering::Release);
            }
            Ok(n)
        }
    }

    type Seen = Arc<Mutex<Vec<(Digest, u64)>>>;

    fn recorder() -> (Seen, OnEnd) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = Arc::clone(&seen);
        let f: OnEnd = Box::new(move |d: &Digest, n| {
            s.lock().unwrap().push((d.clone(), n));
            Ok(())
        });
        (seen, f)
    }

    proptest! {
        /// Whatever the read sizes, the digest is of the bytes handed out, and the end is
        /// reported once, with the flag as soon as the last byte is out.
        #[test]
        fn digest_is_of_what_was_handed_out(
            data in proptest::collection::vec(any::<u8>(), 0..5000),
            step in 1usize..700,
            buf_len in 1usize..900,
            flagged: bool,
        ) {
            let flag = Arc::new(AtomicBool::new(false));
            let inner = Chunks { data: data.clone(), at: 0, step, flag: Arc::clone(&flag) };
            let (seen, f) = recorder();
            let mut r = HashingReader::new(inner).on_end(f);
            if flagged {
                r = r.ends_when(flag);
            }
            let mut out = Vec::new();
            let mut buf = vec![0u8; buf_len];
            while out.len() < data.len() {
                let n = r.read(&mut buf).unwrap();
                prop_assert!(n > 0);
                out.extend_from_slice(&buf[..n]);
            }
            prop_assert_eq!(&out, &data);
            prop_assert_eq!(r.digest(), Digest::sha256(&data));
            prop_assert_eq!(r.bytes_read(), data.len() as u64);
            let expected = vec![(Digest::sha256(&data), data.len() as u64)];
            if flagged && !data.is_empty() {
                prop_assert!(r.is_ended(), "ended with the last byte");
                prop_assert_eq!(&*seen.lock().unwrap(), &expected);
            }
            prop_assert_eq!(r.read(&mut buf).unwrap(), 0);
            prop_assert_eq!(r.read(&mut buf).unwrap(), 0);
            prop_assert!(r.is_ended());
            prop_assert_eq!(&*seen.lock().unwrap(), &expected);
        }
    }

    #[test]
    fn an_empty_buffer_is_not_the_end() {
        let (seen, f) = recorder();
        let mut r = HashingReader::new(&b"hello world"[..]).on_end(f);
        assert_eq!(r.read(&mut [0u8; 4]).unwrap(), 4);
        assert_eq!(r.read(&mut []).unwrap(), 0);
        assert!(seen.lock().unwrap().is_empty() && !r.is_ended());
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
        let expected = vec![(Digest::sha256(b"hello world"), 11)];
        assert_eq!(*seen.lock().unwrap(), expected);
    }

    #[test]
    fn verifying_checks_before_on_end() {
        let (seen, f) = recorder();
        let mut r = HashingReader::verifying(&b"abd"[..], Digest::sha256(b"abc"), Some(3))
            .unwrap()
            .on_end(f);
        let e = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
        assert!(matches!(Error::from_io(e), Error::DigestMismatch { .. }));
        assert!(seen.lock().unwrap().is_empty(), "on_end only after a match");
        assert!(r.read(&mut [0u8; 4]).is_err(), "still failed");

        let (seen, f) = recorder();
        let mut r = HashingReader::verifying(&b"abc"[..], Digest::sha256(b"abc"), Some(3))
            .unwrap()
            .on_end(f);
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
        assert!(r.is_ended());
        assert_eq!(r.expected(), Some(&Digest::sha256(b"abc")));
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn an_on_end_error_fails_that_read_and_the_later_ones() {
        let mut r = HashingReader::new(&b"abc"[..])
            .on_end(|_, _| Err(io::Error::new(io::ErrorKind::InvalidData, "refused")));
        let mut buf = [0u8; 8];
        assert_eq!(r.read(&mut buf).unwrap(), 3);
        let e = r.read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        let e = r.read(&mut buf).unwrap_err();
        assert!(e.to_string().contains("refused"), "{e}");
        assert!(!r.is_ended());
    }

    #[test]
    fn inner_errors_pass_through_and_count_nothing() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let (seen, f) = recorder();
        let mut r = HashingReader::new(Broken).on_end(f);
        assert!(r.read(&mut [0u8; 4]).is_err());
        assert_eq!(r.bytes_read(), 0);
        assert!(seen.lock().unwrap().is_empty());
    }

    #[test]
    fn map_inner_keeps_what_was_hashed() {
        let r = HashingReader::new(&b"abcdef"[..]);
        let mut r = r.map_inner(|inner| inner.take(4));
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcd");
        assert_eq!(r.digest(), Digest::sha256(b"abcd"));

        let mut r = HashingReader::new(&b"abcdef"[..]);
        r.read_exact(&mut [0u8; 1]).unwrap();
        let mut r = r.map_inner(|inner| inner.take(2));
        r.read_to_end(&mut out).unwrap();
        assert_eq!(r.digest(), Digest::sha256(b"abc"));
    }

    #[test]
    fn other_algorithms() {
        let mut r = HashingReader::with_algorithm(&b"abc"[..], &Algorithm::Sha512).unwrap();
        assert_eq!(r.algorithm(), Algorithm::Sha512);
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
        let mut d = Digester::new(&Algorithm::Sha512).unwrap();
        d.update(b"abc");
        assert_eq!(r.digest(), d.finish());
        let other = Algorithm::Other("md5".into());
        assert!(HashingReader::with_algorithm(&b""[..], &other).is_err());
    }
}
