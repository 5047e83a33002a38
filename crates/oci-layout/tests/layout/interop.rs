//! Interoperability with the real tools: skopeo, umoci and oci-image-tool accept the layouts
//! we write, and we read (verifying every digest) the layouts they write.
//!
//! In CI (`CI=true`) a missing tool fails the test; elsewhere the test says it skips.

use std::path::Path;
use std::process::Command;

use oci_content::{Info, Ingester, Manager, WriterOpts};
use oci_layout::Layout;
use oci_partial::mutate::{with_media_types, Family};
use oci_partial::{random, validate_image, validate_index, ValidateOptions};
use oci_types::{Compression, ConfigFile, Digest, MediaType};

use crate::common::{fixtures, have_tool, is_root, new_layout, run};
use crate::fixtures::{check_image, hello_gzip, HELLO_CONFIG, HELLO_DIFF_IDS};

/// `oci:DIR:REF` for skopeo.
fn oci(dir: &Path, name: &str) -> String {
    format!("oci:{}:{name}", dir.display())
}

/// A layout holding a gzip image `app:1.0`, a zstd image `zimg`, a Docker image converted to
/// OCI media types `docker` and an index `multi` of two platforms.
///
/// (skopeo 1.9 only sees `index.json` entries with OCI media types: a Docker-typed manifest,
/// which we store as given, is invisible to it; converting with
/// `mutate::with_media_types(image, Family::Oci)` first makes it visible.)
fn our_layout() -> (tempfile::TempDir, Layout) {
    let (dir, layout) = new_layout();
    layout
        .write_image(random::image(1, 2, 10_000).as_ref(), Some("app:1.0"))
        .unwrap();
    let zstd = random::Options::default().compression(Compression::Zstd);
    layout
        .write_image(
            random::image_with(2, 2, 10_000, &zstd).as_ref(),
            Some("zimg"),
        )
        .unwrap();
    let docker = random::Options::default()
        .docker()
        .compression(Compression::None);
    let converted = with_media_types(random::image_with(3, 1, 5_000, &docker), Family::Oci);
    layout
        .write_image(converted.as_ref(), Some("docker"))
        .unwrap();
    layout
        .write_index(random::index(4, 2, 1, 3_000).as_ref(), Some("multi"))
        .unwrap();
    (dir, layout)
}

#[test]
fn skopeo_inspects_what_we_write() {
    if !have_tool("skopeo") {
        return;
    }
    let (_dir, layout) = our_layout();
    for name in ["app:1.0", "zimg", "docker"] {
        let image = layout.image_by_ref(name).unwrap();
        let raw = run(Command::new("skopeo").args(["inspect", "--raw", &oci(layout.root(), name)]));
        assert_eq!(raw.as_bytes(), image.raw_manifest().unwrap(), "{name}");
        let config = run(Command::new("skopeo").args([
            "inspect",
            "--config",
            "--raw",
            &oci(layout.root(), name),
        ]));
        assert_eq!(
            config.as_bytes(),
            image.raw_config_file().unwrap(),
            "{name}"
        );
        let json = run(Command::new("skopeo").args(["inspect", &oci(layout.root(), name)]));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            v["Digest"].as_str(),
            Some(image.digest().unwrap().as_str()),
            "{name}"
        );
        assert_eq!(
            v["Layers"].as_array().unwrap().len(),
            image.layers().unwrap().len()
        );
    }
    let index = layout.index_by_ref("multi").unwrap();
    let raw = run(Command::new("skopeo").args(["inspect", "--raw", &oci(layout.root(), "multi")]));
    assert_eq!(raw.as_bytes(), index.raw_manifest().unwrap());
}

