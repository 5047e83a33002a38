//! Reading archives real tools wrote (the shared fixtures), checked against the digests in
//! the fixtures' README and, where skopeo is installed, against `skopeo inspect`.

use std::process::Command;
use std::sync::Arc;

use oci_partial::Image;
use oci_tarfile::{EntryKind, Error, Reader, Source};
use oci_types::{Digest, MediaType, Reference};

use crate::common::*;

/// What one image of an archive must look like.
struct Expected {
    config: &'static str,
    config_size: u64,
    /// (stored digest, stored size, media type, diff_id)
    layers: Vec<(&'static str, u64, MediaType, &'static str)>,
}

fn hello_uncompressed() -> Expected {
    Expected {
        config: HELLO_CONFIG,
        config_size: HELLO_CONFIG_SIZE,
        layers: vec![
            (DIFF1, DIFF1_SIZE, MediaType::DockerLayer, DIFF1),
            (DIFF2, DIFF2_SIZE, MediaType::DockerLayer, DIFF2),
        ],
    }
}

fn extra_uncompressed() -> Expected {
    Expected {
        config: EXTRA_CONFIG,
        config_size: EXTRA_CONFIG_SIZE,
        layers: vec![
            (DIFF1, DIFF1_SIZE, MediaType::DockerLayer, DIFF1),
            (
                EXTRA_DIFF2,
                EXTRA_DIFF2_SIZE,
                MediaType::DockerLayer,
                EXTRA_DIFF2,
            ),
        ],
    }
}

/// Checks the manifest, config, diff_ids, and streams every blob by digest and by diff_id.
fn check(source: &Source, want: &Expected) {
    let m = source.manifest().unwrap();
    assert_eq!(m.media_type, Some(MediaType::DockerManifest));
    assert_eq!(m.config.media_type, MediaType::DockerConfig);
    assert_eq!(m.config.digest, d(want.config));
    assert_eq!(m.config.size, want.config_size);
    assert_eq!(source.config_name().unwrap(), d(want.config));
    assert_eq!(m.layers.len(), want.layers.len());
    let config = source.config_file().unwrap();
    for (i, (l, (digest, size, mt, diff_id))) in m.layers.iter().zip(&want.layers).enumerate() {
        assert_eq!(l.digest, d(digest), "layer {i}");
        assert_eq!(l.size, *size, "layer {i}");
        assert_eq!(&l.media_type, mt, "layer {i}");
        assert_eq!(config.rootfs.diff_ids[i], d(diff_id), "layer {i}");
        // As stored, by digest.
        let (bytes, got) = drain(source.blob(&l.digest).unwrap()).unwrap();
        assert_eq!(
            (got, bytes.len() as u64),
            (d(digest), *size),
            "layer {i} blob"
        );
        // Uncompressed, by diff_id.
        let (_, got) = drain(source.blob(&d(diff_id)).unwrap()).unwrap();
        assert_eq!(got, d(diff_id), "layer {i} by diff_id");
        // Through the Layer trait.
        let layer = source.layer_by_diff_id(&d(diff_id)).unwrap();
        assert_eq!(layer.digest().unwrap(), d(digest));
        assert_eq!(drain(layer.compressed().unwrap()).unwrap().1, d(digest));
        assert_eq!(drain(layer.uncompressed().unwrap()).unwrap().1, d(diff_id));
        assert_eq!(
            source
                .layer_by_digest(&d(digest))
                .unwrap()
                .diff_id()
                .unwrap(),
            d(diff_id)
        );
    }
    let (cfg, got) = drain(source.blob(&d(want.config)).unwrap()).unwrap();
    assert_eq!((got, cfg.len() as u64), (d(want.config), want.config_size));
    assert_eq!(source.raw_config_file().unwrap(), cfg);
    // The manifest is built once: its bytes and digest are stable.
    assert_eq!(
        source.raw_manifest().unwrap(),
        source.raw_manifest().unwrap()
    );
    assert_eq!(
        source.digest().unwrap(),
        Digest::sha256(&source.raw_manifest().unwrap())
    );
    let unknown = Digest::sha256(b"not in the image");
    assert!(matches!(
        source.blob(&unknown),
        Err(Error::BlobNotFound { .. })
    ));
}

