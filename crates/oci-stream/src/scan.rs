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

/// A bit reader, least significant bit first, over a 64-bit buffer refilled 8 bytes at a
/// time (zeros past the end of the data; callers compare [`Bits::pos`] with the length).
struct Bits<'a> {
    data: &'a [u8],
    /// The next byte to load into `buf`.
    next: usize,
    buf: u64,
    /// Valid bits in `buf`.
    count: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            next: 0,
            buf: 0,
            count: 0,
        }
    }

    fn total(&self) -> usize {
        self.data.len() * 8
    }

    /// The position of the next unread bit.
    #[inline]
    fn pos(&self) -> usize {
        self.next * 8 - self.count as usize
    }

    /// Makes at least 56 bits available.
    #[inline]
    fn refill(&mut self) {
        refill(self.data, &mut self.buf, &mut self.count, &mut self.next);
    }

    /// The next `n` (at most 32) bits, without consuming them; call [`Self::refill`] first.
    #[inline]
    fn peek(&self, n: u32) -> u32 {
        (self.buf & ((1u64 << n) - 1)) as u32
    }

    #[inline]
    fn consume(&mut self, n: u32) {
        self.buf >>= n;
        self.count -= n;
    }

    /// Reads `n` (at most 32) bits; `None` past the end of the data.
    fn take(&mut self, n: u32) -> Option<u32> {
        self.refill();
        let v = self.peek(n);
        self.consume(n);
        (self.pos() <= self.total()).then_some(v)
    }

    /// Skips to the next byte boundary.
    fn align(&mut self) {
        let drop = self.count % 8;
        self.consume(drop);
    }

    /// Skips `n` whole bytes (at a byte boundary).
    fn skip_bytes(&mut self, n: usize) {
        let in_buf = (self.count / 8) as usize;
        if n <= in_buf {
            self.consume(8 * n as u32);
        } else {
            self.next += n - in_buf;
            self.buf = 0;
            self.count = 0;
        }
    }
}

/// Loads whole bytes of `data` from `next` into the bit buffer `buf` (holding `count` bits)
/// until it holds at least 56; zeros past the end of the data. Shared by [`Bits`] and the
/// walk's hot loop, which keeps the three in locals.
#[inline(always)]
fn refill(data: &[u8], buf: &mut u64, count: &mut u32, next: &mut usize) {
    if *count >= 56 {
        return;
    }
    let mut w = [0u8; 8];
    match data.get(*next..*next + 8) {
        Some(b) => w.copy_from_slice(b),
        None => {
            let tail = data.get(*next..).unwrap_or(&[]);
            let n = tail.len().min(8);
            w[..n].copy_from_slice(&tail[..n]);
        }
    }
    *buf |= u64::from_le_bytes(w) << *count;
    let bytes = (63 - *count) / 8;
    *next += bytes as usize;
    *count += bytes * 8;
}

/// The bits of the fast table: codes up to this long are decoded with one look-up in a table
/// small enough for the L1 cache; longer (rare) ones look in the full table.
const FAST_BITS: u32 = 10;
/// Entry flag: a length symbol (a distance code follows).
const MATCH: u32 = 1 << 8;
/// Entry flag: the end-of-block symbol.
const EOB: u32 = 1 << 9;

/// What a table entry means for the walk: the low byte is the number of bits to skip (the
/// code and, for lengths and distances, its extra bits), then the flags; the symbol itself
/// above bit 16. 0: no code (in the fast table: look in the full one).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Literal/length codes.
    LitLen,
    /// Distance codes.
    Dist,
    /// Code length codes.
    CodeLen,
}

/// A canonical Huffman decoding table.
struct Table {
    full: Vec<u32>,
    fast: Vec<u32>,
    bits: u32,
}

impl Table {
    fn new() -> Self {
        Table {
            full: Vec::new(),
            fast: vec![0; 1 << FAST_BITS],
            bits: 0,
        }
    }

