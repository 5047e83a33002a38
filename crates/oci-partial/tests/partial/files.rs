//! files: layers from directories, tar files, openers and bytes.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use oci_partial::files::{
    layer_from_bytes, layer_from_dir, layer_from_opener, layer_from_tar_file, DirTar,
    DirTarOptions, OpenerCore,
};
use oci_partial::mutate::{append_layers, canonical, empty_image, Addendum, Family};
use oci_partial::{Image, Layer, UncompressedLayer};
use oci_types::{Digest, MediaType};

use crate::support::read_all;

/// A small tree: files, a directory, a hard link, a symlink.
fn tree(root: &Path) {
    fs::create_dir_all(root.join("etc/app")).unwrap();
    fs::write(root.join("etc/app/config.toml"), b"x = 1\n").unwrap();
    fs::write(root.join("hello.txt"), b"hello").unwrap();
    fs::hard_link(root.join("hello.txt"), root.join("hello-again.txt")).unwrap();
    std::os::unix::fs::symlink("hello.txt", root.join("latest")).unwrap();
}

/// Sets every entry's mtime (symlinks excepted) to `secs`.
fn touch_all(root: &Path, secs: u64) {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
    for rel in ["etc/app/config.toml", "hello.txt", "etc/app", "etc", ""] {
        let f = fs::File::open(root.join(rel)).unwrap();
        f.set_modified(t).unwrap();
    }
}

fn image_of(dir: &Path, options: DirTarOptions) -> Arc<dyn Image> {
    let layer: Arc<dyn Layer> = Arc::new(layer_from_dir(dir, options));
    canonical(append_layers(
        empty_image(Family::Oci),
        vec![Addendum::new(layer)],
    ))
    .unwrap()
}

#[test]
fn the_same_tree_with_other_mtimes_gives_the_same_image() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    tree(a.path());
    tree(b.path());
    touch_all(a.path(), 1_000_000);
    touch_all(b.path(), 2_000_000);
    // Zeroed times (the default), and SOURCE_DATE_EPOCH given as the options carry it.
    for options in [
        DirTarOptions::default(),
        DirTarOptions::default().epoch(Some(1_700_000_000)),
        DirTarOptions::default()
            .keep_mtime(true)
            .epoch(Some(500_000)),
    ] {
        let (ia, ib) = (image_of(a.path(), options), image_of(b.path(), options));
        assert_eq!(ia.digest().unwrap(), ib.digest().unwrap(), "{options:?}");
    }
    // Keeping the times on disk tells the trees apart.
    let keep = DirTarOptions::default().keep_mtime(true);
    assert_ne!(
        image_of(a.path(), keep).digest().unwrap(),
        image_of(b.path(), keep).digest().unwrap()
    );
}

#[test]
fn epoch_sets_and_clamps_mtimes() {
    let d = tempfile::tempdir().unwrap();
    tree(d.path());
    touch_all(d.path(), 2_000_000);
    let mtimes = |options| {
        let tar = read_all(DirTar::new(d.path(), options).unwrap());
        let mut ar = tar::Archive::new(&tar[..]);
        ar.entries()
            .unwrap()
            .map(|e| e.unwrap().header().mtime().unwrap())
            .collect::<Vec<_>>()
    };
    assert!(mtimes(DirTarOptions::default()).iter().all(|m| *m == 0));
    let set = DirTarOptions::default().epoch(Some(1234));
    assert!(mtimes(set).iter().all(|m| *m == 1234));
    let clamp = DirTarOptions::default()
        .keep_mtime(true)
        .epoch(Some(3_000_000));
    assert!(mtimes(clamp).contains(&2_000_000));
    assert!(mtimes(clamp).iter().all(|m| *m <= 3_000_000));
}

