//! What a mistyped or missing image name gets: one line that says what is wrong and, for a
//! word that reads as an image reference, what to type.

use crate::support::*;

#[test]
fn missing_files_and_bare_words_say_what_to_type() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // A missing file is exit 1 and one line, with or without its transport; no doubled
    // prefix, no OS error text.
    for (name, line) in [
        (
            "missing.tar",
            "ocikit: missing.tar: no such file or directory",
        ),
        (
            "docker-archive:missing.tar",
            "ocikit: missing.tar: no such file\n",
        ),
        (
            "docker-archive:missing.tar:app:v1",
            "ocikit: missing.tar: no such file\n",
        ),
        (
            "oci-archive:missing.tar",
            "ocikit: missing.tar: no such file\n",
        ),
        ("oci:missing", "ocikit: missing: no such directory\n"),
        ("oci:missing:v1", "ocikit: missing: no such directory\n"),
        ("dir:missing", "ocikit: missing: no such directory\n"),
    ] {
        for cmd in ["inspect", "verify"] {
            let r = ocikit(d, &[cmd, name]).fails(1);
            assert!(r.stderr.starts_with(line), "{cmd} {name}: {}", r.stderr);
            assert!(!r.stderr.contains("os error"), "{}", r.stderr);
        }
        for args in [
            vec!["copy", name, "oci:out"],
            vec!["unpack", name, "out"],
            vec!["export", name, "-o", "out"],
        ] {
            let r = ocikit(d, &args).fails(1);
            assert!(r.stderr.starts_with(line), "{args:?}: {}", r.stderr);
        }
    }
    assert!(!d.join("out").exists());
    // A bare word that reads as an image reference: the docker:// name to type.
    for word in [
        "busybox",
        "ghcr.io/o/app:v1",
        "library/alpine@sha256:8056f20c74ed337af335d562694f59ec3e55d618139a120000f528f8139db34b",
    ] {
        let r = ocikit(d, &["inspect", word]).fails(1);
        assert_eq!(
            r.stderr,
            format!("ocikit: {word}: no such file or directory; for the registry image, type docker://{word}\n")
        );
    }
    // A word with a colon: no such transport (usage, exit 2), and the docker:// name.
    for word in ["ubuntu:22.04", "localhost:5000/app"] {
        let r = ocikit(d, &["inspect", word]).fails(2);
        assert!(r.stderr.contains("unknown transport"), "{}", r.stderr);
        assert!(
            r.stderr.ends_with(&format!("type docker://{word}\n")),
            "{}",
            r.stderr
        );
    }
    // docker: with one slash or none: the name it was meant to be.
    for word in ["docker:/localhost:5000/app", "docker:localhost:5000/app"] {
        let r = ocikit(d, &["inspect", word]).fails(2);
        assert!(
            r.stderr
                .ends_with("did you mean docker://localhost:5000/app?\n"),
            "{}",
            r.stderr
        );
    }
    // A transport one letter off: that transport.
    let r = ocikit(d, &["inspect", "ocl:lay"]).fails(2);
    assert!(r.stderr.contains("did you mean oci:?"), "{}", r.stderr);
    // A file name is not taken for a reference.
    let r = ocikit(d, &["inspect", "./image.tar"]).fails(1);
    assert!(!r.stderr.contains("docker://./"), "{}", r.stderr);
}
