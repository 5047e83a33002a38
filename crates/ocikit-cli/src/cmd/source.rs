//! Opening images by name.

use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use oci_layout::Layout;
use oci_partial::{Child, Image, ImageIndex};
use oci_remote::Remote;
use oci_tarfile::{Reader, Source};
use oci_types::{Platform, Reference};

use crate::registry::Access;
use crate::transport::{ArchiveSelector, ImageName};
use crate::usage;

/// The image taken from a registry index when no platform is asked for and the destination
/// holds single images only (skopeo takes the host's; ocikit's default host is this).
pub(crate) const DEFAULT_PLATFORM: &str = "linux/amd64";

/// An image with what names it in its container.
pub(crate) struct Named {
    /// How to name it on the command line (`docker-archive:x.tar:@0`, `oci:dir:ref`).
    pub(crate) label: String,
    /// Its tags (docker archive `RepoTags`) or ref name (OCI layout).
    pub(crate) tags: Vec<String>,
    /// The image.
    pub(crate) image: Arc<dyn Image>,
}

/// An index with what names it.
pub(crate) struct NamedIndex {
    /// Its tag, as for [`Named::tags`].
    pub(crate) tags: Vec<String>,
    /// The index.
    pub(crate) index: Arc<dyn ImageIndex>,
}

/// What a copy reads: one image, or a whole index.
pub(crate) enum Opened {
    Image(Named),
    Index(NamedIndex),
}

/// Every image `name` holds: all images of an archive, layout or registry index, or the one
/// it selects.
pub(crate) fn open_all(name: &ImageName, access: &Access<'_>) -> Result<Vec<Named>> {
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
        ImageName::Docker { reference } => match get(reference, access)? {
            Remote::Image(image) => Ok(vec![remote_named(reference, image)]),
            Remote::Index(index) => {
                let mut out = Vec::new();
                collect_remote(reference, index.as_ref(), &mut out, 0)?;
                Ok(out)
            }
            _ => bail!("{name}: neither an image nor an index"),
        },
        _ => Ok(vec![open_one(name, access, None)?]),
    }
}

/// The image or index a registry reference names.
fn get(reference: &Reference, access: &Access<'_>) -> Result<Remote> {
    let client = access.client(reference)?;
    oci_remote::get(&client, reference)
        .map_err(|e| access.explain(e, reference))
        .with_context(|| format!("reading docker://{reference}"))
}

fn remote_named(reference: &Reference, image: Arc<dyn Image>) -> Named {
    Named {
        label: format!("docker://{reference}"),
        tags: remote_tags(reference),
        image,
    }
}

/// A registry reference as a docker-archive tag: with a tag only (`RepoTags` hold no digest).
fn remote_tags(reference: &Reference) -> Vec<String> {
    match (reference.tag(), reference.digest()) {
        (Some(_), None) => vec![reference.familiar()],
        _ => Vec::new(),
    }
}

/// The images of a registry index, labelled `docker://HOST/REPO@DIGEST (PLATFORM)`.
fn collect_remote(
    reference: &Reference,
    index: &dyn ImageIndex,
    out: &mut Vec<Named>,
    depth: usize,
) -> Result<()> {
    if depth > 8 {
        bail!("docker://{reference}: image indexes nested more than 8 deep");
    }
    let repo = reference.repository();
    for child in index.manifests()? {
        let desc = child.descriptor()?;
        match child {
            Child::Image(image) => {
                let label = match &desc.platform {
                    Some(p) => format!("docker://{repo}@{} ({p})", desc.digest),
                    None => format!("docker://{repo}@{}", desc.digest),
                };
                out.push(Named {
                    label,
                    tags: remote_tags(reference),
                    image,
                });
            }
            Child::Index(inner) => collect_remote(reference, inner.as_ref(), out, depth + 1)?,
            _ => {}
        }
    }
    Ok(())
}

