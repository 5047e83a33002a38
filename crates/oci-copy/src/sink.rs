//! Writing images and indexes: atomically, recompressing layers on the way when asked; to a
//! registry, streaming each recompressed layer straight into its upload.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use oci_layout::Layout;
use oci_partial::mutate::{with_layers, with_media_types, Family};
use oci_partial::{Child, Image, ImageIndex, Layer};
use oci_remote::{Client, WriteOptions};
use oci_stream::{Options, StreamLayer};
use oci_tarfile::LayerStorage;
use oci_types::{Compression, Descriptor, Digest, MediaType, Reference};

use crate::error::{Error, NameProblem, Result};
use crate::name::{ArchiveSelector, ImageName};
use crate::options::{CopyOptions, LayerCompression};
use crate::progress::{NoProgress, Progress, ProgressLayer, Watch};
use crate::report::{BlobOutcome, BlobReport, CopyReport, Written};
use crate::{dir, ociarchive};

/// Compression threads for streams: one more than the cores, because the thread that reads
/// the source also hashes it (and the output) and so leaves a core idle part of the time.
/// Measured on 2 cores, docker archive to OCI layout of a 512 MiB tar of /usr: 1.70 s with 3
/// threads against 1.91 s with 2.
pub fn stream_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) + 1
}

/// What to call the image in the output.
#[derive(Default)]
pub(crate) struct Naming<'a> {
    /// A full reference (docker-archive `RepoTags`; its tag is the OCI ref name).
    pub(crate) reference: Option<&'a Reference>,
    /// An OCI ref name to use when the destination gives none and there is no reference.
    pub(crate) ref_name: Option<&'a str>,
    /// A repository of the destination's registry that has the image's blobs (the source of
    /// a registry-to-registry copy), to mount them from instead of uploading them.
    pub(crate) mount_from: Option<&'a Reference>,
}

/// How one destination's layers are compressed: `None` keeps every layer as stored.
#[derive(Debug, Clone, Copy)]
struct Compress {
    target: Option<Compression>,
    /// A level asked for: layers are recompressed even when already of the target's kind.
    level: Option<u32>,
    default_level: Option<u32>,
    /// Only uncompressed layers are compressed (a registry's default).
    keep_compressed: bool,
}

impl Compress {
    fn of(options: &CopyOptions, dst: &ImageName) -> Compress {
        let natural = match dst {
            ImageName::DockerArchive { .. } | ImageName::DockerDaemon { .. } => {
                Some(Compression::None)
            }
            ImageName::Dir { .. } => None,
            _ => Some(Compression::Gzip),
        };
        let (target, level) = match options.compression {
            _ if options.preserve_digests && options.compression == LayerCompression::Auto => {
                (None, None)
            }
            LayerCompression::Auto => (natural, None),
            LayerCompression::Keep => (None, None),
            LayerCompression::Gzip(l) => (Some(Compression::Gzip), l),
            LayerCompression::Zstd(l) => (Some(Compression::Zstd), l),
            LayerCompression::None => (Some(Compression::None), None),
        };
        let default_level = match target {
            Some(Compression::Gzip) => options.default_gzip_level,
            _ => None,
        };
        Compress {
            target,
            level,
            default_level,
            keep_compressed: options.compression == LayerCompression::Auto
                && matches!(dst, ImageName::Docker { .. }),
        }
    }

    fn stream_options(&self, compression: Compression, media_type: MediaType) -> Options {
        let mut o = Options::new()
            .compression(compression)
            .media_type(media_type)
            .threads(stream_threads());
        if let Some(l) = self.level.or(self.default_level) {
            o = o.level(l);
        }
        o
    }
}

/// Which of the destination's blobs were there before the write, for telling reused from
/// copied (asked before the write: afterwards every blob is there).
struct Existing {
    before: HashSet<Digest>,
    /// A cross-repository mount was tried: a blob skipped that was not there was mounted.
    mounting: bool,
}

impl Existing {
    fn none() -> Existing {
        Existing {
            before: HashSet::new(),
            mounting: false,
        }
    }

    fn probe(
        has: impl Fn(&Digest) -> bool,
        candidates: impl IntoIterator<Item = Digest>,
        mounting: bool,
    ) -> Existing {
        Existing {
            before: candidates.into_iter().filter(|d| has(d)).collect(),
            mounting,
        }
    }
}

