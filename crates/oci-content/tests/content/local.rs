//! What is particular to the local store: its files on disk, locks between store handles,
//! labels across reopening, and ingests in containerd's own encodings.

use std::fs;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oci_content::{
    read_blob, write_blob, CommitOpts, Info, IngestManager, Ingester, Labels, LocalStore, Manager,
    WriterOpts,
};
use oci_types::{Descriptor, Digest, MediaType};

fn desc(bytes: &[u8]) -> Descriptor {
    Descriptor::of_bytes(MediaType::OciLayer, bytes)
}

/// The hex SHA-256 of a ref: the ingest directory's name.
fn ingest_name(reference: &str) -> String {
    Digest::sha256(reference.as_bytes()).encoded().to_owned()
}

fn is_go_rfc3339_nano_utc(s: &str) -> bool {
    // 2024-05-01T12:00:00Z or 2024-05-01T12:00:00.123456789Z, trailing zeros trimmed.
    let b = s.as_bytes();
    let head_ok = b.len() >= 20
        && b[..19].iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    let tail = &s[19..];
    head_ok
        && tail.ends_with('Z')
        && (tail == "Z"
            || (tail.starts_with('.')
                && tail.len() <= 11
                && tail[1..tail.len() - 1].bytes().all(|c| c.is_ascii_digit())
                && !tail[..tail.len() - 1].ends_with('0')))
}

#[test]
fn on_disk_format_is_containerds() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(tmp.path()).unwrap();
    let blob = b"some layer bytes".repeat(100);
    let d = desc(&blob);
    let mut w = store
        .writer(WriterOpts::new("layer-1").with_descriptor(d.clone()))
        .unwrap();
    w.write_all(&blob[..700]).unwrap();
    drop(w);

    let dir = tmp.path().join("ingest").join(ingest_name("layer-1"));
    assert_eq!(store.ingest_path("layer-1"), dir);
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["data", "ref", "startedat", "total", "updatedat"]);
    assert_eq!(fs::read_to_string(dir.join("ref")).unwrap(), "layer-1");
    assert_eq!(
        fs::read_to_string(dir.join("total")).unwrap(),
        blob.len().to_string()
    );
    assert_eq!(fs::read(dir.join("data")).unwrap(), &blob[..700]);
    for f in ["startedat", "updatedat"] {
        let text = fs::read_to_string(dir.join(f)).unwrap();
        assert!(is_go_rfc3339_nano_utc(&text), "{f}: {text:?}");
    }

    let mut w = store
        .writer(WriterOpts::new("layer-1").with_descriptor(d.clone()))
        .unwrap();
    w.write_all(&blob[700..]).unwrap();
    w.commit(Some(d.size), Some(&d.digest), CommitOpts::new())
        .unwrap();
    let path = tmp.path().join("blobs/sha256").join(d.digest.encoded());
    assert_eq!(store.blob_path(&d.digest), path);
    assert_eq!(fs::read(&path).unwrap(), blob);
    assert!(!dir.exists(), "ingest directory left after commit");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o222, 0, "committed blob is writable: {mode:o}");
    }
    // No labels were set, so nothing but blobs/ and ingest/ exists.
    let mut top: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    top.sort();
    assert_eq!(top, ["blobs", "ingest"]);
}

#[test]
fn resumes_an_ingest_written_by_containerd() {
    // An ingest as containerd 1.6/2.x leaves it: Go timestamps with a zone offset and
    // nanoseconds, `ref` without newline, `total` in decimal.
    let tmp = tempfile::tempdir().unwrap();
    let blob: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let d = desc(&blob);
    let reference = "default/1/layer-sha256:abc";
    let dir = tmp.path().join("ingest").join(ingest_name(reference));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("data"), &blob[..4096]).unwrap();
    fs::write(dir.join("ref"), reference).unwrap();
    fs::write(dir.join("startedat"), "2023-11-14T23:13:20.123456789+01:00").unwrap();
    fs::write(dir.join("updatedat"), "2023-11-14T22:13:21Z").unwrap();
    fs::write(dir.join("total"), "10000").unwrap();

    let store = LocalStore::open(tmp.path()).unwrap();
    let st = store.status(reference).unwrap();
    assert_eq!(st.reference, reference);
    assert_eq!(st.offset, 4096);
    assert_eq!(st.total, Some(10_000));
    assert_eq!(
        st.started_at,
        UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789)
    );
    let listed = store.list_statuses(&["ref~=layer-sha256"]).unwrap();
    assert_eq!(listed.len(), 1);

    let mut w = store
        .writer(WriterOpts::new(reference).with_descriptor(d.clone()))
        .unwrap();
    assert_eq!(w.status().unwrap().offset, 4096);
    assert_eq!(
        w.status().unwrap().started_at,
        st.started_at,
        "kept containerd's start time"
    );
    assert_eq!(w.digest(), Digest::sha256(&blob[..4096]));
    w.write_all(&blob[4096..]).unwrap();
    w.commit(Some(d.size), Some(&d.digest), CommitOpts::new())
        .unwrap();
    assert_eq!(read_blob(&store, &d, 1 << 20).unwrap(), blob);
}