#[test]
fn skopeo_copies_what_we_write() {
    if !have_tool("skopeo") {
        return;
    }
    let (dir, layout) = our_layout();
    let other = dir.path().join("copy");
    for name in ["app:1.0", "zimg", "docker"] {
        run(Command::new("skopeo").args([
            "copy",
            "-q",
            &oci(layout.root(), name),
            &oci(&other, name),
        ]));
    }
    run(Command::new("skopeo").args([
        "copy",
        "-q",
        "--all",
        &oci(layout.root(), "multi"),
        &oci(&other, "multi"),
    ]));
    // And the copy, read by us, is the same, verified.
    let copy = Layout::open(&other).unwrap();
    for name in ["app:1.0", "zimg"] {
        let (a, b) = (
            layout.image_by_ref(name).unwrap(),
            copy.image_by_ref(name).unwrap(),
        );
        validate_image(b.as_ref(), ValidateOptions::default()).unwrap();
        assert_eq!(
            b.digest().unwrap(),
            a.digest().unwrap(),
            "{name}: skopeo kept the manifest"
        );
    }
    // The uncompressed layer of `docker` is compressed by skopeo on the way: same diff_ids.
    let (a, b) = (
        layout.image_by_ref("docker").unwrap(),
        copy.image_by_ref("docker").unwrap(),
    );
    validate_image(b.as_ref(), ValidateOptions::default()).unwrap();
    assert_eq!(
        b.config_file().unwrap().rootfs.diff_ids,
        a.config_file().unwrap().rootfs.diff_ids
    );
    let multi = copy.index_by_ref("multi").unwrap();
    validate_index(multi.as_ref(), ValidateOptions::default()).unwrap();
    assert_eq!(
        multi.digest().unwrap(),
        layout.index_by_ref("multi").unwrap().digest().unwrap()
    );

    // To a docker-archive, and back in through skopeo into our layout.
    let tar = dir.path().join("app.tar");
    let archive = format!("docker-archive:{}:example.com/app:1.0", tar.display());
    run(Command::new("skopeo").args(["copy", "-q", &oci(layout.root(), "app:1.0"), &archive]));
    run(Command::new("skopeo").args(["copy", "-q", &archive, &oci(layout.root(), "from-archive")]));
    let back = Layout::open(layout.root())
        .unwrap()
        .image_by_ref("from-archive")
        .unwrap();
    validate_image(back.as_ref(), ValidateOptions::default()).unwrap();
    let original = layout.image_by_ref("app:1.0").unwrap();
    assert_eq!(
        back.config_file().unwrap().rootfs.diff_ids,
        original.config_file().unwrap().rootfs.diff_ids
    );
    // skopeo added its entry beside ours.
    assert_eq!(layout.index().unwrap().manifests.len(), 5);
}

#[test]
fn oci_image_tool_validates_what_we_write() {
    if !have_tool("oci-image-tool") {
        return;
    }
    let (_dir, layout) = new_layout();
    layout
        .write_image(random::image(1, 2, 10_000).as_ref(), Some("app"))
        .unwrap();
    layout
        .write_image(
            random::image(5, 1, 100).as_ref(),
            Some("example.com/app:1.0"),
        )
        .unwrap();
    let out = run(Command::new("oci-image-tool")
        .args(["validate", "--type", "image"])
        .arg(layout.root()));
    assert!(out.contains("Validation succeeded"), "{out}");
    for name in ["app", "example.com/app:1.0"] {
        run(Command::new("oci-image-tool")
            .args([
                "validate",
                "--type",
                "image",
                "--ref",
                &format!("name={name}"),
            ])
            .arg(layout.root()));
    }
    // A broken layout is not accepted: the check is not blind.
    let m = layout.image_by_ref("app").unwrap().manifest().unwrap();
    crate::common::corrupt_blob(&layout, &m.layers[0].digest);
    let status = Command::new("oci-image-tool")
        .args(["validate", "--type", "image"])
        .arg(layout.root())
        .output()
        .unwrap()
        .status;
    assert!(!status.success());
}

