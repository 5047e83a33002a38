//! Writing images, indexes, layers and blobs; index.json edits.

use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use oci_content::IngestManager;
use oci_layout::Error;
use oci_partial::mutate::{append_layers, empty_image, with_platform, Addendum, Family};
use oci_partial::{random, validate_image, Image, Layer, Matcher, ValidateOptions};
use oci_stream::StreamLayer;
use oci_types::{Descriptor, Digest, MediaType, ANNOTATION_REF_NAME};

use crate::common::{blobs, names, new_layout, read_all, with_layers};

#[test]
fn writes_every_blob_and_an_entry_with_ref_and_platform() {
    let (_dir, layout) = new_layout();
    let image = random::image(11, 3, 2000);
    let desc = layout
        .write_image(image.as_ref(), Some("example.com/app:1.0"))
        .unwrap();

    assert_eq!(desc.digest, image.digest().unwrap());
    assert_eq!(desc.size, image.size().unwrap());
    assert_eq!(desc.media_type, MediaType::OciManifest);
    assert_eq!(desc.ref_name(), Some("example.com/app:1.0"));
    assert_eq!(desc.platform, Some("linux/amd64".parse().unwrap()));
    assert_eq!(layout.index().unwrap().manifests, vec![desc.clone()]);

    let m = image.manifest().unwrap();
    let mut expected: Vec<Digest> = m.layers.iter().map(|l| l.digest.clone()).collect();
    expected.push(m.config.digest.clone());
    expected.push(desc.digest.clone());
    expected.sort();
    assert_eq!(blobs(&layout), expected);
    for l in &m.layers {
        let on_disk = std::fs::read(layout.blob_path(&l.digest)).unwrap();
        let original = read_all(
            image
                .layer_by_digest(&l.digest)
                .unwrap()
                .compressed()
                .unwrap(),
        );
        assert_eq!(on_disk, original);
    }
    assert_eq!(
        std::fs::read(layout.blob_path(&desc.digest)).unwrap(),
        image.raw_manifest().unwrap()
    );
    // No ingest directory stays behind.
    assert!(
        !names(layout.root()).contains(&"ingest".to_string()),
        "{:?}",
        names(layout.root())
    );
}

/// A writers' lock held a moment longer by someone else (as a child process being started by
/// another thread holds a copy of it until its exec) does not leave `ingest/` behind: the
/// tidying after a write waits for it, briefly.
#[test]
fn a_lock_released_just_after_the_write_still_gets_ingest_removed() {
    let (_dir, layout) = new_layout();
    let lock = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(layout.root().join("gc.lock"))
        .unwrap();
    lock.lock_shared().unwrap();
    // Released a few milliseconds after the write has recorded its ref, that is while the
    // write is tidying up.
    let index = layout.root().join("index.json");
    let release = std::thread::spawn(move || {
        let recorded = || std::fs::read_to_string(&index).is_ok_and(|s| s.contains("\"a\""));
        while !recorded() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        drop(lock);
    });
    layout
        .write_image(random::image(12, 1, 500).as_ref(), Some("a"))
        .unwrap();
    release.join().unwrap();
    assert!(
        !names(layout.root()).contains(&"ingest".to_string()),
        "{:?}",
        names(layout.root())
    );
}

#[test]
fn present_layers_are_not_even_opened() {
    let (_dir, layout) = new_layout();
    let base = random::image(5, 3, 1000);
    let (image, opens) = crate::common::counting(Arc::clone(&base));
    layout.write_image(&image, Some("a")).unwrap();
    assert_eq!(opens.load(Ordering::SeqCst), 3);

    // The same image again, and under another name: nothing is opened.
    layout.write_image(&image, Some("a")).unwrap();
    layout.write_image(&image, Some("b")).unwrap();
    assert_eq!(opens.load(Ordering::SeqCst), 3);

    // An image sharing two of the three layers opens only the new one.
    let mut layers = image.layers().unwrap();
    layers[1] = random::layer(99, 1000);
    let (mixed, opens) = crate::common::counting(append_layers(
        empty_image(Family::Oci),
        layers.into_iter().map(Addendum::new).collect(),
    ));
    layout.write_image(&mixed, Some("c")).unwrap();
    assert_eq!(opens.load(Ordering::SeqCst), 1);
    validate_image(
        layout.image_by_ref("c").unwrap().as_ref(),
        ValidateOptions::default(),
    )
    .unwrap();
}

