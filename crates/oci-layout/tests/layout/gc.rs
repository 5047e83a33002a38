//! Garbage collection.

use std::sync::Arc;

use oci_content::{IngestManager, Ingester, WriterOpts};
use oci_partial::{random, validate_image, validate_index, Image, Matcher, ValidateOptions};
use oci_types::{Descriptor, Digest, Manifest, MediaType, Raw, ANNOTATION_REF_NAME};

use crate::common::{blobs, new_layout};

/// The blobs of an image: manifest, config, layers.
fn image_blobs(image: &dyn Image) -> Vec<Digest> {
    let m = image.manifest().unwrap();
    let mut v = vec![image.digest().unwrap(), m.config.digest.clone()];
    v.extend(m.layers.iter().map(|l| l.digest.clone()));
    v
}

#[test]
fn removes_exactly_what_nothing_reaches() {
    let (_dir, layout) = new_layout();
    let keep = random::image(1, 2, 500);
    let drop_ = random::image(2, 3, 500);
    let index = random::index(3, 2, 1, 500);
    layout.write_image(keep.as_ref(), Some("keep")).unwrap();
    layout.write_image(drop_.as_ref(), Some("drop")).unwrap();
    layout.write_index(index.as_ref(), Some("index")).unwrap();

    let report = layout.gc().unwrap();
    assert!(report.removed.is_empty(), "{report:?}");
    let all = blobs(&layout);
    assert_eq!(report.kept, all.len());

    layout
        .remove_descriptor(&Matcher::annotation(ANNOTATION_REF_NAME, "drop"))
        .unwrap();
    let report = layout.gc().unwrap();
    let mut expected = image_blobs(drop_.as_ref());
    expected.sort();
    let removed: Vec<Digest> = report.removed.iter().map(|(d, _)| d.clone()).collect();
    assert_eq!(removed, expected);
    let sizes: u64 = drop_
        .manifest()
        .unwrap()
        .layers
        .iter()
        .map(|l| l.size)
        .sum::<u64>()
        + drop_.manifest().unwrap().config.size
        + drop_.size().unwrap();
    assert_eq!(report.bytes(), sizes);
    for d in &expected {
        assert!(!layout.has_blob(d).unwrap());
    }
    validate_image(
        layout.image_by_ref("keep").unwrap().as_ref(),
        ValidateOptions::default(),
    )
    .unwrap();
    validate_index(
        layout.index_by_ref("index").unwrap().as_ref(),
        ValidateOptions::default(),
    )
    .unwrap();

    // Removing everything empties blobs/.
    layout.remove_descriptor(&Matcher::any()).unwrap();
    layout.gc().unwrap();
    assert!(blobs(&layout).is_empty());
}

#[test]
fn shared_blobs_stay_while_one_user_remains() {
    let (_dir, layout) = new_layout();
    let image = random::image(1, 2, 500);
    layout.write_image(image.as_ref(), Some("one")).unwrap();
    layout.write_image(image.as_ref(), Some("two")).unwrap();
    layout
        .remove_descriptor(&Matcher::annotation(ANNOTATION_REF_NAME, "one"))
        .unwrap();
    assert!(layout.gc().unwrap().removed.is_empty());
    validate_image(
        layout.image_by_ref("two").unwrap().as_ref(),
        ValidateOptions::default(),
    )
    .unwrap();
}

