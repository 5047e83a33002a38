//! Reading images back: by ref, digest and platform; verification of what is read.

use oci_layout::Error;
use oci_partial::{random, validate_image, ValidateOptions};
use oci_types::{Descriptor, Digest, MediaType};

use crate::common::{corrupt_blob, new_layout, read_all};

#[test]
fn lookups_by_ref_digest_and_platform() {
    let (_dir, layout) = new_layout();
    let index = random::index(8, 3, 1, 200); // linux/amd64, linux/arm64/v8, linux/arm/v7
    layout.write_index(index.as_ref(), Some("multi")).unwrap();
    let single = random::image_with(
        9,
        1,
        200,
        &random::Options::default().platform("linux/s390x".parse().unwrap()),
    );
    layout.write_image(single.as_ref(), Some("single")).unwrap();

    let arm64 = layout
        .image_by_platform(&"linux/arm64".parse().unwrap())
        .unwrap();
    assert_eq!(arm64.config_file().unwrap().architecture, "arm64");
    assert_eq!(
        arm64.descriptor().unwrap().platform,
        Some("linux/arm64/v8".parse().unwrap())
    );
    let s390x = layout
        .image_by_platform(&"linux/s390x".parse().unwrap())
        .unwrap();
    assert_eq!(s390x.digest().unwrap(), single.digest().unwrap());
    let e = layout
        .image_by_platform(&"linux/mips64".parse().unwrap())
        .err()
        .unwrap();
    assert!(
        matches!(e, Error::PlatformNotFound { .. }) && e.is_not_found(),
        "{e}"
    );

    // By digest: an image inside the index, described by its entry there.
    let child = index.index_manifest().unwrap().manifests[2].clone();
    let image = layout.image_by_digest(&child.digest).unwrap();
    assert_eq!(image.descriptor().unwrap(), child);
    validate_image(image.as_ref(), ValidateOptions::default()).unwrap();

    let e = layout.image_by_ref("nope").err().unwrap();
    assert!(
        matches!(&e, Error::RefNotFound { name, .. } if name == "nope"),
        "{e}"
    );
    let e = layout
        .image_by_digest(&Digest::sha256(b"nothing"))
        .err()
        .unwrap();
    assert!(e.is_not_found(), "{e}");
    // The descriptor of an image read by ref is its index.json entry.
    assert_eq!(
        layout.image_by_ref("single").unwrap().descriptor().unwrap(),
        layout.entry_by_ref("single").unwrap()
    );
}

#[test]
fn a_manifest_no_index_lists_is_found_by_digest() {
    let (_dir, layout) = new_layout();
    let image = random::image(3, 2, 100);
    let desc = layout.write_image_blobs(image.as_ref()).unwrap();
    assert!(layout.index().unwrap().manifests.is_empty());
    let back = layout.image_by_digest(&desc.digest).unwrap();
    assert_eq!(back.media_type().unwrap(), MediaType::OciManifest);
    validate_image(back.as_ref(), ValidateOptions::default()).unwrap();
}

#[test]
fn layers_expose_config_diff_ids_and_decompress_by_magic() {
    let (_dir, layout) = new_layout();
    let image = random::image_with(
        5,
        2,
        4000,
        &random::Options::default().compression(oci_types::Compression::Zstd),
    );
    layout.write_image(image.as_ref(), Some("z")).unwrap();
    let back = layout.image_by_ref("z").unwrap();
    let config = back.config_file().unwrap();
    for (i, layer) in back.layers().unwrap().iter().enumerate() {
        assert_eq!(layer.diff_id().unwrap(), config.rootfs.diff_ids[i]);
        let tar = read_all(layer.uncompressed().unwrap());
        assert_eq!(Digest::sha256(&tar), config.rootfs.diff_ids[i]);
        assert_eq!(layer.uncompressed_size().unwrap(), tar.len() as u64);
        let by_diff_id = back.layer_by_diff_id(&config.rootfs.diff_ids[i]).unwrap();
        assert_eq!(by_diff_id.digest().unwrap(), layer.digest().unwrap());
    }

    // A zstd blob labelled tar+gzip, and a plain tar labelled tar+gzip: the bytes decide.
    let zstd = random::layer_with(
        1,
        3000,
        &random::Options::default().compression(oci_types::Compression::Zstd),
    );
    let plain = random::layer_with(
        2,
        3000,
        &random::Options::default().compression(oci_types::Compression::None),
    );
    let mut config = oci_types::ConfigFile::default();
    config.os = "linux".into();
    config.architecture = "amd64".into();
    config.rootfs.diff_ids = vec![zstd.diff_id().unwrap(), plain.diff_id().unwrap()];
    let config = oci_types::Raw::from_value(config).unwrap();
    let config_desc = config.descriptor(MediaType::OciConfig);
    layout.write_blob(&config_desc, config.bytes()).unwrap();
    let mut layers = Vec::new();
    for l in [&zstd, &plain] {
        let d = Descriptor::new(
            MediaType::OciLayerGzip,
            l.digest().unwrap(),
            l.size().unwrap(),
        );
        layout.write_blob(&d, l.compressed().unwrap()).unwrap();
        layers.push(d);
    }
    let manifest = oci_types::Raw::from_value(oci_types::Manifest::new(
        MediaType::OciManifest,
        config_desc,
        layers,
    ))
    .unwrap();
    let desc = manifest.descriptor(MediaType::OciManifest);
    layout.write_blob(&desc, manifest.bytes()).unwrap();
    layout
        .append_descriptor(
            desc.clone()
                .with_annotation(oci_types::ANNOTATION_REF_NAME, "mislabelled"),
        )
        .unwrap();

    let back = layout.image_by_ref("mislabelled").unwrap();
    let ls = back.layers().unwrap();
    assert_eq!(
        read_all(ls[0].uncompressed().unwrap()),
        read_all(zstd.uncompressed().unwrap())
    );
    assert_eq!(
        read_all(ls[1].uncompressed().unwrap()),
        read_all(plain.uncompressed().unwrap())
    );
}

