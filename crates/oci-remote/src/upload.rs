//! Blob uploads: monolithic (`POST` then one `PUT`), chunked (`PATCH`es with `Content-Range`,
//! then `PUT ?digest=`), cross-repository mounts, and resumption of a chunk cut off midway.

use std::io::{self, Read};
use std::sync::mpsc;
use std::thread;

use oci_types::{Digest, Digester};

use crate::error::{Error, ResponseKind, Result};
use crate::http::{query_escape, Answer, Call, Payload};
use crate::link;
use crate::repository::Repository;

/// An upload session the registry opened (`POST /v2/NAME/blobs/uploads/`): the URL of its next
/// request and how many bytes it holds.
///
/// Sessions outlive connections: a chunk cut off midway is completed by asking the registry
/// how much arrived ([`UploadSession::status`]) and sending the rest, on registries that
/// allow it. Distribution 2.8 (Docker's `registry:2`) does not: it cancels a session whose
/// stored size disagrees with the offset in its `_state` token, so there a cut chunk fails
/// the upload and the registry keeps nothing of it.
#[derive(Debug, Clone)]
pub struct UploadSession {
    repository: Repository,
    location: String,
    offset: u64,
}

/// What a mount request did.
#[derive(Debug)]
#[non_exhaustive]
pub enum Mount {
    /// The blob now is in the repository; nothing to upload.
    Mounted,
    /// The registry could not mount it and opened an upload session instead.
    Started(UploadSession),
}

impl Repository {
    /// Opens an upload session.
    pub fn start_upload(&self) -> Result<UploadSession> {
        let answer = self.send(
            &self.push_scope(),
            Call::new("POST", self.path("blobs/uploads/")).body(Payload::Bytes(&[])),
        )?;
        match answer.status() {
            202 => UploadSession::from_answer(self.clone(), &answer, 0),
            _ => Err(answer.into_error("POST")),
        }
    }

    /// Asks the registry to mount blob `digest` from repository `from` of the same registry
    /// (`POST ...?mount=DIGEST&from=FROM`). Registries that cannot mount (the blob is not in
    /// `from`, or they do not mount at all) open an upload session instead.
    pub fn mount_blob(&self, digest: &Digest, from: &str) -> Result<Mount> {
        let mut scopes = self.push_scope();
        scopes.push(format!("repository:{from}:pull"));
        let url = format!(
            "{}?mount={digest}&from={}",
            self.path("blobs/uploads/"),
            query_escape(from)
        );
        let answer = self.send(&scopes, Call::new("POST", url).body(Payload::Bytes(&[])))?;
        match answer.status() {
            201 => Ok(Mount::Mounted),
            202 => Ok(Mount::Started(UploadSession::from_answer(
                self.clone(),
                &answer,
                0,
            )?)),
            _ => Err(answer.into_error("POST")),
        }
    }

    /// Uploads a blob whose digest and size are known, in one `PUT` streaming `reader`.
    ///
    /// The registry checks the digest of what arrives and refuses a mismatch, so a wrong
    /// stream never becomes a blob. The stream is sent once; to retry, call again with a new
    /// reader.
    pub fn upload_blob(
        &self,
        reader: &mut (dyn Read + Send),
        digest: &Digest,
        size: u64,
    ) -> Result<()> {
        let session = self.start_upload()?;
        session.finish_with(reader, digest, size)
    }

    /// Uploads a blob from bytes in memory (configs, small blobs), retried as the client
    /// allows.
    pub fn upload_bytes(&self, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::sha256(bytes);
        let session = self.start_upload()?;
        session.finish_bytes(bytes, &digest)?;
        Ok(digest)
    }

    /// Uploads a stream whose digest and size are only known at its end, chunk by chunk, and
    /// returns them. This is how a streaming layer (`oci_stream::StreamLayer`) is pushed in
    /// one pass.
    ///
    /// One thread reads the next chunk while the current one is sent, so the producer of the
    /// stream (a compressor) keeps running during network round trips; at most three chunks
    /// are in memory. A chunk cut off midway is resumed from what the registry received.
    pub fn upload_stream(&self, reader: &mut (dyn Read + Send)) -> Result<(Digest, u64)> {
        self.upload_chunked(reader, true, |_, hashed| {
            hashed.ok_or_else(|| Error::io("hashing the upload", io::Error::other("no digest")))
        })
    }

