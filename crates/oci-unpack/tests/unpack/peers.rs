//! Comparisons with the real tools on `fixtures/unpack` (see its README): our unpack gives
//! the tree `umoci unpack --rootless` gives, and our export extracted by GNU tar gives it too.

use std::path::{Path, PathBuf};
use std::process::Command;

use oci_layout::Layout;
use oci_unpack::{export, unpack, Options};

use crate::support::tree;

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/unpack"
    ))
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what} must be installed (CI installs it): {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A copy of the fixture layout (umoci takes a lock inside the layout it reads).
fn layout(dir: &Path) -> PathBuf {
    let l = dir.join("layout");
    run(
        Command::new("cp")
            .arg("-r")
            .arg(fixtures().join("layout"))
            .arg(&l),
        "cp",
    );
    l
}

#[test]
fn unpack_matches_umoci_rootless() {
    let dir = tempfile::tempdir().unwrap();
    let l = layout(dir.path());
    let bundle = dir.path().join("bundle");
    run(
        Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:unpack", l.display()))
            .arg(&bundle),
        "umoci",
    );
    let image = Layout::open(&l).unwrap().image_by_ref("unpack").unwrap();
    let ours = dir.path().join("ours");
    let opts = Options {
        rootless: true,
        ..Options::default()
    };
    let report = unpack(image.as_ref(), &ours, opts).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let (want, got) = (tree(&bundle.join("rootfs")), tree(&ours));
    assert_eq!(want, got);
    // The fixture exercises what it claims to.
    let e = |k: &str| got.entries.get(k).cloned().unwrap_or_default();
    assert!(e("bin/su").starts_with("file 4755"));
    assert!(e("run/fifo").starts_with("fifo 640"));
    assert!(e("tmp") == "dir 1777");
    assert!(e("opq/new.txt").starts_with("file") && !got.entries.contains_key("opq/lower.txt"));
    assert!(!got.entries.contains_key("gone") && !got.entries.contains_key("del.txt"));
    assert!(!got.entries.contains_key("x") && !got.entries.contains_key("a/file1"));
    assert!(got
        .links
        .contains(&vec!["c/one".to_string(), "d/e/two".to_string()]));
    assert!(
        e("y/attr.txt").ends_with("user.fixture=xattr value"),
        "{}",
        e("y/attr.txt")
    );
    assert!(got.entries.keys().any(|k| k.len() > 150));
    assert!(got.entries.keys().any(|k| k.contains("名前")));
}

#[test]
fn export_extracts_to_what_umoci_unpacks() {
    let dir = tempfile::tempdir().unwrap();
    let l = layout(dir.path());
    let bundle = dir.path().join("bundle");
    run(
        Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:unpack", l.display()))
            .arg(&bundle),
        "umoci",
    );
    let image = Layout::open(&l).unwrap().image_by_ref("unpack").unwrap();
    let tarball = dir.path().join("export.tar");
    export(
        image.as_ref(),
        std::fs::File::create(&tarball).unwrap(),
        &Options::default(),
    )
    .unwrap();
    let x = dir.path().join("x");
    std::fs::create_dir(&x).unwrap();
    run(
        Command::new("tar")
            .args([
                "-x",
                "-p",
                "--no-same-owner",
                "--xattrs",
                "--xattrs-include=user.*",
                "-f",
            ])
            .arg(&tarball)
            .arg("-C")
            .arg(&x),
        "GNU tar",
    );
    assert_eq!(tree(&bundle.join("rootfs")), tree(&x));
}
