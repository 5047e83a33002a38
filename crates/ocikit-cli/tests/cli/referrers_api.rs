//! `ocikit attach` and `ocikit referrers` on a registry with the referrers API (oci-remote's
//! `testing::MemoryRegistry`): the artifact is listed through the API, filtered by type, no
//! fallback tag is written, and its blob comes back byte for byte. (Debian's registry, which
//! lacks the API, and layouts are tested in `author.rs`.)

use std::fs;
use std::path::Path;

use oci_remote::testing::MemoryRegistry;
use serde_json::Value;

use crate::registry_cmds::layout_with_index;
use crate::support::{ocikit, Run};
const SBOM_TYPE: &str = "application/vnd.example.sbom";
const SIG_TYPE: &str = "application/vnd.example.sig";

fn json(run: Run) -> Value {
    serde_json::from_str(&run.ok().stdout).unwrap()
}

/// Two files to attach: an SBOM and a signature of a few hundred KiB.
fn files(d: &Path) -> (Vec<u8>, Vec<u8>) {
    let sbom = br#"{"spdxVersion":"SPDX-2.3","name":"hello"}"#.to_vec();
    let sig: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(d.join("sbom.spdx.json"), &sbom).unwrap();
    fs::write(d.join("sig.bin"), &sig).unwrap();
    (sbom, sig)
}

/// The digests of a referrers index's entries, and their artifact types.
fn entries(index: &Value) -> Vec<(String, String)> {
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["digest"].as_str().unwrap().to_owned(),
                d["artifactType"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn attached_artifacts_are_listed_by_a_registry_with_the_referrers_api() {
    let registry = MemoryRegistry::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (layout, _) = layout_with_index(d);
    let host = registry.host();
    let image = format!("docker://{host}/api/app:v1");
    ocikit(
        d,
        &["copy", &format!("oci:{}:hello", layout.display()), &image],
    )
    .ok();
    let (_, sig) = files(d);
    let digest = ocikit(
        d,
        &["attach", &image, "--artifact-type", SIG_TYPE, "sig.bin"],
    )
    .ok()
    .stdout
    .trim()
    .to_owned();
    let found = json(ocikit(d, &["referrers", &image, "--json"]));
    assert_eq!(entries(&found), [(digest.clone(), SIG_TYPE.to_owned())]);
    let none = json(ocikit(
        d,
        &["referrers", &image, "--artifact-type", SBOM_TYPE, "--json"],
    ));
    assert!(entries(&none).is_empty());
    // The registry indexed the subject itself: no fallback tag.
    assert_eq!(registry.tags("api/app"), ["v1"]);
    assert!(registry
        .requests()
        .iter()
        .any(|r| r.starts_with("GET /v2/api/app/referrers/")));

    let manifest = json(ocikit(
        d,
        &["manifest", &format!("docker://{host}/api/app@{digest}")],
    ));
    let blob = format!(
        "{host}/api/app@{}",
        manifest["layers"][0]["digest"].as_str().unwrap()
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ocikit"))
        .current_dir(d)
        .env("DOCKER_CONFIG", d.join(".no-docker-config"))
        .args(["blob", &blob])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, sig);
}