#[test]
fn a_tag_replaces_the_entry_with_the_same_ref_name() {
    let (_dir, layout) = new_layout();
    let one = random::image(1, 1, 100);
    let two = random::image(2, 1, 100);
    layout.write_image(one.as_ref(), Some("v")).unwrap();
    layout.write_image(two.as_ref(), Some("other")).unwrap();
    layout.write_image(two.as_ref(), Some("v")).unwrap();
    let entries = layout.index().unwrap().manifests.clone();
    assert_eq!(entries.len(), 2);
    // The replaced entry keeps its position.
    assert_eq!(entries[0].ref_name(), Some("v"));
    assert_eq!(entries[0].digest, two.digest().unwrap());
    assert_eq!(
        layout.image_by_ref("v").unwrap().digest().unwrap(),
        two.digest().unwrap()
    );

    // Untagged writes add one entry per digest.
    layout.write_image(one.as_ref(), None).unwrap();
    layout.write_image(one.as_ref(), None).unwrap();
    let entries = layout.index().unwrap().manifests.clone();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2].digest, one.digest().unwrap());
    assert_eq!(entries[2].ref_name(), None);
}

#[test]
fn invalid_ref_names_are_refused_before_anything_is_written() {
    let (_dir, layout) = new_layout();
    let e = layout
        .write_image(random::image(1, 1, 100).as_ref(), Some("bad name"))
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidRefName { name, .. } if name == "bad name"),
        "{e}"
    );
    assert!(blobs(&layout).is_empty());
    let desc = Descriptor::new(MediaType::OciManifest, Digest::sha256(b"x"), 1)
        .with_annotation(ANNOTATION_REF_NAME, "");
    assert!(matches!(
        layout.append_descriptor(desc).unwrap_err(),
        Error::InvalidRefName { .. }
    ));
}

#[test]
fn streaming_layers_are_committed_under_the_digest_computed_on_the_way() {
    let (_dir, layout) = new_layout();
    let tar = read_all(std::io::Read::take(random::bytes(3), 3 << 20));
    let layer = Arc::new(StreamLayer::new(Cursor::new(tar.clone())));
    let image = append_layers(
        empty_image(Family::Oci),
        vec![Addendum::new(layer.clone() as Arc<dyn Layer>)],
    );
    let image = with_platform(image, "linux/arm64".parse().unwrap());
    assert!(
        layer.digest().is_err(),
        "the digest is unknown before the write"
    );

    let desc = layout
        .write_image(image.as_ref(), Some("streamed"))
        .unwrap();
    let digest = layer.digest().unwrap();
    assert!(layout.has_blob(&digest).unwrap());
    assert_eq!(desc.platform, Some("linux/arm64".parse().unwrap()));

    let back = layout.image_by_ref("streamed").unwrap();
    validate_image(back.as_ref(), ValidateOptions::default()).unwrap();
    let l = &back.layers().unwrap()[0];
    assert_eq!(l.digest().unwrap(), digest);
    assert_eq!(l.diff_id().unwrap(), Digest::sha256(&tar));
    assert_eq!(read_all(l.uncompressed().unwrap()), tar);
    assert!(layout.store().list_statuses(&[]).unwrap().is_empty());
}

#[test]
fn a_corrupt_layer_is_refused_and_leaves_nothing_behind() {
    let (_dir, layout) = new_layout();
    let image = random::image(4, 2, 5000);
    let broken = random::corrupt_layer(Arc::clone(&image), 1);
    let e = layout
        .write_image(broken.as_ref(), Some("broken"))
        .unwrap_err();
    let bad = &image.manifest().unwrap().layers[1].digest;
    assert!(
        matches!(&e, Error::Blob { digest, source } if digest == bad
            && matches!(**source, oci_types::Error::DigestMismatch { .. })),
        "{e:?}"
    );
    assert!(!layout.has_blob(bad).unwrap());
    assert!(layout.index().unwrap().manifests.is_empty());
    assert!(
        layout.store().list_statuses(&[]).unwrap().is_empty(),
        "the failed ingest is removed"
    );

    // The good image still writes (the bad ingest is not resumed).
    layout.write_image(image.as_ref(), Some("good")).unwrap();
    validate_image(
        layout.image_by_ref("good").unwrap().as_ref(),
        ValidateOptions::default(),
    )
    .unwrap();
}

