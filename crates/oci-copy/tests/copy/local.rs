//! Copies between local transports (docker archives, OCI layouts): digests, platforms,
//! compression, preserved digests, reuse, and nothing left behind on failure.

use std::path::Path;

use oci_copy::{
    copy, BlobOutcome, CopyOptions, Error, ImageName, LayerCompression, Platforms, Written,
};
use oci_layout::Layout;

use crate::support::*;

fn hello() -> ImageName {
    name(format!(
        "oci:{}:hello",
        fixtures().join("oci-layout").display()
    ))
}

/// A layout at `dir` whose ref `multi` is an index of three platforms (linux/amd64,
/// linux/arm64/v8, linux/arm/v7).
fn multi(dir: &Path) -> ImageName {
    let index = oci_partial::random::index(7, 3, 1, 2048);
    let layout = Layout::create(dir).unwrap();
    layout.write_index(index.as_ref(), Some("multi")).unwrap();
    name(format!("oci:{}:multi", dir.display()))
}

#[test]
fn oci_to_docker_archive_and_back_keeps_the_image() {
    let t = tempfile::tempdir().unwrap();
    let archive = name(format!(
        "docker-archive:{}:example.com/hello:1",
        t.path().join("a.tar").display()
    ));
    let report = copy(&hello(), &archive, &CopyOptions::default()).unwrap();
    let src = validate(&hello());
    let out = validate(&archive);
    assert_eq!(out[0].tags, vec!["example.com/hello:1".to_owned()]);
    assert!(matches!(report.written, Written::ImageId(_)));
    assert_eq!(
        report.written.digest(),
        &src[0].image.config_name().unwrap()
    );
    // gzip layers stored as tars in a docker archive: decompressed on the way.
    assert!(
        report
            .blobs
            .iter()
            .filter(|b| b.outcome == BlobOutcome::Recompressed)
            .count()
            >= 2
    );
    let back = name(format!("oci:{}:v1", t.path().join("lay").display()));
    let report = copy(&archive, &back, &CopyOptions::default()).unwrap();
    let again = validate(&back);
    assert_eq!(
        diff_ids(again[0].image.as_ref()),
        diff_ids(src[0].image.as_ref())
    );
    assert_eq!(report.written.digest(), &again[0].image.digest().unwrap());
    // Nothing is left beside the destinations.
    assert_eq!(listing(t.path()), vec!["a.tar", "lay"]);
}

#[test]
fn an_existing_layout_reuses_its_blobs() {
    let t = tempfile::tempdir().unwrap();
    let dst = name(format!("oci:{}:a", t.path().join("lay").display()));
    let first = copy(&hello(), &dst, &CopyOptions::default()).unwrap();
    assert!(first.blobs.iter().all(|b| b.outcome == BlobOutcome::Copied));
    let dst2 = name(format!("oci:{}:b", t.path().join("lay").display()));
    let second = copy(&hello(), &dst2, &CopyOptions::default()).unwrap();
    assert_eq!(second.written, first.written);
    assert!(second
        .blobs
        .iter()
        .all(|b| b.outcome == BlobOutcome::Reused));
    assert_eq!(second.blobs.len(), 3, "two layers and the config");
}

