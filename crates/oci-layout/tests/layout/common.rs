//! Helpers shared by the tests: test images, layout inspection, external tools.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use oci_layout::Layout;
use oci_partial::{BlobReader, Image, Layer, MappedImage, Result};
use oci_types::{Descriptor, Digest, MediaType};

/// The shared fixtures (`fixtures/` at the repository root).
pub(crate) fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"))
}

/// A fresh layout in a temporary directory (kept alive by the returned guard).
pub(crate) fn new_layout() -> (tempfile::TempDir, Layout) {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::create(dir.path().join("layout")).unwrap();
    (dir, layout)
}

/// Reads a whole stream.
pub(crate) fn read_all(mut r: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    out
}

/// The names in a directory, sorted.
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every blob digest under `blobs/`, sorted.
pub(crate) fn blobs(layout: &Layout) -> Vec<Digest> {
    let mut out = Vec::new();
    for alg in names(&layout.root().join("blobs")) {
        for hex in names(&layout.root().join("blobs").join(&alg)) {
            out.push(Digest::from_parts(&alg, &hex).unwrap());
        }
    }
    out.sort();
    out
}

/// Flips one byte in the middle of a blob file of the layout (same size).
pub(crate) fn corrupt_blob(layout: &Layout, digest: &Digest) {
    let path = layout.blob_path(digest);
    let mut perm = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(&path, perm).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] = !bytes[mid];
    std::fs::write(&path, bytes).unwrap();
}

/// A layer that counts how often its stream is opened.
pub(crate) struct Counting {
    pub(crate) inner: Arc<dyn Layer>,
    pub(crate) opens: Arc<AtomicUsize>,
}

impl Layer for Counting {
    fn digest(&self) -> Result<Digest> {
        self.inner.digest()
    }
    fn diff_id(&self) -> Result<Digest> {
        self.inner.diff_id()
    }
    fn compressed(&self) -> Result<BlobReader> {
        self.opens.fetch_add(1, Ordering::SeqCst);
        self.inner.compressed()
    }
    fn uncompressed(&self) -> Result<BlobReader> {
        self.inner.uncompressed()
    }
    fn size(&self) -> Result<u64> {
        self.inner.size()
    }
    fn media_type(&self) -> Result<MediaType> {
        self.inner.media_type()
    }
    fn descriptor(&self) -> Result<Descriptor> {
        self.inner.descriptor()
    }
}

/// `inner` with other layer objects than its own (same manifest and config).
pub(crate) fn with_layers(inner: Arc<dyn Image>, layers: Vec<Arc<dyn Layer>>) -> MappedImage {
    MappedImage::new(inner).replace_layers(move |_| Ok(layers.clone()))
}

/// `inner` with every layer wrapped in a [`Counting`] sharing one counter.
pub(crate) fn counting(inner: Arc<dyn Image>) -> (MappedImage, Arc<AtomicUsize>) {
    let opens = Arc::new(AtomicUsize::new(0));
    let layers = inner
        .layers()
        .unwrap()
        .into_iter()
        .map(|l| {
            Arc::new(Counting {
                inner: l,
                opens: Arc::clone(&opens),
            }) as Arc<dyn Layer>
        })
        .collect();
    (with_layers(inner, layers), opens)
}

/// Whether the external tool `name` can be used. In CI (`CI=true`) a missing tool fails the
/// test; elsewhere the test prints why it skips and passes.
pub(crate) fn have_tool(name: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{name} is not installed, and CI needs it for the interoperability tests");
        }
        eprintln!("skipping: {name} is not installed");
    }
    found
}

/// Runs a command, failing the test with its output when it fails; returns its stdout.
pub(crate) fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether this process runs as root.
pub(crate) fn is_root() -> bool {
    run(Command::new("id").arg("-u")).trim() == "0"
}