#[test]
fn write_blob_verifies_and_stops_an_overlong_stream() {
    let (_dir, layout) = new_layout();
    let data = b"some blob content";
    let desc = Descriptor::of_bytes(MediaType::OciLayer, data);
    // An endless reader claiming to be 17 bytes: refused at byte 18.
    let e = layout.write_blob(&desc, random::bytes(1)).unwrap_err();
    assert!(
        matches!(&e, Error::Blob { source, .. } if matches!(**source, oci_types::Error::SizeMismatch { .. })),
        "{e:?}"
    );
    let e = layout
        .write_blob(&desc, &b"some blob CONTENT"[..])
        .unwrap_err();
    assert!(
        matches!(&e, Error::Blob { source, .. } if matches!(**source, oci_types::Error::DigestMismatch { .. })),
        "{e:?}"
    );
    let e = layout.write_blob(&desc, &data[..5]).unwrap_err();
    assert!(matches!(&e, Error::Blob { .. }), "{e:?}");
    assert!(!layout.has_blob(&desc.digest).unwrap());

    layout.write_blob(&desc, &data[..]).unwrap();
    assert_eq!(std::fs::read(layout.blob_path(&desc.digest)).unwrap(), data);
    // Present: the reader is not touched.
    layout.write_blob(&desc, FailingReader).unwrap();
}

struct FailingReader;
impl std::io::Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("must not be read"))
    }
}

#[test]
fn a_failing_source_is_an_image_error() {
    let (_dir, layout) = new_layout();
    let desc = Descriptor::of_bytes(MediaType::OciLayer, b"abc");
    let e = layout.write_blob(&desc, FailingReader).unwrap_err();
    assert!(matches!(e, Error::Image { .. }), "{e:?}");
    assert!(e.to_string().contains("must not be read"), "{e}");
}

#[test]
fn writes_an_index_with_a_nested_index() {
    let (_dir, layout) = new_layout();
    let inner = random::index(21, 2, 1, 300);
    let single = random::image(22, 1, 300);
    let outer = random::index_of(
        MediaType::OciIndex,
        vec![
            oci_partial::Child::Index(Arc::clone(&inner)),
            oci_partial::Child::Image(Arc::clone(&single)),
        ],
    )
    .unwrap();
    let desc = layout.write_index(outer.as_ref(), Some("multi")).unwrap();
    assert_eq!(desc.digest, outer.digest().unwrap());
    assert_eq!(desc.media_type, MediaType::OciIndex);

    let back = layout.index_by_ref("multi").unwrap();
    assert_eq!(back.raw_manifest().unwrap(), outer.raw_manifest().unwrap());
    oci_partial::validate_index(back.as_ref(), ValidateOptions::default()).unwrap();
    let nested = layout.index_by_digest(&inner.digest().unwrap()).unwrap();
    assert_eq!(
        nested.raw_manifest().unwrap(),
        inner.raw_manifest().unwrap()
    );
    // The whole layout as an index.
    let root = layout.image_index().unwrap();
    oci_partial::validate_index(root.as_ref(), ValidateOptions::default()).unwrap();
    assert!(matches!(
        layout.image_by_ref("multi").err().unwrap(),
        Error::UnexpectedMediaType { .. }
    ));
}

#[test]
fn docker_and_zstd_images_keep_their_media_types() {
    let (_dir, layout) = new_layout();
    for (i, opts) in [
        random::Options::default().docker(),
        random::Options::default().compression(oci_types::Compression::Zstd),
        random::Options::default().compression(oci_types::Compression::None),
    ]
    .iter()
    .enumerate()
    {
        let image = random::image_with(30 + i as u64, 2, 3000, opts);
        let name = format!("img{i}");
        let desc = layout.write_image(image.as_ref(), Some(&name)).unwrap();
        assert_eq!(desc.media_type, image.media_type().unwrap());
        let back = layout.image_by_ref(&name).unwrap();
        assert_eq!(back.raw_manifest().unwrap(), image.raw_manifest().unwrap());
        validate_image(back.as_ref(), ValidateOptions::default()).unwrap();
    }
}

