//! Helpers over the store interfaces, after containerd's `content/helpers.go`: copying into
//! writers (resuming where they stand), whole-blob reads and writes, and waiting for a ref.

use std::io::{self, Read, Seek, SeekFrom};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use oci_types::{Descriptor, Digest, HashingReader};

use crate::reader::embedded;
use crate::InvalidArgumentKind;
use crate::{
    CommitOpts, Error, Ingester, Manager, Precondition, Provider, ReaderAt, Result, SectionReader,
    Subject, Writer, WriterOpts,
};

/// The buffer size of the copy helpers.
pub const COPY_BUFFER_SIZE: usize = 1 << 20;

/// How long [`write_blob`] waits for another writer of the same ref.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

fn ingest_subject<W: Writer + ?Sized>(w: &W) -> Subject {
    Subject::Ingest(w.status().map(|s| s.reference).unwrap_or_default())
}

/// Copies all of `src` into `w` with a large buffer, returning the byte count. Errors of the
/// writer come back as they are (see [`Error::from_io`]).
pub(crate) fn pump<W: Writer + ?Sized>(w: &mut W, src: &mut dyn Read) -> Result<u64> {
    let mut buf = vec![0u8; COPY_BUFFER_SIZE];
    let mut total = 0u64;
    loop {
        // Fill the buffer as far as the source allows, so the writer sees few, large writes.
        let mut filled = 0;
        while filled < buf.len() {
            match src.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::from_io(e, ingest_subject(w))),
            }
        }
        if filled == 0 {
            return Ok(total);
        }
        w.write_all(&buf[..filled])
            .map_err(|e| Error::from_io(e, ingest_subject(w)))?;
        total += filled as u64;
        if filled < buf.len() {
            // A short fill means the source hit its end.
            return Ok(total);
        }
    }
}

/// Reads and drops `n` bytes of `r`; an early end is an error.
fn discard(r: &mut dyn Read, n: u64, subject: impl Fn() -> Subject) -> Result<()> {
    let skipped =
        io::copy(&mut r.take(n), &mut io::sink()).map_err(|e| Error::from_io(e, subject()))?;
    if skipped != n {
        let e = io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("source ended after {skipped} bytes, before the writer's offset {n}"),
        );
        return Err(Error::from_io(e, subject()));
    }
    Ok(())
}

fn finish_copy(
    w: &mut dyn Writer,
    offset: u64,
    copied: u64,
    size: Option<u64>,
    expected: Option<&Digest>,
    opts: CommitOpts,
) -> Result<()> {
    if let Some(size) = size {
        if offset + copied < size {
            return Err(Error::FailedPrecondition {
                subject: ingest_subject(w),
                reason: Box::new(Precondition::SizeMismatch {
                    expected: size,
                    actual: offset + copied,
                }),
            });
        }
    }
    match w.commit(size, expected, opts) {
        Err(e) if e.is_already_exists() => Ok(()),
        other => other,
    }
}

/// Copies `r` into `w` and commits it with `size` and `expected` (either may be unknown).
/// When `w` already holds bytes (a resumed ingest), that many bytes of `r` are read and
/// dropped first; use [`copy_seek`] to seek past them instead. Content the store already has
/// counts as success.
pub fn copy(
    w: &mut dyn Writer,
    mut r: impl Read,
    size: Option<u64>,
    expected: Option<&Digest>,
    opts: CommitOpts,
) -> Result<()> {
    let offset = w.status()?.offset;
    discard(&mut r, offset, || ingest_subject(w))?;
    let copied = pump(w, &mut r)?;
    finish_copy(w, offset, copied, size, expected, opts)
}

/// [`copy`] for a seekable source: seeks `r` to the writer's offset instead of reading the
/// bytes the writer already has.
pub fn copy_seek(
    w: &mut dyn Writer,
    mut r: impl Read + Seek,
    size: Option<u64>,
    expected: Option<&Digest>,
    opts: CommitOpts,
) -> Result<()> {
    let offset = w.status()?.offset;
    if offset > 0 {
        let at = r
            .seek(SeekFrom::Start(offset))
            .map_err(|e| Error::from_io(e, ingest_subject(w)))?;
        if at != offset {
            let e = io::Error::other(format!("seek to {offset} landed at {at}"));
            return Err(Error::from_io(e, ingest_subject(w)));
        }
    }
    let copied = pump(w, &mut r)?;
    finish_copy(w, offset, copied, size, expected, opts)
}

/// Copies `r` into `w` without committing, skipping (by reading) the bytes `w` already has;
/// returns the number of bytes written.
pub fn copy_reader(w: &mut dyn Writer, mut r: impl Read) -> Result<u64> {
    let offset = w.status()?.offset;
    discard(&mut r, offset, || ingest_subject(w))?;
    pump(w, &mut r)
}

/// [`copy_reader`] of a [`HashingReader`]: skips (by reading) the bytes `w` already has,
/// then [`Writer::copy_hashed`], so a fresh ingest takes the reader's digest instead of
/// hashing the bytes again. Returns the number of bytes written.
pub fn copy_reader_hashed(
    w: &mut dyn Writer,
    r: &mut HashingReader<Box<dyn Read + Send>>,
) -> Result<u64> {
    let offset = w.status()?.offset;
    discard(r, offset, || ingest_subject(w))?;
    w.copy_hashed(r)
}

