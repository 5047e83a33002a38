//! Readers over blobs: a sequential view of any [`ReaderAt`], an in-memory [`ReaderAt`], and
//! the embedded-data shortcut of OCI 1.1 descriptors.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

use oci_types::Descriptor;

use crate::InvalidArgumentKind;
use crate::{Error, ReaderAt, Result};

/// A sequential [`Read`] + [`Seek`] view of a [`ReaderAt`], or of a window of it (containerd's
/// `io.NewSectionReader`).
///
/// ```
/// use std::io::Read;
/// use oci_content::{BytesReaderAt, SectionReader};
/// let mut r = SectionReader::new(BytesReaderAt::new(b"hello world".to_vec()));
/// let mut s = String::new();
/// r.read_to_string(&mut s).unwrap();
/// assert_eq!(s, "hello world");
/// ```
#[derive(Debug)]
pub struct SectionReader<R> {
    inner: R,
    start: u64,
    end: u64,
    pos: u64,
}

impl<R: ReaderAt> SectionReader<R> {
    /// The whole of `inner`.
    pub fn new(inner: R) -> SectionReader<R> {
        let end = inner.size();
        SectionReader {
            inner,
            start: 0,
            end,
            pos: 0,
        }
    }

    /// `len` bytes of `inner` from `offset` (clipped to its size).
    pub fn section(inner: R, offset: u64, len: u64) -> SectionReader<R> {
        let size = inner.size();
        let start = offset.min(size);
        let end = offset.saturating_add(len).min(size);
        SectionReader {
            inner,
            start,
            end,
            pos: start,
        }
    }

    /// The length of the window.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// True when the window is empty.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// Gives back the inner reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: ReaderAt> Read for SectionReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.inner.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: ReaderAt> Seek for SectionReader<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let rel = self.pos - self.start;
        let new = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => rel.checked_add_signed(d),
            SeekFrom::End(d) => self.len().checked_add_signed(d),
        };
        let new = new.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the section",
            )
        })?;
        self.pos = self.start.saturating_add(new);
        Ok(new)
    }
}

/// A [`ReaderAt`] over bytes in memory (shared, so cloning is cheap).
#[derive(Debug, Clone)]
pub struct BytesReaderAt {
    bytes: Arc<[u8]>,
}

impl BytesReaderAt {
    /// A reader over `bytes`.
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> BytesReaderAt {
        BytesReaderAt {
            bytes: bytes.into(),
        }
    }
}

impl ReaderAt for BytesReaderAt {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let Ok(off) = usize::try_from(offset) else {
            return Ok(0);
        };
        let Some(src) = self.bytes.get(off..) else {
            return Ok(0);
        };
        let n = src.len().min(buf.len());
        buf[..n].copy_from_slice(&src[..n]);
        Ok(n)
    }

    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
}

/// The descriptor's embedded `data`, when present and matching its size and digest.
/// Malformed base64 is [`Error::InvalidArgument`]; data that does not match is ignored (the
/// spec says to fetch the content the ordinary way then).
pub(crate) fn embedded(desc: &Descriptor) -> Result<Option<Vec<u8>>> {
    if desc.data.is_none() {
        return Ok(None);
    }
    desc.embedded_data()
        .map_err(|e| Error::invalid("descriptor data", InvalidArgumentKind::Types(Box::new(e))))
}

/// A reader over the descriptor's embedded data, when usable (see [`embedded`]).
pub(crate) fn embedded_reader(desc: &Descriptor) -> Result<Option<Box<dyn ReaderAt>>> {
    Ok(embedded(desc)?.map(|b| Box::new(BytesReaderAt::new(b)) as Box<dyn ReaderAt>))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_reads_and_seeks() {
        let ra = BytesReaderAt::new(b"0123456789".to_vec());
        let mut s = SectionReader::section(&ra, 2, 5);
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert_eq!(out, "23456");
        assert_eq!(s.seek(SeekFrom::Start(3)).unwrap(), 3);
        let mut b = [0u8; 8];
        assert_eq!(s.read(&mut b).unwrap(), 2);
        assert_eq!(&b[..2], b"56");
        assert_eq!(s.seek(SeekFrom::End(-1)).unwrap(), 4);
        assert!(s.seek(SeekFrom::Current(-9)).is_err());
        let past = SectionReader::section(&ra, 20, 5);
        assert!(past.is_empty());
    }
}
