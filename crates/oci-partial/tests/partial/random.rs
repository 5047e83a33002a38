//! `random`: deterministic, well-formed layers, images and indexes.

use std::io::Read;
use std::sync::Arc;

use oci_partial::random::{self, CorruptLayer, Options};
use oci_partial::{Image, Layer};
use oci_types::{Compression, Digest, MediaType};
use proptest::prelude::*;

fn read_all(mut r: impl Read) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

/// Every byte an image is made of: manifest, config, each layer blob.
fn image_bytes(image: &dyn Image) -> Vec<Vec<u8>> {
    let mut out = vec![
        image.raw_manifest().unwrap(),
        image.raw_config_file().unwrap(),
    ];
    for l in image.layers().unwrap() {
        out.push(read_all(l.compressed().unwrap()));
    }
    out
}

#[test]
fn same_seed_same_bytes() {
    for opts in [
        Options::default(),
        Options::default().docker(),
        Options::default().compression(Compression::Zstd),
        Options::default().compression(Compression::None),
    ] {
        let a = random::image_with(99, 3, 2048, &opts);
        let b = random::image_with(99, 3, 2048, &opts);
        assert_eq!(image_bytes(a.as_ref()), image_bytes(b.as_ref()));
        let c = random::image_with(100, 3, 2048, &opts);
        assert_ne!(a.digest().unwrap(), c.digest().unwrap());
    }
    let i1 = random::index(5, 3, 1, 64);
    let i2 = random::index(5, 3, 1, 64);
    assert_eq!(i1.raw_manifest().unwrap(), i2.raw_manifest().unwrap());
    assert_eq!(
        read_all(random::layer(1, 10).compressed().unwrap()),
        read_all(random::layer(1, 10).compressed().unwrap())
    );
}

#[test]
fn pinned_digests_do_not_drift() {
    // Other crates' tests may rely on these bytes; a change here must be deliberate.
    let layer = random::layer(0, 0);
    let tar = read_all(layer.uncompressed().unwrap());
    assert_eq!(tar.len(), 2 * 512 + 1024); // two headers, no content, the end-of-archive blocks
    assert_eq!(layer.diff_id().unwrap(), Digest::sha256(&tar));
    let b = read_all(random::bytes(0).take(8));
    // splitmix64's first output for state 0.
    assert_eq!(
        u64::from_le_bytes(b.try_into().unwrap()),
        0xE220_A839_7B1D_CDAF
    );
}

#[test]
fn layers_are_real_tars_with_the_requested_content() {
    for c in [Compression::Gzip, Compression::Zstd, Compression::None] {
        let layer = random::layer_with(4, 3000, &Options::default().compression(c));
        assert_eq!(layer.media_type().unwrap(), MediaType::oci_layer(c));
        let tar = read_all(layer.uncompressed().unwrap());
        assert_eq!(layer.diff_id().unwrap(), Digest::sha256(&tar));
        assert_eq!(layer.uncompressed_size().unwrap(), tar.len() as u64);
        let blob = read_all(layer.compressed().unwrap());
        assert_eq!(layer.digest().unwrap(), Digest::sha256(&blob));
        assert_eq!(layer.size().unwrap(), blob.len() as u64);
        match c {
            Compression::Gzip => assert_eq!(&blob[..2], [0x1f, 0x8b]),
            Compression::Zstd => assert_eq!(&blob[..4], [0x28, 0xb5, 0x2f, 0xfd]),
            _ => assert_eq!(blob, tar),
        }
        let mut archive = tar::Archive::new(&tar[..]);
        let mut entries = Vec::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let size = e.header().size().unwrap();
            let body = read_all(&mut e);
            assert_eq!(body.len() as u64, size);
            entries.push((path, size));
        }
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0], ("random/".to_owned(), 0));
        assert!(entries[1].0.starts_with("random/") && entries[1].0.ends_with(".bin"));
        assert_eq!(entries[1].1, 3000);
    }
}

