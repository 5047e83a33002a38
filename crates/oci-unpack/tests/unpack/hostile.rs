//! Hostile layers: each is refused (or contained), names the entry, and nothing appears
//! outside the target.

use std::path::PathBuf;

use oci_unpack::{unpack, Error, Hostile, Options, SymlinkPolicy, Unpacker, WarningKind};

use crate::support::{ls, tar, MemImage, E};

/// A scratch directory: `outside/` with a file `secret` that must survive, and the target
/// `outside/../root` (so `../outside/secret` from the root names it).
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside/secret"), b"secret").unwrap();
        Scene { dir }
    }
    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }
    fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }
    /// Absolute path of `outside` as a link target.
    fn outside_abs(&self) -> String {
        self.outside().to_string_lossy().into_owned()
    }
    /// Nothing changed outside the root.
    fn check(&self) {
        assert_eq!(ls(&self.outside()), vec!["secret"]);
        assert_eq!(
            std::fs::read(self.outside().join("secret")).unwrap(),
            b"secret"
        );
        let names = ls(self.dir.path());
        assert!(
            names.iter().all(|n| n == "outside" || n == "root"),
            "{names:?}"
        );
    }
    fn unpack(&self, layers: Vec<Vec<u8>>, opts: Options) -> Result<oci_unpack::Report, Error> {
        unpack(MemImage::of(layers).as_ref(), &self.root(), opts)
    }
}

fn opts() -> Options {
    Options {
        rootless: true,
        ..Options::default()
    }
}

fn strict() -> Options {
    Options {
        symlinks: SymlinkPolicy::Reject,
        ..opts()
    }
}

fn lenient() -> Options {
    Options {
        lenient: true,
        ..opts()
    }
}

/// `layers` fail with `kind` at `entry` of layer `layer`, the target is not created, and
/// with `lenient` the entry is skipped and reported.
fn refused(layers: Vec<Vec<u8>>, options: Options, layer: usize, entry: &str, kind: Hostile) {
    let s = Scene::new();
    match s.unpack(layers.clone(), options.clone()) {
        Err(Error::Hostile {
            layer: l,
            entry: e,
            kind: k,
        }) => {
            assert_eq!((l, e.as_str(), k), (layer, entry, kind));
        }
        other => panic!("{entry}: {other:?}"),
    }
    assert!(!s.root().exists());
    s.check();
    let report = s
        .unpack(
            layers,
            Options {
                lenient: true,
                ..options
            },
        )
        .unwrap();
    assert!(report
        .warnings
        .iter()
        .any(|w| w.entry == entry && w.kind == WarningKind::Skipped(kind)));
    s.check();
}

#[test]
fn parent_dir_paths() {
    for name in ["../outside/evil", "a/../../outside/evil", "./../evil"] {
        refused(
            vec![tar(&[E::File(name, b"x", 0o644)])],
            opts(),
            0,
            name,
            Hostile::ParentDir,
        );
    }
}

#[test]
fn absolute_paths() {
    let s = Scene::new();
    let name = format!("{}/evil", s.outside_abs());
    refused(
        vec![tar(&[E::File(&name, b"x", 0o644)])],
        opts(),
        0,
        &name,
        Hostile::Absolute,
    );
}

#[test]
fn symlink_to_root_then_a_file_through_it() {
    let s = Scene::new();
    let layers = vec![
        tar(&[E::Sym("up", "/"), E::Sym("out", &s.outside_abs())]),
        tar(&[
            E::File("up/outside/evil", b"x", 0o644),
            E::File("out/secret", b"overwritten", 0o644),
        ]),
    ];
    // Resolved inside the root, as the image's own `/` would be.
    s.unpack(layers.clone(), opts()).unwrap();
    s.check();
    assert_eq!(std::fs::read(s.root().join("outside/evil")).unwrap(), b"x");
    assert_eq!(
        std::fs::read(
            s.root()
                .join(s.outside_abs().trim_start_matches('/'))
                .join("secret")
        )
        .unwrap(),
        b"overwritten"
    );
    refused(
        layers,
        strict(),
        1,
        "up/outside/evil",
        Hostile::SymlinkInPath,
    );
}

#[test]
fn symlink_chain_that_escapes() {
    let layers = vec![
        tar(&[
            E::Sym("a", "b"),
            E::Sym("b", "c/../../.."),
            E::Dir("c/", 0o755),
        ]),
        tar(&[E::File("a/outside/evil", b"x", 0o644)]),
    ];
    let s = Scene::new();
    s.unpack(layers.clone(), opts()).unwrap();
    s.check();
    assert!(s.root().join("outside/evil").is_file());
    refused(
        layers,
        strict(),
        1,
        "a/outside/evil",
        Hostile::SymlinkInPath,
    );
}

#[test]
fn hardlink_to_a_path_outside() {
    refused(
        vec![tar(&[E::Hard("h", "../outside/secret")])],
        opts(),
        0,
        "h",
        Hostile::LinkOutside,
    );
    let s = Scene::new();
    let abs = format!("{}/secret", s.outside_abs());
    refused(
        vec![tar(&[E::Hard("h", &abs)])],
        opts(),
        0,
        "h",
        Hostile::LinkOutside,
    );
    // Through a symlink: resolved inside the root, where there is no such file.
    let layers = vec![tar(&[
        E::Sym("l", &s.outside_abs()),
        E::Hard("h", "l/secret"),
    ])];
    refused(layers, opts(), 0, "h", Hostile::LinkTarget);
}

