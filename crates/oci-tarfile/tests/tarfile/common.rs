//! Shared helpers: fixture paths and expected digests, in-memory images (one of them with a
//! one-shot streaming layer), a small tar builder for hand-made archives, and tool lookup.

use std::io::{self, Cursor, Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use oci_partial::{BlobReader, Image, Layer};
use oci_types::{Descriptor, Digest, Digester, Manifest, MediaType};

/// The fixtures folder (`fixtures/` at the repository root).
pub(crate) fn fixtures() -> PathBuf {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"));
    // Resolved physically, so that tools given the path see the same directory.
    std::fs::canonicalize(&p).unwrap_or(p)
}

pub(crate) fn fixture(rel: &str) -> PathBuf {
    fixtures().join(rel)
}

pub(crate) fn read_fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

pub(crate) fn d(s: &str) -> Digest {
    s.parse().unwrap()
}

// Values from fixtures/README.md.
pub(crate) const HELLO_CONFIG: &str =
    "sha256:9e8d0e1ececf619ff977fa70e8da7da502afbb36e328293c5fdac4d9c8038ede";
pub(crate) const HELLO_CONFIG_SIZE: u64 = 652;
pub(crate) const EXTRA_CONFIG: &str =
    "sha256:f552552ccc56e21b24b19b73c51f43138efcb8a04c118a5aa1ea59e1a8299176";
pub(crate) const EXTRA_CONFIG_SIZE: u64 = 661;
pub(crate) const DIFF1: &str =
    "sha256:5260bd3926c36c318835046b8882c825b45f62c74f4d25a6d4a205358f266e16";
pub(crate) const DIFF1_SIZE: u64 = 5120;
pub(crate) const DIFF2: &str =
    "sha256:9d82869a1a6009a8095f6f5e98545abad1f2077651b2a19c8485157f16063eb9";
pub(crate) const DIFF2_SIZE: u64 = 3584;
pub(crate) const EXTRA_DIFF2: &str =
    "sha256:fa4348d7df31ca407ba1712f771b089ade2e372ab32d7d916fe2296842e7c2d2";
pub(crate) const EXTRA_DIFF2_SIZE: u64 = 2560;
pub(crate) const GZ1: &str =
    "sha256:017cc9880756317eb7e94aa2da03ab921878ee450f1296ce4073b268203896e7";
pub(crate) const GZ1_SIZE: u64 = 298;
pub(crate) const GZ2: &str =
    "sha256:ccea505ee7e7620339c0fd46f060e164734e9b843d0927075ae5a780ec2c8670";
pub(crate) const GZ2_SIZE: u64 = 219;
pub(crate) const HELLO_TAG: &str = "example.com/fixtures/hello:1.0";
pub(crate) const EXTRA_TAG: &str = "example.com/fixtures/hello-extra:1.0";

/// The bytes of a stream, and their sha256.
pub(crate) fn drain(mut r: impl Read) -> io::Result<(Vec<u8>, Digest)> {
    let mut v = Vec::new();
    r.read_to_end(&mut v)?;
    let dg = Digest::sha256(&v);
    Ok((v, dg))
}

/// A layer held in memory: a blob as stored and its uncompressed tar.
pub(crate) struct MemLayer {
    pub(crate) blob: Vec<u8>,
    pub(crate) plain: Vec<u8>,
    pub(crate) media_type: MediaType,
}

impl MemLayer {
    /// An uncompressed layer.
    pub(crate) fn plain(tar: Vec<u8>) -> MemLayer {
        MemLayer {
            blob: tar.clone(),
            plain: tar,
            media_type: MediaType::DockerLayer,
        }
    }

    /// A gzip layer.
    pub(crate) fn gzip(tar: Vec<u8>) -> MemLayer {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        MemLayer {
            blob: gz.finish().unwrap(),
            plain: tar,
            media_type: MediaType::OciLayerGzip,
        }
    }
}

impl Layer for MemLayer {
    fn digest(&self) -> oci_partial::Result<Digest> {
        Ok(Digest::sha256(&self.blob))
    }
    fn diff_id(&self) -> oci_partial::Result<Digest> {
        Ok(Digest::sha256(&self.plain))
    }
    fn compressed(&self) -> oci_partial::Result<BlobReader> {
        Ok(Box::new(Cursor::new(self.blob.clone())))
    }
    fn uncompressed(&self) -> oci_partial::Result<BlobReader> {
        Ok(Box::new(Cursor::new(self.plain.clone())))
    }
    fn size(&self) -> oci_partial::Result<u64> {
        Ok(self.blob.len() as u64)
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        Ok(self.media_type.clone())
    }
}

/// What a one-shot streaming layer learnt once its stream ended.
#[derive(Default)]
struct StreamState {
    source: Option<Vec<u8>>,
    digest: Option<Digest>,
    diff_id: Option<Digest>,
    size: Option<u64>,
}

/// A one-shot streaming layer: its compressed stream can be read once, and its digest,
/// diff_id and size are known only after that stream was read to its end (as oci-stream's
/// layer and go-containerregistry's `stream.Layer`).
pub(crate) struct StreamLayer {
    state: Arc<Mutex<StreamState>>,
    /// Counts how many times a stream was asked for.
    pub(crate) opened: Arc<Mutex<usize>>,
}

impl StreamLayer {
    /// A layer that will stream `tar` gzip-compressed.
    pub(crate) fn new(tar: Vec<u8>) -> StreamLayer {
        let state = StreamState {
            source: Some(tar),
            ..StreamState::default()
        };
        StreamLayer {
            state: Arc::new(Mutex::new(state)),
            opened: Arc::default(),
        }
    }

    fn not_computed(what: &'static str) -> oci_partial::Error {
        oci_partial::Error::NotComputed { what }
    }
}

/// Gzip-compresses on the fly, hashing both sides; records digests at the end.
struct StreamReader {
    plain: Cursor<Vec<u8>>,
    diff: Digester,
    out: Vec<u8>,
    pos: usize,
    enc: Option<flate2::write::GzEncoder<Vec<u8>>>,
    digest: Digester,
    state: Arc<Mutex<StreamState>>,
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.out.len() {
                let n = buf.len().min(self.out.len() - self.pos);
                buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
                self.digest.update(&buf[..n]);
                self.pos += n;
                return Ok(n);
            }
            let Some(enc) = self.enc.as_mut() else {
                let mut st = self.state.lock().unwrap();
                if st.digest.is_none() {
                    st.digest = Some(self.digest.current());
                    st.size = Some(self.digest.bytes());
                    st.diff_id = Some(self.diff.current());
                }
                return Ok(0);
            };
            let mut chunk = [0u8; 1000];
            let n = self.plain.read(&mut chunk)?;
            self.out.clear();
            self.pos = 0;
            if n == 0 {
                let enc = self.enc.take().unwrap();
                self.out = enc.finish()?;
            } else {
                self.diff.update(&chunk[..n]);
                enc.write_all(&chunk[..n])?;
                enc.flush()?;
                self.out = std::mem::take(enc.get_mut());
            }
        }
    }
}

