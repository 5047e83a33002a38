//! The writer: byte-identical to skopeo, deterministic, deduplicating, one pass over
//! streaming layers, atomic.

use std::sync::Arc;

use oci_partial::{Image, Layer};
use oci_tarfile::{
    CountedImage, EntryKind, Error, InvalidTagKind, LayerStorage, Reader, Source, Writer,
    WriterOptions,
};
use oci_types::{Compression, Digest, MediaType, Reference};

use crate::common::*;

fn refs(tags: &[&str]) -> Vec<Reference> {
    tags.iter().map(|t| t.parse().unwrap()).collect()
}

#[test]
fn same_bytes_as_skopeo() {
    // skopeo copy oci:oci-layout:hello docker-archive:...:example.com/fixtures/hello:1.0
    let skopeo = read_fixture("docker-archive/skopeo-hello.tar");
    let dir = tempfile::tempdir().unwrap();

    // From the OCI image (gzip layers, decompressed on the way).
    let path = dir.path().join("from-oci.tar");
    let mut w = Writer::create(&path).unwrap();
    w.add_image(&hello_image(), &refs(&[HELLO_TAG])).unwrap();
    w.commit().unwrap();
    assert!(
        std::fs::read(&path).unwrap() == skopeo,
        "archive differs from skopeo's"
    );

    // From each fixture archive (docker save, podman, containerd's hybrid one).
    for (fixture_path, index) in [
        ("docker-archive/skopeo-hello.tar", 0),
        ("docker-archive/docker-save-hello.tar", 0),
        ("docker-archive/podman-save-two.tar", 0),
        ("hybrid/containerd-export-hello.tar", 0),
    ] {
        let source = Source::open(fixture(fixture_path), None, Some(index)).unwrap();
        let path = dir.path().join(fixture_path.replace('/', "-"));
        let mut w = Writer::create(&path).unwrap();
        w.add_image(&source, &refs(&[HELLO_TAG])).unwrap();
        w.commit().unwrap();
        assert!(
            std::fs::read(&path).unwrap() == skopeo,
            "rewriting {fixture_path} differs from skopeo's archive"
        );
    }
}

