//! A writer process killed with SIGKILL halfway through a large blob: the lock dies with it,
//! a new writer resumes at its offset and commits the right digest, and `blobs/` never shows a
//! partial file.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use oci_content::{copy_seek, CommitOpts, IngestManager, Ingester, LocalStore, WriterOpts};
use oci_types::{Descriptor, MediaType};

use crate::pattern::Pattern;

const CHILD_ENV: &str = "OCI_CONTENT_CRASH_CHILD_ROOT";
const REF: &str = "crash-test-layer";
const SEED: u64 = 0xC0FFEE;
const TOTAL: u64 = 256 << 20;
const HALF: u64 = TOTAL / 2;

fn desc() -> Descriptor {
    Descriptor::new(
        MediaType::OciLayer,
        Pattern::new(SEED, TOTAL).digest(),
        TOTAL,
    )
}

/// The child's part: write the blob without ever committing, announce the halfway mark, and
/// keep writing until killed.
fn child(root: &Path) -> ! {
    let store = LocalStore::open(root).unwrap();
    // No descriptor digest here: the parent computes it, the child only needs the size.
    let desc = Descriptor::new(MediaType::OciLayer, oci_types::Digest::sha256(b""), TOTAL);
    let mut w = store
        .writer(WriterOpts::new(REF).with_descriptor(desc))
        .unwrap();
    let mut src = Pattern::new(SEED, TOTAL);
    let mut buf = vec![0u8; 1 << 20];
    let mut written = 0u64;
    loop {
        let n = src.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        w.write_all(&buf[..n]).unwrap();
        written += n as u64;
        if written == HALF {
            println!("HALFWAY {written}");
            std::io::stdout().flush().unwrap();
        }
        if written >= HALF {
            // Go on slowly from here, so the kill lands in the middle of the writes.
            thread::sleep(Duration::from_millis(2));
        }
    }
    // Everything written and still not committed: wait for the kill (or give up after a while
    // so a broken parent cannot leave us behind).
    thread::sleep(Duration::from_secs(120));
    std::process::exit(3);
}

/// Every file under `dir`, with its size.
fn files_under(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        match e.metadata() {
            Ok(m) if m.is_dir() => out.extend(files_under(&p)),
            Ok(m) => out.push((p, m.len())),
            Err(_) => {}
        }
    }
    out
}

/// Kills the child process if the test fails while it runs.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[test]
fn sigkill_midway_then_resume() {
    if let Some(root) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&root));
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let store = LocalStore::open(&root).unwrap();
    let desc = desc();

    // Watch blobs/ for the whole test: any file there must be the complete blob.
    let stop = AtomicBool::new(false);
    let seen = Mutex::new(Vec::<(PathBuf, u64)>::new());
    thread::scope(|s| {
        let blobs = root.join("blobs");
        let (stop, seen) = (&stop, &seen);
        // Stops the watcher however this scope ends (a failed assertion must not hang it).
        let _stop_watcher = StopOnDrop(stop);
        s.spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for f in files_under(&blobs) {
                    if f.1 != TOTAL {
                        seen.lock().unwrap().push(f);
                    }
                }
                thread::sleep(Duration::from_micros(200));
            }
        });

        let exe = std::env::current_exe().unwrap();
        let mut child = KillOnDrop(
            Command::new(exe)
                .args([
                    "crash::sigkill_midway_then_resume",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, &root)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap(),
        );
        let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let line = lines
                .next()
                .expect("child exited before the halfway mark")
                .unwrap();
            // libtest may print its "test NAME ... " prefix on the same line.
            if line.contains("HALFWAY") {
                break;
            }
            assert!(Instant::now() < deadline, "child too slow");
        }

        // The child holds the ref: another process cannot write or abort it.
        let e = store
            .writer(WriterOpts::new(REF))
            .err()
            .expect("second writer while child lives");
        assert!(e.is_unavailable(), "{e}");
        assert!(store.abort(REF).unwrap_err().is_unavailable());

        child.0.kill().unwrap(); // SIGKILL on unix
        let status = child.0.wait().unwrap();
        assert!(!status.success(), "child was not killed: {status}");

        // The lock died with the process; the ingest is there, part-written.
        let st = store.status(REF).unwrap();
        assert!(
            st.offset >= HALF && st.offset <= TOTAL,
            "offset {}",
            st.offset
        );
        assert_eq!(st.total, Some(TOTAL));
        let mut w = store
            .writer(WriterOpts::new(REF).with_descriptor(desc.clone()))
            .unwrap();
        let resumed = w.status().unwrap().offset;
        assert_eq!(resumed, st.offset, "resumed at the ingest's end");
        assert_eq!(
            w.digest(),
            Pattern::new(SEED, TOTAL).digest_of_prefix(resumed),
            "re-hashed prefix"
        );
        assert!(
            files_under(&root.join("blobs")).is_empty(),
            "a blob before any commit"
        );

        copy_seek(
            w.as_mut(),
            Pattern::new(SEED, TOTAL),
            Some(TOTAL),
            Some(&desc.digest),
            CommitOpts::new(),
        )
        .unwrap();
    });
    assert!(
        seen.lock().unwrap().is_empty(),
        "partial files seen in blobs/: {:?}",
        seen.lock().unwrap()
    );
    let blobs = files_under(&root.join("blobs"));
    assert_eq!(blobs, vec![(store.blob_path(&desc.digest), TOTAL)]);
    assert!(
        store.list_statuses(&[]).unwrap().is_empty(),
        "ingest left after commit"
    );
    // And the committed bytes hash to the digest.
    let mut f = std::fs::File::open(store.blob_path(&desc.digest)).unwrap();
    let mut d = oci_types::Digester::new_sha256();
    std::io::copy(&mut f, &mut d).unwrap();
    assert_eq!(d.finish(), desc.digest);
}
