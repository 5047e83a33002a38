//! Where an archive's bytes live (a file or memory), read by position so that any number of
//! readers can stream different entries at once without sharing a cursor.

use std::fs::File;
use std::io::{self, Read};
use std::sync::Arc;

/// The bytes of an uncompressed tar archive.
pub(crate) enum Storage {
    /// A file: the archive itself, or a temporary spool (already unlinked) for a stream.
    File(File),
    /// Bytes in memory.
    Memory(Arc<[u8]>),
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Storage::File(file) => f.debug_tuple("File").field(file).finish(),
            Storage::Memory(m) => write!(f, "Memory({} bytes)", m.len()),
        }
    }
}

impl Storage {
    /// Reads at `offset` into `buf`, returning how many bytes were read (0 at the end).
    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        match self {
            Storage::File(f) => file_read_at(f, buf, offset),
            Storage::Memory(m) => {
                let Ok(start) = usize::try_from(offset) else {
                    return Ok(0);
                };
                if start >= m.len() {
                    return Ok(0);
                }
                let n = buf.len().min(m.len() - start);
                buf[..n].copy_from_slice(&m[start..start + n]);
                Ok(n)
            }
        }
    }

    /// Fills `buf` from `offset`; fails with `UnexpectedEof` when the storage ends first.
    pub(crate) fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read_at(buf, offset) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The length in bytes.
    pub(crate) fn len(&self) -> io::Result<u64> {
        match self {
            Storage::File(f) => Ok(f.metadata()?.len()),
            Storage::Memory(m) => Ok(m.len() as u64),
        }
    }
}

#[cfg(unix)]
fn file_read_at(f: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, offset)
}

#[cfg(windows)]
fn file_read_at(f: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, offset)
}

/// A reader over `len` bytes of the storage from `offset`.
pub(crate) struct Section {
    storage: Arc<Storage>,
    offset: u64,
    remaining: u64,
}

impl Section {
    pub(crate) fn new(storage: Arc<Storage>, offset: u64, len: u64) -> Section {
        Section {
            storage,
            offset,
            remaining: len,
        }
    }
}

impl Read for Section {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.storage.read_at(&mut buf[..want], self.offset)?;
        if n == 0 {
            // The file shrank under us: do not pretend the entry ended cleanly.
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "archive ended inside an entry",
            ));
        }
        self.offset += n as u64;
        self.remaining -= n as u64;
        Ok(n)
    }
}