#[test]
fn unusable_ingests_start_over() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(tmp.path()).unwrap();
    // Data without metadata (a writer that died while creating the ingest).
    let dir = store.ingest_path("half-made");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("data"), b"junk").unwrap();
    assert!(store.status("half-made").unwrap_err().is_not_found());
    assert!(
        store.list_statuses(&[]).unwrap().is_empty(),
        "half-made ingests are not listed"
    );
    let w = store.writer(WriterOpts::new("half-made")).unwrap();
    assert_eq!(w.status().unwrap().offset, 0);
    drop(w);

    // An ingest for another size than the descriptor says: another blob, so start over.
    let a = b"aaaa".repeat(10);
    let mut w = store
        .writer(WriterOpts::new("sized").with_descriptor(desc(&a)))
        .unwrap();
    w.write_all(&a[..10]).unwrap();
    drop(w);
    let b = b"bb".repeat(10);
    let w = store
        .writer(WriterOpts::new("sized").with_descriptor(desc(&b)))
        .unwrap();
    assert_eq!(w.status().unwrap().offset, 0);
    assert_eq!(w.status().unwrap().total, Some(20));
}

#[test]
fn damaged_ingests_are_removed_and_live_or_whole_ones_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(tmp.path()).unwrap();
    let ingest = tmp.path().join("ingest");
    // A write killed while it set its metadata up: `updatedat` not yet renamed into place.
    let torn_setup = store.ingest_path("torn-setup");
    fs::create_dir_all(&torn_setup).unwrap();
    for (name, text) in [("data", "abc"), ("ref", "torn-setup")] {
        fs::write(torn_setup.join(name), text).unwrap();
    }
    fs::write(torn_setup.join("startedat"), "2024-05-01T12:00:00Z").unwrap();
    fs::write(torn_setup.join("updatedat.tmp"), "2024-05-01T").unwrap();
    // A commit killed while it removed the directory: only timestamps are left.
    let torn_removal = store.ingest_path("torn-removal");
    fs::create_dir_all(&torn_removal).unwrap();
    fs::write(torn_removal.join("startedat"), "2024-05-01T12:00:00Z").unwrap();
    fs::write(torn_removal.join("updatedat"), "2024-05-01T12:00:00Z").unwrap();
    // A commit killed after it moved `data` into place, while it removed the rest: `ref` and
    // the timestamps are left, and only the `data` the pruner creates to lock would make the
    // status readable.
    let torn_commit = store.ingest_path("torn-commit");
    fs::create_dir_all(&torn_commit).unwrap();
    fs::write(torn_commit.join("ref"), "torn-commit").unwrap();
    fs::write(torn_commit.join("startedat"), "2024-05-01T12:00:00Z").unwrap();
    fs::write(torn_commit.join("updatedat"), "2024-05-01T12:00:00Z").unwrap();
    // A whole abandoned ingest (abort's business, not this one's) and a live writer.
    let mut whole = store.writer(WriterOpts::new("whole")).unwrap();
    whole.write_all(b"kept").unwrap();
    drop(whole);
    let mut live = store.writer(WriterOpts::new("live")).unwrap();
    live.write_all(b"busy").unwrap();
    // A live writer whose metadata is unreadable is still not touched.
    let live_damaged = store.writer(WriterOpts::new("live-damaged")).unwrap();
    fs::remove_file(store.ingest_path("live-damaged").join("startedat")).unwrap();

    let mut want = vec![
        ingest_name("torn-setup"),
        ingest_name("torn-removal"),
        ingest_name("torn-commit"),
    ];
    want.sort();
    assert_eq!(store.remove_damaged_ingests().unwrap(), want);
    assert!(!torn_setup.exists() && !torn_removal.exists() && !torn_commit.exists());
    let mut refs: Vec<String> = store
        .list_statuses(&[])
        .unwrap()
        .into_iter()
        .map(|s| s.reference)
        .collect();
    refs.sort();
    assert_eq!(refs, ["live", "whole"]);
    assert!(store.ingest_path("live-damaged").join("data").exists());
    drop(live_damaged);
    assert_eq!(
        store.remove_damaged_ingests().unwrap(),
        [ingest_name("live-damaged")]
    );
    live.write_all(b" still").unwrap();
    let st = live.status().unwrap();
    assert_eq!(st.offset, 10);
    drop(live);
    assert!(store.remove_damaged_ingests().unwrap().is_empty());
    assert_eq!(fs::read_dir(&ingest).unwrap().count(), 2);
}

