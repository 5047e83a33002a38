//! mutate: scratch images, appended layers, config edits, media type conversion, laziness.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use oci_partial::mutate::{
    append_layers, empty_image, set_config, set_created, with_annotations, with_config_file,
    with_config_media_type, with_media_type, with_media_types, with_platform, Addendum, Family,
};
use oci_partial::{
    blob_to_diff_id, diff_id_to_blob, BlobReader, Error, Image, Layer, Result, UncompressedLayer,
};
use oci_types::{
    Annotations, Compression, ConfigFile, ContainerConfig, Digest, History, Manifest, MediaType,
    Platform,
};

use crate::support::{d, fixtures, read_all, Layout, MemTar};

fn tar_layer(content: &[u8], c: Compression) -> Arc<dyn Layer> {
    Arc::new(
        UncompressedLayer::new(MemTar::new(content.to_vec(), MediaType::OciLayer))
            .with_compression(c, None),
    )
}

fn hello() -> Arc<dyn Image> {
    Layout::open(fixtures().join("oci-layout")).image("hello")
}

/// The invariants of any image: config and manifest agree with the layers.
fn assert_consistent(img: &dyn Image) {
    let m = img.manifest().unwrap();
    let config = img.raw_config_file().unwrap();
    assert_eq!(m.config.digest, Digest::sha256(&config));
    assert_eq!(m.config.size, config.len() as u64);
    assert_eq!(img.config_name().unwrap(), Digest::sha256(&config));
    assert_eq!(
        img.digest().unwrap(),
        Digest::sha256(&img.raw_manifest().unwrap())
    );
    assert_eq!(
        Manifest::from_slice(&img.raw_manifest().unwrap()).unwrap(),
        m
    );
    let layers = img.layers().unwrap();
    let descs: Vec<_> = layers.iter().map(|l| l.descriptor().unwrap()).collect();
    assert_eq!(m.layers, descs, "manifest layers == layer descriptors");
    let diff_ids: Vec<_> = layers.iter().map(|l| l.diff_id().unwrap()).collect();
    if m.config.media_type.is_config() {
        assert_eq!(img.config_file().unwrap().rootfs.diff_ids, diff_ids);
        for l in &layers {
            let (blob, diff_id) = (l.digest().unwrap(), l.diff_id().unwrap());
            assert_eq!(blob_to_diff_id(img, &blob).unwrap(), diff_id);
            assert_eq!(diff_id_to_blob(img, &diff_id).unwrap(), blob);
            assert_eq!(
                img.layer_by_digest(&blob).unwrap().diff_id().unwrap(),
                diff_id
            );
            assert_eq!(
                img.layer_by_diff_id(&diff_id).unwrap().digest().unwrap(),
                blob
            );
        }
    }
    for (l, desc) in layers.iter().zip(&m.layers) {
        assert_eq!(l.media_type().unwrap(), desc.media_type);
    }
}

#[test]
fn scratch_images() {
    for (family, mt, ct) in [
        (Family::Oci, MediaType::OciManifest, MediaType::OciConfig),
        (
            Family::Docker,
            MediaType::DockerManifest,
            MediaType::DockerConfig,
        ),
    ] {
        let img = empty_image(family);
        assert_eq!(img.media_type().unwrap(), mt);
        let m = img.manifest().unwrap();
        assert_eq!(m.media_type, Some(mt));
        assert_eq!(m.config.media_type, ct);
        assert!(m.layers.is_empty() && img.layers().unwrap().is_empty());
        let c = img.config_file().unwrap();
        assert_eq!(c.rootfs.fs_type, "layers");
        assert!(c.rootfs.diff_ids.is_empty());
        assert_eq!((c.architecture.as_str(), c.os.as_str()), ("", ""));
        assert_consistent(img.as_ref());
        assert_eq!(
            img.layer_by_digest(&m.config.digest)
                .unwrap()
                .media_type()
                .unwrap(),
            ct
        );

        let p: Platform = "linux/arm64/v8".parse().unwrap();
        let img = with_platform(img, p.clone());
        let c = img.config_file().unwrap();
        assert_eq!(c.platform(), p);
        assert_eq!(c.variant.as_deref(), Some("v8"));
        assert_consistent(img.as_ref());
    }
    assert_eq!(
        empty_image(Family::Oci).digest().unwrap(),
        empty_image(Family::Oci).digest().unwrap()
    );
}

