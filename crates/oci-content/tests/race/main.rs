//! Eight processes ingesting the same blob into one local store at once, half of them through
//! one shared ref and half through refs of their own: every one succeeds, the blob is there
//! once with its digest, no ingest is left and no file is torn.
//!
//! The test re-runs this test binary with [`CHILD_ENV`] set, so that [`child_process_entry`]
//! does one write. It is a test binary of its own: a process forked from a test binary holds
//! copies of every descriptor until it execs, locks included, so the conformance suite's
//! "the lock is free once the writer is closed" would see other tests' children hold it.
//! `OCIKIT_RACE_ROUNDS` sets the rounds (default 50, CI's short form; `cargo xtask stress`
//! runs 1,000).
// Test helpers unwrap freely: a failure there is a test failure, not bad input.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use oci_content::{write_blob, CommitOpts, IngestManager, LocalStore, Manager};
use oci_types::{Descriptor, MediaType};

// The content tests' generator; this binary uses part of it.
#[allow(dead_code)]
#[path = "../content/pattern.rs"]
mod pattern;

use pattern::Pattern;

/// Set in child processes: `ROOT|REF|SEED|GO-FILE`.
const CHILD_ENV: &str = "OCI_CONTENT_RACE_CHILD";
const PROCESSES: usize = 8;
const SIZE: u64 = 512 << 10;

fn rounds() -> usize {
    std::env::var("OCIKIT_RACE_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
}

fn desc(seed: u64) -> Descriptor {
    Descriptor::new(MediaType::OciLayer, Pattern::new(seed, SIZE).digest(), SIZE)
}

/// The entry point of child processes (a no-op in a normal test run): waits for the go file,
/// then writes the blob.
#[test]
fn child_process_entry() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let [root, reference, seed, go] = parts[..] else {
        panic!("bad {CHILD_ENV}: {spec}")
    };
    let seed: u64 = seed.parse().unwrap();
    let store = LocalStore::open(root).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !Path::new(go).exists() {
        assert!(Instant::now() < deadline, "the parent never said go");
        std::thread::sleep(Duration::from_micros(200));
    }
    write_blob(
        &store,
        reference,
        Pattern::new(seed, SIZE),
        &desc(seed),
        CommitOpts::new(),
    )
    .unwrap();
}

fn spawn_child(root: &Path, reference: &str, seed: u64, go: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "child_process_entry",
            "--exact",
            "--test-threads=1",
            "--quiet",
        ])
        .env(
            CHILD_ENV,
            format!("{}|{reference}|{seed}|{}", root.display(), go.display()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn processes_ingesting_one_blob_at_once_all_succeed_and_leave_it_whole() {
    for round in 0..rounds() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("store");
        let store = LocalStore::open(&root).unwrap();
        let go = tmp.path().join("go");
        let seed = round as u64;
        let children: Vec<Child> = (0..PROCESSES)
            .map(|p| {
                let reference = if p % 2 == 0 {
                    "shared".to_owned()
                } else {
                    format!("own-{p}")
                };
                spawn_child(&root, &reference, seed, &go)
            })
            .collect();
        std::fs::write(&go, b"go").unwrap();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: a child failed: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let expected = desc(seed);
        let info = store.info(&expected.digest).unwrap();
        assert_eq!(info.size, SIZE, "round {round}");
        let mut blobs = Vec::new();
        store
            .walk(&[], &mut |info| {
                blobs.push(info.digest);
                Ok(())
            })
            .unwrap();
        assert_eq!(
            blobs,
            std::slice::from_ref(&expected.digest),
            "round {round}"
        );
        let bytes =
            std::fs::read(root.join("blobs/sha256").join(expected.digest.encoded())).unwrap();
        assert_eq!(
            oci_types::Digest::sha256(&bytes),
            expected.digest,
            "round {round}: torn"
        );
        let left = store.list_statuses(&[]).unwrap();
        assert!(left.is_empty(), "round {round}: ingests left: {left:?}");
    }
}
