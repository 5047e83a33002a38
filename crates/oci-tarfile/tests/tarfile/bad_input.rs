//! Bad input: each gets its typed error, nothing panics.

use std::sync::Arc;

use oci_partial::Image;
use oci_tarfile::limits::MAX_MANIFEST_JSON_SIZE;
use oci_tarfile::{CountedImage, Error, InvalidTagKind, Reader, Source};
use oci_types::{Digest, ReferenceErrorKind};
use proptest::prelude::*;

use crate::common::*;

/// An archive with one image whose single layer is at `layer_path`, plus `extra` entries.
fn one_image(layer_path: &str, build: impl FnOnce(TarBuilder, &[u8]) -> TarBuilder) -> Vec<u8> {
    let layer = layer_tar(&[("f", b"content")]);
    let config = config_for(&[&Digest::sha256(&layer)]);
    let manifest =
        format!(r#"[{{"Config":"c.json","RepoTags":["a:1"],"Layers":["{layer_path}"]}}]"#);
    build(TarBuilder::new(), &layer)
        .file("c.json", &config)
        .file("manifest.json", manifest.as_bytes())
        .finish()
}

fn open(archive: Vec<u8>) -> Result<Source, Error> {
    Source::new(Arc::new(Reader::from_bytes(archive)?), None, None)
}

#[test]
fn truncated_archive() {
    let full = read_fixture("docker-archive/skopeo-hello.tar");
    // Inside a header, inside layer data, inside the config, inside manifest.json.
    for cut in [100, 600, 3000, 10300, 16900] {
        let err = Reader::from_bytes(full[..cut].to_vec()).unwrap_err();
        assert!(
            matches!(err, Error::Truncated { .. }),
            "cut at {cut}: {err}"
        );
    }
    // Cut at a block boundary before manifest.json: a clean end, no manifest.
    assert!(matches!(
        Reader::from_bytes(full[..16384].to_vec()),
        Err(Error::MissingManifest)
    ));
    // The same through a file and through a gzip stream.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.tar");
    std::fs::write(&path, &full[..3000]).unwrap();
    assert!(matches!(
        Reader::from_file(&path),
        Err(Error::Truncated { .. })
    ));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &full).unwrap();
    let gz = gz.finish().unwrap();
    assert!(Reader::from_stream(&gz[..gz.len() / 2]).is_err());
}

#[test]
fn escaping_layer_path() {
    for path in ["../l.tar", "/l.tar", "a/../../l.tar"] {
        let err = open(one_image(path, |b, l| b.file("l.tar", l))).unwrap_err();
        assert!(matches!(err, Error::PathEscape { .. }), "{path}: {err}");
    }
    // Through a symlink that leaves the archive.
    let err = open(one_image("x/layer.tar", |b, l| {
        b.file("l.tar", l).symlink("x/layer.tar", "../../l.tar")
    }))
    .unwrap_err();
    assert!(matches!(err, Error::PathEscape { .. }), "{err}");
    let err = open(one_image("x/layer.tar", |b, l| {
        b.file("l.tar", l).symlink("x/layer.tar", "/l.tar")
    }))
    .unwrap_err();
    assert!(matches!(err, Error::PathEscape { .. }), "{err}");
}

#[test]
fn links_inside_are_followed() {
    // `./` prefixes, a symlink and a hard link chain (duplicate layers stored once).
    let s = open(one_image("./x/layer.tar", |b, l| {
        b.file("./l.tar", l)
            .hardlink("h.tar", "l.tar")
            .symlink("x/layer.tar", "../h.tar")
    }))
    .unwrap();
    let layer = &s.layers().unwrap()[0];
    assert_eq!(
        drain(layer.uncompressed().unwrap()).unwrap().1,
        layer.diff_id().unwrap()
    );
}

