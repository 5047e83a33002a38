//! Cancellation as a library caller uses it: a flag set from another thread (here, from the
//! progress callback once some bytes went by) stops the copy with `Error::Cancelled` and
//! leaves the destination as it was.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use oci_copy::{copy, CopyOptions, Error, ImageName, Progress};
use oci_layout::Layout;

use crate::support::*;

/// Sets `flag` once `after` bytes have been reported.
struct CancelAfter {
    after: u64,
    seen: AtomicU64,
    flag: Arc<AtomicBool>,
}

impl Progress for CancelAfter {
    fn advanced(&self, _id: u64, bytes: u64) {
        if self.seen.fetch_add(bytes, Ordering::Relaxed) + bytes >= self.after {
            self.flag.store(true, Ordering::Relaxed);
        }
    }
}

fn cancelling_options(after: u64) -> CopyOptions {
    let flag = Arc::new(AtomicBool::new(false));
    let mut options = CopyOptions::default();
    options.cancel = Some(Arc::clone(&flag));
    options.progress = Arc::new(CancelAfter {
        after,
        seen: AtomicU64::new(0),
        flag,
    });
    options
}

/// A layout at `dir` holding a 4-layer image of 1 MiB layers as `big` and a small one as
/// `old`.
fn source(dir: &Path) -> ImageName {
    let layout = Layout::create(dir).unwrap();
    let big = oci_partial::random::image(41, 4, 1 << 20);
    layout.write_image(big.as_ref(), Some("big")).unwrap();
    let old = oci_partial::random::image(42, 1, 1024);
    layout.write_image(old.as_ref(), Some("old")).unwrap();
    name(format!("oci:{}:big", dir.display()))
}

/// Every file under `dir`, relative to it, with its bytes' digest.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.push((rel, oci_types::Digest::sha256(&bytes).to_string()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn a_cancelled_copy_fails_as_cancelled_and_leaves_every_destination_as_it_was() {
    let t = tempfile::tempdir().unwrap();
    let src = source(&t.path().join("src"));
    let old = name(format!("oci:{}:old", t.path().join("src").display()));
    let out = t.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let destinations = [
        format!(
            "docker-archive:{}:example.com/c:1",
            out.join("d.tar").display()
        ),
        format!("oci-archive:{}:c", out.join("o.tar").display()),
        format!("dir:{}", out.join("dir").display()),
        format!("oci:{}:big", out.join("layout").display()),
    ];
    for dst in &destinations {
        // An existing destination (the small image) must survive the cancelled copy whole.
        let dst = name(dst);
        copy(&old, &dst, &CopyOptions::default()).unwrap();
        let before = snapshot(&out);
        let err = copy(&src, &dst, &cancelling_options(1 << 20)).unwrap_err();
        assert!(matches!(err, Error::Cancelled), "{dst}: {err}");
        let after = snapshot(&out);
        // A layout may keep blobs that were complete before the cancel (unreferenced, for
        // gc); nothing else changes, and no ingest is left.
        let changed: Vec<_> = after
            .iter()
            .filter(|f| !before.contains(f))
            .filter(|(path, _)| !path.starts_with("layout/blobs/sha256/"))
            .collect();
        assert!(changed.is_empty(), "{dst}: changed: {changed:?}");
        let gone: Vec<_> = before.iter().filter(|f| !after.contains(f)).collect();
        assert!(gone.is_empty(), "{dst}: removed: {gone:?}");
        // The same copy without the cancel then completes.
        copy(&src, &dst, &CopyOptions::default()).unwrap();
        assert_eq!(validate(&dst).len(), 1, "{dst}");
        remove(&dst.to_string());
    }
}
