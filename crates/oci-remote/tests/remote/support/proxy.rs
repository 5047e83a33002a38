//! A TCP proxy on 127.0.0.1 that forwards to a registry and injects faults: connections cut
//! midway through an upload or a download, or requests answered 503 without being forwarded.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the proxy does to the traffic it forwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Forwards everything unchanged.
    None,
    /// On the first `times` connections whose client-to-server traffic exceeds `bytes`, forwards
    /// exactly `bytes` bytes upstream and then closes both sides: an upload cut off midway. The
    /// bytes count from the connection's start, request heads included, across all the requests
    /// a kept-alive connection carries.
    CutUpstreamAfter {
        /// Bytes forwarded upstream before the cut.
        bytes: u64,
        /// How many connections are cut; later ones are forwarded whole.
        times: usize,
    },
    /// On the first `times` connections whose server-to-client traffic exceeds `bytes`, forwards
    /// exactly `bytes` bytes to the client and then closes both sides: a download cut off midway
    /// (counted like `CutUpstreamAfter`, response heads included).
    CutDownstreamAfter {
        /// Bytes forwarded to the client before the cut.
        bytes: u64,
        /// How many connections are cut; later ones are forwarded whole.
        times: usize,
    },
    /// Answers the first request of the first `times` connections itself with
    /// `503 Service Unavailable` and `Connection: close`, without forwarding it. The decision is
    /// per connection: with a client that sends one request at a time, that is the first `times`
    /// requests (a 503 closes its connection, so the next request opens a new one).
    Status503 {
        /// How many requests get a 503.
        times: usize,
    },
}

/// A running proxy; dropping it stops accepting and closes the connections still open.
pub(crate) struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// What the connection threads share.
struct Shared {
    target: SocketAddr,
    fault: Fault,
    stop: AtomicBool,
    connections: AtomicUsize,
    faults: AtomicUsize,
    /// Client sockets of open connections, by connection number, to close them on drop.
    open: Mutex<Vec<(usize, TcpStream)>>,
}

impl Shared {
    /// Takes one fault from the budget of `times`; false once it is spent.
    fn claim(&self, times: usize) -> bool {
        self.faults
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < times).then_some(n + 1)
            })
            .is_ok()
    }
}

impl Proxy {
    /// Starts a proxy on 127.0.0.1 (a free port) to `target`.
    pub(crate) fn start(target: SocketAddr, fault: Fault) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let shared = Arc::new(Shared {
            target,
            fault,
            stop: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            faults: AtomicUsize::new(0),
            open: Mutex::new(Vec::new()),
        });
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || accept_loop(&listener, &shared))
        };
        Proxy {
            addr,
            shared,
            thread: Some(thread),
        }
    }

    /// "127.0.0.1:PORT".
    pub(crate) fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The address the proxy listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub(crate) fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Faults injected so far (cuts made, 503s sent).
    pub(crate) fn faults_injected(&self) -> usize {
        self.shared.faults.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        for (_, stream) in self.shared.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                let number = shared.connections.fetch_add(1, Ordering::SeqCst);
                let shared = Arc::clone(shared);
                std::thread::spawn(move || {
                    if let Ok(clone) = client.try_clone() {
                        shared.open.lock().unwrap().push((number, clone));
                    }
                    let _ = connection(client, &shared);
                    shared.open.lock().unwrap().retain(|(n, _)| *n != number);
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Serves one client connection until both directions are done or it was cut.
fn connection(client: TcpStream, shared: &Arc<Shared>) -> io::Result<()> {
    client.set_nonblocking(false)?;
    let mut first = Vec::new();
    if let Fault::Status503 { times } = shared.fault {
        // Reads the request head, so that the 503 answers a request, not a bare connect.
        let mut buf = [0u8; 8192];
        while !first.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = (&client).read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            first.extend_from_slice(&buf[..n]);
        }
        if shared.claim(times) {
            return answer_503(&client);
        }
    }
    let upstream = TcpStream::connect(shared.target)?;
    (&upstream).write_all(&first)?;
    let (up_limit, down_limit) = match shared.fault {
        Fault::CutUpstreamAfter { bytes, times } => (Some((bytes, times)), None),
        Fault::CutDownstreamAfter { bytes, times } => (None, Some((bytes, times))),
        Fault::None | Fault::Status503 { .. } => (None, None),
    };
    let ends = [client.try_clone()?, upstream.try_clone()?];
    let downstream = {
        let (from, to) = (upstream.try_clone()?, client.try_clone()?);
        let ends = [client.try_clone()?, upstream.try_clone()?];
        let shared = Arc::clone(shared);
        std::thread::spawn(move || pipe(&from, &to, down_limit, &shared, &ends))
    };
    pipe(&client, &upstream, up_limit, shared, &ends);
    let _ = downstream.join();
    Ok(())
}

/// Copies `from` to `to` until EOF (then half-closes `to`), an error or a cut (then closes both
/// `ends`). `limit` is the cut: after that many bytes, while the budget of `times` lasts.
fn pipe(
    mut from: &TcpStream,
    mut to: &TcpStream,
    mut limit: Option<(u64, usize)>,
    shared: &Shared,
    ends: &[TcpStream; 2],
) {
    let close_both = || {
        for end in ends {
            let _ = end.shutdown(Shutdown::Both);
        }
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut sent: u64 = 0;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
            Err(_) => return close_both(),
        };
        if let Some((bytes, times)) = limit {
            if sent + n as u64 > bytes {
                if shared.claim(times) {
                    // `sent <= bytes` here, and the difference is below `n`.
                    let keep = (bytes - sent) as usize;
                    let _ = to.write_all(&buf[..keep]);
                    let _ = to.flush();
                    return close_both();
                }
                limit = None;
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            return close_both();
        }
        sent += n as u64;
    }
}

/// Answers 503 and closes, after reading whatever body the client still sends (closing with
/// unread data would reset the connection before the client reads the answer).
fn answer_503(client: &TcpStream) -> io::Result<()> {
    let mut client = client;
    client.write_all(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )?;
    client.flush()?;
    client.shutdown(Shutdown::Write)?;
    client.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut drained: u64 = 0;
    while drained < 1 << 30 {
        match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n as u64,
        }
    }
    Ok(())
}
