//! A layer read on its own thread: decompressing and hashing the tar on one core while the
//! entries are written to disk on the other (what `tar -xz` gets from running gzip as a
//! separate process).

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver};

/// Bytes per chunk handed over.
const CHUNK: usize = 1 << 20;
/// Chunks in flight: memory stays at most this many chunks (plus one being filled).
const DEPTH: usize = 4;

/// Reads `inner` ahead on a thread, in chunks. The thread stops at the end of `inner`, at
/// its first error (handed on, as is), or after its next chunk once this reader is dropped.
pub(crate) struct ReadAhead {
    rx: Receiver<io::Result<Vec<u8>>>,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl ReadAhead {
    pub(crate) fn new(mut inner: Box<dyn Read + Send>) -> io::Result<ReadAhead> {
        let (tx, rx) = sync_channel(DEPTH);
        std::thread::Builder::new()
            .name("oci-unpack-read".into())
            .spawn(move || loop {
                let mut chunk = vec![0u8; CHUNK];
                let mut n = 0;
                let res = loop {
                    match inner.read(&mut chunk[n..]) {
                        Ok(0) => break Ok(()),
                        Ok(k) => {
                            n += k;
                            if n == CHUNK {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                chunk.truncate(n);
                let last = n == 0 || res.is_err();
                if n > 0 && tx.send(Ok(chunk)).is_err() {
                    return;
                }
                if let Err(e) = res {
                    let _ = tx.send(Err(e));
                    return;
                }
                if last {
                    let _ = tx.send(Ok(Vec::new()));
                    return;
                }
            })?;
        Ok(ReadAhead {
            rx,
            buf: Vec::new(),
            pos: 0,
            done: false,
        })
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            if self.done || out.is_empty() {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(chunk)) if chunk.is_empty() => self.done = true,
                Ok(Ok(chunk)) => {
                    self.buf = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => return Err(io::Error::other("the layer's reading thread stopped")),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