    /// Builds the table for code `lengths` (one per symbol, 0: unused). `None` when the
    /// lengths over-subscribe the code space.
    fn build(&mut self, lengths: &[u8], kind: Kind) -> Option<()> {
        let mut count = [0u16; MAX_BITS as usize + 1];
        for &l in lengths {
            *count.get_mut(usize::from(l))? += 1;
        }
        count[0] = 0;
        // Over-subscribed: more codes of some length than the code space leaves.
        let mut left: i32 = 1;
        for &c in &count[1..] {
            left = (left << 1) - i32::from(c);
            if left < 0 {
                return None;
            }
        }
        let max = (1..=MAX_BITS as usize)
            .rev()
            .find(|&l| count[l] > 0)
            .unwrap_or(1) as u32;
        let mut next = [0u32; MAX_BITS as usize + 2];
        let mut code = 0u32;
        for l in 1..=MAX_BITS as usize {
            code = (code + u32::from(count[l - 1])) << 1;
            next[l] = code;
        }
        // Codes up to FAST_BITS long go in the fast table only; longer ones in the full
        // table only (which is consulted when the fast entry is 0). Filling each costs the
        // part of the code space its codes take, so a block's tables cost about 2^FAST_BITS.
        self.bits = max;
        self.fast.fill(0);
        if max > FAST_BITS {
            // Not cleared: entries left from an earlier block are only reached by bit
            // patterns that start no code of this one, which a valid stream does not hold.
            self.full.resize(1 << max, 0);
        }
        for (sym, &l) in lengths.iter().enumerate() {
            if l == 0 {
                continue;
            }
            let l = u32::from(l);
            let c = next[l as usize];
            next[l as usize] += 1;
            let rev = (c.reverse_bits() >> (32 - l)) as usize;
            let (skip, flags) = match (kind, sym) {
                (Kind::LitLen, 0..=255) | (Kind::CodeLen, _) => (0, 0),
                (Kind::LitLen, 256) => (0, EOB),
                (Kind::LitLen, 257..=285) => (u32::from(LEN_EXTRA[sym - 257]), MATCH),
                (Kind::Dist, 0..=29) => (u32::from(DIST_EXTRA[sym]), 0),
                _ => continue, // symbols that never occur: left without an entry
            };
            let entry = ((sym as u32) << 16) | flags | (l + skip);
            let table = if l <= FAST_BITS {
                &mut self.fast
            } else {
                &mut self.full
            };
            let mut i = rev;
            while i < table.len() {
                table[i] = entry;
                i += 1 << l;
            }
        }
        Some(())
    }

    /// The entry at the reader's position (the reader must have been refilled); `None` when
    /// no code starts there.
    #[inline]
    fn entry(&self, bits: &Bits<'_>) -> Option<u32> {
        let e = self.fast[bits.peek(FAST_BITS) as usize];
        if e != 0 {
            return Some(e);
        }
        self.slow(bits.buf)
    }

    /// The entry of a code longer than [`FAST_BITS`] at the bottom of `buf` (the reader's
    /// buffer, refilled); `None` when no code starts there.
    #[inline(never)]
    fn slow(&self, buf: u64) -> Option<u32> {
        if self.bits <= FAST_BITS {
            return None;
        }
        let e = *self.full.get((buf & ((1u64 << self.bits) - 1)) as usize)?;
        (e != 0).then_some(e)
    }

    /// The symbol at the reader's position, consuming its code (code length codes only,
    /// which have no extra bits in the entry).
    fn decode(&self, bits: &mut Bits<'_>) -> Option<u16> {
        bits.refill();
        let e = self.entry(bits)?;
        bits.consume(e & 0xff);
        Some((e >> 16) as u16)
    }
}

