//! Input generators, readers with particular behaviours, and helpers to consume a layer.

use std::io::{self, Read, Write};
use std::process::{Command, Stdio};

use oci_partial::Layer;
use oci_stream::{Options, StreamLayer};

/// A xorshift generator: the same bytes for the same seed, on every machine.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Bytes that do not compress.
pub(crate) fn random(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| (rng.next() >> 32) as u8).collect()
}

/// Text-like bytes that compress to roughly a third, with some structure deflate can find.
pub(crate) fn text(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "layer", "image", "manifest", "digest", "config", "tar", "usr", "lib", "bin", "share",
        "the", "of", "and", "gzip", "zstd", "blob", "index", "platform", "linux", "amd64", "0",
        "1", "2", "42", "\n", "/", "-", "_", ".", "=",
    ];
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        let w = WORDS[(rng.next() % WORDS.len() as u64) as usize];
        out.extend_from_slice(w.as_bytes());
        if rng.next().is_multiple_of(3) {
            out.push(b' ');
        }
    }
    out.truncate(len);
    out
}

/// Alternating stretches of text, random bytes and zeros, like a tar of mixed files.
pub(crate) fn mixed(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let n = (rng.next() % 300_000) as usize + 1;
        match rng.next() % 3 {
            0 => out.extend(text(n, rng.next())),
            1 => out.extend(random(n, rng.next())),
            _ => out.extend(std::iter::repeat_n(0u8, n)),
        }
    }
    out.truncate(len);
    out
}

/// A reader that returns at most `chunk` bytes per read (and `Interrupted` every
/// `interrupt_every` reads when that is not 0), over `data`.
pub(crate) struct Chunked {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
    interrupt_every: usize,
    reads: usize,
}

impl Chunked {
    pub(crate) fn new(data: Vec<u8>, chunk: usize) -> Chunked {
        Chunked {
            data,
            pos: 0,
            chunk: chunk.max(1),
            interrupt_every: 0,
            reads: 0,
        }
    }
    pub(crate) fn interrupting(mut self, every: usize) -> Chunked {
        self.interrupt_every = every;
        self
    }
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if self.interrupt_every > 0 && self.reads.is_multiple_of(self.interrupt_every) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
        }
        let n = buf.len().min(self.chunk).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A reader that yields `good` bytes of `data`, then fails with `ConnectionReset`.
pub(crate) struct FailsAfter {
    data: Vec<u8>,
    pos: usize,
    good: usize,
}

impl FailsAfter {
    pub(crate) fn new(data: Vec<u8>, good: usize) -> FailsAfter {
        FailsAfter { data, pos: 0, good }
    }
}

impl Read for FailsAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.good {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "source went away",
            ));
        }
        let n = buf
            .len()
            .min(self.good - self.pos)
            .min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A layer over `data` with `opts`, read back whole by reads of `chunk` bytes.
pub(crate) fn compress_with(data: &[u8], opts: Options, chunk: usize) -> (StreamLayer, Vec<u8>) {
    let layer = StreamLayer::with_options(io::Cursor::new(data.to_vec()), opts).unwrap();
    let out = read_all(&layer, chunk);
    (layer, out)
}

/// Reads the layer's compressed stream to its end in reads of `chunk` bytes.
pub(crate) fn read_all(layer: &StreamLayer, chunk: usize) -> Vec<u8> {
    let mut r = layer.compressed().unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0u8; chunk];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// Decodes a gzip stream with flate2's `GzDecoder`, which stops after the first member.
pub(crate) fn gunzip(gz: &[u8]) -> Vec<u8> {
    // The first-member-only decoder: the output is one member, so this reads it all, and
    // every test that compares a round trip checks that too.
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Runs `cmd args` with `input` on standard input (written from another thread, so that
/// large outputs cannot deadlock); returns its exit success and standard output.
pub(crate) fn run_with_stdin(cmd: &str, args: &[&str], input: &[u8]) -> (bool, Vec<u8>) {
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd} must be installed: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // The command may stop reading early (a corrupt stream): ignore broken pipes.
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (out.status.success(), out.stdout)
}
