//! The conformance suite against both stores.

use std::sync::atomic::{AtomicUsize, Ordering};

use oci_content::{testsuite, LocalStore, MemoryStore};

#[test]
fn memory_store_passes_the_suite() {
    testsuite::run_all(MemoryStore::new);
}

#[test]
fn local_store_passes_the_suite() {
    let parent = tempfile::tempdir().unwrap();
    let n = AtomicUsize::new(0);
    testsuite::run_all(|| {
        let dir = parent
            .path()
            .join(n.fetch_add(1, Ordering::Relaxed).to_string());
        LocalStore::open(dir).unwrap()
    });
}
