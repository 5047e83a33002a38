//! The destination: blobs verified as they flow, nothing left of a failed blob.

use std::io::{self, Read};
use std::sync::Arc;

use oci_partial::Image;
use oci_tarfile::{
    BlobInfo, Destination, Error, InvalidManifestKind, InvalidTagKind, Reader, Source, Writer,
};
use oci_types::{Descriptor, Digest, MediaType, Reference};

use crate::common::*;

fn tag(s: &str) -> Reference {
    s.parse().unwrap()
}

/// Puts the fixture hello image (its OCI manifest, gzip layers) through a destination.
fn put_hello(dest: &mut Destination<'_>) {
    let img = hello_image();
    for l in img.layers().unwrap() {
        let desc = l.descriptor().unwrap();
        assert!(dest
            .try_reusing_blob(&BlobInfo::from_descriptor(&desc))
            .unwrap()
            .is_none());
        let blob = dest
            .put_blob(l.compressed().unwrap(), &BlobInfo::from_descriptor(&desc))
            .unwrap();
        assert_eq!((blob.digest, blob.size), (desc.digest.clone(), desc.size));
        assert!(dest
            .try_reusing_blob(&BlobInfo::from_descriptor(&desc))
            .unwrap()
            .is_some());
    }
    let config = img.raw_config_file().unwrap();
    let info = BlobInfo::from_descriptor(&Descriptor::of_bytes(MediaType::OciConfig, &config));
    dest.put_blob(&config[..], &info).unwrap();
    dest.put_manifest(&img.raw_manifest().unwrap()).unwrap();
}

#[test]
fn puts_an_oci_image() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.tar");
    let mut dest = Destination::create(&path).unwrap();
    dest.add_repo_tags(&[tag(HELLO_TAG)]).unwrap();
    put_hello(&mut dest);
    dest.commit().unwrap();
    // The same archive skopeo writes from that OCI image.
    assert!(std::fs::read(&path).unwrap() == read_fixture("docker-archive/skopeo-hello.tar"));
}

#[test]
fn puts_a_docker_manifest_from_an_archive_and_tags_after() {
    let source = Source::open(fixture("hybrid/containerd-export-hello.tar"), None, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.tar");
    let mut w = Writer::create(&path).unwrap();
    {
        let mut dest = w.destination();
        let m = source.manifest().unwrap();
        for desc in m.layers.iter().chain([&m.config]) {
            dest.put_blob(
                source.blob(&desc.digest).unwrap(),
                &BlobInfo::from_descriptor(desc),
            )
            .unwrap();
        }
        dest.put_manifest(&source.raw_manifest().unwrap()).unwrap();
        dest.add_repo_tags(&[tag("example.com/after:1")]).unwrap();
        dest.commit().unwrap();
    }
    w.commit().unwrap();
    let back = Source::open(&path, Some(&tag("example.com/after:1")), None).unwrap();
    assert_eq!(
        back.config_file().unwrap().rootfs.diff_ids,
        [d(DIFF1), d(DIFF2)]
    );
    assert_eq!(
        back.manifest().unwrap().layers[0].digest,
        d(DIFF1),
        "stored uncompressed"
    );
}

/// A reader that fails after `ok` bytes.
struct Failing<'a> {
    data: &'a [u8],
    ok: usize,
}

impl Read for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ok == 0 {
            return Err(io::Error::other("network went away"));
        }
        let n = buf.len().min(self.ok).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.ok -= n;
        Ok(n)
    }
}