    /// The chunked upload of `upload_stream`. Chunks are hashed when `hash` is set; at the
    /// end `digest_of(size, hashed)` names the digest to finish with: the one hashed here, or
    /// one from a source that hashed its own output, such as a streaming layer (the registry
    /// checks it against what arrived either way). Returns that digest and the size sent.
    pub(crate) fn upload_chunked(
        &self,
        reader: &mut (dyn Read + Send),
        hash: bool,
        digest_of: impl FnOnce(u64, Option<Digest>) -> Result<Digest>,
    ) -> Result<(Digest, u64)> {
        let mut digester = hash.then(Digester::new_sha256);
        let chunk_size = self.client.options().chunk_size_value();
        let mut session = self.start_upload()?;
        let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(1);
        let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
        let mut size = 0u64;
        thread::scope(|scope| -> Result<(Digest, u64)> {
            let producer = scope.spawn(move || -> io::Result<()> {
                loop {
                    let mut chunk = empty_rx
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(chunk_size));
                    chunk.clear();
                    let n = (&mut *reader)
                        .take(chunk_size as u64)
                        .read_to_end(&mut chunk)?;
                    let last = n < chunk_size;
                    if n > 0 && full_tx.send(chunk).is_err() {
                        // The sender stopped (an upload error): stop reading.
                        return Ok(());
                    }
                    if last {
                        return Ok(());
                    }
                }
            });
            let mut send_error = None;
            for chunk in full_rx.iter() {
                if let Some(d) = digester.as_mut() {
                    d.update(&chunk);
                }
                size += chunk.len() as u64;
                if let Err(e) = session.patch_resuming(&chunk) {
                    send_error = Some(e);
                    break;
                }
                // The producer may have gone; then the buffer is simply dropped.
                let _ = empty_tx.send(chunk);
            }
            drop(full_rx);
            let produced = producer.join();
            if let Some(e) = send_error {
                // Best effort: a registry that still knows the session may free it now.
                let _ = session.clone().cancel();
                return Err(e);
            }
            match produced {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(Error::io("reading the stream to upload", e)),
                Err(_) => {
                    return Err(Error::io(
                        "reading the stream to upload",
                        io::Error::other("the reading thread panicked"),
                    ))
                }
            }
            let digest = digest_of(size, digester.take().map(Digester::finish))?;
            session.finish_bytes(&[], &digest)?;
            Ok((digest, size))
        })
    }
}

impl UploadSession {
    fn from_answer(repository: Repository, answer: &Answer, offset: u64) -> Result<UploadSession> {
        let location = answer
            .header("location")
            .ok_or_else(|| Error::InvalidResponse {
                url: answer.url.clone(),
                kind: ResponseKind::NoLocation {
                    status: answer.status(),
                },
            })?;
        Ok(UploadSession {
            location: link::resolve(&answer.url, location),
            repository,
            offset,
        })
    }

    /// Reopens a session from its location URL, for example one saved by an earlier process;
    /// asks the registry how much it holds.
    pub fn resume(repository: &Repository, location: &str) -> Result<UploadSession> {
        let mut session = UploadSession {
            repository: repository.clone(),
            location: location.to_owned(),
            offset: 0,
        };
        session.status()?;
        Ok(session)
    }

    /// The URL of the session's next request.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// How many bytes the registry holds, as far as this session knows.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Asks the registry how many bytes it holds (`GET` of the session: `Range: 0-N`) and
    /// returns that; the session continues from there.
    pub fn status(&mut self) -> Result<u64> {
        let answer = self.repository.send(
            &self.repository.push_scope(),
            Call::new("GET", self.location.clone()),
        )?;
        match answer.status() {
            204 | 200 => {
                let offset = answer
                    .header("range")
                    .map(parse_range)
                    .transpose()
                    .map_err(|kind| Error::InvalidResponse {
                        url: answer.url.clone(),
                        kind,
                    })?
                    .unwrap_or(0);
                if let Some(location) = answer.header("location") {
                    self.location = link::resolve(&answer.url, location);
                }
                self.offset = offset;
                Ok(offset)
            }
            404 => Err(Error::NotFound {
                what: "upload session",
                reference: self.location.clone(),
                repository: self.repository.to_string(),
            }),
            _ => Err(answer.into_error("GET")),
        }
    }

    /// Sends one chunk (`PATCH` with `Content-Range`), appended at the session's offset.
    pub fn patch(&mut self, chunk: &[u8]) -> Result<()> {
        let start = self.offset;
        let end = start + chunk.len() as u64;
        let mut call = Call::new("PATCH", self.location.clone())
            .header("Content-Type", "application/octet-stream")
            .body(Payload::Bytes(chunk));
        if !chunk.is_empty() {
            call = call.header("Content-Range", format!("{start}-{}", end - 1));
        }
        let answer = self.repository.send(&self.repository.push_scope(), call)?;
        match answer.status() {
            202 | 204 => {
                if let Some(location) = answer.header("location") {
                    self.location = link::resolve(&answer.url, location);
                }
                self.offset = end;
                Ok(())
            }
            _ => Err(answer.into_error("PATCH")),
        }
    }