#[test]
fn append_to_scratch() {
    let a = tar_layer(b"first layer", Compression::Gzip);
    let b = tar_layer(b"second layer", Compression::Zstd);
    let img = append_layers(
        empty_image(Family::Docker),
        vec![
            Addendum::new(Arc::clone(&a))
                .with_history(History::new("ADD a /", Some("2024-01-01T00:00:00Z".into()))),
            Addendum::new(Arc::clone(&b))
                .with_annotation("org.example", "yes")
                .with_media_type(MediaType::from("application/vnd.example.layer")),
        ],
    );
    assert_consistent(img.as_ref());
    let c = img.config_file().unwrap();
    assert_eq!(
        c.rootfs.diff_ids,
        vec![
            Digest::sha256(b"first layer"),
            Digest::sha256(b"second layer")
        ]
    );
    let history = c.history.unwrap();
    assert_eq!(history.len(), 2, "one entry per added layer");
    assert_eq!(history[0].created_by.as_deref(), Some("ADD a /"));
    assert_eq!(history[1], History::default());

    let m = img.manifest().unwrap();
    assert_eq!(m.media_type, Some(MediaType::DockerManifest));
    assert_eq!(
        m.layers[0].media_type,
        MediaType::OciLayerGzip,
        "the layer's own type"
    );
    assert_eq!(
        m.layers[1].media_type,
        MediaType::from("application/vnd.example.layer")
    );
    assert_eq!(
        m.layers[1]
            .annotations
            .get("org.example")
            .map(String::as_str),
        Some("yes")
    );
    assert_eq!(m.layers[0].digest, a.digest().unwrap());
    assert_eq!(
        m.layers[1].digest,
        Digest::sha256(&read_all(b.compressed().unwrap()))
    );
}

#[test]
fn append_to_a_real_image() {
    let base = hello();
    let base_config = base.config_file().unwrap();
    let extra = tar_layer(b"more", Compression::Gzip);
    let img = append_layers(
        Arc::clone(&base),
        vec![Addendum::new(Arc::clone(&extra)).with_history(History::new("extra", None))],
    );
    assert_consistent(img.as_ref());
    let c = img.config_file().unwrap();
    assert_eq!(c.rootfs.diff_ids.len(), 3);
    assert_eq!(c.rootfs.diff_ids[..2], base_config.rootfs.diff_ids[..]);
    let history = c.history.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[..2], base_config.history.unwrap()[..]);
    assert_eq!(history[2].created_by.as_deref(), Some("extra"));
    // Everything else in the config is kept.
    assert_eq!(c.config, base_config.config);
    assert_eq!(c.created, base_config.created);

    let m = img.manifest().unwrap();
    assert_eq!(m.layers[..2], base.manifest().unwrap().layers[..]);
    assert_eq!(
        m.media_type, None,
        "the base manifest had no mediaType field"
    );
    assert_ne!(img.digest().unwrap(), base.digest().unwrap());
    // Base and added layers are found by digest and by diff_id.
    assert_eq!(
        img.layer_by_digest(&extra.digest().unwrap())
            .unwrap()
            .diff_id()
            .unwrap(),
        Digest::sha256(b"more")
    );
    assert_eq!(
        img.layer_by_diff_id(&base_config.rootfs.diff_ids[0])
            .unwrap()
            .digest()
            .unwrap(),
        base.manifest().unwrap().layers[0].digest
    );
    assert!(matches!(
        img.layer_by_digest(&Digest::sha256(b"none")),
        Err(Error::NotFound { .. })
    ));
    // The config blob too.
    let cl = img.layer_by_digest(&m.config.digest).unwrap();
    assert_eq!(
        read_all(cl.compressed().unwrap()),
        img.raw_config_file().unwrap()
    );
}

#[test]
fn without_history_nothing_is_invented() {
    let img = append_layers(
        empty_image(Family::Oci),
        vec![Addendum::new(tar_layer(b"x", Compression::Gzip))],
    );
    assert_eq!(img.config_file().unwrap().history, None);
    assert_consistent(img.as_ref());
}

/// A layer that refuses to say its digest or diff_id until `ready` is set (like a streaming
/// layer before it is consumed), and counts how often it is asked.
struct NotYet {
    inner: Arc<dyn Layer>,
    ready: AtomicBool,
    asked: AtomicUsize,
}

impl NotYet {
    fn check(&self, what: &'static str) -> Result<()> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        if self.ready.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(Error::NotComputed { what })
        }
    }
}

