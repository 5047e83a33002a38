//! Compression of one block: a run of raw deflate blocks for the single gzip member of the
//! whole stream, a complete zstd frame, or the bytes as they are.
//!
//! Every block is compressed by a function of its bytes, the level and (for igzip) the last
//! 32 KiB of the block before it, all known before any thread starts on it, so the
//! concatenation is the same whatever thread compressed which block.
//!
//! A gzip block ends with a sync flush: its deflate blocks are not final and it ends on a byte
//! boundary, so the blocks concatenate into one deflate stream behind one gzip header; the
//! pipeline adds the header, an empty final block, the CRC-32 of the whole input (combined
//! from the blocks' with [`crc32_combine`]) and its size. One member: decoders that stop after
//! the first member (`flate2::read::GzDecoder`, async-compression's default) read it all.
//! Concatenated zstd frames are one valid zstd stream.

use std::cell::RefCell;
use std::io;

use libdeflater::{CompressionLvl, Compressor};

#[cfg(feature = "isal")]
use crate::isal;
use crate::scan;

/// The gzip header: no name, no timestamp (MTIME 0), no flags, OS unknown (255, as Go's
/// `compress/gzip` writes). Byte 8 (XFL) is set per level by [`gzip_header`].
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
/// An empty final deflate block (fixed Huffman codes, end-of-block only): ends the stream.
const FINAL_BLOCK: [u8; 2] = [3, 0];
/// An empty stored block that is not final, from its LEN on (what a sync flush writes).
const SYNC_MARK: [u8; 4] = [0, 0, 0xff, 0xff];
/// The largest payload of a stored deflate block.
const MAX_STORED: usize = 65_535;
/// The history a deflate match may reach back into, and so the useful size of a dictionary.
pub(crate) const WINDOW: usize = 32 << 10;

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
    /// Deflate blocks of one gzip member at `level` (0: stored); see [`gzip_engine`].
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

/// What deflates the blocks of a gzip level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    /// Stored blocks only.
    Store,
    /// ISA-L's igzip at this level (0 to 3), primed with the previous block's last 32 KiB.
    #[cfg(feature = "isal")]
    Isal(u32),
    /// libdeflate at this level (1 to 12); no dictionary.
    Libdeflate(u32),
}

/// The engine of each gzip level, chosen by measurement (ARCHITECTURE, oci-stream): igzip
/// level 1 for level 1, about three times cheaper per byte than any other deflate at a size
/// still below `pigz -1`'s; libdeflate at the same level from 2 on, where its ratio (level 2
/// is smaller than skopeo's output) is worth its CPU.
///
/// Without the `isal` feature, level 1 is libdeflate's level 1: larger CPU, other bytes.
pub(crate) fn gzip_engine(level: u32) -> Engine {
    match level {
        0 => Engine::Store,
        #[cfg(feature = "isal")]
        1 => Engine::Isal(1),
        l => Engine::Libdeflate(l),
    }
}

impl Codec {
    /// Whether compressing in worker threads can help.
    pub(crate) fn is_parallel(&self) -> bool {
        !matches!(self, Codec::Identity)
    }

    /// Whether blocks are primed with the end of the block before them.
    pub(crate) fn wants_dictionary(&self) -> bool {
        #[cfg(feature = "isal")]
        return matches!(self, Codec::Gzip { level } if matches!(gzip_engine(*level), Engine::Isal(_)));
        #[cfg(not(feature = "isal"))]
        false
    }

    /// Writes the encoding of `input` to `out` (cleared first); `dict` is the end of the
    /// input before it (empty for the first block, or when not [`Self::wants_dictionary`]).
    /// Returns the CRC-32 of `input` for gzip, 0 otherwise.
    pub(crate) fn encode(&self, dict: &[u8], input: &[u8], out: &mut Vec<u8>) -> io::Result<u32> {
        out.clear();
        match self {
            Codec::Gzip { level } => {
                gzip_blocks(gzip_engine(*level), dict, input, out)?;
                Ok(libdeflater::crc32(input))
            }
            Codec::Zstd { level } => zstd_frame(*level, input, out).map(|()| 0),
            Codec::Identity => {
                out.extend_from_slice(input);
                Ok(0)
            }
        }
    }
}