/// Walks a complete raw deflate stream; `None` when it is malformed or truncated.
pub(crate) fn ends(data: &[u8]) -> Option<Ends> {
    let mut bits = Bits::new(data);
    let mut litlen = Table::new();
    let mut dist = Table::new();
    let mut cl_table = Table::new();
    let mut lengths = [0u8; 320];
    loop {
        let header = bits.pos();
        let last = bits.take(1)? == 1;
        match bits.take(2)? {
            0 => {
                bits.align();
                let len = bits.take(16)?;
                let nlen = bits.take(16)?;
                if len != !nlen & 0xffff {
                    return None;
                }
                bits.skip_bytes(len as usize);
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
                litlen.build(&lengths[..288], Kind::LitLen)?;
                dist.build(&[5u8; 30], Kind::Dist)?;
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
                cl_table.build(&cl, Kind::CodeLen)?;
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
                if i != n || bits.pos() > bits.total() {
                    return None;
                }
                litlen.build(&lengths[..hlit], Kind::LitLen)?;
                dist.build(&lengths[hlit..n], Kind::Dist)?;
                symbols(&mut bits, &litlen, &dist)?;
            }
            _ => return None,
        }
        if bits.pos() > bits.total() {
            return None;
        }
        if last {
            return Some(Ends {
                last_header: header,
                end: bits.pos(),
            });
        }
    }
}

/// Skips the symbols of one compressed block, through its end-of-block code.
///
/// The hot loop of the walk (one iteration per symbol of the stream): the bit buffer is kept
/// in locals, which the compiler holds in registers (through `&mut Bits` it stored them back
/// to memory on every symbol), and a distance code is looked up only after a length code.
/// Together that made the walk about 30% cheaper. (Looking a distance up after every symbol
/// and skipping its bits only after a length, without a branch, measured no faster.)
fn symbols(bits: &mut Bits<'_>, litlen: &Table, dist: &Table) -> Option<()> {
    const MASK: u64 = (1 << FAST_BITS) - 1;
    let data = bits.data;
    let limit = data.len() + 8;
    let lfast: &[u32; 1 << FAST_BITS] = litlen.fast.as_slice().try_into().ok()?;
    let dfast: &[u32; 1 << FAST_BITS] = dist.fast.as_slice().try_into().ok()?;
    let (mut buf, mut count, mut next) = (bits.buf, bits.count, bits.next);
    let found = loop {
        // The fast look-up reads bits already in the buffer (a code's worth is kept there),
        // so it does not wait for the refill's load, which comes after it: the bytes that
        // load reads were chosen by the previous iteration. That made the walk about 15%
        // cheaper. After the refill 56 bits cover a literal/length code with its extra bits
        // (15 + 5) and a distance code with its extra bits (15 + 13).
        if count < MAX_BITS {
            refill(data, &mut buf, &mut count, &mut next);
        }
        let mut e = lfast[(buf & MASK) as usize];
        refill(data, &mut buf, &mut count, &mut next);
        if e == 0 {
            match litlen.slow(buf) {
                Some(x) => e = x,
                None => break None,
            }
        }
        buf >>= e & 0xff;
        count -= e & 0xff;
        if e & (MATCH | EOB) != 0 {
            if e & EOB != 0 {
                break Some(());
            }
            let mut d = dfast[(buf & MASK) as usize];
            if d == 0 {
                match dist.slow(buf) {
                    Some(x) => d = x,
                    None => break None,
                }
            }
            buf >>= d & 0xff;
            count -= d & 0xff;
        }
        if next > limit {
            break None;
        }
    };
    (bits.buf, bits.count, bits.next) = (buf, count, next);
    found
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

    proptest::proptest! {
        /// Any bytes: an answer or `None`, never a panic or a read out of bounds.
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
            let _ = ends(&data);
        }

        /// Any input at any level: the walk ends exactly where libdeflate's stream does.
        #[test]
        fn finds_the_end_of_any_stream(
            data in proptest::collection::vec(0u8..8, 0..40_000),
            level in 1i32..=12,
        ) {
            let s = libdeflate(level, &data);
            let e = ends(&s).unwrap();
            proptest::prop_assert_eq!(e.end.div_ceil(8), s.len());
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