impl Layer for NotYet {
    fn digest(&self) -> Result<Digest> {
        self.check("digest")?;
        self.inner.digest()
    }
    fn diff_id(&self) -> Result<Digest> {
        self.check("diff_id")?;
        self.inner.diff_id()
    }
    fn compressed(&self) -> Result<BlobReader> {
        self.inner.compressed()
    }
    fn uncompressed(&self) -> Result<BlobReader> {
        self.inner.uncompressed()
    }
    fn size(&self) -> Result<u64> {
        self.check("size")?;
        self.inner.size()
    }
    fn media_type(&self) -> Result<MediaType> {
        self.inner.media_type()
    }
}

#[test]
fn nothing_is_computed_until_asked() {
    let layer = Arc::new(NotYet {
        inner: tar_layer(b"streamed", Compression::Gzip),
        ready: false.into(),
        asked: 0.into(),
    });
    let img = append_layers(
        hello(),
        vec![Addendum::new(Arc::clone(&layer) as Arc<dyn Layer>)],
    );
    let img = set_created(img, "2025-01-01T00:00:00Z");
    let img = with_annotations(img, Annotations::from([("k".to_string(), "v".to_string())]));
    let img = with_media_types(img, Family::Docker);
    // Building, listing layers and reading one do not ask the layer anything.
    let layers = img.layers().unwrap();
    assert_eq!(layers.len(), 3);
    assert_eq!(img.media_type().unwrap(), MediaType::DockerManifest);
    let streamed = read_all(layers[2].compressed().unwrap());
    assert_eq!(layer.asked.load(Ordering::SeqCst), 0);

    // The manifest needs the layer: not ready yet, an error, and not remembered.
    assert!(matches!(img.manifest(), Err(Error::NotComputed { .. })));
    assert!(img.digest().is_err());
    layer.ready.store(true, Ordering::SeqCst);
    let m = img.manifest().unwrap();
    assert_eq!(m.layers[2].digest, Digest::sha256(&streamed));
    assert_eq!(m.annotations.get("k").map(String::as_str), Some("v"));
    assert_eq!(
        img.config_file().unwrap().created.as_deref(),
        Some("2025-01-01T00:00:00Z")
    );
    assert_consistent(img.as_ref());

    // Computed once, then kept.
    let asked = layer.asked.load(Ordering::SeqCst);
    let digest = img.digest().unwrap();
    img.raw_config_file().unwrap();
    img.manifest().unwrap();
    assert_eq!(img.digest().unwrap(), digest);
    let after = layer.asked.load(Ordering::SeqCst);
    // assert_consistent asks the layers directly; the image itself asks nothing more.
    assert_eq!(after, asked);
}

#[test]
fn config_edits() {
    let base = hello();
    let base_config = base.config_file().unwrap();

    let img = set_created(Arc::clone(&base), "2030-01-01T00:00:00Z");
    assert_eq!(
        img.config_file().unwrap().created.as_deref(),
        Some("2030-01-01T00:00:00Z")
    );
    assert_eq!(img.config_file().unwrap().rootfs, base_config.rootfs);
    assert_consistent(img.as_ref());

    let mut cc = ContainerConfig::default();
    cc.cmd = Some(vec!["sh".into()]);
    let img = set_config(Arc::clone(&base), cc.clone());
    assert_eq!(img.config_file().unwrap().config, Some(cc));
    assert_eq!(img.config_file().unwrap().history, base_config.history);
    assert_consistent(img.as_ref());

    let mut whole = base_config.clone();
    whole.author = Some("me".into());
    let img = with_config_file(Arc::clone(&base), whole.clone());
    assert_eq!(img.config_file().unwrap(), whole);
    assert_consistent(img.as_ref());

    let img = with_platform(Arc::clone(&base), "windows/amd64".parse().unwrap());
    assert_eq!(img.config_file().unwrap().os, "windows");
    assert_consistent(img.as_ref());
}

#[test]
fn unchanged_images_keep_their_bytes() {
    let base = hello();
    // Already OCI: nothing changes, not even the absent mediaType field.
    let same = with_media_types(Arc::clone(&base), Family::Oci);
    assert_eq!(same.raw_manifest().unwrap(), base.raw_manifest().unwrap());
    assert_eq!(same.digest().unwrap(), base.digest().unwrap());
    let same = append_layers(Arc::clone(&base), Vec::new());
    assert_eq!(
        same.raw_config_file().unwrap(),
        base.raw_config_file().unwrap()
    );
    assert_eq!(same.digest().unwrap(), base.digest().unwrap());
}

