//! `ocikit layer` and `ocikit store`.

use serde_json::Value;

use crate::support::*;

#[test]
fn layer_into_a_store_then_manage_it() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    make_tree(&d.join("root"));
    let tar = system_tar(&d.join("root"));
    let r = ocikit_stdin(d, &["layer", "-", "--store", "st"], &tar).ok();
    let desc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        desc["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(desc["diffID"], oci_types::Digest::sha256(&tar).to_string());
    let digest = desc["digest"].as_str().unwrap().to_owned();
    let blob = d
        .join("st/blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap());
    assert_eq!(
        sha256_file(&blob),
        digest,
        "the stored blob is what the descriptor says"
    );
    assert_eq!(
        std::fs::metadata(&blob).unwrap().len(),
        desc["size"].as_u64().unwrap()
    );
    // gzip -d of the blob gives back the tar.
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(&blob)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, tar);
    // The same layer again: the store keeps one blob and says the same.
    let again = ocikit_stdin(d, &["layer", "-", "--store", "st"], &tar).ok();
    assert_eq!(serde_json::from_str::<Value>(&again.stdout).unwrap(), desc);
    // zstd from a file.
    std::fs::write(d.join("l.tar"), &tar).unwrap();
    let z: Value = serde_json::from_str(
        &ocikit(d, &["layer", "l.tar", "--store", "st", "--zstd"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        z["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
    assert_eq!(z["diffID"], desc["diffID"]);

    let ls = ocikit(d, &["store", "st", "ls"]).ok().stdout;
    assert!(
        ls.contains(&digest) && ls.contains(z["digest"].as_str().unwrap()),
        "{ls}"
    );
    // The uncompressed label, as containerd sets it.
    let info: Value =
        serde_json::from_str(&ocikit(d, &["store", "st", "info", &digest]).ok().stdout).unwrap();
    assert_eq!(info["labels"]["containerd.io/uncompressed"], desc["diffID"]);
    ocikit(
        d,
        &[
            "store",
            "st",
            "labels",
            &digest,
            "app=web",
            "containerd.io/gc.root=yes",
        ],
    )
    .ok();
    let filtered = ocikit(d, &["store", "st", "ls", "labels.app==web"])
        .ok()
        .stdout;
    assert!(
        filtered.contains(&digest) && !filtered.contains(z["digest"].as_str().unwrap()),
        "{filtered}"
    );
    // gc keeps the root, deletes the unlabelled zstd blob.
    let gc = ocikit(d, &["store", "st", "gc"]).ok().stdout;
    assert!(
        gc.contains(z["digest"].as_str().unwrap()) && !gc.contains(&digest),
        "{gc}"
    );
    ocikit(d, &["store", "st", "rm", &digest]).ok();
    assert!(!blob.exists());
    assert_eq!(ocikit(d, &["store", "st", "info", &digest]).code, 1);
}

#[test]
fn ingests_can_be_listed_and_aborted() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let store = oci_content::LocalStore::open(d.join("st")).unwrap();
    {
        use oci_content::Ingester;
        use std::io::Write;
        let mut w = store
            .writer(oci_content::WriterOpts::new("upload-1"))
            .unwrap();
        w.write_all(b"partial").unwrap();
    }
    let list = ocikit(d, &["store", "st", "ingests"]).ok().stdout;
    assert!(list.contains("upload-1") && list.contains(" 7 "), "{list}");
    let none = ocikit(d, &["store", "st", "ingests", "ref==other"])
        .ok()
        .stdout;
    assert!(!none.contains("upload-1"), "{none}");
    ocikit(d, &["store", "st", "abort", "upload-1"]).ok();
    assert!(!ocikit(d, &["store", "st", "ingests"])
        .ok()
        .stdout
        .contains("upload-1"));
}
