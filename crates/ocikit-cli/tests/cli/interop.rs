//! Images made by `ocikit append` are accepted by skopeo and umoci.

use crate::support::*;

/// `umoci unpack` of `image` (a layout ref in `dir`) into `bundle` gives exactly the tree `root`.
#[track_caller]
pub(crate) fn assert_unpacks_to(dir: &std::path::Path, image: &str, bundle: &str, root: &str) {
    peer(
        dir,
        "umoci",
        &["unpack", "--rootless", "--image", image, bundle],
    );
    let diff = std::process::Command::new("diff")
        .arg("-r")
        .arg(dir.join(root))
        .arg(dir.join(bundle).join("rootfs"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&diff.stdout);
    assert!(
        diff.status.success(),
        "{image} unpacks to a different tree: {out}"
    );
}

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
    assert_unpacks_to(d, "sk:v1", "bundle", "root");

    // Our OCI layout too: skopeo sees the same config as in its own conversion.
    ocikit(d, &["convert", "demo.tar", "oci:ours:v1"]).ok();
    let ours = peer(d, "skopeo", &["inspect", "--config", "oci:ours:v1"]);
    let theirs = peer(d, "skopeo", &["inspect", "--config", "oci:sk:v1"]);
    assert_eq!(ours, theirs, "the config is byte-for-byte the same");
    assert_unpacks_to(d, "ours:v1", "bundle2", "root");
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

/// podman with a private store in `dir`, as root with the vfs driver (no daemon needed).
fn podman(dir: &std::path::Path, args: &[&str]) -> String {
    let s = dir.join("podman-store");
    let (root, run, tmp) = (s.join("root"), s.join("run"), s.join("tmp"));
    let mut all = vec![
        "--root",
        root.to_str().unwrap(),
        "--runroot",
        run.to_str().unwrap(),
        "--tmpdir",
        tmp.to_str().unwrap(),
        "--storage-driver",
        "vfs",
        "--cgroup-manager",
        "cgroupfs",
        "--events-backend",
        "none",
    ];
    all.extend_from_slice(args);
    peer(dir, "podman", &all)
}

#[test]
fn podman_loads_what_we_write_and_we_read_what_podman_saves() {
    if !have("podman") {
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
            "example.com/pm/ours:v1",
            "-o",
            "ours.tar",
        ],
    )
    .ok();
    let ours: serde_json::Value =
        serde_json::from_str(&ocikit(d, &["inspect", "ours.tar", "--json"]).ok().stdout).unwrap();
    let loaded = podman(d, &["load", "-i", "ours.tar"]);
    assert!(loaded.contains("example.com/pm/ours:v1"), "{loaded}");
    let id = podman(
        d,
        &[
            "image",
            "inspect",
            "--format",
            "{{.Id}}",
            "example.com/pm/ours:v1",
        ],
    );
    let config = ours[0]["config_digest"].as_str().unwrap();
    assert_eq!(
        format!("sha256:{}", id.trim()),
        config,
        "podman sees our image ID"
    );

    // A second image, then both saved in one archive by podman: we read both.
    let hello = fixtures().join("docker-archive/skopeo-hello.tar");
    podman(d, &["load", "-i", hello.to_str().unwrap()]);
    podman(
        d,
        &[
            "save",
            "--multi-image-archive",
            "-o",
            "two.tar",
            "example.com/pm/ours:v1",
            "example.com/fixtures/hello:1.0",
        ],
    );
    let two: serde_json::Value =
        serde_json::from_str(&ocikit(d, &["inspect", "two.tar", "--json"]).ok().stdout).unwrap();
    let configs: Vec<&str> = two
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["config_digest"].as_str().unwrap())
        .collect();
    assert_eq!(configs.len(), 2);
    assert!(configs.contains(&config), "{configs:?}");
    assert!(configs
        .contains(&"sha256:9e8d0e1ececf619ff977fa70e8da7da502afbb36e328293c5fdac4d9c8038ede"));
    ocikit(d, &["verify", "two.tar"]).ok();
}