#[test]
fn media_type_conversion() {
    let base = hello();
    let docker = with_media_types(Arc::clone(&base), Family::Docker);
    assert_eq!(docker.media_type().unwrap(), MediaType::DockerManifest);
    let m = docker.manifest().unwrap();
    assert_eq!(m.media_type, Some(MediaType::DockerManifest));
    assert_eq!(m.config.media_type, MediaType::DockerConfig);
    assert!(m
        .layers
        .iter()
        .all(|l| l.media_type == MediaType::DockerLayerGzip));
    // Only the manifest changed: same config bytes, same blobs.
    assert_eq!(
        docker.raw_config_file().unwrap(),
        base.raw_config_file().unwrap()
    );
    let base_m = base.manifest().unwrap();
    for (a, b) in m.layers.iter().zip(&base_m.layers) {
        assert_eq!((&a.digest, a.size), (&b.digest, b.size));
    }
    assert_consistent(docker.as_ref());
    for l in docker.layers().unwrap() {
        assert_eq!(l.media_type().unwrap(), MediaType::DockerLayerGzip);
    }
    // A base layer fetched by digest is shown with the new type too.
    let l = docker.layer_by_digest(&base_m.layers[0].digest).unwrap();
    assert_eq!(l.media_type().unwrap(), MediaType::DockerLayerGzip);

    // And back.
    let oci = with_media_types(docker, Family::Oci);
    let m = oci.manifest().unwrap();
    assert_eq!(m.media_type, Some(MediaType::OciManifest));
    assert_eq!(m.config.media_type, MediaType::OciConfig);
    assert_eq!(m.layers, base_m.layers);
    assert_consistent(oci.as_ref());
}

#[test]
fn manifest_and_config_media_type_overrides() {
    let img = with_media_type(hello(), MediaType::OciManifest);
    assert_eq!(
        img.manifest().unwrap().media_type,
        Some(MediaType::OciManifest)
    );
    assert_eq!(img.media_type().unwrap(), MediaType::OciManifest);
    let artifact =
        with_config_media_type(hello(), MediaType::from("application/vnd.example.config"));
    assert_eq!(
        artifact.manifest().unwrap().config.media_type,
        MediaType::from("application/vnd.example.config")
    );
    assert_eq!(
        artifact.raw_config_file().unwrap(),
        hello().raw_config_file().unwrap()
    );
    // An artifact's config is not an image config: it cannot be edited...
    let edited = set_created(Arc::clone(&artifact), "2020-01-01T00:00:00Z");
    assert!(matches!(
        edited.raw_manifest(),
        Err(Error::Unsupported {
            kind: oci_partial::UnsupportedKind::ConfigEdit { .. }
        })
    ));
    // ...and appended layers only go to the manifest.
    let appended = append_layers(
        artifact,
        vec![Addendum::new(tar_layer(b"blob", Compression::None))],
    );
    let m = appended.manifest().unwrap();
    assert_eq!(m.layers.len(), 3);
    assert_eq!(
        appended.raw_config_file().unwrap(),
        hello().raw_config_file().unwrap()
    );
    assert_eq!(
        m.config.digest,
        d("sha256:9e8d0e1ececf619ff977fa70e8da7da502afbb36e328293c5fdac4d9c8038ede")
    );
}

#[test]
fn embedded_config_data_is_kept_up_to_date() {
    // A base whose manifest embeds its config.
    struct Embedding(Arc<dyn Image>);
    impl Image for Embedding {
        fn layers(&self) -> Result<Vec<Arc<dyn Layer>>> {
            self.0.layers()
        }
        fn media_type(&self) -> Result<MediaType> {
            self.0.media_type()
        }
        fn raw_config_file(&self) -> Result<Vec<u8>> {
            self.0.raw_config_file()
        }
        fn raw_manifest(&self) -> Result<Vec<u8>> {
            let mut m = self.0.manifest()?;
            m.config = m.config.with_data(&self.0.raw_config_file()?);
            Ok(serde_json::to_vec(&m).unwrap())
        }
        fn layer_by_digest(&self, digest: &Digest) -> Result<Arc<dyn Layer>> {
            self.0.layer_by_digest(digest)
        }
        fn layer_by_diff_id(&self, diff_id: &Digest) -> Result<Arc<dyn Layer>> {
            self.0.layer_by_diff_id(diff_id)
        }
    }
    let img = set_created(
        Arc::new(Embedding(empty_image(Family::Oci))),
        "2001-01-01T00:00:00Z",
    );
    let m = img.manifest().unwrap();
    assert_eq!(
        m.config.embedded_data().unwrap().unwrap(),
        img.raw_config_file().unwrap()
    );
    let _: ConfigFile = img.config_file().unwrap();
}