/// Compares with `skopeo inspect --raw` / `--config` of the same image: config digest, and
/// for every layer the diff_id (skopeo describes layers by diff_id) and, for uncompressed
/// layers, the digest.
fn check_with_skopeo(source: &Source, transport_ref: &str) {
    let Some(skopeo) = tool("skopeo") else { return };
    let raw = run(Command::new(&skopeo).args(["inspect", "--raw", transport_ref]));
    let theirs: oci_types::Manifest = serde_json::from_slice(&raw).unwrap();
    let config = run(Command::new(&skopeo).args(["inspect", "--config", "--raw", transport_ref]));
    let ours = source.manifest().unwrap();
    assert_eq!(theirs.config.digest, ours.config.digest, "{transport_ref}");
    assert_eq!(
        Digest::sha256(&config),
        ours.config.digest,
        "{transport_ref}: config bytes"
    );
    let diff_ids = source.config_file().unwrap().rootfs.diff_ids;
    for (i, (t, o)) in theirs.layers.iter().zip(&ours.layers).enumerate() {
        assert_eq!(
            t.digest, diff_ids[i],
            "{transport_ref} layer {i}: skopeo's digest is the diff_id"
        );
        if o.media_type == MediaType::DockerLayer {
            assert_eq!(t.digest, o.digest, "{transport_ref} layer {i}");
            assert_eq!(t.size, o.size, "{transport_ref} layer {i}");
        }
    }
    assert_eq!(theirs.layers.len(), ours.layers.len());
}

#[test]
fn skopeo_archive() {
    let path = fixture("docker-archive/skopeo-hello.tar");
    let reader = Arc::new(Reader::from_file(&path).unwrap());
    assert_eq!(reader.manifest().len(), 1);
    assert_eq!(reader.manifest()[0].repo_tags, [HELLO_TAG]);
    // Legacy `<id>/layer.tar` entries are symlinks to the layer files.
    assert!(reader
        .entries()
        .iter()
        .any(|e| e.kind == EntryKind::Symlink && e.name.ends_with("/layer.tar")));
    let by_tag = Source::new(Arc::clone(&reader), Some(&HELLO_TAG.parse().unwrap()), None).unwrap();
    check(&by_tag, &hello_uncompressed());
    check(
        &Source::new(Arc::clone(&reader), None, None).unwrap(),
        &hello_uncompressed(),
    );
    check(
        &Source::new(reader, None, Some(0)).unwrap(),
        &hello_uncompressed(),
    );
    check_with_skopeo(&by_tag, &format!("docker-archive:{}", path.display()));
}

#[test]
fn docker_save_archive() {
    let path = fixture("docker-archive/docker-save-hello.tar");
    let source = Source::open(&path, None, None).unwrap();
    // docker save: layers are `<v1 id>/layer.tar` regular files, with directory entries.
    assert!(source
        .manifest_item()
        .layers
        .iter()
        .all(|l| l.ends_with("/layer.tar")));
    assert!(source
        .reader()
        .entries()
        .iter()
        .any(|e| e.kind == EntryKind::Directory));
    check(&source, &hello_uncompressed());
    check_with_skopeo(&source, &format!("docker-archive:{}", path.display()));
}

