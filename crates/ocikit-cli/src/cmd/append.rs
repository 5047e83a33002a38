//! `ocikit append`: layers from directories or tars onto a base image.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use oci_partial::files::{DirTar, DirTarOptions};
use oci_partial::mutate::{append_layers, empty_image, with_platform, Addendum, Family};
use oci_partial::Layer;
use oci_stream::StreamLayer;
use oci_types::{History, Platform};

use oci_copy::{CopyOptions, ImageName, LayerCompression, Platforms};
use oci_types::Compression;

use crate::cli::{CompressKind, DestCompressArgs, ReportArgs};
use crate::progress::{Progress, ProgressReader};
use crate::registry::Access;
use crate::usage;

pub(crate) struct Args<'a> {
    pub(crate) base: String,
    pub(crate) layers: Vec<String>,
    pub(crate) tag: Option<String>,
    pub(crate) canonical: bool,
    pub(crate) output: String,
    pub(crate) keep_mtime: bool,
    pub(crate) xattrs: bool,
    pub(crate) platform: String,
    pub(crate) compress: DestCompressArgs,
    /// How a docker:// base is read.
    pub(crate) base_access: Access<'a>,
    /// How a docker:// output is written.
    pub(crate) output_access: Access<'a>,
    /// `--json` and `--digestfile`.
    pub(crate) report: ReportArgs,
}

pub(crate) fn run(args: Args<'_>, progress: Progress) -> Result<ExitCode> {
    let (output, tag) = super::mutate::output_and_tag(&args.output, args.tag.as_deref(), true)?;
    if args.layers.iter().filter(|l| *l == "-").count() > 1 {
        usage!("stdin (-) can be given as a layer only once");
    }
    let platform: Platform = match args.platform.parse() {
        Ok(p) => p,
        Err(e) => usage!("--platform {}: {e}", args.platform),
    };
    let base = if args.base == "scratch" {
        None
    } else {
        let name = super::parse(&args.base, false)?;
        let mut options = args.base_access.copy_options(&name)?;
        options.platforms = Platforms::One(platform.clone());
        Some(oci_copy::open_image(&name, &options).map_err(|e| args.base_access.explain(e))?)
    };
    // The layers' media types: the output's, and for a registry (which takes both) the
    // base's, so that a Docker manifest does not get OCI layers; OCI for scratch.
    let family = match (&output, &base) {
        (ImageName::DockerArchive { .. } | ImageName::DockerDaemon { .. }, _) => Family::Docker,
        (ImageName::Docker { .. } | ImageName::Dir { .. }, Some(base)) => {
            Family::of(&base.media_type()?).unwrap_or(Family::Oci)
        }
        _ => Family::Oci,
    };
    let base = match base {
        Some(base) => base,
        None => with_platform(empty_image(family), platform),
    };
    // To a registry, the bars are those of the uploads (the layers stream into them).
    let input_progress = match output {
        ImageName::Docker { .. } => Progress::hidden(),
        _ => progress,
    };
    // Layers are streamed once, straight into the output's layer compression (a docker
    // archive stores tars, so by default they are not compressed at all), by the parallel
    // stream compressor, so the writer never has to recompress a one-shot stream.
    let compression = target(args.compress.format, &output);
    let mut adds = Vec::with_capacity(args.layers.len());
    for (i, arg) in args.layers.iter().enumerate() {
        let reader = open_layer(arg, dir_options(&args)?, &input_progress, i)?;
        let mut opts = oci_stream::Options::new()
            .compression(compression)
            .media_type(family.layer_media_type(compression))
            .threads(oci_copy::stream_threads());
        if let Some(l) = args.compress.level {
            opts = opts.level(l);
        }
        let layer: Arc<dyn Layer> =
            Arc::new(StreamLayer::with_options(reader, opts).context("compression options")?);
        let created_by = format!("ocikit append {}", if arg == "-" { "(stdin)" } else { arg });
        adds.push(Addendum::new(layer).with_history(History::new(created_by, None)));
    }
    let image = append_layers(base, adds);
    let image = if args.canonical {
        oci_partial::mutate::canonical(image)?
    } else {
        image
    };
    let mut options = CopyOptions::default();
    options.compression = match args.compress.format {
        None => LayerCompression::Auto,
        Some(CompressKind::Gzip) => LayerCompression::Gzip(args.compress.level),
        Some(CompressKind::Zstd) => LayerCompression::Zstd(args.compress.level),
        Some(CompressKind::None) => LayerCompression::None,
    };
    // The base's layers, when recompressed, at the stream's default (gzip 1).
    options.default_gzip_level = None;
    options.progress = progress.reporter();
    if let Some(r) = output.registry_reference() {
        options.destination_client = Some(args.output_access.client(r)?);
    }
    let report = oci_copy::write_image(image, &output, tag.as_ref(), &options)
        .map_err(|e| args.output_access.explain(e))?;
    super::report_written(&args.report, &output, tag.as_ref(), &report)?;
    Ok(ExitCode::SUCCESS)
}

/// A layer argument as a tar stream: a directory (tarred deterministically), a tar file, or
/// stdin; read through the `i`-th layer's bar (of the file's size for a file, a spinner
/// otherwise).
/// How directories given as layers are tarred.
fn dir_options(args: &Args<'_>) -> Result<DirTarOptions> {
    Ok(DirTarOptions::from_env()?
        .keep_mtime(args.keep_mtime)
        .keep_xattrs(args.xattrs))
}

fn open_layer(
    arg: &str,
    dir_options: DirTarOptions,
    progress: &Progress,
    i: usize,
) -> Result<Box<dyn Read + Send>> {
    let label = format!("layer {i} ({arg})");
    if arg == "-" {
        let bar = progress.bytes(&label, None);
        return plain_tar(Box::new(ProgressReader::new(io::stdin(), bar)), arg);
    }
    let path = Path::new(arg);
    let meta = std::fs::metadata(path).with_context(|| format!("layer {arg}"))?;
    if meta.is_dir() {
        let bar = progress.bytes(&label, None);
        Ok(Box::new(ProgressReader::new(
            DirTar::new(path, dir_options).with_context(|| format!("tarring {arg}"))?,
            bar,
        )))
    } else {
        // The file's bytes, before any decompression, against its size.
        let file = File::open(path).with_context(|| format!("opening layer {arg}"))?;
        let bar = progress.bytes(&label, Some(meta.len()));
        plain_tar(Box::new(ProgressReader::new(file, bar)), arg)
    }
}

/// A tar that may arrive gzip- or zstd-compressed, decompressed (detected by magic bytes), so
/// that the diff_id is of the tar itself.
fn plain_tar(reader: Box<dyn Read + Send>, arg: &str) -> Result<Box<dyn Read + Send>> {
    oci_partial::compression::decompress(reader).with_context(|| format!("reading layer {arg}"))
}

/// The layer compression `dst` gets: as asked, else gzip, and none for a docker archive
/// (which stores tars).
fn target(kind: Option<CompressKind>, dst: &ImageName) -> Compression {
    match (kind, dst) {
        (Some(CompressKind::Gzip), _) => Compression::Gzip,
        (Some(CompressKind::Zstd), _) => Compression::Zstd,
        (Some(CompressKind::None), _) => Compression::None,
        (None, ImageName::DockerArchive { .. } | ImageName::DockerDaemon { .. }) => {
            Compression::None
        }
        (None, _) => Compression::Gzip,
    }
}
