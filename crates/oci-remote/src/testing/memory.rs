//! [`MemoryRegistry`]: an in-memory registry with the referrers API of distribution spec 1.1,
//! which Debian's `docker-registry` (2.8) lacks.

#![allow(clippy::expect_used)] // test support: a registry that cannot bind a loopback port fails its test

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use oci_types::{Descriptor, Digest, Index, Manifest, MediaType};

use super::server::{Answer, Request, Script, Server};

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
    state: Arc<Memory>,
    server: Server,
}

/// The registry's state, answering requests as the [`Script`] of its server.
#[derive(Default)]
struct Memory(Mutex<State>);

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

impl MemoryRegistry {
    /// Starts the registry on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start() -> MemoryRegistry {
        let state = Arc::new(Memory::default());
        let server = Server::start(Arc::clone(&state));
        MemoryRegistry { state, server }
    }

    /// `127.0.0.1:PORT`, for references.
    pub fn host(&self) -> String {
        self.server.host()
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

fn lock(state: &Memory) -> std::sync::MutexGuard<'_, State> {
    state.0.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Script for Memory {
    fn answer(&self, request: &Request) -> Answer {
        answer(&mut lock(self), request)
    }
}

/// A query parameter, undecoded but for `%2F` and `%2B` (media types).
fn query(request: &Request, name: &str) -> Option<String> {
    request
        .query(name)
        .map(|v| v.replace("%2F", "/").replace("%2B", "+"))
}

fn answer(s: &mut State, request: &Request) -> Answer {
    let (method, path, body) = (request.method.as_str(), request.path(), &request.body[..]);
    let content_type = request.header("content-type").unwrap_or("");
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
            let Some(digest) = query(request, "digest").and_then(|d| d.parse::<Digest>().ok())
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
            let filter = query(request, "artifactType");
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
