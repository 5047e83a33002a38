//! skopeo against what we push, and we against what skopeo pushes.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use oci_partial::Image;
use oci_remote::{Client, WriteOptions};
use oci_types::{Digest, Reference};

use crate::support::{require, Registry};

fn skopeo(args: &[&str]) -> Vec<u8> {
    let out = Command::new("skopeo").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"))
}

#[test]
fn skopeo_reads_what_we_push() {
    let Some(registry) = Registry::start() else {
        return;
    };
    if !require("skopeo") {
        return;
    }
    let client = Client::default();
    let layout = oci_layout::Layout::open(fixtures().join("oci-layout")).unwrap();
    let image = layout.image_by_ref("hello").unwrap();
    let reference: Reference = format!("{}/interop/ours:v1", registry.host())
        .parse()
        .unwrap();
    oci_remote::write_image(&client, &reference, image.as_ref(), &WriteOptions::new()).unwrap();

    let url = format!("docker://{reference}");
    let raw = skopeo(&["inspect", "--tls-verify=false", "--raw", &url]);
    assert_eq!(raw, image.raw_manifest().unwrap());
    let config = skopeo(&["inspect", "--tls-verify=false", "--config", "--raw", &url]);
    assert_eq!(
        Digest::sha256(&config),
        image.manifest().unwrap().config.digest
    );

    // skopeo copies it out to a layout: the same manifest digest.
    let dir = tempfile::tempdir().unwrap();
    let dest = format!("oci:{}:copied", dir.path().join("layout").display());
    skopeo(&["copy", "--src-tls-verify=false", &url, &dest]);
    let copied = oci_layout::Layout::open(dir.path().join("layout")).unwrap();
    assert_eq!(
        copied.image_by_ref("copied").unwrap().digest().unwrap(),
        image.digest().unwrap()
    );
}

#[test]
fn we_read_what_skopeo_pushes() {
    let Some(registry) = Registry::start() else {
        return;
    };
    if !require("skopeo") {
        return;
    }
    let archive = fixtures().join("docker-archive/skopeo-hello.tar");
    let url = format!("docker://{}/interop/theirs:v1", registry.host());
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("docker-archive:{}", archive.display()),
        &url,
    ]);
    let raw = skopeo(&["inspect", "--tls-verify=false", "--raw", &url]);
    let client = Client::default();
    let reference: Reference = format!("{}/interop/theirs:v1", registry.host())
        .parse()
        .unwrap();
    let image: Arc<dyn Image> = oci_remote::image(&client, &reference, None).unwrap();
    assert_eq!(image.raw_manifest().unwrap(), raw);
    oci_partial::validate_image(image.as_ref(), Default::default()).unwrap();
}
