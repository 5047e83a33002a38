//! One spelling of the options across commands, levels checked per format, options shown
//! only where they apply, and the scripting outputs (`--json`, `--digestfile`).

use std::fs;

use crate::support::*;

/// A tar of the fixtures' layer files, a small layer input.
fn layer_tar(d: &std::path::Path) -> String {
    let ok = std::process::Command::new("tar")
        .arg("-cf")
        .arg(d.join("l.tar"))
        .arg("-C")
        .arg(fixtures())
        .arg("layers")
        .status()
        .unwrap()
        .success();
    assert!(ok);
    "l.tar".to_owned()
}

fn hello() -> String {
    format!("oci:{}:hello", fixtures().join("oci-layout").display())
}

#[test]
fn compression_levels_are_checked_per_format() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let tar = layer_tar(d);
    let src = hello();
    // Out of the format's range: a usage error (exit 2) of one line naming the range.
    for (args, range) in [
        (
            vec!["layer", &tar, "--store", "st", "--level", "99"],
            "gzip levels are 0 to 12",
        ),
        (
            vec![
                "layer",
                &tar,
                "--store",
                "st",
                "--dest-compress-format",
                "zstd",
                "--dest-compress-level",
                "23",
            ],
            "zstd levels are 1 to 22",
        ),
        (
            vec!["layer", &tar, "--store", "st", "--zstd", "--level", "0"],
            "zstd levels are 1 to 22",
        ),
        (
            vec!["copy", &src, "oci:o:x", "--dest-compress-level", "13"],
            "gzip levels are 0 to 12",
        ),
        (
            vec![
                "copy",
                &src,
                "oci:o:x",
                "--dest-compress-format",
                "none",
                "--dest-compress-level",
                "3",
            ],
            "none has no level",
        ),
        (
            vec![
                "append", &src, &tar, "-t", "a:1", "-o", "oci:o:x", "--level", "13",
            ],
            "gzip levels are 0 to 12",
        ),
        (
            vec![
                "push",
                &src,
                "docker://127.0.0.1:1/x",
                "--dest-compress-format",
                "zstd",
                "--dest-compress-level",
                "30",
            ],
            "zstd levels are 1 to 22",
        ),
    ] {
        let r = ocikit(d, &args).fails(2);
        assert!(r.stderr.contains(range), "{args:?}: {}", r.stderr);
    }
    assert!(!d.join("st").exists() && !d.join("o").exists());
    // In range, in either spelling: the old ones are hidden aliases.
    let new = ocikit(
        d,
        &[
            "layer",
            &tar,
            "--store",
            "st",
            "--dest-compress-format",
            "zstd",
            "--dest-compress-level",
            "19",
        ],
    )
    .ok();
    let old = ocikit(
        d,
        &["layer", &tar, "--store", "st2", "--zstd", "--level", "19"],
    )
    .ok();
    assert_eq!(new.stdout, old.stdout);
    assert!(new.stdout.contains("tar+zstd"), "{}", new.stdout);
    ocikit(
        d,
        &[
            "append",
            &src,
            &tar,
            "-t",
            "a:1",
            "-o",
            "oci:o:x",
            "--dest-compress-level",
            "12",
        ],
    )
    .ok();
}