#[test]
fn replace_remove_and_append_descriptors() {
    let (_dir, layout) = new_layout();
    let a = layout
        .write_image(random::image(1, 1, 10).as_ref(), Some("a"))
        .unwrap();
    let b = layout
        .write_image(random::image(2, 1, 10).as_ref(), Some("b"))
        .unwrap();
    let c = layout
        .write_image(random::image(3, 1, 10).as_ref(), None)
        .unwrap();

    // Append keeps duplicates.
    layout.append_descriptor(c.clone()).unwrap();
    assert_eq!(layout.index().unwrap().manifests.len(), 4);

    // Replace: in place of the first match.
    let retagged = b.clone().with_annotation(ANNOTATION_REF_NAME, "b2");
    let removed = layout
        .replace_descriptor(
            retagged.clone(),
            &Matcher::annotation(ANNOTATION_REF_NAME, "b"),
        )
        .unwrap();
    assert_eq!(removed, vec![b.clone()]);
    assert_eq!(
        layout.index().unwrap().manifests,
        vec![a.clone(), retagged.clone(), c.clone(), c.clone()]
    );

    // Remove by digest.
    let removed = layout
        .remove_descriptor(&Matcher::digest([c.digest.clone()]))
        .unwrap();
    assert_eq!(removed.len(), 2);
    assert_eq!(layout.index().unwrap().manifests, vec![a.clone(), retagged]);
    // Nothing matches: index.json is not rewritten.
    let before = std::fs::metadata(layout.root().join("index.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert!(layout
        .remove_descriptor(&Matcher::digest([c.digest.clone()]))
        .unwrap()
        .is_empty());
    let after = std::fs::metadata(layout.root().join("index.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);
    // Replace with no match appends.
    layout
        .replace_descriptor(c.clone(), &Matcher::annotation(ANNOTATION_REF_NAME, "zzz"))
        .unwrap();
    assert_eq!(layout.index().unwrap().manifests.last(), Some(&c));
    // The blobs stay until gc.
    assert!(layout.has_blob(&b.digest).unwrap());
}

#[test]
fn index_json_survives_a_failed_change() {
    let (_dir, layout) = new_layout();
    layout
        .write_image(random::image(1, 1, 10).as_ref(), Some("a"))
        .unwrap();
    let before = std::fs::read(layout.root().join("index.json")).unwrap();
    let e = layout
        .update_index(|index| -> oci_layout::Result<(bool, ())> {
            index.manifests.clear();
            Err(Error::InvalidRefName {
                name: "x".into(),
                reason: "test",
            })
        })
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRefName { .. }));
    assert_eq!(
        std::fs::read(layout.root().join("index.json")).unwrap(),
        before
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 12, ..Default::default() })]

    /// Any image round-trips: the same manifest, config and layer bytes, diff_ids and
    /// uncompressed content.
    #[test]
    fn images_round_trip(seed in 0u64..1000, layers in 0usize..4, size in 0usize..20_000,
                         compression in 0u8..3, docker in proptest::bool::ANY) {
        let mut opts = random::Options::default().compression(match compression {
            0 => oci_types::Compression::Gzip,
            1 => oci_types::Compression::Zstd,
            _ => oci_types::Compression::None,
        });
        if docker {
            opts = opts.docker();
        }
        let image = random::image_with(seed, layers, size, &opts);
        let (_dir, layout) = new_layout();
        layout.write_image(image.as_ref(), Some("t")).unwrap();
        let back = layout.image_by_ref("t").unwrap();
        proptest::prop_assert_eq!(back.raw_manifest().unwrap(), image.raw_manifest().unwrap());
        proptest::prop_assert_eq!(back.raw_config_file().unwrap(), image.raw_config_file().unwrap());
        let (ours, theirs) = (back.layers().unwrap(), image.layers().unwrap());
        proptest::prop_assert_eq!(ours.len(), theirs.len());
        for (o, t) in ours.iter().zip(&theirs) {
            proptest::prop_assert_eq!(o.digest().unwrap(), t.digest().unwrap());
            proptest::prop_assert_eq!(o.diff_id().unwrap(), t.diff_id().unwrap());
            proptest::prop_assert_eq!(o.media_type().unwrap(), t.media_type().unwrap());
            proptest::prop_assert_eq!(read_all(o.compressed().unwrap()), read_all(t.compressed().unwrap()));
            proptest::prop_assert_eq!(read_all(o.uncompressed().unwrap()), read_all(t.uncompressed().unwrap()));
        }
    }
}

/// Yields `left` bytes, then fails.
struct FailsAfter {
    left: usize,
}
impl std::io::Read for FailsAfter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("source broke"));
        }
        let n = buf.len().min(self.left);
        buf[..n].fill(7);
        self.left -= n;
        Ok(n)
    }
}