#[test]
fn subjects_and_artifacts_keep_what_they_point_at() {
    let (_dir, layout) = new_layout();
    // An image written without an index.json entry, and an artifact (listed) whose subject
    // it is.
    let subject_image = random::image(5, 1, 300);
    let subject = layout.write_image_blobs(subject_image.as_ref()).unwrap();
    let empty = Descriptor::of_bytes(MediaType::OciEmpty, b"{}");
    layout.write_blob(&empty, &b"{}"[..]).unwrap();
    let payload = Descriptor::of_bytes(MediaType::Other("text/plain".into()), b"signature");
    layout.write_blob(&payload, &b"signature"[..]).unwrap();
    let mut m = Manifest::new(MediaType::OciManifest, empty.clone(), vec![payload.clone()]);
    m.artifact_type = Some(MediaType::Other("application/example.sig".into()));
    m.subject = Some(subject.clone());
    let m = Raw::from_value(m).unwrap();
    let artifact = m.descriptor(MediaType::OciManifest);
    layout.write_blob(&artifact, m.bytes()).unwrap();
    layout.append_descriptor(artifact.clone()).unwrap();
    // A stray blob nothing points at.
    let stray = Descriptor::of_bytes(MediaType::OciLayer, b"stray");
    layout.write_blob(&stray, &b"stray"[..]).unwrap();

    let report = layout.gc().unwrap();
    assert_eq!(report.removed, vec![(stray.digest.clone(), 5)]);
    for d in image_blobs(subject_image.as_ref()).iter().chain([
        &empty.digest,
        &payload.digest,
        &artifact.digest,
    ]) {
        assert!(layout.has_blob(d).unwrap(), "{d} was removed");
    }
}

#[test]
fn an_unparsable_manifest_stops_gc_before_it_removes_anything() {
    let (_dir, layout) = new_layout();
    let stray = Descriptor::of_bytes(MediaType::OciLayer, b"stray");
    layout.write_blob(&stray, &b"stray"[..]).unwrap();
    let bogus = Descriptor::of_bytes(MediaType::OciManifest, b"not a manifest");
    layout.write_blob(&bogus, &b"not a manifest"[..]).unwrap();
    layout.append_descriptor(bogus.clone()).unwrap();
    let e = layout.gc().unwrap_err();
    assert!(
        matches!(&e, oci_layout::Error::Blob { digest, .. } if *digest == bogus.digest),
        "{e}"
    );
    assert!(layout.has_blob(&stray.digest).unwrap());
}

#[test]
fn abandoned_ingests_are_removed() {
    let (_dir, layout) = new_layout();
    let mut w = layout
        .store()
        .writer(WriterOpts::new("interrupted"))
        .unwrap();
    std::io::Write::write_all(&mut w, b"half a blob").unwrap();
    drop(w);
    assert_eq!(layout.store().list_statuses(&[]).unwrap().len(), 1);
    let report = layout.gc().unwrap();
    assert_eq!(report.ingests, vec!["interrupted".to_string()]);
    assert!(layout.store().list_statuses(&[]).unwrap().is_empty());
    assert!(!layout.root().join("ingest").exists());
}

#[test]
fn damaged_ingest_directories_are_removed() {
    let (_dir, layout) = new_layout();
    // What a commit killed while removing its ingest directory leaves behind.
    let dir = layout.store().ingest_path("killed");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("startedat"), "2024-05-01T12:00:00Z").unwrap();
    std::fs::write(dir.join("updatedat"), "2024-05-01T12:00:00Z").unwrap();
    let report = layout.gc().unwrap();
    assert!(report.ingests.is_empty());
    assert_eq!(report.damaged_ingests.len(), 1, "{report:?}");
    assert!(!layout.root().join("ingest").exists());
}

#[test]
fn gc_never_removes_the_blobs_of_an_image_being_written() {
    let (_dir, layout) = new_layout();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let gc = {
        let (layout, stop) = (layout.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut runs = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                layout.gc().unwrap();
                runs += 1;
            }
            runs
        })
    };
    let writers: Vec<_> = (0..3u64)
        .map(|t| {
            let layout = layout.clone();
            std::thread::spawn(move || {
                for i in 0..8u64 {
                    let image = random::image(t * 100 + i, 2, 20_000);
                    layout
                        .write_image(image.as_ref(), Some(&format!("t{t}-{i}")))
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(gc.join().unwrap() > 0);
    layout.gc().unwrap();
    let root = layout.image_index().unwrap();
    assert_eq!(root.index_manifest().unwrap().manifests.len(), 24);
    validate_index(root.as_ref(), ValidateOptions::default()).unwrap();
}
