//! containerd reads what ocikit writes: `ctr images import` of an oci-archive whose two layers
//! are stream layers of several 1 MiB blocks in one gzip member, one from ISA-L (level 1),
//! one from libdeflate (level 6). containerd unpacks each layer, checking its diff_id, so a
//! layer it read only in part fails the import; the unpacked trees are compared with the
//! directories the layers were made from.

#[path = "../../../oci-content/tests/content/daemon.rs"]
pub(crate) mod daemon;

use std::path::Path;

use crate::support::*;

/// About 3 MiB half compressible, half not, so that every level writes several blocks.
fn fill(dir: &Path, seed: u32) {
    make_tree(dir);
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    let noise: Vec<u8> = (0..3 << 19)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    std::fs::write(dir.join("noise.bin"), noise).unwrap();
    let text = format!("line {seed} of a compressible file\n").repeat(50_000);
    std::fs::write(dir.join("text.txt"), text).unwrap();
}

#[test]
fn ctr_imports_and_unpacks_stream_layers() {
    let Some((containerd, ctr)) = daemon::tools() else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    fill(&d.join("one"), 1);
    fill(&d.join("two"), 2);
    std::fs::remove_file(d.join("two/hello-again.txt")).unwrap();
    ocikit(
        d,
        &["append", "scratch", "one", "-t", "v1", "-o", "oci:lay:v1"],
    )
    .ok();
    ocikit(
        d,
        &[
            "append",
            "oci:lay:v1",
            "two",
            "--level",
            "6",
            "-t",
            "example.com/ctr:v1",
            "-o",
            "oci-archive:img.tar",
        ],
    )
    .ok();

    let daemon = daemon::Daemon::start(&containerd, &ctr, &d.join("c"), true);
    let archive = d.join("img.tar").display().to_string();
    daemon.ctr_ok(&[
        "images",
        "import",
        "--snapshotter",
        "native",
        "--base-name",
        "example.com/ctr",
        &archive,
    ]);
    let check = String::from_utf8(
        daemon
            .ctr_ok(&["images", "check", "--snapshotter", "native"])
            .stdout,
    )
    .unwrap();
    let line = check
        .lines()
        .find(|l| l.starts_with("example.com/ctr:v1 "))
        .unwrap_or_else(|| panic!("not imported:\n{check}"));
    assert!(line.contains("complete"), "{check}");
    assert!(line.trim_end().ends_with("true"), "not unpacked: {check}");

    // The native snapshotter keeps each layer's unpacked tree in a directory of its own:
    // snapshot 1 is the first layer; 2 holds both (each a full copy of its parent).
    let snapshots = d.join("c/root/io.containerd.snapshotter.v1.native/snapshots");
    for (snapshot, want) in [("1", "one"), ("2", "two")] {
        let got = snapshots.join(snapshot);
        let mut diff = std::process::Command::new("diff");
        diff.arg("-r").arg(d.join(want)).arg(&got);
        // The second snapshot also holds what only the first layer has.
        if snapshot == "2" {
            diff.arg("--exclude=hello-again.txt");
        }
        let out = diff.output().unwrap();
        assert!(
            out.status.success(),
            "layer {snapshot} unpacked by containerd differs from {want}/: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