    /// Sends a chunk; when the request fails midway, asks the registry how much of it arrived
    /// and sends the rest, as often as the client's retries allow.
    pub fn patch_resuming(&mut self, chunk: &[u8]) -> Result<()> {
        let start = self.offset;
        let (mut retries, mut backoff) = self.repository.client.options().retries_value();
        let mut sent_from = 0usize;
        loop {
            let error = match self.patch(&chunk[sent_from..]) {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            // A broken connection, a 5xx, or an offset the registry disputes (its handler
            // of the broken request may still have been appending when it was asked).
            let recoverable = matches!(error, Error::Transport { .. })
                || error.status().is_some_and(|s| s >= 500 || s == 416)
                || matches!(&error, Error::Status { code: Some(c), .. } if c == "BLOB_UPLOAD_INVALID");
            if retries == 0 || !recoverable {
                return Err(error);
            }
            retries -= 1;
            thread::sleep(backoff);
            backoff *= 2;
            let held = match self.status() {
                Ok(held) => held,
                // The registry dropped the session: distribution 2.8 cancels an upload whose
                // stored size no longer matches its state token, which a chunk cut off midway
                // causes. Nothing can be resumed; the original failure says why.
                Err(Error::NotFound { .. }) => return Err(error),
                Err(_) if retries > 0 => {
                    // The status request failed too; keep the old offset and try again.
                    self.offset = start + sent_from as u64;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if held < start || held > start + chunk.len() as u64 {
                return Err(Error::InvalidResponse {
                    url: self.location.clone(),
                    kind: ResponseKind::HeldOutsideChunk {
                        held,
                        start,
                        end: start + chunk.len() as u64,
                    },
                });
            }
            sent_from = (held - start) as usize;
            if sent_from == chunk.len() {
                return Ok(());
            }
        }
    }

    /// Completes the upload with the rest of the blob in `reader` (one `PUT ?digest=`).
    pub fn finish_with(
        self,
        reader: &mut (dyn Read + Send),
        digest: &Digest,
        size: u64,
    ) -> Result<()> {
        let remaining = size.saturating_sub(self.offset);
        let call = Call::new("PUT", self.finish_url(digest))
            .header("Content-Type", "application/octet-stream")
            .body(Payload::Reader(reader, Some(remaining)));
        let answer = self.repository.send(&self.repository.push_scope(), call)?;
        self.check_finished(answer, digest)
    }

    /// Completes the upload with `bytes` as its last part (often empty), retried as the
    /// client allows.
    pub fn finish_bytes(self, bytes: &[u8], digest: &Digest) -> Result<()> {
        let call = Call::new("PUT", self.finish_url(digest))
            .header("Content-Type", "application/octet-stream")
            .body(Payload::Bytes(bytes));
        let answer = self.repository.send(&self.repository.push_scope(), call)?;
        self.check_finished(answer, digest)
    }

    /// Cancels the session (`DELETE`); the registry drops what it received.
    pub fn cancel(self) -> Result<()> {
        let answer = self.repository.send(
            &self.repository.push_scope(),
            Call::new("DELETE", self.location.clone()),
        )?;
        match answer.status() {
            200..=299 | 404 => Ok(()),
            _ => Err(answer.into_error("DELETE")),
        }
    }

    fn finish_url(&self, digest: &Digest) -> String {
        let separator = if self.location.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{separator}digest={digest}", self.location)
    }

    fn check_finished(&self, answer: Answer, digest: &Digest) -> Result<()> {
        match answer.status() {
            201 | 204 => {
                if let Some(returned) = answer.header("docker-content-digest") {
                    if returned != digest.as_str() {
                        return Err(Error::InvalidResponse {
                            url: answer.url.clone(),
                            kind: ResponseKind::BlobDigest {
                                uploaded: Box::new(digest.clone()),
                                stored: returned.to_owned(),
                            },
                        });
                    }
                }
                Ok(())
            }
            _ => Err(answer.into_error("PUT")),
        }
    }
}

/// How many bytes a `Range: 0-N` header says the registry holds: `N + 1`, except that
/// distribution answers `0-0` for an empty session (and, ambiguously, for one holding one
/// byte), which is read as empty.
fn parse_range(value: &str) -> std::result::Result<u64, ResponseKind> {
    let value = value.trim();
    let value = value.strip_prefix("bytes=").unwrap_or(value);
    let owned = || value.to_owned();
    let (start, end) = value
        .split_once('-')
        .ok_or_else(|| ResponseKind::RangeNotStartEnd { value: owned() })?;
    let start: u64 = start
        .trim()
        .parse()
        .map_err(|_| ResponseKind::RangeBadStart { value: owned() })?;
    let end: u64 = end
        .trim()
        .parse()
        .map_err(|_| ResponseKind::RangeBadEnd { value: owned() })?;
    if start != 0 {
        return Err(ResponseKind::RangeNotFromZero { value: owned() });
    }
    Ok(if end == 0 { 0 } else { end.saturating_add(1) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("0-0").ok(), Some(0));
        assert_eq!(parse_range("0-1023").ok(), Some(1024));
        assert_eq!(parse_range("bytes=0-9").ok(), Some(10));
        assert!(matches!(
            parse_range("5-9"),
            Err(ResponseKind::RangeNotFromZero { value }) if value == "5-9"
        ));
        assert!(matches!(
            parse_range("0-x"),
            Err(ResponseKind::RangeBadEnd { .. })
        ));
        assert!(matches!(
            parse_range("x-1"),
            Err(ResponseKind::RangeBadStart { .. })
        ));
        assert!(matches!(
            parse_range("10"),
            Err(ResponseKind::RangeNotStartEnd { .. })
        ));
        assert_eq!(parse_range(&format!("0-{}", u64::MAX)).ok(), Some(u64::MAX));
    }
}
