//! Images, indexes, tags and referrers pushed and pulled through a real registry.

use std::io::Read;
use std::sync::Arc;

use oci_partial::{random, validate_image, validate_index, Image};
use oci_remote::{Client, Error, Remote, WriteOptions};
use oci_types::{Descriptor, Digest, Manifest, MediaType, Reference};

use crate::support::Registry;

fn reference(registry: &Registry, name: &str) -> Reference {
    format!("{}/{name}", registry.host()).parse().unwrap()
}

/// Every blob of an image read back from the registry equals the source's.
fn assert_same_image(pushed: &dyn Image, pulled: &dyn Image) {
    assert_eq!(pulled.digest().unwrap(), pushed.digest().unwrap());
    assert_eq!(
        pulled.raw_manifest().unwrap(),
        pushed.raw_manifest().unwrap()
    );
    assert_eq!(
        pulled.raw_config_file().unwrap(),
        pushed.raw_config_file().unwrap()
    );
    for (a, b) in pushed
        .layers()
        .unwrap()
        .iter()
        .zip(pulled.layers().unwrap())
    {
        let mut bytes = Vec::new();
        b.compressed().unwrap().read_to_end(&mut bytes).unwrap();
        assert_eq!(Digest::sha256(&bytes), a.digest().unwrap());
        assert_eq!(bytes.len() as u64, a.size().unwrap());
    }
    validate_image(pulled, Default::default()).unwrap();
}

#[test]
fn image_round_trip_by_tag_and_digest() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let client = Client::default();
    let image = random::image(1, 3, 300_000);
    let tagged = reference(&registry, "round/trip:v1");
    let desc =
        oci_remote::write_image(&client, &tagged, image.as_ref(), &WriteOptions::new()).unwrap();
    assert_eq!(desc.digest, image.digest().unwrap());
    for layer in image.layers().unwrap() {
        assert!(registry.blob_exists_on_disk(&layer.digest().unwrap()));
    }

    let by_tag = oci_remote::image(&client, &tagged, None).unwrap();
    assert_same_image(image.as_ref(), by_tag.as_ref());
    let by_digest = tagged.clone().with_digest(desc.digest.clone()).unwrap();
    let by_digest = oci_remote::image(&client, &by_digest, None).unwrap();
    assert_eq!(by_digest.digest().unwrap(), desc.digest);

    let repo = client.repository(&tagged);
    let head = repo.manifest_descriptor("v1").unwrap().unwrap();
    assert_eq!(head.digest, desc.digest);
    assert_eq!(head.size, desc.size);
    assert_eq!(repo.manifest_descriptor("nope").unwrap(), None);
}

#[test]
fn pushing_twice_uploads_nothing_the_second_time() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let client = Client::default();
    let image = random::image(2, 2, 100_000);
    let r = reference(&registry, "twice:a");
    oci_remote::write_image(&client, &r, image.as_ref(), &WriteOptions::new()).unwrap();
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = events.clone();
    let options = WriteOptions::new().on_progress(move |p| seen.lock().unwrap().push(p.clone()));
    oci_remote::write_image(&client, &r, image.as_ref(), &options).unwrap();
    let events = events.lock().unwrap();
    assert!(events
        .iter()
        .all(|e| !matches!(e, oci_remote::Progress::Sent { .. })));
    let skipped = events
        .iter()
        .filter(|e| matches!(e, oci_remote::Progress::Finished { skipped: true, .. }))
        .count();
    assert_eq!(skipped, 2, "{events:?}");
}

#[test]
fn index_round_trip() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let client = Client::default();
    let index = random::index(3, 2, 2, 50_000);
    let r = reference(&registry, "multi:list");
    let desc = oci_remote::write_index(&client, &r, index.as_ref(), &WriteOptions::new()).unwrap();
    assert_eq!(desc.digest, index.digest().unwrap());
    let Remote::Index(pulled) = oci_remote::get(&client, &r).unwrap() else {
        panic!("an index was pushed");
    };
    assert_eq!(
        pulled.raw_manifest().unwrap(),
        index.raw_manifest().unwrap()
    );
    validate_index(pulled.as_ref(), Default::default()).unwrap();
    // Each child is there by digest.
    for child in index.index_manifest().unwrap().manifests {
        let image = pulled.image(&child.digest).unwrap();
        assert_eq!(image.digest().unwrap(), child.digest);
    }
}

#[test]
fn missing_things_are_not_found() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let client = Client::default();
    let r = reference(&registry, "empty:none");
    match oci_remote::get(&client, &r) {
        Err(Error::NotFound {
            what, reference, ..
        }) => {
            assert_eq!(what, "manifest");
            assert_eq!(reference, "none");
        }
        other => panic!("{other:?}"),
    }
    let repo = client.repository(&r);
    let digest = Digest::sha256(b"nothing");
    assert_eq!(repo.blob_exists(&digest).unwrap(), None);
    assert!(matches!(
        repo.blob(&digest, None),
        Err(Error::NotFound { what: "blob", .. })
    ));
}