/// The blobs of a prepared image whose digests are known before the write.
fn image_candidates(prepared: &Prepared, config: Option<&Digest>) -> Vec<Digest> {
    let mut out: Vec<Digest> = prepared
        .image
        .layers()
        .map(|layers| {
            layers
                .iter()
                .zip(&prepared.recompressed)
                .filter(|(_, r)| !**r)
                .filter_map(|(l, _)| l.digest().ok())
                .collect()
        })
        .unwrap_or_default();
    out.extend(config.cloned());
    out
}

/// The layers and configs of every image of an index.
fn index_candidates(index: &dyn ImageIndex, depth: usize, out: &mut Vec<Digest>) {
    if depth > 8 {
        return;
    }
    for child in index.manifests().unwrap_or_default() {
        match child {
            Child::Image(image) => {
                if let Ok(layers) = image.layers() {
                    out.extend(layers.iter().filter_map(|l| l.digest().ok()));
                }
                out.extend(image.config_name().ok());
            }
            Child::Index(inner) => index_candidates(inner.as_ref(), depth + 1, out),
            _ => {}
        }
    }
}

/// A prepared image: what will be written, and which of its layers are made on the way.
struct Prepared {
    image: Arc<dyn Image>,
    recompressed: Vec<bool>,
}

/// Writes `image` to `dst`, as [`copy`](crate::copy) does with one image.
pub fn write_image(
    image: Arc<dyn Image>,
    dst: &ImageName,
    reference: Option<&Reference>,
    options: &CopyOptions,
) -> Result<CopyReport> {
    let naming = Naming {
        reference,
        ..Naming::default()
    };
    write_image_named(image, dst, &naming, options)
}