#[test]
fn whiteout_of_dot_dot() {
    for name in [".wh..", "a/.wh..", ".wh..."] {
        refused(
            vec![tar(&[E::Dir("a/", 0o755), E::File(name, b"", 0o644)])],
            opts(),
            0,
            name,
            Hostile::BadWhiteout,
        );
    }
}

#[test]
fn whiteout_through_a_symlink() {
    let s = Scene::new();
    let layers = vec![
        tar(&[E::Sym("l", &s.outside_abs()), E::Sym("r", "../outside")]),
        tar(&[
            E::File("l/.wh.secret", b"", 0o644),
            E::File("r/.wh.secret", b"", 0o644),
        ]),
    ];
    s.unpack(layers.clone(), opts()).unwrap();
    s.check();
    refused(layers, strict(), 1, "l/.wh.secret", Hostile::SymlinkInPath);
}

#[test]
fn directory_replaced_by_a_symlink_between_layers() {
    let s = Scene::new();
    let layers = vec![
        tar(&[E::Dir("d/", 0o755), E::File("d/f", b"1", 0o644)]),
        tar(&[E::Sym("d", &s.outside_abs())]),
        tar(&[
            E::File("d/secret", b"through", 0o644),
            E::Dir("d/sub/", 0o755),
        ]),
    ];
    s.unpack(layers.clone(), opts()).unwrap();
    s.check();
    assert!(s
        .root()
        .join("d")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_symlink());
    refused(layers, strict(), 2, "d/secret", Hostile::SymlinkInPath);
}

#[test]
fn a_file_replaces_a_symlink_instead_of_writing_through_it() {
    let s = Scene::new();
    let layers = vec![
        tar(&[E::Sym("f", "../outside/secret")]),
        tar(&[E::File("f", b"replaced", 0o644)]),
    ];
    s.unpack(layers, opts()).unwrap();
    s.check();
    assert_eq!(std::fs::read(s.root().join("f")).unwrap(), b"replaced");
}

#[test]
fn many_entries_in_one_directory() {
    let names: Vec<String> = (0..20_000).map(|i| format!("d/{i:06}")).collect();
    let entries: Vec<E<'_>> = names.iter().map(|n| E::File(n, b"", 0o644)).collect();
    let layer = tar(&entries);
    let s = Scene::new();
    let report = s.unpack(vec![layer.clone()], opts()).unwrap();
    assert_eq!(report.entries, 20_000);
    assert_eq!(
        std::fs::read_dir(s.root().join("d")).unwrap().count(),
        20_000
    );
    s.check();
    let capped = Options {
        max_entries: 1000,
        ..opts()
    };
    let s = Scene::new();
    match s.unpack(vec![layer], capped) {
        Err(Error::Hostile {
            entry,
            kind: Hostile::TooManyEntries,
            ..
        }) => assert_eq!(entry, "d/001000"),
        other => panic!("{other:?}"),
    }
    assert!(!s.root().exists());
}

#[test]
fn huge_sparse_size_claim() {
    refused(
        vec![tar(&[E::Sparse("big", 100 << 30)])],
        opts(),
        0,
        "big",
        Hostile::SparseTooLarge,
    );
    // A small sparse file is unpacked with a hole.
    let s = Scene::new();
    s.unpack(vec![tar(&[E::Sparse("small", 1 << 20)])], opts())
        .unwrap();
    let data = std::fs::read(s.root().join("small")).unwrap();
    assert_eq!(data.len(), 1 << 20);
    assert!(
        data[..(1 << 20) - 512].iter().all(|&b| b == 0)
            && data[(1 << 20) - 512..].iter().all(|&b| b == 1)
    );
}

#[test]
fn huge_size_claim_of_a_truncated_layer() {
    let s = Scene::new();
    let err = s
        .unpack(vec![tar(&[E::Claim("big", 100 << 30)])], opts())
        .unwrap_err();
    assert!(
        matches!(err, Error::Entry { .. } | Error::Tar { layer: 0, .. }),
        "{err:?}"
    );
    assert!(!s.root().exists());
    s.check();
}

#[test]
fn lenient_keeps_going() {
    let s = Scene::new();
    let layer = tar(&[
        E::File("../evil", b"x", 0o644),
        E::File("ok", b"fine", 0o644),
    ]);
    let report = s.unpack(vec![layer], lenient()).unwrap();
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(std::fs::read(s.root().join("ok")).unwrap(), b"fine");
    s.check();
}

#[test]
fn unpacker_on_an_existing_directory() {
    let s = Scene::new();
    std::fs::create_dir(s.root()).unwrap();
    let mut u = Unpacker::new(&s.root(), opts()).unwrap();
    let err = u
        .apply_layer(&tar(&[E::Hard("x", "../outside/secret")])[..])
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Hostile {
            kind: Hostile::LinkOutside,
            ..
        }
    ));
    s.check();
}
