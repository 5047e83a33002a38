//! `ocikit layer`: a tar streamed into a content store as a layer.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use oci_content::{CommitOpts, Error as ContentError, Ingester, Labels, LocalStore, WriterOpts};
use oci_partial::Layer;
use oci_stream::{Options, StreamLayer};
use oci_types::{Compression, MediaType};
use serde::Serialize;

use crate::progress::{Progress, ProgressReader};

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
    store: &Path,
    level: Option<u32>,
    zstd: bool,
    progress: Progress,
) -> Result<ExitCode> {
    let (input, total): (Box<dyn Read + Send>, Option<u64>) = if file == "-" {
        (Box::new(io::stdin()), None)
    } else {
        let f = File::open(file).with_context(|| format!("opening {file}"))?;
        let len = f.metadata().ok().map(|m| m.len());
        (Box::new(f), len)
    };
    let store = LocalStore::open(store)
        .with_context(|| format!("opening content store {}", store.display()))?;
    let compression = if zstd {
        Compression::Zstd
    } else {
        Compression::Gzip
    };
    let mut opts = Options::new()
        .compression(compression)
        .threads(super::sink::stream_threads());
    if let Some(l) = level {
        opts = opts.level(l);
    }
    let bar = progress.bytes("layer", total);
    let layer = StreamLayer::with_options(ProgressReader::new(input, bar.clone()), opts)
        .context("compression options")?;
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
    bar.finish_and_clear();
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
    let out = Out {
        media_type: layer.media_type()?,
        digest: digest.to_string(),
        size,
        diff_id: diff_id.to_string(),
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