/// Writes `image` to `dst`. Layers are recompressed only when their compression differs from
/// the target's, through the parallel stream compressor; everything read is verified by the
/// source as it flows. Output is atomic: see each transport.
pub(crate) fn write_image_named(
    image: Arc<dyn Image>,
    dst: &ImageName,
    naming: &Naming<'_>,
    options: &CopyOptions,
) -> Result<CopyReport> {
    options.check_cancelled()?;
    let compress = Compress::of(options, dst);
    let watch = Watch {
        progress: Arc::clone(&options.progress),
        cancel: options.cancel.clone(),
    };
    let label = dst.to_string();
    // Only `--preserve-digests` compares with the source's manifest digest. Asked for when it
    // is not needed, it can cost a whole pass over the source: a docker archive's manifest is
    // made on the fly and names each stored layer by digest, which for an uncompressed layer
    // is found by hashing it (512 MiB read twice in `bench convert`).
    let source_digest = if options.preserve_digests {
        image.digest().ok()
    } else {
        None
    };
    let config_digest = image.config_name().ok();
    let family_of_source = Family::of(&image.media_type().map_err(img(&label))?);
    let ref_name = |reference: &Option<String>| {
        reference
            .clone()
            .or_else(|| naming.reference.and_then(|r| r.tag().map(str::to_owned)))
            .or_else(|| naming.ref_name.map(str::to_owned))
    };
    let (written, prepared, existing, skipped) = match dst {
        ImageName::DockerArchive { path, selector } => {
            let tag = match selector {
                Some(ArchiveSelector::Tag(r)) => Some(r.clone()),
                Some(ArchiveSelector::Index(_)) => {
                    return Err(Error::InvalidName {
                        name: label,
                        problem: NameProblem::IndexSelectorOnOutput,
                    })
                }
                None => naming.reference.map(Reference::tag_or_latest),
            };
            let (prepared, storage) = if compress.target == Some(Compression::None) {
                // Stored decompressed, as docker save does: the writer reads each layer's tar.
                let keep = Compress {
                    target: None,
                    ..compress
                };
                let p = prepare(image, &keep, None, &watch, &label)?;
                let recompressed = uncompressed_flags(p.image.as_ref(), &label)?;
                (
                    Prepared {
                        image: p.image,
                        recompressed,
                    },
                    LayerStorage::Uncompressed,
                )
            } else {
                let p = prepare(image, &compress, Some(Family::Docker), &watch, &label)?;
                (p, LayerStorage::AsIs)
            };
            check_preserved(options, &prepared, source_digest.as_ref(), false, &label)?;
            crate::archive::write(path, prepared.image.as_ref(), tag.as_slice(), storage)?;
            let id = prepared.image.config_name().map_err(img(&label))?;
            (Written::ImageId(id), prepared, Existing::none(), None)
        }
        ImageName::Oci { dir, reference } => {
            let prepared = prepare_for(image, &compress, Family::Oci, &watch, &label)?;
            check_preserved(options, &prepared, source_digest.as_ref(), true, &label)?;
            let existing =
                layout_existing(dir, image_candidates(&prepared, config_digest.as_ref()));
            let name = ref_name(reference);
            let desc = write_layout(dir, |layout| {
                layout.write_image(prepared.image.as_ref(), name.as_deref())
            })?;
            (Written::Manifest(desc.digest), prepared, existing, None)
        }
        ImageName::OciArchive { path, reference } => {
            let prepared = prepare_for(image, &compress, Family::Oci, &watch, &label)?;
            check_preserved(options, &prepared, source_digest.as_ref(), true, &label)?;
            let name = ref_name(reference);
            let desc = ociarchive::write(path, |layout| {
                layout.write_image(prepared.image.as_ref(), name.as_deref())
            })?;
            (
                Written::Manifest(desc.digest),
                prepared,
                Existing::none(),
                None,
            )
        }
        ImageName::Dir { path } => {
            let prepared = prepare(image, &compress, None, &watch, &label)?;
            check_preserved(options, &prepared, source_digest.as_ref(), true, &label)?;
            let digest = dir::write_image(path, prepared.image.as_ref())?;
            (Written::Manifest(digest), prepared, Existing::none(), None)
        }
        ImageName::Docker { reference } => {
            let family = match (options.compression, family_of_source) {
                (LayerCompression::Zstd(_), _) | (_, None) => Family::Oci,
                (_, Some(family)) => family,
            };
            // Progress is that of the uploads; reads only watch for cancellation.
            let quiet = Watch {
                progress: Arc::new(NoProgress),
                cancel: options.cancel.clone(),
            };
            let prepared = prepare_for(image, &compress, family, &quiet, &label)?;
            check_preserved(options, &prepared, source_digest.as_ref(), true, &label)?;
            let client = options.destination_client()?;
            let mount = mount_from(options, naming, reference);
            let existing = registry_existing(
                &client,
                reference,
                image_candidates(&prepared, config_digest.as_ref()),
                mount.is_some(),
            );
            let (write_options, skipped) = upload_options(&options.progress, mount);
            let desc = oci_remote::write_image(
                &client,
                reference,
                prepared.image.as_ref(),
                &write_options,
            )
            .map_err(|source| remote_error(source, reference, &options.cancel))?;
            check_digest(dst, reference, &desc.digest)?;
            (Written::Manifest(desc.digest), prepared, existing, skipped)
        }
        ImageName::DockerDaemon { image: target } => {
            // Loaded as `docker save` writes: layers stored uncompressed.
            let keep = Compress {
                target: None,
                ..compress
            };
            let p = prepare(image, &keep, None, &watch, &label)?;
            let recompressed = uncompressed_flags(p.image.as_ref(), &label)?;
            let prepared = Prepared {
                image: p.image,
                recompressed,
            };
            check_preserved(options, &prepared, source_digest.as_ref(), false, &label)?;
            crate::daemon::write(
                dst,
                target,
                prepared.image.as_ref(),
                LayerStorage::Uncompressed,
                options,
            )?;
            let id = prepared.image.config_name().map_err(img(&label))?;
            (Written::ImageId(id), prepared, Existing::none(), None)
        }
    };
    let mut report = CopyReport {
        written,
        blobs: Vec::new(),
    };
    let mounted = skipped.map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).clone());
    let layers = prepared.image.layers().map_err(img(&label))?;
    let mut seen = HashSet::new();
    for (layer, recompressed) in layers.iter().zip(prepared.recompressed.iter()) {
        let digest = layer.digest().map_err(img(&label))?;
        let size = layer.size().map_err(img(&label))?;
        let outcome = outcome(*recompressed, &digest, &existing, mounted.as_ref());
        push_blob(&mut report, &mut seen, digest, size, outcome, options);
    }
    if let (Ok(config), Ok(raw)) = (
        prepared.image.config_name(),
        prepared.image.raw_config_file(),
    ) {
        let outcome = outcome(false, &config, &existing, mounted.as_ref());
        push_blob(
            &mut report,
            &mut seen,
            config,
            raw.len() as u64,
            outcome,
            options,
        );
    }
    Ok(report)
}

