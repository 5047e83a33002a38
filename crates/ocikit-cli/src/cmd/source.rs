//! Opening images by name.

use std::sync::Arc;

use anyhow::{bail, Context, Result};
use oci_layout::Layout;
use oci_partial::{Child, Image, ImageIndex};
use oci_tarfile::{Reader, Source};

use crate::transport::{ArchiveSelector, ImageName};
use crate::usage;

/// An image with what names it in its container.
pub(crate) struct Named {
    /// How to name it on the command line (`docker-archive:x.tar:@0`, `oci:dir:ref`).
    pub(crate) label: String,
    /// Its tags (docker archive `RepoTags`) or ref name (OCI layout).
    pub(crate) tags: Vec<String>,
    /// The image.
    pub(crate) image: Arc<dyn Image>,
}

/// Every image `name` holds: all images of an archive or layout, or the one it selects.
pub(crate) fn open_all(name: &ImageName) -> Result<Vec<Named>> {
    match name {
        ImageName::DockerArchive {
            path,
            selector: None,
        } => {
            let reader = Arc::new(
                Reader::from_file(path).with_context(|| format!("opening {}", path.display()))?,
            );
            let mut out = Vec::new();
            for (i, item) in reader.manifest().iter().enumerate() {
                let source = Source::new(Arc::clone(&reader), None, Some(i))
                    .with_context(|| format!("reading image {i} of {}", path.display()))?;
                out.push(Named {
                    label: format!("docker-archive:{}:@{i}", path.display()),
                    tags: item.repo_tags.clone(),
                    image: Arc::new(source),
                });
            }
            Ok(out)
        }
        ImageName::Oci {
            dir,
            reference: None,
        } => {
            let layout = Layout::open(dir)
                .with_context(|| format!("opening OCI layout {}", dir.display()))?;
            let index = layout.image_index()?;
            let mut out = Vec::new();
            collect_index(
                index.as_ref(),
                &format!("oci:{}", dir.display()),
                None,
                &mut out,
                0,
            )?;
            Ok(out)
        }
        _ => Ok(vec![open_one(name)?]),
    }
}

fn collect_index(
    index: &dyn ImageIndex,
    base: &str,
    parent_ref: Option<&str>,
    out: &mut Vec<Named>,
    depth: usize,
) -> Result<()> {
    if depth > 8 {
        bail!("{base}: image indexes nested more than 8 deep");
    }
    for child in index.manifests()? {
        let desc = child.descriptor()?;
        let ref_name = desc.ref_name().or(parent_ref).map(str::to_owned);
        match child {
            Child::Image(image) => {
                let label = match (&ref_name, &desc.platform) {
                    (Some(r), Some(p)) if depth > 0 => format!("{base}:{r} ({p})"),
                    (Some(r), _) => format!("{base}:{r}"),
                    (None, _) => format!("{base}@{}", desc.digest),
                };
                out.push(Named {
                    label,
                    tags: ref_name.into_iter().collect(),
                    image,
                });
            }
            Child::Index(inner) => {
                collect_index(inner.as_ref(), base, ref_name.as_deref(), out, depth + 1)?
            }
            Child::Other(_) => {}
            _ => {}
        }
    }
    Ok(())
}

/// The one image `name` names; an archive or layout holding several needs a selector.
pub(crate) fn open_one(name: &ImageName) -> Result<Named> {
    match name {
        ImageName::DockerArchive { path, selector } => {
            let reader = Arc::new(
                Reader::from_file(path).with_context(|| format!("opening {}", path.display()))?,
            );
            let (reference, index) = match selector {
                Some(ArchiveSelector::Tag(r)) => (Some(r), None),
                Some(ArchiveSelector::Index(i)) => (None, Some(*i)),
                None => (None, None),
            };
            let source = Source::new(Arc::clone(&reader), reference, index)
                .with_context(|| format!("choosing an image in {name}"))?;
            let tags = source.manifest_item().repo_tags.clone();
            Ok(Named {
                label: name.to_string(),
                tags,
                image: Arc::new(source),
            })
        }
        ImageName::Oci { dir, reference } => {
            let layout = Layout::open(dir)
                .with_context(|| format!("opening OCI layout {}", dir.display()))?;
            match reference {
                Some(r) => {
                    let image = layout
                        .image_by_ref(r)
                        .with_context(|| format!("reading {name}"))?;
                    Ok(Named {
                        label: name.to_string(),
                        tags: vec![r.clone()],
                        image,
                    })
                }
                None => {
                    let mut all = open_all(name)?;
                    match all.len() {
                        1 => Ok(all.remove(0)),
                        0 => bail!("{name} holds no image"),
                        n => usage!("{name} holds {n} images: name one as oci:DIR:REF"),
                    }
                }
            }
        }
    }
}