#[test]
fn podman_two_images() {
    let path = fixture("docker-archive/podman-save-two.tar");
    let reader = Arc::new(Reader::from_file(&path).unwrap());
    assert_eq!(reader.manifest().len(), 2);
    assert!(matches!(
        Source::new(Arc::clone(&reader), None, None),
        Err(Error::AmbiguousImage { count: 2 })
    ));
    let hello = Source::new(Arc::clone(&reader), Some(&HELLO_TAG.parse().unwrap()), None).unwrap();
    let extra = Source::new(Arc::clone(&reader), Some(&EXTRA_TAG.parse().unwrap()), None).unwrap();
    assert_eq!((hello.index(), extra.index()), (0, 1));
    check(&hello, &hello_uncompressed());
    check(&extra, &extra_uncompressed());
    check(
        &Source::new(Arc::clone(&reader), None, Some(1)).unwrap(),
        &extra_uncompressed(),
    );
    // The shared layer is one file in the archive.
    let n = reader
        .entries()
        .iter()
        .filter(|e| e.name == format!("{}.tar", &DIFF1[7..]))
        .count();
    assert_eq!(n, 1);
    let missing: Reference = "example.com/fixtures/hello:2.0".parse().unwrap();
    let err = Source::new(Arc::clone(&reader), Some(&missing), None).unwrap_err();
    assert!(
        matches!(&err, Error::TagNotFound { reference } if reference == "example.com/fixtures/hello:2.0"),
        "{err}"
    );
    assert!(matches!(
        Source::new(Arc::clone(&reader), Some(&missing), Some(0)),
        Err(Error::ReferenceAndIndex)
    ));
    assert!(matches!(
        Source::new(reader, None, Some(2)),
        Err(Error::IndexOutOfRange { index: 2, count: 2 })
    ));
    check_with_skopeo(
        &extra,
        &format!("docker-archive:{}:{EXTRA_TAG}", path.display()),
    );
    check_with_skopeo(
        &hello,
        &format!("docker-archive:{}:{HELLO_TAG}", path.display()),
    );
}

#[test]
fn hybrid_containerd_archive() {
    let path = fixture("hybrid/containerd-export-hello.tar");
    let reader = Arc::new(Reader::from_file(&path).unwrap());
    // The OCI layout inside is there too.
    for name in ["oci-layout", "index.json"] {
        assert!(reader.entries().iter().any(|e| e.name == name), "{name}");
    }
    let source = Source::new(reader, None, None).unwrap();
    let want = Expected {
        config: HELLO_CONFIG,
        config_size: HELLO_CONFIG_SIZE,
        layers: vec![
            (GZ1, GZ1_SIZE, MediaType::DockerLayerGzip, DIFF1),
            (GZ2, GZ2_SIZE, MediaType::DockerLayerGzip, DIFF2),
        ],
    };
    check(&source, &want);
    check_with_skopeo(&source, &format!("docker-archive:{}", path.display()));
}

#[test]
fn short_tags_match_normalised() {
    // A RepoTags entry in docker's short form matches the fully qualified reference, and the
    // other way round.
    let layer = layer_tar(&[("a", b"1")]);
    let diff = Digest::sha256(&layer);
    let config = config_for(&[&diff]);
    let manifest =
        br#"[{"Config":"c.json","RepoTags":["busybox:latest","quay.io/x/y"],"Layers":["l.tar"]}]"#;
    let tar = TarBuilder::new()
        .file("l.tar", &layer)
        .file("c.json", &config)
        .file("manifest.json", manifest)
        .finish();
    let reader = Arc::new(Reader::from_bytes(tar).unwrap());
    for r in [
        "docker.io/library/busybox:latest",
        "busybox",
        "quay.io/x/y:latest",
    ] {
        let r: Reference = r.parse().unwrap();
        assert!(reader.choose_manifest_item(Some(&r), None).is_ok(), "{r}");
    }
    let other: Reference = "busybox:1".parse().unwrap();
    assert!(matches!(
        reader.choose_manifest_item(Some(&other), None),
        Err(Error::TagNotFound { .. })
    ));
}