/// The image of `index` for `platform` (an entry whose platform matches it).
fn pick_platform(
    label: &str,
    index: &dyn ImageIndex,
    platform: &Platform,
) -> Result<Arc<dyn Image>> {
    let manifest = index.index_manifest()?;
    let images = || {
        manifest
            .manifests
            .iter()
            .filter(|d| d.media_type.is_image_manifest())
    };
    let Some(entry) = images().find(|d| d.platform.as_ref().is_some_and(|p| platform.matches(p)))
    else {
        let have: Vec<String> = images()
            .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
            .collect();
        return Err(anyhow!(
            "{label} has no image for {platform} (it has: {})",
            if have.is_empty() {
                "none with a platform".to_owned()
            } else {
                have.join(", ")
            }
        ));
    };
    index
        .image(&entry.digest)
        .with_context(|| format!("reading {label}@{}", entry.digest))
}

/// What a copy from `name` reads: the image it names; for an index (in a registry, or an
/// OCI layout ref naming one), the index itself when `whole_index` and no `platform` is asked
/// for, else its image for `platform` ([`DEFAULT_PLATFORM`] when `None`). `platform` does not
/// matter to a single image.
pub(crate) fn open_for_copy(
    name: &ImageName,
    access: &Access<'_>,
    platform: Option<&Platform>,
    whole_index: bool,
) -> Result<Opened> {
    let (index, tags) = match name {
        ImageName::Docker { reference } => match get(reference, access)? {
            Remote::Image(image) => return Ok(Opened::Image(remote_named(reference, image))),
            Remote::Index(index) => (index, remote_tags(reference)),
            _ => bail!("{name}: neither an image nor an index"),
        },
        ImageName::Oci {
            dir,
            reference: Some(r),
        } => {
            let layout = Layout::open(dir)
                .with_context(|| format!("opening OCI layout {}", dir.display()))?;
            let desc = layout
                .entry_by_ref(r)
                .with_context(|| format!("reading {name}"))?;
            if !desc.media_type.is_index() {
                return Ok(Opened::Image(open_one(name, access, platform)?));
            }
            let index = layout
                .index_for(&desc)
                .with_context(|| format!("reading {name}"))?;
            (index, vec![r.clone()])
        }
        _ => return Ok(Opened::Image(open_one(name, access, platform)?)),
    };
    if whole_index && platform.is_none() {
        return Ok(Opened::Index(NamedIndex { tags, index }));
    }
    let image = choose(name, index.as_ref(), platform)?;
    Ok(Opened::Image(Named {
        label: name.to_string(),
        tags,
        image,
    }))
}

/// The image of a registry index for `platform`, or for [`DEFAULT_PLATFORM`].
fn choose(
    name: &ImageName,
    index: &dyn ImageIndex,
    platform: Option<&Platform>,
) -> Result<Arc<dyn Image>> {
    match platform {
        Some(p) => pick_platform(&name.to_string(), index, p),
        None => {
            let p: Platform = DEFAULT_PLATFORM.parse()?;
            pick_platform(&name.to_string(), index, &p)
        }
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

/// The one image `name` names; an archive or layout holding several needs a selector, and
/// of a registry index the image for `platform` is taken ([`DEFAULT_PLATFORM`] when `None`).
pub(crate) fn open_one(
    name: &ImageName,
    access: &Access<'_>,
    platform: Option<&Platform>,
) -> Result<Named> {
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
                    let mut all = open_all(name, access)?;
                    match all.len() {
                        1 => Ok(all.remove(0)),
                        0 => bail!("{name} holds no image"),
                        n => usage!("{name} holds {n} images: name one as oci:DIR:REF"),
                    }
                }
            }
        }
        ImageName::Docker { reference } => match get(reference, access)? {
            Remote::Image(image) => Ok(remote_named(reference, image)),
            Remote::Index(index) => Ok(remote_named(
                reference,
                choose(name, index.as_ref(), platform)?,
            )),
            _ => bail!("{name}: neither an image nor an index"),
        },
    }
}
