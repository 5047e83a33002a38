//! Image indexes: OCI image index and Docker manifest list.

use serde::{Deserialize, Serialize};

use crate::descriptor::Annotations;
use crate::limits::MAX_MANIFEST_SIZE;
use crate::raw::Document;
use crate::{Descriptor, Error, Extra, InvalidKind, MediaType};

/// An image index (`application/vnd.oci.image.index.v1+json`) or Docker manifest list
/// (`application/vnd.docker.distribution.manifest.list.v2+json`). Unknown fields are kept.
///
/// ```
/// use oci_types::{Index, MediaType};
/// let i = Index::from_slice(br#"{"schemaVersion":2,"manifests":[]}"#).unwrap();
/// assert_eq!(i.media_type(), MediaType::OciIndex);
/// assert!(Index::from_slice(br#"{"schemaVersion":1,"manifests":[]}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Index {
    /// Always 2.
    pub schema_version: u32,
    /// The index's own media type (optional in OCI, required for Docker manifest lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<MediaType>,
    /// The type of an artifact index (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<MediaType>,
    /// The manifests and indexes this index holds. Required, as the spec says: without it an
    /// image manifest lacking `mediaType` would parse as an empty index.
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to (OCI 1.1 referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "Annotations::is_empty")]
    pub annotations: Annotations,
    /// Fields this crate does not know, kept for round trips.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Index {
    /// A new, empty schema-version-2 index with the given media type.
    pub fn new(media_type: MediaType) -> Index {
        Index {
            schema_version: 2,
            media_type: Some(media_type),
            artifact_type: None,
            manifests: Vec::new(),
            subject: None,
            annotations: Annotations::new(),
            extra: Extra::new(),
        }
    }

    /// Parses and checks an index (size and depth bounded).
    pub fn from_slice(bytes: &[u8]) -> Result<Index, Error> {
        crate::raw::parse_document(bytes)
    }

    /// The media type: the `mediaType` field, or OCI's when the field is absent.
    pub fn media_type(&self) -> MediaType {
        self.media_type.clone().unwrap_or(MediaType::OciIndex)
    }
}

impl Document for Index {
    const KIND: &'static str = "index";
    const MAX_SIZE: u64 = MAX_MANIFEST_SIZE;

    fn check(&self) -> Result<(), Error> {
        Self::check_header(Some(self.schema_version.into()), self.media_type.as_ref())
    }

    fn check_header(
        schema_version: Option<u64>,
        media_type: Option<&MediaType>,
    ) -> Result<(), Error> {
        if let Some(v) = schema_version.filter(|v| *v != 2) {
            return Err(Error::Invalid {
                what: "index",
                kind: InvalidKind::SchemaVersion(v),
            });
        }
        if let Some(mt) = media_type {
            if !mt.is_index() && !matches!(mt, MediaType::Other(_)) {
                return Err(Error::Invalid {
                    what: "index",
                    kind: InvalidKind::WrongMediaType {
                        media_type: mt.to_string(),
                        expected: "an index",
                    },
                });
            }
        }
        Ok(())
    }
}