#[test]
fn a_streaming_layer_whose_source_fails_leaves_nothing_behind() {
    let (_dir, layout) = new_layout();
    let layer = Arc::new(StreamLayer::new(FailsAfter { left: 3 << 20 }));
    let image = append_layers(
        empty_image(Family::Oci),
        vec![Addendum::new(layer as Arc<dyn Layer>)],
    );
    let e = layout.write_image(image.as_ref(), Some("s")).unwrap_err();
    assert!(matches!(e, Error::Image { .. }), "{e:?}");
    assert!(e.to_string().contains("source broke"), "{e}");
    assert!(blobs(&layout).is_empty());
    assert!(layout.index().unwrap().manifests.is_empty());
    assert!(layout.store().list_statuses(&[]).unwrap().is_empty());
    assert!(!layout.root().join("ingest").exists());
}

#[test]
fn write_layer_returns_the_descriptor_and_skips_present_blobs() {
    let (_dir, layout) = new_layout();
    let layer = random::layer(3, 5000);
    let desc = layout.write_layer(layer.as_ref()).unwrap();
    assert_eq!(desc, layer.descriptor().unwrap());
    assert!(layout.has_blob(&desc.digest).unwrap());
    let opens = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counting = crate::common::Counting {
        inner: layer,
        opens: Arc::clone(&opens),
    };
    assert_eq!(layout.write_layer(&counting).unwrap(), desc);
    assert_eq!(opens.load(Ordering::SeqCst), 0);
}

/// A layer whose stream opens only once `peers` layers' streams are open at the same time
/// (or, failing that, after 20 s, counted as a timeout).
struct Rendezvous {
    inner: Arc<dyn Layer>,
    state: Arc<(std::sync::Mutex<usize>, std::sync::Condvar)>,
    peers: usize,
    timeouts: Arc<AtomicUsize>,
}

impl Layer for Rendezvous {
    fn digest(&self) -> oci_partial::Result<Digest> {
        self.inner.digest()
    }
    fn diff_id(&self) -> oci_partial::Result<Digest> {
        self.inner.diff_id()
    }
    fn compressed(&self) -> oci_partial::Result<oci_partial::BlobReader> {
        let (lock, cvar) = &*self.state;
        let mut open = lock.lock().unwrap();
        *open += 1;
        cvar.notify_all();
        let (open, timeout) = cvar
            .wait_timeout_while(open, std::time::Duration::from_secs(20), |n| {
                *n < self.peers
            })
            .unwrap();
        drop(open);
        if timeout.timed_out() {
            self.timeouts.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.compressed()
    }
    fn uncompressed(&self) -> oci_partial::Result<oci_partial::BlobReader> {
        self.inner.uncompressed()
    }
    fn size(&self) -> oci_partial::Result<u64> {
        self.inner.size()
    }
    fn media_type(&self) -> oci_partial::Result<MediaType> {
        self.inner.media_type()
    }
    fn descriptor(&self) -> oci_partial::Result<Descriptor> {
        self.inner.descriptor()
    }
}

#[test]
fn the_layers_of_an_image_are_written_at_the_same_time() {
    let (_dir, layout) = new_layout();
    let base = random::image(31, oci_layout::PARALLEL_LAYERS, 10_000);
    let state = Arc::new((std::sync::Mutex::new(0), std::sync::Condvar::new()));
    let timeouts = Arc::new(AtomicUsize::new(0));
    let layers = base
        .layers()
        .unwrap()
        .into_iter()
        .map(|inner| {
            Arc::new(Rendezvous {
                inner,
                state: Arc::clone(&state),
                peers: oci_layout::PARALLEL_LAYERS,
                timeouts: Arc::clone(&timeouts),
            }) as Arc<dyn Layer>
        })
        .collect();
    let image = with_layers(Arc::clone(&base), layers);
    layout.write_image(&image, Some("parallel")).unwrap();
    // Every layer's stream was open while the others were: none waited in vain.
    assert_eq!(timeouts.load(Ordering::SeqCst), 0);
    validate_image(
        layout.image_by_ref("parallel").unwrap().as_ref(),
        ValidateOptions::default(),
    )
    .unwrap();
}

/// A two-platform index built in memory around images whose layers still stream: the
/// layout writes every child first and only then asks the index for its bytes.
fn streaming_two_platform_index() -> (Arc<dyn oci_partial::ImageIndex>, Vec<Arc<StreamLayer>>) {
    use oci_partial::mutate::{append_manifests, empty_index, IndexAddendum};
    let mut layers = Vec::new();
    let mut adds = Vec::new();
    for (seed, platform) in [(21, "linux/amd64"), (22, "linux/arm64/v8")] {
        let tar = read_all(std::io::Read::take(random::bytes(seed), 200_000));
        let layer = Arc::new(StreamLayer::new(Cursor::new(tar)));
        let image = append_layers(
            empty_image(Family::Oci),
            vec![Addendum::new(layer.clone() as Arc<dyn Layer>)],
        );
        let image = with_platform(image, platform.parse().unwrap());
        adds.push(
            IndexAddendum::image(image).with_annotation("org.example.seed", seed.to_string()),
        );
        layers.push(layer);
    }
    (append_manifests(empty_index(Family::Oci), adds), layers)
}

#[test]
fn an_index_built_in_memory_around_streaming_layers_is_written() {
    let (_dir, layout) = new_layout();
    let (index, layers) = streaming_two_platform_index();
    assert!(layers[0].digest().is_err(), "nothing streamed yet");
    let desc = layout.write_index(index.as_ref(), Some("multi")).unwrap();
    assert_eq!(desc.digest, index.digest().unwrap());
    let back = layout.index_by_ref("multi").unwrap();
    assert_eq!(back.raw_manifest().unwrap(), index.raw_manifest().unwrap());
    oci_partial::validate_index(back.as_ref(), ValidateOptions::default()).unwrap();
    let entries = back.index_manifest().unwrap().manifests;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].platform, Some("linux/amd64".parse().unwrap()));
    assert_eq!(entries[1].platform, Some("linux/arm64/v8".parse().unwrap()));
    assert_eq!(entries[1].annotations["org.example.seed"], "22");
    for l in layers {
        assert!(layout.has_blob(&l.digest().unwrap()).unwrap());
    }
}