/// The gzip header of a stream at `level`.
pub(crate) fn gzip_header(level: u32) -> [u8; 10] {
    let mut header = GZIP_HEADER;
    header[8] = match level {
        1 => 4,   // fastest
        9.. => 2, // slowest
        _ => 0,
    };
    header
}

/// The end of a gzip stream: an empty final block, the CRC-32 of all the input and its size
/// modulo 2^32 (ISIZE, RFC 1952).
pub(crate) fn gzip_trailer(crc: u32, len: u64) -> [u8; 10] {
    let mut t = [0u8; 10];
    t[..2].copy_from_slice(&FINAL_BLOCK);
    t[2..6].copy_from_slice(&crc.to_le_bytes());
    t[6..].copy_from_slice(&((len & 0xffff_ffff) as u32).to_le_bytes());
    t
}

/// The size of `len` bytes as stored deflate blocks.
fn stored_size(len: usize) -> usize {
    len + 5 * len.div_ceil(MAX_STORED)
}

/// Appends `input` as deflate blocks that are not final and end on a byte boundary.
fn gzip_blocks(engine: Engine, dict: &[u8], input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    // Only igzip takes a dictionary.
    #[cfg(not(feature = "isal"))]
    let _ = dict;
    if input.is_empty() {
        return Ok(());
    }
    if engine == Engine::Store || looks_incompressible(input) {
        store(input, out);
        return Ok(());
    }
    let start = out.len();
    let deflated = match engine {
        #[cfg(feature = "isal")]
        Engine::Isal(level) => {
            isal::deflate_sync(level, dict, input, out)?;
            out.len() - start < stored_size(input.len())
        }
        Engine::Libdeflate(level) => libdeflate_sync(level, input, out)?,
        Engine::Store => false,
    };
    if !deflated {
        out.truncate(start);
        store(input, out);
    }
    Ok(())
}

/// Appends the deflate of `input` by libdeflate, its last block made not final and followed
/// by a sync flush, when that is smaller than storing; returns whether it did. libdeflate
/// only writes complete streams, so the last block header and the stream's end are found by
/// walking it ([`scan::ends`]). Each call of libdeflate is independent of the calls before
/// it, so the thread's compressor is reused ([`with_compressor`]): the output is a function of
/// the input and the level alone.
fn libdeflate_sync(level: u32, input: &[u8], out: &mut Vec<u8>) -> io::Result<bool> {
    let start = out.len();
    let compressed = with_compressor(level, |c| {
        let bound = c.deflate_compress_bound(input.len());
        out.resize(start + bound, 0);
        c.deflate_compress(input, &mut out[start..])
    })?;
    let n = match compressed {
        Ok(n) if n + SYNC_MARK.len() + 1 < stored_size(input.len()) => n,
        _ => {
            out.truncate(start);
            return Ok(false);
        }
    };
    out.truncate(start + n);
    let Some(ends) = scan::ends(&out[start..]) else {
        out.truncate(start);
        return Ok(false);
    };
    if ends.end.div_ceil(8) != n {
        out.truncate(start);
        return Ok(false);
    }
    // Clear BFINAL, and the padding bits after the end-of-block code.
    out[start + ends.last_header / 8] &= !(1u8 << (ends.last_header % 8));
    if ends.end % 8 != 0 {
        out[start + n - 1] &= (1u8 << (ends.end % 8)) - 1;
    }
    // An empty stored block that is not final: its 3 header bits are zeros in the padding of
    // the last byte when 3 of them are left, or in one more byte.
    if n * 8 - ends.end < 3 {
        out.push(0);
    }
    out.extend_from_slice(&SYNC_MARK);
    Ok(true)
}

