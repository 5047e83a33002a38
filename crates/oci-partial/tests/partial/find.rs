//! `find_images` / `find_indexes` / `find_manifests` and composable `Matcher`s.

use std::sync::Arc;

use oci_partial::{
    find_images, find_indexes, find_manifests, random, Child, Image, ImageIndex, MappedImage,
    Matcher,
};
use oci_types::{Descriptor, Digest, MediaType, Platform};
use proptest::prelude::*;

fn p(s: &str) -> Platform {
    s.parse().unwrap()
}

/// An index of two images, linux/amd64 and linux/arm64/v8, with annotations on the entries.
fn two_platforms() -> Arc<dyn ImageIndex> {
    let amd = random::image_with(
        1,
        1,
        100,
        &random::Options::default().platform(p("linux/amd64")),
    );
    let arm = random::image_with(
        2,
        2,
        100,
        &random::Options::default().platform(p("linux/arm64/v8")),
    );
    let child = |img: Arc<dyn Image>, plat: &str, role: &str| {
        let desc = img
            .descriptor()
            .unwrap()
            .with_platform(p(plat))
            .with_annotation("role", role);
        Child::Image(Arc::new(MappedImage::described(img, desc)))
    };
    random::index_of(
        MediaType::OciIndex,
        vec![
            child(amd, "linux/amd64", "a"),
            child(arm, "linux/arm64/v8", "b"),
        ],
    )
    .unwrap()
}

