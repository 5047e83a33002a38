//! Compression of one block: a complete gzip member, a complete zstd frame, or the bytes as
//! they are.
//!
//! Every block is compressed on its own, by a function of its bytes and the level alone, so
//! the concatenation is the same whatever thread compressed which block. Concatenated gzip
//! members form one valid gzip stream (RFC 1952 section 2.2, `gzip -d` and every OCI tool
//! read them all), and concatenated zstd frames one valid zstd stream.

use std::io;

use libdeflater::{CompressionLvl, Compressor};

/// The gzip header of every member: no name, no timestamp (MTIME 0), no flags, OS unknown
/// (255, as Go's `compress/gzip` writes). Byte 8 (XFL) is set per level.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
/// The largest payload of a stored deflate block.
const MAX_STORED: usize = 65_535;

/// Blocks of at least this many bytes are sampled before compression, to store without
/// trying what does not compress (random data, already compressed files).
const SAMPLE_MIN_BLOCK: usize = 64 << 10;
/// The number of samples taken from a block, evenly spaced.
const SAMPLES: usize = 16;
/// The size of one sample.
const SAMPLE_SIZE: usize = 4 << 10;
/// A sample "compresses" when level 1 gets it to at most this many bytes (97%).
const SAMPLE_LIMIT: usize = SAMPLE_SIZE * 97 / 100;

/// How one block is turned into output bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Codec {
    /// One gzip member per block, deflated by libdeflate at `level` (0: stored).
    Gzip {
        /// 0 to 12.
        level: u32,
    },
    /// One zstd frame per block at `level`, with a content checksum.
    Zstd {
        /// 1 to 22.
        level: u32,
    },
    /// The bytes unchanged.
    Identity,
}

impl Codec {
    /// Whether compressing in worker threads can help.
    pub(crate) fn is_parallel(&self) -> bool {
        !matches!(self, Codec::Identity)
    }

    /// Writes the encoding of `input` to `out` (cleared first).
    pub(crate) fn encode(&self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        out.clear();
        match self {
            Codec::Gzip { level } => gzip_member(*level, input, out),
            Codec::Zstd { level } => zstd_frame(*level, input, out),
            Codec::Identity => {
                out.extend_from_slice(input);
                Ok(())
            }
        }
    }
}

/// The size of `len` bytes as stored deflate blocks.
fn stored_size(len: usize) -> usize {
    len + 5 * len.div_ceil(MAX_STORED).max(1)
}

/// Appends one gzip member holding `input`.
fn gzip_member(level: u32, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    let mut header = GZIP_HEADER;
    header[8] = match level {
        1 => 4,   // fastest
        9.. => 2, // slowest
        _ => 0,
    };
    out.extend_from_slice(&header);
    let deflated = level > 0 && !looks_incompressible(input) && deflate(level, input, out)?;
    if !deflated {
        store(input, out);
    }
    out.extend_from_slice(&libdeflater::crc32(input).to_le_bytes());
    // ISIZE is the input size modulo 2^32 (RFC 1952).
    out.extend_from_slice(&((input.len() & 0xffff_ffff) as u32).to_le_bytes());
    Ok(())
}

/// Appends the raw deflate stream of `input` (one final block sequence) when it is smaller
/// than storing; returns whether it did. A fresh compressor per block: its output is a
/// function of the input and the level alone.
fn deflate(level: u32, input: &[u8], out: &mut Vec<u8>) -> io::Result<bool> {
    let mut c = compressor(level)?;
    let start = out.len();
    let bound = c.deflate_compress_bound(input.len());
    out.resize(start + bound, 0);
    match c.deflate_compress(input, &mut out[start..]) {
        Ok(n) if n < stored_size(input.len()) => {
            out.truncate(start + n);
            Ok(true)
        }
        _ => {
            out.truncate(start);
            Ok(false)
        }
    }
}

fn compressor(level: u32) -> io::Result<Compressor> {
    let lvl = i32::try_from(level)
        .ok()
        .and_then(|l| CompressionLvl::new(l).ok())
        .ok_or_else(|| io::Error::other(format!("invalid libdeflate level {level}")))?;
    Ok(Compressor::new(lvl))
}

/// Appends `input` as stored deflate blocks, the last one final.
fn store(input: &[u8], out: &mut Vec<u8>) {
    let mut chunks = input.chunks(MAX_STORED).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
        return;
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let len = chunk.len() as u16; // chunks are at most 65535 bytes
        out.push(u8::from(last)); // BFINAL, BTYPE 00, padding to the byte
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

/// Whether none of [`SAMPLES`] evenly spaced samples of the block compresses at level 1:
/// then the block is stored without trying (random or already compressed data, where
/// compressing costs the most time and gains nothing). Small blocks are never skipped.
fn looks_incompressible(input: &[u8]) -> bool {
    if input.len() < SAMPLE_MIN_BLOCK {
        return false;
    }
    // Level 1 (libdeflate's `fastest()` is level 0, which does not compress).
    let Ok(mut c) = compressor(1) else {
        return false;
    };
    let mut buf = [0u8; SAMPLE_LIMIT];
    let step = input.len() / SAMPLES;
    (0..SAMPLES).all(|i| {
        let start = i * step;
        let sample = &input[start..start + SAMPLE_SIZE];
        c.deflate_compress(sample, &mut buf).is_err()
    })
}

/// Appends one zstd frame holding `input`, with its content size and checksum.
fn zstd_frame(level: u32, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    let level = i32::try_from(level).map_err(io::Error::other)?;
    let mut c = zstd::bulk::Compressor::new(level)?;
    c.include_checksum(true)?;
    out.reserve(zstd::zstd_safe::compress_bound(input.len()));
    c.compress_to_buffer(input, out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_blocks_have_the_predicted_size() {
        for len in [
            0,
            1,
            MAX_STORED - 1,
            MAX_STORED,
            MAX_STORED + 1,
            3 * MAX_STORED,
        ] {
            let input = vec![7u8; len];
            let mut out = Vec::new();
            store(&input, &mut out);
            assert_eq!(out.len(), stored_size(len), "len {len}");
        }
    }

    #[test]
    fn samples_tell_random_from_text() {
        let mut x = 0x1234_5678_9abc_def0_u64;
        let random: Vec<u8> = (0..(1 << 20))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        assert!(looks_incompressible(&random));
        let text = b"the quick brown fox jumps over the lazy dog ".repeat(30_000);
        assert!(!looks_incompressible(&text));
        assert!(
            !looks_incompressible(&random[..1000]),
            "small blocks are never skipped"
        );
    }
}
