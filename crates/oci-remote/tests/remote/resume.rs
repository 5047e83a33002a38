//! Resuming a chunk cut off midway, against a fake registry that, as the OCI distribution
//! spec allows (and distribution 2.8 does not), keeps the bytes of a broken `PATCH` and
//! reports them in the session's `Range`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use oci_remote::Client;
use oci_types::{Digest, Reference};

use crate::support::{Answer, Fake, Request, Script};

const SESSION: &str = "/v2/resume/test/blobs/uploads/session-1";

/// One upload session, held in memory.
#[derive(Default)]
struct Session {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    data: Vec<u8>,
    /// The first PATCH is cut after this many bytes (kept); later ones arrive whole.
    cut_after: Option<usize>,
    patches: usize,
    status_queries: usize,
    committed: Option<Digest>,
}

impl Session {
    fn range(state: &State) -> String {
        format!("0-{}", state.data.len().saturating_sub(1))
    }
}

impl Script for Session {
    fn cut(&self, request: &Request) -> Option<usize> {
        let mut s = self.state.lock().unwrap();
        if request.method == "PATCH" {
            s.patches += 1;
            return s.cut_after.take();
        }
        None
    }

    fn cut_off(&self, request: &Request) {
        self.state
            .lock()
            .unwrap()
            .data
            .extend_from_slice(&request.body);
    }

    fn answer(&self, request: &Request) -> Answer {
        let mut s = self.state.lock().unwrap();
        let location = ("Location", SESSION.to_owned());
        match (request.method.as_str(), request.path()) {
            ("GET", "/v2/") => ("200 OK", vec![], vec![]),
            ("POST", "/v2/resume/test/blobs/uploads/") => ("202 Accepted", vec![location], vec![]),
            ("PATCH", SESSION) => {
                s.data.extend_from_slice(&request.body);
                let range = ("Range", Session::range(&s));
                ("202 Accepted", vec![location, range], vec![])
            }
            ("GET", SESSION) => {
                s.status_queries += 1;
                let range = ("Range", Session::range(&s));
                ("204 No Content", vec![location, range], vec![])
            }
            ("PUT", SESSION) => {
                s.data.extend_from_slice(&request.body);
                let digest: Digest = request.query("digest").unwrap().parse().unwrap();
                if Digest::sha256(&s.data) != digest {
                    return ("400 Bad Request", vec![], vec![]);
                }
                s.committed = Some(digest.clone());
                let header = ("Docker-Content-Digest", digest.to_string());
                ("201 Created", vec![header], vec![])
            }
            _ => ("404 Not Found", vec![], vec![]),
        }
    }
}

#[test]
fn a_chunk_cut_off_midway_resumes_where_the_registry_says_it_stopped() {
    let session = Arc::new(Session::default());
    // Cut the first PATCH after 1.5 MiB of its 2 MiB chunk.
    session.state.lock().unwrap().cut_after = Some(3 << 19);
    let fake = Fake::start(Arc::clone(&session));

    let client = Client::builder()
        .chunk_size(2 << 20)
        .retries(3, Duration::from_millis(1))
        .build();
    let reference: Reference = format!("{}/resume/test", fake.host()).parse().unwrap();
    let data: Vec<u8> = (0..5_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let (digest, size) = client
        .repository(&reference)
        .upload_stream(&mut std::io::Cursor::new(data.clone()))
        .unwrap();

    assert_eq!(digest, Digest::sha256(&data));
    assert_eq!(size, data.len() as u64);
    let s = session.state.lock().unwrap();
    // The registry got every byte exactly once: the cut chunk's first 1.5 MiB were not sent
    // again.
    assert!(
        s.data == data,
        "the registry holds other bytes than were uploaded"
    );
    assert_eq!(s.committed.as_ref(), Some(&digest));
    assert_eq!(s.status_queries, 1);
    // Three chunks (2 + 2 + 0.77 MiB), plus one for the rest of the cut chunk.
    assert_eq!(s.patches, 4);
}

#[test]
fn a_session_reopened_from_its_location_continues_at_what_the_registry_holds() {
    let session = Arc::new(Session::default());
    let fake = Fake::start(Arc::clone(&session));
    let reference: Reference = format!("{}/resume/test", fake.host()).parse().unwrap();
    let repo = Client::default().repository(&reference);
    let data = vec![7u8; 3000];

    let mut first = repo.start_upload().unwrap();
    first.patch(&data[..1000]).unwrap();
    // Another process (or a later run) reopens the session from the saved location.
    let mut again = oci_remote::UploadSession::resume(&repo, first.location()).unwrap();
    assert_eq!(again.offset(), 1000);
    again.patch(&data[1000..]).unwrap();
    again.finish_bytes(&[], &Digest::sha256(&data)).unwrap();
    assert!(session.state.lock().unwrap().data == data);
}
