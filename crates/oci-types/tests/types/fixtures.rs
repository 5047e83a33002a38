//! The shared fixtures written by umoci and skopeo (see fixtures/README.md).

use std::fs::File;
use std::io::Read;

use oci_types::{ConfigFile, Digest, Index, Manifest, MediaType, Raw, VerifyingReader};

use crate::{digest, shared};

/// Every blob's file name is the sha256 of its bytes.
#[test]
fn blob_names_are_their_digests() {
    for layout in ["oci-layout", "oci-layout-zstd"] {
        let dir = shared(&format!("{layout}/blobs/sha256"));
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            let expected = Digest::from_parts("sha256", &name).unwrap();
            let bytes = std::fs::read(entry.path()).unwrap();
            assert_eq!(Digest::sha256(&bytes), expected, "{layout}/{name}");
            expected.verify(&bytes).unwrap();
            // Streaming gives the same verdict.
            let mut r = VerifyingReader::new(
                File::open(entry.path()).unwrap(),
                expected,
                Some(bytes.len() as u64),
            )
            .unwrap();
            std::io::copy(&mut r, &mut std::io::sink()).unwrap();
            assert!(r.is_verified());
            n += 1;
        }
        assert_eq!(n, if layout == "oci-layout" { 7 } else { 4 }, "{layout}");
    }
}