#[test]
fn options_are_shown_where_they_apply() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let help = |cmd: &str| {
        let mut args: Vec<&str> = cmd.split(' ').collect();
        args.push("--help");
        ocikit(d, &args).ok().stdout
    };
    for cmd in ["copy", "push", "pull", "append", "layer"] {
        let h = help(cmd);
        assert!(h.contains("--dest-compress-format"), "{cmd}: {h}");
        assert!(h.contains("--dest-compress-level"), "{cmd}: {h}");
        assert!(
            !h.contains("--zstd") && !h.contains("--level "),
            "{cmd}: {h}"
        );
    }
    for cmd in ["copy", "push", "pull", "append"] {
        let h = help(cmd);
        assert!(h.contains("--jobs"), "{cmd}: {h}");
        assert!(
            h.contains("--json") && h.contains("--digestfile"),
            "{cmd}: {h}"
        );
    }
    for cmd in [
        "mutate",
        "rebase",
        "index create",
        "index append",
        "index remove",
    ] {
        let h = help(cmd);
        assert!(
            h.contains("--json") && h.contains("--digestfile"),
            "{cmd}: {h}"
        );
    }
    for cmd in ["inspect", "verify", "unpack", "export", "layer"] {
        let h = help(cmd);
        assert!(!h.contains("--jobs"), "{cmd}: {h}");
    }
    for cmd in ["inspect", "verify", "unpack", "export", "ls", "manifest"] {
        let h = help(cmd);
        assert!(!h.contains("compress"), "{cmd}: {h}");
    }
}

#[test]
fn write_commands_report_json_and_digestfile() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let tar = layer_tar(d);
    let src = hello();
    // copy: the manifest's digest, as written, in both.
    let r = ocikit(
        d,
        &["copy", &src, "oci:o:x", "--json", "--digestfile", "dg"],
    )
    .ok();
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let written = fs::read_to_string(d.join("dg")).unwrap();
    assert_eq!(doc["digest"], written.as_str());
    assert_eq!(doc["kind"], "manifest");
    assert_eq!(doc["destination"], "oci:o:x");
    assert_eq!(doc["blobs"].as_array().unwrap().len(), 3);
    assert_eq!(
        written,
        "sha256:8056f20c74ed337af335d562694f59ec3e55d618139a120000f528f8139db34b"
    );
    assert!(r.stderr.starts_with("wrote oci:o:x"), "{}", r.stderr);
    // Without --json, stdout stays empty.
    assert!(ocikit(d, &["copy", &src, "oci:o:y"]).ok().stdout.is_empty());
    // append: the new manifest, the one the layout's index.json names.
    let r = ocikit(
        d,
        &[
            "append",
            &src,
            &tar,
            "-t",
            "a:1",
            "-o",
            "oci:o",
            "--json",
            "--digestfile",
            "dg2",
        ],
    )
    .ok();
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let written = fs::read_to_string(d.join("dg2")).unwrap();
    assert_eq!(doc["digest"], written.as_str());
    // For a layout, -t is the ref name, as given.
    let index: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.join("o/index.json")).unwrap()).unwrap();
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["digest"] == written.as_str())
        .unwrap_or_else(|| panic!("{index}"));
    assert_eq!(
        entry["annotations"]["org.opencontainers.image.ref.name"],
        "a:1"
    );
    // layer: its JSON descriptor on stdout, the digest in --digestfile.
    let r = ocikit(d, &["layer", &tar, "--store", "st", "--digestfile", "dg3"]).ok();
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        doc["digest"],
        fs::read_to_string(d.join("dg3")).unwrap().as_str()
    );
    // --json: the same document on one line.
    let r = ocikit(d, &["layer", &tar, "--store", "st", "--json"]).ok();
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap(),
        doc
    );
    // mutate and index create: the manifest and the index written.
    let r = ocikit(
        d,
        &[
            "mutate",
            &src,
            "--env",
            "A=1",
            "-o",
            "oci:m:x",
            "--json",
            "--digestfile",
            "dg4",
        ],
    )
    .ok();
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["kind"], "manifest");
    assert_eq!(
        doc["digest"],
        fs::read_to_string(d.join("dg4")).unwrap().as_str()
    );
    let r = ocikit(
        d,
        &[
            "index",
            "create",
            "oci:i:x",
            "--manifest",
            "oci:m:x",
            "--json",
        ],
    )
    .ok();
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["kind"], "index");
    let index = fs::read_to_string(d.join("i/index.json")).unwrap();
    assert!(index.contains(doc["digest"].as_str().unwrap()), "{index}");
}
