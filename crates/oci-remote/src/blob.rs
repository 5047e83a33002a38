//! Blobs: existence by `HEAD`, download verified as bytes flow, resumed with a `Range`
//! request when the connection breaks midway.

use std::io::{self, Read};

use oci_partial::BlobReader;
use oci_types::{Digest, HashingReader};

use crate::error::{Error, ResponseKind, Result};
use crate::http::Call;
use crate::repository::Repository;

impl Repository {
    /// The blob's size if the repository has it (`HEAD /v2/NAME/blobs/DIGEST`), `None` if not.
    pub fn blob_exists(&self, digest: &Digest) -> Result<Option<u64>> {
        let answer = self.send(
            &self.pull_scope(),
            Call::new("HEAD", self.path(&format!("blobs/{digest}"))),
        )?;
        match answer.status() {
            200 => Ok(Some(
                answer
                    .header("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            )),
            404 => Ok(None),
            _ => Err(answer.into_error("HEAD")),
        }
    }

    /// Streams a blob, verifying its digest (and `size`, when given) as bytes flow: the reader
    /// fails at the end when they disagree, naming both digests. A connection that breaks
    /// midway is resumed where it stopped (`Range: bytes=N-`), as often as the client's
    /// retries allow.
    pub fn blob(&self, digest: &Digest, size: Option<u64>) -> Result<BlobReader> {
        Ok(Box::new(self.blob_hashing(digest, size)?))
    }

    /// [`Repository::blob`] as the [`HashingReader`] that verifies it: a consumer that keeps
    /// every byte (a content store) can take its digest instead of hashing the blob again.
    pub fn blob_hashing(
        &self,
        digest: &Digest,
        size: Option<u64>,
    ) -> Result<HashingReader<BlobReader>> {
        let inner = self.open_blob(digest, 0)?;
        let resuming = ResumingReader {
            repository: self.clone(),
            digest: digest.clone(),
            offset: 0,
            inner,
            retries_left: self.client.options().retries_value().0,
        };
        let resuming: BlobReader = Box::new(resuming);
        Ok(HashingReader::verifying(resuming, digest.clone(), size)?)
    }

    /// `GET` of the blob from `offset` on.
    fn open_blob(&self, digest: &Digest, offset: u64) -> Result<Box<dyn Read + Send>> {
        let mut call = Call::new("GET", self.path(&format!("blobs/{digest}")));
        if offset > 0 {
            call = call.header("Range", format!("bytes={offset}-"));
        }
        let answer = self.send(&self.pull_scope(), call)?;
        match answer.status() {
            200 if offset > 0 => {
                // The registry ignored the range: skip what was read already.
                let mut reader = answer.into_reader();
                let skipped = io::copy(&mut (&mut reader).take(offset), &mut io::sink())
                    .map_err(|e| Error::io(format!("resuming blob {digest}"), e))?;
                if skipped != offset {
                    return Err(Error::InvalidResponse {
                        url: self.path(&format!("blobs/{digest}")),
                        kind: ResponseKind::BlobShorter { skipped },
                    });
                }
                Ok(Box::new(reader))
            }
            200 | 206 => Ok(Box::new(answer.into_reader())),
            404 => Err(Error::NotFound {
                what: "blob",
                reference: digest.to_string(),
                repository: self.to_string(),
            }),
            _ => Err(answer.into_error("GET")),
        }
    }
}

/// A blob download that reopens the connection from the current offset on a reset.
struct ResumingReader {
    repository: Repository,
    digest: Digest,
    offset: u64,
    inner: Box<dyn Read + Send>,
    retries_left: u32,
}

impl Read for ResumingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.offset += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if self.retries_left > 0 && resumable(&e) => {
                    self.retries_left -= 1;
                    self.inner = self
                        .repository
                        .open_blob(&self.digest, self.offset)
                        .map_err(|reopen| {
                            io::Error::other(format!("{e}; resuming failed: {reopen}"))
                        })?;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn resumable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::TimedOut
    )
}