#[test]
fn with_layers_recompresses_and_keeps_config_bytes() {
    use oci_partial::mutate::with_layers;
    let base = hello();
    let recompressed: Vec<Arc<dyn Layer>> = base
        .layers()
        .unwrap()
        .into_iter()
        .map(|l| tar_layer(&read_all(l.uncompressed().unwrap()), Compression::Zstd))
        .collect();
    let img = with_layers(base.clone(), recompressed);
    assert_eq!(
        img.raw_config_file().unwrap(),
        base.raw_config_file().unwrap()
    );
    let m = img.manifest().unwrap();
    assert_eq!(m.config, base.manifest().unwrap().config);
    for (desc, l) in m.layers.iter().zip(img.layers().unwrap()) {
        assert_eq!(desc.media_type, MediaType::OciLayerZstd);
        assert_eq!(
            desc.digest,
            Digest::sha256(&read_all(l.compressed().unwrap()))
        );
    }
    assert_consistent(img.as_ref());
    assert!(with_layers(base, Vec::new()).manifest().is_err());
}

mod index_values {
    use std::sync::Arc;

    use oci_partial::mutate::{
        append_manifests, empty_index, remove_manifests, replace_manifests, Family, IndexAddendum,
    };
    use oci_partial::{random, Child, Image, Matcher};
    use oci_types::{MediaType, Platform};

    fn image_for(seed: u64, platform: &str) -> Arc<dyn Image> {
        let p: Platform = platform.parse().unwrap();
        random::image_with(seed, 1, 100, &random::Options::default().platform(p))
    }

    #[test]
    fn an_empty_index_is_of_its_family() {
        let oci = empty_index(Family::Oci);
        assert_eq!(oci.media_type().unwrap(), MediaType::OciIndex);
        assert!(oci.index_manifest().unwrap().manifests.is_empty());
        assert!(oci.manifests().unwrap().is_empty());
        let docker = empty_index(Family::Docker);
        assert_eq!(
            docker.index_manifest().unwrap().media_type,
            Some(MediaType::DockerManifestList)
        );
    }

    #[test]
    fn appended_entries_carry_platform_annotations_and_artifact_type() {
        let amd = image_for(1, "linux/amd64");
        let arm = image_for(2, "linux/arm64/v8");
        let index = append_manifests(
            empty_index(Family::Oci),
            vec![
                IndexAddendum::image(Arc::clone(&amd)),
                IndexAddendum::image(Arc::clone(&arm))
                    .with_platform("linux/arm64".parse().unwrap())
                    .with_annotation("k", "v")
                    .with_artifact_type(MediaType::from("application/x-thing")),
            ],
        );
        let entries = index.index_manifest().unwrap().manifests;
        assert_eq!(entries[0].digest, amd.digest().unwrap());
        assert_eq!(entries[0].platform, Some("linux/amd64".parse().unwrap()));
        assert_eq!(entries[1].platform, Some("linux/arm64".parse().unwrap()));
        assert_eq!(entries[1].annotations["k"], "v");
        assert_eq!(
            entries[1].artifact_type,
            Some(MediaType::from("application/x-thing"))
        );
        // The children are found by digest and listed as objects, in order.
        assert_eq!(
            index
                .image(&arm.digest().unwrap())
                .unwrap()
                .digest()
                .unwrap(),
            arm.digest().unwrap()
        );
        let kids = index.manifests().unwrap();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[1].descriptor().unwrap(), entries[1]);
        // Its bytes are computed once: same digest every time.
        assert_eq!(index.digest().unwrap(), index.digest().unwrap());
    }

    #[test]
    fn remove_and_replace_by_matcher_and_nest() {
        let base = append_manifests(
            empty_index(Family::Docker),
            vec![
                IndexAddendum::image(image_for(1, "linux/amd64")),
                IndexAddendum::image(image_for(2, "linux/arm64")),
            ],
        );
        let amd = Matcher::platform("linux/amd64".parse().unwrap());
        let removed = remove_manifests(Arc::clone(&base), amd.clone());
        let entries = removed.index_manifest().unwrap().manifests;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].platform, Some("linux/arm64".parse().unwrap()));
        assert_eq!(removed.manifests().unwrap().len(), 1);
        assert_eq!(removed.media_type().unwrap(), MediaType::DockerManifestList);

        let new_amd = image_for(3, "linux/amd64");
        let replaced = replace_manifests(
            Arc::clone(&base),
            amd,
            vec![IndexAddendum::image(Arc::clone(&new_amd))],
        );
        let entries = replaced.index_manifest().unwrap().manifests;
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].digest, new_amd.digest().unwrap());

        let outer = append_manifests(
            empty_index(Family::Oci),
            vec![IndexAddendum::index(Arc::clone(&replaced))],
        );
        let entry = &outer.index_manifest().unwrap().manifests[0];
        assert_eq!(entry.digest, replaced.digest().unwrap());
        assert!(matches!(outer.manifests().unwrap()[0], Child::Index(_)));
        assert!(outer.image_index(&entry.digest).is_ok());
    }
}

