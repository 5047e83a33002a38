//! [`Server`]: a scripted HTTP/1.1 server on 127.0.0.1, the plumbing under
//! [`MemoryRegistry`](super::MemoryRegistry) and under tests' own fake registries: a
//! [`Script`] answers each request (one per connection, `Connection: close`) or drops the
//! connection midway, to play a registry that does what a real one does not (the referrers
//! API, resumable sessions, faults).

#![allow(clippy::expect_used)] // test support: a server that cannot bind a loopback port fails its test

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

/// The largest request body the server reads (a test's blobs are small); a larger request's
/// connection is closed unanswered.
const MAX_BODY: usize = 256 << 20;

/// One request as the handler sees it.
pub struct Request {
    /// The method, as sent (`GET`).
    pub method: String,
    /// The path and query, as sent.
    pub target: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body, or its first `cut` bytes when the handler asked to cut it.
    pub body: Vec<u8>,
}

impl Request {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// A query parameter, undecoded.
    pub fn query(&self, name: &str) -> Option<&str> {
        let (_, query) = self.target.split_once('?')?;
        query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An answer: status line (`"202 Accepted"`), headers, body.
pub type Answer = (&'static str, Vec<(&'static str, String)>, Vec<u8>);

/// What the server does; a test keeps an `Arc` of it to look at its state. Each connection
/// is served on a thread of its own, so a script is shared between threads.
pub trait Script: Send + Sync + 'static {
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

/// A running server; stops when dropped.
///
/// ```
/// use std::sync::Arc;
/// use oci_remote::testing::http;
/// use oci_remote::testing::server::{Answer, Request, Script, Server};
///
/// struct Hello;
/// impl Script for Hello {
///     fn answer(&self, request: &Request) -> Answer {
///         ("200 OK", vec![], request.path().as_bytes().to_vec())
///     }
/// }
///
/// let server = Server::start(Arc::new(Hello));
/// let (status, _, body) = http::get(&server.host(), "/v2/", &[]);
/// assert_eq!((status, body), (200, b"/v2/".to_vec()));
/// ```
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `script` on a free loopback port.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start<S: Script>(script: Arc<S>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let addr = listener.local_addr().expect("the bound address");
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
        Server {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut stream: TcpStream, script: &dyn Script) {
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(clone);
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
    if length > MAX_BODY {
        return;
    }
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
    if request.method != "HEAD" {
        let _ = stream.write_all(&body);
    }
}
