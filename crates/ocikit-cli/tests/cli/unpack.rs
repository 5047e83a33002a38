//! `ocikit unpack` and `ocikit export` against umoci and GNU tar on `fixtures/unpack`.

use std::path::Path;

use crate::support::{fixtures, have, ocikit, peer};

/// `find` of a tree: kind, mode, link target, size and hard-link count of each path.
fn listing(dir: &Path) -> String {
    let out = peer(dir, "find", &[".", "-printf", "%y %m %l %s %n %p\\n"]);
    let mut lines: Vec<&str> = out.lines().filter(|l| !l.ends_with(" .")).collect();
    lines.sort();
    lines.join("\n")
}

#[test]
fn unpack_and_export_match_umoci() {
    if !have("umoci") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    peer(
        dir,
        "cp",
        &[
            "-r",
            fixtures().join("unpack/layout").to_str().unwrap(),
            "layout",
        ],
    );
    peer(
        dir,
        "umoci",
        &["unpack", "--rootless", "--image", "layout:unpack", "bundle"],
    );
    ocikit(
        dir,
        &["unpack", "--rootless", "oci:layout:unpack", "rootfs"],
    )
    .ok();
    let want = listing(&dir.join("bundle/rootfs"));
    assert_eq!(want, listing(&dir.join("rootfs")));
    assert!(want.contains("p 640"), "{want}"); // the FIFO
                                               // A second unpack into the same directory is refused, and leaves it alone.
    let run = ocikit(dir, &["unpack", "oci:layout:unpack", "rootfs"]).fails(1);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    // export -o FILE, extracted by GNU tar, is the same tree; so is export to stdout.
    ocikit(dir, &["export", "oci:layout:unpack", "-o", "fs.tar"]).ok();
    std::fs::create_dir(dir.join("x")).unwrap();
    peer(
        dir,
        "tar",
        &["-x", "-p", "--no-same-owner", "-f", "fs.tar", "-C", "x"],
    );
    assert_eq!(want, listing(&dir.join("x")));
    let stdout = std::process::Command::new(env!("CARGO_BIN_EXE_ocikit"))
        .current_dir(dir)
        .args(["export", "oci:layout:unpack"])
        .output()
        .unwrap();
    assert!(stdout.status.success());
    assert_eq!(stdout.stdout, std::fs::read(dir.join("fs.tar")).unwrap());
}