fn push_blob(
    report: &mut CopyReport,
    seen: &mut HashSet<Digest>,
    digest: Digest,
    size: u64,
    outcome: BlobOutcome,
    options: &CopyOptions,
) {
    if seen.insert(digest.clone()) {
        let blob = BlobReport {
            digest,
            size,
            outcome,
        };
        options.progress.blob(&blob);
        report.blobs.push(blob);
    }
}

fn outcome(
    recompressed: bool,
    digest: &Digest,
    existing: &Existing,
    skipped: Option<&HashSet<Digest>>,
) -> BlobOutcome {
    if recompressed {
        BlobOutcome::Recompressed
    } else if existing.before.contains(digest) {
        BlobOutcome::Reused
    } else if skipped.is_some_and(|s| s.contains(digest)) {
        // Not there before the write, yet nothing sent: mounted (or, without a mount, put
        // there meanwhile by another writer).
        if existing.mounting {
            BlobOutcome::Mounted
        } else {
            BlobOutcome::Reused
        }
    } else {
        BlobOutcome::Copied
    }
}

/// Writes `index` whole to `dst` (every image in it, as it is: layers are not recompressed),
/// as [`copy`](crate::copy) does with an index: to an OCI layout (`reference`'s tag as the ref
/// name unless `dst` names one), an OCI archive, a `dir:` or a registry; a docker archive
/// holds single images only ([`Error::IndexIntoSingleImage`]). The index may be one built in
/// memory (`oci_partial::mutate::append_manifests`) around images whose layers still stream:
/// each sink writes the children before the index.
pub fn write_index(
    index: Arc<dyn ImageIndex>,
    dst: &ImageName,
    reference: Option<&Reference>,
    options: &CopyOptions,
) -> Result<CopyReport> {
    let naming = Naming {
        reference,
        ..Naming::default()
    };
    write_index_named(index, dst, &naming, options)
}

/// [`write_index`] with the source's naming.
pub(crate) fn write_index_named(
    index: Arc<dyn ImageIndex>,
    dst: &ImageName,
    naming: &Naming<'_>,
    options: &CopyOptions,
) -> Result<CopyReport> {
    options.check_cancelled()?;
    let label = dst.to_string();
    let watch = Watch {
        progress: Arc::clone(&options.progress),
        cancel: options.cancel.clone(),
    };
    let ref_name = |reference: &Option<String>| {
        reference
            .clone()
            .or_else(|| naming.reference.and_then(|r| r.tag().map(str::to_owned)))
            .or_else(|| naming.ref_name.map(str::to_owned))
    };
    let watched: Arc<dyn ImageIndex> = Arc::new(WatchedIndex {
        inner: Arc::clone(&index),
        watch: watch.clone(),
    });
    let (written, existing, skipped) = match dst {
        ImageName::DockerArchive { .. } | ImageName::DockerDaemon { .. } => {
            return Err(Error::IndexIntoSingleImage { destination: label })
        }
        ImageName::Oci { dir, reference } => {
            let mut candidates = Vec::new();
            index_candidates(index.as_ref(), 0, &mut candidates);
            let existing = layout_existing(dir, candidates);
            let name = ref_name(reference);
            let desc = write_layout(dir, |layout| {
                layout.write_index(watched.as_ref(), name.as_deref())
            })?;
            (Written::Index(desc.digest), existing, None)
        }
        ImageName::OciArchive { path, reference } => {
            let name = ref_name(reference);
            let desc = ociarchive::write(path, |layout| {
                layout.write_index(watched.as_ref(), name.as_deref())
            })?;
            (Written::Index(desc.digest), Existing::none(), None)
        }
        ImageName::Dir { path } => {
            let digest = dir::write_index(path, watched.as_ref())?;
            (Written::Index(digest), Existing::none(), None)
        }
        ImageName::Docker { reference } => {
            let quiet: Arc<dyn ImageIndex> = Arc::new(WatchedIndex {
                inner: Arc::clone(&index),
                watch: Watch {
                    progress: Arc::new(NoProgress),
                    cancel: options.cancel.clone(),
                },
            });
            let client = options.destination_client()?;
            let mount = mount_from(options, naming, reference);
            let mut candidates = Vec::new();
            index_candidates(index.as_ref(), 0, &mut candidates);
            let existing = registry_existing(&client, reference, candidates, mount.is_some());
            let (write_options, skipped) = upload_options(&options.progress, mount);
            let desc = oci_remote::write_index(&client, reference, quiet.as_ref(), &write_options)
                .map_err(|source| remote_error(source, reference, &options.cancel))?;
            check_digest(dst, reference, &desc.digest)?;
            (Written::Index(desc.digest), existing, skipped)
        }
    };
    let mut report = CopyReport {
        written,
        blobs: Vec::new(),
    };
    let mounted = skipped.map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).clone());
    let mut seen = HashSet::new();
    report_index(
        index.as_ref(),
        &label,
        &existing,
        mounted.as_ref(),
        &mut report,
        &mut seen,
        options,
        0,
    )?;
    Ok(report)
}

