//! Image names: every transport parsed and printed, typed errors with suggestions.

use oci_copy::{ArchiveSelector, DaemonImage, Error, ImageName, NameProblem};
use proptest::prelude::*;

fn parse(s: &str) -> ImageName {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn every_transport_parses_and_prints() {
    let check = |s: &str, printed: &str| {
        let n = parse(s);
        assert_eq!(n.to_string(), printed, "{s}");
        assert_eq!(parse(printed), n, "{printed}");
    };
    check(
        "docker-archive:/tmp/x.tar:example.com/a:1",
        "docker-archive:/tmp/x.tar:example.com/a:1",
    );
    check(
        "docker-archive:/tmp/x.tar:busybox",
        "docker-archive:/tmp/x.tar:busybox:latest",
    );
    check("docker-archive:x.tar:@1", "docker-archive:x.tar:@1");
    check("docker-archive:-", "docker-archive:-");
    check("oci:/tmp/lay:v1.0", "oci:/tmp/lay:v1.0");
    check("oci:lay", "oci:lay");
    check("oci-archive:a.tar:v1", "oci-archive:a.tar:v1");
    check("dir:/tmp/d", "dir:/tmp/d");
    check(
        "docker://127.0.0.1:5000/team/app",
        "docker://127.0.0.1:5000/team/app:latest",
    );
    check(
        "docker://busybox",
        "docker://docker.io/library/busybox:latest",
    );
    check("docker-daemon:busybox", "docker-daemon:busybox:latest");
    let id = format!("sha256:{}", "a".repeat(64));
    check(
        &format!("docker-daemon:{id}"),
        &format!("docker-daemon:{id}"),
    );
    assert!(matches!(
        parse(&format!("docker-daemon:{id}")),
        ImageName::DockerDaemon {
            image: DaemonImage::Id(_)
        }
    ));
    assert!(matches!(
        parse("docker-archive:x.tar:@1"),
        ImageName::DockerArchive {
            selector: Some(ArchiveSelector::Index(1)),
            ..
        }
    ));
    let g = parse(&format!("docker://localhost:5000/a@{id}"));
    let r = g.registry_reference().unwrap();
    assert_eq!(r.digest().map(|d| d.to_string()), Some(id.clone()));
}

#[test]
fn bad_names_are_typed_errors() {
    let problem = |s: &str| match s.parse::<ImageName>() {
        Err(Error::InvalidName { problem, .. }) => problem,
        other => panic!("{s}: {other:?}"),
    };
    assert!(matches!(
        problem("docker-archive:x.tar:Bad/Name"),
        NameProblem::BadReference(_)
    ));
    assert!(matches!(
        problem("docker-archive:x.tar:@x"),
        NameProblem::BadArchiveIndex
    ));
    let id = format!("sha256:{}", "a".repeat(64));
    assert!(matches!(
        problem(&format!("docker://h.io/a:1@{id}")),
        NameProblem::TagAndDigest
    ));
    assert!(matches!(problem("docker://"), NameProblem::EmptyReference));
    assert!(matches!(problem("oci:"), NameProblem::EmptyPath));
    assert!(matches!(problem("dir:"), NameProblem::EmptyPath));
    assert!(matches!(
        problem(&format!("docker-archive:x.tar:a@{id}")),
        NameProblem::DigestNotAllowed
    ));
}

#[test]
fn unknown_transports_suggest_the_closest_and_are_never_paths() {
    let unknown = |s: &str| match ImageName::parse_source(s) {
        Err(Error::UnknownTransport {
            transport,
            suggestion,
        }) => (transport, suggestion),
        other => panic!("{s}: {other:?}"),
    };
    assert_eq!(
        unknown("docker:/x"),
        ("docker".to_owned(), Some("docker://"))
    );
    assert_eq!(
        unknown("oci-achive:x.tar"),
        ("oci-achive".to_owned(), Some("oci-archive:"))
    );
    assert_eq!(unknown("containers-storage:x").1, None);
    let e = ImageName::parse_destination("containers-storage:x").unwrap_err();
    let msg = e.to_string();
    for t in oci_copy::TRANSPORTS {
        assert!(msg.contains(t), "{msg}");
    }
}

#[test]
fn bare_paths_are_recognised_and_missing_ones_say_so() {
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("a.tar");
    std::fs::write(&file, b"").unwrap();
    assert!(matches!(
        ImageName::parse_source(file.to_str().unwrap()).unwrap(),
        ImageName::DockerArchive { .. }
    ));
    assert!(matches!(
        ImageName::parse_source(t.path().to_str().unwrap()).unwrap(),
        ImageName::Oci { .. }
    ));
    let missing = t.path().join("nope");
    let e = ImageName::parse_source(missing.to_str().unwrap()).unwrap_err();
    assert!(matches!(e, Error::NoSuchFile { .. }), "{e:?}");
    assert!(e.to_string().contains("docker://"), "{e}");
    assert!(matches!(
        ImageName::parse_destination(t.path().join("out.tar").to_str().unwrap()).unwrap(),
        ImageName::DockerArchive { .. }
    ));
    assert!(matches!(
        ImageName::parse_destination(missing.to_str().unwrap()).unwrap(),
        ImageName::Oci { .. }
    ));
    // A bare name that looks like a transport is not a path.
    assert!(matches!(
        ImageName::parse_destination("localhost:5000/app"),
        Err(Error::UnknownTransport { .. })
    ));
}

fn path() -> impl Strategy<Value = String> {
    "[a-z0-9_][a-z0-9_./-]{0,15}"
}

fn ref_name() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9._-]{0,10}"
}

fn repo() -> impl Strategy<Value = String> {
    (
        "[a-z0-9]{1,8}",
        proptest::option::of("[a-z0-9]{1,8}"),
        "[a-z0-9][a-z0-9._-]{0,8}",
    )
        .prop_map(|(a, b, tag)| match b {
            Some(b) => format!("{a}/{b}:{tag}"),
            None => format!("{a}:{tag}"),
        })
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        (path(), proptest::option::of(repo())).prop_map(|(p, r)| match r {
            Some(r) => format!("docker-archive:{p}:{r}"),
            None => format!("docker-archive:{p}"),
        }),
        (path(), 0usize..100).prop_map(|(p, n)| format!("docker-archive:{p}:@{n}")),
        (path(), proptest::option::of(ref_name())).prop_map(|(p, r)| match r {
            Some(r) => format!("oci:{p}:{r}"),
            None => format!("oci:{p}"),
        }),
        (path(), proptest::option::of(ref_name())).prop_map(|(p, r)| match r {
            Some(r) => format!("oci-archive:{p}:{r}"),
            None => format!("oci-archive:{p}"),
        }),
        path().prop_map(|p| format!("dir:{p}")),
        repo().prop_map(|r| format!("docker://localhost:5000/{r}")),
        repo().prop_map(|r| format!("docker://{r}")),
        repo().prop_map(|r| format!("docker-daemon:{r}")),
    ]
}

proptest! {
    #[test]
    fn print_then_parse_is_the_same_name(s in name()) {
        let n: ImageName = s.parse().unwrap();
        let printed = n.to_string();
        let again: ImageName = printed.parse().unwrap();
        prop_assert_eq!(&again, &n);
        prop_assert_eq!(again.to_string(), printed);
    }

    #[test]
    fn any_string_parses_or_errors_without_panic(s in "\\PC{0,40}") {
        if let Ok(n) = s.parse::<ImageName>() {
            let again: ImageName = n.to_string().parse().unwrap();
            prop_assert_eq!(again, n);
        }
    }
}