mod config_edits {
    use oci_partial::mutate::{canonical, edit_config, Edit, CANONICAL_TIME};
    use oci_partial::Image;
    use oci_types::History;
    use serde_json::{json, Value};

    use super::hello;

    fn config_json(image: &dyn Image) -> Value {
        serde_json::from_slice(&image.raw_config_file().unwrap()).unwrap()
    }

    #[test]
    fn no_edits_keep_the_image_and_edits_change_only_what_they_name() {
        let base = hello();
        let same = edit_config(base.clone(), Vec::new());
        assert_eq!(
            same.raw_config_file().unwrap(),
            base.raw_config_file().unwrap()
        );
        assert_eq!(same.digest().unwrap(), base.digest().unwrap());

        let edited = edit_config(
            base.clone(),
            vec![
                Edit::Entrypoint(Some(vec!["/bin/app".into()])),
                Edit::Cmd(None),
                Edit::SetEnv {
                    key: "GREETING".into(),
                    value: "bye".into(),
                },
                Edit::SetEnv {
                    key: "NEW".into(),
                    value: "1".into(),
                },
                Edit::Label {
                    key: "org.example.x".into(),
                    value: Some("y".into()),
                },
                Edit::User("1000:1000".into()),
                Edit::WorkingDir("/srv".into()),
                Edit::ExposePort("8080".into()),
                Edit::Volume("/data".into()),
                Edit::StopSignal("SIGTERM".into()),
                Edit::Author("me".into()),
                Edit::History(History::new("ocikit mutate", None)),
            ],
        );
        let before = config_json(base.as_ref());
        let mut after = config_json(edited.as_ref());
        let c = &after["config"];
        assert_eq!(c["Entrypoint"], json!(["/bin/app"]));
        assert!(c.get("Cmd").is_none());
        let env = before["config"]["Env"].as_array().unwrap();
        let path = env
            .iter()
            .find(|e| e.as_str().unwrap().starts_with("PATH="))
            .unwrap();
        // Order kept: PATH stays first, the changed key in place, the new one at the end.
        assert_eq!(c["Env"], json!([path, "GREETING=bye", "NEW=1"]));
        assert_eq!(c["Labels"]["org.example.x"], "y");
        assert_eq!(c["Labels"]["org.opencontainers.image.title"], "hello");
        assert_eq!(c["User"], "1000:1000");
        assert_eq!(c["WorkingDir"], "/srv");
        assert_eq!(c["ExposedPorts"], json!({"8080/tcp": {}}));
        assert_eq!(c["Volumes"], json!({"/data": {}}));
        assert_eq!(c["StopSignal"], "SIGTERM");
        assert_eq!(after["author"], "me");
        let history = after["history"].as_array().unwrap();
        assert_eq!(
            history.len(),
            before["history"].as_array().unwrap().len() + 1
        );
        assert_eq!(history.last().unwrap()["created_by"], "ocikit mutate");

        // Everything else is as it was, keys in the same order.
        let a = after.as_object_mut().unwrap();
        a.shift_remove("author");
        a.shift_remove("history");
        let mut b = before.clone();
        let b = b.as_object_mut().unwrap();
        b.shift_remove("history");
        let (ac, bc) = (
            a.shift_remove("config").unwrap(),
            b.shift_remove("config").unwrap(),
        );
        assert_eq!(a, b);
        assert_eq!(
            serde_json::to_string(a).unwrap(),
            serde_json::to_string(b).unwrap()
        );
        for (k, v) in bc.as_object().unwrap() {
            if !["Entrypoint", "Cmd", "Env", "Labels", "User", "WorkingDir"].contains(&k.as_str()) {
                assert_eq!(&ac[k], v, "{k}");
            }
        }
        // The manifest points at the new config.
        assert_eq!(
            edited.manifest().unwrap().config.digest,
            edited.config_name().unwrap()
        );
        assert_eq!(edited.layers().unwrap().len(), base.layers().unwrap().len());
    }

