//! Test-only cores: an OCI layout directory read blob by blob, and in-memory layers.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use oci_partial::{
    BlobReader, CompressedImage, CompressedImageCore, CompressedLayerCore, Error, Image,
    ImageIndex, Result, UncompressedImageCore, UncompressedLayerCore,
};
use oci_types::{Descriptor, Digest, Index, Manifest, MediaType, VerifyingReader};

/// The shared fixtures folder.
pub(crate) fn fixtures() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures")).to_path_buf()
}

pub(crate) fn d(s: &str) -> Digest {
    s.parse().unwrap()
}

pub(crate) fn read_all(mut r: impl Read) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

/// An OCI image layout on disk.
pub(crate) struct Layout {
    dir: PathBuf,
}

impl Layout {
    pub(crate) fn open(dir: impl Into<PathBuf>) -> Arc<Layout> {
        Arc::new(Layout { dir: dir.into() })
    }

    pub(crate) fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir
            .join("blobs")
            .join(digest.algorithm().as_str())
            .join(digest.encoded())
    }

    pub(crate) fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>> {
        let bytes = std::fs::read(self.blob_path(digest))
            .map_err(|e| Error::io(format!("reading blob {digest}"), e))?;
        digest.verify(&bytes)?;
        Ok(bytes)
    }

    pub(crate) fn index(&self) -> Index {
        Index::from_slice(&std::fs::read(self.dir.join("index.json")).unwrap()).unwrap()
    }

    /// The image the layout's index names `name`.
    pub(crate) fn image(self: &Arc<Self>, name: &str) -> Arc<dyn Image> {
        let desc = self
            .index()
            .manifests
            .into_iter()
            .find(|m| m.ref_name() == Some(name))
            .unwrap();
        Arc::new(CompressedImage::new(LayoutImage {
            layout: Arc::clone(self),
            desc,
        }))
    }
}

/// A blob of a layout, verified as it is read.
pub(crate) struct LayoutBlob {
    pub(crate) path: PathBuf,
    pub(crate) desc: Descriptor,
    pub(crate) opened: AtomicUsize,
}

impl CompressedLayerCore for LayoutBlob {
    fn digest(&self) -> Result<Digest> {
        Ok(self.desc.digest.clone())
    }
    fn compressed(&self) -> Result<BlobReader> {
        self.opened.fetch_add(1, Ordering::SeqCst);
        let f = File::open(&self.path)
            .map_err(|e| Error::io(format!("opening {}", self.path.display()), e))?;
        Ok(Box::new(VerifyingReader::new(
            f,
            self.desc.digest.clone(),
            Some(self.desc.size),
        )?))
    }
    fn size(&self) -> Result<u64> {
        Ok(self.desc.size)
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.desc.media_type.clone())
    }
}

/// An image of a layout: its manifest descriptor in the index.
pub(crate) struct LayoutImage {
    pub(crate) layout: Arc<Layout>,
    pub(crate) desc: Descriptor,
}

impl CompressedImageCore for LayoutImage {
    fn raw_config_file(&self) -> Result<Vec<u8>> {
        let m = Manifest::from_slice(&self.raw_manifest()?)?;
        self.layout.read_blob(&m.config.digest)
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.desc.media_type.clone())
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        self.layout.read_blob(&self.desc.digest)
    }
    fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn CompressedLayerCore>> {
        let m = Manifest::from_slice(&self.raw_manifest()?)?;
        let desc = m
            .layers
            .into_iter()
            .find(|l| &l.digest == digest)
            .ok_or_else(|| Error::NotFound {
                what: "layer",
                digest: digest.clone(),
            })?;
        Ok(Arc::new(LayoutBlob {
            path: self.layout.blob_path(digest),
            desc,
            opened: AtomicUsize::new(0),
        }))
    }
}

/// The layout's `index.json` as an [`ImageIndex`].
pub(crate) struct LayoutIndex(pub Arc<Layout>);

