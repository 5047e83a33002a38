//! Manifests and indexes: `GET` by tag or digest with content negotiation, `HEAD`, `PUT`,
//! `DELETE`. Bytes are kept as the registry sent them and verified against the digest asked
//! for (or the `Docker-Content-Digest` the registry names).

use oci_types::limits::MAX_MANIFEST_SIZE;
use oci_types::{Descriptor, Digest, MediaType};

use crate::error::{Error, ResponseKind, Result};
use crate::http::{Answer, Call, Payload};
use crate::repository::Repository;

/// The manifest media types asked for, best first: OCI and Docker images and indexes.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// A manifest or index as the registry sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchedManifest {
    /// The bytes, exactly as received.
    pub bytes: Vec<u8>,
    /// The media type (the `Content-Type` header, or the document's own `mediaType`).
    pub media_type: MediaType,
    /// The digest of `bytes`.
    pub digest: Digest,
}

impl FetchedManifest {
    /// The descriptor of this manifest.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.media_type.clone(),
            self.digest.clone(),
            self.bytes.len() as u64,
        )
    }
}

impl Repository {
    /// Fetches the manifest or index a tag or digest names. A digest reference is verified
    /// against the bytes; for a tag, a `Docker-Content-Digest` the registry sends must agree
    /// with them.
    pub fn manifest(&self, reference: &str) -> Result<FetchedManifest> {
        let answer = self.send(
            &self.pull_scope(),
            Call::new("GET", self.path(&format!("manifests/{reference}"))).header("Accept", ACCEPT),
        )?;
        match answer.status() {
            200 => {}
            404 => return Err(self.manifest_not_found(reference)),
            _ => return Err(answer.into_error("GET")),
        }
        let content_type = content_type(&answer);
        let header_digest = answer.header("docker-content-digest").map(str::to_owned);
        let url = answer.url.clone();
        let bytes = answer.read_limited("GET", MAX_MANIFEST_SIZE)?;
        let digest = verify_manifest_digest(&url, reference, header_digest.as_deref(), &bytes)?;
        let media_type = match content_type {
            Some(mt) if mt.is_index() || mt.is_image_manifest() => mt,
            // Registries sometimes answer text/plain or application/json; trust the document.
            _ => media_type_of_document(&bytes).unwrap_or_else(|| {
                content_type.unwrap_or(MediaType::Other("application/json".into()))
            }),
        };
        Ok(FetchedManifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// The descriptor of the manifest a tag or digest names (`HEAD`), or `None` if there is
    /// none. Registries that send no `Docker-Content-Digest` on `HEAD` get a `GET`.
    pub fn manifest_descriptor(&self, reference: &str) -> Result<Option<Descriptor>> {
        let answer = self.send(
            &self.pull_scope(),
            Call::new("HEAD", self.path(&format!("manifests/{reference}")))
                .header("Accept", ACCEPT),
        )?;
        match answer.status() {
            200 => {}
            404 => return Ok(None),
            _ => return Err(answer.into_error("HEAD")),
        }
        let digest = answer
            .header("docker-content-digest")
            .and_then(|d| d.parse::<Digest>().ok());
        let size = answer
            .header("content-length")
            .and_then(|s| s.parse::<u64>().ok());
        match (content_type(&answer), digest, size) {
            (Some(mt), Some(digest), Some(size)) if mt.is_index() || mt.is_image_manifest() => {
                Ok(Some(Descriptor::new(mt, digest, size)))
            }
            _ => Ok(Some(self.manifest(reference)?.descriptor())),
        }
    }

    /// Stores a manifest or index under a tag or its digest (`PUT`), and returns its digest.
    /// Every blob and child it names must already be in the repository.
    ///
    /// A manifest with a `subject` put to a registry without the referrers API (it does not
    /// answer with `OCI-Subject`) is also added to the subject's fallback index
    /// ([`crate::referrers_tag`]), as the distribution spec asks of clients.
    pub fn put_manifest(
        &self,
        reference: &str,
        media_type: &MediaType,
        bytes: &[u8],
    ) -> Result<Digest> {
        let (digest, subject_handled) = self.put_manifest_only(reference, media_type, bytes)?;
        if !subject_handled {
            self.update_referrers_fallback(media_type, bytes, &digest)?;
        }
        Ok(digest)
    }

    /// `PUT` alone; also says whether the registry answered `OCI-Subject`.
    pub(crate) fn put_manifest_only(
        &self,
        reference: &str,
        media_type: &MediaType,
        bytes: &[u8],
    ) -> Result<(Digest, bool)> {
        let digest = Digest::sha256(bytes);
        let answer = self.send(
            &self.push_scope(),
            Call::new("PUT", self.path(&format!("manifests/{reference}")))
                .header("Content-Type", media_type.as_str())
                .body(Payload::Bytes(bytes)),
        )?;
        match answer.status() {
            200 | 201 | 202 | 204 => {}
            _ => return Err(answer.into_error("PUT")),
        }
        if let Some(returned) = answer.header("docker-content-digest") {
            if returned != digest.as_str() {
                return Err(Error::InvalidResponse {
                    url: answer.url.clone(),
                    kind: ResponseKind::ManifestDigest {
                        put: Box::new(digest.clone()),
                        stored: returned.to_owned(),
                    },
                });
            }
        }
        let subject_handled = answer.header("oci-subject").is_some();
        Ok((digest, subject_handled))
    }

    /// Deletes a manifest by digest, and with it every tag that names it (many registries
    /// refuse deletion unless configured to allow it: [`Error::NotAllowed`]).
    pub fn delete_manifest(&self, digest: &Digest) -> Result<()> {
        self.delete_reference(digest.as_str(), "deleting a manifest")
    }

    /// Deletes a tag alone, leaving the manifest and its other tags (`DELETE` of the tag, as
    /// the distribution spec allows). Registries that do not support it answer 405:
    /// [`Error::NotAllowed`] (distribution 2.8 is one; delete by digest there).
    pub fn delete_tag(&self, tag: &str) -> Result<()> {
        self.delete_reference(tag, "deleting a tag")
    }

    fn delete_reference(&self, reference: &str, operation: &'static str) -> Result<()> {
        let answer = self.send(
            &self.delete_scope(),
            Call::new("DELETE", self.path(&format!("manifests/{reference}"))),
        )?;
        let by_tag = reference.parse::<Digest>().is_err();
        match answer.status() {
            200..=299 => Ok(()),
            404 => Err(self.manifest_not_found(reference)),
            status @ (400 | 405) => match answer.into_error("DELETE") {
                Error::Status {
                    url, code, message, ..
                } if status == 405
                    || (by_tag
                        && matches!(code.as_deref(), Some("DIGEST_INVALID" | "UNSUPPORTED"))) =>
                {
                    Err(Error::NotAllowed {
                        operation,
                        url,
                        status,
                        message,
                    })
                }
                other => Err(other),
            },
            _ => Err(answer.into_error("DELETE")),
        }
    }

    /// Tags the manifest or index `reference` (a tag or digest) as `new_tag` too: its bytes
    /// are fetched and put under the new tag, nothing else is uploaded (every blob and child
    /// is in the repository already). Returns its descriptor.
    pub fn tag(&self, reference: &str, new_tag: &str) -> Result<Descriptor> {
        let manifest = self.manifest(reference)?;
        let (digest, _) = self.put_manifest_only(new_tag, &manifest.media_type, &manifest.bytes)?;
        debug_assert_eq!(digest, manifest.digest);
        Ok(manifest.descriptor())
    }

    fn manifest_not_found(&self, reference: &str) -> Error {
        Error::NotFound {
            what: "manifest",
            reference: reference.to_owned(),
            repository: self.to_string(),
        }
    }
}

fn content_type(answer: &Answer) -> Option<MediaType> {
    answer.header("content-type").map(|ct| {
        // Drop parameters such as `; charset=utf-8`.
        MediaType::from(ct.split(';').next().unwrap_or(ct).trim())
    })
}

/// The digest of fetched manifest bytes, checked against a digest reference and against the
/// registry's `Docker-Content-Digest`.
fn verify_manifest_digest(
    url: &str,
    reference: &str,
    header: Option<&str>,
    bytes: &[u8],
) -> Result<Digest> {
    if let Ok(asked) = reference.parse::<Digest>() {
        asked.verify(bytes)?;
        return Ok(asked);
    }
    let digest = Digest::sha256(bytes);
    if let Some(header) = header {
        if let Ok(claimed) = header.parse::<Digest>() {
            // Only a claim we can check is checked (a registry may name a sha512 digest).
            if claimed.algorithm() == digest.algorithm() && claimed != digest {
                return Err(Error::InvalidResponse {
                    url: url.to_owned(),
                    kind: ResponseKind::ContentDigest {
                        claimed: Box::new(claimed),
                        actual: Box::new(digest),
                    },
                });
            }
        }
    }
    Ok(digest)
}

/// The `mediaType` field of a manifest or index document.
fn media_type_of_document(bytes: &[u8]) -> Option<MediaType> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
    }
    let probe: Probe = serde_json::from_slice(bytes).ok()?;
    probe.media_type.map(MediaType::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_checked() {
        let bytes = br#"{"schemaVersion":2}"#;
        let digest = Digest::sha256(bytes);
        assert_eq!(
            verify_manifest_digest("u", digest.as_str(), None, bytes).unwrap(),
            digest
        );
        assert_eq!(
            verify_manifest_digest("u", "latest", Some(digest.as_str()), bytes).unwrap(),
            digest
        );
        let other = Digest::sha256(b"other");
        assert!(matches!(
            verify_manifest_digest("u", other.as_str(), None, bytes),
            Err(Error::Types(oci_types::Error::DigestMismatch { .. }))
        ));
        assert!(matches!(
            verify_manifest_digest("u", "latest", Some(other.as_str()), bytes),
            Err(Error::InvalidResponse {
                kind: ResponseKind::ContentDigest { .. },
                ..
            })
        ));
    }

    #[test]
    fn document_media_type() {
        assert_eq!(
            media_type_of_document(br#"{"mediaType":"application/vnd.oci.image.index.v1+json"}"#),
            Some(MediaType::OciIndex)
        );
        assert_eq!(media_type_of_document(b"{}"), None);
        assert_eq!(media_type_of_document(b"nope"), None);
    }
}
