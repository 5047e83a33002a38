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
use crate::transport::ImageName;
use crate::usage;

pub(crate) struct Args {
    pub(crate) base: String,
    pub(crate) layers: Vec<String>,
    pub(crate) tag: String,
    pub(crate) output: String,
    pub(crate) keep_mtime: bool,
    pub(crate) platform: String,
    pub(crate) compress: Compress,
}

pub(crate) fn run(args: Args, progress: Progress) -> Result<ExitCode> {
    let tag: Reference = match args.tag.parse::<Reference>() {
        Ok(r) if r.digest().is_none() => r.tag_or_latest(),
        Ok(_) => usage!("-t {}: a tag, not a digest", args.tag),
        Err(e) => usage!("-t {}: {e}", args.tag),
    };
    let output = match ImageName::parse(&args.output, true) {
        Ok(o) => o,
        Err(e) => usage!("-o {}: {e:#}", args.output),
    };
    if args.layers.iter().filter(|l| *l == "-").count() > 1 {
        usage!("stdin (-) can be given as a layer only once");
    }
    let family = match output {
        ImageName::Oci { .. } => Family::Oci,
        ImageName::DockerArchive { .. } => Family::Docker,
    };
    let base = if args.base == "scratch" {
        let platform: Platform = match args.platform.parse() {
            Ok(p) => p,
            Err(e) => usage!("--platform {}: {e}", args.platform),
        };
        with_platform(empty_image(family), platform)
    } else {
        let name = match ImageName::parse(&args.base, false) {
            Ok(n) => n,
            Err(e) => usage!("{e:#}"),
        };
        source::open_one(&name)?.image
    };
    // Layers are streamed once, straight into the output's layer compression (a docker
    // archive stores tars, so by default they are not compressed at all), by the parallel
    // stream compressor, so the writer never has to recompress a one-shot stream.
    let compression = args.compress.target(&output);
    let mut adds = Vec::with_capacity(args.layers.len());
    for (i, arg) in args.layers.iter().enumerate() {
        let reader = open_layer(arg, args.keep_mtime)?;
        let bar = progress.bytes(&format!("layer {i} ({arg})"), None);
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
    };
    let written = sink::write_image(image, &output, &naming, args.compress, progress)?;
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
