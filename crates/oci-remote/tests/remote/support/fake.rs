//! A scripted HTTP/1.1 server on 127.0.0.1 for what Debian's registry (distribution 2.8) does
//! not do: a [`Script`] answers each request (one per connection, `Connection: close`) or
//! drops the connection midway, to play a registry that follows the newer parts of the
//! distribution spec (resumable sessions, the referrers API).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

/// One request as the handler sees it.
pub(crate) struct Request {
    pub(crate) method: String,
    /// The path and query, as sent.
    pub(crate) target: String,
    /// Header names in lower case.
    pub(crate) headers: Vec<(String, String)>,
    /// The body, or its first `cut` bytes when the handler asked to cut it.
    pub(crate) body: Vec<u8>,
}

impl Request {
    /// The path without the query.
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// A query parameter, undecoded.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        let (_, query) = self.target.split_once('?')?;
        query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// A header's value.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An answer: status line (`"202 Accepted"`), headers, body.
pub(crate) type Answer = (&'static str, Vec<(&'static str, String)>, Vec<u8>);

/// What the fake registry does; the test keeps an `Arc` of it to look at its state.
pub(crate) trait Script: Send + Sync + 'static {
    /// Before the body is read: `Some(n)` reads only `n` bytes of it, hands the request with
    /// those to [`Script::cut_off`] and closes the connection without an answer.
    fn cut(&self, _request: &Request) -> Option<usize> {
        None
    }

    /// A request that [`Script::cut`] cut, with the part of the body that arrived.
    fn cut_off(&self, _request: &Request) {}

    /// The answer to a whole request.
    fn answer(&self, request: &Request) -> Answer;
}

/// A running fake server; stops when dropped.
pub(crate) struct Fake {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Fake {
    /// Serves `script` on a free loopback port.
    pub(crate) fn start<S: Script>(script: Arc<S>) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let script = Arc::clone(&script);
                    thread::spawn(move || serve(stream, script.as_ref()));
                }
            })
        };
        Fake {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`.
    pub(crate) fn host(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut stream: TcpStream, script: &dyn Script) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut request = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    let cut = script.cut(&request);
    let mut body = vec![0; cut.unwrap_or(length).min(length)];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    request.body = body;
    if cut.is_some() {
        script.cut_off(&request);
        let _ = stream.shutdown(std::net::Shutdown::Both);
        return;
    }
    let (status, headers, body) = script.answer(&request);
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(&body);
}
