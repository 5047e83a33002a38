//! The stream writer: on an output that cannot seek, the same archive as the file writer,
//! byte for byte; a failing layer fails it with the digest error.

use std::io::{self, Cursor, Read, Write};
use std::sync::Arc;

use oci_partial::random::{self, Options};
use oci_partial::{BlobReader, Image, Layer};
use oci_tarfile::{Error, LayerStorage, Reader, StreamWriter, Writer, WriterOptions};
use oci_types::{Compression, Digest, MediaType, Reference};
use proptest::prelude::*;

use crate::common::{layer_tar, MemImage, MemLayer, StreamLayer};

/// A `Write` that is not `Seek`, as a pipe.
struct Pipe(Vec<u8>);

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn refs(tags: &[&str]) -> Vec<Reference> {
    tags.iter().map(|t| t.parse().unwrap()).collect()
}

type Images = Vec<(Arc<dyn Image>, Vec<Reference>)>;

/// The archive the file writer writes, and the one the stream writer writes, of the images
/// `make` makes (twice: a streaming layer is read once).
fn both(make: impl Fn() -> Images, storage: LayerStorage) -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tar");
    let mut w = Writer::with_options(&path, WriterOptions::new().layers(storage)).unwrap();
    for (img, tags) in make() {
        w.add_image(img.as_ref(), &tags).unwrap();
    }
    w.commit().unwrap();
    let mut s = StreamWriter::with_options(Pipe(Vec::new()), WriterOptions::new().layers(storage));
    for (img, tags) in make() {
        s.add_image(img.as_ref(), &tags).unwrap();
    }
    (std::fs::read(&path).unwrap(), s.finish().unwrap().0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Random images (gzip, zstd and uncompressed layers; OCI or Docker media types; 0 to 4
    /// layers; several images, some sharing layers) give the same bytes either way.
    #[test]
    fn stream_writer_writes_the_file_writers_bytes(
        images in proptest::collection::vec((0u64..6, 0usize..5, 0u8..3, any::<bool>(), 0usize..3000), 1..4),
        as_is in any::<bool>(),
    ) {
        let storage = if as_is { LayerStorage::AsIs } else { LayerStorage::Uncompressed };
        let built = || images
            .iter()
            .enumerate()
            .map(|(n, &(seed, layers, c, docker, size))| {
                let c = [Compression::Gzip, Compression::None, Compression::Zstd][c as usize];
                let mut opts = Options::default().compression(c);
                if docker {
                    opts = opts.docker();
                }
                let img = random::image_with(seed, layers, size, &opts);
                (img, refs(&[&format!("example.com/img{n}:{seed}")]))
            })
            .collect();
        let (file, stream) = both(built, storage);
        prop_assert!(file == stream, "{} bytes from the file writer, {} from the stream writer", file.len(), stream.len());
    }
}

/// Layers of every kind in one image: uncompressed (streamed straight through), gzip
/// (spooled when stored decompressed) and a one-shot streaming layer (always spooled), and a
/// second image sharing two of them.
#[test]
fn every_kind_of_layer_gives_the_same_bytes() {
    let tar = |n: &str, len: usize| layer_tar(&[(n, &vec![n.as_bytes()[0]; len][..])]);
    let plain: Arc<dyn Layer> = Arc::new(MemLayer::plain(tar("a", 5000)));
    let gzip: Arc<dyn Layer> = Arc::new(MemLayer::gzip(tar("b", 70_000)));
    let make = || -> Images {
        let streaming: Arc<dyn Layer> = Arc::new(StreamLayer::new(tar("c", 1234)));
        let one: Arc<dyn Image> = Arc::new(MemImage::new(
            vec![plain.clone(), gzip.clone(), streaming],
            "one",
        ));
        let two: Arc<dyn Image> = Arc::new(MemImage::new(vec![gzip.clone(), plain.clone()], "two"));
        vec![(one, refs(&["x/one:1"])), (two, refs(&["x/two"]))]
    };
    for storage in [LayerStorage::Uncompressed, LayerStorage::AsIs] {
        let (file, stream) = both(make, storage);
        assert!(file == stream, "{storage:?}: the two writers differ");
        let reader = Reader::from_bytes(stream).unwrap();
        assert_eq!(reader.manifest().len(), 2);
    }
}

/// A layer whose bytes are not those of its digest.
struct Lying {
    bytes: Vec<u8>,
    claimed: Digest,
}

impl Layer for Lying {
    fn digest(&self) -> oci_partial::Result<Digest> {
        Ok(self.claimed.clone())
    }
    fn diff_id(&self) -> oci_partial::Result<Digest> {
        Ok(self.claimed.clone())
    }
    fn compressed(&self) -> oci_partial::Result<BlobReader> {
        Ok(Box::new(Cursor::new(self.bytes.clone())))
    }
    fn uncompressed(&self) -> oci_partial::Result<BlobReader> {
        self.compressed()
    }
    fn size(&self) -> oci_partial::Result<u64> {
        Ok(self.bytes.len() as u64)
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        Ok(MediaType::DockerLayer)
    }
}

/// A layer streamed straight through that turns out not to match its digest fails the
/// writer with a digest mismatch naming both digests; the stream then holds a partial
/// archive (it cannot be taken back) and the writer refuses further work.
#[test]
fn a_bad_digest_mid_layer_fails_with_the_digest_error() {
    let bytes = layer_tar(&[("f", &[7u8; 100_000][..])]);
    let claimed = Digest::sha256(b"something else");
    let bad: Arc<dyn Layer> = Arc::new(Lying {
        bytes: bytes.clone(),
        claimed: claimed.clone(),
    });
    let img = MemImage::new(vec![bad], "bad");
    for storage in [LayerStorage::Uncompressed, LayerStorage::AsIs] {
        let mut s =
            StreamWriter::with_options(Pipe(Vec::new()), WriterOptions::new().layers(storage));
        let err = s.add_image(&img, &refs(&["x/bad"])).unwrap_err();
        match &err {
            Error::DigestMismatch { source, .. } => match source.as_ref() {
                oci_types::Error::DigestMismatch { expected, actual } => {
                    assert_eq!(expected, &claimed);
                    assert_eq!(actual, &Digest::sha256(&bytes));
                }
                other => panic!("{storage:?}: {other:?}"),
            },
            other => panic!("{storage:?}: not a digest mismatch: {other:?}"),
        }
        let good = random::image(1, 1, 10);
        assert!(
            s.add_image(good.as_ref(), &[]).is_err(),
            "a broken writer refuses more"
        );
        assert!(s.finish().is_err());
    }
}

#[test]
fn stream_writer_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<StreamWriter<std::io::Stdout>>();
    check::<StreamWriter<Vec<u8>>>();
}