thread_local! {
    /// The libdeflate compressors of this thread, one per level used. A compressor is a few
    /// hundred KiB of match-finder tables: allocating a fresh one for every block cost about
    /// 15% of the compression time (mostly the kernel zeroing new pages), and libdeflate
    /// keeps no state from one call to the next, so reusing it changes no output byte.
    static COMPRESSORS: RefCell<Vec<(u32, Compressor)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's libdeflate compressor for `level` (1 to 12), made on first use.
fn with_compressor<T>(level: u32, f: impl FnOnce(&mut Compressor) -> T) -> io::Result<T> {
    COMPRESSORS.with(|cell| {
        let mut all = cell.borrow_mut();
        let i = match all.iter().position(|(l, _)| *l == level) {
            Some(i) => i,
            None => {
                let lvl = i32::try_from(level)
                    .ok()
                    .and_then(|l| CompressionLvl::new(l).ok())
                    .ok_or_else(|| io::Error::other(format!("invalid libdeflate level {level}")))?;
                all.push((level, Compressor::new(lvl)));
                all.len() - 1
            }
        };
        Ok(f(&mut all[i].1))
    })
}

/// Appends `input` as stored deflate blocks, none of them final.
fn store(input: &[u8], out: &mut Vec<u8>) {
    for chunk in input.chunks(MAX_STORED) {
        let len = chunk.len() as u16; // chunks are at most 65535 bytes
        out.push(0); // BFINAL 0, BTYPE 00, padding to the byte
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
}

/// The CRC-32 of `a ++ b` from the CRC-32 of `a`, that of `b` and the length of `b`: `crc_a`
/// times x^(8 len_b) modulo the CRC polynomial, plus `crc_b` (zlib's `crc32_combine`).
pub(crate) fn crc32_combine(crc_a: u32, crc_b: u32, len_b: u64) -> u32 {
    multmodp(x8nmodp(len_b), crc_a) ^ crc_b
}

/// The reflected CRC-32 polynomial.
const POLY: u32 = 0xedb8_8320;

/// `a * b` modulo the polynomial, in the reflected bit order of CRC-32 (bit 31 is x^0).
fn multmodp(a: u32, mut b: u32) -> u32 {
    let mut m = 1u32 << 31;
    let mut p = 0u32;
    loop {
        if a & m != 0 {
            p ^= b;
            if a & (m - 1) == 0 {
                return p;
            }
        }
        m >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
}

/// x^(8n) modulo the polynomial.
fn x8nmodp(mut n: u64) -> u32 {
    let mut p = 1u32 << 31; // x^0
    let mut x2k = 1u32 << 30; // x^(2^0)
                              // Skip to x^(2^3) = x^8: a byte is 8 bits.
    for _ in 0..3 {
        x2k = multmodp(x2k, x2k);
    }
    while n != 0 {
        if n & 1 != 0 {
            p = multmodp(x2k, p);
        }
        n >>= 1;
        x2k = multmodp(x2k, x2k);
    }
    p
}

/// Whether none of [`SAMPLES`] evenly spaced samples of the block compresses at level 1:
/// then the block is stored without trying (random or already compressed data, where
/// compressing costs the most time and gains nothing). Small blocks are never skipped.
fn looks_incompressible(input: &[u8]) -> bool {
    if input.len() < SAMPLE_MIN_BLOCK {
        return false;
    }
    // Level 1 (libdeflate's `fastest()` is level 0, which does not compress).
    let mut buf = [0u8; SAMPLE_LIMIT];
    let step = input.len() / SAMPLES;
    with_compressor(1, |c| {
        (0..SAMPLES).all(|i| {
            let start = i * step;
            let sample = &input[start..start + SAMPLE_SIZE];
            c.deflate_compress(sample, &mut buf).is_err()
        })
    })
    .unwrap_or(false)
}

/// Appends one zstd frame holding `input`, with its content size and checksum.
fn zstd_frame(level: u32, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
    thread_local! {
        /// This thread's zstd compressor and its level: each frame is compressed from a reset
        /// context, so reusing it (rather than allocating megabytes per block) changes no
        /// output byte.
        static ZSTD: RefCell<Option<(u32, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
    }
    ZSTD.with(|cell| {
        let mut slot = cell.borrow_mut();
        let c = match &mut *slot {
            Some((l, c)) if *l == level => c,
            _ => {
                let lvl = i32::try_from(level).map_err(io::Error::other)?;
                let mut c = zstd::bulk::Compressor::new(lvl)?;
                c.include_checksum(true)?;
                &mut slot.insert((level, c)).1
            }
        };
        out.reserve(zstd::zstd_safe::compress_bound(input.len()));
        c.compress_to_buffer(input, out)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_blocks_have_the_predicted_size() {
        for len in [
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
    fn crc32_combines() {
        let a = b"the first part of the input, ".repeat(1000);
        let b = b"and the second".repeat(777);
        let whole = [a.clone(), b.clone()].concat();
        assert_eq!(
            crc32_combine(
                libdeflater::crc32(&a),
                libdeflater::crc32(&b),
                b.len() as u64
            ),
            libdeflater::crc32(&whole)
        );
        assert_eq!(
            crc32_combine(libdeflater::crc32(&a), 0, 0),
            libdeflater::crc32(&a)
        );
        assert_eq!(
            crc32_combine(0, libdeflater::crc32(&b), b.len() as u64),
            libdeflater::crc32(&b)
        );
    }

    #[test]
    fn every_engine_writes_blocks_that_join() {
        use std::io::Read;
        let text = b"the quick brown fox jumps over the lazy dog\n".repeat(30_000);
        let zeros = vec![0u8; 100_001];
        let engines = [
            Engine::Store,
            Engine::Libdeflate(1),
            Engine::Libdeflate(2),
            Engine::Libdeflate(12),
        ];
        #[cfg(feature = "isal")]
        let engines = [
            &engines[..],
            &[Engine::Isal(0), Engine::Isal(1), Engine::Isal(3)],
        ]
        .concat();
        for &engine in engines.iter() {
            let mut out = Vec::new();
            let mut plain = Vec::new();
            let mut prev: &[u8] = &[];
            for part in [&text[..], &zeros[..], b"x", &text[..1000], &[]] {
                gzip_blocks(engine, prev, part, &mut out).unwrap();
                plain.extend_from_slice(part);
                prev = part;
            }
            out.extend_from_slice(&FINAL_BLOCK);
            let mut back = Vec::new();
            flate2::read::DeflateDecoder::new(&out[..])
                .read_to_end(&mut back)
                .unwrap();
            assert!(back == plain, "{engine:?}");
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

    /// Compressors are kept per thread and reused; a block's bytes must not depend on what
    /// the thread compressed before (the stream's output is the same whatever thread took
    /// which block).
    #[test]
    fn a_reused_compressor_writes_what_a_fresh_one_does() {
        let text = b"blocks are compressed by whichever thread is free ".repeat(20_000);
        let zeros = vec![0u8; 300_000];
        for codec in [
            Codec::Gzip { level: 2 },
            Codec::Gzip { level: 6 },
            Codec::Zstd { level: 3 },
        ] {
            let encode = |input: &[u8]| {
                let mut out = Vec::new();
                codec.encode(&[], input, &mut out).unwrap();
                out
            };
            let first = encode(&text);
            let _ = encode(&zeros);
            let again = encode(&text);
            let fresh = std::thread::scope(|s| s.spawn(|| encode(&text)).join().unwrap());
            assert!(first == again, "{codec:?}");
            assert!(first == fresh, "{codec:?}");
        }
    }
}
