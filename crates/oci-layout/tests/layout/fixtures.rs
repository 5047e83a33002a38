//! Layouts written by umoci and skopeo (the shared fixtures), read with every digest
//! verified.

use oci_layout::Layout;
use oci_partial::{validate_image, validate_index, ValidateOptions};
use oci_types::{Digest, MediaType, Platform};

use crate::common::{fixtures, read_all};

fn d(s: &str) -> Digest {
    s.parse().unwrap()
}

/// What the fixtures README says about an image.
pub(crate) struct Expected {
    pub(crate) manifest: &'static str,
    pub(crate) config: &'static str,
    pub(crate) layers: [&'static str; 2],
    pub(crate) diff_ids: [&'static str; 2],
    pub(crate) layer_type: MediaType,
}

pub(crate) const HELLO_DIFF_IDS: [&str; 2] = [
    "sha256:5260bd3926c36c318835046b8882c825b45f62c74f4d25a6d4a205358f266e16",
    "sha256:9d82869a1a6009a8095f6f5e98545abad1f2077651b2a19c8485157f16063eb9",
];
pub(crate) const HELLO_CONFIG: &str =
    "sha256:9e8d0e1ececf619ff977fa70e8da7da502afbb36e328293c5fdac4d9c8038ede";

/// Reads `name` from `layout`, checks it against `expected` and validates it in full
/// (every blob and every uncompressed layer hashed).
pub(crate) fn check_image(layout: &Layout, name: &str, expected: &Expected) {
    let image = layout.image_by_ref(name).unwrap();
    assert_eq!(image.digest().unwrap(), d(expected.manifest));
    assert_eq!(image.config_name().unwrap(), d(expected.config));
    assert_eq!(image.media_type().unwrap(), MediaType::OciManifest);
    let layers = image.layers().unwrap();
    assert_eq!(layers.len(), 2);
    for (i, l) in layers.iter().enumerate() {
        assert_eq!(l.digest().unwrap(), d(expected.layers[i]));
        assert_eq!(l.media_type().unwrap(), expected.layer_type);
        assert_eq!(l.diff_id().unwrap(), d(expected.diff_ids[i]));
        assert_eq!(
            Digest::sha256(&read_all(l.compressed().unwrap())),
            d(expected.layers[i])
        );
        assert_eq!(
            Digest::sha256(&read_all(l.uncompressed().unwrap())),
            d(expected.diff_ids[i])
        );
    }
    validate_image(image.as_ref(), ValidateOptions::default()).unwrap();
}

pub(crate) fn hello_gzip() -> Expected {
    Expected {
        manifest: "sha256:8056f20c74ed337af335d562694f59ec3e55d618139a120000f528f8139db34b",
        config: HELLO_CONFIG,
        layers: [
            "sha256:017cc9880756317eb7e94aa2da03ab921878ee450f1296ce4073b268203896e7",
            "sha256:ccea505ee7e7620339c0fd46f060e164734e9b843d0927075ae5a780ec2c8670",
        ],
        diff_ids: HELLO_DIFF_IDS,
        layer_type: MediaType::OciLayerGzip,
    }
}

#[test]
fn reads_the_umoci_layout() {
    let layout = Layout::open(fixtures().join("oci-layout")).unwrap();
    check_image(&layout, "hello", &hello_gzip());
    check_image(
        &layout,
        "hello-extra",
        &Expected {
            manifest: "sha256:77428be40ef7b7f55ee058598993a9ddfcff6c610802b133f28c49770a3f7bcc",
            config: "sha256:f552552ccc56e21b24b19b73c51f43138efcb8a04c118a5aa1ea59e1a8299176",
            layers: [
                "sha256:017cc9880756317eb7e94aa2da03ab921878ee450f1296ce4073b268203896e7",
                "sha256:c1d407e00ef4356d6e681337aa3799576f5cc564483f4a564eaa210f851138a9",
            ],
            diff_ids: [
                "sha256:5260bd3926c36c318835046b8882c825b45f62c74f4d25a6d4a205358f266e16",
                "sha256:fa4348d7df31ca407ba1712f771b089ade2e372ab32d7d916fe2296842e7c2d2",
            ],
            layer_type: MediaType::OciLayerGzip,
        },
    );
    // umoci's entries carry no platform: found by the config.
    let amd64 = layout
        .image_by_platform(&Platform::new("linux", "amd64"))
        .unwrap();
    assert_eq!(amd64.descriptor().unwrap().ref_name(), Some("hello"));
    validate_index(
        layout.image_index().unwrap().as_ref(),
        ValidateOptions::default(),
    )
    .unwrap();
    // Reading changed nothing.
    assert!(!fixtures().join("oci-layout/ingest").exists());
}

#[test]
fn reads_the_skopeo_zstd_layout() {
    let layout = Layout::open(fixtures().join("oci-layout-zstd")).unwrap();
    check_image(
        &layout,
        "hello",
        &Expected {
            manifest: "sha256:af5c82343b2b6ecca3ae8a195209d67197200a5d5e934cb236eaf29b4079c001",
            config: HELLO_CONFIG,
            layers: [
                "sha256:8650cf108752755fd4cd15816a539dd1aa26f7219bbdf7ab7958008233141b91",
                "sha256:5b6721f349dc10edea55863dbbb31c38d63ec9e7c4f99a1bb9760490edfa6ef2",
            ],
            diff_ids: HELLO_DIFF_IDS,
            layer_type: MediaType::OciLayerZstd,
        },
    );
}

#[test]
fn copies_a_fixture_image_into_a_new_layout() {
    let from = Layout::open(fixtures().join("oci-layout")).unwrap();
    let (_dir, to) = crate::common::new_layout();
    let image = from.image_by_ref("hello").unwrap();
    let desc = to.write_image(image.as_ref(), Some("hello")).unwrap();
    assert_eq!(desc.digest, image.digest().unwrap());
    // The config gave the entry a platform.
    assert_eq!(desc.platform, Some(Platform::new("linux", "amd64")));
    check_image(&to, "hello", &hello_gzip());
    let all = from.image_index().unwrap();
    to.write_index(all.as_ref(), Some("everything")).unwrap();
    validate_index(
        to.index_by_ref("everything").unwrap().as_ref(),
        ValidateOptions::default(),
    )
    .unwrap();
}
