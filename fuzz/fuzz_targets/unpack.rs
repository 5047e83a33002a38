//! Any bytes as a layer, applied twice (so entries meet what the first pass made: links,
//! whiteouts, replaced directories) by `oci_unpack::Unpacker` in a temporary directory beside
//! a canary directory. Errors are fine; a panic, or anything appearing or changing outside
//! the target, is a crash.
#![no_main]

use std::fs;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use oci_unpack::{Options, SymlinkPolicy, Unpacker};

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&flags, tar)) = bytes.split_first() else {
        return;
    };
    let Ok(tmp) = tempfile::tempdir() else {
        return;
    };
    let (root, outside) = (tmp.path().join("root"), tmp.path().join("outside"));
    fs::create_dir(&root).expect("root");
    fs::create_dir(&outside).expect("outside");
    fs::write(outside.join("canary"), b"canary").expect("canary");
    let opts = Options {
        rootless: true,
        lenient: flags & 1 != 0,
        symlinks: if flags & 2 != 0 {
            SymlinkPolicy::Reject
        } else {
            SymlinkPolicy::Resolve
        },
        max_entries: 10_000,
        max_sparse_size: 64 << 20,
    };
    if let Ok(mut u) = Unpacker::new(&root, opts) {
        if u.apply_layer(tar).is_ok() {
            let _ = u.apply_layer(tar);
        }
        let _ = u.finish();
    }
    assert_eq!(
        listing(tmp.path()),
        vec!["outside", "root"],
        "something appeared beside the root"
    );
    assert_eq!(
        listing(&outside),
        vec!["canary"],
        "something appeared outside the root"
    );
    assert_eq!(fs::read(outside.join("canary")).expect("canary"), b"canary");
    writable(&root);
});

/// Directories owner-writable again, so that the temporary directory can be removed when
/// not running as root (links are not followed).
fn writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            writable(&entry.path());
        }
    }
}
