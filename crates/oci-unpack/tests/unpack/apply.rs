//! Layers applied in order: kinds, modes, whiteouts, opaque directories, verification.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use oci_types::Digest;
use oci_unpack::{export, unpack, Error, Options, Unpacker, WarningKind};

use crate::support::{ls, tar, tree, MemImage, E};

fn rootless() -> Options {
    Options {
        rootless: true,
        ..Options::default()
    }
}

#[test]
fn kinds_modes_and_links() {
    let l1 = tar(&[
        E::Dir("./", 0o755),
        E::Dir("bin/", 0o755),
        E::File("bin/su", b"su", 0o4755),
        E::Dir("tmp/", 0o1777),
        E::File("a/file", b"shared", 0o640),
        E::Hard("b/c/link", "a/file"),
        E::Sym("bin/sh", "/bin/busybox"),
        E::Fifo("run/fifo"),
        E::Xattr("x", b"x", "user.test", b"value"),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let report = unpack(MemImage::of(vec![l1]).as_ref(), &root, rootless()).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let t = tree(&root);
    let e = |k: &str| t.entries.get(k).cloned().unwrap_or_default();
    assert!(e("bin/su").starts_with("file 4755"), "{}", e("bin/su"));
    assert_eq!(e("tmp"), "dir 1777");
    assert_eq!(e("bin/sh"), "symlink -> /bin/busybox");
    assert_eq!(e("run/fifo"), "fifo 644");
    assert!(e("x").ends_with("user.test=value"), "{}", e("x"));
    assert_eq!(
        t.links,
        vec![vec!["a/file".to_string(), "b/c/link".to_string()]]
    );
    let m = std::fs::metadata(root.join("a/file")).unwrap();
    assert_eq!(m.mtime(), 1_700_000_000);
    assert_eq!(
        std::fs::metadata(&root).unwrap().permissions().mode() & 0o7777,
        0o755
    );
}

#[test]
fn whiteouts_hide_lower_layers_only() {
    let l1 = tar(&[
        E::File("keep", b"1", 0o644),
        E::File("gone", b"1", 0o644),
        E::File("d/x", b"1", 0o644),
        E::File("d/sub/y", b"1", 0o644),
        E::File("o/lower", b"1", 0o644),
        E::File("o/sub/lower", b"1", 0o644),
    ]);
    let l2 = tar(&[
        E::File("new", b"2", 0o644),
        E::File(".wh.gone", b"", 0o644),
        E::File(".wh.d", b"", 0o644),
        E::File("o/upper", b"2", 0o644),
        E::File("o/sub/upper", b"2", 0o644),
        E::File("o/.wh..wh..opq", b"", 0o644),
        E::File(".wh..wh.plnk", b"", 0o644), // AUFS metadata: skipped
        E::File(".wh.new", b"", 0o644),      // same layer: does not hide `new`
    ]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    unpack(MemImage::of(vec![l1, l2]).as_ref(), &root, rootless()).unwrap();
    assert_eq!(ls(&root), vec!["keep", "new", "o"]);
    assert_eq!(ls(&root.join("o")), vec!["sub", "upper"]);
    assert_eq!(ls(&root.join("o/sub")), vec!["upper"]);
}

#[test]
fn replacements_between_layers() {
    let l1 = tar(&[
        E::File("a/f", b"1", 0o644),
        E::File("b", b"1", 0o644),
        E::Sym("c", "b"),
    ]);
    let l2 = tar(&[
        E::File("a", b"now a file", 0o600),
        E::Dir("b/", 0o700),
        E::File("c", b"not through", 0o644),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    unpack(MemImage::of(vec![l1, l2]).as_ref(), &root, rootless()).unwrap();
    assert_eq!(std::fs::read(root.join("a")).unwrap(), b"now a file");
    assert!(root.join("b").is_dir());
    assert!(!root
        .join("c")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_corrupt_layer_fails_and_leaves_nothing() {
    let l1 = tar(&[E::File("a", b"1", 0o644)]);
    let wrong = Digest::sha256(b"not the tar");
    let image = MemImage::with_diff_ids(vec![l1], Some(vec![wrong.clone()]));
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    match unpack(image.as_ref(), &root, rootless()) {
        Err(Error::DiffIdMismatch {
            layer: 0, expected, ..
        }) => assert_eq!(expected, wrong),
        other => panic!("{other:?}"),
    }
    assert!(ls(dir.path()).is_empty(), "{:?}", ls(dir.path()));
    // The same for export: the error is the layer's.
    let err = export(image.as_ref(), std::io::sink(), &Options::default()).unwrap_err();
    assert!(
        matches!(err, Error::DiffIdMismatch { layer: 0, .. }),
        "{err:?}"
    );
}

#[test]
fn random_corruption_is_caught() {
    let image = oci_partial::random::corrupt_layer(oci_partial::random::image(3, 2, 64 << 10), 1);
    let dir = tempfile::tempdir().unwrap();
    assert!(unpack(image.as_ref(), &dir.path().join("r"), rootless()).is_err());
    assert!(ls(dir.path()).is_empty());
}

#[test]
fn destination_must_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let err = unpack(
        MemImage::of(vec![tar(&[])]).as_ref(),
        dir.path(),
        rootless(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Exists { .. }), "{err:?}");
}

#[test]
fn devices_are_skipped_without_privileges() {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Char);
    h.set_size(0);
    h.set_mode(0o666);
    h.set_device_major(1).unwrap();
    h.set_device_minor(3).unwrap();
    b.append_data(&mut h, "dev/null", &[][..]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut u = Unpacker::new(dir.path(), rootless()).unwrap();
    u.apply_layer(&b.into_inner().unwrap()[..]).unwrap();
    let report = u.finish().unwrap();
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(report.warnings[0].kind, WarningKind::DeviceSkipped);
    assert_eq!(report.warnings[0].entry, "dev/null");
}

/// export's tar, extracted by GNU tar, is the tree unpack makes.
#[test]
fn export_extracts_to_the_unpacked_tree() {
    let l1 = tar(&[
        E::Dir("etc/", 0o755),
        E::File("etc/a", b"lower", 0o644),
        E::File("etc/gone", b"x", 0o644),
        E::File("o/lower", b"1", 0o644),
        E::File("f/inside", b"1", 0o644),
        E::File("h/target", b"t", 0o644),
        E::Hard("h/link", "h/target"),
        E::File("s", b"setuid", 0o4755),
    ]);
    let l2 = tar(&[
        E::File("etc/a", b"upper", 0o600),
        E::File("etc/.wh.gone", b"", 0o644),
        E::File("o/.wh..wh..opq", b"", 0o644),
        E::File("o/upper", b"2", 0o644),
        E::File("f", b"a file now", 0o644),
        E::Fifo("p"),
    ]);
    let image = MemImage::of(vec![l1, l2]);
    let dir = tempfile::tempdir().unwrap();
    let unpacked = dir.path().join("u");
    unpack(image.as_ref(), &unpacked, rootless()).unwrap();
    let tarball = dir.path().join("x.tar");
    export(
        image.as_ref(),
        std::fs::File::create(&tarball).unwrap(),
        &Options::default(),
    )
    .unwrap();
    let extracted = dir.path().join("x");
    std::fs::create_dir(&extracted).unwrap();
    let st = std::process::Command::new("tar")
        .args(["-x", "--no-same-owner", "-p", "-f"])
        .arg(&tarball)
        .arg("-C")
        .arg(&extracted)
        .status()
        .expect("GNU tar must be installed");
    assert!(st.success());
    let (a, b) = (tree(&unpacked), tree(&extracted));
    assert_eq!(a, b);
    assert!(a.entries.contains_key("o/upper") && !a.entries.contains_key("o/lower"));
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Unpacker>();
    check::<Options>();
    check::<oci_unpack::Report>();
    check::<Error>();
}

#[test]
fn a_whiteout_under_a_file_removes_nothing() {
    let l1 = tar(&[E::File("a", b"1", 0o644)]);
    let l2 = tar(&[E::File("a/.wh.b", b"", 0o644)]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    unpack(MemImage::of(vec![l1, l2]).as_ref(), &root, rootless()).unwrap();
    assert_eq!(std::fs::read(root.join("a")).unwrap(), b"1");
}

#[test]
fn the_next_unpack_removes_what_killed_ones_left() {
    let dir = tempfile::tempdir().unwrap();
    // Above Linux's largest pid_max (2^22): no such process.
    let gone = dir.path().join(".root.unpack-4194305-AbC123");
    std::fs::create_dir_all(gone.join("etc")).unwrap();
    std::fs::write(gone.join("etc/passwd"), b"half").unwrap();
    std::os::unix::fs::symlink("/", gone.join("escape")).unwrap();
    // Process 1 runs; the others are not temporaries of an unpack to `root`.
    let kept = [
        ".root.unpack-1-AbC123",
        ".other.unpack-4194305-AbC123",
        ".root.unpack-AbC123",
    ];
    for name in kept {
        std::fs::create_dir(dir.path().join(name)).unwrap();
    }
    let root = dir.path().join("root");
    let l1 = tar(&[E::File("a", b"1", 0o644)]);
    unpack(MemImage::of(vec![l1]).as_ref(), &root, rootless()).unwrap();
    let left = ls(dir.path());
    let mut want: Vec<String> = kept.iter().map(|s| (*s).to_owned()).collect();
    want.push("root".to_owned());
    want.sort();
    assert_eq!(left, want);
}
