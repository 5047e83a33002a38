//! Property: exporting an image and unpacking that one tar gives the tree unpacking the
//! image's layers gives (files, directories, whiteouts and opaque markers at random).

use proptest::prelude::*;

use oci_unpack::{export, unpack, Options, Unpacker};

use crate::support::{tar, tree, MemImage, E};

#[derive(Debug, Clone)]
enum Op {
    File(String, u8),
    Dir(String),
    Whiteout(String),
    Opaque(String),
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..4).prop_map(|v| v.join("/"))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (path(), any::<u8>()).prop_map(|(p, b)| Op::File(p, b)),
        2 => path().prop_map(Op::Dir),
        2 => path().prop_map(Op::Whiteout),
        1 => path().prop_map(Op::Opaque),
    ]
}

/// A layer of `ops` as real tools write one: each path at most once, never both a file and
/// a parent of another entry, and every entry's parent directories before it.
fn layer(ops: &[Op]) -> Vec<u8> {
    let mut seen: Vec<String> = Vec::new();
    let mut files: Vec<String> = Vec::new();
    let mut names: Vec<(String, Vec<u8>, bool)> = Vec::new();
    let mut all = Vec::new();
    for op in ops {
        let p = match op {
            Op::File(p, _) | Op::Dir(p) | Op::Whiteout(p) => p.rsplit_once('/').map(|(d, _)| d),
            Op::Opaque(p) => Some(p.as_str()),
        };
        let mut acc = String::new();
        for comp in p.into_iter().flat_map(|p| p.split('/')) {
            acc = if acc.is_empty() {
                comp.to_string()
            } else {
                format!("{acc}/{comp}")
            };
            all.push(Op::Dir(acc.clone()));
        }
        all.push(op.clone());
    }
    for op in &all {
        let (name, data, dir) = match op {
            Op::File(p, b) => (p.clone(), vec![*b; usize::from(*b % 3)], false),
            Op::Dir(p) => (format!("{p}/"), Vec::new(), true),
            Op::Whiteout(p) => match p.rsplit_once('/') {
                Some((d, n)) => (format!("{d}/.wh.{n}"), Vec::new(), false),
                None => (format!(".wh.{p}"), Vec::new(), false),
            },
            Op::Opaque(p) => (format!("{p}/.wh..wh..opq"), Vec::new(), false),
        };
        let key = name.trim_end_matches('/').to_string();
        let parent_is_file = files.iter().any(|f| key.starts_with(&format!("{f}/")));
        let is_parent = seen.iter().any(|s| s.starts_with(&format!("{key}/")));
        if (seen.contains(&key) && !dir) || parent_is_file || (is_parent && !dir) {
            continue;
        }
        if seen.contains(&key) {
            continue;
        }
        if !dir {
            files.push(key.clone());
        }
        seen.push(key);
        names.push((name, data, dir));
    }
    let entries: Vec<E<'_>> = names
        .iter()
        .map(|(n, d, dir)| {
            if *dir {
                E::Dir(n, 0o755)
            } else {
                E::File(n, d, 0o644)
            }
        })
        .collect();
    tar(&entries)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn export_then_unpack_is_unpack(layers in prop::collection::vec(prop::collection::vec(op(), 0..8), 1..4)) {
        let tars: Vec<Vec<u8>> = layers.iter().map(|ops| layer(ops)).collect();
        let image = MemImage::of(tars);
        let dir = tempfile::tempdir().unwrap();
        let opts = Options { rootless: true, ..Options::default() };
        let direct = dir.path().join("direct");
        unpack(image.as_ref(), &direct, opts.clone()).unwrap();
        let mut flat = Vec::new();
        export(image.as_ref(), &mut flat, &opts).unwrap();
        let via = dir.path().join("via");
        std::fs::create_dir(&via).unwrap();
        let mut u = Unpacker::new(&via, opts).unwrap();
        u.apply_layer(&flat[..]).unwrap();
        u.finish().unwrap();
        prop_assert_eq!(tree(&direct), tree(&via));
    }
}
