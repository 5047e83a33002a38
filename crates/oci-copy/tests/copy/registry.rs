//! docker:// on a loopback registry: every local transport to it and back, blob reuse, and a
//! cross-repository mount; skopeo reads what we push.

use oci_copy::{copy, BlobOutcome, CopyOptions, Platforms, Written};
use oci_layout::Layout;
use oci_remote::testing::Registry;

use crate::support::*;

fn hello() -> String {
    format!("oci:{}:hello", fixtures().join("oci-layout").display())
}

#[test]
fn every_local_transport_to_a_registry_and_back_with_reuse_and_mounts() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let host = registry.host();
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let want = diff_ids(validate(&name(hello()))[0].image.as_ref());
    let options = CopyOptions::default();
    // The fixture into every local transport, each pushed and pulled back into each.
    let locals = |tag: &str| {
        vec![
            format!(
                "docker-archive:{}:example.com/hello:{tag}",
                d.join(format!("{tag}.tar")).display()
            ),
            format!("oci:{}:{tag}", d.join(format!("lay-{tag}")).display()),
            format!(
                "oci-archive:{}:{tag}",
                d.join(format!("{tag}.oci.tar")).display()
            ),
            format!("dir:{}", d.join(format!("dir-{tag}")).display()),
        ]
    };
    for (i, local) in locals("src").into_iter().enumerate() {
        copy(&name(hello()), &name(&local), &options).unwrap();
        let remote = format!("docker://{host}/from{i}/hello:v1");
        let pushed = copy(&name(&local), &name(&remote), &options)
            .unwrap_or_else(|e| panic!("{local} -> {remote}: {e}"));
        assert_eq!(
            diff_ids(validate(&name(&remote))[0].image.as_ref()),
            want,
            "{remote}"
        );
        // skopeo reads what we pushed.
        let sk = format!("oci:{}:v1", d.join(format!("sk{i}")).display());
        skopeo(&["copy", "-q", "--src-tls-verify=false", &remote, &sk]);
        assert_eq!(diff_ids(validate(&name(&sk))[0].image.as_ref()), want);
        // The same image again: every blob is already there (those compressed on the way are
        // made again, identically, and not sent).
        let again = copy(&name(&local), &name(&remote), &options).unwrap();
        assert_eq!(again.written, pushed.written);
        assert!(
            again
                .blobs
                .iter()
                .all(|b| matches!(b.outcome, BlobOutcome::Reused | BlobOutcome::Recompressed)),
            "{local}: {:?}",
            again.blobs
        );
        for back in locals(&format!("back{i}")) {
            copy(&name(&remote), &name(&back), &options)
                .unwrap_or_else(|e| panic!("{remote} -> {back}: {e}"));
            assert_eq!(
                diff_ids(validate(&name(&back))[0].image.as_ref()),
                want,
                "{back}"
            );
            crate::support::remove(&back);
        }
    }
    // Registry to registry, another repository: blobs are mounted, not sent.
    let src = format!("docker://{host}/from1/hello:v1");
    let dst = format!("docker://{host}/other/hello:v1");
    let report = copy(&name(&src), &name(&dst), &options).unwrap();
    // Both layers mounted (the small config is put again).
    let mounted = report
        .blobs
        .iter()
        .filter(|b| b.outcome == BlobOutcome::Mounted)
        .count();
    assert!(mounted >= 2, "{:?}", report.blobs);
    // skopeo pushes; we read it.
    let theirs = format!("docker://{host}/theirs/hello:v1");
    skopeo(&["copy", "-q", "--dest-tls-verify=false", &hello(), &theirs]);
    assert_eq!(diff_ids(validate(&name(&theirs))[0].image.as_ref()), want);
}

#[test]
fn indexes_go_whole_into_a_registry() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let host = registry.host();
    let t = tempfile::tempdir().unwrap();
    let index = oci_partial::random::index(5, 2, 1, 4096);
    Layout::create(t.path().join("src"))
        .unwrap()
        .write_index(index.as_ref(), Some("multi"))
        .unwrap();
    let src = name(format!("oci:{}:multi", t.path().join("src").display()));
    let mut all = CopyOptions::default();
    all.platforms = Platforms::All;
    let remote = name(format!("docker://{host}/multi/app:v1"));
    let report = copy(&src, &remote, &all).unwrap();
    assert_eq!(report.written, Written::Index(index.digest().unwrap()));
    assert_eq!(validate(&remote).len(), 2);
    let back = name(format!("dir:{}", t.path().join("back").display()));
    let report = copy(&remote, &back, &all).unwrap();
    assert_eq!(report.written, Written::Index(index.digest().unwrap()));
}

/// A two-platform index built in memory around one-shot streaming layers (new each call:
/// a stream is read once).
fn streaming_index() -> std::sync::Arc<dyn oci_partial::ImageIndex> {
    use std::sync::Arc;

    use oci_partial::mutate::{
        append_layers, append_manifests, empty_image, empty_index, with_platform, Addendum, Family,
        IndexAddendum,
    };
    use oci_partial::Layer;
    let mut adds = Vec::new();
    for (seed, platform) in [(1u8, "linux/amd64"), (2, "linux/arm64")] {
        let tar: Vec<u8> = (0..100_000u32)
            .map(|i| (i as u8).wrapping_mul(seed))
            .collect();
        let layer: Arc<dyn Layer> =
            Arc::new(oci_stream::StreamLayer::new(std::io::Cursor::new(tar)));
        let image = append_layers(empty_image(Family::Oci), vec![Addendum::new(layer)]);
        adds.push(IndexAddendum::image(with_platform(
            image,
            platform.parse().unwrap(),
        )));
    }
    append_manifests(empty_index(Family::Oci), adds)
}

#[test]
fn an_index_built_in_memory_is_written_to_every_transport() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let registry = Registry::start();
    let mut dsts = vec![
        format!("oci:{}:multi", d.join("lay").display()),
        format!("oci-archive:{}:multi", d.join("multi.oci.tar").display()),
        format!("dir:{}", d.join("dir").display()),
    ];
    if let Some(r) = &registry {
        dsts.push(format!("docker://{}/built/multi:v1", r.host()));
    }
    let options = CopyOptions::default();
    for dst in dsts {
        let index = streaming_index();
        let dst = name(&dst);
        let reference = dst.registry_reference().cloned();
        let report = oci_copy::write_index(
            std::sync::Arc::clone(&index),
            &dst,
            reference.as_ref(),
            &options,
        )
        .unwrap_or_else(|e| panic!("{dst}: {e}"));
        let digest = index.digest().unwrap();
        assert_eq!(report.written, Written::Index(digest.clone()), "{dst}");
        let images = validate(&dst);
        assert_eq!(images.len(), 2, "{dst}");
        let source = oci_copy::open_source(&dst, &options).unwrap();
        let oci_copy::Content::Index(back) = source.content else {
            panic!("{dst}: not an index");
        };
        assert_eq!(
            back.raw_manifest().unwrap(),
            index.raw_manifest().unwrap(),
            "{dst}"
        );
    }
}