impl Layer for StreamLayer {
    fn digest(&self) -> oci_partial::Result<Digest> {
        self.state
            .lock()
            .unwrap()
            .digest
            .clone()
            .ok_or_else(|| Self::not_computed("digest"))
    }
    fn diff_id(&self) -> oci_partial::Result<Digest> {
        self.state
            .lock()
            .unwrap()
            .diff_id
            .clone()
            .ok_or_else(|| Self::not_computed("diff_id"))
    }
    fn compressed(&self) -> oci_partial::Result<BlobReader> {
        *self.opened.lock().unwrap() += 1;
        let src = self
            .state
            .lock()
            .unwrap()
            .source
            .take()
            .ok_or(oci_partial::Error::Consumed)?;
        Ok(Box::new(StreamReader {
            plain: Cursor::new(src),
            diff: Digester::new_sha256(),
            out: Vec::new(),
            pos: 0,
            enc: Some(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::fast(),
            )),
            digest: Digester::new_sha256(),
            state: Arc::clone(&self.state),
        }))
    }
    fn uncompressed(&self) -> oci_partial::Result<BlobReader> {
        *self.opened.lock().unwrap() += 1;
        Err(oci_partial::Error::Consumed)
    }
    fn size(&self) -> oci_partial::Result<u64> {
        self.state
            .lock()
            .unwrap()
            .size
            .ok_or_else(|| Self::not_computed("size"))
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        Ok(MediaType::OciLayerGzip)
    }
}

/// An image held in memory. Its config is made from the layers' diff_ids when asked for, so
/// it fails (not computed) until streaming layers were read.
pub(crate) struct MemImage {
    pub(crate) layers: Vec<Arc<dyn Layer>>,
    /// A fixed config; `None` builds one from the diff_ids.
    pub(crate) config: Option<Vec<u8>>,
    /// Labels the built config carries (to tell images apart).
    pub(crate) label: String,
}

impl MemImage {
    pub(crate) fn new(layers: Vec<Arc<dyn Layer>>, label: &str) -> MemImage {
        MemImage {
            layers,
            config: None,
            label: label.to_owned(),
        }
    }

    pub(crate) fn with_config(layers: Vec<Arc<dyn Layer>>, config: Vec<u8>) -> MemImage {
        MemImage {
            layers,
            config: Some(config),
            label: String::new(),
        }
    }
}

