//! [`MemoryRegistry`]: an in-memory registry with the referrers API of distribution spec 1.1,
//! which Debian's `docker-registry` (2.8) lacks.

#![allow(clippy::expect_used)] // test support: a registry that cannot bind a loopback port fails its test

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

use oci_types::{Descriptor, Digest, Index, Manifest, MediaType};

/// The largest request body the registry reads (a test's blobs are small).
const MAX_BODY: usize = 256 << 20;

/// A registry of any number of repositories held in memory, on a free loopback port, that
/// lists referrers itself (`GET /v2/NAME/referrers/DIGEST`, `artifactType` filter) and answers
/// a manifest `PUT` with a subject with `OCI-Subject`. Anonymous, plain HTTP, one request per
/// connection; blobs are uploaded by POST, PATCH and PUT `?digest=` (checked). Stops when
/// dropped.
///
/// ```
/// use oci_remote::testing::{http, MemoryRegistry};
///
/// let registry = MemoryRegistry::start();
/// let (status, _, _) = http::get(&registry.host(), "/v2/", &[]);
/// assert_eq!(status, 200);
/// assert_eq!(registry.requests(), ["GET /v2/"]);
/// ```
pub struct MemoryRegistry {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct State {
    blobs: HashMap<String, Vec<u8>>,
    uploads: HashMap<String, Vec<u8>>,
    next_upload: u64,
    /// By `NAME@DIGEST`: media type and bytes.
    manifests: HashMap<String, (String, Vec<u8>)>,
    /// By `NAME:TAG`: digest.
    tags: HashMap<String, String>,
    requests: Vec<String>,
}

type Answer = (&'static str, Vec<(&'static str, String)>, Vec<u8>);