#[test]
fn skopeo_copies_all_of_an_index_built_in_memory() {
    use std::process::Command;
    if !crate::common::have_tool("skopeo") {
        return;
    }
    let (dir, layout) = new_layout();
    let (index, _layers) = streaming_two_platform_index();
    layout.write_index(index.as_ref(), Some("multi")).unwrap();
    let src = format!("oci:{}:multi", layout.root().display());
    let raw = crate::common::run(Command::new("skopeo").args(["inspect", "--raw", &src]));
    assert_eq!(raw.as_bytes(), index.raw_manifest().unwrap());

    let copy = dir.path().join("copy");
    let dst = format!("oci:{}:multi", copy.display());
    crate::common::run(Command::new("skopeo").args(["copy", "-q", "--all", &src, &dst]));
    let copied = oci_layout::Layout::open(&copy)
        .unwrap()
        .index_by_ref("multi")
        .unwrap();
    assert_eq!(
        copied.raw_manifest().unwrap(),
        index.raw_manifest().unwrap()
    );
    oci_partial::validate_index(copied.as_ref(), ValidateOptions::default()).unwrap();

    let as_dir = dir.path().join("dir");
    let dst = format!("dir:{}", as_dir.display());
    crate::common::run(Command::new("skopeo").args(["copy", "-q", "--all", &src, &dst]));
    let manifest = std::fs::read(as_dir.join("manifest.json")).unwrap();
    assert_eq!(manifest, index.raw_manifest().unwrap());
}

#[test]
fn an_artifact_written_beside_its_subject_is_a_referrer() {
    use oci_partial::files::layer_from_bytes;
    use oci_partial::mutate::{artifact, Addendum};
    use oci_types::{Annotations, Compression};
    let (_dir, layout) = new_layout();
    let image = random::image(31, 1, 1000);
    let desc = layout.write_image(image.as_ref(), Some("app")).unwrap();
    let sig = layer_from_bytes(b"signature".to_vec()).with_compression(Compression::None, None);
    let art = artifact(
        MediaType::from("application/vnd.example.sig"),
        Some(Descriptor::new(
            desc.media_type.clone(),
            desc.digest.clone(),
            desc.size,
        )),
        vec![Addendum::new(Arc::new(sig))
            .with_media_type(MediaType::from("application/octet-stream"))],
        Annotations::new(),
    );
    layout.write_image(art.as_ref(), None).unwrap();
    let found = layout.referrers(&desc.digest).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].digest, art.digest().unwrap());
    assert_eq!(
        found[0].artifact_type,
        Some(MediaType::from("application/vnd.example.sig"))
    );
    assert!(layout.referrers(&art.digest().unwrap()).unwrap().is_empty());
    // Its index.json entry carries the artifactType too.
    let entry = layout
        .index()
        .unwrap()
        .manifests
        .iter()
        .find(|d| d.digest == found[0].digest)
        .cloned()
        .unwrap();
    assert_eq!(entry.artifact_type, found[0].artifact_type);
}
