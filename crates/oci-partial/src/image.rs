//! The [`Image`] trait.

use std::sync::Arc;

use oci_types::{ConfigFile, Descriptor, Digest, Manifest, MediaType};

use crate::{Error, Layer, Result};

/// An image: a manifest, a config and layers.
///
/// Required methods are the minimum a source can provide; the others derive from them:
/// digests are always taken of the raw bytes as stored ([`Image::raw_manifest`],
/// [`Image::raw_config_file`]), never of a re-serialisation.
///
/// Usable as `Arc<dyn Image>`: every source in ocikit (docker archive, OCI layout, stream,
/// registry) produces one and every sink consumes one.
pub trait Image: Send + Sync {
    /// The layers, base first, as the manifest lists them.
    fn layers(&self) -> Result<Vec<Arc<dyn Layer>>>;
    /// The manifest's media type.
    fn media_type(&self) -> Result<MediaType>;
    /// The config blob as stored.
    fn raw_config_file(&self) -> Result<Vec<u8>>;
    /// The manifest as stored.
    fn raw_manifest(&self) -> Result<Vec<u8>>;
    /// The layer whose blob digest is `digest`.
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn Layer>>;
    /// The layer whose uncompressed digest is `diff_id`.
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>>;

    /// The size of the manifest as stored.
    fn size(&self) -> Result<u64> {
        Ok(self.raw_manifest()?.len() as u64)
    }
    /// The digest of the manifest as stored.
    fn digest(&self) -> Result<Digest> {
        Ok(Digest::sha256(&self.raw_manifest()?))
    }
    /// The parsed manifest.
    fn manifest(&self) -> Result<Manifest> {
        Ok(Manifest::from_slice(&self.raw_manifest()?)?)
    }
    /// The digest of the config blob as stored (the "image ID").
    fn config_name(&self) -> Result<Digest> {
        Ok(Digest::sha256(&self.raw_config_file()?))
    }
    /// The parsed config.
    fn config_file(&self) -> Result<ConfigFile> {
        Ok(ConfigFile::from_slice(&self.raw_config_file()?)?)
    }
    /// The descriptor of the manifest (media type, digest, size, and the manifest's
    /// `artifactType` when it has one, as OCI 1.1 asks of descriptors of artifacts); sources
    /// that know a platform or annotations for it override this.
    fn descriptor(&self) -> Result<Descriptor> {
        let raw = self.raw_manifest()?;
        let mut desc = Descriptor::of_bytes(self.media_type()?, &raw);
        desc.artifact_type = oci_types::Manifest::from_slice(&raw)
            .ok()
            .and_then(|m| m.artifact_type)
            .filter(|t| !t.as_str().is_empty());
        Ok(desc)
    }
}

/// Looks a layer up in `layers` by blob digest; a helper for [`Image::layer_by_digest`].
pub fn find_layer_by_digest(layers: &[Arc<dyn Layer>], digest: &Digest) -> Result<Arc<dyn Layer>> {
    for l in layers {
        if &l.digest()? == digest {
            return Ok(Arc::clone(l));
        }
    }
    Err(Error::NotFound {
        what: "layer",
        digest: digest.clone(),
    })
}

/// Looks a layer up in `layers` by diff_id; a helper for [`Image::layer_by_diff_id`].
pub fn find_layer_by_diff_id(
    layers: &[Arc<dyn Layer>],
    diff_id: &Digest,
) -> Result<Arc<dyn Layer>> {
    for l in layers {
        if &l.diff_id()? == diff_id {
            return Ok(Arc::clone(l));
        }
    }
    Err(Error::NotFound {
        what: "layer with diff_id",
        digest: diff_id.clone(),
    })
}
