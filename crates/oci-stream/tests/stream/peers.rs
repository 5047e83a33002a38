//! Other tools accept the output: an OCI layout holding a stream layer (many gzip members) is
//! unpacked by umoci, which checks the diff_id, and decompressed by skopeo, which checks the
//! digest. Both read gzip with Go's `compress/gzip`, as containerd and podman do.

use std::fs;
use std::path::Path;
use std::process::Command;

use oci_partial::Layer;
use oci_stream::{Options, StreamLayer};
use oci_types::Digest;

use crate::common::{compress_with, random, text};

/// A tar of two files: text, and random bytes (stored blocks).
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Writes `bytes` as a blob of the layout; returns its digest and size.
fn put_blob(layout: &Path, bytes: &[u8]) -> (Digest, usize) {
    let d = Digest::sha256(bytes);
    fs::write(layout.join("blobs/sha256").join(d.encoded()), bytes).unwrap();
    (d, bytes.len())
}

/// An OCI layout with one image (tag `latest`) whose only layer is `layer`.
fn write_layout(layout: &Path, layer: &StreamLayer, blob: &[u8]) {
    fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    let (ld, ls) = put_blob(layout, blob);
    assert_eq!(ld, layer.digest().unwrap());
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
        layer.diff_id().unwrap()
    );
    let (cd, cs) = put_blob(layout, config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{cd}","size":{cs}}},"layers":[{{"mediaType":"{}","digest":"{ld}","size":{ls}}}]}}"#,
        layer.media_type().unwrap()
    );
    let (md, ms) = put_blob(layout, manifest.as_bytes());
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{md}","size":{ms},"annotations":{{"org.opencontainers.image.ref.name":"latest"}}}}]}}"#
    );
    fs::write(layout.join("index.json"), index).unwrap();
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} must be installed: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Both deflaters (igzip at level 1, libdeflate with its last block reopened at level 2), in
/// many blocks, stored ones among them.
#[test]
fn umoci_and_skopeo_read_a_stream_layer() {
    for level in [1, 2] {
        umoci_and_skopeo_read(level);
    }
}

fn umoci_and_skopeo_read(level: u32) {
    let text_file = text(700_000, 1);
    let random_file = random(300_000, 2);
    let tar = tar_of(&[("etc/motd", &text_file), ("bin/blob", &random_file)]);
    let opts = Options::new().block_size(64 << 10).level(level);
    let (layer, blob) = compress_with(&tar, opts, 1 << 16);
    assert!(blob.len() < tar.len());
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    write_layout(&layout, &layer, &blob);

    // umoci unpacks the layer and checks its diff_id against the config.
    let bundle = dir.path().join("bundle");
    run(Command::new("umoci")
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:latest", layout.display()))
        .arg(&bundle));
    assert!(fs::read(bundle.join("rootfs/etc/motd")).unwrap() == text_file);
    assert!(fs::read(bundle.join("rootfs/bin/blob")).unwrap() == random_file);

    // skopeo checks the digest while copying, and decompresses the layer back to the tar.
    let out = dir.path().join("out");
    run(Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-decompress"])
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(format!("dir:{}", out.display())));
    let tar_copy = fs::read(out.join(layer.diff_id().unwrap().encoded())).unwrap();
    assert!(tar_copy == tar, "skopeo's decompressed layer is the tar");
}
