//! Conversions to and from the `oci-spec` crate (feature `oci-spec`).

use oci_spec::image as spec;
use oci_types::{ConfigFile, Descriptor, Error, Extra, Index, Manifest, MediaType, Platform, Raw};
use proptest::prelude::*;
use serde_json::Value;

use crate::{data, CONFIGS, INDEXES, MANIFESTS};

/// Fixtures whose platforms carry `os.features`/`os.version`, which `oci-spec` 0.8 does not
/// read from JSON (it expects `os_features`/`os_version`), so its own parse differs.
const OS_FIELDS: &[&str] = &[
    "oci-image-index-os-features.json",
    "docker-manifest-list-windows.json",
];

/// What the conversion to `oci-spec` is documented to lose from a config.
fn config_without_lossy_fields(c: &ConfigFile) -> ConfigFile {
    let mut c = c.clone();
    c.extra = Extra::new();
    c.rootfs.extra = Extra::new();
    if let Some(cc) = c.config.as_mut() {
        cc.extra = Extra::new();
        cc.args_escaped = None;
        cc.healthcheck = None;
        cc.on_build = None;
        cc.shell = None;
        for map in [cc.exposed_ports.as_mut(), cc.volumes.as_mut()]
            .into_iter()
            .flatten()
        {
            map.values_mut()
                .for_each(|v| *v = Value::Object(Extra::new()));
        }
    }
    for h in c.history.iter_mut().flatten() {
        h.extra = Extra::new();
    }
    c
}

/// `oci-spec` reads `ExposedPorts`/`Volumes` through a `HashMap`; sort for comparison.
fn sorted(mut c: spec::ImageConfiguration) -> spec::ImageConfiguration {
    if let Some(cfg) = c.config().clone() {
        let mut cfg = cfg;
        let sort = |v: &Option<Vec<String>>| {
            v.clone().map(|mut v| {
                v.sort();
                v
            })
        };
        let (ports, volumes) = (sort(cfg.exposed_ports()), sort(cfg.volumes()));
        cfg.set_exposed_ports(ports).set_volumes(volumes);
        c.set_config(Some(cfg));
    }
    c
}

fn descriptor_without_extra(d: &mut Descriptor) {
    d.extra = Extra::new();
    if let Some(p) = d.platform.as_mut() {
        p.extra = Extra::new();
    }
}

fn manifest_without_extra(m: &Manifest) -> Manifest {
    let mut m = m.clone();
    m.extra = Extra::new();
    descriptor_without_extra(&mut m.config);
    m.layers
        .iter_mut()
        .chain(m.subject.as_mut())
        .for_each(descriptor_without_extra);
    m
}

fn index_without_extra(i: &Index) -> Index {
    let mut i = i.clone();
    i.extra = Extra::new();
    i.manifests
        .iter_mut()
        .chain(i.subject.as_mut())
        .for_each(descriptor_without_extra);
    i
}

#[test]
fn manifests_convert_both_ways() {
    for name in MANIFESTS {
        let bytes = data(name);
        let ours = Raw::<Manifest>::parse(bytes.clone()).unwrap();
        let theirs_parsed: spec::ImageManifest = serde_json::from_slice(&bytes).unwrap();
        let theirs = spec::ImageManifest::try_from(ours.value()).unwrap();
        assert_eq!(theirs, theirs_parsed, "{name}: ours -> oci-spec");
        let back = Manifest::try_from(&theirs_parsed).unwrap();
        assert_eq!(&back, ours.value(), "{name}: oci-spec -> ours");
        assert_eq!(
            Manifest::try_from(&theirs).unwrap(),
            *ours.value(),
            "{name}"
        );
    }
}

#[test]
fn indexes_convert_both_ways() {
    for name in INDEXES {
        let bytes = data(name);
        let ours = Raw::<Index>::parse(bytes.clone()).unwrap();
        let theirs = spec::ImageIndex::try_from(ours.value()).unwrap();
        assert_eq!(
            Index::try_from(&theirs).unwrap(),
            *ours.value(),
            "{name}: ours -> oci-spec -> ours"
        );
        if !OS_FIELDS.contains(name) {
            let theirs_parsed: spec::ImageIndex = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(theirs, theirs_parsed, "{name}: ours -> oci-spec");
            assert_eq!(
                Index::try_from(&theirs_parsed).unwrap(),
                *ours.value(),
                "{name}: oci-spec -> ours"
            );
        }
    }
    // The fields oci-spec's JSON would lose are carried over by the conversion.
    let ours = Index::from_slice(&data("docker-manifest-list-windows.json")).unwrap();
    let theirs = spec::ImageIndex::try_from(&ours).unwrap();
    let p = theirs.manifests()[0].platform().as_ref().unwrap();
    assert_eq!(p.os(), &spec::Os::Windows);
    assert_eq!(p.architecture(), &spec::Arch::Amd64);
    assert_eq!(p.os_version().as_deref(), Some("10.0.17763.5329"));
    assert_eq!(
        p.os_features().as_deref(),
        Some(&["win32k".to_string()][..])
    );
    let p = theirs.manifests()[1].platform().as_ref().unwrap();
    assert_eq!(p.variant().as_deref(), Some("v8"));
}

