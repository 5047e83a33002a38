//! Interoperability with the real tools: archives skopeo writes are read right, and archives
//! we write pass `skopeo inspect`, `skopeo copy ... oci:` and `umoci unpack`, giving the tree
//! of the original image. Locally a missing tool skips (with a message); in CI it fails.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use oci_partial::Image;
use oci_tarfile::{LayerStorage, Reader, Source, Writer, WriterOptions};
use oci_types::{Digest, Manifest, MediaType, Reference};

use crate::common::*;

fn r(s: &str) -> Reference {
    s.parse().unwrap()
}

#[test]
fn reads_new_skopeo_archives_with_several_tags() {
    let Some(skopeo) = tool("skopeo") else { return };
    let dir = tempfile::tempdir().unwrap();
    for (image, want_config) in [("hello", HELLO_CONFIG), ("hello-extra", EXTRA_CONFIG)] {
        let path = dir.path().join(format!("{image}.tar"));
        run(Command::new(&skopeo).args([
            "copy",
            "-q",
            "--additional-tag",
            "example.com/b:2",
            "--additional-tag",
            "docker.io/library/short:latest",
            &format!("oci:{}:{image}", fixture("oci-layout").display()),
            &format!("docker-archive:{}:example.com/a:1", path.display()),
        ]));
        let reader = Arc::new(Reader::from_file(&path).unwrap());
        assert_eq!(reader.manifest()[0].repo_tags.len(), 3);
        for tag in [
            "example.com/a:1",
            "example.com/b:2",
            "short",
            "docker.io/library/short:latest",
        ] {
            let s = Source::new(Arc::clone(&reader), Some(&r(tag)), None).unwrap();
            assert_eq!(s.config_name().unwrap(), d(want_config), "{tag}");
        }
        let s = Source::new(reader, None, None).unwrap();
        let raw = run(Command::new(&skopeo).args([
            "inspect",
            "--raw",
            &format!("docker-archive:{}", path.display()),
        ]));
        let theirs: Manifest = serde_json::from_slice(&raw).unwrap();
        let ours = s.manifest().unwrap();
        assert_eq!(theirs.config.digest, ours.config.digest);
        let pairs: Vec<_> = theirs
            .layers
            .iter()
            .map(|l| (l.digest.clone(), l.size))
            .collect();
        let ours_pairs: Vec<_> = ours
            .layers
            .iter()
            .map(|l| (l.digest.clone(), l.size))
            .collect();
        assert_eq!(pairs, ours_pairs);
        assert_eq!(
            s.config_file().unwrap().rootfs.diff_ids,
            theirs
                .layers
                .iter()
                .map(|l| l.digest.clone())
                .collect::<Vec<_>>()
        );
    }
}

/// One file of an unpacked tree: kind, mode, mtime, link count, and content or target.
type Tree = BTreeMap<PathBuf, (char, u32, i64, u64, Vec<u8>)>;

fn tree(root: &Path) -> Tree {
    fn walk(root: &Path, dir: &Path, out: &mut Tree) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            let (kind, content, mtime) = if m.file_type().is_symlink() {
                (
                    'l',
                    std::fs::read_link(&p)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                    m.mtime(),
                )
            } else if m.is_dir() {
                ('d', Vec::new(), 0)
            } else {
                ('f', std::fs::read(&p).unwrap(), m.mtime())
            };
            let nlink = if m.is_dir() { 0 } else { m.nlink() };
            out.insert(rel, (kind, m.mode() & 0o7777, mtime, nlink, content));
            if m.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Tree::new();
    walk(root, root, &mut out);
    out
}

/// `umoci unpack` of `layout:tag` into `dir/name`; returns the rootfs tree.
fn unpack(umoci: &Path, layout: &Path, tag: &str, bundle: &Path) -> Tree {
    run(Command::new(umoci)
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:{tag}", layout.display()))
        .arg(bundle));
    tree(&bundle.join("rootfs"))
}

#[test]
fn archives_we_write_pass_skopeo_and_umoci() {
    let Some(skopeo) = tool("skopeo") else { return };
    let umoci = tool("umoci");
    let dir = tempfile::tempdir().unwrap();
    // The expected trees: umoci's unpack of the original OCI images.
    let layout = dir.path().join("orig");
    run(Command::new("cp")
        .arg("-r")
        .arg(fixture("oci-layout"))
        .arg(&layout));
    run(Command::new("chmod").arg("-R").arg("u+w").arg(&layout));
    let expected: Option<Vec<Tree>> = umoci.as_ref().map(|u| {
        ["hello", "hello-extra"]
            .iter()
            .map(|t| unpack(u, &layout, t, &dir.path().join(format!("want-{t}"))))
            .collect()
    });
    if let Some(trees) = &expected {
        assert!(
            trees.iter().all(|t| t.len() >= 5),
            "umoci unpacked the fixture: {trees:#?}"
        );
    }

    let podman =
        Arc::new(Reader::from_file(fixture("docker-archive/podman-save-two.tar")).unwrap());
    let sources: Vec<Source> = (0..2)
        .map(|i| Source::new(Arc::clone(&podman), None, Some(i)).unwrap())
        .collect();
    for (name, storage) in [
        ("plain", LayerStorage::Uncompressed),
        ("asis", LayerStorage::AsIs),
    ] {
        // Two images in one archive, from the OCI image (gzip layers) and the podman archive.
        let path = dir.path().join(format!("{name}.tar"));
        let mut w = Writer::with_options(&path, WriterOptions::new().layers(storage)).unwrap();
        let images: [(&dyn Image, &str); 2] =
            [(&hello_image(), HELLO_TAG), (&sources[1], EXTRA_TAG)];
        for (img, tag) in images {
            w.add_image(img, &[r(tag)]).unwrap();
        }
        w.commit().unwrap();

        for (i, (tag, config)) in [(HELLO_TAG, HELLO_CONFIG), (EXTRA_TAG, EXTRA_CONFIG)]
            .into_iter()
            .enumerate()
        {
            let transport = format!("docker-archive:{}:{tag}", path.display());
            let raw = run(Command::new(&skopeo).args(["inspect", "--raw", &transport]));
            let m: Manifest = serde_json::from_slice(&raw).unwrap();
            assert_eq!(m.config.digest, d(config), "{name} {tag}");
            let cfg = run(Command::new(&skopeo).args(["inspect", "--config", "--raw", &transport]));
            assert_eq!(Digest::sha256(&cfg), d(config));
            run(Command::new(&skopeo).args(["inspect", &transport]));
            let oci = dir.path().join(format!("oci-{name}"));
            run(Command::new(&skopeo).args([
                "copy",
                "-q",
                &transport,
                &format!("oci:{}:t{i}", oci.display()),
            ]));
            if let (Some(u), Some(want)) = (&umoci, &expected) {
                let got = unpack(
                    u,
                    &oci,
                    &format!("t{i}"),
                    &dir.path().join(format!("got-{name}-{i}")),
                );
                assert!(
                    got == want[i],
                    "{name} {tag}: unpacked tree differs:\n{got:#?}\nvs\n{want:#?}",
                    want = want[i]
                );
            }
        }
        // And our own reader agrees with what we wrote.
        let back = Source::open(&path, Some(&r(HELLO_TAG)), None).unwrap();
        let layers = back.manifest().unwrap().layers;
        let want_type = if storage == LayerStorage::AsIs {
            MediaType::DockerLayerGzip
        } else {
            MediaType::DockerLayer
        };
        assert!(layers.iter().all(|l| l.media_type == want_type));
    }
}