impl ImageIndex for LayoutIndex {
    fn media_type(&self) -> Result<MediaType> {
        Ok(MediaType::OciIndex)
    }
    fn raw_manifest(&self) -> Result<Vec<u8>> {
        std::fs::read(self.0.dir.join("index.json")).map_err(|e| Error::io("reading index.json", e))
    }
    fn image(&self, digest: &Digest) -> Result<Arc<dyn Image>> {
        let desc = self
            .index_manifest()?
            .manifests
            .into_iter()
            .find(|m| &m.digest == digest)
            .ok_or_else(|| Error::NotFound {
                what: "manifest",
                digest: digest.clone(),
            })?;
        Ok(Arc::new(CompressedImage::new(LayoutImage {
            layout: Arc::clone(&self.0),
            desc,
        })))
    }
    fn image_index(&self, digest: &Digest) -> Result<Arc<dyn ImageIndex>> {
        Err(Error::NotFound {
            what: "index",
            digest: digest.clone(),
        })
    }
}

/// A compressed blob in memory, with a claimed media type, counting how often it is opened.
pub(crate) struct MemBlob {
    pub(crate) bytes: Vec<u8>,
    pub(crate) media_type: MediaType,
    pub(crate) opened: AtomicUsize,
}

impl MemBlob {
    pub(crate) fn new(bytes: Vec<u8>, media_type: MediaType) -> MemBlob {
        MemBlob {
            bytes,
            media_type,
            opened: AtomicUsize::new(0),
        }
    }
}

impl CompressedLayerCore for MemBlob {
    fn digest(&self) -> Result<Digest> {
        Ok(Digest::sha256(&self.bytes))
    }
    fn compressed(&self) -> Result<BlobReader> {
        self.opened.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(io::Cursor::new(self.bytes.clone())))
    }
    fn size(&self) -> Result<u64> {
        Ok(self.bytes.len() as u64)
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.media_type.clone())
    }
}

/// A tar in memory, counting how often it is opened.
pub(crate) struct MemTar {
    pub(crate) bytes: Arc<Vec<u8>>,
    pub(crate) media_type: MediaType,
    pub(crate) opened: AtomicUsize,
}

impl MemTar {
    pub(crate) fn new(bytes: Vec<u8>, media_type: MediaType) -> MemTar {
        MemTar {
            bytes: Arc::new(bytes),
            media_type,
            opened: AtomicUsize::new(0),
        }
    }
}

/// A cursor over shared bytes.
pub(crate) struct SharedCursor {
    bytes: Arc<Vec<u8>>,
    pos: usize,
}

impl Read for SharedCursor {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.bytes.len() - self.pos);
        buf[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl UncompressedLayerCore for MemTar {
    fn diff_id(&self) -> Result<Digest> {
        Ok(Digest::sha256(&self.bytes))
    }
    fn uncompressed(&self) -> Result<BlobReader> {
        self.opened.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(SharedCursor {
            bytes: Arc::clone(&self.bytes),
            pos: 0,
        }))
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.media_type.clone())
    }
}

/// An uncompressed image: a config and tars by diff_id (like a docker archive).
pub(crate) struct TarImage {
    pub(crate) config: Vec<u8>,
    pub(crate) tars: Vec<Arc<MemTar>>,
    pub(crate) media_type: MediaType,
}

impl UncompressedImageCore for TarImage {
    fn raw_config_file(&self) -> Result<Vec<u8>> {
        Ok(self.config.clone())
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.media_type.clone())
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn UncompressedLayerCore>> {
        for t in &self.tars {
            if &t.diff_id()? == diff_id {
                return Ok(Arc::clone(t) as Arc<dyn UncompressedLayerCore>);
            }
        }
        Err(Error::NotFound {
            what: "layer with diff_id",
            digest: diff_id.clone(),
        })
    }
}

/// The fixture image `hello` as an uncompressed image: its config and the two `.tar`s of
/// `layers/`.
pub(crate) fn hello_tars(media_type: MediaType) -> TarImage {
    let f = fixtures();
    let config = std::fs::read(f.join(
        "oci-layout/blobs/sha256/9e8d0e1ececf619ff977fa70e8da7da502afbb36e328293c5fdac4d9c8038ede",
    ))
    .unwrap();
    let layer_type = if media_type.is_docker() {
        MediaType::DockerLayer
    } else {
        MediaType::OciLayer
    };
    let tars = ["hello-layer1.tar", "hello-layer2.tar"]
        .iter()
        .map(|n| {
            Arc::new(MemTar::new(
                std::fs::read(f.join("layers").join(n)).unwrap(),
                layer_type.clone(),
            ))
        })
        .collect();
    TarImage {
        config,
        tars,
        media_type,
    }
}