#[test]
fn images_have_a_consistent_config_and_manifest() {
    let image = random::image(8, 3, 100);
    let config = image.config_file().unwrap();
    let manifest = image.manifest().unwrap();
    let layers = image.layers().unwrap();
    assert_eq!(image.media_type().unwrap(), MediaType::OciManifest);
    assert_eq!(manifest.config.media_type, MediaType::OciConfig);
    assert_eq!(
        (config.os.as_str(), config.architecture.as_str()),
        ("linux", "amd64")
    );
    assert_eq!(config.rootfs.fs_type, "layers");
    assert_eq!(config.history.as_ref().unwrap().len(), 3);
    let diff_ids: Vec<Digest> = layers.iter().map(|l| l.diff_id().unwrap()).collect();
    assert_eq!(config.rootfs.diff_ids, diff_ids);
    let digests: Vec<Digest> = manifest.layers.iter().map(|d| d.digest.clone()).collect();
    assert_eq!(
        digests,
        layers
            .iter()
            .map(|l| l.digest().unwrap())
            .collect::<Vec<_>>()
    );
    assert!(manifest
        .layers
        .iter()
        .all(|d| d.media_type == MediaType::OciLayerGzip));
    // Layers of one image differ from each other.
    assert_ne!(digests[0], digests[1]);
    assert_eq!(
        image
            .layer_by_diff_id(&diff_ids[2])
            .unwrap()
            .digest()
            .unwrap(),
        digests[2]
    );

    let docker = random::image_with(8, 1, 100, &Options::default().docker());
    assert_eq!(docker.media_type().unwrap(), MediaType::DockerManifest);
    assert_eq!(
        docker.manifest().unwrap().config.media_type,
        MediaType::DockerConfig
    );
    assert_eq!(
        docker.manifest().unwrap().layers[0].media_type,
        MediaType::DockerLayerGzip
    );
}

#[test]
fn index_entries_have_distinct_platforms_matching_their_configs() {
    let index = random::index(9, 9, 1, 10);
    let entries = index.index_manifest().unwrap().manifests;
    assert_eq!(entries.len(), 9);
    let mut seen = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let plat = e.platform.clone().unwrap();
        assert_eq!(plat, random::platform(i));
        assert!(!seen.contains(&plat));
        seen.push(plat.clone());
        let child = index.image(&e.digest).unwrap();
        assert!(child.config_file().unwrap().platform().matches(&plat));
    }
    assert_eq!(random::platform(8).to_string(), "linux/random8");
    assert_eq!(index.media_type().unwrap(), MediaType::OciIndex);
    assert!(index.image(&Digest::sha256(b"nope")).is_err());
}

#[test]
fn a_corrupt_layer_differs_in_exactly_one_byte_and_keeps_its_claims() {
    let layer = random::layer(12, 1000);
    let bad = CorruptLayer::new(Arc::clone(&layer));
    let (good_bytes, bad_bytes) = (
        read_all(layer.compressed().unwrap()),
        read_all(bad.compressed().unwrap()),
    );
    assert_eq!(good_bytes.len(), bad_bytes.len());
    let diffs: Vec<usize> = (0..good_bytes.len())
        .filter(|&i| good_bytes[i] != bad_bytes[i])
        .collect();
    assert_eq!(diffs, [bad.offset() as usize]);
    assert_eq!(bad.digest().unwrap(), layer.digest().unwrap());
    assert_eq!(bad.diff_id().unwrap(), layer.diff_id().unwrap());

    let at_start = CorruptLayer::at(Arc::clone(&layer), 0);
    assert_eq!(read_all(at_start.compressed().unwrap())[0], !good_bytes[0]);

    let image = random::image(12, 2, 100);
    let broken = random::corrupt_layer(Arc::clone(&image), 1);
    assert_eq!(
        broken.raw_manifest().unwrap(),
        image.raw_manifest().unwrap()
    );
    let l0 = read_all(broken.layers().unwrap()[0].compressed().unwrap());
    assert_eq!(
        l0,
        read_all(image.layers().unwrap()[0].compressed().unwrap())
    );
    assert!(random::corrupt_layer(image, 2).layers().is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// The byte stream does not depend on how it is read.
    #[test]
    fn bytes_are_independent_of_read_sizes(seed in any::<u64>(), chunks in prop::collection::vec(1usize..20, 1..20)) {
        let total: usize = chunks.iter().sum();
        let mut whole = vec![0u8; total];
        random::bytes(seed).read_exact(&mut whole).unwrap();
        let mut r = random::bytes(seed);
        let mut pieces = Vec::new();
        for n in chunks {
            let mut buf = vec![0u8; n];
            r.read_exact(&mut buf).unwrap();
            pieces.extend(buf);
        }
        prop_assert_eq!(whole, pieces);
    }

    #[test]
    fn layer_claims_match_content(seed in any::<u64>(), size in 0usize..5000) {
        let layer = random::layer(seed, size);
        prop_assert_eq!(layer.digest().unwrap(), Digest::sha256(&read_all(layer.compressed().unwrap())));
        prop_assert_eq!(layer.diff_id().unwrap(), Digest::sha256(&read_all(layer.uncompressed().unwrap())));
    }
}