#[test]
fn an_opener_is_called_per_pass_and_its_diff_id_kept() {
    let tar = read_all(
        DirTar::new(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("src").as_path(),
            DirTarOptions::default(),
        )
        .unwrap(),
    );
    let calls = Arc::new(AtomicUsize::new(0));
    let (c, t) = (Arc::clone(&calls), tar.clone());
    let layer = layer_from_opener("src", move || {
        c.fetch_add(1, Ordering::SeqCst);
        Ok(std::io::Cursor::new(t.clone()))
    });
    // Reading the blob out fills the digest; reading the tar out fills the diff_id.
    let blob = read_all(layer.compressed().unwrap());
    assert_eq!(layer.digest().unwrap(), Digest::sha256(&blob));
    assert_eq!(read_all(layer.uncompressed().unwrap()), tar);
    let before = calls.load(Ordering::SeqCst);
    assert_eq!(layer.diff_id().unwrap(), Digest::sha256(&tar));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        before,
        "diff_id kept from the full read"
    );
    assert_eq!(layer.media_type().unwrap(), MediaType::OciLayerGzip);
    // The same bytes from memory and from a (compressed) tar file make the same layer.
    let from_bytes = layer_from_bytes(tar.clone());
    assert_eq!(from_bytes.digest().unwrap(), layer.digest().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("layer.tar.gz");
    fs::write(&gz, &blob).unwrap();
    let from_file = layer_from_tar_file(&gz);
    assert_eq!(from_file.diff_id().unwrap(), Digest::sha256(&tar));
    let mut back = Vec::new();
    from_file
        .uncompressed()
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, tar);
}

#[test]
fn a_foreign_layer_keeps_its_urls_and_annotations() {
    let tar = vec![0u8; 2048];
    let t: Arc<[u8]> = tar.into();
    let core = OpenerCore::new(
        "foreign",
        Arc::new(move || Ok(Box::new(std::io::Cursor::new(Arc::clone(&t))) as _)),
    )
    .with_media_type(MediaType::DockerForeignLayerGzip)
    .with_urls(vec!["https://example.com/layer".into()])
    .with_annotation("org.example.k", "v");
    let layer = UncompressedLayer::new(core);
    let desc = layer.descriptor().unwrap();
    assert_eq!(desc.media_type, MediaType::DockerForeignLayerGzip);
    assert_eq!(desc.urls, vec!["https://example.com/layer".to_string()]);
    assert_eq!(desc.annotations["org.example.k"], "v");
    assert_eq!(desc.digest, layer.digest().unwrap());
    // And through an image's manifest.
    let img = append_layers(
        empty_image(Family::Docker),
        vec![Addendum::new(Arc::new(layer))],
    );
    assert_eq!(img.manifest().unwrap().layers[0], desc);
}

#[test]
fn a_missing_directory_is_an_error_when_read() {
    let layer = layer_from_dir("/nonexistent-ocikit", DirTarOptions::default());
    assert!(layer.diff_id().is_err());
}

#[test]
fn files_gone_from_the_base_get_whiteouts() {
    let t = tempfile::tempdir().unwrap();
    let (base, upper) = (t.path().join("base"), t.path().join("upper"));
    tree(&base);
    fs::create_dir_all(base.join("var/cache/deep")).unwrap();
    fs::write(base.join("var/cache/deep/x"), b"x").unwrap();
    fs::write(base.join("gone.txt"), b"bye").unwrap();
    tree(&upper);
    fs::create_dir_all(upper.join("var")).unwrap();
    fs::remove_file(upper.join("etc/app/config.toml")).unwrap();
    let tar = read_all(DirTar::over(&upper, &base, DirTarOptions::default()).unwrap());
    let mut ar = tar::Archive::new(&tar[..]);
    let names: Vec<String> = ar
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            ".wh.gone.txt",
            "etc/",
            "etc/app/",
            "etc/app/.wh.config.toml",
            "hello-again.txt",
            "hello.txt",
            "latest",
            "var/",
            "var/.wh.cache",
        ]
    );
    // The same tree over itself has no whiteouts, and is the plain tar.
    let same = read_all(DirTar::over(&base, &base, DirTarOptions::default()).unwrap());
    assert_eq!(
        same,
        read_all(DirTar::new(&base, DirTarOptions::default()).unwrap())
    );
    let layer = oci_partial::files::layer_from_dir_over(&upper, &base, DirTarOptions::default());
    assert_eq!(layer.diff_id().unwrap(), Digest::sha256(&tar));
}