struct Expected {
    ref_name: &'static str,
    manifest: &'static str,
    manifest_size: u64,
    config: &'static str,
    config_size: u64,
    layer_type: MediaType,
    layers: [(&'static str, u64); 2],
    diff_ids: [&'static str; 2],
    cmd: [&'static str; 2],
}

/// Values from fixtures/README.md.
fn expected() -> Vec<(&'static str, Vec<Expected>)> {
    let hello_config = "sha256:9e8d0e1ececf619ff977fa70e8da7da502afbb36e328293c5fdac4d9c8038ede";
    let layer1 = "sha256:017cc9880756317eb7e94aa2da03ab921878ee450f1296ce4073b268203896e7";
    let diff1 = "sha256:5260bd3926c36c318835046b8882c825b45f62c74f4d25a6d4a205358f266e16";
    let diff2 = "sha256:9d82869a1a6009a8095f6f5e98545abad1f2077651b2a19c8485157f16063eb9";
    vec![
        (
            "oci-layout",
            vec![
                Expected {
                    ref_name: "hello",
                    manifest: "sha256:8056f20c74ed337af335d562694f59ec3e55d618139a120000f528f8139db34b",
                    manifest_size: 499,
                    config: hello_config,
                    config_size: 652,
                    layer_type: MediaType::OciLayerGzip,
                    layers: [
                        (layer1, 298),
                        ("sha256:ccea505ee7e7620339c0fd46f060e164734e9b843d0927075ae5a780ec2c8670", 219),
                    ],
                    diff_ids: [diff1, diff2],
                    cmd: ["cat", "greeting.txt"],
                },
                Expected {
                    ref_name: "hello-extra",
                    manifest: "sha256:77428be40ef7b7f55ee058598993a9ddfcff6c610802b133f28c49770a3f7bcc",
                    manifest_size: 499,
                    config: "sha256:f552552ccc56e21b24b19b73c51f43138efcb8a04c118a5aa1ea59e1a8299176",
                    config_size: 661,
                    layer_type: MediaType::OciLayerGzip,
                    layers: [
                        (layer1, 298),
                        ("sha256:c1d407e00ef4356d6e681337aa3799576f5cc564483f4a564eaa210f851138a9", 174),
                    ],
                    diff_ids: [diff1, "sha256:fa4348d7df31ca407ba1712f771b089ade2e372ab32d7d916fe2296842e7c2d2"],
                    cmd: ["cat", "extra.txt"],
                },
            ],
        ),
        (
            "oci-layout-zstd",
            vec![Expected {
                ref_name: "hello",
                manifest: "sha256:af5c82343b2b6ecca3ae8a195209d67197200a5d5e934cb236eaf29b4079c001",
                manifest_size: 498,
                config: hello_config,
                config_size: 652,
                layer_type: MediaType::OciLayerZstd,
                layers: [
                    ("sha256:8650cf108752755fd4cd15816a539dd1aa26f7219bbdf7ab7958008233141b91", 266),
                    ("sha256:5b6721f349dc10edea55863dbbb31c38d63ec9e7c4f99a1bb9760490edfa6ef2", 195),
                ],
                diff_ids: [diff1, diff2],
                cmd: ["cat", "greeting.txt"],
            }],
        ),
    ]
}

fn blob(layout: &str, d: &Digest) -> Vec<u8> {
    std::fs::read(shared(&format!(
        "{layout}/blobs/{}/{}",
        d.algorithm(),
        d.encoded()
    )))
    .unwrap()
}

#[test]
fn layouts_match_the_readme() {
    for (layout, images) in expected() {
        let index_bytes = std::fs::read(shared(&format!("{layout}/index.json"))).unwrap();
        let index = Raw::<Index>::parse(index_bytes).unwrap();
        assert_eq!(
            index.media_type, None,
            "{layout}: index.json has no mediaType"
        );
        assert_eq!(index.manifests.len(), images.len(), "{layout}");
        for (desc, want) in index.manifests.iter().zip(&images) {
            assert_eq!(desc.ref_name(), Some(want.ref_name), "{layout}");
            assert_eq!(desc.media_type, MediaType::OciManifest);
            assert_eq!(desc.digest, digest(want.manifest));
            assert_eq!(desc.size, want.manifest_size);

            let manifest =
                Raw::<Manifest>::parse_verified(blob(layout, &desc.digest), &desc.digest).unwrap();
            assert_eq!(manifest.size(), desc.size);
            assert_eq!(manifest.digest(), &desc.digest);
            assert_eq!(manifest.media_type, None, "umoci and skopeo omit the field");
            assert_eq!(manifest.media_type(), MediaType::OciManifest);
            assert_eq!(manifest.config.media_type, MediaType::OciConfig);
            assert_eq!(manifest.config.digest, digest(want.config));
            assert_eq!(manifest.config.size, want.config_size);
            let layers: Vec<(Digest, u64)> = manifest
                .layers
                .iter()
                .map(|l| (l.digest.clone(), l.size))
                .collect();
            let want_layers: Vec<(Digest, u64)> =
                want.layers.iter().map(|(d, s)| (digest(d), *s)).collect();
            assert_eq!(layers, want_layers, "{layout} {}", want.ref_name);
            assert!(manifest
                .layers
                .iter()
                .all(|l| l.media_type == want.layer_type));
            for l in &manifest.layers {
                let mut r = VerifyingReader::new(
                    File::open(shared(&format!(
                        "{layout}/blobs/sha256/{}",
                        l.digest.encoded()
                    )))
                    .unwrap(),
                    l.digest.clone(),
                    Some(l.size),
                )
                .unwrap();
                let mut sink = Vec::new();
                r.read_to_end(&mut sink).unwrap();
                assert!(r.is_verified());
            }

            let config_bytes = blob(layout, &manifest.config.digest);
            assert_eq!(
                config_bytes.last(),
                Some(&b'\n'),
                "umoci ends the config with a newline"
            );
            let config =
                Raw::<ConfigFile>::parse_verified(config_bytes, &manifest.config.digest).unwrap();
            assert_eq!(config.size(), want.config_size);
            assert_eq!(config.platform().to_string(), "linux/amd64");
            assert_eq!(config.created.as_deref(), Some("2024-02-03T04:05:06Z"));
            let diff_ids: Vec<Digest> = want.diff_ids.iter().map(|d| digest(d)).collect();
            assert_eq!(config.rootfs.diff_ids, diff_ids);
            let cc = config.config.as_ref().unwrap();
            assert_eq!(cc.cmd.as_deref(), Some(&want.cmd.map(String::from)[..]));
            assert_eq!(cc.working_dir.as_deref(), Some("/hello"));
            let title = cc.labels.as_ref().unwrap()["org.opencontainers.image.title"].as_str();
            assert_eq!(title, want.ref_name);
            let history = config.history.as_ref().unwrap();
            assert_eq!(history.len(), 2);
            assert!(history.iter().all(|h| !h.empty_layer));
        }
    }
}

#[test]
fn zstd_layout_keeps_config_bytes() {
    // skopeo recompressed the layers but kept the config bytes, so the digests agree.
    let a = std::fs::read(shared(
        "oci-layout/blobs/sha256/9e8d0e1ececf619ff977fa70e8da7da502afbb36e328293c5fdac4d9c8038ede",
    ))
    .unwrap();
    let b = std::fs::read(shared("oci-layout-zstd/blobs/sha256/9e8d0e1ececf619ff977fa70e8da7da502afbb36e328293c5fdac4d9c8038ede")).unwrap();
    assert_eq!(
        Raw::<ConfigFile>::parse(a).unwrap(),
        Raw::<ConfigFile>::parse(b).unwrap()
    );
}
