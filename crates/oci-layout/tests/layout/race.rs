//! Concurrent writers, in threads and in processes: every image lands in index.json, and `gc`
//! running all the while never collects a blob that a tag needs.
//!
//! The process test re-runs this test binary with [`CHILD_ENV`] set, so that
//! [`child_process_entry`] writes one image into the layout the parent names.
//! `OCIKIT_RACE_ROUNDS` sets the rounds (default 50, CI's short form; `cargo xtask stress`
//! runs 1,000).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use oci_layout::Layout;
use oci_partial::{random, validate_index, ValidateOptions};

/// Set in child processes: `DIR|SEED|REF|GO-FILE`.
const CHILD_ENV: &str = "OCI_LAYOUT_RACE_CHILD";

/// How many processes write at once in each round.
const PROCESSES: usize = 8;

/// How many times the process race runs.
fn rounds() -> usize {
    std::env::var("OCIKIT_RACE_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50)
}

/// The refs in `index.json`, sorted.
fn refs(layout: &Layout) -> Vec<String> {
    let mut v: Vec<String> = layout
        .index()
        .unwrap()
        .manifests
        .iter()
        .filter_map(|d| d.ref_name().map(str::to_owned))
        .collect();
    v.sort();
    v
}

/// The entry point of child processes (a no-op in a normal test run): waits for the go file,
/// then writes its image.
#[test]
fn child_process_entry() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let [dir, seed, name, go] = parts[..] else {
        panic!("bad {CHILD_ENV}: {spec}")
    };
    let layout = Layout::open(dir).unwrap();
    let image = random::image(seed.parse().unwrap(), 2, 2000);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !Path::new(go).exists() {
        assert!(Instant::now() < deadline, "the parent never said go");
        std::thread::sleep(Duration::from_micros(200));
    }
    layout.write_image(image.as_ref(), Some(name)).unwrap();
}

fn spawn_child(dir: &Path, seed: u64, name: &str, go: &Path) -> Child {
    let exe = std::env::current_exe().unwrap();
    Command::new(exe)
        .args([
            "race::child_process_entry",
            "--exact",
            "--test-threads=1",
            "--quiet",
        ])
        .env(
            CHILD_ENV,
            format!("{}|{seed}|{name}|{}", dir.display(), go.display()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn processes_adding_images_while_gc_runs_all_land_whole() {
    for round in 0..rounds() {
        let tmp = tempfile::tempdir().unwrap();
        let dir: PathBuf = tmp.path().join("layout");
        let layout = Layout::create(&dir).unwrap();
        let go = tmp.path().join("go");
        let children: Vec<Child> = (0..PROCESSES)
            .map(|p| spawn_child(&dir, (round * PROCESSES + p) as u64, &format!("p{p}"), &go))
            .collect();
        // Also this process, in threads, at the same moment, and gc over and over until the
        // writers are done.
        std::fs::write(&go, b"go").unwrap();
        let writing = Arc::new(AtomicBool::new(true));
        let collector = {
            let (layout, writing) = (layout.clone(), Arc::clone(&writing));
            std::thread::spawn(move || {
                let mut runs = 0;
                while writing.load(Ordering::SeqCst) || runs == 0 {
                    layout.gc().unwrap();
                    runs += 1;
                }
                runs
            })
        };
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let layout = layout.clone();
                std::thread::spawn(move || {
                    let image = random::image(10_000 + (round * 2 + t) as u64, 1, 500);
                    layout
                        .write_image(image.as_ref(), Some(&format!("t{t}")))
                        .unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        for c in children {
            let out = c.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success(),
                "round {round}: a child failed: {}\n{stderr}",
                out.status
            );
        }
        writing.store(false, Ordering::SeqCst);
        assert!(collector.join().unwrap() > 0);
        let mut expected: Vec<String> = (0..PROCESSES).map(|p| format!("p{p}")).collect();
        expected.extend(["t0".to_string(), "t1".to_string()]);
        expected.sort();
        assert_eq!(
            refs(&layout),
            expected,
            "round {round}: an index.json entry was lost"
        );
        // Every blob every tag needs is there and whole (validate reads them all).
        validate_index(
            layout.image_index().unwrap().as_ref(),
            ValidateOptions::default(),
        )
        .unwrap_or_else(|e| panic!("round {round}: {e}"));
        // No torn file: index.json parses (refs above) and every blob has its digest.
        for entry in std::fs::read_dir(dir.join("blobs/sha256")).unwrap() {
            let entry = entry.unwrap();
            let digest = oci_types::Digest::sha256(&std::fs::read(entry.path()).unwrap());
            assert_eq!(
                digest.encoded(),
                entry.file_name().to_string_lossy(),
                "round {round}"
            );
        }
    }
}

#[test]
fn threads_with_their_own_layout_handles_all_land() {
    let (_dir, layout) = crate::common::new_layout();
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let root = layout.root().to_owned();
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let layout = Layout::open(&root).unwrap();
                let image = random::image(i as u64, 1, 1000);
                barrier.wait();
                layout
                    .write_image(image.as_ref(), Some(&format!("img{i}")))
                    .unwrap();
                // And a second change right after: retag.
                layout
                    .write_image(image.as_ref(), Some(&format!("again{i}")))
                    .unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(refs(&layout).len(), 2 * n);
    let root = layout.image_index().unwrap();
    validate_index(root.as_ref(), ValidateOptions::default()).unwrap();
    assert_eq!(root.index_manifest().unwrap().manifests.len(), 2 * n);
}

#[test]
fn concurrent_creation_of_one_layout_keeps_every_image() {
    for _ in 0..10 {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("new");
        let barrier = Arc::new(Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let (dir, barrier) = (dir.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    let layout = Layout::open_or_create(&dir).unwrap();
                    layout
                        .write_image(random::image(i, 1, 100).as_ref(), Some(&format!("i{i}")))
                        .unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(refs(&Layout::open(&dir).unwrap()), ["i0", "i1", "i2", "i3"]);
    }
}