#[test]
fn tags_are_listed_across_pages() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let client = Client::default();
    let image = random::image(4, 1, 1000);
    let mut expected = Vec::new();
    for i in 0..5 {
        let tag = format!("t{i}");
        let r = reference(&registry, &format!("paged:{tag}"));
        oci_remote::write_image(&client, &r, image.as_ref(), &WriteOptions::new()).unwrap();
        expected.push(tag);
    }
    let repo = client.repository(&reference(&registry, "paged"));
    let mut all = repo.tags().unwrap();
    all.sort();
    assert_eq!(all, expected);
    let mut paged = repo.tags_paged(Some(2)).unwrap();
    paged.sort();
    assert_eq!(paged, expected);
}

#[test]
fn referrers_use_the_tag_schema_on_a_registry_without_the_api() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let client = Client::default();
    let subject_image = random::image(5, 1, 1000);
    let r = reference(&registry, "refs:subject");
    let subject =
        oci_remote::write_image(&client, &r, subject_image.as_ref(), &WriteOptions::new()).unwrap();
    let repo = client.repository(&r);
    assert!(repo
        .referrers(&subject.digest, None)
        .unwrap()
        .manifests
        .is_empty());

    // An artifact manifest pointing at the subject: empty config, one small blob.
    let empty = repo.upload_bytes(b"{}").unwrap();
    let payload = repo.upload_bytes(b"a signature").unwrap();
    let mut manifest = Manifest::new(
        MediaType::OciManifest,
        Descriptor::new(MediaType::OciEmpty, empty, 2),
        vec![Descriptor::new(
            MediaType::Other("application/vnd.example.signature".into()),
            payload,
            11,
        )],
    );
    manifest.artifact_type = Some(MediaType::Other("application/vnd.example.sig".into()));
    manifest.subject = Some(subject.clone());
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let artifact = Digest::sha256(&bytes);
    repo.put_manifest(artifact.as_str(), &MediaType::OciManifest, &bytes)
        .unwrap();

    let referrers = repo.referrers(&subject.digest, None).unwrap();
    assert_eq!(referrers.manifests.len(), 1);
    assert_eq!(referrers.manifests[0].digest, artifact);
    assert_eq!(
        referrers.manifests[0]
            .artifact_type
            .as_ref()
            .map(|a| a.as_str()),
        Some("application/vnd.example.sig")
    );
    assert!(repo
        .referrers(&subject.digest, Some("application/vnd.other"))
        .unwrap()
        .manifests
        .is_empty());
    // The fallback tag is what other clients (oras, cosign) read.
    assert!(repo
        .tags()
        .unwrap()
        .contains(&oci_remote::referrers_tag(&subject.digest)));
}

#[test]
fn shared_fixtures_round_trip() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let client = Client::default();
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");
    let layout = oci_layout::Layout::open(format!("{fixtures}/oci-layout")).unwrap();
    let mut images: Vec<Arc<dyn Image>> = vec![
        layout.image_by_ref("hello").unwrap(),
        layout.image_by_ref("hello-extra").unwrap(),
    ];
    for archive in ["skopeo-hello.tar", "docker-save-hello.tar"] {
        let reader = Arc::new(
            oci_tarfile::Reader::from_file(format!("{fixtures}/docker-archive/{archive}")).unwrap(),
        );
        images.push(Arc::new(
            oci_tarfile::Source::new(reader, None, None).unwrap(),
        ));
    }
    for (i, image) in images.iter().enumerate() {
        let r = reference(&registry, &format!("fixtures/hello:{i}"));
        let desc =
            oci_remote::write_image(&client, &r, image.as_ref(), &WriteOptions::new()).unwrap();
        assert_eq!(desc.digest, image.digest().unwrap());
        let pulled = oci_remote::image(&client, &r, None).unwrap();
        assert_same_image(image.as_ref(), pulled.as_ref());
    }
}

#[test]
fn a_corrupt_blob_in_the_registry_fails_the_read_naming_both_digests() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let client = Client::default();
    let layer = random::layer(6, 10_000);
    let r = reference(&registry, "corrupt");
    let desc = oci_remote::write_layer(&client, &r, layer.as_ref(), &WriteOptions::new()).unwrap();
    let path = registry.blob_path_on_disk(&desc.digest);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let mut out = Vec::new();
    let err = client
        .repository(&r)
        .blob(&desc.digest, Some(desc.size))
        .unwrap()
        .read_to_end(&mut out)
        .unwrap_err();
    let err = oci_types::Error::from_io(err);
    match err {
        oci_types::Error::DigestMismatch { expected, actual } => {
            assert_eq!(expected, desc.digest);
            assert_eq!(actual, Digest::sha256(&bytes));
        }
        other => panic!("{other:?}"),
    }
}
