//! The example documents of the OCI image-spec and distribution's schema2 spec, and real
//! Docker Hub documents with published digests.

use oci_types::{
    ConfigFile, Descriptor, Digest, Document, Index, Manifest, MediaType, Platform, Raw,
};
use serde_json::Value;

use crate::{data, digest, CONFIGS, INDEXES, MANIFESTS};

/// Parses a fixture with `Raw`, checks the digest is of the file bytes, and checks that
/// serialising and parsing again gives the same value.
fn load<T: Document + PartialEq + std::fmt::Debug>(name: &str) -> Raw<T> {
    let bytes = data(name);
    let raw = Raw::<T>::parse(bytes.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(raw.digest(), &Digest::sha256(&bytes), "{name}");
    assert_eq!(raw.bytes(), &bytes[..], "{name}");
    assert_eq!(raw.size(), bytes.len() as u64, "{name}");
    // Verified parsing accepts the right digest.
    Raw::<T>::parse_verified(bytes, raw.digest()).unwrap();
    // serde round trip: value -> JSON -> value.
    let json = serde_json::to_vec(raw.value()).unwrap();
    let again = Raw::<T>::parse(json).unwrap();
    assert_eq!(
        again.value(),
        raw.value(),
        "{name}: round trip changed the value"
    );
    raw
}

/// Drops `null` members of objects, recursively: this crate reads `null` as absent.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

#[test]
fn every_fixture_serialises_to_the_same_json_modulo_nulls() {
    fn check<T: Document>(name: &str) {
        let bytes = data(name);
        let mut original: Value = serde_json::from_slice(&bytes).unwrap();
        strip_nulls(&mut original);
        let parsed = Raw::<T>::parse(bytes).unwrap();
        let mut reserialised = serde_json::to_value(parsed.value()).unwrap();
        // (Nulls inside unknown fields are kept, known fields drop them; compare without.)
        strip_nulls(&mut reserialised);
        assert_eq!(
            reserialised, original,
            "{name}: serialising lost or added something"
        );
    }
    MANIFESTS.iter().for_each(|n| check::<Manifest>(n));
    INDEXES.iter().for_each(|n| check::<Index>(n));
    CONFIGS.iter().for_each(|n| check::<ConfigFile>(n));
}

#[test]
fn every_fixture_loads_and_round_trips() {
    MANIFESTS.iter().for_each(|n| drop(load::<Manifest>(n)));
    INDEXES.iter().for_each(|n| drop(load::<Index>(n)));
    CONFIGS.iter().for_each(|n| drop(load::<ConfigFile>(n)));
}

#[test]
fn published_docker_hub_digests() {
    // The digests under which Docker Hub served these documents (image-spec's
    // backwards_compatibility_test.go): Raw digests the bytes as stored.
    let cases: [(&str, &str); 4] = [
        (
            "docker-hub-manifest-list.json",
            "sha256:4ffd0883f25635999f04ea543240a27c9a4341979ff7d46a9774f71512eebb1f",
        ),
        (
            "docker-hub-manifest.json",
            "sha256:888206c77cd2811ec47e752ba291e5b7734e3ef137dfd222daadaca39a9f17bc",
        ),
        (
            "docker-hub-config-docker.json",
            "sha256:a059ea7356d5b5a9e0f6352bfa463e7bd4721c2ade3ef168603826e0de6fe54b",
        ),
        (
            "docker-hub-config-fedora.json",
            "sha256:a20665eb1fe2912accb3d5dadaed360430df0d1aa46874875886947d61d3d4ee",
        ),
    ];
    assert_eq!(load::<Index>(cases[0].0).digest(), &digest(cases[0].1));
    assert_eq!(load::<Manifest>(cases[1].0).digest(), &digest(cases[1].1));
    for (name, d) in &cases[2..] {
        let raw = Raw::<ConfigFile>::parse_verified(data(name), &digest(d)).unwrap();
        assert_eq!(raw.digest(), &digest(d));
    }
    // A re-serialisation is a different document with a different digest.
    let raw = load::<Manifest>(cases[1].0);
    let again = Raw::from_value(raw.value().clone()).unwrap();
    assert_ne!(again.digest(), raw.digest());
    assert_eq!(again.value(), raw.value());
}

#[test]
fn oci_image_manifest() {
    let m = load::<Manifest>("oci-image-manifest.json");
    assert_eq!(m.schema_version, 2);
    assert_eq!(m.media_type, Some(MediaType::OciManifest));
    assert_eq!(m.media_type(), MediaType::OciManifest);
    assert_eq!(m.artifact_type, None);
    assert_eq!(m.config.media_type, MediaType::OciConfig);
    assert_eq!(
        m.config.digest,
        digest("sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7")
    );
    assert_eq!(m.config.size, 7023);
    let layers: Vec<(&MediaType, &str, u64)> = m
        .layers
        .iter()
        .map(|l| (&l.media_type, l.digest.encoded(), l.size))
        .collect();
    assert_eq!(
        layers,
        [
            (
                &MediaType::OciLayerGzip,
                "9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
                32654
            ),
            (
                &MediaType::OciLayerGzip,
                "3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b",
                16724
            ),
            (
                &MediaType::OciLayerGzip,
                "ec4b8955958665577945c89419d1af06b5f7636b4ac3da7f12184802ad867736",
                73109
            ),
        ]
    );
    assert!(m
        .layers
        .iter()
        .all(|l| l.media_type.is_layer() && l.media_type.is_distributable()));
    let subject = m.subject.as_ref().unwrap();
    assert_eq!(subject.media_type, MediaType::OciManifest);
    assert_eq!(
        subject.digest,
        digest("sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270")
    );
    assert_eq!(subject.size, 7682);
    assert_eq!(m.annotations.len(), 2);
    assert_eq!(m.annotations["com.example.key1"], "value1");
    assert_eq!(m.annotations["com.example.key2"], "value2");
    assert!(m.extra.is_empty());
}

#[test]
fn oci_artifact_manifests() {
    let m = load::<Manifest>("oci-artifact-manifest.json");
    assert_eq!(
        m.artifact_type,
        Some(MediaType::Other("application/vnd.example+type".into()))
    );
    assert_eq!(m.config.media_type, MediaType::OciEmpty);
    assert_eq!(m.config.digest, Digest::sha256(b"{}"));
    assert_eq!(m.config.size, 2);
    assert_eq!(m.layers.len(), 1);
    assert_eq!(m.layers[0].media_type, MediaType::OciEmpty);
    assert!(!m.layers[0].media_type.is_layer());
    assert_eq!(
        m.annotations["oci.opencontainers.image.created"],
        "2023-01-02T03:04:05Z"
    );
    assert_eq!(m.annotations["com.example.data"], "payload");
    assert_eq!(m.subject, None);

    let m = load::<Manifest>("oci-artifact-manifest-layer.json");
    assert_eq!(
        m.layers[0].media_type,
        MediaType::Other("application/vnd.example+type".into())
    );
    assert_eq!(m.layers[0].size, 1234);
    assert!(m.annotations.is_empty());

    let m = load::<Manifest>("artifact-with-subject.json");
    assert_eq!(
        m.artifact_type.as_ref().map(MediaType::as_str),
        Some("application/vnd.example.signature.v1+json")
    );
    assert_eq!(
        m.config.embedded_data().unwrap().as_deref(),
        Some(&b"{}"[..])
    );
    assert_eq!(
        m.layers[0].annotations["org.opencontainers.image.title"],
        "signature.json"
    );
    let subject = m.subject.as_ref().unwrap();
    assert_eq!(subject.media_type, MediaType::OciManifest);
    assert_eq!(subject.size, 7682);
    assert_eq!(subject.embedded_data().unwrap(), None);
}

#[test]
fn oci_empty_descriptor_with_data() {
    let d: Descriptor = serde_json::from_slice(&data("oci-empty-descriptor.json")).unwrap();
    assert_eq!(d.media_type, MediaType::OciEmpty);
    assert_eq!(d.digest, Digest::sha256(b"{}"));
    assert_eq!(d.size, 2);
    assert_eq!(d.data.as_deref(), Some("e30="));
    assert_eq!(d.embedded_data().unwrap(), Some(b"{}".to_vec()));
    assert_eq!(
        d,
        Descriptor::of_bytes(MediaType::OciEmpty, b"{}").with_data(b"{}")
    );
}

fn platforms(i: &Index) -> Vec<String> {
    i.manifests
        .iter()
        .map(|d| {
            d.platform
                .as_ref()
                .map(Platform::to_string)
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn oci_image_indexes() {
    let i = load::<Index>("oci-image-index.json");
    assert_eq!(i.schema_version, 2);
    assert_eq!(i.media_type, Some(MediaType::OciIndex));
    assert_eq!(i.manifests.len(), 2);
    assert!(i
        .manifests
        .iter()
        .all(|d| d.media_type == MediaType::OciManifest));
    assert_eq!(platforms(&i), ["linux/ppc64le", "linux/amd64"]);
    assert_eq!(i.manifests[0].size, 7143);
    assert_eq!(
        i.manifests[0].digest,
        digest("sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f")
    );
    assert_eq!(i.manifests[1].size, 7682);
    assert_eq!(i.annotations["com.example.key1"], "value1");
    assert_eq!(i.subject, None);

    let i = load::<Index>("oci-image-index-nested.json");
    assert_eq!(i.manifests[1].media_type, MediaType::OciIndex);
    assert!(i.manifests[1].media_type.is_index());
    assert_eq!(i.manifests[1].platform, None);

    // Before 1.0 the example had os.features; absent mediaType means OCI index.
    let i = load::<Index>("oci-image-index-os-features.json");
    assert_eq!(i.media_type, None);
    assert_eq!(i.media_type(), MediaType::OciIndex);
    let p = i.manifests[1].platform.as_ref().unwrap();
    assert_eq!(p.os_features, ["sse4"]);
    assert!(p.features.is_empty());
}

#[test]
fn docker_manifest_lists() {
    let i = load::<Index>("docker-manifest-list.json");
    assert_eq!(i.media_type(), MediaType::DockerManifestList);
    assert!(i
        .manifests
        .iter()
        .all(|d| d.media_type == MediaType::DockerManifest));
    assert_eq!(platforms(&i), ["linux/ppc64le", "linux/amd64"]);
    // Docker's CPU `features`, not OCI's `os.features`.
    let p = i.manifests[1].platform.as_ref().unwrap();
    assert_eq!(p.features, ["sse4"]);
    assert!(p.os_features.is_empty());

    let i = load::<Index>("docker-hub-manifest-list.json");
    assert_eq!(i.media_type(), MediaType::DockerManifestList);
    assert_eq!(
        platforms(&i),
        [
            "linux/ppc64le",
            "linux/amd64",
            "linux/s390x",
            "linux/arm/v7",
            "linux/arm64/v8"
        ]
    );
    let host: Platform = "linux/aarch64".parse().unwrap();
    let chosen: Vec<_> = i
        .manifests
        .iter()
        .filter(|d| d.platform.as_ref().is_some_and(|p| p.matches(&host)))
        .map(|d| d.digest.encoded())
        .collect();
    assert_eq!(
        chosen,
        ["fb2fc0707b86dafa9959fe3d29e66af8787aee4d9a23581714be65db4265ad8a"]
    );

    let i = load::<Index>("docker-manifest-list-windows.json");
    let p = i.manifests[0].platform.as_ref().unwrap();
    assert_eq!(
        (p.os.as_str(), p.architecture.as_str()),
        ("windows", "amd64")
    );
    assert_eq!(p.os_version.as_deref(), Some("10.0.17763.5329"));
    assert_eq!(p.os_features, ["win32k"]);
    assert_eq!(platforms(&i)[1], "linux/arm64/v8");
}

#[test]
fn docker_manifests() {
    let m = load::<Manifest>("docker-manifest.json");
    assert_eq!(m.media_type(), MediaType::DockerManifest);
    assert_eq!(m.config.media_type, MediaType::DockerConfig);
    assert_eq!(m.config.size, 7023);
    assert_eq!(m.layers.len(), 3);
    assert!(m
        .layers
        .iter()
        .all(|l| l.media_type == MediaType::DockerLayerGzip));
    assert_eq!(
        m.layers.iter().map(|l| l.size).sum::<u64>(),
        32654 + 16724 + 73109
    );

    // A real one: config with a non-config media type, kept verbatim.
    let m = load::<Manifest>("docker-hub-manifest.json");
    assert_eq!(
        m.config.media_type,
        MediaType::Other("application/octet-stream".into())
    );
    assert_eq!(m.config.size, 3210);
    assert_eq!(m.layers.len(), 4);
    assert_eq!(m.layers[3].size, 465);
}

#[test]
fn oci_config() {
    let c = load::<ConfigFile>("oci-config.json");
    assert_eq!(c.platform().to_string(), "linux/amd64");
    assert_eq!(c.created.as_deref(), Some("2015-10-31T22:22:56.015925234Z"));
    assert_eq!(
        c.author.as_deref(),
        Some("Alyssa P. Hacker <alyspdev@example.com>")
    );
    let cc = c.config.as_ref().unwrap();
    assert_eq!(cc.user.as_deref(), Some("alice"));
    assert_eq!(
        cc.exposed_ports
            .as_ref()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["8080/tcp"]
    );
    assert_eq!(cc.env.as_ref().unwrap().len(), 3);
    assert_eq!(
        cc.entrypoint.as_deref(),
        Some(&["/bin/my-app-binary".to_string()][..])
    );
    assert_eq!(cc.cmd.as_ref().unwrap()[0], "--foreground");
    assert_eq!(cc.volumes.as_ref().unwrap().len(), 2);
    assert_eq!(cc.working_dir.as_deref(), Some("/home/alice"));
    assert_eq!(
        cc.labels.as_ref().unwrap()["com.example.project.git.commit"],
        "45a939b2999782a3f005621a8d0f29aa387e1d6b"
    );
    assert_eq!(c.rootfs.fs_type, "layers");
    assert_eq!(
        c.rootfs.diff_ids,
        [
            digest("sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1"),
            digest("sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"),
        ]
    );
    let h = c.history.as_ref().unwrap();
    assert_eq!(h.len(), 3);
    assert_eq!(
        h.iter().filter(|h| !h.empty_layer).count(),
        c.rootfs.diff_ids.len()
    );
    assert_eq!(
        h[1].created_by.as_deref(),
        Some("/bin/sh -c #(nop) CMD [\"sh\"]")
    );
    assert!(c.extra.is_empty());
}

#[test]
fn docker_configs_with_nulls() {
    let c = load::<ConfigFile>("docker-hub-config-fedora.json");
    let cc = c.config.as_ref().unwrap();
    assert_eq!(cc.cmd, None, "null Cmd");
    assert_eq!(cc.entrypoint, None, "null Entrypoint");
    assert_eq!(cc.volumes, None);
    assert_eq!(cc.on_build, None);
    assert_eq!(cc.labels.as_ref().map(|l| l.len()), Some(0));
    assert_eq!(cc.user.as_deref(), Some(""));
    // Docker-only fields are kept as unknown ones.
    assert_eq!(cc.extra["Hostname"], "8dfe43d80430");
    assert!(c.extra["container_config"].is_object());
    assert_eq!(c.extra["docker_version"], "1.10.3");
    assert_eq!(
        c.extra["container_config"]["Volumes"],
        serde_json::Value::Null,
        "nulls in unknown fields are kept"
    );
    assert_eq!(
        c.author.as_deref(),
        Some("Patrick Uiterwijk <patrick@puiterwijk.org>")
    );
    let h = c.history.as_ref().unwrap();
    assert!(h[0].empty_layer && !h[1].empty_layer);
    assert_eq!(c.rootfs.diff_ids.len(), 1);

    let c = load::<ConfigFile>("docker-hub-config-docker.json");
    assert_eq!(
        c.config.as_ref().unwrap().on_build.as_deref(),
        Some(&[][..])
    );
    assert_eq!(
        c.history
            .as_ref()
            .unwrap()
            .iter()
            .filter(|h| !h.empty_layer)
            .count(),
        4
    );
    assert_eq!(c.rootfs.diff_ids.len(), 4);

    let c = load::<ConfigFile>("docker-config-nulls.json");
    assert_eq!(c.platform().to_string(), "linux/arm64/v8");
    assert_eq!(c.author, None, "null author");
    let cc = c.config.as_ref().unwrap();
    assert_eq!(cc.labels, None);
    assert_eq!(cc.cmd, None);
    assert_eq!(cc.args_escaped, Some(true));
    assert_eq!(cc.stop_signal.as_deref(), Some("SIGTERM"));
    assert_eq!(cc.shell.as_ref().unwrap(), &["/bin/sh", "-c"]);
    assert_eq!(cc.exposed_ports.as_ref().unwrap().len(), 2);
    let hc = cc.healthcheck.as_ref().unwrap();
    assert_eq!(hc.interval, Some(30_000_000_000));
    assert_eq!(hc.retries, Some(3));
    assert_eq!(hc.test.as_ref().unwrap()[0], "CMD-SHELL");
    assert_eq!(c.extra["container_config"]["Cmd"][0], "/bin/sh");
    assert_eq!(
        c.history.as_ref().unwrap()[2].comment.as_deref(),
        Some("buildkit.dockerfile.v0")
    );
}
