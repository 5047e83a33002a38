//! Images made by `ocikit append` are accepted by skopeo and umoci.

use crate::support::*;

#[test]
fn skopeo_and_umoci_accept_what_append_writes() {
    if !have("skopeo") || !have("umoci") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    make_tree(&d.join("root"));
    ocikit(
        d,
        &[
            "append",
            "scratch",
            "root",
            "-t",
            "example.com/demo:v1",
            "-o",
            "demo.tar",
        ],
    )
    .ok();
    let inspect = peer(d, "skopeo", &["inspect", "docker-archive:demo.tar"]);
    assert!(inspect.contains("\"Architecture\": \"amd64\""), "{inspect}");
    peer(
        d,
        "skopeo",
        &["copy", "docker-archive:demo.tar", "oci:sk:v1"],
    );
    peer(
        d,
        "umoci",
        &["unpack", "--rootless", "--image", "sk:v1", "bundle"],
    );
    let diff = std::process::Command::new("diff")
        .arg("-r")
        .arg(d.join("root"))
        .arg(d.join("bundle/rootfs"))
        .output()
        .unwrap();
    assert!(
        diff.status.success(),
        "unpacked tree differs: {}",
        String::from_utf8_lossy(&diff.stdout)
    );

    // Our OCI layout too: skopeo sees the same config as in its own conversion.
    ocikit(d, &["convert", "demo.tar", "oci:ours:v1"]).ok();
    let ours = peer(d, "skopeo", &["inspect", "--config", "oci:ours:v1"]);
    let theirs = peer(d, "skopeo", &["inspect", "--config", "oci:sk:v1"]);
    assert_eq!(ours, theirs, "the config is byte-for-byte the same");
    peer(
        d,
        "umoci",
        &["unpack", "--rootless", "--image", "ours:v1", "bundle2"],
    );
    let diff = std::process::Command::new("diff")
        .arg("-r")
        .arg(d.join("root"))
        .arg(d.join("bundle2/rootfs"))
        .output()
        .unwrap();
    assert!(
        diff.status.success(),
        "unpacked tree differs: {}",
        String::from_utf8_lossy(&diff.stdout)
    );
    // skopeo's layout read by us, converted back: the identical archive (our scratch config
    // has the bytes skopeo's Go types give it, so skopeo's conversion keeps its digest).
    ocikit(
        d,
        &[
            "convert",
            "oci:sk:v1",
            "docker-archive:back.tar:example.com/demo:v1",
        ],
    )
    .ok();
    let same =
        std::fs::read(d.join("demo.tar")).unwrap() == std::fs::read(d.join("back.tar")).unwrap();
    assert!(
        same,
        "docker-archive -> skopeo oci -> docker-archive changed the archive"
    );
}
