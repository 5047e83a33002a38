//! Layers from files: a directory (tarred deterministically), a tar file, an opener, bytes
//! (go-containerregistry's `tarball.LayerFromOpener`, `LayerFromFile`, `LayerFromReader`).
//!
//! Each is an [`UncompressedLayer`] over an [`OpenerCore`]: the tar is opened again for every
//! pass (the diff_id, the compressed digest, the write), read as it streams and never held in
//! memory, so a layer of any size keeps memory flat. The diff_id is computed on first use and
//! kept. Compression is gzip level 1 unless [`UncompressedLayer::with_compression`] says
//! otherwise; the media type is an OCI layer's unless [`OpenerCore::with_media_type`] says
//! otherwise, and [`OpenerCore::with_urls`] and [`OpenerCore::with_annotation`] give the
//! descriptor of a foreign (non-distributable) layer.
//!
//! ```
//! use oci_partial::files::{layer_from_dir, DirTarOptions};
//! use oci_partial::Layer;
//!
//! let a = tempfile::tempdir()?;
//! std::fs::write(a.path().join("hello.txt"), b"hello")?;
//! let b = tempfile::tempdir()?;
//! std::fs::write(b.path().join("hello.txt"), b"hello")?;
//! // Other times on disk, same layer: mtimes are zeroed (or set to SOURCE_DATE_EPOCH).
//! let t = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
//! std::fs::File::options().write(true).open(b.path().join("hello.txt"))?.set_modified(t)?;
//! let la = layer_from_dir(a.path(), DirTarOptions::default());
//! let lb = layer_from_dir(b.path(), DirTarOptions::default());
//! assert_eq!(la.digest()?, lb.digest()?);
//! assert_eq!(la.diff_id()?, lb.diff_id()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use oci_types::{Annotations, Descriptor, Digest, HashingReader, MediaType};

use crate::{BlobReader, Error, Result, UncompressedLayer, UncompressedLayerCore};

mod dirtar;
pub use dirtar::{DirTar, DirTarOptions};

/// A function that opens the uncompressed tar, called once per pass over the layer.
pub type Opener = Arc<dyn Fn() -> io::Result<BlobReader> + Send + Sync>;

/// An [`UncompressedLayerCore`] whose tar comes from an opener, called for every pass.
pub struct OpenerCore {
    open: Opener,
    what: String,
    media_type: MediaType,
    urls: Vec<String>,
    annotations: Annotations,
    diff_id: Arc<OnceLock<Digest>>,
}

impl OpenerCore {
    /// A core reading the tar `open` opens; `what` names it in errors (a path).
    pub fn new(what: impl Into<String>, open: Opener) -> OpenerCore {
        OpenerCore {
            open,
            what: what.into(),
            media_type: MediaType::OciLayer,
            urls: Vec::new(),
            annotations: Annotations::new(),
            diff_id: Arc::new(OnceLock::new()),
        }
    }

    /// The same core with a media type (only its kind counts, see
    /// [`UncompressedLayerCore::media_type`]: [`MediaType::DockerLayer`],
    /// [`MediaType::OciLayerNonDistributable`], ...).
    pub fn with_media_type(mut self, media_type: MediaType) -> OpenerCore {
        self.media_type = media_type;
        self
    }

    /// The same core with `urls` in its descriptor (a foreign layer's).
    pub fn with_urls(mut self, urls: Vec<String>) -> OpenerCore {
        self.urls = urls;
        self
    }

    /// The same core with one more descriptor annotation.
    pub fn with_annotation(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> OpenerCore {
        self.annotations.insert(key.into(), value.into());
        self
    }

    fn open(&self) -> Result<BlobReader> {
        (self.open)().map_err(|e| Error::io(format!("opening {}", self.what), e))
    }
}

impl UncompressedLayerCore for OpenerCore {
    fn diff_id(&self) -> Result<Digest> {
        if let Some(d) = self.diff_id.get() {
            return Ok(d.clone());
        }
        let mut r = HashingReader::new(self.open()?);
        io::copy(&mut r, &mut io::sink())
            .map_err(|e| Error::io(format!("reading {}", self.what), e))?;
        Ok(self.diff_id.get_or_init(|| r.digest()).clone())
    }
    fn uncompressed(&self) -> Result<BlobReader> {
        let r = self.open()?;
        // Any complete read fills the diff_id, so a layer written out is not read again for it.
        if self.diff_id.get().is_some() {
            return Ok(r);
        }
        let slot = Arc::clone(&self.diff_id);
        Ok(Box::new(HashingReader::new(r).on_end(move |digest, _| {
            let _ = slot.set(digest.clone());
            Ok(())
        })))
    }
    fn media_type(&self) -> Result<MediaType> {
        Ok(self.media_type.clone())
    }
    fn describe(&self, mut computed: Descriptor) -> Result<Descriptor> {
        if !self.urls.is_empty() {
            computed.urls = self.urls.clone();
        }
        computed
            .annotations
            .extend(self.annotations.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(computed)
    }
}

/// A layer of the tar `open` opens (go-containerregistry's `tarball.LayerFromOpener`); `what`
/// names it in errors. The opener is called once per pass and must give the same bytes each
/// time.
pub fn layer_from_opener<F, R>(what: impl Into<String>, open: F) -> UncompressedLayer<OpenerCore>
where
    F: Fn() -> io::Result<R> + Send + Sync + 'static,
    R: Read + Send + 'static,
{
    let open: Opener = Arc::new(move || open().map(|r| Box::new(r) as BlobReader));
    UncompressedLayer::new(OpenerCore::new(what, open))
}

/// A layer of a directory, tarred deterministically by [`DirTar`] on every pass (the tree must
/// not change between passes; a file that shrinks meanwhile is an error).
pub fn layer_from_dir(
    dir: impl Into<PathBuf>,
    options: DirTarOptions,
) -> UncompressedLayer<OpenerCore> {
    let dir: PathBuf = dir.into();
    let what = dir.display().to_string();
    layer_from_opener(what, move || DirTar::new(&dir, options))
}

/// A layer of `dir` over `base` (the tree of the layers below): as [`layer_from_dir`], plus a
/// whiteout for each file or directory of `base` that `dir` no longer has (see
/// [`DirTar::over`]).
pub fn layer_from_dir_over(
    dir: impl Into<PathBuf>,
    base: impl Into<PathBuf>,
    options: DirTarOptions,
) -> UncompressedLayer<OpenerCore> {
    let (dir, base): (PathBuf, PathBuf) = (dir.into(), base.into());
    let what = dir.display().to_string();
    layer_from_opener(what, move || DirTar::over(&dir, &base, options))
}

/// A layer of a tar file (gzip- or zstd-compressed tars are decompressed as read, so the
/// diff_id is of the tar itself).
pub fn layer_from_tar_file(path: impl Into<PathBuf>) -> UncompressedLayer<OpenerCore> {
    let path: PathBuf = path.into();
    let what = path.display().to_string();
    layer_from_opener(what, move || open_tar(&path))
}

fn open_tar(path: &Path) -> io::Result<BlobReader> {
    let f = std::fs::File::open(path)?;
    crate::compression::decompress(Box::new(f)).map_err(|e| match e {
        Error::Io { source, .. } => source,
        other => io::Error::other(other),
    })
}

/// A layer of a tar held in memory.
pub fn layer_from_bytes(tar: impl Into<Arc<[u8]>>) -> UncompressedLayer<OpenerCore> {
    let tar: Arc<[u8]> = tar.into();
    layer_from_opener("a tar in memory", move || {
        Ok(io::Cursor::new(Arc::clone(&tar)))
    })
}