#[test]
fn umoci_unpacks_and_edits_what_we_write() {
    if !have_tool("umoci") {
        return;
    }
    let (dir, layout) = new_layout();
    let image = random::image(7, 2, 10_000);
    layout.write_image(image.as_ref(), Some("app")).unwrap();
    let rootless: &[&str] = if is_root() { &[] } else { &["--rootless"] };
    let bundle = dir.path().join("bundle");
    run(Command::new("umoci")
        .arg("unpack")
        .args(rootless)
        .args(["--image", &format!("{}:app", layout.root().display())])
        .arg(&bundle));
    // Each random layer adds one file of 10000 bytes under random/.
    let files = crate::common::names(&bundle.join("rootfs/random"));
    assert_eq!(files.len(), 2, "{files:?}");
    for f in files {
        assert_eq!(
            std::fs::metadata(bundle.join("rootfs/random").join(f))
                .unwrap()
                .len(),
            10_000
        );
    }
    // umoci changes the image in our layout; we read its result.
    run(Command::new("umoci").args([
        "config",
        "--image",
        &format!("{}:app", layout.root().display()),
        "--config.cmd",
        "/bin/true",
    ]));
    let edited = layout.image_by_ref("app").unwrap();
    assert_ne!(edited.digest().unwrap(), image.digest().unwrap());
    validate_image(edited.as_ref(), ValidateOptions::default()).unwrap();
    let cmd = edited.config_file().unwrap().config.unwrap().cmd;
    assert_eq!(cmd, Some(vec!["/bin/true".to_string()]));
    // The old manifest is unreferenced now: our gc removes it and its config, not the layers.
    let report = layout.gc().unwrap();
    let removed: Vec<Digest> = report.removed.iter().map(|(d, _)| d.clone()).collect();
    let mut expected = vec![image.digest().unwrap(), image.config_name().unwrap()];
    expected.sort();
    assert_eq!(removed, expected);
    // umoci still reads the layout after our gc.
    run(Command::new("umoci").args([
        "stat",
        "--image",
        &format!("{}:app", layout.root().display()),
    ]));
}

#[test]
fn we_read_what_skopeo_writes() {
    if !have_tool("skopeo") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let src = oci(&fixtures().join("oci-layout"), "hello");
    // skopeo writes a new layout, as is.
    let plain = tmp.path().join("plain");
    run(Command::new("skopeo").args(["copy", "-q", &src, &oci(&plain, "hello")]));
    let layout = Layout::open(&plain).unwrap();
    check_image(&layout, "hello", &hello_gzip());

    // skopeo recompresses to zstd: new layer digests, the same diff_ids and config.
    let zstd = tmp.path().join("zstd");
    run(Command::new("skopeo").args([
        "copy",
        "-q",
        "--dest-compress-format",
        "zstd",
        &src,
        &oci(&zstd, "hello"),
    ]));
    let layout = Layout::open(&zstd).unwrap();
    let image = layout.image_by_ref("hello").unwrap();
    validate_image(image.as_ref(), ValidateOptions::default()).unwrap();
    assert_eq!(image.config_name().unwrap(), HELLO_CONFIG.parse().unwrap());
    let diff_ids: Vec<Digest> = HELLO_DIFF_IDS.iter().map(|s| s.parse().unwrap()).collect();
    assert_eq!(image.config_file().unwrap().rootfs.diff_ids, diff_ids);
    for l in image.layers().unwrap() {
        assert_eq!(l.media_type().unwrap(), MediaType::OciLayerZstd);
        assert_eq!(
            oci_partial::digest_layer(l.as_ref()).unwrap().digest,
            l.digest().unwrap()
        );
    }

    // skopeo adds an image to a layout of ours, beside our images.
    let (_dir, ours) = new_layout();
    ours.write_image(random::image(1, 1, 100).as_ref(), Some("mine"))
        .unwrap();
    run(Command::new("skopeo").args(["copy", "-q", &src, &oci(ours.root(), "hello")]));
    assert_eq!(ours.index().unwrap().manifests.len(), 2);
    check_image(&ours, "hello", &hello_gzip());
    validate_image(
        ours.image_by_ref("mine").unwrap().as_ref(),
        ValidateOptions::default(),
    )
    .unwrap();
}

