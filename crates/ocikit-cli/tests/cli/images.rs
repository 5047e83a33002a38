//! inspect, convert, append, verify: the happy paths.

use serde_json::Value;

use crate::support::*;

#[test]
fn append_convert_round_trip_is_byte_identical() {
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
    ocikit(d, &["convert", "demo.tar", "oci:lay:v1"]).ok();
    ocikit(
        d,
        &[
            "convert",
            "oci:lay:v1",
            "docker-archive:back.tar:example.com/demo:v1",
        ],
    )
    .ok();
    let same =
        std::fs::read(d.join("demo.tar")).unwrap() == std::fs::read(d.join("back.tar")).unwrap();
    assert!(
        same,
        "docker-archive -> oci -> docker-archive changed the archive"
    );
    // The same tree gives the same image: layers are tarred deterministically.
    ocikit(
        d,
        &[
            "append",
            "scratch",
            "root",
            "-t",
            "example.com/demo:v1",
            "-o",
            "again.tar",
        ],
    )
    .ok();
    let same =
        std::fs::read(d.join("demo.tar")).unwrap() == std::fs::read(d.join("again.tar")).unwrap();
    assert!(same, "the same tree gave a different archive");

    let a: Value =
        serde_json::from_str(&ocikit(d, &["inspect", "demo.tar", "--json"]).ok().stdout).unwrap();
    let o: Value =
        serde_json::from_str(&ocikit(d, &["inspect", "oci:lay:v1", "--json"]).ok().stdout).unwrap();
    assert_eq!(
        a[0]["config_digest"], o[0]["config_digest"],
        "the image ID survives conversion"
    );
    assert_eq!(a[0]["layers"][0]["diff_id"], o[0]["layers"][0]["diff_id"]);
    assert_eq!(a[0]["tags"][0], "example.com/demo:v1");
    assert_eq!(
        o[0]["layers"][0]["media_type"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(a[0]["platform"], "linux/amd64");
    ocikit(d, &["verify", "demo.tar"]).ok();
    ocikit(d, &["verify", "oci:lay"]).ok();
}

#[test]
fn append_onto_a_base_and_from_stdin() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    make_tree(&d.join("root"));
    let base = format!("oci:{}:hello", fixtures().join("oci-layout").display());
    let tar = system_tar(&d.join("root"));
    ocikit_stdin(
        d,
        &["append", &base, "-", "-t", "app:v2", "-o", "oci:out:v2"],
        &tar,
    )
    .ok();
    let o: Value =
        serde_json::from_str(&ocikit(d, &["inspect", "oci:out:v2", "--json"]).ok().stdout).unwrap();
    let layers = o[0]["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3, "two base layers and one new");
    assert_eq!(
        layers[0]["digest"],
        "sha256:017cc9880756317eb7e94aa2da03ab921878ee450f1296ce4073b268203896e7"
    );
    assert_eq!(
        layers[2]["diff_id"],
        oci_types::Digest::sha256(&tar).to_string(),
        "diff_id is sha256 of the tar given"
    );
    assert_eq!(o[0]["cmd"][0], "cat", "the base config is kept");
    ocikit(d, &["verify", "oci:out:v2"]).ok();
    // A gzipped tar is taken as the tar inside it.
    let gz = std::process::Command::new("sh")
        .arg("-c")
        .arg("gzip -c")
        .stdin(
            std::fs::File::open({
                std::fs::write(d.join("l.tar"), &tar).unwrap();
                d.join("l.tar")
            })
            .unwrap(),
        )
        .output()
        .unwrap()
        .stdout;
    std::fs::write(d.join("l.tar.gz"), gz).unwrap();
    ocikit(
        d,
        &[
            "append", "scratch", "l.tar.gz", "-t", "gz:1", "-o", "gz.tar",
        ],
    )
    .ok();
    let g: Value =
        serde_json::from_str(&ocikit(d, &["inspect", "gz.tar", "--json"]).ok().stdout).unwrap();
    assert_eq!(
        g[0]["layers"][0]["diff_id"],
        oci_types::Digest::sha256(&tar).to_string()
    );
}

#[test]
fn convert_recompresses_and_keeps_diff_ids() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let src = format!("oci:{}:hello", fixtures().join("oci-layout").display());
    ocikit(d, &["convert", &src, "oci:z:hello", "--compress", "zstd"]).ok();
    let z: Value =
        serde_json::from_str(&ocikit(d, &["inspect", "oci:z:hello", "--json"]).ok().stdout)
            .unwrap();
    assert_eq!(
        z[0]["layers"][0]["media_type"],
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
    assert_eq!(
        z[0]["layers"][0]["diff_id"],
        "sha256:5260bd3926c36c318835046b8882c825b45f62c74f4d25a6d4a205358f266e16"
    );
    assert_eq!(
        z[0]["config_digest"],
        "sha256:9e8d0e1ececf619ff977fa70e8da7da502afbb36e328293c5fdac4d9c8038ede"
    );
    ocikit(d, &["verify", "oci:z"]).ok();
    // Unchanged compression: blobs are copied as they are, so the manifest is the source's.
    ocikit(d, &["convert", &src, "oci:same:hello"]).ok();
    let s: Value = serde_json::from_str(
        &ocikit(d, &["inspect", "oci:same:hello", "--json"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        s[0]["digest"],
        "sha256:8056f20c74ed337af335d562694f59ec3e55d618139a120000f528f8139db34b"
    );
    // Every image of a multi-image archive, each by index.
    let two = fixtures().join("docker-archive/podman-save-two.tar");
    let all: Value = serde_json::from_str(
        &ocikit(d, &["inspect", two.to_str().unwrap(), "--json"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    ocikit(
        d,
        &[
            "convert",
            &format!(
                "docker-archive:{}:example.com/fixtures/hello-extra:1.0",
                two.display()
            ),
            "oci:x:extra",
        ],
    )
    .ok();
    let x: Value =
        serde_json::from_str(&ocikit(d, &["inspect", "oci:x:extra", "--json"]).ok().stdout)
            .unwrap();
    assert_eq!(
        x[0]["config_digest"],
        "sha256:f552552ccc56e21b24b19b73c51f43138efcb8a04c118a5aa1ea59e1a8299176"
    );
}

#[test]
fn append_streams_into_the_output_compression() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    make_tree(&d.join("root"));
    let tar_of_root = |dir: &str| {
        let o: Value =
            serde_json::from_str(&ocikit(d, &["inspect", dir, "--json"]).ok().stdout).unwrap();
        o[0]["layers"][0].clone()
    };
    for (flag, media_type) in [
        ("none", "application/vnd.oci.image.layer.v1.tar"),
        ("zstd", "application/vnd.oci.image.layer.v1.tar+zstd"),
        ("gzip", "application/vnd.oci.image.layer.v1.tar+gzip"),
    ] {
        let out = format!("oci:{flag}:v1");
        ocikit(
            d,
            &[
                "append",
                "scratch",
                "root",
                "-t",
                "a:v1",
                "-o",
                &out,
                "--compress",
                flag,
            ],
        )
        .ok();
        let layer = tar_of_root(&out);
        assert_eq!(layer["media_type"], media_type);
        ocikit(d, &["verify", &out]).ok();
    }
    // The same tar whatever the compression.
    assert_eq!(
        tar_of_root("oci:none:v1")["diff_id"],
        tar_of_root("oci:zstd:v1")["diff_id"]
    );
    assert_eq!(
        tar_of_root("oci:none:v1")["diff_id"],
        tar_of_root("oci:none:v1")["digest"]
    );
}

#[test]
fn every_command_has_help_with_an_example() {
    let t = tempfile::tempdir().unwrap();
    for cmd in ["inspect", "convert", "append", "layer", "store", "verify"] {
        let r = ocikit(t.path(), &[cmd, "--help"]).ok();
        assert!(r.stdout.contains("Example"), "{cmd} --help: {}", r.stdout);
    }
}
