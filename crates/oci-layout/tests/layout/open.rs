//! Creating and opening layouts.

use std::fs;

use oci_layout::{Error, Layout, NotALayoutKind};
use oci_partial::random;
use oci_types::{Index, MediaType};

use crate::common::{names, new_layout};

#[test]
fn create_writes_header_index_and_blob_dir() {
    let (_dir, layout) = new_layout();
    let root = layout.root();
    assert_eq!(
        fs::read_to_string(root.join("oci-layout")).unwrap(),
        r#"{"imageLayoutVersion":"1.0.0"}"#
    );
    let index = Index::from_slice(&fs::read(root.join("index.json")).unwrap()).unwrap();
    assert_eq!(index.schema_version, 2);
    assert_eq!(index.media_type, Some(MediaType::OciIndex));
    assert!(index.manifests.is_empty());
    assert!(root.join("blobs/sha256").is_dir());
    // Nothing but the layout's files and its lock file.
    assert_eq!(
        names(root),
        ["blobs", "index.json", "index.json.lock", "oci-layout"]
    );
}

#[test]
fn create_refuses_an_existing_layout_and_open_or_create_keeps_it() {
    let (_dir, layout) = new_layout();
    layout
        .write_image(random::image(1, 1, 10).as_ref(), Some("a"))
        .unwrap();
    let e = Layout::create(layout.root()).unwrap_err();
    assert!(matches!(e, Error::AlreadyALayout { .. }), "{e}");
    let again = Layout::open_or_create(layout.root()).unwrap();
    assert_eq!(again.index().unwrap().manifests.len(), 1);
    assert!(again.image_by_ref("a").is_ok());
}

#[test]
fn open_refuses_what_is_not_a_layout() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let e = Layout::open(&missing).unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotALayout {
                kind: NotALayoutKind::Missing,
                ..
            }
        ) && e.is_not_found(),
        "{e}"
    );
    assert!(!missing.exists(), "open must not create anything");

    let e = Layout::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotALayout {
                kind: NotALayoutKind::NoLayoutFile,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains(&dir.path().display().to_string()),
        "{e}"
    );

    let file = dir.path().join("file");
    fs::write(&file, b"x").unwrap();
    assert!(matches!(
        Layout::open(&file).unwrap_err(),
        Error::NotALayout {
            kind: NotALayoutKind::NotADirectory,
            ..
        }
    ));

    // A header without index.json.
    fs::write(
        dir.path().join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let e = Layout::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotALayout {
                kind: NotALayoutKind::NoIndex,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn open_refuses_bad_header_and_bad_index() {
    let (_dir, layout) = new_layout();
    let root = layout.root().to_owned();
    fs::write(
        root.join("oci-layout"),
        br#"{"imageLayoutVersion":"2.0.0"}"#,
    )
    .unwrap();
    let e = Layout::open(&root).unwrap_err();
    assert!(
        matches!(&e, Error::UnsupportedVersion { version, .. } if version == "2.0.0"),
        "{e}"
    );

    fs::write(root.join("oci-layout"), b"not json").unwrap();
    assert!(matches!(
        Layout::open(&root).unwrap_err(),
        Error::InvalidFile { .. }
    ));

    fs::write(
        root.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    fs::write(
        root.join("index.json"),
        br#"{"schemaVersion":1,"manifests":[]}"#,
    )
    .unwrap();
    let e = Layout::open(&root).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidFile { path, .. } if path.ends_with("index.json")),
        "{e}"
    );

    // A huge index.json is refused without reading it all.
    let f = fs::File::create(root.join("index.json")).unwrap();
    f.set_len(64 << 20).unwrap();
    assert!(matches!(
        Layout::open(&root).unwrap_err(),
        Error::InvalidFile { .. }
    ));
}

#[test]
fn opens_a_layout_written_by_umoci_and_keeps_its_entries_on_change() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("umoci");
    copy_dir(&crate::common::fixtures().join("oci-layout"), &copy);
    let layout = Layout::open(&copy).unwrap();
    let before = layout.index().unwrap();
    assert_eq!(before.manifests.len(), 2);
    assert_eq!(
        before.media_type, None,
        "umoci writes no mediaType in index.json"
    );
    layout
        .write_image(random::image(3, 1, 10).as_ref(), Some("new"))
        .unwrap();
    let after = layout.index().unwrap();
    assert_eq!(after.manifests[..2], before.manifests[..]);
    assert_eq!(after.media_type, Some(MediaType::OciIndex));
    assert_eq!(after.manifests[2].ref_name(), Some("new"));
}

/// Copies a directory tree of plain files.
pub(crate) fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

#[test]
fn layout_handles_are_send_sync_and_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<Layout>();
    fn check_error<T: std::error::Error + Send + Sync + 'static>() {}
    check_error::<Error>();
}
