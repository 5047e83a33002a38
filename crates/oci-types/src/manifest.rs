//! Image manifests: OCI image manifest and Docker schema2.

use serde::{Deserialize, Serialize};

use crate::descriptor::Annotations;
use crate::limits::MAX_MANIFEST_SIZE;
use crate::raw::Document;
use crate::{Descriptor, Error, Extra, InvalidKind, MediaType};

/// An image manifest, OCI (`application/vnd.oci.image.manifest.v1+json`) or Docker schema2
/// (`application/vnd.docker.distribution.manifest.v2+json`); both share this shape.
/// Unknown fields are kept in `extra`.
///
/// ```
/// use oci_types::{Manifest, MediaType};
/// let json = br#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json",
///   "digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},
///   "layers":[],"x-custom":true}"#;
/// let m = Manifest::from_slice(json).unwrap();
/// assert_eq!(m.media_type(), MediaType::OciManifest); // absent: OCI by default
/// assert!(serde_json::to_string(&m).unwrap().contains("x-custom"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's own media type (optional in OCI, required in Docker schema2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<MediaType>,
    /// The type of an artifact, when the manifest describes one (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<MediaType>,
    /// The image config (or the empty descriptor of an artifact).
    pub config: Descriptor,
    /// The layers, base first.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
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

impl Manifest {
    /// A new schema-version-2 manifest with the given media type, config and layers.
    pub fn new(media_type: MediaType, config: Descriptor, layers: Vec<Descriptor>) -> Manifest {
        Manifest {
            schema_version: 2,
            media_type: Some(media_type),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: Annotations::new(),
            extra: Extra::new(),
        }
    }

    /// Parses and checks a manifest (size and depth bounded).
    pub fn from_slice(bytes: &[u8]) -> Result<Manifest, Error> {
        crate::raw::parse_document(bytes)
    }

    /// The media type: the `mediaType` field, or OCI's when the field is absent.
    pub fn media_type(&self) -> MediaType {
        self.media_type.clone().unwrap_or(MediaType::OciManifest)
    }
}

impl Document for Manifest {
    const KIND: &'static str = "manifest";
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
                what: "manifest",
                kind: InvalidKind::SchemaVersion(v),
            });
        }
        if let Some(mt) = media_type {
            if mt.is_index() || mt.is_schema1() || mt.is_layer() || mt.is_config() {
                return Err(Error::Invalid {
                    what: "manifest",
                    kind: InvalidKind::WrongMediaType {
                        media_type: mt.to_string(),
                        expected: "an image manifest",
                    },
                });
            }
        }
        Ok(())
    }
}