#[allow(clippy::too_many_arguments)] // one recursive walk; a struct would only rename them
fn report_index(
    index: &dyn ImageIndex,
    label: &str,
    existing: &Existing,
    skipped: Option<&HashSet<Digest>>,
    report: &mut CopyReport,
    seen: &mut HashSet<Digest>,
    options: &CopyOptions,
    depth: usize,
) -> Result<()> {
    if depth > 8 {
        return Err(Error::TooDeep {
            name: label.to_owned(),
            depth: 8,
        });
    }
    for child in index.manifests().map_err(img(label))? {
        match child {
            Child::Image(image) => {
                let layers = image.layers().map_err(img(label))?;
                for layer in layers {
                    let d = layer.digest().map_err(img(label))?;
                    let size = layer.size().map_err(img(label))?;
                    let o = outcome(false, &d, existing, skipped);
                    push_blob(report, seen, d, size, o, options);
                }
                let config = image.config_name().map_err(img(label))?;
                let size = image.raw_config_file().map_err(img(label))?.len() as u64;
                let o = outcome(false, &config, existing, skipped);
                push_blob(report, seen, config, size, o, options);
            }
            Child::Index(inner) => report_index(
                inner.as_ref(),
                label,
                existing,
                skipped,
                report,
                seen,
                options,
                depth + 1,
            )?,
            _ => {}
        }
    }
    Ok(())
}

fn img(name: &str) -> impl Fn(oci_partial::Error) -> Error + '_ {
    move |source| crate::copy::image_error(name, source)
}

/// A registry error; a cancelled read inside it is [`Error::Cancelled`].
fn remote_error(
    source: oci_remote::Error,
    reference: &Reference,
    cancel: &Option<Arc<std::sync::atomic::AtomicBool>>,
) -> Error {
    if cancel
        .as_ref()
        .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    {
        return Error::Cancelled;
    }
    Error::Remote {
        reference: reference.to_string(),
        source: Box::new(source),
    }
}

/// Fails when `preserve_digests` is set and the copy would change a digest: a recompressed
/// layer, or (where the destination stores manifests) another manifest.
fn check_preserved(
    options: &CopyOptions,
    prepared: &Prepared,
    source_digest: Option<&Digest>,
    stores_manifest: bool,
    label: &str,
) -> Result<()> {
    if !options.preserve_digests {
        return Ok(());
    }
    let layers = prepared.image.layers().map_err(img(label))?;
    for (layer, recompressed) in layers.iter().zip(&prepared.recompressed) {
        if *recompressed {
            return Err(Error::DigestWouldChange {
                what: "layer",
                digest: layer.digest().unwrap_or_else(|_| Digest::sha256(b"")),
                reason: "it would be recompressed",
            });
        }
    }
    if stores_manifest {
        if let Some(src) = source_digest {
            let now = prepared.image.digest().map_err(img(label))?;
            if &now != src {
                return Err(Error::DigestWouldChange {
                    what: "manifest",
                    digest: src.clone(),
                    reason: "the destination needs another manifest format",
                });
            }
        }
    }
    Ok(())
}

