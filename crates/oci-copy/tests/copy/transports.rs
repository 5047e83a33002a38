//! Every local transport to every other, and oci-archive: and dir: against skopeo both ways.

use std::path::Path;

use oci_copy::{copy, CopyOptions, Platforms, Written};
use oci_layout::Layout;

use crate::support::*;

fn hello() -> String {
    format!("oci:{}:hello", fixtures().join("oci-layout").display())
}

/// `hello` written to each local transport under `dir`.
fn destinations(dir: &Path, tag: &str) -> Vec<String> {
    vec![
        format!(
            "docker-archive:{}:example.com/hello:{tag}",
            dir.join(format!("{tag}.tar")).display()
        ),
        format!("oci:{}:{tag}", dir.join(format!("lay-{tag}")).display()),
        format!(
            "oci-archive:{}:{tag}",
            dir.join(format!("{tag}.oci.tar")).display()
        ),
        format!("dir:{}", dir.join(format!("dir-{tag}")).display()),
    ]
}

#[test]
fn every_local_transport_to_every_other() {
    let t = tempfile::tempdir().unwrap();
    let want = diff_ids(validate(&name(hello()))[0].image.as_ref());
    for (i, first) in destinations(t.path(), "a").into_iter().enumerate() {
        copy(&name(hello()), &name(&first), &CopyOptions::default())
            .unwrap_or_else(|e| panic!("hello -> {first}: {e}"));
        assert_eq!(
            diff_ids(validate(&name(&first))[0].image.as_ref()),
            want,
            "{first}"
        );
        for second in destinations(t.path(), &format!("b{i}")) {
            let report = copy(&name(&first), &name(&second), &CopyOptions::default())
                .unwrap_or_else(|e| panic!("{first} -> {second}: {e}"));
            let out = validate(&name(&second));
            assert_eq!(diff_ids(out[0].image.as_ref()), want, "{first} -> {second}");
            if !matches!(report.written, Written::ImageId(_)) {
                assert_eq!(report.written.digest(), &out[0].image.digest().unwrap());
            }
        }
    }
    // Only the destinations are there: no temporary file or directory.
    assert!(
        listing(t.path()).iter().all(|n| !n.starts_with('.')),
        "{:?}",
        listing(t.path())
    );
}

#[test]
fn dir_is_byte_identical_to_skopeos() {
    let t = tempfile::tempdir().unwrap();
    let ours = t.path().join("ours");
    let theirs = t.path().join("theirs");
    copy(
        &name(hello()),
        &name(format!("dir:{}", ours.display())),
        &CopyOptions::default(),
    )
    .unwrap();
    skopeo(&["copy", "-q", &hello(), &format!("dir:{}", theirs.display())]);
    assert_eq!(listing(&ours), listing(&theirs));
    for f in listing(&ours) {
        assert_eq!(
            std::fs::read(ours.join(&f)).unwrap(),
            std::fs::read(theirs.join(&f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn skopeo_reads_what_we_write_and_we_read_what_skopeo_writes() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let want = diff_ids(validate(&name(hello()))[0].image.as_ref());
    let ours = [
        format!("oci-archive:{}:v1", d.join("ours.tar").display()),
        format!("dir:{}", d.join("ours-dir").display()),
    ];
    for (i, n) in ours.iter().enumerate() {
        copy(&name(hello()), &name(n), &CopyOptions::default()).unwrap();
        let back = format!("oci:{}:v1", d.join(format!("skopeo-back-{i}")).display());
        skopeo(&["copy", "-q", n, &back]);
        assert_eq!(
            diff_ids(validate(&name(&back))[0].image.as_ref()),
            want,
            "{n}"
        );
    }
    let theirs = [
        format!("oci-archive:{}:v1", d.join("theirs.tar").display()),
        format!("dir:{}", d.join("theirs-dir").display()),
    ];
    for (i, n) in theirs.iter().enumerate() {
        skopeo(&["copy", "-q", &hello(), n]);
        let out = format!("oci:{}:v1", d.join(format!("ours-back-{i}")).display());
        copy(&name(n), &name(&out), &CopyOptions::default()).unwrap();
        assert_eq!(
            diff_ids(validate(&name(&out))[0].image.as_ref()),
            want,
            "{n}"
        );
    }
    // skopeo's and podman's OCI archive fixture.
    let fixture = format!(
        "oci-archive:{}",
        fixtures().join("oci-archive/skopeo-hello.tar").display()
    );
    assert_eq!(diff_ids(validate(&name(fixture))[0].image.as_ref()), want);
}

#[test]
fn indexes_go_whole_through_oci_archive_and_dir() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let index = oci_partial::random::index(11, 2, 1, 4096);
    let digest = index.digest().unwrap();
    Layout::create(d.join("src"))
        .unwrap()
        .write_index(index.as_ref(), Some("multi"))
        .unwrap();
    let src = format!("oci:{}:multi", d.join("src").display());
    let mut all = CopyOptions::default();
    all.platforms = Platforms::All;
    for n in [
        format!("oci-archive:{}:multi", d.join("m.tar").display()),
        format!("dir:{}", d.join("m-dir").display()),
    ] {
        let report = copy(&name(&src), &name(&n), &all).unwrap();
        assert_eq!(report.written, Written::Index(digest.clone()), "{n}");
        assert_eq!(validate(&name(&n)).len(), 2, "{n}");
        let back = format!(
            "oci:{}:multi",
            d.join(format!("back-{}", n.len())).display()
        );
        let report = copy(&name(&n), &name(&back), &all).unwrap();
        assert_eq!(report.written, Written::Index(digest.clone()), "{n}");
        // skopeo takes the index whole from what we wrote.
        let sk = format!("oci:{}:multi", d.join(format!("sk-{}", n.len())).display());
        skopeo(&["copy", "-q", "--all", &n, &sk]);
        assert_eq!(validate(&name(&sk)).len(), 2);
    }
}

#[test]
fn pre_1_10_docker_archives_are_read() {
    let t = tempfile::tempdir().unwrap();
    // `docker save` of Docker 20 without its manifest.json: what Docker before 1.10 wrote.
    let fixture =
        std::fs::File::open(fixtures().join("docker-archive/docker-save-hello.tar")).unwrap();
    let legacy = t.path().join("legacy.tar");
    let mut out = tar::Builder::new(std::fs::File::create(&legacy).unwrap());
    let mut archive = tar::Archive::new(fixture);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().into_owned();
        if path.to_str() == Some("manifest.json")
            || path.extension().is_some_and(|e| e == "json") && path.parent() == Some(Path::new(""))
        {
            continue;
        }
        let mut header = entry.header().clone();
        out.append_data(&mut header, &path, &mut entry).unwrap();
    }
    out.into_inner().unwrap();
    let src = name(format!("docker-archive:{}", legacy.display()));
    let images = validate(&src);
    assert_eq!(
        images[0].tags,
        vec!["example.com/fixtures/hello:1.0".to_owned()]
    );
    let want = diff_ids(validate(&name(hello()))[0].image.as_ref());
    assert_eq!(diff_ids(images[0].image.as_ref()), want);
    let config = images[0].image.config_file().unwrap();
    assert_eq!(config.architecture, "amd64");
    // Copied on, by tag, with the layers intact.
    let tagged = name(format!(
        "docker-archive:{}:example.com/fixtures/hello:1.0",
        legacy.display()
    ));
    let dst = name(format!("oci:{}:v1", t.path().join("lay").display()));
    copy(&tagged, &dst, &CopyOptions::default()).unwrap();
    assert_eq!(diff_ids(validate(&dst)[0].image.as_ref()), want);
}
