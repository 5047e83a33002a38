//! Documents that keep the exact bytes they were read from.

use std::ops::Deref;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{json, Descriptor, Digest, Error, InvalidKind, MediaType};

/// A JSON document type of this crate ([`crate::Manifest`], [`crate::Index`],
/// [`crate::ConfigFile`]): its name in errors, its size cap and its checks.
pub trait Document: DeserializeOwned + Serialize {
    /// The name used in errors.
    const KIND: &'static str;
    /// The largest accepted size in bytes.
    const MAX_SIZE: u64;
    /// Checks that go beyond the JSON shape.
    fn check(&self) -> Result<(), Error> {
        Ok(())
    }
    /// Checks the `schemaVersion` and `mediaType` fields alone. Parsing calls it when a
    /// document does not have this type's shape, so that a Docker schema1 manifest or an
    /// index given for a manifest is refused as such rather than for a missing field.
    fn check_header(
        schema_version: Option<u64>,
        media_type: Option<&MediaType>,
    ) -> Result<(), Error> {
        let _ = (schema_version, media_type);
        Ok(())
    }
}

/// The fields that say what kind of document a JSON object is.
#[derive(serde::Deserialize)]
struct Header {
    #[serde(rename = "schemaVersion")]
    schema_version: Option<u64>,
    #[serde(rename = "mediaType")]
    media_type: Option<MediaType>,
}

pub(crate) fn parse_document<T: Document>(bytes: &[u8]) -> Result<T, Error> {
    let value: T = match json::parse_limited(bytes, T::KIND, T::MAX_SIZE) {
        Ok(value) => value,
        Err(e @ Error::Json { .. }) => {
            // Size and depth were checked; explain a document of another kind by its header.
            if let Ok(h) = serde_json::from_slice::<Header>(bytes) {
                T::check_header(h.schema_version, h.media_type.as_ref())?;
            }
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    value.check()?;
    Ok(value)
}

/// A parsed document together with the exact bytes it was parsed from and their digest.
///
/// A digest is always taken of these bytes, never of a re-serialisation: re-serialising a
/// manifest can change key order or whitespace and so its digest. [`Raw::from_value`] is for
/// new documents: it serialises once, and from then on those bytes are the document.
/// Cloning is cheap (the bytes are shared).
///
/// ```
/// use oci_types::{Digest, Index, Raw};
/// let bytes = b"{ \"schemaVersion\": 2, \"manifests\": [] }\n";
/// let raw = Raw::<Index>::parse(bytes.to_vec()).unwrap();
/// assert_eq!(raw.digest(), &Digest::sha256(bytes)); // of the bytes as stored
/// assert_eq!(raw.bytes(), bytes);
/// assert!(raw.manifests.is_empty()); // Deref to the parsed value
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw<T> {
    bytes: Arc<[u8]>,
    digest: Digest,
    value: Arc<T>,
}

impl<T: Document> Raw<T> {
    /// Parses `bytes` (size and depth bounded, then checked) and keeps them.
    pub fn parse(bytes: impl Into<Vec<u8>>) -> Result<Raw<T>, Error> {
        let bytes: Vec<u8> = bytes.into();
        let value = parse_document::<T>(&bytes)?;
        let digest = Digest::sha256(&bytes);
        Ok(Raw {
            bytes: bytes.into(),
            digest,
            value: Arc::new(value),
        })
    }

    /// Parses `bytes` and checks that they hash to `expected`.
    pub fn parse_verified(bytes: impl Into<Vec<u8>>, expected: &Digest) -> Result<Raw<T>, Error> {
        let bytes: Vec<u8> = bytes.into();
        expected.verify(&bytes)?;
        Self::parse(bytes)
    }

    /// Serialises a new document (compact JSON) and keeps those bytes as its identity.
    pub fn from_value(value: T) -> Result<Raw<T>, Error> {
        let bytes = serde_json::to_vec(&value).map_err(|e| Error::Invalid {
            what: T::KIND,
            kind: InvalidKind::Serialize(e.to_string()),
        })?;
        let digest = Digest::sha256(&bytes);
        Ok(Raw {
            bytes: bytes.into(),
            digest,
            value: Arc::new(value),
        })
    }
}

impl<T> Raw<T> {
    /// The bytes as read (or as first serialised).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes, shared.
    pub fn shared_bytes(&self) -> Arc<[u8]> {
        Arc::clone(&self.bytes)
    }

    /// The sha256 digest of [`Raw::bytes`].
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The size of [`Raw::bytes`].
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// The parsed value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// A descriptor of these bytes with `media_type`.
    pub fn descriptor(&self, media_type: MediaType) -> Descriptor {
        Descriptor::new(media_type, self.digest.clone(), self.size())
    }
}

impl<T> Deref for Raw<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}