/// Which layers of an image written uncompressed change (those stored compressed).
fn uncompressed_flags(image: &dyn Image, label: &str) -> Result<Vec<bool>> {
    image
        .layers()
        .map_err(img(label))?
        .iter()
        .map(|l| {
            let mt = l.media_type().map_err(img(label))?;
            Ok(mt.compression().is_some_and(|c| c != Compression::None))
        })
        .collect()
}

/// `image` in `family`'s media types (when it is not already), then [`prepare`]d.
fn prepare_for(
    image: Arc<dyn Image>,
    compress: &Compress,
    family: Family,
    watch: &Watch,
    label: &str,
) -> Result<Prepared> {
    let mt = image.media_type().map_err(img(label))?;
    let image = if Family::of(&mt) == Some(family) {
        image
    } else {
        with_media_types(image, family)
    };
    prepare(image, compress, Some(family), watch, label)
}

/// `image` with every layer whose compression is not the target's recompressed on the fly,
/// and every read watched (progress, cancellation). `family` gives the media types of new
/// layers (the image's own when `None`).
fn prepare(
    image: Arc<dyn Image>,
    compress: &Compress,
    family: Option<Family>,
    watch: &Watch,
    label: &str,
) -> Result<Prepared> {
    let layers = image.layers().map_err(img(label))?;
    let family = match family {
        Some(f) => f,
        None => Family::of(&image.media_type().map_err(img(label))?).unwrap_or(Family::Oci),
    };
    let mut out: Vec<Arc<dyn Layer>> = Vec::with_capacity(layers.len());
    let mut recompressed = Vec::with_capacity(layers.len());
    for (i, layer) in layers.into_iter().enumerate() {
        let mt = layer.media_type().map_err(img(label))?;
        let Some(target) = compress.target else {
            out.push(Arc::new(ProgressLayer::new(layer, watch, i)));
            recompressed.push(false);
            continue;
        };
        let compressed = mt.compression().is_some_and(|c| c != Compression::None);
        let same = (mt.compression() == Some(target) || (compress.keep_compressed && compressed))
            && compress.level.is_none();
        if same || !mt.is_layer() || !mt.is_distributable() {
            out.push(Arc::new(ProgressLayer::new(layer, watch, i)));
            recompressed.push(false);
            continue;
        }
        let total = uncompressed_size_hint(layer.as_ref());
        let reader = watch.reader(
            layer.uncompressed().map_err(img(label))?,
            &format!("layer {i}"),
            total,
        );
        let mut opts = compress.stream_options(target, family.layer_media_type(target));
        // Every source verifies the tar against its diff_id as it streams, so the stream need
        // not hash it a second time on the reading thread.
        if let Ok(diff_id) = layer.diff_id() {
            opts = opts.verified_diff_id(diff_id);
        }
        let stream =
            StreamLayer::with_options(reader, opts).map_err(|e| Error::Stream(Box::new(e)))?;
        out.push(Arc::new(stream));
        recompressed.push(true);
    }
    let image = if recompressed.iter().any(|r| *r) {
        with_layers(image, out)
    } else {
        with_layers_kept(image, out)
    };
    Ok(Prepared {
        image,
        recompressed,
    })
}

/// Wraps layers that carry the same bytes; the manifest stays byte-identical because the
/// wrapped layers describe themselves exactly as before.
fn with_layers_kept(image: Arc<dyn Image>, layers: Vec<Arc<dyn Layer>>) -> Arc<dyn Image> {
    Arc::new(KeptManifest {
        inner: image,
        layers,
    })
}

struct KeptManifest {
    inner: Arc<dyn Image>,
    layers: Vec<Arc<dyn Layer>>,
}