#[test]
fn a_corrupt_layer_blob_fails_its_read_at_the_end() {
    let (_dir, layout) = new_layout();
    let image = random::image(6, 2, 50_000);
    layout.write_image(image.as_ref(), Some("x")).unwrap();
    let bad = image.manifest().unwrap().layers[0].digest.clone();
    corrupt_blob(&layout, &bad);

    let back = layout.image_by_ref("x").unwrap();
    let layer = back.layer_by_digest(&bad).unwrap();
    let mut r = layer.compressed().unwrap();
    let e = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
    let e = oci_types::Error::from_io(e);
    assert!(
        matches!(&e, oci_types::Error::DigestMismatch { expected, .. } if *expected == bad),
        "{e}"
    );

    let report = validate_image(back.as_ref(), ValidateOptions::default()).unwrap_err();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.what == oci_partial::Check::Digest),
        "{report}"
    );
    // The other layer is fine.
    let good = &back.layers().unwrap()[1];
    assert_eq!(
        Digest::sha256(&read_all(good.compressed().unwrap())),
        good.digest().unwrap()
    );
}

#[test]
fn a_corrupt_manifest_or_config_is_refused_when_read() {
    let (_dir, layout) = new_layout();
    let image = random::image(7, 1, 100);
    let desc = layout.write_image(image.as_ref(), Some("m")).unwrap();
    let config = image.manifest().unwrap().config.digest;
    corrupt_blob(&layout, &config);
    let back = layout.image_by_ref("m").unwrap();
    let e = back.raw_config_file().unwrap_err();
    assert!(
        matches!(
            e,
            oci_partial::Error::Types(oci_types::Error::DigestMismatch { .. })
        ),
        "{e:?}"
    );

    corrupt_blob(&layout, &desc.digest);
    let e = layout.image_by_ref("m").err().unwrap();
    assert!(
        matches!(&e, Error::Blob { digest, .. } if *digest == desc.digest),
        "{e:?}"
    );
}

#[test]
fn a_missing_blob_is_reported_with_its_digest() {
    let (_dir, layout) = new_layout();
    let image = random::image(8, 1, 100);
    layout.write_image(image.as_ref(), Some("m")).unwrap();
    let layer = image.manifest().unwrap().layers[0].digest.clone();
    std::fs::remove_file(layout.blob_path(&layer)).unwrap();
    let back = layout.image_by_ref("m").unwrap();
    let l = back.layer_by_digest(&layer).unwrap();
    assert!(!l.exists().unwrap());
    let e = l.compressed().err().unwrap();
    assert!(e.to_string().contains(layer.as_str()), "{e}");
    let report = validate_image(back.as_ref(), ValidateOptions::default()).unwrap_err();
    assert!(!report.problems.is_empty());
}

#[test]
fn open_blob_verifies_size_and_digest() {
    let (_dir, layout) = new_layout();
    let desc = Descriptor::of_bytes(MediaType::OciLayer, b"0123456789");
    layout.write_blob(&desc, &b"0123456789"[..]).unwrap();
    assert_eq!(read_all(layout.open_blob(&desc).unwrap()), b"0123456789");
    let mut wrong = desc.clone();
    wrong.size = 9;
    let mut r = layout.open_blob(&wrong).unwrap();
    assert!(std::io::copy(&mut r, &mut std::io::sink()).is_err());
    // Embedded data is served without the store.
    let embedded = Descriptor::of_bytes(MediaType::OciEmpty, b"{}").with_data(b"{}");
    assert_eq!(read_all(layout.open_blob(&embedded).unwrap()), b"{}");
}

#[test]
fn the_layout_as_an_image_index() {
    let (_dir, layout) = new_layout();
    let a = random::image(1, 1, 100);
    let b = random::image(2, 2, 100);
    layout.write_image(a.as_ref(), Some("a")).unwrap();
    layout.write_image(b.as_ref(), Some("b")).unwrap();
    let root = layout.image_index().unwrap();
    assert_eq!(
        root.raw_manifest().unwrap(),
        std::fs::read(layout.root().join("index.json")).unwrap()
    );
    assert_eq!(root.media_type().unwrap(), MediaType::OciIndex);
    let children = root.manifests().unwrap();
    assert_eq!(children.len(), 2);
    let found = oci_partial::find_images(
        root.as_ref(),
        &oci_partial::Matcher::annotation(oci_types::ANNOTATION_REF_NAME, "b"),
    )
    .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].digest().unwrap(), b.digest().unwrap());
    oci_partial::validate_index(root.as_ref(), ValidateOptions::default()).unwrap();
}
