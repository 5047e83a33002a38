//! What `inspect` and `verify` read: the images a name holds and, when the name is an index
//! (a registry's multi-platform image, an OCI ref naming one), that index with its entries.

use std::sync::Arc;

use anyhow::{Context, Result};
use oci_copy::{Content, ImageName, NamedImage};
use oci_partial::{Child, Image, ImageIndex};
use oci_types::{Digest, MediaType, Platform};

use crate::registry::Access;
use crate::usage;

/// An index a name named.
pub(crate) struct IndexInfo {
    /// The name as given.
    pub(crate) label: String,
    /// Its tags (an OCI ref name, a registry tag).
    pub(crate) tags: Vec<String>,
    /// Its digest, as stored (what to pin with `@sha256:`).
    pub(crate) digest: Digest,
    pub(crate) media_type: MediaType,
    /// Its entries, in order.
    pub(crate) entries: Vec<Entry>,
    /// The index itself (for `verify`).
    pub(crate) index: Arc<dyn ImageIndex>,
}

/// One entry of an index.
pub(crate) struct Entry {
    pub(crate) digest: Digest,
    pub(crate) media_type: MediaType,
    /// The platform the entry claims.
    pub(crate) platform: Option<Platform>,
}

/// An image to show or check, and the platform its index entry claims for it.
pub(crate) struct Listed {
    /// How to name it (`oci:dir:ref (linux/arm64)`, `docker-archive:x.tar:@0`).
    pub(crate) label: String,
    pub(crate) tags: Vec<String>,
    pub(crate) image: Arc<dyn Image>,
    pub(crate) platform: Option<Platform>,
}

/// What a name holds.
pub(crate) struct Opened {
    /// The index the name named, if it named one.
    pub(crate) index: Option<IndexInfo>,
    /// Its images: the one image, the index's images (only `platform`'s when given), or every
    /// image of an archive or layout.
    pub(crate) images: Vec<Listed>,
}

/// Opens `name`: one image or index when it names one (a registry reference, an OCI ref, a
/// docker archive's selector), else every image of the archive or layout. `platform` picks
/// one image of an index.
pub(crate) fn open(
    access: &Access<'_>,
    name: &ImageName,
    platform: Option<&Platform>,
) -> Result<Opened> {
    let single = match name {
        ImageName::Oci { reference, .. } | ImageName::OciArchive { reference, .. } => {
            reference.is_some()
        }
        ImageName::DockerArchive { selector, .. } => selector.is_some(),
        _ => true,
    };
    if !single {
        if platform.is_some() {
            usage!("--platform picks an image of an index: name the index ({name}:REF)");
        }
        let images = access.open_images(name)?;
        return Ok(Opened {
            index: None,
            images: images
                .into_iter()
                .map(|named: NamedImage| Listed {
                    label: named.label,
                    tags: named.tags,
                    image: named.image,
                    platform: None,
                })
                .collect(),
        });
    }
    let options = access.copy_options(name)?;
    let source = oci_copy::open_source(name, &options).map_err(|e| access.explain(e))?;
    let index = match source.content {
        Content::Image(image) => {
            if let Some(p) = platform {
                let have = image
                    .config_file()
                    .with_context(|| format!("reading the config of {name}"))?
                    .platform();
                if !have.matches(p) {
                    anyhow::bail!("{name} is one image, for {have}, not an index with {p}");
                }
            }
            return Ok(Opened {
                index: None,
                images: vec![Listed {
                    label: name.to_string(),
                    tags: source.tags,
                    image,
                    platform: None,
                }],
            });
        }
        Content::Index(index) => index,
        _ => anyhow::bail!("{name}: neither an image nor an index"),
    };
    let at = || format!("reading the index {name}");
    let descriptor = index.descriptor().with_context(at)?;
    let mut entries = Vec::new();
    let mut images = Vec::new();
    for child in index.manifests().with_context(at)? {
        let d = child.descriptor().with_context(at)?;
        entries.push(Entry {
            digest: d.digest.clone(),
            media_type: d.media_type.clone(),
            platform: d.platform.clone(),
        });
        let Child::Image(image) = child else {
            // A nested index or an artifact: listed, not opened.
            continue;
        };
        if let Some(p) = platform {
            if !d.platform.as_ref().is_some_and(|have| have.matches(p)) {
                continue;
            }
        }
        let label = match &d.platform {
            Some(p) => format!("{name} ({p})"),
            None => format!("{name}@{}", d.digest),
        };
        images.push(Listed {
            label,
            tags: source.tags.clone(),
            image,
            platform: d.platform.clone(),
        });
        if platform.is_some() {
            break;
        }
    }
    if let (Some(p), true) = (platform, images.is_empty()) {
        let have: Vec<String> = entries
            .iter()
            .filter_map(|e| e.platform.as_ref().map(ToString::to_string))
            .collect();
        anyhow::bail!("{name} has no image for {p} (it has {})", have.join(", "));
    }
    Ok(Opened {
        index: Some(IndexInfo {
            label: name.to_string(),
            tags: source.tags,
            digest: descriptor.digest,
            media_type: descriptor.media_type,
            entries,
            index,
        }),
        images,
    })
}

/// `--platform`, parsed; a bad one is a usage error.
pub(crate) fn platform_arg(platform: Option<&str>) -> Result<Option<Platform>> {
    match platform.map(str::parse::<Platform>).transpose() {
        Ok(p) => Ok(p),
        Err(e) => usage!("--platform: {e}"),
    }
}