#[test]
fn platforms_are_chosen_or_refused_never_guessed() {
    let t = tempfile::tempdir().unwrap();
    let src = multi(&t.path().join("multi"));
    let archive = |n: &str| name(format!("docker-archive:{}", t.path().join(n).display()));
    // Into a docker archive: linux/amd64 by default, one platform when asked.
    copy(&src, &archive("auto.tar"), &CopyOptions::default()).unwrap();
    let mut options = CopyOptions::default();
    options.platforms = Platforms::One("linux/arm/v7".parse().unwrap());
    copy(&src, &archive("arm.tar"), &options).unwrap();
    let arm = validate(&archive("arm.tar"));
    assert_eq!(arm[0].image.config_file().unwrap().architecture, "arm");
    // --all into a docker archive is a clear error, and so is a missing platform.
    options.platforms = Platforms::All;
    let e = copy(&src, &archive("all.tar"), &options).unwrap_err();
    assert!(matches!(e, Error::IndexIntoSingleImage { .. }), "{e}");
    options.platforms = Platforms::One("linux/s390x".parse().unwrap());
    let e = copy(&src, &archive("s390x.tar"), &options).unwrap_err();
    match e {
        Error::PlatformNotFound { available, .. } => assert_eq!(available.len(), 3),
        e => panic!("{e}"),
    }
    // A list: a new index of those platforms only.
    options.platforms = Platforms::List(vec![
        "linux/amd64".parse().unwrap(),
        "linux/arm/v7".parse().unwrap(),
    ]);
    let two = name(format!("oci:{}:two", t.path().join("two").display()));
    let report = copy(&src, &two, &options).unwrap();
    assert!(matches!(report.written, Written::Index(_)));
    let images = validate(&two);
    assert_eq!(images.len(), 2);
    // The whole index by default into a layout, byte for byte.
    let all = name(format!("oci:{}:all", t.path().join("all").display()));
    let report = copy(&src, &all, &CopyOptions::default()).unwrap();
    let src_index = oci_copy::open_source(&src, &CopyOptions::default()).unwrap();
    let oci_copy::Content::Index(index) = src_index.content else {
        panic!("an index")
    };
    assert_eq!(report.written.digest(), &index.digest().unwrap());
    assert_eq!(
        listing(t.path()),
        vec!["all", "arm.tar", "auto.tar", "multi", "two"]
    );
}

#[test]
fn preserve_digests_refuses_any_change_and_writes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let mut options = CopyOptions::default();
    options.preserve_digests = true;
    // OCI to OCI keeps every digest.
    let dst = name(format!("oci:{}:v1", t.path().join("lay").display()));
    let report = copy(&hello(), &dst, &options).unwrap();
    let src = validate(&hello());
    assert_eq!(report.written.digest(), &src[0].image.digest().unwrap());
    // zstd would change every layer.
    options.compression = LayerCompression::Zstd(None);
    let dst = name(format!("oci:{}:v1", t.path().join("zstd").display()));
    let e = copy(&hello(), &dst, &options).unwrap_err();
    assert!(
        matches!(e, Error::DigestWouldChange { what: "layer", .. }),
        "{e}"
    );
    // A docker archive's image into a layout needs an OCI manifest: another digest.
    options.compression = LayerCompression::Auto;
    let archive = name(format!(
        "docker-archive:{}",
        fixtures().join("docker-archive/skopeo-hello.tar").display()
    ));
    let e = copy(&archive, &dst, &options).unwrap_err();
    assert!(matches!(e, Error::DigestWouldChange { .. }), "{e}");
    assert_eq!(listing(t.path()), vec!["lay"]);
}

#[test]
fn recompression_changes_layers_not_content() {
    let t = tempfile::tempdir().unwrap();
    let mut options = CopyOptions::default();
    options.compression = LayerCompression::Zstd(Some(3));
    let dst = name(format!("oci:{}:z", t.path().join("lay").display()));
    let report = copy(&hello(), &dst, &options).unwrap();
    assert_eq!(
        report
            .blobs
            .iter()
            .filter(|b| b.outcome == BlobOutcome::Recompressed)
            .count(),
        2
    );
    let out = validate(&dst);
    let layers = out[0].image.layers().unwrap();
    assert!(layers
        .iter()
        .all(|l| l.media_type().unwrap().to_string().ends_with("+zstd")));
    assert_eq!(
        diff_ids(out[0].image.as_ref()),
        diff_ids(validate(&hello())[0].image.as_ref())
    );
}

#[test]
fn a_failed_copy_leaves_nothing_and_the_destination_as_it_was() {
    let t = tempfile::tempdir().unwrap();
    let lay = t.path().join("bad");
    let ok = std::process::Command::new("cp")
        .arg("-r")
        .arg(fixtures().join("oci-layout"))
        .arg(&lay)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let blob = lay
        .join("blobs/sha256")
        .join("ccea505ee7e7620339c0fd46f060e164734e9b843d0927075ae5a780ec2c8670");
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, &bytes).unwrap();
    let out = t.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("a.tar"), b"before").unwrap();
    let src = name(format!("oci:{}:hello", lay.display()));
    let dsts = [
        format!("docker-archive:{}", out.join("a.tar").display()),
        format!("oci:{}:x", out.join("new-layout").display()),
    ];
    for dst in dsts {
        // The corrupt layer fails the copy (a bad deflate stream or a digest mismatch).
        copy(&src, &name(&dst), &CopyOptions::default()).unwrap_err();
        assert_eq!(listing(&out), vec!["a.tar"], "after {dst}");
        assert_eq!(std::fs::read(out.join("a.tar")).unwrap(), b"before");
    }
}

