//! Opening images by name.

use std::path::Path;
use std::sync::Arc;

use oci_layout::Layout;
use oci_partial::{Child, Image, ImageIndex};
use oci_remote::{Client, Remote};
use oci_tarfile::{Reader, Source as ArchiveSource};
use oci_types::{Platform, Reference};

use crate::error::{Error, Result};
use crate::name::{ArchiveSelector, ImageName};
use crate::options::CopyOptions;
use crate::{dir, legacy, ociarchive};

/// How deep indexes may nest.
const MAX_DEPTH: usize = 8;

/// What a name holds: one image, or an index, with the tags it carries there.
#[non_exhaustive]
pub struct Source {
    /// The image or index.
    pub content: Content,
    /// Its tags: a docker archive's `RepoTags`, an OCI ref name, a registry reference with a
    /// tag (in familiar form, `busybox:latest`).
    pub tags: Vec<String>,
}

/// An image or an index.
#[derive(Clone)]
#[non_exhaustive]
pub enum Content {
    /// One image.
    Image(Arc<dyn Image>),
    /// An index (a multi-platform image).
    Index(Arc<dyn ImageIndex>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.content {
            Content::Image(_) => "image",
            Content::Index(_) => "index",
        };
        f.debug_struct("Source")
            .field("content", &kind)
            .field("tags", &self.tags)
            .finish()
    }
}

/// One image with what names it in its container (what `ocikit inspect` lists).
#[non_exhaustive]
pub struct NamedImage {
    /// How to name it (`docker-archive:x.tar:@0`, `oci:dir:ref`, `docker://h/r@sha256:..`).
    pub label: String,
    /// Its tags, as [`Source::tags`].
    pub tags: Vec<String>,
    /// The image.
    pub image: Arc<dyn Image>,
}

/// Opens what `name` names: the image, or the index (a registry reference, an OCI ref naming
/// one) as it is. A docker archive or an OCI layout holding several images needs a selector
/// ([`Error::Ambiguous`]).
pub fn open_source(name: &ImageName, options: &CopyOptions) -> Result<Source> {
    match name {
        ImageName::Docker { reference } => {
            let client = options.source_client()?;
            let tags = remote_tags(reference);
            Ok(match get(&client, reference)? {
                Remote::Image(image) => Source {
                    content: Content::Image(image),
                    tags,
                },
                Remote::Index(index) => Source {
                    content: Content::Index(index),
                    tags,
                },
                _ => return Err(not_image(name)),
            })
        }
        ImageName::Oci { dir, reference } => {
            let layout = open_layout(dir)?;
            open_in_layout(name, &layout, reference.as_deref())
        }
        ImageName::OciArchive { path, reference } => {
            ociarchive::open(name, path, reference.as_deref())
        }
        ImageName::DockerArchive { path, selector } => {
            let reader = open_archive(path)?;
            if reader.manifest().is_empty() {
                return open_legacy(name, reader, selector.as_ref());
            }
            let (reference, index) = match selector {
                Some(ArchiveSelector::Tag(r)) => (Some(r), None),
                Some(ArchiveSelector::Index(i)) => (None, Some(*i)),
                None => {
                    let n = reader.manifest().len();
                    if n > 1 {
                        return Err(Error::Ambiguous {
                            name: name.to_string(),
                            count: n,
                            hint: "docker-archive:PATH:NAME:TAG or :@N",
                        });
                    }
                    (None, None)
                }
            };
            let source =
                ArchiveSource::new(Arc::clone(&reader), reference, index).map_err(|source| {
                    Error::Archive {
                        path: path.clone(),
                        source: Box::new(source),
                    }
                })?;
            let tags = source.manifest_item().repo_tags.clone();
            Ok(Source {
                content: Content::Image(Arc::new(source)),
                tags,
            })
        }
        ImageName::Dir { path } => dir::open(path),
        ImageName::DockerDaemon { image } => crate::daemon::open(name, image, options),
    }
}

/// The image or index a layout ref names, or the layout's only image.
pub(crate) fn open_in_layout(
    name: &ImageName,
    layout: &Layout,
    reference: Option<&str>,
) -> Result<Source> {
    let at = |source| Error::Layout {
        path: layout.root().to_owned(),
        source: Box::new(source),
    };
    match reference {
        Some(r) => {
            let desc = layout.entry_by_ref(r).map_err(at)?;
            let content = if desc.media_type.is_index() {
                Content::Index(layout.index_for(&desc).map_err(at)?)
            } else {
                Content::Image(layout.image_for(&desc).map_err(at)?)
            };
            Ok(Source {
                content,
                tags: vec![r.to_owned()],
            })
        }
        None => {
            let index = layout.image_index().map_err(at)?;
            let mut all = Vec::new();
            collect_index(&name.to_string(), index.as_ref(), None, &mut all, 0)?;
            match all.len() {
                1 => {
                    let one = all.remove(0);
                    Ok(Source {
                        content: Content::Image(one.image),
                        tags: one.tags,
                    })
                }
                0 => Err(Error::Empty {
                    name: name.to_string(),
                }),
                n => Err(Error::Ambiguous {
                    name: name.to_string(),
                    count: n,
                    hint: "oci:DIR:REF",
                }),
            }
        }
    }
}

