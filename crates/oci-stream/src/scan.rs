//! Finds where the last block of a raw deflate stream starts and where the stream ends, to the
//! bit.
//!
//! libdeflate compresses a whole buffer into a complete deflate stream whose last block is
//! marked final. To join such streams into one gzip member, the final flag of the last block
//! is cleared and the stream is byte-aligned by an empty stored block (what zlib's sync flush
//! writes). Both need bit positions that libdeflate does not report, so the stream is walked
//! here: block headers are read and Huffman symbols decoded (never the data they stand for),
//! which costs a few percent of what compressing the block did.
//!
//! The input is what our own compressor produced, but this is written like a parser of
//! outside input all the same: every read is bounds-checked and anything malformed gives
//! `None` (the caller then stores the block instead).

/// The bit positions of a deflate stream's last block header and of its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ends {
    /// The bit (counted from bit 0 of byte 0, least significant first) that holds the last
    /// block's BFINAL flag.
    pub(crate) last_header: usize,
    /// The number of bits in the stream: the bit after the last block's end-of-block code.
    pub(crate) end: usize,
}

/// Base lengths and extra bits of length symbols 257 to 285.
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Extra bits of distance symbols 0 to 29.
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order in which code length code lengths are stored.
const CL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];
/// The longest Huffman code deflate allows.
const MAX_BITS: u32 = 15;

/// A bit reader, least significant bit first.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn total(&self) -> usize {
        self.data.len() * 8
    }

    /// At least 56 bits from `pos` (zeros past the end; callers check `pos` afterwards).
    #[inline]
    fn peek(&self) -> u64 {
        let byte = self.pos >> 3;
        let word = match self.data.get(byte..byte + 8) {
            Some(b) => {
                let mut w = [0u8; 8];
                w.copy_from_slice(b);
                u64::from_le_bytes(w)
            }
            None => {
                let mut w = [0u8; 8];
                let tail = self.data.get(byte..).unwrap_or(&[]);
                w[..tail.len().min(8)].copy_from_slice(&tail[..tail.len().min(8)]);
                u64::from_le_bytes(w)
            }
        };
        word >> (self.pos & 7)
    }

    fn take(&mut self, n: u32) -> Option<u32> {
        if self.pos + n as usize > self.total() {
            return None;
        }
        let v = (self.peek() & ((1u64 << n) - 1)) as u32;
        self.pos += n as usize;
        Some(v)
    }
}

/// A canonical Huffman decoding table: for every `bits`-bit pattern, the symbol whose code it
/// starts with and that code's length (`sym << 4 | len`; 0 where no code matches).
struct Table {
    entries: Vec<u16>,
    bits: u32,
}

impl Table {
    fn new() -> Self {
        Table {
            entries: Vec::new(),
            bits: 0,
        }
    }

    /// Builds the table for code `lengths` (one per symbol, 0: unused). `None` when the
    /// lengths over-subscribe the code space.
    fn build(&mut self, lengths: &[u8]) -> Option<()> {
        let mut count = [0u16; MAX_BITS as usize + 1];
        for &l in lengths {
            *count.get_mut(usize::from(l))? += 1;
        }
        count[0] = 0;
        let max = (1..=MAX_BITS as usize)
            .rev()
            .find(|&l| count[l] > 0)
            .unwrap_or(1) as u32;
        // Over-subscribed: more codes of some length than the code space leaves.
        let mut left: i32 = 1;
        for &c in &count[1..] {
            left = (left << 1) - i32::from(c);
            if left < 0 {
                return None;
            }
        }
        let mut next = [0u32; MAX_BITS as usize + 2];
        let mut code = 0u32;
        for l in 1..=MAX_BITS as usize {
            code = (code + u32::from(count[l - 1])) << 1;
            next[l] = code;
        }
        self.bits = max;
        self.entries.clear();
        self.entries.resize(1 << max, 0);
        for (sym, &l) in lengths.iter().enumerate() {
            if l == 0 {
                continue;
            }
            let l = u32::from(l);
            let c = next[l as usize];
            next[l as usize] += 1;
            let rev = c.reverse_bits() >> (32 - l);
            let entry = ((sym as u16) << 4) | l as u16;
            let mut i = rev as usize;
            while i < self.entries.len() {
                self.entries[i] = entry;
                i += 1 << l;
            }
        }
        Some(())
    }

    /// The symbol at the reader's position, consuming its code.
    #[inline]
    fn decode(&self, bits: &mut Bits<'_>) -> Option<u16> {
        let idx = (bits.peek() & ((1u64 << self.bits) - 1)) as usize;
        let e = *self.entries.get(idx)?;
        let len = usize::from(e & 15);
        if len == 0 {
            return None;
        }
        bits.pos += len;
        Some(e >> 4)
    }
}