#[test]
fn compressed_archives_are_spooled() {
    let plain = read_fixture("docker-archive/skopeo-hello.tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &plain).unwrap();
    let gz = gz.finish().unwrap();
    let zst = zstd::encode_all(&plain[..], 3).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("gz", gz), ("zst", zst)] {
        // From a stream, spooled in `dir`: nothing is left there, even while the reader lives.
        let reader = Reader::from_stream_in(&bytes[..], dir.path()).unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{name}: the spool has no name"
        );
        check(
            &Source::new(Arc::new(reader), None, None).unwrap(),
            &hello_uncompressed(),
        );
        // From a file.
        let path = dir.path().join(format!("archive.tar.{name}"));
        std::fs::write(&path, &bytes).unwrap();
        check(
            &Source::open(&path, None, None).unwrap(),
            &hello_uncompressed(),
        );
        std::fs::remove_file(&path).unwrap();
        // From memory.
        check(
            &Source::new(Arc::new(Reader::from_bytes(bytes).unwrap()), None, None).unwrap(),
            &hello_uncompressed(),
        );
    }
}

#[test]
fn docker25_hybrid_shape_uncompressed_blobs() {
    // Docker 25 and later: an OCI layout inside, manifest.json pointing into blobs/, layers
    // stored uncompressed under their digest.
    let layer = layer_tar(&[("etc/hostname", b"box\n")]);
    let diff = Digest::sha256(&layer);
    let config = config_for(&[&diff]);
    let cfg = Digest::sha256(&config);
    let manifest = format!(
        r#"[{{"Config":"blobs/sha256/{}","RepoTags":["docker.io/library/box:latest"],"Layers":["blobs/sha256/{}"]}}]"#,
        cfg.encoded(),
        diff.encoded()
    );
    let archive = TarBuilder::new()
        .dir("blobs/")
        .dir("blobs/sha256/")
        .file(&format!("blobs/sha256/{}", diff.encoded()), &layer)
        .file(&format!("blobs/sha256/{}", cfg.encoded()), &config)
        .file("index.json", br#"{"schemaVersion":2,"manifests":[]}"#)
        .file("manifest.json", manifest.as_bytes())
        .file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)
        .finish();
    let reader = Arc::new(Reader::from_bytes(archive).unwrap());
    let source = Source::new(reader, Some(&"box".parse().unwrap()), None).unwrap();
    let m = source.manifest().unwrap();
    assert_eq!(m.config.digest, cfg);
    assert_eq!(
        (m.layers[0].digest.clone(), m.layers[0].media_type.clone()),
        (diff.clone(), MediaType::DockerLayer)
    );
    assert_eq!(drain(source.blob(&diff).unwrap()).unwrap().0, layer);
}

#[test]
fn layer_sources_descriptor_is_used() {
    // docker save of an image with a foreign (Windows base) layer: the archive holds the
    // layer's tar, and LayerSources describes the blob the registry serves.
    let layer = layer_tar(&[("Files/x", b"x")]);
    let diff = Digest::sha256(&layer);
    let foreign = Digest::sha256(b"the foreign blob");
    let config = config_for(&[&diff]);
    let manifest = format!(
        r#"[{{"Config":"c.json","RepoTags":[],"Layers":["l/layer.tar"],"LayerSources":{{"{diff}":{{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","size":1234,"digest":"{foreign}","urls":["https://example.com/base"]}}}}}}]"#
    );
    let archive = TarBuilder::new()
        .file("l/layer.tar", &layer)
        .file("c.json", &config)
        .file("manifest.json", manifest.as_bytes())
        .finish();
    let source = Source::new(Arc::new(Reader::from_bytes(archive).unwrap()), None, None).unwrap();
    let l = &source.manifest().unwrap().layers[0];
    assert_eq!(l.media_type, MediaType::DockerForeignLayerGzip);
    assert_eq!((l.digest.clone(), l.size), (foreign.clone(), 1234));
    assert_eq!(l.urls, ["https://example.com/base"]);
    let layer_obj = &source.layers().unwrap()[0];
    assert_eq!(layer_obj.descriptor().unwrap(), *l);
    // The tar is there, by diff_id; the foreign blob is not.
    assert_eq!(drain(layer_obj.uncompressed().unwrap()).unwrap().0, layer);
    assert!(drain(layer_obj.compressed().unwrap()).is_err());
}
