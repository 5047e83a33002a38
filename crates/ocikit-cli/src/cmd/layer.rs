//! `ocikit layer`: a tar streamed into a content store, or a registry, as a layer.

use crate::outln;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use oci_content::{CommitOpts, Error as ContentError, Ingester, Labels, LocalStore, WriterOpts};
use oci_partial::Layer;
use oci_stream::{Options, StreamLayer};
use oci_types::{Compression, Digest, MediaType, Reference};
use serde::Serialize;

use crate::cli::{CompressKind, DestCompressArgs};
use crate::progress::{Progress, ProgressReader};
use crate::registry::Access;

/// Where the layer goes.
pub(crate) enum Dest {
    /// A content store directory.
    Store(PathBuf),
    /// A registry repository (any tag is ignored).
    Registry(Reference),
}

/// How the result is written: `--digestfile`, and `--json` (one compact line).
pub(crate) struct Output<'a> {
    pub(crate) digestfile: Option<&'a Path>,
    pub(crate) compact: bool,
}

/// containerd's label for a layer blob's uncompressed digest.
const LABEL_UNCOMPRESSED: &str = "containerd.io/uncompressed";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Out {
    media_type: MediaType,
    digest: String,
    size: u64,
    #[serde(rename = "diffID")]
    diff_id: String,
}

pub(crate) fn run(
    file: &str,
    dest: &Dest,
    access: &Access<'_>,
    compress: &DestCompressArgs,
    output: &Output<'_>,
    progress: Progress,
) -> Result<ExitCode> {
    let (input, total): (Box<dyn Read + Send>, Option<u64>) = if file == "-" {
        (Box::new(io::stdin()), None)
    } else {
        let f = File::open(file).with_context(|| format!("opening {file}"))?;
        let len = f.metadata().ok().map(|m| m.len());
        (Box::new(f), len)
    };
    let compression = match compress.format {
        None | Some(CompressKind::Gzip) => Compression::Gzip,
        Some(CompressKind::Zstd) => Compression::Zstd,
        Some(CompressKind::None) => Compression::None,
    };
    let mut opts = Options::new()
        .compression(compression)
        .threads(oci_copy::stream_threads());
    if let Some(l) = compress.level {
        opts = opts.level(l);
    }
    let (digest, diff_id, size, media_type) = match dest {
        Dest::Store(dir) => {
            let bar = progress.bytes("layer", total);
            let layer = StreamLayer::with_options(ProgressReader::new(input, bar.clone()), opts)
                .context("compression options")?;
            let (digest, diff_id, size) = into_store(file, &layer, dir)?;
            bar.finish_and_clear();
            (digest, diff_id, size, layer.media_type()?)
        }
        Dest::Registry(reference) => {
            // A file's size is known: the bar counts the tar read against it. From stdin
            // nothing is known before the end: the upload's spinner counts the bytes sent.
            let (input, upload_progress): (Box<dyn Read + Send>, _) = match total {
                Some(_) => (
                    Box::new(ProgressReader::new(input, progress.bytes("layer", total))),
                    Progress::hidden(),
                ),
                None => (input, progress),
            };
            let layer = StreamLayer::with_options(input, opts).context("compression options")?;
            let client = access.client(reference)?;
            let desc = oci_remote::write_layer(
                &client,
                reference,
                &layer,
                &upload_progress.upload_options(),
            )
            .map_err(|e| access.explain_remote(e, reference))
            .with_context(|| format!("uploading {file} to docker://{}", reference.repository()))?;
            (desc.digest, layer.diff_id()?, desc.size, desc.media_type)
        }
    };
    let out = Out {
        media_type,
        digest: digest.to_string(),
        size,
        diff_id: diff_id.to_string(),
    };
    if let Some(path) = output.digestfile {
        std::fs::write(path, &out.digest)
            .with_context(|| format!("writing --digestfile {}", path.display()))?;
    }
    if output.compact {
        outln!("{}", serde_json::to_string(&out)?);
    } else {
        outln!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Streams `layer` into the content store at `dir`: its digest, diff_id and size.
fn into_store(file: &str, layer: &StreamLayer, dir: &Path) -> Result<(Digest, Digest, u64)> {
    let store = LocalStore::open(dir)
        .with_context(|| format!("opening content store {}", dir.display()))?;
    // A ref unique to this run: two concurrent `ocikit layer` runs must not share an ingest.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let reference = format!("ocikit-layer-{}-{nanos}", std::process::id());
    let mut writer = store
        .writer(WriterOpts::new(&reference))
        .context("opening an ingest")?;
    let mut compressed = layer.compressed()?;
    io::copy(&mut compressed, &mut writer)
        .with_context(|| format!("streaming {file} into the store"))?;
    drop(compressed);
    let (digest, diff_id, size) = (layer.digest()?, layer.diff_id()?, layer.size()?);
    let mut labels = Labels::new();
    labels.insert(LABEL_UNCOMPRESSED.to_owned(), diff_id.to_string());
    match writer.commit(
        Some(size),
        Some(&digest),
        CommitOpts::new().with_labels(labels),
    ) {
        Ok(()) => {}
        // The store had this layer already: nothing to keep, the ingest was cleaned.
        Err(ContentError::AlreadyExists { .. }) => {}
        Err(e) => return Err(e).context("committing the layer"),
    }
    Ok((digest, diff_id, size))
}