impl Image for KeptManifest {
    fn layers(&self) -> oci_partial::Result<Vec<Arc<dyn Layer>>> {
        Ok(self.layers.clone())
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        self.inner.media_type()
    }
    fn raw_config_file(&self) -> oci_partial::Result<Vec<u8>> {
        self.inner.raw_config_file()
    }
    fn raw_manifest(&self) -> oci_partial::Result<Vec<u8>> {
        self.inner.raw_manifest()
    }
    fn layer_by_digest(&self, digest: &Digest) -> oci_partial::Result<Arc<dyn Layer>> {
        match oci_partial::find_layer_by_digest(&self.layers, digest) {
            Ok(l) => Ok(l),
            Err(_) => self.inner.layer_by_digest(digest),
        }
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> oci_partial::Result<Arc<dyn Layer>> {
        oci_partial::find_layer_by_diff_id(&self.layers, diff_id)
    }
    fn descriptor(&self) -> oci_partial::Result<Descriptor> {
        self.inner.descriptor()
    }
}

/// An index whose images' layer reads are watched.
struct WatchedIndex {
    inner: Arc<dyn ImageIndex>,
    watch: Watch,
}

impl ImageIndex for WatchedIndex {
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        self.inner.media_type()
    }
    fn raw_manifest(&self) -> oci_partial::Result<Vec<u8>> {
        self.inner.raw_manifest()
    }
    fn image(&self, digest: &Digest) -> oci_partial::Result<Arc<dyn Image>> {
        self.watched_image(self.inner.image(digest)?)
    }
    fn image_index(&self, digest: &Digest) -> oci_partial::Result<Arc<dyn ImageIndex>> {
        Ok(self.watched_index(self.inner.image_index(digest)?))
    }
    /// The inner index's children, watched, asking them nothing: an index built in memory may
    /// hold images whose layers stream, described only once written (the default would
    /// read the index's bytes, and so their digests, first).
    fn manifests(&self) -> oci_partial::Result<Vec<Child>> {
        self.inner
            .manifests()?
            .into_iter()
            .map(|child| {
                Ok(match child {
                    Child::Image(image) => Child::Image(self.watched_image(image)?),
                    Child::Index(index) => Child::Index(self.watched_index(index)),
                    other => other,
                })
            })
            .collect()
    }
}

impl WatchedIndex {
    fn watched_image(&self, image: Arc<dyn Image>) -> oci_partial::Result<Arc<dyn Image>> {
        let layers = image
            .layers()?
            .into_iter()
            .enumerate()
            .map(|(i, l)| Arc::new(ProgressLayer::new(l, &self.watch, i)) as Arc<dyn Layer>)
            .collect();
        Ok(with_layers_kept(image, layers))
    }

    fn watched_index(&self, index: Arc<dyn ImageIndex>) -> Arc<dyn ImageIndex> {
        Arc::new(WatchedIndex {
            inner: index,
            watch: self.watch.clone(),
        })
    }
}

/// The uncompressed size when it is known without reading (never streams the layer).
fn uncompressed_size_hint(layer: &dyn Layer) -> Option<u64> {
    match layer.media_type().ok()?.compression()? {
        Compression::None => layer.size().ok(),
        _ => None,
    }
}

/// A destination named by digest must get a manifest of that digest (it is then stored
/// untagged, as pushing by digest does).
fn check_digest(dst: &ImageName, reference: &Reference, pushed: &Digest) -> Result<()> {
    match reference.digest() {
        Some(d) if d != pushed => Err(Error::DigestNotAsNamed {
            destination: dst.to_string(),
            written: pushed.clone(),
        }),
        _ => Ok(()),
    }
}

/// The repository to mount blobs from: the source's, when on the destination's registry.
fn mount_from<'a>(
    options: &CopyOptions,
    naming: &Naming<'a>,
    dst: &Reference,
) -> Option<&'a Reference> {
    match naming.mount_from {
        Some(src) if options.mount && src.domain() == dst.domain() && src.path() != dst.path() => {
            Some(src)
        }
        _ => None,
    }
}

/// Which of `candidates` the destination repository has (HEAD requests).
fn registry_existing(
    client: &Client,
    reference: &Reference,
    candidates: Vec<Digest>,
    mounting: bool,
) -> Existing {
    let repo = client.repository(reference);
    Existing::probe(
        |d| matches!(repo.blob_exists(d), Ok(Some(_))),
        candidates,
        mounting,
    )
}