impl MemoryRegistry {
    /// Starts the registry on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start() -> MemoryRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop) = (Arc::clone(&state), Arc::clone(&stop));
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, &state);
                    }
                }
            })
        };
        MemoryRegistry {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:PORT`, for references.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Every request so far, as `METHOD /path` (no query).
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state).requests.clone()
    }

    /// The tags of repository `name`, sorted.
    pub fn tags(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}:");
        let mut tags: Vec<String> = lock(&self.state)
            .tags
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
            .collect();
        tags.sort();
        tags
    }
}

impl Drop for MemoryRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn serve(mut stream: TcpStream, state: &Mutex<State>) {
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
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_BODY {
        return;
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let content_type = header("content-type").unwrap_or("").to_owned();
    let (status, answer_headers, answer_body) = {
        let mut s = lock(state);
        answer(&mut s, &method, &target, &content_type, &body)
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer_body.len()
    );
    for (n, v) in answer_headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = stream.write_all(out.as_bytes());
    if method != "HEAD" {
        let _ = stream.write_all(&answer_body);
    }
}

/// A query parameter, undecoded but for `%2F` and `%2B` (media types).
fn query<'a>(target: &'a str, name: &str) -> Option<String> {
    let (_, q) = target.split_once('?')?;
    q.split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v): (&'a str, &'a str)| v.replace("%2F", "/").replace("%2B", "+"))
}

fn answer(s: &mut State, method: &str, target: &str, content_type: &str, body: &[u8]) -> Answer {
    let path = target.split('?').next().unwrap_or("");
    s.requests.push(format!("{method} {path}"));
    let not_found: Answer = ("404 Not Found", vec![], vec![]);
    if path == "/v2/" {
        return ("200 OK", vec![], vec![]);
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return not_found;
    };
    // NAME/KIND/ARG, NAME having any number of components.
    let kinds = ["/blobs/uploads/", "/blobs/", "/manifests/", "/referrers/"];
    let Some((name, kind, arg)) = kinds.iter().find_map(|k| {
        rest.find(k)
            .map(|i| (&rest[..i], k.trim_matches('/'), &rest[i + k.len()..]))
    }) else {
        return not_found;
    };
    let (name, arg) = (name.to_owned(), arg.to_owned());
    match (method, kind) {
        ("POST", "blobs/uploads") => {
            s.next_upload += 1;
            let id = s.next_upload.to_string();
            s.uploads.insert(id.clone(), Vec::new());
            let location = ("Location", format!("/v2/{name}/blobs/uploads/{id}"));
            ("202 Accepted", vec![location], vec![])
        }
        ("PATCH", "blobs/uploads") => {
            let Some(data) = s.uploads.get_mut(&arg) else {
                return not_found;
            };
            data.extend_from_slice(body);
            let range = ("Range", format!("0-{}", data.len().saturating_sub(1)));
            let location = ("Location", format!("/v2/{name}/blobs/uploads/{arg}"));
            ("202 Accepted", vec![location, range], vec![])
        }
        ("PUT", "blobs/uploads") => {
            let Some(mut data) = s.uploads.remove(&arg) else {
                return not_found;
            };
            data.extend_from_slice(body);
            let Some(digest) = query(target, "digest").and_then(|d| d.parse::<Digest>().ok())
            else {
                return ("400 Bad Request", vec![], vec![]);
            };
            if Digest::sha256(&data) != digest {
                return ("400 Bad Request", vec![], vec![]);
            }
            s.blobs.insert(digest.to_string(), data);
            let location = ("Location", format!("/v2/{name}/blobs/{digest}"));
            let header = ("Docker-Content-Digest", digest.to_string());
            ("201 Created", vec![header, location], vec![])
        }
        ("GET" | "HEAD", "blobs") => match s.blobs.get(&arg) {
            Some(data) => {
                let header = ("Docker-Content-Digest", arg.clone());
                ("200 OK", vec![header], data.clone())
            }
            None => not_found,
        },
        ("PUT", "manifests") => {
            let digest = Digest::sha256(body).to_string();
            let subject = Manifest::from_slice(body).ok().and_then(|m| m.subject);
            s.manifests.insert(
                format!("{name}@{digest}"),
                (content_type.to_owned(), body.to_vec()),
            );
            if !arg.contains(':') {
                s.tags.insert(format!("{name}:{arg}"), digest.clone());
            }
            let mut headers = vec![
                ("Docker-Content-Digest", digest.clone()),
                ("Location", format!("/v2/{name}/manifests/{digest}")),
            ];
            if let Some(subject) = subject {
                headers.push(("OCI-Subject", subject.digest.to_string()));
            }
            ("201 Created", headers, vec![])
        }
        ("GET" | "HEAD", "manifests") => {
            let digest = s.tags.get(&format!("{name}:{arg}")).cloned().unwrap_or(arg);
            match s.manifests.get(&format!("{name}@{digest}")) {
                Some((media_type, bytes)) => {
                    let headers = vec![
                        ("Content-Type", media_type.clone()),
                        ("Docker-Content-Digest", digest),
                    ];
                    ("200 OK", headers, bytes.clone())
                }
                None => not_found,
            }
        }
        ("GET", "referrers") => {
            let filter = query(target, "artifactType");
            let index = referrers(s, &name, &arg, filter.as_deref());
            let mut headers = vec![("Content-Type", MediaType::OciIndex.as_str().to_owned())];
            if filter.is_some() {
                headers.push(("OCI-Filters-Applied", "artifactType".to_owned()));
            }
            let body = serde_json::to_vec(&index).unwrap_or_default();
            ("200 OK", headers, body)
        }
        _ => not_found,
    }
}

/// The referrers index of `subject` in repository `name`, in digest order.
fn referrers(s: &State, name: &str, subject: &str, artifact_type: Option<&str>) -> Index {
    let mut index = Index::new(MediaType::OciIndex);
    let prefix = format!("{name}@");
    let mut found: Vec<(&String, &(String, Vec<u8>))> = s
        .manifests
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .collect();
    found.sort_by(|a, b| a.0.cmp(b.0));
    for (key, (media_type, bytes)) in found {
        let Ok(m) = Manifest::from_slice(bytes) else {
            continue;
        };
        if m.subject.as_ref().map(|d| d.digest.to_string()).as_deref() != Some(subject) {
            continue;
        }
        let kind = m
            .artifact_type
            .clone()
            .unwrap_or_else(|| m.config.media_type.clone());
        if artifact_type.is_some_and(|t| t != kind.as_str()) {
            continue;
        }
        let Ok(digest) = key[prefix.len()..].parse::<Digest>() else {
            continue;
        };
        let mut d = Descriptor::new(
            MediaType::from(media_type.as_str()),
            digest,
            bytes.len() as u64,
        );
        d.artifact_type = Some(kind);
        d.annotations = m.annotations;
        index.manifests.push(d);
    }
    index
}
