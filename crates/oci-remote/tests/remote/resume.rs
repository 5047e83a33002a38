//! Resuming a chunk cut off midway, against a small in-process registry that, as the OCI
//! distribution spec allows (and distribution 2.8 does not), keeps the bytes of a broken
//! `PATCH` and reports them in the session's `Range`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use oci_remote::Client;
use oci_types::{Digest, Reference};

/// What the fake registry holds and did.
#[derive(Default)]
struct State {
    data: Vec<u8>,
    /// Connections still to cut: after this many body bytes of a PATCH, close without an
    /// answer (the bytes read so far are kept).
    cut_after: Option<usize>,
    patches: usize,
    status_queries: usize,
    committed: Option<Digest>,
}

fn serve(listener: TcpListener, state: Arc<Mutex<State>>, stop: Arc<AtomicUsize>) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) > 0 {
            return;
        }
        let Ok(stream) = stream else { continue };
        let state = Arc::clone(&state);
        thread::spawn(move || handle(stream, &state));
    }
}

fn handle(mut stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let location = "/v2/resume/test/blobs/uploads/session-1";
    let answer = |stream: &mut TcpStream, status: &str, headers: &[(&str, String)]| {
        let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n");
        for (n, v) in headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        out.push_str("\r\n");
        let _ = stream.write_all(out.as_bytes());
    };
    let range = |s: &State| format!("0-{}", s.data.len().saturating_sub(1));
    match (method.as_str(), target.split('?').next().unwrap_or("")) {
        ("GET", "/v2/") => answer(&mut stream, "200 OK", &[]),
        ("POST", "/v2/resume/test/blobs/uploads/") => answer(
            &mut stream,
            "202 Accepted",
            &[("Location", location.to_owned())],
        ),
        ("PATCH", path) if path == location => {
            let cut = {
                let mut s = state.lock().unwrap();
                s.patches += 1;
                s.cut_after.take()
            };
            let keep = cut.unwrap_or(length).min(length);
            let mut body = vec![0; keep];
            reader.read_exact(&mut body).unwrap();
            let mut s = state.lock().unwrap();
            s.data.extend_from_slice(&body);
            if cut.is_some() {
                // Gone without an answer: the client sees a broken connection.
                let _ = stream.shutdown(std::net::Shutdown::Both);
                return;
            }
            let r = range(&s);
            drop(s);
            answer(
                &mut stream,
                "202 Accepted",
                &[("Location", location.to_owned()), ("Range", r)],
            );
        }
        ("GET", path) if path == location => {
            let mut s = state.lock().unwrap();
            s.status_queries += 1;
            let r = range(&s);
            drop(s);
            answer(
                &mut stream,
                "204 No Content",
                &[("Location", location.to_owned()), ("Range", r)],
            );
        }
        ("PUT", path) if path == location => {
            let digest: Digest = target
                .split("digest=")
                .nth(1)
                .unwrap()
                .replace("%3A", ":")
                .parse()
                .unwrap();
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut s = state.lock().unwrap();
            s.data.extend_from_slice(&body);
            if Digest::sha256(&s.data) == digest {
                s.committed = Some(digest.clone());
                drop(s);
                answer(
                    &mut stream,
                    "201 Created",
                    &[("Docker-Content-Digest", digest.to_string())],
                );
            } else {
                drop(s);
                answer(&mut stream, "400 Bad Request", &[]);
            }
        }
        _ => answer(&mut stream, "404 Not Found", &[]),
    }
}

#[test]
fn a_chunk_cut_off_midway_resumes_where_the_registry_says_it_stopped() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(Mutex::new(State {
        // Cut the first PATCH after 1.5 MiB of its 2 MiB chunk.
        cut_after: Some(3 << 19),
        ..State::default()
    }));
    let stop = Arc::new(AtomicUsize::new(0));
    let server = {
        let (state, stop) = (Arc::clone(&state), Arc::clone(&stop));
        thread::spawn(move || serve(listener, state, stop))
    };

    let client = Client::builder()
        .chunk_size(2 << 20)
        .retries(3, Duration::from_millis(1))
        .build();
    let reference: Reference = format!("{addr}/resume/test").parse().unwrap();
    let data: Vec<u8> = (0..5_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let (digest, size) = client
        .repository(&reference)
        .upload_stream(&mut std::io::Cursor::new(data.clone()))
        .unwrap();

    assert_eq!(digest, Digest::sha256(&data));
    assert_eq!(size, data.len() as u64);
    let s = state.lock().unwrap();
    // The registry got every byte exactly once: the cut chunk's first 1.5 MiB were not
    // sent again.
    assert_eq!(s.data, data);
    assert_eq!(s.committed.as_ref(), Some(&digest));
    assert_eq!(s.status_queries, 1);
    // Three chunks (2 + 2 + 0.77 MiB), plus one for the rest of the cut chunk.
    assert_eq!(s.patches, 4);
    drop(s);

    stop.store(1, Ordering::SeqCst);
    let _ = TcpStream::connect(addr);
    server.join().unwrap();
}