/// Walks a complete raw deflate stream; `None` when it is malformed or truncated.
pub(crate) fn ends(data: &[u8]) -> Option<Ends> {
    let mut bits = Bits { data, pos: 0 };
    let mut litlen = Table::new();
    let mut dist = Table::new();
    let mut lengths = [0u8; 320];
    loop {
        let header = bits.pos;
        let last = bits.take(1)? == 1;
        match bits.take(2)? {
            0 => {
                bits.pos = bits.pos.div_ceil(8) * 8;
                let len = bits.take(16)?;
                let nlen = bits.take(16)?;
                if len != !nlen & 0xffff {
                    return None;
                }
                bits.pos += 8 * len as usize;
            }
            1 => {
                for (i, l) in lengths.iter_mut().take(288).enumerate() {
                    *l = match i {
                        0..=143 => 8,
                        144..=255 => 9,
                        256..=279 => 7,
                        _ => 8,
                    };
                }
                litlen.build(&lengths[..288])?;
                dist.build(&[5u8; 30])?;
                symbols(&mut bits, &litlen, &dist)?;
            }
            2 => {
                let hlit = bits.take(5)? as usize + 257;
                let hdist = bits.take(5)? as usize + 1;
                let hclen = bits.take(4)? as usize + 4;
                let mut cl = [0u8; 19];
                for &i in CL_ORDER.iter().take(hclen) {
                    cl[i] = bits.take(3)? as u8;
                }
                let mut cl_table = Table::new();
                cl_table.build(&cl)?;
                let n = hlit + hdist;
                let mut i = 0;
                while i < n {
                    let sym = cl_table.decode(&mut bits)?;
                    let (value, repeat) = match sym {
                        0..=15 => (sym as u8, 1),
                        16 => (*lengths.get(i.checked_sub(1)?)?, 3 + bits.take(2)? as usize),
                        17 => (0, 3 + bits.take(3)? as usize),
                        18 => (0, 11 + bits.take(7)? as usize),
                        _ => return None,
                    };
                    lengths.get_mut(i..i + repeat)?.fill(value);
                    i += repeat;
                }
                if i != n || bits.pos > bits.total() {
                    return None;
                }
                litlen.build(&lengths[..hlit])?;
                dist.build(&lengths[hlit..n])?;
                symbols(&mut bits, &litlen, &dist)?;
            }
            _ => return None,
        }
        if bits.pos > bits.total() {
            return None;
        }
        if last {
            return Some(Ends {
                last_header: header,
                end: bits.pos,
            });
        }
    }
}

/// Skips the symbols of one compressed block, through its end-of-block code.
fn symbols(bits: &mut Bits<'_>, litlen: &Table, dist: &Table) -> Option<()> {
    let total = bits.total();
    loop {
        let sym = litlen.decode(bits)?;
        if sym < 256 {
        } else if sym == 256 {
            return Some(());
        } else {
            bits.pos += usize::from(*LEN_EXTRA.get(usize::from(sym - 257))?);
            let d = dist.decode(bits)?;
            bits.pos += usize::from(*DIST_EXTRA.get(usize::from(d))?);
        }
        if bits.pos > total {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn libdeflate(level: i32, input: &[u8]) -> Vec<u8> {
        let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level).unwrap());
        let mut out = vec![0; c.deflate_compress_bound(input.len())];
        let n = c.deflate_compress(input, &mut out).unwrap();
        out.truncate(n);
        out
    }

    fn text(len: usize) -> Vec<u8> {
        let mut x = 7u64;
        (0..len)
            .map(|i| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                if i % 3 == 0 {
                    b"abcdefgh \n"[(x >> 60) as usize % 10]
                } else {
                    b"the quick brown fox"[i % 19]
                }
            })
            .collect()
    }

    #[test]
    fn finds_the_end_of_libdeflate_streams() {
        for level in [1, 2, 6, 12] {
            for input in [Vec::new(), b"x".to_vec(), text(300_000), vec![0u8; 70_000]] {
                let s = libdeflate(level, &input);
                let e = ends(&s).unwrap();
                assert_eq!(e.end.div_ceil(8), s.len(), "level {level}");
                assert_eq!(s[e.last_header / 8] >> (e.last_header % 8) & 1, 1);
            }
        }
    }

    #[test]
    fn rejects_truncated_and_garbage_streams() {
        let s = libdeflate(6, &text(100_000));
        assert!(ends(&s[..s.len() / 2]).is_none());
        assert!(ends(&[0xff; 16]).is_none());
        assert!(ends(&[]).is_none());
    }
}