/// Every image `name` holds: all images of an archive, layout or registry index, or the one
/// a selector names.
pub fn open_images(name: &ImageName, options: &CopyOptions) -> Result<Vec<NamedImage>> {
    let label = name.to_string();
    match name {
        ImageName::DockerArchive {
            path,
            selector: None,
        } => {
            let reader = open_archive(path)?;
            let mut out = Vec::new();
            if reader.manifest().is_empty() {
                let label = format!("docker-archive:{}", path.display());
                for (i, (top, tags)) in legacy::images(&reader, &label)?.into_iter().enumerate() {
                    out.push(NamedImage {
                        label: format!("{label}:@{i}"),
                        tags,
                        image: legacy::image(Arc::clone(&reader), &top, &label)?,
                    });
                }
                return Ok(out);
            }
            for (i, item) in reader.manifest().iter().enumerate() {
                let source =
                    ArchiveSource::new(Arc::clone(&reader), None, Some(i)).map_err(|source| {
                        Error::Archive {
                            path: path.clone(),
                            source: Box::new(source),
                        }
                    })?;
                out.push(NamedImage {
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
            let layout = open_layout(dir)?;
            let index = layout.image_index().map_err(|source| Error::Layout {
                path: dir.clone(),
                source: Box::new(source),
            })?;
            let mut out = Vec::new();
            collect_index(&label, index.as_ref(), None, &mut out, 0)?;
            Ok(out)
        }
        ImageName::OciArchive {
            path,
            reference: None,
        } => {
            let index = ociarchive::top_index(path)?;
            let mut out = Vec::new();
            collect_index(&label, index.as_ref(), None, &mut out, 0)?;
            Ok(out)
        }
        ImageName::Docker { reference } => {
            let client = options.source_client()?;
            match get(&client, reference)? {
                Remote::Image(image) => Ok(vec![NamedImage {
                    label,
                    tags: remote_tags(reference),
                    image,
                }]),
                Remote::Index(index) => {
                    let mut out = Vec::new();
                    collect_remote(reference, index.as_ref(), &mut out, 0)?;
                    Ok(out)
                }
                _ => Err(not_image(name)),
            }
        }
        _ => {
            let source = open_source(name, options)?;
            match source.content {
                Content::Image(image) => Ok(vec![NamedImage {
                    label,
                    tags: source.tags,
                    image,
                }]),
                Content::Index(index) => {
                    let mut out = Vec::new();
                    collect_index(&label, index.as_ref(), None, &mut out, 0)?;
                    Ok(out)
                }
            }
        }
    }
}

/// The image a selector names in a pre-1.10 archive (`repositories`, no `manifest.json`).
fn open_legacy(
    name: &ImageName,
    reader: Arc<Reader>,
    selector: Option<&ArchiveSelector>,
) -> Result<Source> {
    let label = name.to_string();
    if reader.entry("repositories").is_err() {
        return Err(Error::Archive {
            path: label.into(),
            source: Box::new(oci_tarfile::Error::MissingManifest),
        });
    }
    let images = legacy::images(&reader, &label)?;
    let chosen = match selector {
        Some(ArchiveSelector::Index(i)) => images.get(*i),
        Some(ArchiveSelector::Tag(r)) => {
            let want = r.familiar();
            images.iter().find(|(_, tags)| {
                tags.iter().any(|t| {
                    t.parse::<Reference>()
                        .is_ok_and(|p| p.tag_or_latest().familiar() == want)
                })
            })
        }
        None if images.len() > 1 => {
            return Err(Error::Ambiguous {
                name: label,
                count: images.len(),
                hint: "docker-archive:PATH:NAME:TAG or :@N",
            })
        }
        None => images.first(),
    };
    let Some((top, tags)) = chosen else {
        return Err(Error::Empty { name: label });
    };
    Ok(Source {
        content: Content::Image(legacy::image(Arc::clone(&reader), top, &label)?),
        tags: tags.clone(),
    })
}

fn not_image(name: &ImageName) -> Error {
    Error::Empty {
        name: name.to_string(),
    }
}

pub(crate) fn open_layout(dir: &Path) -> Result<Layout> {
    Layout::open(dir).map_err(|source| Error::Layout {
        path: dir.to_owned(),
        source: Box::new(source),
    })
}

fn open_archive(path: &Path) -> Result<Arc<Reader>> {
    // Any tar: one without manifest.json may be a pre-1.10 archive.
    let reader = if path == Path::new("-") {
        Reader::tar_from_stream(std::io::stdin())
    } else {
        Reader::tar_from_file(path)
    };
    reader.map(Arc::new).map_err(|source| Error::Archive {
        path: path.to_owned(),
        source: Box::new(source),
    })
}

/// The image or index a registry reference names.
fn get(client: &Client, reference: &Reference) -> Result<Remote> {
    oci_remote::get(client, reference).map_err(|source| Error::Remote {
        reference: reference.to_string(),
        source: Box::new(source),
    })
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
    out: &mut Vec<NamedImage>,
    depth: usize,
) -> Result<()> {
    let name = format!("docker://{reference}");
    if depth > MAX_DEPTH {
        return Err(Error::TooDeep {
            name,
            depth: MAX_DEPTH,
        });
    }
    let repo = reference.repository();
    let at = |source| Error::Image {
        name: name.clone(),
        source: Box::new(source),
    };
    for child in index.manifests().map_err(at)? {
        let desc = child.descriptor().map_err(at)?;
        match child {
            Child::Image(image) => {
                let label = match &desc.platform {
                    Some(p) => format!("docker://{repo}@{} ({p})", desc.digest),
                    None => format!("docker://{repo}@{}", desc.digest),
                };
                out.push(NamedImage {
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

/// The images of a layout's index, labelled `BASE:REF (PLATFORM)` or `BASE@DIGEST`.
fn collect_index(
    base: &str,
    index: &dyn ImageIndex,
    parent_ref: Option<&str>,
    out: &mut Vec<NamedImage>,
    depth: usize,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::TooDeep {
            name: base.to_owned(),
            depth: MAX_DEPTH,
        });
    }
    let at = |source| Error::Image {
        name: base.to_owned(),
        source: Box::new(source),
    };
    for child in index.manifests().map_err(at)? {
        let desc = child.descriptor().map_err(at)?;
        let ref_name = desc.ref_name().or(parent_ref).map(str::to_owned);
        match child {
            Child::Image(image) => {
                let label = match (&ref_name, &desc.platform) {
                    (Some(r), Some(p)) if depth > 0 => format!("{base}:{r} ({p})"),
                    (Some(r), _) => format!("{base}:{r}"),
                    (None, _) => format!("{base}@{}", desc.digest),
                };
                out.push(NamedImage {
                    label,
                    tags: ref_name.into_iter().collect(),
                    image,
                });
            }
            Child::Index(inner) => {
                collect_index(base, inner.as_ref(), ref_name.as_deref(), out, depth + 1)?
            }
            _ => {}
        }
    }
    Ok(())
}

/// The image of `index` for `platform` (the first entry whose platform matches it).
pub(crate) fn pick_platform(
    name: &str,
    index: &dyn ImageIndex,
    platform: &Platform,
) -> Result<Arc<dyn Image>> {
    let at = |source| Error::Image {
        name: name.to_owned(),
        source: Box::new(source),
    };
    let manifest = index.index_manifest().map_err(at)?;
    let images = || {
        manifest
            .manifests
            .iter()
            .filter(|d| d.media_type.is_image_manifest())
    };
    let Some(entry) = images().find(|d| d.platform.as_ref().is_some_and(|p| platform.matches(p)))
    else {
        return Err(Error::PlatformNotFound {
            name: name.to_owned(),
            platform: Box::new(platform.clone()),
            available: images()
                .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
                .collect(),
        });
    };
    index.image(&entry.digest).map_err(at)
}

/// The one image `name` names: of an index, the image of the platform
/// [`CopyOptions::platforms`] names (one platform), else of [`DEFAULT_PLATFORM`].
///
/// [`DEFAULT_PLATFORM`]: crate::DEFAULT_PLATFORM
pub fn open_image(name: &ImageName, options: &CopyOptions) -> Result<Arc<dyn Image>> {
    let source = open_source(name, options)?;
    let index = match source.content {
        Content::Image(image) => return Ok(image),
        Content::Index(index) => index,
    };
    let label = name.to_string();
    let platform = match &options.platforms {
        crate::Platforms::One(p) => p.clone(),
        crate::Platforms::List(list) if list.len() == 1 => list
            .first()
            .cloned()
            .unwrap_or_else(|| Platform::new("linux", "amd64")),
        _ => crate::DEFAULT_PLATFORM
            .parse()
            .map_err(|source| Error::Document {
                name: label.clone(),
                source: Box::new(source),
            })?,
    };
    pick_platform(&label, index.as_ref(), &platform)
}