/// Which of `candidates` an existing layout has (a new one has none).
fn layout_existing(dir: &Path, candidates: Vec<Digest>) -> Existing {
    match Layout::open(dir) {
        Ok(layout) => Existing::probe(|d| layout.has_blob(d).unwrap_or(false), candidates, false),
        Err(_) => Existing::none(),
    }
}

type Skipped = Arc<Mutex<HashSet<Digest>>>;

/// Upload options reporting to `progress`, mounting from `mount`, and the set of blobs the
/// upload skipped (present or mounted).
fn upload_options(
    progress: &Arc<dyn Progress>,
    mount: Option<&Reference>,
) -> (WriteOptions, Option<Skipped>) {
    let skipped: Skipped = Arc::default();
    let ids: Arc<Mutex<HashMap<usize, u64>>> = Arc::default();
    let progress = Arc::clone(progress);
    let seen = Arc::clone(&skipped);
    let mut options = WriteOptions::new().on_progress(move |event| {
        let mut ids = ids.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            oci_remote::Progress::Started { id, digest, size } => {
                let ours = crate::progress::next_id();
                ids.insert(*id, ours);
                let what = match digest {
                    Some(d) => short(d),
                    None => "layer (streaming)".to_owned(),
                };
                progress.started(ours, &what, *size);
            }
            oci_remote::Progress::Sent { id, bytes } => {
                if let Some(ours) = ids.get(id) {
                    progress.advanced(*ours, *bytes);
                }
            }
            oci_remote::Progress::Finished {
                id,
                digest,
                skipped,
                ..
            } => {
                if let Some(ours) = ids.remove(id) {
                    progress.finished(ours);
                }
                if *skipped {
                    seen.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(digest.clone());
                }
            }
            _ => {}
        }
    });
    if let Some(src) = mount {
        options = options.mount_from(src.path());
    }
    (options, Some(skipped))
}

/// `sha256:0123456789ab`: a digest short enough for a label.
fn short(digest: &Digest) -> String {
    digest.to_string().chars().take(19).collect()
}

/// A path beside `path` for a temporary output: `.NAME.ocikit-PID-NANOS.tmp`, so that a
/// later write can tell (and remove) what a killed one left.
pub(crate) fn temp_beside(path: &Path, what: &str) -> Result<PathBuf> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(Error::Io {
            op: "writing",
            path: path.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("the directory {} does not exist", parent.display()),
            ),
        });
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| what.to_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Ok(parent.join(format!(".{name}.ocikit-{}-{nanos}.tmp", std::process::id())))
}

/// Removes a temporary path on drop unless kept: an error, a panic or a dropped copy leaves
/// nothing behind.
pub(crate) struct TempGuard {
    path: Option<PathBuf>,
}

impl TempGuard {
    pub(crate) fn new(path: PathBuf) -> TempGuard {
        crate::cleanup::register(&path);
        TempGuard { path: Some(path) }
    }
    pub(crate) fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }
    /// The path is now the destination's: keep it.
    pub(crate) fn keep(mut self) {
        if let Some(p) = self.path.take() {
            crate::cleanup::unregister(&p);
        }
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            if p.is_dir() {
                let _ = fs::remove_dir_all(&p);
            } else {
                let _ = fs::remove_file(&p);
            }
            crate::cleanup::unregister(&p);
        }
    }
}

/// Runs `write` on the layout at `dir`: an existing one in place, a new one built in a
/// temporary directory and renamed into place on success.
pub(crate) fn write_layout(
    dir: &Path,
    write: impl FnOnce(&Layout) -> oci_layout::Result<Descriptor>,
) -> Result<Descriptor> {
    let at = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Layout {
            path,
            source: Box::new(source),
        }
    };
    if dir.exists() {
        let layout = Layout::open(dir).map_err(at(dir))?;
        return write(&layout).map_err(at(dir));
    }
    let tmp = TempGuard::new(temp_beside(dir, "layout")?);
    let layout = Layout::create(tmp.path()).map_err(at(dir))?;
    let desc = write(&layout).map_err(at(dir))?;
    drop(layout);
    fs::rename(tmp.path(), dir).map_err(|source| Error::Io {
        op: "renaming the finished layout to",
        path: dir.to_owned(),
        source,
    })?;
    tmp.keep();
    Ok(desc)
}
