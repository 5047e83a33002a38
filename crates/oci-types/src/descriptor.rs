//! Content descriptors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{base64, Digest, Error, Extra, MediaType, Platform};

/// Annotations: string keys to string values, kept sorted.
pub type Annotations = BTreeMap<String, String>;

/// The annotation key that names a manifest in an OCI layout's `index.json`.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// A content descriptor: what a blob is, its digest and size, and optional extras.
///
/// ```
/// use oci_types::{Descriptor, Digest, MediaType};
/// let d = Descriptor::new(MediaType::OciEmpty, Digest::sha256(b"{}"), 2).with_data(b"{}");
/// assert_eq!(d.embedded_data().unwrap().as_deref(), Some(&b"{}"[..]));
/// let json = serde_json::to_string(&d).unwrap();
/// assert!(json.contains(r#""data":"e30=""#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Descriptor {
    /// The media type of the referenced content.
    pub media_type: MediaType,
    /// The digest of the referenced content.
    pub digest: Digest,
    /// The size of the referenced content in bytes.
    pub size: u64,
    /// Other places the content may be fetched from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: Annotations,
    /// The platform of a manifest referenced from an index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// The artifact type of a referenced artifact manifest (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<MediaType>,
    /// The content itself, base64 encoded (OCI 1.1); see [`Descriptor::embedded_data`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Fields this crate does not know, kept for round trips.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Descriptor {
    /// A descriptor with just media type, digest and size.
    pub fn new(media_type: MediaType, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type,
            digest,
            size,
            urls: Vec::new(),
            annotations: Annotations::new(),
            platform: None,
            artifact_type: None,
            data: None,
            extra: Extra::new(),
        }
    }

    /// The descriptor of `bytes` (sha256), with `media_type`.
    pub fn of_bytes(media_type: MediaType, bytes: &[u8]) -> Descriptor {
        Descriptor::new(media_type, Digest::sha256(bytes), bytes.len() as u64)
    }

    /// The same descriptor carrying `bytes` as embedded data.
    pub fn with_data(mut self, bytes: &[u8]) -> Descriptor {
        self.data = Some(base64::encode(bytes));
        self
    }

    /// The same descriptor with `platform`.
    pub fn with_platform(mut self, platform: Platform) -> Descriptor {
        self.platform = Some(platform);
        self
    }

    /// The same descriptor with one more annotation.
    pub fn with_annotation(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Descriptor {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The `org.opencontainers.image.ref.name` annotation, if any.
    pub fn ref_name(&self) -> Option<&str> {
        self.annotations
            .get(ANNOTATION_REF_NAME)
            .map(String::as_str)
    }

    /// The embedded `data`, decoded, when it is present AND its length and digest match the
    /// descriptor; `Ok(None)` when absent or when it does not match (then the content must be
    /// fetched the ordinary way, as the spec requires). Invalid base64 is an error.
    pub fn embedded_data(&self) -> Result<Option<Vec<u8>>, Error> {
        let Some(data) = &self.data else {
            return Ok(None);
        };
        // Cheap length check before decoding: base64 length is 4/3 of the content.
        if (data.len() as u64) / 4 * 3 > self.size.saturating_add(3) {
            return Ok(None);
        }
        let bytes = base64::decode(data).ok_or_else(|| Error::InvalidBase64 {
            digest: self.digest.clone(),
        })?;
        if bytes.len() as u64 != self.size || self.digest.verify(&bytes).is_err() {
            return Ok(None);
        }
        Ok(Some(bytes))
    }
}
