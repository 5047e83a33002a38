//! `manifest.json`: the list of images in a docker archive.
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use std::collections::BTreeMap;

use oci_types::{Descriptor, Digest};
use serde::{Deserialize, Deserializer, Serialize};

use crate::limits::MAX_MANIFEST_JSON_SIZE;
use crate::{Error, Result};

/// One image of a docker archive, as `manifest.json` lists it.
///
/// Paths are as written in the archive (not normalised); the reader normalises them when it
/// looks them up. Serialises with Docker's field names, in Docker's order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManifestItem {
    /// Path of the image config in the archive.
    #[serde(rename = "Config")]
    pub config: String,
    /// Tags of the image (`name:tag`, possibly in docker's short form, `busybox:latest`).
    /// `null` reads as empty.
    #[serde(rename = "RepoTags", default, deserialize_with = "null_as_empty")]
    pub repo_tags: Vec<String>,
    /// Paths of the layers in the archive, base first.
    #[serde(rename = "Layers", default, deserialize_with = "null_as_empty")]
    pub layers: Vec<String>,
    /// The legacy parent image ID (set by `docker save` for images built on a local parent).
    #[serde(rename = "Parent", default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Descriptors of layers whose blob is not what the archive holds (Windows foreign layers),
    /// by diff_id.
    #[serde(
        rename = "LayerSources",
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub layer_sources: BTreeMap<Digest, Descriptor>,
}

fn null_as_empty<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl ManifestItem {
    /// A new item with a config path, tags and layer paths.
    pub fn new(
        config: impl Into<String>,
        repo_tags: Vec<String>,
        layers: Vec<String>,
    ) -> ManifestItem {
        ManifestItem {
            config: config.into(),
            repo_tags,
            layers,
            ..ManifestItem::default()
        }
    }

    /// Parses the bytes of a `manifest.json`, refusing documents over
    /// [`MAX_MANIFEST_JSON_SIZE`] or nested too deeply.
    ///
    /// ```
    /// let items = oci_tarfile::ManifestItem::parse_list(
    ///     br#"[{"Config":"abc.json","RepoTags":null,"Layers":["l1.tar"]}]"#,
    /// ).unwrap();
    /// assert_eq!(items[0].layers, ["l1.tar"]);
    /// assert!(items[0].repo_tags.is_empty());
    /// ```
    pub fn parse_list(bytes: &[u8]) -> Result<Vec<ManifestItem>> {
        if bytes.len() as u64 > MAX_MANIFEST_JSON_SIZE {
            return Err(Error::TooLarge {
                what: "manifest.json",
                path: "manifest.json".into(),
                size: bytes.len() as u64,
                limit: MAX_MANIFEST_JSON_SIZE,
            });
        }
        oci_types::json::parse_limited(bytes, "manifest.json", MAX_MANIFEST_JSON_SIZE)
            .map_err(|e| Error::types("parsing manifest.json", e))
    }

    /// Serialises a list as `manifest.json` (compact, Docker's field order).
    pub fn to_json(items: &[ManifestItem]) -> Vec<u8> {
        // Serialising these plain structs cannot fail.
        serde_json::to_vec(items).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // tests index what they just asserted
    use super::*;

    #[test]
    fn parses_real_shapes() {
        let docker = br#"[{"Config":"9e.json","RepoTags":["example.com/fixtures/hello:1.0"],"Layers":["a/layer.tar"],"Parent":"sha256:00","LayerSources":{"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855":{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","size":1,"digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","urls":["https://x"]}}}]"#;
        let items = ManifestItem::parse_list(docker).unwrap();
        assert_eq!(items[0].parent.as_deref(), Some("sha256:00"));
        assert_eq!(items[0].layer_sources.len(), 1);
        let again = ManifestItem::parse_list(&ManifestItem::to_json(&items)).unwrap();
        assert_eq!(again, items);
        assert!(matches!(
            ManifestItem::parse_list(b"{}"),
            Err(Error::Types { .. })
        ));
        assert!(matches!(
            ManifestItem::parse_list(b"[{}]"),
            Err(Error::Types { .. })
        ));
    }

    #[test]
    fn writes_docker_order() {
        let item = ManifestItem::new("c.json", vec!["a:b".into()], vec!["l.tar".into()]);
        assert_eq!(
            ManifestItem::to_json(&[item]),
            br#"[{"Config":"c.json","RepoTags":["a:b"],"Layers":["l.tar"]}]"#
        );
    }
}