#[test]
fn we_read_what_umoci_writes() {
    if !have_tool("umoci") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("umoci");
    let image = format!("{}:built", dir.display());
    let rootless: &[&str] = if is_root() { &[] } else { &["--rootless"] };
    run(Command::new("umoci").args(["init", "--layout"]).arg(&dir));
    run(Command::new("umoci").args(["new", "--image", &image]));
    let bundle = tmp.path().join("bundle");
    run(Command::new("umoci")
        .arg("unpack")
        .args(rootless)
        .args(["--image", &image])
        .arg(&bundle));
    std::fs::write(bundle.join("rootfs/hello.txt"), b"hello from umoci\n").unwrap();
    run(Command::new("umoci")
        .arg("repack")
        .args(["--image", &image])
        .arg(&bundle));
    run(Command::new("umoci").args([
        "config",
        "--image",
        &image,
        "--config.cmd",
        "cat",
        "--os",
        "linux",
        "--architecture",
        "arm64",
    ]));

    let layout = Layout::open(&dir).unwrap();
    let read = layout.image_by_ref("built").unwrap();
    validate_image(read.as_ref(), ValidateOptions::default()).unwrap();
    let config: ConfigFile = read.config_file().unwrap();
    assert_eq!(config.architecture, "arm64");
    assert_eq!(config.rootfs.diff_ids.len(), 1);
    let tar = crate::common::read_all(read.layers().unwrap()[0].uncompressed().unwrap());
    assert!(tar.windows(16).any(|w| w == b"hello from umoci"));
    assert!(layout
        .image_by_platform(&"linux/arm64".parse().unwrap())
        .is_ok());
}

#[test]
fn tools_accept_the_stores_extra_entries() {
    // An interrupted write (`ingest/`), a labelled blob (`labels/`) and the lock files.
    let (_dir, layout) = new_layout();
    layout
        .write_image(random::image(9, 1, 1000).as_ref(), Some("app"))
        .unwrap();
    let mut w = layout
        .store()
        .writer(WriterOpts::new("interrupted"))
        .unwrap();
    std::io::Write::write_all(&mut w, b"half").unwrap();
    drop(w);
    let config = layout.image_by_ref("app").unwrap().config_name().unwrap();
    let labels = [("example".to_string(), "label".to_string())]
        .into_iter()
        .collect();
    layout
        .store()
        .update(&Info::for_update(config, labels), &[])
        .unwrap();
    let entries = crate::common::names(layout.root());
    for extra in ["ingest", "labels", "index.json.lock", "gc.lock"] {
        assert!(
            entries.iter().any(|e| e == extra),
            "{extra} missing: {entries:?}"
        );
    }
    if have_tool("skopeo") {
        run(Command::new("skopeo").args(["inspect", &oci(layout.root(), "app")]));
        let tmp = tempfile::tempdir().unwrap();
        run(Command::new("skopeo").args([
            "copy",
            "-q",
            &oci(layout.root(), "app"),
            &oci(tmp.path(), "app"),
        ]));
    }
    if have_tool("umoci") {
        run(Command::new("umoci").args([
            "stat",
            "--image",
            &format!("{}:app", layout.root().display()),
        ]));
        let tmp = tempfile::tempdir().unwrap();
        let rootless: &[&str] = if is_root() { &[] } else { &["--rootless"] };
        run(Command::new("umoci")
            .arg("unpack")
            .args(rootless)
            .args(["--image", &format!("{}:app", layout.root().display())])
            .arg(tmp.path().join("bundle")));
    }
    if have_tool("oci-image-tool") {
        run(Command::new("oci-image-tool")
            .args(["validate", "--type", "image"])
            .arg(layout.root()));
    }
}
