//! `copy`: open a source, choose its platforms, write it to a destination.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use oci_partial::ImageIndex;
use oci_types::{Digest, MediaType, Platform, Reference};

use crate::error::{Error, OptionsProblem, Result};
use crate::name::ImageName;
use crate::options::{CopyOptions, LayerCompression, Platforms, DEFAULT_PLATFORM};
use crate::report::CopyReport;
use crate::sink::{write_image_named, write_index_named, Naming};
use crate::source::{open_source, pick_platform, Content};

/// Copies the image (or index) `src` names to `dst`, verifying every digest as bytes flow,
/// and reports what was written and what happened to each blob.
///
/// Which images of an index are copied, how layers are compressed, whether digests must be
/// kept, how registries are reached and where progress goes: see [`CopyOptions`]. Nothing is
/// half-written: a failed, cancelled or dropped copy leaves no temporary file behind and an
/// existing destination as it was.
pub fn copy(src: &ImageName, dst: &ImageName, options: &CopyOptions) -> Result<CopyReport> {
    let result = copy_inner(src, dst, options);
    match result {
        Err(_) if cancelled(options) => Err(Error::Cancelled),
        other => other,
    }
}

fn cancelled(options: &CopyOptions) -> bool {
    options
        .cancel
        .as_ref()
        .is_some_and(|c| c.load(Ordering::Relaxed))
}

fn copy_inner(src: &ImageName, dst: &ImageName, options: &CopyOptions) -> Result<CopyReport> {
    let source = open_source(src, options)?;
    options.check_cancelled()?;
    let reference: Option<Reference> = source.tags.first().and_then(|t| t.parse().ok());
    let mount_from = src.registry_reference();
    let image_naming = Naming {
        reference: reference.as_ref(),
        ref_name: source.tags.first().map(String::as_str),
        mount_from,
    };
    let index_naming = Naming {
        reference: reference.as_ref(),
        ref_name: None,
        mount_from,
    };
    let label = src.to_string();
    let index = match source.content {
        Content::Image(image) => return write_image_named(image, dst, &image_naming, options),
        Content::Index(index) => index,
    };
    let whole = |index: Arc<dyn ImageIndex>| {
        if !matches!(
            options.compression,
            LayerCompression::Auto | LayerCompression::Keep
        ) {
            return Err(Error::Options(OptionsProblem::CompressIndex));
        }
        write_index_named(index, dst, &index_naming, options)
    };
    match &options.platforms {
        Platforms::Auto if dst.holds_single_images() => {
            let p: Platform = DEFAULT_PLATFORM.parse().map_err(|source| Error::Document {
                name: label.clone(),
                source: Box::new(source),
            })?;
            let image = pick_platform(&label, index.as_ref(), &p)?;
            write_image_named(image, dst, &image_naming, options)
        }
        Platforms::Auto | Platforms::All => whole(index),
        Platforms::One(p) => {
            let image = pick_platform(&label, index.as_ref(), p)?;
            write_image_named(image, dst, &image_naming, options)
        }
        Platforms::List(list) => {
            if dst.holds_single_images() || list.len() == 1 {
                match list.as_slice() {
                    [p] => {
                        let image = pick_platform(&label, index.as_ref(), p)?;
                        write_image_named(image, dst, &image_naming, options)
                    }
                    _ => Err(Error::Options(OptionsProblem::SeveralPlatforms {
                        destination: dst.to_string(),
                        count: list.len(),
                    })),
                }
            } else {
                let filtered = filter_index(&label, index, list)?;
                if options.preserve_digests {
                    return Err(Error::DigestWouldChange {
                        what: "index",
                        digest: filtered.source_digest.clone(),
                        reason: "only some platforms are copied",
                    });
                }
                whole(Arc::new(filtered))
            }
        }
    }
}

pub(crate) fn image_error(name: &str, source: oci_partial::Error) -> Error {
    Error::Image {
        name: name.to_owned(),
        source: Box::new(source),
    }
}

/// An index narrowed to some platforms: the source's bytes with the other entries of
/// `manifests` left out (every other field kept in its order).
struct FilteredIndex {
    inner: Arc<dyn ImageIndex>,
    raw: Vec<u8>,
    source_digest: Digest,
}

fn filter_index(
    label: &str,
    index: Arc<dyn ImageIndex>,
    platforms: &[Platform],
) -> Result<FilteredIndex> {
    let at = |source| image_error(label, source);
    let manifest = index.index_manifest().map_err(at)?;
    let raw = index.raw_manifest().map_err(at)?;
    let source_digest = Digest::sha256(&raw);
    let mut keep = vec![false; manifest.manifests.len()];
    for p in platforms {
        let found = manifest.manifests.iter().position(|d| {
            d.media_type.is_image_manifest() && d.platform.as_ref().is_some_and(|q| p.matches(q))
        });
        match found {
            Some(i) => keep[i] = true,
            None => {
                return Err(Error::PlatformNotFound {
                    name: label.to_owned(),
                    platform: Box::new(p.clone()),
                    available: manifest
                        .manifests
                        .iter()
                        .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
                        .collect(),
                })
            }
        }
    }
    let doc_error = |e: serde_json::Error| Error::Document {
        name: label.to_owned(),
        source: Box::new(oci_types::Error::Json {
            what: "index",
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        }),
    };
    let mut value: serde_json::Value = serde_json::from_slice(&raw).map_err(doc_error)?;
    if let Some(serde_json::Value::Array(entries)) = value.get_mut("manifests") {
        let mut i = 0;
        entries.retain(|_| {
            let k = keep.get(i).copied().unwrap_or(false);
            i += 1;
            k
        });
    }
    let raw = serde_json::to_vec(&value).map_err(doc_error)?;
    Ok(FilteredIndex {
        inner: index,
        raw,
        source_digest,
    })
}

impl ImageIndex for FilteredIndex {
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        self.inner.media_type()
    }
    fn raw_manifest(&self) -> oci_partial::Result<Vec<u8>> {
        Ok(self.raw.clone())
    }
    fn image(&self, digest: &Digest) -> oci_partial::Result<Arc<dyn oci_partial::Image>> {
        self.inner.image(digest)
    }
    fn image_index(&self, digest: &Digest) -> oci_partial::Result<Arc<dyn ImageIndex>> {
        self.inner.image_index(digest)
    }
}