#[test]
fn a_dir_copy_is_replaced_whole_and_nothing_stays_beside_it() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("copy");
    let dst = name(format!("dir:{}", dir.display()));
    let first = copy(&hello(), &dst, &CopyOptions::default()).unwrap();
    let small = t.path().join("small");
    Layout::create(&small)
        .unwrap()
        .write_image(oci_partial::random::image(3, 1, 512).as_ref(), Some("s"))
        .unwrap();
    let src = name(format!("oci:{}:s", small.display()));
    let second = copy(&src, &dst, &CopyOptions::default()).unwrap();
    assert_ne!(first.written.digest(), second.written.digest());
    let out = validate(&dst);
    assert_eq!(&out[0].image.digest().unwrap(), second.written.digest());
    // Only the new image's files: the old copy went whole, with the temporary directory.
    let blobs = listing(&dir)
        .into_iter()
        .filter(|f| f != "version" && f != "manifest.json")
        .count();
    assert_eq!(blobs, 2, "{:?}", listing(&dir));
    assert_eq!(listing(t.path()), vec!["copy", "small"]);
}

/// An image that counts the calls of `digest()`, forwarding everything else.
struct CountingDigest {
    inner: std::sync::Arc<dyn oci_partial::Image>,
    digests: std::sync::atomic::AtomicUsize,
}

impl oci_partial::Image for CountingDigest {
    fn layers(&self) -> oci_partial::Result<Vec<std::sync::Arc<dyn oci_partial::Layer>>> {
        self.inner.layers()
    }
    fn media_type(&self) -> oci_partial::Result<oci_types::MediaType> {
        self.inner.media_type()
    }
    fn raw_config_file(&self) -> oci_partial::Result<Vec<u8>> {
        self.inner.raw_config_file()
    }
    fn raw_manifest(&self) -> oci_partial::Result<Vec<u8>> {
        self.inner.raw_manifest()
    }
    fn layer_by_digest(
        &self,
        digest: &oci_types::Digest,
    ) -> oci_partial::Result<std::sync::Arc<dyn oci_partial::Layer>> {
        self.inner.layer_by_digest(digest)
    }
    fn layer_by_diff_id(
        &self,
        diff_id: &oci_types::Digest,
    ) -> oci_partial::Result<std::sync::Arc<dyn oci_partial::Layer>> {
        self.inner.layer_by_diff_id(diff_id)
    }
    fn digest(&self) -> oci_partial::Result<oci_types::Digest> {
        self.digests
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.digest()
    }
}

/// A docker archive's manifest is made on the fly and names each uncompressed layer by its
/// digest, which costs a whole read of the layer to find: a plain copy (no
/// `preserve_digests`) must not ask for the source's digest, so that `convert` reads each
/// layer once (it read a 512 MiB layer twice before).
#[test]
fn converting_a_docker_archive_does_not_ask_for_the_source_digest() {
    let t = tempfile::tempdir().unwrap();
    let archive = name(format!(
        "docker-archive:{}",
        fixtures().join("docker-archive/skopeo-hello.tar").display()
    ));
    let options = CopyOptions::default();
    let counting = std::sync::Arc::new(CountingDigest {
        inner: oci_copy::open_image(&archive, &options).unwrap(),
        digests: Default::default(),
    });
    let dst = name(format!("oci:{}:v1", t.path().join("lay").display()));
    oci_copy::write_image(counting.clone(), &dst, None, &options).unwrap();
    assert_eq!(
        counting.digests.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    assert_eq!(validate(&dst).len(), 1);
    // With `preserve_digests` the source's digest is what the copy is checked against.
    let mut preserve = CopyOptions::default();
    preserve.preserve_digests = true;
    let dst = name(format!("oci:{}:v1", t.path().join("lay2").display()));
    let e = oci_copy::write_image(counting.clone(), &dst, None, &preserve).unwrap_err();
    assert!(matches!(e, Error::DigestWouldChange { .. }), "{e}");
    assert!(counting.digests.load(std::sync::atomic::Ordering::SeqCst) > 0);
}