#[test]
fn symlink_loop() {
    let err = open(one_image("a", |b, l| {
        b.file("l.tar", l).symlink("a", "b").symlink("b", "c/../a")
    }))
    .unwrap_err();
    assert!(matches!(err, Error::LinkLoop { .. }), "{err}");
    let err = open(one_image("a", |b, l| b.file("l.tar", l).hardlink("a", "a"))).unwrap_err();
    assert!(matches!(err, Error::LinkLoop { .. }), "{err}");
    // A long chain is refused too.
    let err = open(one_image("h0", |mut b, l| {
        b = b.file("l.tar", l);
        for i in 0..40 {
            b = b.symlink(&format!("h{i}"), &format!("h{}", i + 1));
        }
        b.symlink("h40", "l.tar")
    }))
    .unwrap_err();
    assert!(matches!(err, Error::LinkLoop { .. }), "{err}");
}

#[test]
fn missing_layer() {
    let err = open(one_image("nope.tar", |b, l| b.file("l.tar", l))).unwrap_err();
    assert!(
        matches!(&err, Error::MissingEntry { path, referrer: Some(_) } if path == "nope.tar"),
        "{err}"
    );
    // A dangling symlink.
    let err = open(one_image("x", |b, l| {
        b.file("l.tar", l).symlink("x", "gone.tar")
    }))
    .unwrap_err();
    assert!(
        matches!(&err, Error::MissingEntry { path, .. } if path == "gone.tar"),
        "{err}"
    );
    // A directory where a layer should be.
    let err = open(one_image("d", |b, l| b.file("l.tar", l).dir("d/"))).unwrap_err();
    assert!(matches!(err, Error::NotAFile { .. }), "{err}");
    // Layer count not matching the config.
    let layer = layer_tar(&[("f", b"x")]);
    let config = config_for(&[]);
    let archive = TarBuilder::new()
        .file("l.tar", &layer)
        .file("c.json", &config)
        .file(
            "manifest.json",
            br#"[{"Config":"c.json","RepoTags":[],"Layers":["l.tar"]}]"#,
        )
        .finish();
    assert!(matches!(
        open(archive),
        Err(Error::LayerCountMismatch {
            image: CountedImage::ArchiveItem { index: 0 },
            layers: 1,
            diff_ids: 0,
            ..
        })
    ));
}

#[test]
fn duplicated_entry() {
    let err = open(one_image("l.tar", |b, l| {
        b.file("l.tar", l).file("./l.tar", b"evil")
    }))
    .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateEntry { path } if path == "l.tar"),
        "{err}"
    );
    // Repeated directory entries are harmless and accepted.
    assert!(open(one_image("l.tar", |b, l| b
        .dir("d/")
        .dir("./d")
        .file("l.tar", l)))
    .is_ok());
}

#[test]
fn layer_bytes_do_not_match_the_digest() {
    let layer = layer_tar(&[("f", b"content")]);
    let other = layer_tar(&[("f", b"CONTENT")]);
    // The config promises `layer`; the archive holds `other`.
    let config = config_for(&[&Digest::sha256(&layer)]);
    let archive = TarBuilder::new()
        .file("l.tar", &other)
        .file("c.json", &config)
        .file(
            "manifest.json",
            br#"[{"Config":"c.json","RepoTags":[],"Layers":["l.tar"]}]"#,
        )
        .finish();
    let source = open(archive).unwrap();
    let err = source.manifest_bytes().unwrap_err();
    assert!(
        matches!(err.digests(), Some((_, actual)) if *actual == Digest::sha256(&other)),
        "{err}"
    );
    // Streaming it fails at the end, with the digest mismatch.
    let err = drain(source.blob(&Digest::sha256(&layer)).unwrap()).unwrap_err();
    assert!(matches!(
        oci_types::Error::from_io(err),
        oci_types::Error::DigestMismatch { .. }
    ));
    let layer_obj = &source.layers().unwrap()[0];
    let err = drain(layer_obj.compressed().unwrap()).unwrap_err();
    assert!(matches!(
        oci_types::Error::from_io(err),
        oci_types::Error::DigestMismatch { .. }
    ));
    // Through the Image trait the error is this crate's, inside `Source`.
    let err = source.raw_manifest().unwrap_err();
    let inner = match err {
        oci_partial::Error::Source(e) => e,
        other => panic!("{other}"),
    };
    assert!(matches!(
        inner.downcast_ref::<Error>(),
        Some(Error::DigestMismatch { .. })
    ));

    // A gzip layer whose content is not the diff_id fails when read uncompressed.
    let gz = MemLayer::gzip(other.clone()).blob;
    let archive = TarBuilder::new()
        .file("l.tar.gz", &gz)
        .file("c.json", &config)
        .file(
            "manifest.json",
            br#"[{"Config":"c.json","RepoTags":[],"Layers":["l.tar.gz"]}]"#,
        )
        .finish();
    let source = open(archive).unwrap();
    assert_eq!(
        source.manifest().unwrap().layers[0].digest,
        Digest::sha256(&gz)
    );
    assert!(drain(source.blob(&Digest::sha256(&layer)).unwrap()).is_err());
}

