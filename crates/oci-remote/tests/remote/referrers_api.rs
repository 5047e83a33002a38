//! The referrers API of distribution spec 1.1, which Debian's registry (2.8) lacks, against a
//! fake registry: pages followed through `Link`, the artifact type filtered, and a push of a
//! manifest with a subject that the registry indexes itself (`OCI-Subject`) leaving the
//! fallback tag alone.

use std::sync::{Arc, Mutex};

use oci_remote::Client;
use oci_types::{Descriptor, Digest, Index, MediaType, Reference};

use crate::support::{Answer, Fake, Request, Script};

/// A registry whose referrers of one subject come in two pages.
struct Referrers {
    subject: Digest,
    pages: [Index; 2],
    /// Every request, as `METHOD path`.
    seen: Mutex<Vec<String>>,
}

impl Script for Referrers {
    fn answer(&self, request: &Request) -> Answer {
        self.seen
            .lock()
            .unwrap()
            .push(format!("{} {}", request.method, request.path()));
        let referrers = format!("/v2/refs/api/referrers/{}", self.subject);
        let json = ("Content-Type", MediaType::OciIndex.as_str().to_owned());
        match (request.method.as_str(), request.path()) {
            ("GET", "/v2/") => ("200 OK", vec![], vec![]),
            ("GET", path) if path == referrers && request.query("page") == Some("2") => {
                let body = serde_json::to_vec(&self.pages[1]).unwrap();
                ("200 OK", vec![json], body)
            }
            ("GET", path) if path == referrers => {
                let next = ("Link", format!("<{referrers}?page=2>; rel=\"next\""));
                let body = serde_json::to_vec(&self.pages[0]).unwrap();
                ("200 OK", vec![json, next], body)
            }
            ("PUT", path) if path.starts_with("/v2/refs/api/manifests/") => {
                let digest = Digest::sha256(&request.body);
                let headers = vec![
                    ("Docker-Content-Digest", digest.to_string()),
                    ("OCI-Subject", self.subject.to_string()),
                ];
                ("201 Created", headers, vec![])
            }
            _ => ("404 Not Found", vec![], vec![]),
        }
    }
}

fn referrer(n: u8, artifact_type: &str) -> Descriptor {
    let mut d = Descriptor::new(
        MediaType::OciManifest,
        Digest::sha256(&[n]),
        100 + u64::from(n),
    );
    d.artifact_type = Some(MediaType::Other(artifact_type.into()));
    d
}

#[test]
fn referrers_come_from_the_api_across_pages_and_filtered() {
    let subject = Digest::sha256(b"subject");
    let mut first = Index::new(MediaType::OciIndex);
    first.manifests = vec![
        referrer(1, "application/vnd.example.sig"),
        referrer(2, "application/vnd.example.sbom"),
    ];
    let mut second = Index::new(MediaType::OciIndex);
    second.manifests = vec![referrer(3, "application/vnd.example.sig")];
    let script = Arc::new(Referrers {
        subject: subject.clone(),
        pages: [first, second],
        seen: Mutex::new(Vec::new()),
    });
    let fake = Fake::start(Arc::clone(&script));
    let reference: Reference = format!("{}/refs/api", fake.host()).parse().unwrap();
    let repo = Client::default().repository(&reference);

    let all = repo.referrers(&subject, None).unwrap();
    let digests: Vec<_> = all.manifests.iter().map(|d| d.digest.clone()).collect();
    assert_eq!(
        digests,
        [1u8, 2, 3].map(|n| Digest::sha256(&[n])).to_vec(),
        "both pages, in order"
    );
    let sigs = repo
        .referrers(&subject, Some("application/vnd.example.sig"))
        .unwrap();
    assert_eq!(sigs.manifests.len(), 2);
    // No fallback tag was asked for: the API answered.
    let seen = script.seen.lock().unwrap().clone();
    assert!(!seen.iter().any(|r| r.contains("/manifests/")), "{seen:?}");
}

#[test]
fn a_registry_that_indexes_subjects_itself_gets_no_fallback_tag() {
    let subject = Digest::sha256(b"subject");
    let script = Arc::new(Referrers {
        subject: subject.clone(),
        pages: [
            Index::new(MediaType::OciIndex),
            Index::new(MediaType::OciIndex),
        ],
        seen: Mutex::new(Vec::new()),
    });
    let fake = Fake::start(Arc::clone(&script));
    let reference: Reference = format!("{}/refs/api", fake.host()).parse().unwrap();
    let repo = Client::default().repository(&reference);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.sig","config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}},"layers":[],"subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{subject}","size":7}}}}"#
    );
    let digest = repo
        .put_manifest("v1", &MediaType::OciManifest, manifest.as_bytes())
        .unwrap();
    assert_eq!(digest, Digest::sha256(manifest.as_bytes()));
    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        ["GET /v2/", "PUT /v2/refs/api/manifests/v1"],
        "only the manifest itself was put"
    );
}