#[test]
fn failed_blobs_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let layer = layer_tar(&[("big", &vec![1u8; 100_000])]);
    let good = Digest::sha256(&layer);
    let wrong = Digest::sha256(b"wrong");

    // The reference: an archive of an image whose only blob is the config.
    let config = config_for(&[]);
    let manifest = |layers: &[Descriptor]| {
        let c = Descriptor::of_bytes(MediaType::DockerConfig, &config);
        serde_json::to_vec(&oci_types::Manifest::new(
            MediaType::DockerManifest,
            c,
            layers.to_vec(),
        ))
        .unwrap()
    };
    let clean = dir.path().join("clean.tar");
    let mut dest = Destination::create(&clean).unwrap();
    dest.put_blob(&config[..], &BlobInfo::new()).unwrap();
    dest.put_manifest(&manifest(&[])).unwrap();
    dest.commit().unwrap();

    let dirty = dir.path().join("dirty.tar");
    let mut dest = Destination::create(&dirty).unwrap();
    let info = |digest: &Digest, size: Option<u64>| {
        let mut i = BlobInfo::new()
            .with_digest(digest.clone())
            .with_media_type(MediaType::DockerLayer);
        i.size = size;
        i
    };
    // Wrong digest.
    let err = dest.put_blob(&layer[..], &info(&wrong, None)).unwrap_err();
    assert!(
        matches!(err.digests(), Some((_, actual)) if *actual == good),
        "{err}"
    );
    // Wrong size: shorter and longer than the stream.
    let err = dest
        .put_blob(&layer[..], &info(&good, Some(10)))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::SizeMismatch {
                expected: 10,
                more: true,
                ..
            }
        ),
        "{err}"
    );
    let err = dest
        .put_blob(&layer[..], &info(&good, Some(layer.len() as u64 + 1)))
        .unwrap_err();
    assert!(
        matches!(err, Error::SizeMismatch { more: false, .. }),
        "{err}"
    );
    // A read error half way.
    let err = dest
        .put_blob(
            Failing {
                data: &layer,
                ok: 50_000,
            },
            &info(&good, None),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::Io { source, .. } if source.to_string().contains("network")),
        "{err}"
    );
    // A gzip stream that is cut short.
    let gz = MemLayer::gzip(layer.clone()).blob;
    let cut = &gz[..gz.len() / 2];
    assert!(dest
        .put_blob(cut, &info(&Digest::sha256(&gz), None))
        .is_err());
    // None of those is reusable, and the manifest cannot refer to them.
    assert!(dest.try_reusing_blob(&info(&good, None)).unwrap().is_none());
    assert!(dest
        .try_reusing_blob(&info(&wrong, None))
        .unwrap()
        .is_none());
    dest.put_blob(&config[..], &BlobInfo::new()).unwrap();
    let layer_desc = Descriptor::new(MediaType::DockerLayer, good.clone(), layer.len() as u64);
    assert!(matches!(
        dest.put_manifest(&manifest(&[layer_desc])),
        Err(Error::MissingBlob { what: "layer", .. })
    ));
    dest.put_manifest(&manifest(&[])).unwrap();
    dest.commit().unwrap();
    assert!(
        std::fs::read(&dirty).unwrap() == std::fs::read(&clean).unwrap(),
        "failed blobs left bytes behind"
    );
}

#[test]
fn refuses_what_it_cannot_store() {
    let dir = tempfile::tempdir().unwrap();
    let mut dest = Destination::create(dir.path().join("x.tar")).unwrap();
    assert!(matches!(dest.put_manifest(b"{}"), Err(Error::Types { .. })));
    let index = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    assert!(dest.put_manifest(index).is_err());
    let config = config_for(&[]);
    let c = Descriptor::of_bytes(MediaType::OciConfig, &config);
    let m = serde_json::to_vec(&oci_types::Manifest::new(
        MediaType::OciManifest,
        c.clone(),
        vec![],
    ))
    .unwrap();
    assert!(matches!(
        dest.put_manifest(&m),
        Err(Error::MissingBlob { what: "config", .. })
    ));
    let bad_config = BlobInfo::from_descriptor(&c).with_digest(Digest::sha256(b"other"));
    assert!(matches!(
        dest.put_blob(&config[..], &bad_config),
        Err(Error::DigestMismatch { .. })
    ));
    dest.put_blob(&config[..], &BlobInfo::from_descriptor(&c))
        .unwrap();
    dest.put_manifest(&m).unwrap();
    assert!(matches!(
        dest.put_manifest(&m),
        Err(Error::InvalidManifest {
            kind: InvalidManifestKind::AlreadyPut
        })
    ));
    let digest_ref: Reference = format!("a@{}", Digest::sha256(b"x")).parse().unwrap();
    assert!(matches!(
        dest.add_repo_tags(&[digest_ref]),
        Err(Error::InvalidTag {
            kind: InvalidTagKind::DigestReference,
            ..
        })
    ));
    dest.commit().unwrap();

    let no_manifest = Destination::create(dir.path().join("y.tar")).unwrap();
    assert!(matches!(no_manifest.commit(), Err(Error::NoManifest)));
    assert!(!dir.path().join("y.tar").exists());
}

#[test]
fn destinations_share_a_writer() {
    let reader =
        Arc::new(Reader::from_file(fixture("docker-archive/podman-save-two.tar")).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.tar");
    let mut w = Writer::create(&path).unwrap();
    let mut reused = 0;
    for (i, t) in [HELLO_TAG, EXTRA_TAG].into_iter().enumerate() {
        let source = Source::new(Arc::clone(&reader), None, Some(i)).unwrap();
        let mut dest = w.destination();
        dest.add_repo_tags(&[tag(t)]).unwrap();
        let m = source.manifest().unwrap();
        for desc in m.layers.iter().chain([&m.config]) {
            let info = BlobInfo::from_descriptor(desc);
            if dest.try_reusing_blob(&info).unwrap().is_some() {
                reused += 1;
                continue;
            }
            dest.put_blob(source.blob(&desc.digest).unwrap(), &info)
                .unwrap();
        }
        dest.put_manifest(&source.raw_manifest().unwrap()).unwrap();
        dest.commit().unwrap();
    }
    w.commit().unwrap();
    assert_eq!(reused, 1, "the shared layer is put once");
    let back = Reader::from_file(&path).unwrap();
    assert_eq!(back.manifest().len(), 2);
    assert_eq!(back.manifest()[1].repo_tags, [EXTRA_TAG]);
}