impl Image for MemImage {
    fn layers(&self) -> oci_partial::Result<Vec<Arc<dyn Layer>>> {
        Ok(self.layers.clone())
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        Ok(MediaType::OciManifest)
    }
    fn raw_config_file(&self) -> oci_partial::Result<Vec<u8>> {
        if let Some(c) = &self.config {
            return Ok(c.clone());
        }
        let mut ids = Vec::new();
        for l in &self.layers {
            ids.push(format!("\"{}\"", l.diff_id()?));
        }
        Ok(format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{"Labels":{{"t":"{}"}}}},"rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
            self.label,
            ids.join(",")
        )
        .into_bytes())
    }
    fn raw_manifest(&self) -> oci_partial::Result<Vec<u8>> {
        let config = self.raw_config_file()?;
        let layers = self
            .layers
            .iter()
            .map(|l| l.descriptor())
            .collect::<oci_partial::Result<Vec<_>>>()?;
        let m = Manifest::new(
            MediaType::OciManifest,
            Descriptor::of_bytes(MediaType::OciConfig, &config),
            layers,
        );
        Ok(serde_json::to_vec(&m).unwrap())
    }
    fn layer_by_digest(&self, digest: &Digest) -> oci_partial::Result<Arc<dyn Layer>> {
        oci_partial::find_layer_by_digest(&self.layers, digest)
    }
    fn layer_by_diff_id(&self, diff_id: &Digest) -> oci_partial::Result<Arc<dyn Layer>> {
        oci_partial::find_layer_by_diff_id(&self.layers, diff_id)
    }
}

/// The hello image of the fixtures, from the OCI layout's blobs (gzip layers).
pub(crate) fn hello_image() -> MemImage {
    let l1 = MemLayer {
        blob: read_fixture("layers/hello-layer1.tar.gz"),
        plain: read_fixture("layers/hello-layer1.tar"),
        media_type: MediaType::OciLayerGzip,
    };
    let l2 = MemLayer {
        blob: read_fixture("layers/hello-layer2.tar.gz"),
        plain: read_fixture("layers/hello-layer2.tar"),
        media_type: MediaType::OciLayerGzip,
    };
    let config = read_fixture(&format!("oci-layout/blobs/sha256/{}", &HELLO_CONFIG[7..]));
    MemImage::with_config(vec![Arc::new(l1), Arc::new(l2)], config)
}

/// A minimal ustar writer for hand-made archives (independent of the crate's own).
#[derive(Default)]
pub(crate) struct TarBuilder {
    pub(crate) out: Vec<u8>,
}

impl TarBuilder {
    pub(crate) fn new() -> TarBuilder {
        TarBuilder::default()
    }

    fn header(&mut self, name: &str, typeflag: u8, size: u64, link: &str) {
        assert!(name.len() <= 100 && link.len() <= 100);
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[108..115].copy_from_slice(b"0000000");
        h[116..123].copy_from_slice(b"0000000");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = typeflag;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        self.out.extend_from_slice(&h);
    }

    pub(crate) fn file(mut self, name: &str, data: &[u8]) -> TarBuilder {
        self.header(name, b'0', data.len() as u64, "");
        self.out.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.out.resize(self.out.len() + pad, 0);
        self
    }

    pub(crate) fn dir(mut self, name: &str) -> TarBuilder {
        self.header(name, b'5', 0, "");
        self
    }

    pub(crate) fn symlink(mut self, name: &str, target: &str) -> TarBuilder {
        self.header(name, b'2', 0, target);
        self
    }

    pub(crate) fn hardlink(mut self, name: &str, target: &str) -> TarBuilder {
        self.header(name, b'1', 0, target);
        self
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.out.resize(self.out.len() + 1024, 0);
        self.out
    }
}

/// A small layer tar with the given files.
pub(crate) fn layer_tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = TarBuilder::new();
    for (name, data) in files {
        b = b.file(name, data);
    }
    b.finish()
}

/// A config naming `diff_ids`.
pub(crate) fn config_for(diff_ids: &[&Digest]) -> Vec<u8> {
    let ids: Vec<String> = diff_ids.iter().map(|d| format!("\"{d}\"")).collect();
    format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        ids.join(",")
    )
    .into_bytes()
}

/// A command-line tool, or `None` (with a skip message) when it is missing locally. In CI
/// (`CI=true`) a missing tool fails the test.
pub(crate) fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{name} is required in CI (CI=true) but is not installed");
        }
        eprintln!("SKIP: {name} is not installed; skipping the part of this test that needs it");
    }
    found
}

/// Runs a command, failing the test with its output when it fails; returns stdout.
pub(crate) fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
