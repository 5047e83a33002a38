//! `inspect` and `verify` of an index (a multi-platform image): the index's digest in text
//! and JSON, each entry's platform, `--platform` for one image, every child checked and the
//! index's entries against them; the same through a loopback registry, whose index digest
//! is that of `skopeo inspect --raw`.

use std::fs;
use std::path::Path;
use std::process::Command;

use oci_remote::testing::Registry;
use oci_types::Digest;
use serde_json::{json, Value};

use crate::registry_cmds::{layout_with_index, EXTRA, HELLO};
use crate::support::*;

fn json_of(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

/// Adds to `layout` an index `honest` whose entries claim no platform the configs deny:
/// hello (linux/amd64) and hello-extra (no platform). Returns its digest.
fn honest_index(layout: &Path) -> String {
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": HELLO, "size": 499,
             "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": EXTRA, "size": 499}
        ]
    }))
    .unwrap();
    let digest = Digest::sha256(&index);
    fs::write(layout.join("blobs/sha256").join(digest.encoded()), &index).unwrap();
    let mut top: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    top["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest.to_string(),
        "size": index.len(), "annotations": {"org.opencontainers.image.ref.name": "honest"}
    }));
    fs::write(layout.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    digest.to_string()
}

#[test]
fn inspect_and_verify_an_oci_index() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let (layout, index_bytes) = layout_with_index(d);
    let index_digest = Digest::sha256(&index_bytes).to_string();
    let multi = format!("oci:{}:multi", layout.display());

    // Text: the index (digest, media type, each entry's platform and digest), then its images.
    let text = ocikit(d, &["inspect", &multi]).ok().stdout;
    assert!(
        text.starts_with(&format!("Index:      {multi}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("Digest:     {index_digest}\n")),
        "{text}"
    );
    assert!(
        text.contains("application/vnd.oci.image.index.v1+json"),
        "{text}"
    );
    assert!(
        text.contains(&format!("  linux/amd64      {HELLO}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("  linux/arm64      {EXTRA}")),
        "{text}"
    );
    assert_eq!(
        text.matches(&format!("Index:      {index_digest}")).count(),
        2,
        "{text}"
    );

    // JSON: an array of images, each naming the index's digest and its entry's platform.
    let doc = json_of(&ocikit(d, &["inspect", &multi, "--json"]).ok());
    let images = doc.as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(images[0]["digest"], HELLO);
    assert_eq!(images[1]["digest"], EXTRA);
    for (image, platform) in images.iter().zip(["linux/amd64", "linux/arm64"]) {
        assert_eq!(image["index"]["digest"], index_digest.as_str());
        assert_eq!(image["index"]["platform"], platform);
    }
    // --platform: that one image.
    let doc = json_of(
        &ocikit(
            d,
            &["inspect", &multi, "--json", "--platform", "linux/arm64"],
        )
        .ok(),
    );
    assert_eq!(doc.as_array().unwrap().len(), 1);
    assert_eq!(doc[0]["digest"], EXTRA);
    assert_eq!(doc[0]["index"]["digest"], index_digest.as_str());
    let r = ocikit(d, &["inspect", &multi, "--platform", "linux/s390x"]).fails(1);
    assert!(
        r.stderr.contains("linux/amd64, linux/arm64"),
        "{}",
        r.stderr
    );
    ocikit(d, &["inspect", &multi, "--platform", "linux"]).fails(2);

    // verify: the index's entries are checked against their children: the fixture's
    // hello-extra config says amd64, so the arm64 entry is a mismatch (exit 1).
    let r = ocikit(d, &["verify", &multi, "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = json_of(&r);
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["index"]["digest"], index_digest.as_str());
    let checked = doc["checked"].as_array().unwrap();
    assert_eq!(checked.len(), 3);
    assert_eq!(checked[0]["ok"], false);
    assert!(
        checked[0]["problems"][0]
            .as_str()
            .unwrap()
            .contains("platform"),
        "{doc}"
    );
    assert_eq!(checked[1]["ok"], true);
    assert_eq!(checked[2]["ok"], true);
    let text = ocikit(d, &["verify", &multi]).stdout;
    assert!(
        text.starts_with(&format!("MISMATCH {multi} (index) {index_digest}")),
        "{text}"
    );

    // An index that tells the truth: every check passes, the index's digest is reported.
    let honest_digest = honest_index(&layout);
    let honest = format!("oci:{}:honest", layout.display());
    let doc = json_of(&ocikit(d, &["verify", &honest, "--json"]).ok());
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["index"]["digest"], honest_digest.as_str());
    assert_eq!(doc["checked"].as_array().unwrap().len(), 3);
    let text = ocikit(d, &["verify", &honest]).ok().stdout;
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains(&format!("ok       {honest} (index) {honest_digest}")),
        "{text}"
    );
    // --platform checks the index and that image only.
    let doc = json_of(
        &ocikit(
            d,
            &["verify", &honest, "--json", "--platform", "linux/amd64"],
        )
        .ok(),
    );
    assert_eq!(doc["checked"].as_array().unwrap().len(), 2);
    assert_eq!(doc["checked"][1]["digest"], HELLO);

    // A whole layout: every image, as before (no --platform: it names no one index).
    let whole = format!("oci:{}", layout.display());
    ocikit(d, &["verify", &whole]).ok();
    ocikit(d, &["inspect", &whole, "--platform", "linux/amd64"]).fails(2);
}

#[test]
fn inspect_and_verify_a_registry_index() {
    let Some(registry) = Registry::start() else {
        return;
    };
    assert!(have("skopeo"), "skopeo is needed");
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let (layout, _) = layout_with_index(d);
    honest_index(&layout);
    let name = format!("docker://{}/idx/app:multi", registry.host());
    let ok = Command::new("skopeo")
        .args(["copy", "-q", "--all", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:honest", layout.display()))
        .arg(&name)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let raw = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--raw", &name])
        .output()
        .unwrap();
    assert!(raw.status.success());
    let skopeo_digest = Digest::sha256(&raw.stdout).to_string();

    let doc = json_of(&ocikit(d, &["inspect", &name, "--json"]).ok());
    assert_eq!(doc.as_array().unwrap().len(), 2);
    assert_eq!(doc[0]["index"]["digest"], skopeo_digest.as_str());
    let text = ocikit(d, &["inspect", &name]).ok().stdout;
    assert!(
        text.contains(&format!("Digest:     {skopeo_digest}")),
        "{text}"
    );
    let doc = json_of(&ocikit(d, &["verify", &name, "--json"]).ok());
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["index"]["digest"], skopeo_digest.as_str());
    let doc = json_of(
        &ocikit(
            d,
            &["inspect", &name, "--json", "--platform", "linux/amd64"],
        )
        .ok(),
    );
    assert_eq!(doc[0]["digest"], HELLO);
}
