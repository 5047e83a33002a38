//! Deterministic, seekable pseudo-random content of any length, generated on the fly (so
//! large blobs need no memory), and its digest.

use std::io::{self, Read, Seek, SeekFrom};

use oci_types::{Digest, Digester};

/// `len` bytes: byte `i` is byte `i % 8` of `splitmix64(seed ^ (i / 8))`.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    seed: u64,
    len: u64,
    pos: u64,
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Pattern {
    pub(crate) fn new(seed: u64, len: u64) -> Pattern {
        Pattern { seed, len, pos: 0 }
    }

    /// The digest of the first `n` bytes.
    pub(crate) fn digest_of_prefix(&self, n: u64) -> Digest {
        let mut d = Digester::new_sha256();
        io::copy(&mut Pattern::new(self.seed, n), &mut d).unwrap();
        d.finish()
    }

    pub(crate) fn digest(&self) -> Digest {
        self.digest_of_prefix(self.len)
    }

    pub(crate) fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        Pattern::new(self.seed, self.len)
            .read_to_end(&mut v)
            .unwrap();
        v
    }
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min((self.len - self.pos.min(self.len)) as usize);
        let mut i = 0;
        while i < n {
            let at = self.pos + i as u64;
            let block = splitmix64(self.seed ^ (at / 8)).to_le_bytes();
            let off = (at % 8) as usize;
            let take = (8 - off).min(n - i);
            buf[i..i + take].copy_from_slice(&block[off..off + take]);
            i += take;
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Pattern {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(n) => n,
            SeekFrom::Current(d) => self.pos.checked_add_signed(d).unwrap(),
            SeekFrom::End(d) => self.len.checked_add_signed(d).unwrap(),
        };
        Ok(self.pos)
    }
}
