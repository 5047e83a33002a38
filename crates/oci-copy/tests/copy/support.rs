//! Making sources and checking destinations.

use std::path::{Path, PathBuf};
use std::process::Command;

use oci_copy::ImageName;
use oci_partial::{validate_image, Image, ValidateOptions};

/// The fixtures folder (`fixtures/` at the repository root).
pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// `s` parsed as a name.
pub(crate) fn name(s: impl AsRef<str>) -> ImageName {
    s.as_ref().parse().unwrap()
}

/// Every image `name` holds, each validated (every digest, size and diff_id).
pub(crate) fn validate(name: &ImageName) -> Vec<oci_copy::NamedImage> {
    validate_with(name, &oci_copy::CopyOptions::default())
}

/// As [`validate`], opened with `options`.
pub(crate) fn validate_with(
    name: &ImageName,
    options: &oci_copy::CopyOptions,
) -> Vec<oci_copy::NamedImage> {
    let images = oci_copy::open_images(name, options).unwrap();
    assert!(!images.is_empty(), "{name} holds no image");
    for i in &images {
        validate_image(i.image.as_ref(), ValidateOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", i.label));
    }
    images
}

/// The diff_ids of an image: what survives any recompression.
pub(crate) fn diff_ids(image: &dyn Image) -> Vec<String> {
    image
        .config_file()
        .unwrap()
        .rootfs
        .diff_ids
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Runs skopeo with `args`; fails clearly when it is missing.
#[allow(dead_code)] // used by the transport suites as they come
pub(crate) fn skopeo(args: &[&str]) {
    let out = Command::new("skopeo")
        .args(["--insecure-policy"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("skopeo is needed (apt-get install skopeo): {e}"));
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The files and directories in `dir` (names only), sorted.
pub(crate) fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Removes what a name wrote locally (a file or a directory).
pub(crate) fn remove(name: &str) {
    let path = name
        .split_once(':')
        .map(|(_, rest)| rest.split(':').next().unwrap_or(rest))
        .unwrap_or(name);
    let p = Path::new(path);
    if p.is_dir() {
        std::fs::remove_dir_all(p).unwrap();
    } else if p.exists() {
        std::fs::remove_file(p).unwrap();
    }
}