#[test]
fn two_images_shared_layer_once() {
    let reader =
        Arc::new(Reader::from_file(fixture("docker-archive/podman-save-two.tar")).unwrap());
    let hello = Source::new(Arc::clone(&reader), None, Some(0)).unwrap();
    let extra = Source::new(Arc::clone(&reader), None, Some(1)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.tar");
    let mut w = Writer::create(&path).unwrap();
    w.add_image(
        &hello,
        &refs(&[HELLO_TAG, "example.com/fixtures/hello:latest"]),
    )
    .unwrap();
    w.add_image(&extra, &refs(&[EXTRA_TAG])).unwrap();
    w.commit().unwrap();

    let ours = Reader::from_file(&path).unwrap();
    let shared = format!("{}.tar", &DIFF1[7..]);
    assert_eq!(
        ours.entries().iter().filter(|e| e.name == shared).count(),
        1
    );
    assert_eq!(ours.manifest().len(), 2);
    assert_eq!(
        ours.manifest()[0].repo_tags,
        [HELLO_TAG, "example.com/fixtures/hello:latest"]
    );
    // The same layout and metadata podman writes for these two images.
    let podman = read_fixture("docker-archive/podman-save-two.tar");
    let theirs = Reader::from_bytes(podman).unwrap();
    let names = |r: &Reader| {
        let mut v: Vec<_> = r
            .entries()
            .iter()
            .map(|e| (e.name.clone(), e.kind, e.size))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let (mut a, mut b) = (names(&ours), names(&theirs));
    // Only manifest.json and repositories differ (the extra tag).
    a.retain(|e| e.0 != "manifest.json" && e.0 != "repositories");
    b.retain(|e| e.0 != "manifest.json" && e.0 != "repositories");
    assert_eq!(a, b);
    let repos = ours
        .read_file("repositories", 1 << 20, "repositories")
        .unwrap();
    let repos: serde_json::Value = serde_json::from_slice(&repos).unwrap();
    assert_eq!(
        repos["example.com/fixtures/hello"]["latest"], repos["example.com/fixtures/hello"]["1.0"],
        "{repos}"
    );
    for (i, (want, src)) in [(HELLO_CONFIG, &hello), (EXTRA_CONFIG, &extra)]
        .into_iter()
        .enumerate()
    {
        let back = Source::new(Arc::new(Reader::from_file(&path).unwrap()), None, Some(i)).unwrap();
        assert_eq!(back.config_name().unwrap(), d(want));
        assert_eq!(back.manifest().unwrap(), src.manifest().unwrap());
    }
}

#[test]
fn deterministic_and_tags_qualified() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str| {
        let path = dir.path().join(name);
        let l1: Arc<dyn Layer> = Arc::new(MemLayer::gzip(layer_tar(&[("a", b"1")])));
        let l2: Arc<dyn Layer> = Arc::new(MemLayer::plain(layer_tar(&[("b", b"2")])));
        let img = MemImage::new(vec![l1, l2], "x");
        let mut w = Writer::create(&path).unwrap();
        w.add_image(&img, &refs(&["busybox", "localhost:5000/a/b:t"]))
            .unwrap();
        w.commit().unwrap();
        std::fs::read(path).unwrap()
    };
    let (a, b) = (write("a.tar"), write("b.tar"));
    assert!(a == b, "two writes of the same image differ");
    let r = Reader::from_bytes(a).unwrap();
    assert_eq!(
        r.manifest()[0].repo_tags,
        ["docker.io/library/busybox:latest", "localhost:5000/a/b:t"]
    );
    // Fixed order: layers, config, legacy metadata, manifest.json and repositories last.
    let names: Vec<&str> = r.entries().iter().map(|e| e.name.as_str()).collect();
    assert!(
        names[0].ends_with(".tar") && names[1].ends_with(".tar") && names[2].ends_with(".json"),
        "{names:?}"
    );
    assert_eq!(&names[names.len() - 2..], ["manifest.json", "repositories"]);
    assert!(r
        .entries()
        .iter()
        .all(|e| e.kind == EntryKind::File || e.kind == EntryKind::Symlink));
    // A digest reference cannot be a tag.
    let mut w = Writer::create(dir.path().join("c.tar")).unwrap();
    let by_digest: Reference = format!("busybox@{}", Digest::sha256(b"x")).parse().unwrap();
    let img = MemImage::new(vec![], "y");
    assert!(matches!(
        w.add_image(&img, &[by_digest]),
        Err(Error::InvalidTag {
            kind: InvalidTagKind::DigestReference,
            ..
        })
    ));
}

#[test]
fn streaming_layer_in_one_pass() {
    let tar1 = layer_tar(&[("big", &vec![7u8; 300_000]), ("small", b"x")]);
    let tar2 = layer_tar(&[("other", b"y")]);
    let s1 = Arc::new(StreamLayer::new(tar1.clone()));
    let opened = Arc::clone(&s1.opened);
    let plain: Arc<dyn Layer> = Arc::new(MemLayer::plain(tar2.clone()));
    let img = MemImage::new(vec![s1.clone() as Arc<dyn Layer>, plain], "stream");
    // Nothing is known before the stream is read.
    assert!(img.raw_config_file().is_err());
    assert!(s1.digest().is_err());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.tar");
    let mut w = Writer::create(&path).unwrap();
    w.add_image(&img, &refs(&["example.com/s:1"])).unwrap();
    w.commit().unwrap();
    assert_eq!(*opened.lock().unwrap(), 1, "the stream is opened once");

    let source = Source::open(&path, None, None).unwrap();
    let m = source.manifest().unwrap();
    assert_eq!(
        m.layers[0].digest,
        Digest::sha256(&tar1),
        "stored uncompressed, named by diff_id"
    );
    assert_eq!(m.layers[0].size, tar1.len() as u64);
    assert_eq!(m.layers[1].digest, Digest::sha256(&tar2));
    assert_eq!(
        source.config_file().unwrap().rootfs.diff_ids,
        [Digest::sha256(&tar1), Digest::sha256(&tar2)]
    );
    assert_eq!(s1.diff_id().unwrap(), Digest::sha256(&tar1));
    let (bytes, _) = drain(source.blob(&Digest::sha256(&tar1)).unwrap()).unwrap();
    assert!(bytes == tar1);
}

#[test]
fn layers_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("asis.tar");
    let gz = MemLayer::gzip(layer_tar(&[("a", b"1")]));
    let zs_plain = layer_tar(&[("z", b"2")]);
    let zs = MemLayer {
        blob: zstd::encode_all(&zs_plain[..], 3).unwrap(),
        plain: zs_plain,
        media_type: MediaType::OciLayerZstd,
    };
    let stream = StreamLayer::new(layer_tar(&[("s", b"3")]));
    let (gz_digest, zs_digest) = (gz.digest().unwrap(), zs.digest().unwrap());
    let img = MemImage::new(vec![Arc::new(gz), Arc::new(zs), Arc::new(stream)], "asis");
    let mut w =
        Writer::with_options(&path, WriterOptions::new().layers(LayerStorage::AsIs)).unwrap();
    w.add_image(&img, &refs(&["example.com/asis:1"])).unwrap();
    w.commit().unwrap();
    let source = Source::open(&path, None, None).unwrap();
    assert!(source.manifest_item().layers[0].ends_with(".tar.gz"));
    assert!(source.manifest_item().layers[1].ends_with(".tar.zst"));
    let m = source.manifest().unwrap();
    assert_eq!(m.layers[0].digest, gz_digest);
    assert_eq!(m.layers[0].media_type, MediaType::DockerLayerGzip);
    assert_eq!(m.layers[1].digest, zs_digest);
    assert_eq!(
        m.layers[1].media_type.compression(),
        Some(Compression::Zstd)
    );
    assert_eq!(m.layers[2].media_type, MediaType::DockerLayerGzip);
    for l in source.layers().unwrap() {
        assert_eq!(
            drain(l.uncompressed().unwrap()).unwrap().1,
            l.diff_id().unwrap()
        );
        assert_eq!(
            drain(l.compressed().unwrap()).unwrap().1,
            l.digest().unwrap()
        );
    }
}

