//! The output read back by oci-partial: its decompressor, its compressed-layer adapter, and an
//! image built around a stream layer before the layer is consumed.

use std::io::{Cursor, Read};
use std::sync::Arc;

use oci_partial::mutate::{append_layers, empty_image, Addendum, Family};
use oci_partial::{BlobReader, CompressedLayer, CompressedLayerCore, Error, Layer, Result};
use oci_stream::{Options, StreamLayer};
use oci_types::{Compression, Digest, MediaType};

use crate::common::{compress_with, mixed, read_all};

/// A blob in memory, as a content store or layout would serve it.
struct Blob {
    bytes: Vec<u8>,
    media_type: MediaType,
}

impl CompressedLayerCore for Blob {
    fn digest(&self) -> Result<Digest> {
        Ok(Digest::sha256(&self.bytes))
    }
    fn compressed(&self) -> Result<BlobReader> {
        Ok(Box::new(Cursor::new(self.bytes.clone())))
    }
    fn size(&self) -> Result<u64> {
        Ok(self.bytes.len() as u64)
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.media_type.clone())
    }
}

#[test]
fn oci_partial_reads_the_blob_back_with_the_same_diff_id() {
    let input = mixed(5 << 20, 1);
    for compression in [Compression::Gzip, Compression::Zstd, Compression::None] {
        let opts = Options::new()
            .compression(compression)
            .block_size(512 << 10);
        let (layer, blob) = compress_with(&input, opts, 1 << 20);
        let stored = CompressedLayer::new(Blob {
            bytes: blob.clone(),
            media_type: layer.media_type().unwrap(),
        });
        assert_eq!(
            stored.diff_id().unwrap(),
            layer.diff_id().unwrap(),
            "{compression:?}"
        );
        assert_eq!(stored.digest().unwrap(), layer.digest().unwrap());
        assert_eq!(stored.size().unwrap(), layer.size().unwrap());
        assert_eq!(stored.uncompressed_size().unwrap(), input.len() as u64);
        let mut plain = Vec::new();
        oci_partial::compression::decompress(Cursor::new(blob))
            .unwrap()
            .read_to_end(&mut plain)
            .unwrap();
        assert!(plain == input, "{compression:?}");
    }
}

/// An image can be built around a stream layer without consuming it; its manifest is
/// computed once the layer has been read, and names the layer's digest and diff_id.
#[test]
fn an_image_with_an_appended_stream_layer() {
    let input = mixed(2 << 20, 2);
    let stream = Arc::new(StreamLayer::new(Cursor::new(input.clone())));
    let layer: Arc<dyn Layer> = stream.clone();
    let img = append_layers(empty_image(Family::Oci), vec![Addendum::new(layer)]);
    let layers = img.layers().unwrap();
    assert_eq!(layers.len(), 1);
    assert!(
        matches!(img.manifest(), Err(Error::NotComputed { .. })),
        "manifest needs the digest"
    );

    let blob = read_all(&stream, 1 << 16);
    let manifest = img.manifest().unwrap();
    assert_eq!(manifest.layers[0].digest, Digest::sha256(&blob));
    assert_eq!(manifest.layers[0].size, blob.len() as u64);
    assert_eq!(manifest.layers[0].media_type, MediaType::OciLayerGzip);
    let config = img.config_file().unwrap();
    assert_eq!(config.rootfs.diff_ids, vec![Digest::sha256(&input)]);
}