    #[test]
    fn unset_env_and_labels_and_canonical_times() {
        let base = hello();
        let edited = edit_config(
            base,
            vec![
                Edit::UnsetEnv("GREETING".into()),
                Edit::Label {
                    key: "org.opencontainers.image.title".into(),
                    value: None,
                },
                Edit::HistoryCreated("2000-01-01T00:00:00Z".into()),
            ],
        );
        let v = config_json(edited.as_ref());
        assert!(!v["config"]["Env"].to_string().contains("GREETING"));
        assert!(v["config"]["Labels"].as_object().unwrap().is_empty());
        for h in v["history"].as_array().unwrap() {
            assert_eq!(h["created"], "2000-01-01T00:00:00Z");
        }
        // (SOURCE_DATE_EPOCH is not set in this test process.)
        if std::env::var_os("SOURCE_DATE_EPOCH").is_none() {
            let c = canonical(edited).unwrap();
            let v = config_json(c.as_ref());
            assert_eq!(v["created"], CANONICAL_TIME);
            for h in v["history"].as_array().unwrap() {
                assert_eq!(h["created"], CANONICAL_TIME);
            }
        }
    }
}

mod rebasing {
    use std::sync::Arc;

    use oci_partial::mutate::{append_layers, edit_config, rebase, Addendum, Edit};
    use oci_partial::{random, validate_image, Error, ValidateOptions};
    use oci_types::History;

    #[test]
    fn rebase_is_building_on_the_new_base_directly() {
        let old_base = edit_config(
            random::image(1, 2, 1000),
            vec![
                Edit::History(History::new("old 0", None)),
                Edit::History(History::new("old 1", None)),
            ],
        );
        let new_base = edit_config(
            random::image_with(
                2,
                1,
                1000,
                &random::Options::default().platform("linux/arm64".parse().unwrap()),
            ),
            vec![Edit::History(History::new("new 0", None))],
        );
        let top = random::layer(3, 1000);
        let app = append_layers(
            Arc::clone(&old_base),
            vec![Addendum::new(Arc::clone(&top)).with_history(History::new("app", None))],
        );
        let app = edit_config(app, vec![Edit::User("app".into())]);
        let rebased = rebase(Arc::clone(&app), old_base.as_ref(), Arc::clone(&new_base)).unwrap();
        let direct = append_layers(Arc::clone(&new_base), vec![Addendum::new(top)]);

        let cfg = rebased.config_file().unwrap();
        assert_eq!(
            cfg.rootfs.diff_ids,
            direct.config_file().unwrap().rootfs.diff_ids
        );
        assert_eq!(cfg.architecture, "arm64");
        assert_eq!(cfg.config.unwrap().user.as_deref(), Some("app"));
        let history: Vec<_> = cfg
            .history
            .unwrap()
            .into_iter()
            .map(|h| h.created_by.unwrap_or_default())
            .collect();
        assert_eq!(history, ["random layer 0 of seed 0x2", "new 0", "app"]);
        assert_eq!(rebased.layers().unwrap().len(), 2);
        validate_image(rebased.as_ref(), ValidateOptions::default()).unwrap();
        assert_eq!(
            rebased.manifest().unwrap().layers[0],
            new_base.manifest().unwrap().layers[0]
        );

        // An image not built on the old base is refused.
        let Err(e) = rebase(new_base, old_base.as_ref(), app) else {
            panic!("rebased an image that is not on the old base");
        };
        assert!(
            matches!(
                e,
                Error::Invalid {
                    what: "rebase",
                    kind: oci_partial::InvalidKind::BaseHasMoreLayers { base: 2, image: 1 }
                }
            ),
            "{e}"
        );
    }
}
