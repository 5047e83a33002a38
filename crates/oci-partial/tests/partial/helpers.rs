//! The free helpers: config_layer, blob/diff_id mapping, descriptors, artifact_type,
//! compute_manifests.

use std::sync::Arc;

use oci_partial::{
    artifact_type, blob_to_diff_id, compute_manifests, config_layer, descriptor, diff_id_to_blob,
    exists, uncompressed_size, Child, Error, ImageIndex,
};
use oci_types::{Digest, Manifest, MediaType};

use crate::support::{d, fixtures, read_all, Layout, LayoutIndex};

#[test]
fn blob_and_diff_id_map_both_ways_on_every_fixture_layer() {
    for (layout, name) in [
        ("oci-layout", "hello"),
        ("oci-layout", "hello-extra"),
        ("oci-layout-zstd", "hello"),
    ] {
        let img = Layout::open(fixtures().join(layout)).image(name);
        let m = img.manifest().unwrap();
        let c = img.config_file().unwrap();
        for (desc, diff_id) in m.layers.iter().zip(&c.rootfs.diff_ids) {
            assert_eq!(
                &blob_to_diff_id(img.as_ref(), &desc.digest).unwrap(),
                diff_id
            );
            assert_eq!(diff_id_to_blob(img.as_ref(), diff_id).unwrap(), desc.digest);
        }
        let nothing = Digest::sha256(b"nothing");
        assert!(matches!(
            blob_to_diff_id(img.as_ref(), &nothing),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            diff_id_to_blob(img.as_ref(), &nothing),
            Err(Error::NotFound { .. })
        ));
    }
}

#[test]
fn mismatched_layer_and_diff_id_counts_are_an_error() {
    let img = Layout::open(fixtures().join("oci-layout")).image("hello");
    let mut config = img.config_file().unwrap();
    config.rootfs.diff_ids.pop();
    let broken = oci_partial::mutate::with_config_file(img, config);
    let err = blob_to_diff_id(
        broken.as_ref(),
        &broken.manifest().unwrap().layers[0].digest,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                kind: oci_partial::InvalidKind::LayerCount { layers, diff_ids },
                ..
            } if layers == diff_ids + 1
        ),
        "{err}"
    );
}

#[test]
fn config_as_a_layer() {
    let img = Layout::open(fixtures().join("oci-layout")).image("hello");
    let l = config_layer(img.as_ref()).unwrap();
    let raw = img.raw_config_file().unwrap();
    let digest = d("sha256:9e8d0e1ececf619ff977fa70e8da7da502afbb36e328293c5fdac4d9c8038ede");
    assert_eq!(l.digest().unwrap(), digest);
    assert_eq!(l.diff_id().unwrap(), digest);
    assert_eq!(l.size().unwrap(), 652);
    assert_eq!(l.uncompressed_size().unwrap(), 652);
    assert_eq!(l.media_type().unwrap(), MediaType::OciConfig);
    assert_eq!(read_all(l.compressed().unwrap()), raw);
    assert_eq!(read_all(l.uncompressed().unwrap()), raw);
    assert_eq!(l.descriptor().unwrap(), img.manifest().unwrap().config);
    assert!(exists(l.as_ref()).unwrap());
}

#[test]
fn descriptors_of_everything() {
    let layout = Layout::open(fixtures().join("oci-layout"));
    let img = layout.image("hello");
    let m = img.manifest().unwrap();
    let layers = img.layers().unwrap();
    assert_eq!(descriptor(layers[0].as_ref()).unwrap(), m.layers[0]);
    assert_eq!(uncompressed_size(layers[1].as_ref()).unwrap(), 3584);
    let desc = descriptor(img.as_ref()).unwrap();
    assert_eq!(
        desc.digest,
        d("sha256:8056f20c74ed337af335d562694f59ec3e55d618139a120000f528f8139db34b")
    );
    assert_eq!((desc.size, desc.media_type), (499, MediaType::OciManifest));
    let index: Arc<dyn ImageIndex> = Arc::new(LayoutIndex(layout));
    assert_eq!(
        descriptor(index.as_ref()).unwrap().media_type,
        MediaType::OciIndex
    );
}

#[test]
fn compute_manifests_maps_every_child_by_digest() {
    let layout = Layout::open(fixtures().join("oci-layout"));
    let index = LayoutIndex(Arc::clone(&layout));
    let children = compute_manifests(&index).unwrap();
    let hello = d("sha256:8056f20c74ed337af335d562694f59ec3e55d618139a120000f528f8139db34b");
    let extra = d("sha256:77428be40ef7b7f55ee058598993a9ddfcff6c610802b133f28c49770a3f7bcc");
    assert_eq!(children.keys().cloned().collect::<Vec<_>>(), {
        let mut v = vec![hello.clone(), extra.clone()];
        v.sort();
        v
    });
    match &children[&extra] {
        Child::Image(img) => {
            // The child carries its index entry (annotations) and is the real image.
            assert_eq!(
                descriptor(img.as_ref()).unwrap().ref_name(),
                Some("hello-extra")
            );
            assert_eq!(img.digest().unwrap(), extra);
            assert_eq!(img.layers().unwrap().len(), 2);
        }
        other => panic!("expected an image, got {other:?}"),
    }
    assert_eq!(
        descriptor(&children[&hello]).unwrap().ref_name(),
        Some("hello")
    );
}

fn manifest(json: &str) -> Manifest {
    Manifest::from_slice(json.as_bytes()).unwrap()
}

#[test]
fn artifact_type_rule() {
    let config = |mt: &str| {
        format!(
            r#"{{"mediaType":"{mt}","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}}"#
        )
    };
    let m = manifest(&format!(
        r#"{{"schemaVersion":2,"artifactType":"application/vnd.example.sbom","config":{},"layers":[]}}"#,
        config("application/vnd.oci.empty.v1+json")
    ));
    assert_eq!(
        artifact_type(&m),
        MediaType::from("application/vnd.example.sbom")
    );
    let m = manifest(&format!(
        r#"{{"schemaVersion":2,"config":{},"layers":[]}}"#,
        config("application/vnd.example.config")
    ));
    assert_eq!(
        artifact_type(&m),
        MediaType::from("application/vnd.example.config")
    );
    // An image: its config type. The empty type is returned as it is (go-containerregistry).
    let img = Layout::open(fixtures().join("oci-layout")).image("hello");
    assert_eq!(
        artifact_type(&img.manifest().unwrap()),
        MediaType::OciConfig
    );
    let m = manifest(&format!(
        r#"{{"schemaVersion":2,"config":{},"layers":[]}}"#,
        config("application/vnd.oci.empty.v1+json")
    ));
    assert_eq!(artifact_type(&m), MediaType::OciEmpty);
}