#[test]
fn two_handles_on_one_root_share_locks_and_content() {
    let tmp = tempfile::tempdir().unwrap();
    let a = LocalStore::open(tmp.path()).unwrap();
    let b = LocalStore::open(tmp.path()).unwrap();
    let mut w = a.writer(WriterOpts::new("r")).unwrap();
    let e = b.writer(WriterOpts::new("r")).err().unwrap();
    assert!(e.is_unavailable(), "{e}");
    assert!(b.abort("r").unwrap_err().is_unavailable());
    w.write_all(b"xyz").unwrap();
    drop(w);
    let mut w = b.writer(WriterOpts::new("r")).unwrap();
    assert_eq!(w.status().unwrap().offset, 3);
    w.commit(None, None, CommitOpts::new()).unwrap();
    assert_eq!(a.info(&Digest::sha256(b"xyz")).unwrap().size, 3);
}

#[test]
fn labels_survive_reopening() {
    let tmp = tempfile::tempdir().unwrap();
    let blob = b"labelled";
    let d = desc(blob);
    let labels: Labels = [("containerd.io/gc.root".to_string(), "yes".to_string())].into();
    {
        let store = LocalStore::open(tmp.path()).unwrap();
        write_blob(
            &store,
            "l",
            &blob[..],
            &d,
            CommitOpts::new().with_labels(labels.clone()),
        )
        .unwrap();
    }
    let store = LocalStore::open(tmp.path()).unwrap();
    let info = store.info(&d.digest).unwrap();
    assert_eq!(info.labels, labels);
    let mut n = 0;
    store
        .walk(&[r#"labels."containerd.io/gc.root"==yes"#], &mut |_| {
            n += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(n, 1);
    // Labels live outside blobs/ and ingest/, so an OCI layout's blob tree stays clean.
    assert!(tmp.path().join("labels").is_dir());
    let before = SystemTime::now();
    let updated = store
        .update(
            &Info::for_update(d.digest.clone(), Labels::new()),
            &["labels"],
        )
        .unwrap();
    assert!(updated.labels.is_empty());
    let reopened = LocalStore::open(tmp.path())
        .unwrap()
        .info(&d.digest)
        .unwrap();
    assert!(reopened.labels.is_empty());
    assert!(reopened.updated_at + Duration::from_millis(20) >= before);
}

#[test]
fn walk_skips_what_is_not_a_blob() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(tmp.path()).unwrap();
    write_blob(&store, "w", &b"real"[..], &desc(b"real"), CommitOpts::new()).unwrap();
    let sha = tmp.path().join("blobs/sha256");
    fs::write(sha.join("not-a-digest.tmp"), b"x").unwrap();
    fs::write(sha.join("ABCDEF"), b"x").unwrap();
    fs::create_dir_all(tmp.path().join("blobs/sha256").join("e".repeat(64))).unwrap();
    fs::write(tmp.path().join("blobs/stray-file"), b"x").unwrap();
    let mut seen = Vec::new();
    store
        .walk(&[], &mut |i| {
            seen.push(i.digest);
            Ok(())
        })
        .unwrap();
    assert_eq!(seen, [Digest::sha256(b"real")]);
}

#[test]
fn open_refuses_a_file_as_root() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    fs::write(&file, b"x").unwrap();
    assert!(LocalStore::open(&file).is_err());
}

/// A write large enough to start the background syncs of what was written: dropping the
/// writer releases the ingest's lock at once (no handle outlives it), the ingest resumes with
/// every byte, and the commit holds the whole blob.
#[test]
fn large_writes_release_their_lock_and_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let store = LocalStore::open(tmp.path()).unwrap();
    let blob: Vec<u8> = (0..40u32 << 20).map(|i| (i % 251) as u8).collect();
    let d = desc(&blob);
    let opts = || WriterOpts::new("big").with_descriptor(d.clone());
    let cut = 33 << 20;
    let mut w = store.writer(opts()).unwrap();
    for chunk in blob[..cut].chunks(1 << 20) {
        w.write_all(chunk).unwrap();
    }
    drop(w);
    let mut w = store
        .writer(opts())
        .expect("the lock is free once the writer is dropped");
    assert_eq!(w.status().unwrap().offset, cut as u64);
    for chunk in blob[cut..].chunks(1 << 20) {
        w.write_all(chunk).unwrap();
    }
    w.commit(Some(d.size), Some(&d.digest), CommitOpts::new())
        .unwrap();
    drop(w);
    assert_eq!(read_blob(&store, &d, 1 << 30).unwrap(), blob);
    assert!(matches!(store.writer(opts()), Err(e) if e.is_already_exists()));
}
