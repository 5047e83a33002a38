//! Concurrent writers, in threads and in processes: every image lands in index.json.
//!
//! The process test re-runs this test binary with [`CHILD_ENV`] set, so that
//! [`child_process_entry`] writes one image into the layout the parent names.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use oci_layout::Layout;
use oci_partial::{random, validate_index, ValidateOptions};

/// Set in child processes: `DIR|SEED|REF|GO-FILE`.
const CHILD_ENV: &str = "OCI_LAYOUT_RACE_CHILD";

/// How many times the process race runs, and how many processes each time.
const ROUNDS: usize = 25;
const PROCESSES: usize = 4;

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
fn processes_adding_images_at_once_all_land_in_index_json() {
    for round in 0..ROUNDS {
        let tmp = tempfile::tempdir().unwrap();
        let dir: PathBuf = tmp.path().join("layout");
        let layout = Layout::create(&dir).unwrap();
        let go = tmp.path().join("go");
        let children: Vec<Child> = (0..PROCESSES)
            .map(|p| spawn_child(&dir, (round * PROCESSES + p) as u64, &format!("p{p}"), &go))
            .collect();
        // Also this process, in threads, at the same moment.
        std::fs::write(&go, b"go").unwrap();
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
        let mut expected: Vec<String> = (0..PROCESSES).map(|p| format!("p{p}")).collect();
        expected.extend(["t0".to_string(), "t1".to_string()]);
        expected.sort();
        assert_eq!(refs(&layout), expected, "round {round}");
        validate_index(
            layout.image_index().unwrap().as_ref(),
            ValidateOptions::fast(),
        )
        .unwrap();
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