#[test]
fn a_platform_picks_the_right_child_of_a_two_platform_index() {
    let index = two_platforms();
    let arm = find_images(index.as_ref(), &Matcher::platform(p("linux/arm64"))).unwrap();
    assert_eq!(arm.len(), 1);
    let config = arm[0].config_file().unwrap();
    assert_eq!(
        (config.os.as_str(), config.architecture.as_str()),
        ("linux", "arm64")
    );
    assert_eq!(arm[0].layers().unwrap().len(), 2);
    // The image found is described by its index entry, platform and all.
    let desc = arm[0].descriptor().unwrap();
    assert_eq!(desc.platform, Some(p("linux/arm64/v8")));
    assert_eq!(desc.digest, arm[0].digest().unwrap());

    let amd = find_images(index.as_ref(), &Matcher::platform(p("linux/amd64"))).unwrap();
    assert_eq!(amd.len(), 1);
    assert_eq!(amd[0].config_file().unwrap().architecture, "amd64");

    assert!(
        find_images(index.as_ref(), &Matcher::platform(p("linux/s390x")))
            .unwrap()
            .is_empty()
    );
    assert!(
        find_images(index.as_ref(), &Matcher::platform(p("linux/arm/v7")))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn descriptors_without_a_platform_do_not_match_a_platform() {
    let image = random::image(3, 1, 10); // linux/amd64 config, but no platform in its entry
    let index = random::index_of(MediaType::OciIndex, vec![Child::Image(image)]).unwrap();
    assert!(
        find_manifests(index.as_ref(), &Matcher::platform(p("linux/amd64")))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        find_manifests(index.as_ref(), &Matcher::any())
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn matchers_compose() {
    let d = |plat: Option<&str>, role: &str, mt: MediaType| {
        let mut desc =
            Descriptor::new(mt, Digest::sha256(role.as_bytes()), 7).with_annotation("role", role);
        desc.platform = plat.map(p);
        desc
    };
    let app_amd = d(Some("linux/amd64"), "app", MediaType::OciManifest);
    let app_arm = d(Some("linux/arm64"), "app", MediaType::DockerManifest);
    let attest = d(None, "attestation", MediaType::OciManifest);

    let amd = Matcher::platform(p("linux/amd64"));
    let arm = Matcher::platform(p("linux/arm64/v8"));
    let app = Matcher::annotation("role", "app");
    let oci = Matcher::media_type([MediaType::OciManifest, MediaType::OciIndex]);

    let case = |m: &Matcher| [m.matches(&app_amd), m.matches(&app_arm), m.matches(&attest)];
    assert_eq!(case(&amd), [true, false, false]);
    assert_eq!(case(&arm), [false, true, false]);
    assert_eq!(case(&amd.clone().or(arm.clone())), [true, true, false]);
    assert_eq!(case(&(amd.clone() | arm.clone())), [true, true, false]);
    assert_eq!(case(&amd.clone().and(arm.clone())), [false, false, false]);
    assert_eq!(case(&app.clone().not()), [false, false, true]);
    assert_eq!(case(&!app.clone()), [false, false, true]);
    assert_eq!(case(&(oci.clone() & app.clone())), [true, false, false]);
    assert_eq!(
        case(&oci.clone().and(app.clone().not())),
        [false, false, true]
    );
    assert_eq!(
        case(&Matcher::platforms([p("linux/arm64"), p("linux/amd64")])),
        [true, true, false]
    );
    assert_eq!(case(&Matcher::platforms([])), [false, false, false]);
    assert_eq!(
        case(&Matcher::digest([attest.digest.clone()])),
        [false, false, true]
    );
    assert_eq!(
        case(&Matcher::annotation("role", "ap")),
        [false, false, false]
    );
    assert_eq!(
        case(&Matcher::annotation("rol", "app")),
        [false, false, false]
    );
    assert_eq!(
        case(&Matcher::func(|d| d.platform.is_none())),
        [false, false, true]
    );
    assert_eq!(case(&Matcher::any()), [true, true, true]);
    assert!(format!("{:?}", amd.or(app)).contains("platform(linux/amd64) or annotation(role=app)"));
}

proptest! {
    /// De Morgan and double negation hold for any descriptor.
    #[test]
    fn boolean_laws(size in 0u64..4, os in prop::sample::select(vec!["linux/amd64", "linux/arm64", "windows/amd64"]), tagged in any::<bool>()) {
        let mut desc = Descriptor::new(MediaType::OciManifest, Digest::sha256(b"x"), size).with_platform(p(os));
        if tagged {
            desc = desc.with_annotation("t", "1");
        }
        let a = Matcher::platform(p("linux/amd64"));
        let b = Matcher::annotation("t", "1");
        let c = Matcher::func(|d| d.size % 2 == 0);
        prop_assert_eq!((!(a.clone() & b.clone())).matches(&desc), (!a.clone() | !b.clone()).matches(&desc));
        prop_assert_eq!((!(a.clone() | c.clone())).matches(&desc), (!a.clone() & !c.clone()).matches(&desc));
        prop_assert_eq!((!!b.clone()).matches(&desc), b.matches(&desc));
        prop_assert_eq!((a.clone() | (b.clone() & c.clone())).matches(&desc),
            ((a.clone() | b.clone()) & (a.clone() | c.clone())).matches(&desc));
    }
}

#[test]
fn nested_indexes_are_searched() {
    // outer: [inner index (no platform, annotated), image linux/s390x]
    // inner: random::index of 3 images: linux/amd64, linux/arm64/v8, linux/arm/v7
    let inner = random::index(10, 3, 1, 50);
    let inner_desc = inner
        .descriptor()
        .unwrap()
        .with_annotation("kind", "nested");
    let s390x = random::image_with(
        11,
        1,
        50,
        &random::Options::default().platform(p("linux/s390x")),
    );
    let s390x_desc = s390x.descriptor().unwrap().with_platform(p("linux/s390x"));
    let outer = random::index_of(
        MediaType::OciIndex,
        vec![
            Child::Index(Arc::new(oci_partial::MappedIndex::described(
                Arc::clone(&inner),
                inner_desc,
            ))),
            Child::Image(Arc::new(MappedImage::described(s390x, s390x_desc))),
        ],
    )
    .unwrap();

    // Every descriptor, depth first: the inner index, its 3 images, then the s390x image.
    let all = find_manifests(outer.as_ref(), &Matcher::any()).unwrap();
    let kinds: Vec<bool> = all.iter().map(|d| d.media_type.is_index()).collect();
    assert_eq!(kinds, [true, false, false, false, false]);
    let plats: Vec<String> = all[1..]
        .iter()
        .map(|d| d.platform.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(
        plats,
        [
            "linux/amd64",
            "linux/arm64/v8",
            "linux/arm/v7",
            "linux/s390x"
        ]
    );

    // A platform found inside the nested index, although the index's entry has no platform.
    let arm = find_images(outer.as_ref(), &Matcher::platform(p("linux/arm/v7"))).unwrap();
    assert_eq!(arm.len(), 1);
    assert_eq!(arm[0].config_file().unwrap().variant.as_deref(), Some("v7"));

    let images = find_images(outer.as_ref(), &Matcher::any()).unwrap();
    assert_eq!(images.len(), 4);
    let not_amd = find_images(outer.as_ref(), &!Matcher::platform(p("linux/amd64"))).unwrap();
    assert_eq!(not_amd.len(), 3);

    let indexes = find_indexes(outer.as_ref(), &Matcher::annotation("kind", "nested")).unwrap();
    assert_eq!(indexes.len(), 1);
    assert_eq!(indexes[0].digest().unwrap(), inner.digest().unwrap());
    assert_eq!(
        indexes[0]
            .descriptor()
            .unwrap()
            .annotations
            .get("kind")
            .map(String::as_str),
        Some("nested")
    );
    assert!(
        find_indexes(outer.as_ref(), &Matcher::platform(p("linux/amd64")))
            .unwrap()
            .is_empty()
    );

    let by_digest =
        find_manifests(outer.as_ref(), &Matcher::digest([inner.digest().unwrap()])).unwrap();
    assert_eq!(by_digest.len(), 1);
    let oci_images = find_manifests(
        outer.as_ref(),
        &Matcher::media_type([MediaType::OciManifest]),
    )
    .unwrap();
    assert_eq!(oci_images.len(), 4);
}

#[test]
fn a_docker_manifest_list_works_the_same() {
    let list = random::index_with(12, 2, 1, 10, &random::Options::default().docker());
    assert_eq!(list.media_type().unwrap(), MediaType::DockerManifestList);
    let found = find_images(list.as_ref(), &Matcher::platform(p("linux/arm64"))).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].media_type().unwrap(), MediaType::DockerManifest);
    assert_eq!(
        find_manifests(
            list.as_ref(),
            &Matcher::media_type([MediaType::DockerManifest])
        )
        .unwrap()
        .len(),
        2
    );
}

#[test]
fn a_self_referencing_index_is_an_error_not_a_stack_overflow() {
    use oci_partial::{Error, Result};
    /// An index whose only entry is itself (impossible with real digests, possible in code).
    struct Loop(Vec<u8>);
    impl ImageIndex for Loop {
        fn media_type(&self) -> Result<MediaType> {
            Ok(MediaType::OciIndex)
        }
        fn raw_manifest(&self) -> Result<Vec<u8>> {
            Ok(self.0.clone())
        }
        fn image(&self, digest: &Digest) -> Result<Arc<dyn Image>> {
            Err(Error::NotFound {
                what: "image",
                digest: digest.clone(),
            })
        }
        fn image_index(&self, _: &Digest) -> Result<Arc<dyn ImageIndex>> {
            Ok(Arc::new(Loop(self.0.clone())))
        }
    }
    let raw = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{}","size":1}}]}}"#,
        Digest::sha256(b"self")
    );
    let looping = Loop(raw.into_bytes());
    assert!(matches!(
        find_manifests(&looping, &Matcher::any()),
        Err(Error::Invalid {
            what: "index",
            kind: oci_partial::InvalidKind::TooDeep { .. }
        })
    ));
}
