//! The everyday registry operations (tags, catalog, raw manifests, digests, tag, delete,
//! blobs) against what skopeo shows and does on the same registry.

use std::io::Read;
use std::process::Command;

use oci_partial::random;
use oci_remote::{Client, Error, WriteOptions};
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

#[test]
fn operations_agree_with_skopeo() {
    let Some(registry) = Registry::start() else {
        return;
    };
    if !require("skopeo") {
        return;
    }
    let client = Client::default();
    let host = registry.host();
    let index = random::index(7, 2, 1, 2048);
    let index_ref: Reference = format!("{host}/ops/multi:v1").parse().unwrap();
    let pushed =
        oci_remote::write_index(&client, &index_ref, index.as_ref(), &WriteOptions::new()).unwrap();
    let image = random::image(8, 1, 4096);
    let image_ref: Reference = format!("{host}/ops/single:v1").parse().unwrap();
    oci_remote::write_image(&client, &image_ref, image.as_ref(), &WriteOptions::new()).unwrap();
    let repo = client.repository(&index_ref);

    // Raw index and its digest: the bytes skopeo shows, the digest of those bytes.
    let url = format!("docker://{index_ref}");
    let raw = skopeo(&["inspect", "--tls-verify=false", "--raw", &url]);
    let fetched = repo.manifest("v1").unwrap();
    assert_eq!(fetched.bytes, raw);
    assert_eq!(fetched.digest, Digest::sha256(&raw));
    assert_eq!(fetched.digest, pushed.digest);
    let head = repo.manifest_descriptor("v1").unwrap().unwrap();
    assert_eq!(head.digest, fetched.digest);

    // Raw config of an image.
    let single = client.repository(&image_ref);
    let image_url = format!("docker://{image_ref}");
    let config = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--config",
        "--raw",
        &image_url,
    ]);
    let manifest = image.manifest().unwrap();
    let mut blob = Vec::new();
    single
        .blob(&manifest.config.digest, Some(manifest.config.size))
        .unwrap()
        .read_to_end(&mut blob)
        .unwrap();
    assert_eq!(blob, config);

    // Tag without uploading: the same digest under the new tag, tags as skopeo lists them.
    let tagged = repo.tag("v1", "v2").unwrap();
    assert_eq!(tagged.digest, fetched.digest);
    let listed: serde_json::Value = serde_json::from_slice(&skopeo(&[
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{host}/ops/multi"),
    ]))
    .unwrap();
    let mut ours = repo.tags_paged(Some(1)).unwrap();
    ours.sort();
    let mut theirs: Vec<String> = serde_json::from_value(listed["Tags"].clone()).unwrap();
    theirs.sort();
    assert_eq!(ours, theirs);
    assert_eq!(ours, ["v1", "v2"]);

    // A repository that does not exist: named in the error.
    let err = client.repository_at(&host, "ops/none").tags().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("repository ops/none not found in {host}")
    );

    // Catalog, one name a page.
    let mut catalog = client.catalog_paged(&host, Some(1)).unwrap();
    catalog.sort();
    assert_eq!(catalog, ["ops/multi", "ops/single"]);

    // Deleting a tag alone: distribution 2.8 refuses (400 DIGEST_INVALID), a clear error.
    let err = repo.delete_tag("v2").unwrap_err();
    assert!(matches!(err, Error::NotAllowed { .. }), "{err:?}");
    assert!(
        err.to_string().contains("does not allow deleting a tag"),
        "{err}"
    );

    // Deleting by digest removes it for skopeo too.
    single.delete_manifest(&image.digest().unwrap()).unwrap();
    let out = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--raw", &image_url])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(matches!(
        single.manifest("v1").unwrap_err(),
        Error::NotFound { .. }
    ));

    // And what skopeo deletes is gone for us.
    skopeo(&["delete", "--tls-verify=false", &url]);
    assert!(repo.manifest_descriptor("v1").unwrap().is_none());
}