#[test]
fn oversized_documents() {
    let mut big = b"[".to_vec();
    big.resize(MAX_MANIFEST_JSON_SIZE as usize + 10, b' ');
    big.push(b']');
    let archive = TarBuilder::new().file("manifest.json", &big).finish();
    let err = Reader::from_bytes(archive).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooLarge {
                what: "manifest.json",
                ..
            }
        ),
        "{err}"
    );
    // A config over its cap.
    let mut config = b"{".to_vec();
    config.resize(oci_tarfile::limits::MAX_CONFIG_SIZE as usize + 1, b' ');
    config.push(b'}');
    let archive = TarBuilder::new()
        .file("c.json", &config)
        .file("manifest.json", br#"[{"Config":"c.json","Layers":[]}]"#)
        .finish();
    assert!(matches!(
        open(archive),
        Err(Error::TooLarge { what: "config", .. })
    ));
    // Deeply nested JSON.
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let archive = TarBuilder::new()
        .file("manifest.json", deep.as_bytes())
        .finish();
    assert!(matches!(
        Reader::from_bytes(archive),
        Err(Error::Types { .. })
    ));
}

#[test]
fn other_bad_archives() {
    // Not a tar at all.
    assert!(matches!(
        Reader::from_bytes(vec![b'x'; 1024]),
        Err(Error::BadHeader { .. })
    ));
    assert!(matches!(
        Reader::from_bytes(Vec::new()),
        Err(Error::MissingManifest)
    ));
    // bzip2 is detected and refused.
    assert!(matches!(
        Reader::from_bytes(b"BZh91AY&SY".to_vec()),
        Err(Error::UnsupportedCompression { .. })
    ));
    // An empty image list.
    let archive = TarBuilder::new().file("manifest.json", b"[]").finish();
    assert!(matches!(open(archive), Err(Error::NoImages)));
    // An invalid RepoTags entry is reported when tags are compared.
    let archive = TarBuilder::new()
        .file(
            "manifest.json",
            br#"[{"Config":"c","RepoTags":["UPPER:1"],"Layers":[]}]"#,
        )
        .finish();
    let r = Reader::from_bytes(archive).unwrap();
    assert!(matches!(
        r.choose_manifest_item(Some(&"a:1".parse().unwrap()), None),
        Err(Error::InvalidTag {
            kind: InvalidTagKind::Reference(e),
            ..
        }) if matches!(
            *e,
            oci_types::Error::InvalidReference {
                kind: ReferenceErrorKind::NameContainsUppercase,
                ..
            }
        )
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any corruption of a real archive gives a result or an error, never a panic; whatever
    /// opens can be read through to the end.
    #[test]
    fn corrupted_archives_never_panic(flips in proptest::collection::vec((0usize..19456, any::<u8>()), 1..8)) {
        let mut bytes = read_fixture("docker-archive/skopeo-hello.tar");
        for (at, b) in flips {
            bytes[at] = b;
        }
        if let Ok(s) = open(bytes) {
            if let Ok(m) = s.manifest() {
                for l in m.layers {
                    if let Ok(r) = s.blob(&l.digest) {
                        let _ = drain(r);
                    }
                }
            }
        }
    }
}
