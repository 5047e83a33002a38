//! Chunking equivalence of `oci_tarfile::Reader::from_stream`: the same archive fed in short
//! reads of fuzzer-chosen sizes gives the same verdict, the same entries and the same
//! `manifest.json` as the whole bytes given at once (`Reader::from_bytes`).
#![no_main]

use std::io::{self, Read};

use libfuzzer_sys::fuzz_target;
use oci_tarfile::Reader;

/// Hands out the archive in reads no longer than the next chunk size (cycling; a size of 0
/// counts as 1, so that every read makes progress).
struct ShortReads<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    next: usize,
}

impl Read for ShortReads<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.data.is_empty() || buf.is_empty() {
            return Ok(0);
        }
        let size = self
            .sizes
            .get(self.next % self.sizes.len().max(1))
            .map_or(1, |&s| usize::from(s).max(1));
        self.next += 1;
        let n = size.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

// Input: one byte N, then N chunk sizes, then the archive (so seeds are a tar behind a
// short prefix).
fuzz_target!(|bytes: &[u8]| {
    let Some((&n, rest)) = bytes.split_first() else {
        return;
    };
    let (sizes, archive) = rest.split_at(usize::from(n).min(rest.len()));
    let archive = archive.to_vec();
    let whole = Reader::from_bytes(archive.clone());
    let chunked = Reader::from_stream(ShortReads {
        data: &archive,
        sizes,
        next: 0,
    });
    match (whole, chunked) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.entries(), b.entries());
            assert_eq!(a.manifest(), b.manifest());
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("whole: {a:?}, chunked: {b:?}"),
    }
});
