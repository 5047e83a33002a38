//! OCI 1.1 artifacts: an image manifest with an `artifactType`, the empty config, blobs as its
//! layers and, optionally, a `subject` (an SBOM or a signature attached to an image; what
//! `oras attach` and go-containerregistry's `mutate.Subject` make).

use std::sync::{Arc, Mutex};

use oci_types::{Annotations, Descriptor, Digest, Manifest, MediaType, Raw};

use crate::helpers::{config_layer, lock};
use crate::mutate::{Addendum, EditedLayer};
use crate::{Image, Layer, Result};

/// The empty config of an artifact (`application/vnd.oci.empty.v1+json`), as the image spec
/// defines it.
pub const EMPTY_JSON: &[u8] = b"{}";

/// The title annotation, which names a blob's file (what `oras pull` writes it to).
pub const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";

/// An artifact manifest (OCI 1.1): `artifactType`, the empty config, `blobs` as its layers
/// (each addendum's media type, annotations and urls go into its descriptor), the manifest
/// `annotations`, and a `subject` when it refers to another manifest. Its descriptor carries
/// the `artifactType`, so an index or a layout lists it as the referrers API does. Nothing is
/// read until the manifest is asked for.
///
/// ```
/// use std::sync::Arc;
/// use oci_partial::files::layer_from_bytes;
/// use oci_partial::mutate::{artifact, Addendum};
/// use oci_partial::{random, Image};
/// use oci_types::{Annotations, Compression, MediaType};
///
/// let image = random::image(1, 1, 100);
/// let sbom = layer_from_bytes(br#"{"spdxVersion":"SPDX-2.3"}"#.to_vec())
///     .with_compression(Compression::None, None);
/// let add = Addendum::new(Arc::new(sbom)).with_media_type(MediaType::from("application/spdx+json"));
/// let art = artifact(
///     MediaType::from("application/spdx+json"),
///     Some(image.descriptor()?),
///     vec![add],
///     Annotations::new(),
/// );
/// let m = art.manifest()?;
/// assert_eq!(m.subject.unwrap().digest, image.digest()?);
/// assert_eq!(m.config.media_type, MediaType::OciEmpty);
/// assert_eq!(art.descriptor()?.artifact_type, Some(MediaType::from("application/spdx+json")));
/// # Ok::<(), oci_partial::Error>(())
/// ```
pub fn artifact(
    artifact_type: MediaType,
    subject: Option<Descriptor>,
    blobs: Vec<Addendum>,
    annotations: Annotations,
) -> Arc<dyn Image> {
    let layers = blobs
        .into_iter()
        .map(|a| {
            Arc::new(EditedLayer {
                inner: a.layer,
                media_type: a.media_type,
                family: None,
                annotations: a.annotations,
                urls: a.urls,
            }) as Arc<dyn Layer>
        })
        .collect();
    Arc::new(Artifact {
        artifact_type,
        subject,
        layers,
        annotations,
        manifest: Mutex::new(None),
    })
}

struct Artifact {
    artifact_type: MediaType,
    subject: Option<Descriptor>,
    layers: Vec<Arc<dyn Layer>>,
    annotations: Annotations,
    manifest: Mutex<Option<Raw<Manifest>>>,
}

impl Artifact {
    fn raw(&self) -> Result<Raw<Manifest>> {
        let mut slot = lock(&self.manifest);
        if let Some(m) = &*slot {
            return Ok(m.clone());
        }
        let layers = self
            .layers
            .iter()
            .map(|l| l.descriptor())
            .collect::<Result<Vec<_>>>()?;
        let config = Descriptor::of_bytes(MediaType::OciEmpty, EMPTY_JSON).with_data(EMPTY_JSON);
        let mut m = Manifest::new(MediaType::OciManifest, config, layers);
        m.artifact_type = Some(self.artifact_type.clone());
        m.subject = self.subject.clone();
        m.annotations = self.annotations.clone();
        let raw = Raw::from_value(m)?;
        *slot = Some(raw.clone());
        Ok(raw)
    }
}

impl Image for Artifact {
    fn layers(&self) -> Result<Vec<Arc<dyn Layer>>> {
        Ok(self.layers.clone())
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(MediaType::OciManifest)
    }
    fn raw_config_file(&self) -> Result<Vec<u8>> {
        Ok(EMPTY_JSON.to_vec())
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        Ok(self.raw()?.bytes().to_vec())
    }
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn Layer>> {
        if &Digest::sha256(EMPTY_JSON) == digest {
            return config_layer(self);
        }
        crate::find_layer_by_digest(&self.layers, digest)
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>> {
        crate::find_layer_by_diff_id(&self.layers, diff_id)
    }
    fn descriptor(&self) -> Result<Descriptor> {
        let raw = self.raw()?;
        let mut d = raw.descriptor(MediaType::OciManifest);
        d.artifact_type = Some(self.artifact_type.clone());
        Ok(d)
    }
}