#[test]
fn target_rules_and_atomic_commit() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("existing.tar");
    std::fs::write(&existing, b"data").unwrap();
    assert!(matches!(
        Writer::create(&existing),
        Err(Error::ExistingFile { .. })
    ));
    assert!(matches!(
        Writer::create(dir.path()),
        Err(Error::ExistingFile { .. })
    ));
    assert_eq!(std::fs::read(&existing).unwrap(), b"data");

    // An empty file (from mktemp, say) is fine.
    let empty = dir.path().join("empty.tar");
    std::fs::write(&empty, b"").unwrap();
    let mut w = Writer::create(&empty).unwrap();
    w.add_image(&hello_image(), &refs(&[HELLO_TAG])).unwrap();
    // Before the commit the target is not an archive...
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
    w.commit().unwrap();
    // ...after it, it is.
    assert!(Source::open(&empty, None, None).is_ok());

    // A writer dropped without commit leaves nothing.
    let never = dir.path().join("never.tar");
    let mut w = Writer::create(&never).unwrap();
    w.add_image(&hello_image(), &refs(&[HELLO_TAG])).unwrap();
    drop(w);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn diff_ids_must_match_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let layer = layer_tar(&[("a", b"1")]);
    let wrong = Digest::sha256(b"something else");
    let img = MemImage::with_config(
        vec![Arc::new(MemLayer::plain(layer.clone()))],
        config_for(&[&wrong]),
    );
    let mut w = Writer::create(dir.path().join("x.tar")).unwrap();
    let err = w.add_image(&img, &refs(&["a:1"])).unwrap_err();
    assert!(
        matches!(err.digests(), Some((expected, _)) if *expected == wrong),
        "{err}"
    );
    let img = MemImage::with_config(vec![Arc::new(MemLayer::plain(layer))], config_for(&[]));
    assert!(matches!(
        w.add_image(&img, &refs(&["a:1"])),
        Err(Error::LayerCountMismatch {
            image: CountedImage::Written,
            layers: 1,
            diff_ids: 0,
            ..
        })
    ));
}