#[test]
fn configs_convert_both_ways() {
    for name in CONFIGS {
        let bytes = data(name);
        let ours = Raw::<ConfigFile>::parse(bytes.clone()).unwrap();
        let theirs = spec::ImageConfiguration::from(ours.value());
        let theirs_parsed: spec::ImageConfiguration = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            sorted(theirs.clone()),
            sorted(theirs_parsed.clone()),
            "{name}: ours -> oci-spec"
        );
        let expected = config_without_lossy_fields(ours.value());
        assert_eq!(
            ConfigFile::try_from(&theirs).unwrap(),
            expected,
            "{name}: ours -> oci-spec -> ours"
        );
        assert_eq!(
            ConfigFile::try_from(&theirs_parsed).unwrap(),
            expected,
            "{name}: oci-spec -> ours"
        );
    }
    // The OCI example has nothing oci-spec lacks: the round trip is exact.
    let ours = ConfigFile::from_slice(&data("oci-config.json")).unwrap();
    let back = ConfigFile::try_from(&spec::ImageConfiguration::from(&ours)).unwrap();
    assert_eq!(back, ours);
}

#[test]
fn descriptor_and_platform_convert_both_ways() {
    let bytes = data("oci-empty-descriptor.json");
    let ours: Descriptor = serde_json::from_slice(&bytes).unwrap();
    let theirs_parsed: spec::Descriptor = serde_json::from_slice(&bytes).unwrap();
    let theirs = spec::Descriptor::try_from(&ours).unwrap();
    assert_eq!(theirs, theirs_parsed);
    assert_eq!(theirs.media_type(), &spec::MediaType::EmptyJSON);
    assert_eq!(theirs.data().as_deref(), Some("e30="));
    assert_eq!(Descriptor::try_from(&theirs_parsed).unwrap(), ours);

    for s in [
        "linux/amd64",
        "linux/arm/v7",
        "linux/386",
        "windows/arm64/v8",
        "plan9/armbe",
        "zos/s390x",
        "x/y/z",
    ] {
        let mut p: Platform = s.parse().unwrap();
        p.os_version = Some("10.0".into());
        p.os_features = vec!["win32k".into()];
        p.features = vec!["sse4".into()];
        let theirs = spec::Platform::from(&p);
        assert_eq!(theirs.architecture().to_string(), p.architecture, "{s}");
        assert_eq!(theirs.os().to_string(), p.os, "{s}");
        assert_eq!(Platform::from(&theirs), p, "{s}");
    }
}

#[test]
fn what_cannot_convert() {
    // oci-spec checks sha384 lengths; this crate treats sha384 as an unknown algorithm.
    let d = Descriptor::new(MediaType::OciLayer, "sha384:abcd".parse().unwrap(), 1);
    assert!(matches!(
        spec::Descriptor::try_from(&d),
        Err(Error::Invalid { .. })
    ));
    let mut m = Manifest::from_slice(&data("oci-image-manifest.json")).unwrap();
    m.layers.push(d);
    assert!(matches!(
        spec::ImageManifest::try_from(&m),
        Err(Error::Invalid { .. })
    ));

    // Over-long digests are refused by this crate.
    let long: spec::Digest = format!("sha999:{}", "a".repeat(2000)).parse().unwrap();
    let theirs = spec::Descriptor::new(spec::MediaType::ImageLayer, 1, long);
    assert!(matches!(
        Descriptor::try_from(&theirs),
        Err(Error::InvalidDigest { .. })
    ));

    // oci-spec documents get the same checks as parsed ones.
    let mut theirs: spec::ImageManifest =
        serde_json::from_slice(&data("oci-image-manifest.json")).unwrap();
    theirs.set_schema_version(1);
    assert!(matches!(
        Manifest::try_from(&theirs),
        Err(Error::Invalid {
            what: "manifest",
            ..
        })
    ));
    theirs.set_schema_version(2);
    theirs.set_media_type(Some(spec::MediaType::ImageIndex));
    assert!(matches!(
        Manifest::try_from(&theirs),
        Err(Error::Invalid { .. })
    ));
    let mut index = spec::ImageIndex::default();
    index.set_media_type(Some(spec::MediaType::ImageManifest));
    assert!(matches!(
        Index::try_from(&index),
        Err(Error::Invalid { what: "index", .. })
    ));

    let mut config: spec::ImageConfiguration =
        serde_json::from_slice(&data("oci-config.json")).unwrap();
    config
        .rootfs_mut()
        .set_diff_ids(vec!["sha256:nothex".into()]);
    assert!(matches!(
        ConfigFile::try_from(&config),
        Err(Error::InvalidDigest { .. })
    ));
}

#[test]
fn unknown_fields_are_dropped_going_to_oci_spec() {
    let mut m = Manifest::from_slice(&data("oci-image-manifest.json")).unwrap();
    m.extra.insert("x-top".into(), 1.into());
    m.layers[0].extra.insert("x-layer".into(), 2.into());
    let back = Manifest::try_from(&spec::ImageManifest::try_from(&m).unwrap()).unwrap();
    assert!(back.extra.is_empty() && back.layers[0].extra.is_empty());
    assert_eq!(back, manifest_without_extra(&m));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn generated_manifests_round_trip(m in crate::props::manifest()) {
        let theirs = spec::ImageManifest::try_from(&m).unwrap();
        prop_assert_eq!(Manifest::try_from(&theirs).unwrap(), manifest_without_extra(&m));
    }

    #[test]
    fn generated_indexes_round_trip(i in crate::props::index()) {
        let theirs = spec::ImageIndex::try_from(&i).unwrap();
        prop_assert_eq!(Index::try_from(&theirs).unwrap(), index_without_extra(&i));
    }

    #[test]
    fn generated_configs_round_trip(c in crate::props::config_file()) {
        let theirs = spec::ImageConfiguration::from(&c);
        prop_assert_eq!(ConfigFile::try_from(&theirs).unwrap(), config_without_lossy_fields(&c));
    }
}