/// Copies bytes `w`'s offset up to `n` of `ra` into `w`, without committing. Fewer than `n`
/// bytes in `ra` is an error.
pub fn copy_reader_at(w: &mut dyn Writer, ra: &dyn ReaderAt, n: u64) -> Result<()> {
    let offset = w.status()?.offset;
    let want = n.saturating_sub(offset);
    let copied = pump(w, &mut SectionReader::section(ra, offset, want))?;
    if copied < want {
        let e = io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("reader has {} bytes, expected {n}", offset + copied),
        );
        return Err(Error::from_io(e, ingest_subject(w)));
    }
    Ok(())
}

/// Reads a whole blob into memory, refusing blobs over `limit` bytes
/// ([`Error::TooLarge`]). Embedded descriptor data is used when it matches. The bytes are
/// checked against `desc.size` and `desc.digest` ([`Error::FailedPrecondition`] otherwise).
pub fn read_blob(provider: &dyn Provider, desc: &Descriptor, limit: u64) -> Result<Vec<u8>> {
    let too_large = |size| Error::TooLarge {
        digest: desc.digest.clone(),
        size,
        limit,
    };
    if desc.size > limit {
        return Err(too_large(desc.size));
    }
    if let Some(bytes) = embedded(desc)? {
        return Ok(bytes);
    }
    let ra = provider.reader_at(desc)?;
    let subject = || Subject::Blob(desc.digest.clone());
    if ra.size() != desc.size {
        return Err(Error::FailedPrecondition {
            subject: subject(),
            reason: Box::new(Precondition::SizeMismatch {
                expected: desc.size,
                actual: ra.size(),
            }),
        });
    }
    let len = usize::try_from(desc.size).map_err(|_| too_large(desc.size))?;
    let mut buf = vec![0u8; len];
    let mut filled = 0;
    while filled < len {
        match ra.read_at(&mut buf[filled..], filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::from_io(e, subject())),
        }
    }
    if filled != len {
        return Err(Error::FailedPrecondition {
            subject: subject(),
            reason: Box::new(Precondition::SizeMismatch {
                expected: desc.size,
                actual: filled as u64,
            }),
        });
    }
    desc.digest.verify(&buf).map_err(|e| match e {
        oci_types::Error::DigestMismatch { expected, actual } => Error::FailedPrecondition {
            subject: subject(),
            reason: Box::new(Precondition::DigestMismatch { expected, actual }),
        },
        other => Error::invalid("digest", InvalidArgumentKind::Types(Box::new(other))),
    })?;
    Ok(buf)
}

/// Writes `r` as the blob `desc` names, through an ingest named `reference`, and commits it
/// with `opts`. Returns at once, reading nothing, when the store has the blob; waits up to
/// [`DEFAULT_LOCK_TIMEOUT`] for another writer of `reference`. The size and digest of what
/// was read must match `desc`.
pub fn write_blob(
    ingester: &dyn Ingester,
    reference: &str,
    r: impl Read,
    desc: &Descriptor,
    opts: CommitOpts,
) -> Result<()> {
    let wopts = WriterOpts::new(reference).with_descriptor(desc.clone());
    let mut w = match open_writer(ingester, wopts, DEFAULT_LOCK_TIMEOUT) {
        Err(e) if e.is_already_exists() => return Ok(()),
        other => other?,
    };
    copy(w.as_mut(), r, Some(desc.size), Some(&desc.digest), opts)
}

/// Opens a writer, retrying with randomised exponential backoff (up to 2 s between tries)
/// while the ref is locked by another writer, until `timeout` has passed; then returns the
/// last [`Error::Unavailable`]. Other errors return at once.
pub fn open_writer(
    ingester: &dyn Ingester,
    opts: WriterOpts,
    timeout: Duration,
) -> Result<Box<dyn Writer>> {
    let deadline = Instant::now() + timeout;
    let mut ceiling_ms: u64 = 16;
    let mut rng = seed();
    loop {
        match ingester.writer(opts.clone()) {
            Err(e) if e.is_unavailable() => {
                let now = Instant::now();
                if now >= deadline {
                    return Err(e);
                }
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let wait = Duration::from_millis(rng % ceiling_ms + 1).min(deadline - now);
                thread::sleep(wait);
                ceiling_ms = (ceiling_ms * 2).min(2048);
            }
            other => return other,
        }
    }
}

/// A xorshift seed that differs between threads and calls.
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() | 1
}

/// Whether the store has the blob `digest` (containerd's `content.Exists`).
pub fn exists(manager: &dyn Manager, digest: &Digest) -> Result<bool> {
    match manager.info(digest) {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// A sequential reader of the blob `desc` names (embedded data when it matches), without
/// verification; wrap it in [`oci_types::VerifyingReader`] to check the digest as you read.
pub fn open_reader(
    provider: &dyn Provider,
    desc: &Descriptor,
) -> Result<SectionReader<Box<dyn ReaderAt>>> {
    Ok(SectionReader::new(provider.reader_at(desc)?))
}