#[test]
fn types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Reader>();
    check::<Source>();
    check::<Writer>();
    check::<oci_tarfile::Destination<'static>>();
    check::<oci_tarfile::Error>();
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn files() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
        proptest::collection::vec(
            (
                "[a-z]{1,12}",
                proptest::collection::vec(any::<u8>(), 0..3000),
            ),
            1..4,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Whatever images and tags go in come back out: configs byte for byte, layers by
        /// diff_id, tags fully qualified; and the same input gives the same bytes.
        #[test]
        fn write_read_round_trip(
            images in proptest::collection::vec((proptest::collection::vec((files(), 0u8..3), 0..4), proptest::collection::vec("[a-z]{1,8}(:[a-z0-9]{1,5})?", 0..3)), 1..4),
            as_is in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let storage = if as_is { LayerStorage::AsIs } else { LayerStorage::Uncompressed };
            let mut built = Vec::new();
            for (n, (layers, tags)) in images.iter().enumerate() {
                let mut ls: Vec<Arc<dyn Layer>> = Vec::new();
                let mut plains = Vec::new();
                for (files, kind) in layers {
                    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, c)| (n.as_str(), c.as_slice())).collect();
                    let tar = layer_tar(&refs);
                    plains.push(tar.clone());
                    ls.push(match kind {
                        0 => Arc::new(MemLayer::plain(tar)),
                        1 => Arc::new(MemLayer::gzip(tar)),
                        _ => Arc::new(StreamLayer::new(tar)),
                    });
                }
                let img = MemImage::new(ls, &format!("image{n}"));
                let tags: Vec<Reference> = tags.iter().map(|t| t.parse().unwrap()).collect();
                built.push((img, tags, plains));
            }
            let path = dir.path().join("p.tar");
            let mut w = Writer::with_options(&path, WriterOptions::new().layers(storage)).unwrap();
            for (img, tags, _) in &built {
                w.add_image(img, tags).unwrap();
            }
            w.commit().unwrap();

            let reader = Arc::new(Reader::from_file(&path).unwrap());
            prop_assert_eq!(reader.manifest().len(), built.len());
            for (i, (img, tags, plains)) in built.iter().enumerate() {
                let s = Source::new(Arc::clone(&reader), None, Some(i)).unwrap();
                prop_assert_eq!(s.raw_config_file().unwrap(), img.raw_config_file().unwrap());
                let diff_ids = s.config_file().unwrap().rootfs.diff_ids;
                for (d, plain) in diff_ids.iter().zip(plains) {
                    let (bytes, _) = drain(s.blob(d).unwrap()).unwrap();
                    prop_assert!(&bytes == plain);
                }
                // Every layer's stored bytes match the manifest's descriptors.
                for l in s.manifest().unwrap().layers {
                    let (bytes, got) = drain(s.blob(&l.digest).unwrap()).unwrap();
                    prop_assert_eq!((got, bytes.len() as u64), (l.digest.clone(), l.size));
                }
                // Tags: fully qualified, each on the last image that claimed it.
                for t in tags {
                    let owner = built.iter().rposition(|(_, ts, _)| ts.iter().any(|x| x.name() == t.name() && x.tag().unwrap_or("latest") == t.tag().unwrap_or("latest")));
                    if owner == Some(i) {
                        let want = format!("{}:{}", t.name(), t.tag().unwrap_or("latest"));
                        prop_assert!(reader.manifest()[i].repo_tags.contains(&want), "{want} on image {i}");
                    }
                }
            }
        }
    }
}

#[test]
fn replace_swaps_the_archive_only_when_complete_and_sweeps_what_killed_writers_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    std::fs::write(&path, b"the old archive").unwrap();
    // Without `replace`, an existing archive is refused.
    assert!(matches!(
        Writer::create(&path),
        Err(Error::ExistingFile { .. })
    ));

    // What a killed writer left (nobody holds its lock), and what a live one holds.
    let stale = dir.path().join(".image.tar.Ab3xY9.tmp");
    std::fs::write(&stale, b"half an archive").unwrap();
    let live = dir.path().join(".image.tar.Zz9Zz9.tmp");
    let held = std::fs::File::create(&live).unwrap();
    held.lock().unwrap();
    // Names that are not a writer's temporary file are never touched.
    let other = dir.path().join(".image.tar.notours.tmp");
    std::fs::write(&other, b"x").unwrap();

    let mut w = Writer::with_options(&path, WriterOptions::new().replace(true)).unwrap();
    assert!(!stale.exists(), "the stale temporary file is still there");
    assert!(live.exists() && other.exists());
    w.add_image(&hello_image(), &refs(&[HELLO_TAG])).unwrap();
    // Until the commit, the old archive is what readers see.
    assert_eq!(std::fs::read(&path).unwrap(), b"the old archive");
    w.commit().unwrap();
    let reader = Reader::from_file(&path).unwrap();
    assert_eq!(reader.manifest()[0].repo_tags, [HELLO_TAG]);

    // A writer dropped before its commit leaves neither the archive changed nor its file.
    let before = std::fs::read(&path).unwrap();
    let w = Writer::with_options(&path, WriterOptions::new().replace(true)).unwrap();
    drop(w);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    drop(held);
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            ".image.tar.Zz9Zz9.tmp",
            ".image.tar.notours.tmp",
            "image.tar"
        ]
    );
}