/// A `Write` that counts what reached it, shared with a layer that looks at the count.
#[derive(Clone, Default)]
struct Counted(Arc<std::sync::Mutex<u64>>);

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        *self.0.lock().unwrap() += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A reader that notes, when it ends, how much of the archive had reached the output.
struct Watching {
    inner: Cursor<Vec<u8>>,
    out: Counted,
    seen: Arc<std::sync::Mutex<Option<u64>>>,
}

impl io::Read for Watching {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            *self.seen.lock().unwrap() = Some(*self.out.0.lock().unwrap());
        }
        Ok(n)
    }
}

struct Watched {
    layer: MemLayer,
    out: Counted,
    seen: Arc<std::sync::Mutex<Option<u64>>>,
}

impl Layer for Watched {
    fn digest(&self) -> oci_partial::Result<Digest> {
        self.layer.digest()
    }
    fn diff_id(&self) -> oci_partial::Result<Digest> {
        self.layer.diff_id()
    }
    fn compressed(&self) -> oci_partial::Result<BlobReader> {
        Ok(Box::new(Watching {
            inner: Cursor::new(self.layer.blob.clone()),
            out: self.out.clone(),
            seen: self.seen.clone(),
        }))
    }
    fn uncompressed(&self) -> oci_partial::Result<BlobReader> {
        Ok(Box::new(Watching {
            inner: Cursor::new(self.layer.plain.clone()),
            out: self.out.clone(),
            seen: self.seen.clone(),
        }))
    }
    fn size(&self) -> oci_partial::Result<u64> {
        self.layer.size()
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        self.layer.media_type()
    }
}

/// An uncompressed layer flows to the output while it is read (its header goes first); a
/// gzip layer stored decompressed reaches the output only once read whole (it is spooled).
#[test]
fn known_sizes_stream_straight_through_and_unknown_ones_are_spooled() {
    // Random content: it stays larger than the writer's buffer when compressed.
    let mut content = Vec::new();
    random::bytes(3)
        .take(2 << 20)
        .read_to_end(&mut content)
        .unwrap();
    let tar = layer_tar(&[("big", &content[..])]);
    for (layer, storage, direct) in [
        (
            MemLayer::plain(tar.clone()),
            LayerStorage::Uncompressed,
            true,
        ),
        (MemLayer::gzip(tar.clone()), LayerStorage::AsIs, true),
        (
            MemLayer::gzip(tar.clone()),
            LayerStorage::Uncompressed,
            false,
        ),
    ] {
        let out = Counted::default();
        let seen = Arc::new(std::sync::Mutex::new(None));
        let watched: Arc<dyn Layer> = Arc::new(Watched {
            layer,
            out: out.clone(),
            seen: seen.clone(),
        });
        let img = MemImage::new(vec![watched], "w");
        let mut s = StreamWriter::with_options(out.clone(), WriterOptions::new().layers(storage));
        s.add_image(&img, &[]).unwrap();
        s.finish().unwrap();
        let at_end = seen.lock().unwrap().unwrap();
        assert_eq!(
            at_end > 0,
            direct,
            "{storage:?}: {at_end} bytes out when the layer ended"
        );
    }
}
