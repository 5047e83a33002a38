//! `ocikit append`: layers from directories or tars onto a base image.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use oci_partial::mutate::{append_layers, empty_image, with_platform, Addendum, Family};
use oci_partial::Layer;
use oci_stream::StreamLayer;
use oci_types::{History, Platform, Reference};

use super::sink::{self, Compress, Naming};
use super::source;
use crate::dirtar::{DirTar, DirTarOptions};
use crate::progress::{Progress, ProgressReader};
use crate::registry::Access;
use crate::transport::ImageName;
use crate::usage;

pub(crate) struct Args<'a> {
    pub(crate) base: String,
    pub(crate) layers: Vec<String>,
    pub(crate) tag: Option<String>,
    pub(crate) output: String,
    pub(crate) keep_mtime: bool,
    pub(crate) platform: String,
    pub(crate) compress: Compress,
    /// How a docker:// base is read.
    pub(crate) base_access: Access<'a>,
    /// How a docker:// output is written.
    pub(crate) output_access: Access<'a>,
}

pub(crate) fn run(args: Args<'_>, progress: Progress) -> Result<ExitCode> {
    let output = match ImageName::parse(&args.output, true) {
        Ok(o) => o,
        Err(e) => usage!("-o {}: {e:#}", args.output),
    };
    let tag: Reference = match (&args.tag, output.registry_reference()) {
        (Some(t), _) => match t.parse::<Reference>() {
            Ok(r) if r.digest().is_none() => r.tag_or_latest(),
            Ok(_) => usage!("-t {t}: a tag, not a digest"),
            Err(e) => usage!("-t {t}: {e}"),
        },
        (None, Some(r)) if r.digest().is_none() => r.clone(),
        (None, Some(_)) => usage!("-o {}: a registry output needs a tag", args.output),
        (None, None) => usage!("-t NAME:TAG is needed unless the output is docker://"),
    };
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
        let name = match ImageName::parse(&args.base, false) {
            Ok(n) => n,
            Err(e) => usage!("{e:#}"),
        };
        Some(source::open_one(&name, &args.base_access, Some(&platform))?.image)
    };
    // The layers' media types: the output's, and for a registry (which takes both) the
    // base's, so that a Docker manifest does not get OCI layers; OCI for scratch.
    let family = match (&output, &base) {
        (ImageName::Oci { .. }, _) => Family::Oci,
        (ImageName::DockerArchive { .. }, _) => Family::Docker,
        (ImageName::Docker { .. }, Some(base)) => {
            Family::of(&base.media_type()?).unwrap_or(Family::Oci)
        }
        (ImageName::Docker { .. }, None) => Family::Oci,
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
    let compression = args.compress.target(&output);
    let mut adds = Vec::with_capacity(args.layers.len());
    for (i, arg) in args.layers.iter().enumerate() {
        let reader = open_layer(arg, args.keep_mtime)?;
        let bar = input_progress.bytes(&format!("layer {i} ({arg})"), None);
        let opts = args
            .compress
            .stream_options(compression, family.layer_media_type(compression));
        let layer: Arc<dyn Layer> = Arc::new(
            StreamLayer::with_options(ProgressReader::new(reader, bar), opts)
                .context("compression options")?,
        );
        let created_by = format!("ocikit append {}", if arg == "-" { "(stdin)" } else { arg });
        adds.push(Addendum::new(layer).with_history(History::new(created_by, None)));
    }
    let image = append_layers(base, adds);
    let naming = Naming {
        reference: Some(&tag),
        ref_name: None,
        mount_from: None,
    };
    let written = sink::write_image(
        image,
        &output,
        &naming,
        args.compress,
        progress,
        &args.output_access,
    )?;
    eprintln!("wrote {output} ({tag}, {written})");
    Ok(ExitCode::SUCCESS)
}

/// A layer argument as a tar stream: a directory (tarred deterministically), a tar file, or
/// stdin.
fn open_layer(arg: &str, keep_mtime: bool) -> Result<Box<dyn Read + Send>> {
    if arg == "-" {
        return plain_tar(Box::new(io::stdin()), arg);
    }
    let path = Path::new(arg);
    let meta = std::fs::metadata(path).with_context(|| format!("layer {arg}"))?;
    if meta.is_dir() {
        Ok(Box::new(
            DirTar::new(path, DirTarOptions { keep_mtime })
                .with_context(|| format!("tarring {arg}"))?,
        ))
    } else {
        plain_tar(
            Box::new(File::open(path).with_context(|| format!("opening layer {arg}"))?),
            arg,
        )
    }
}

/// A tar that may arrive gzip- or zstd-compressed, decompressed (detected by magic bytes), so
/// that the diff_id is of the tar itself.
fn plain_tar(reader: Box<dyn Read + Send>, arg: &str) -> Result<Box<dyn Read + Send>> {
    oci_partial::compression::decompress(reader).with_context(|| format!("reading layer {arg}"))
}
