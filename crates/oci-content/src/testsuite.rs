//! A conformance suite for [`Store`] implementations, in the manner of containerd's
//! `content/testsuite` (feature `testsuite`).
//!
//! Each case is a public function taking a fresh, empty store and panicking on failure;
//! [`run_all`] runs them all, each on a new store from the caller's factory.
//!
//! ```
//! oci_content::testsuite::run_all(oci_content::MemoryStore::new);
//! ```
#![allow(clippy::expect_used)] // a conformance suite: a failed step is a failed test

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, SystemTime};

use oci_types::{Algorithm, Descriptor, Digest, HashingReader, MediaType};

use crate::{
    copy, copy_reader_at, copy_seek, open_writer, read_blob, write_blob, BytesReaderAt, Class,
    CommitOpts, Error, Info, Labels, Result, SectionReader, Store, Writer, WriterOpts,
};

/// A named case of the suite.
pub type Case = (&'static str, fn(&dyn Store));

/// Every case, in order.
pub const CASES: &[Case] = &[
    ("write_and_commit", write_and_commit),
    ("status_updates", status_updates),
    ("commit_exists", commit_exists),
    ("resume_after_drop", resume_after_drop),
    ("resume_truncate", resume_truncate),
    ("resume_discard", resume_discard),
    ("resume_copy", resume_copy),
    ("resume_copy_seek", resume_copy_seek),
    ("resume_copy_reader_at", resume_copy_reader_at),
    ("small_blob", small_blob),
    ("labels", labels),
    ("filters", filters),
    ("commit_error_state", commit_error_state),
    ("two_writers_one_ref", two_writers_one_ref),
    (
        "concurrent_commits_same_digest",
        concurrent_commits_same_digest,
    ),
    ("delete_while_reader_open", delete_while_reader_open),
    ("abort", abort),
    ("embedded_data", embedded_data),
    ("write_blob_skips_existing", write_blob_skips_existing),
    ("read_blob_checks", read_blob_checks),
    ("truncate_partial", truncate_partial),
    ("open_writer_waits", open_writer_waits),
    ("invalid_arguments", invalid_arguments),
    ("other_algorithm", other_algorithm),
    ("copy_hashed", copy_hashed),
];

/// Runs every case of [`CASES`], each on a new store from `make_store`.
pub fn run_all<S: Store>(make_store: impl Fn() -> S) {
    for (name, case) in CASES {
        let store = make_store();
        eprintln!("oci-content testsuite: {name}");
        case(&store);
    }
}

/// Deterministic pseudo-random content of `size` bytes; different seeds give different bytes.
pub fn content(seed: u64, size: usize) -> (Vec<u8>, Digest) {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(size);
    let d = Digest::sha256(&out);
    (out, d)
}

#[track_caller]
fn ok<T>(r: Result<T>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e}"),
    }
}

#[track_caller]
fn class<T: std::fmt::Debug>(r: Result<T>, want: Class, what: &str) -> Error {
    match r {
        Ok(v) => panic!("{what}: expected a {want:?} error, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.class(), want, "{what}: wrong error class for {e}");
            e
        }
    }
}

fn desc(bytes: &[u8]) -> Descriptor {
    Descriptor::of_bytes(MediaType::OciLayer, bytes)
}

fn desc_of(digest: &Digest, size: u64) -> Descriptor {
    Descriptor::new(MediaType::OciLayer, digest.clone(), size)
}

fn open(store: &dyn Store, reference: &str, d: Option<Descriptor>) -> Box<dyn Writer> {
    let opts = WriterOpts {
        reference: reference.to_owned(),
        desc: d,
    };
    ok(store.writer(opts), &format!("open writer {reference:?}"))
}

fn labels_of(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Time stamps must fall in `[before - SLACK, after + SLACK]`; the slack absorbs file systems
/// that store coarser times than the clock.
const SLACK: Duration = Duration::from_millis(20);

#[track_caller]
fn within(t: SystemTime, before: SystemTime, after: SystemTime, what: &str) {
    assert!(
        t + SLACK >= before && t <= after + SLACK,
        "{what}: {t:?} not within [{before:?}, {after:?}]"
    );
}

#[track_caller]
fn check_info(
    store: &dyn Store,
    d: &Digest,
    size: u64,
    labels: &Labels,
    created: (SystemTime, SystemTime),
) -> Info {
    let info = ok(store.info(d), "info");
    assert_eq!(&info.digest, d);
    assert_eq!(info.size, size, "info size of {d}");
    assert_eq!(&info.labels, labels, "labels of {d}");
    within(info.created_at, created.0, created.1, "created_at");
    assert!(
        info.updated_at >= info.created_at,
        "updated_at before created_at"
    );
    let bytes = ok(read_blob(store, &desc_of(d, size), u64::MAX), "read back");
    assert_eq!(Digest::sha256(&bytes), *d, "content read back");
    info
}

/// Writes `bytes` through `w` in chunks of `chunk` bytes.
fn write_chunks(w: &mut dyn Writer, bytes: &[u8], chunk: usize) {
    for part in bytes.chunks(chunk.max(1)) {
        w.write_all(part).expect("write");
    }
}

/// Several writers at once, with and without size and digest, small and large content;
/// commit with labels; info and content afterwards.
pub fn write_and_commit(store: &dyn Store) {
    let gc = labels_of(&[("containerd.io/gc.root", "2024-01-01T00:00:00Z")]);
    let (c1, d1) = content(1, 256);
    let (c2, d2) = content(2, 256);
    let (c3, d3) = content(3, 256);
    let (c4, d4) = content(4, 256);
    let (c5, d5) = content(5, 8 << 20);
    let mut writers = vec![
        (c1.clone(), d1.clone(), open(store, "c1", None)),
        (
            c2.clone(),
            d2.clone(),
            open(store, "c2", Some(desc_of(&Digest::sha256(b"?"), 256))),
        ),
        (
            c3.clone(),
            d3.clone(),
            open(store, "c3", Some(desc_of(&d3, 0))),
        ),
        (c4.clone(), d4.clone(), open(store, "c4", Some(desc(&c4)))),
        (c5.clone(), d5.clone(), open(store, "c5", Some(desc(&c5)))),
    ];
    for (bytes, d, w) in &mut writers {
        write_chunks(
            w.as_mut(),
            bytes,
            if bytes.len() > 4096 { 32 << 10 } else { 32 },
        );
        let pre = SystemTime::now();
        ok(
            w.commit(None, None, CommitOpts::new().with_labels(gc.clone())),
            "commit",
        );
        let post = SystemTime::now();
        assert_eq!(&w.digest(), d, "writer digest after commit");
        check_info(store, d, bytes.len() as u64, &gc, (pre, post));
    }
    assert!(
        ok(store.list_statuses(&[]), "list").is_empty(),
        "ingests left after commits"
    );
}

/// The writer's and the store's status follow every write.
pub fn status_updates(store: &dyn Store) {
    let (c1, d1) = content(10, 256);
    let pre_start = SystemTime::now();
    let mut w = open(store, "c1", Some(desc(&c1)));
    let post_start = SystemTime::now();
    let check = |w: &dyn Writer, offset: u64, pre: SystemTime, post: SystemTime| {
        let st = ok(w.status(), "status");
        assert_eq!(st.reference, "c1");
        assert_eq!(st.offset, offset);
        assert_eq!(st.total, Some(256));
        within(st.started_at, pre_start, post_start, "started_at");
        within(st.updated_at, pre, post, "updated_at");
        assert_eq!(
            w.digest(),
            Digest::sha256(&c1[..offset as usize]),
            "digest at {offset}"
        );
        let from_store = ok(store.status("c1"), "store status");
        assert_eq!(
            (from_store.reference.as_str(), from_store.offset),
            ("c1", offset)
        );
        assert_eq!(from_store.total, Some(256));
    };
    check(w.as_ref(), 0, pre_start, post_start);
    for (from, to) in [(0, 64), (64, 192), (192, 256)] {
        let pre = SystemTime::now();
        w.write_all(&c1[from..to]).expect("write");
        let post = SystemTime::now();
        check(w.as_ref(), to as u64, pre, post);
    }
    let labels = labels_of(&[("a", "b")]);
    let pre = SystemTime::now();
    ok(
        w.commit(
            Some(256),
            Some(&d1),
            CommitOpts::new().with_labels(labels.clone()),
        ),
        "commit",
    );
    check_info(store, &d1, 256, &labels, (pre, SystemTime::now()));
    class(store.status("c1"), Class::NotFound, "status after commit");
}

/// Committing content the store has is `AlreadyExists` and removes the ingest.
pub fn commit_exists(store: &dyn Store) {
    let (c1, d1) = content(20, 256);
    ok(
        write_blob(store, "c1", &c1[..], &desc(&c1), CommitOpts::new()),
        "write_blob",
    );
    for (i, expected) in [Some(&d1), None].into_iter().enumerate() {
        let r = format!("c1-commitexists-{i}");
        let mut w = open(store, &r, None);
        w.write_all(&c1).expect("write");
        class(
            w.commit(Some(256), expected, CommitOpts::new()),
            Class::AlreadyExists,
            "commit",
        );
        class(
            store.status(&r),
            Class::NotFound,
            "ingest after AlreadyExists",
        );
    }
    // A writer naming existing content is refused at once.
    class(
        store
            .writer(WriterOpts::new("again").with_descriptor(desc(&c1)))
            .map(|_| ()),
        Class::AlreadyExists,
        "open",
    );
}

/// Dropping a writer keeps the ingest; a new writer continues it with the same status.
pub fn resume_after_drop(store: &dyn Store) {
    let (cb, d) = content(30, 256);
    let pre_start = SystemTime::now();
    let mut w1 = open(store, "cb", Some(desc(&cb)));
    let post_start = SystemTime::now();
    w1.write_all(&cb[..128]).expect("write");
    let st1 = ok(w1.status(), "status");
    drop(w1);

    let mut w2 = open(store, "cb", Some(desc(&cb)));
    let st2 = ok(w2.status(), "status after resume");
    assert_eq!((st2.offset, st2.total), (128, Some(256)));
    assert_eq!(w2.digest(), Digest::sha256(&cb[..128]), "re-hashed prefix");
    within(st2.started_at, pre_start, post_start, "started_at kept");
    within(
        st2.started_at,
        st1.started_at,
        st1.started_at,
        "started_at kept exactly",
    );
    w2.write_all(&cb[128..]).expect("write");
    assert_eq!(w2.digest(), d);
    let pre = SystemTime::now();
    ok(w2.commit(None, None, CommitOpts::new()), "commit");
    ok(w2.close(), "close after commit");
    check_info(store, &d, 256, &Labels::new(), (pre, SystemTime::now()));
}

type Resume = fn(&mut dyn Writer, &[u8], u64, &Digest) -> Result<()>;

fn check_resume(store: &dyn Store, resume: Resume) {
    for (i, size) in [500usize, 5000, 50_000].into_iter().enumerate() {
        for (j, frac) in [0.0, 0.1, 0.5, 0.9, 1.0].into_iter().enumerate() {
            let (b, d) = content(100 + (i * 10 + j) as u64, size);
            let limit = (size as f64 * frac) as usize;
            let r = format!("ref-{i}-{j}");
            let mut w = open(store, &r, Some(desc(&b)));
            w.write_all(&b[..limit]).expect("write");
            ok(w.close(), "close");
            let mut w = open(store, &r, Some(desc(&b)));
            assert_eq!(
                ok(w.status(), "status").offset,
                limit as u64,
                "{r}: offset after reopen"
            );
            let pre = SystemTime::now();
            ok(
                resume(w.as_mut(), &b, size as u64, &d),
                &format!("{r}: resume"),
            );
            ok(w.close(), "close");
            check_info(
                store,
                &d,
                size as u64,
                &Labels::new(),
                (pre, SystemTime::now()),
            );
        }
    }
}

/// Resume by truncating to 0 and writing everything again.
pub fn resume_truncate(store: &dyn Store) {
    check_resume(store, |w, b, size, d| {
        w.truncate(0)?;
        assert_eq!(w.digest(), Digest::sha256(b""));
        write_chunks(w, b, 1024);
        w.commit(Some(size), Some(d), CommitOpts::new())
    });
}

/// Resume by writing the rest from the writer's offset.
pub fn resume_discard(store: &dyn Store) {
    check_resume(store, |w, b, size, d| {
        let off = w.status()?.offset as usize;
        write_chunks(w, &b[off..], 1024);
        w.commit(Some(size), Some(d), CommitOpts::new())
    });
}

/// A source that can only be read (no seeking).
struct ReadOnly<'a>(&'a [u8]);

impl Read for ReadOnly<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// Resume with [`copy`] from a plain reader (the prefix is read and dropped).
pub fn resume_copy(store: &dyn Store) {
    check_resume(store, |w, b, size, d| {
        copy(w, ReadOnly(b), Some(size), Some(d), CommitOpts::new())
    });
}

/// A seekable source that fails if read before it was seeked when that was needed.
struct MustSeek<'a> {
    inner: io::Cursor<&'a [u8]>,
    needs_seek: bool,
}

impl Read for MustSeek<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.needs_seek {
            return Err(io::Error::other(
                "read before seeking to the writer's offset",
            ));
        }
        self.inner.read(buf)
    }
}

impl Seek for MustSeek<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.needs_seek = false;
        self.inner.seek(to)
    }
}

/// Resume with [`copy_seek`]: the source is seeked to the offset, not read.
pub fn resume_copy_seek(store: &dyn Store) {
    check_resume(store, |w, b, size, d| {
        let needs_seek = w.status()?.offset > 0;
        copy_seek(
            w,
            MustSeek {
                inner: io::Cursor::new(b),
                needs_seek,
            },
            Some(size),
            Some(d),
            CommitOpts::new(),
        )
    });
}

/// Resume with [`copy_reader_at`] from the writer's offset, then commit.
pub fn resume_copy_reader_at(store: &dyn Store) {
    check_resume(store, |w, b, size, d| {
        copy_reader_at(w, &BytesReaderAt::new(b.to_vec()), size)?;
        w.commit(Some(size), Some(d), CommitOpts::new())
    });
}

/// A blob smaller than the read buffer reads back whole, and reads past its end stop.
pub fn small_blob(store: &dyn Store) {
    let blob = b"foobar";
    let d = desc(blob);
    let mut w = open(store, "small", Some(d.clone()));
    w.write_all(blob).expect("write");
    ok(
        w.commit(Some(6), Some(&d.digest), CommitOpts::new()),
        "commit",
    );
    let ra = ok(store.reader_at(&d), "reader_at");
    assert_eq!(ra.size(), 6);
    let mut out = Vec::new();
    SectionReader::section(&ra, 0, 7)
        .read_to_end(&mut out)
        .expect("read");
    assert_eq!(out, blob);
    let mut buf = [0u8; 16];
    assert_eq!(ra.read_at(&mut buf, 4).expect("read_at"), 2);
    assert_eq!(&buf[..2], b"ar");
    assert_eq!(ra.read_at(&mut buf, 6).expect("read_at at end"), 0);
}

/// Labels set at commit, replaced, and changed one by one; only labels are mutable.
pub fn labels(store: &dyn Store) {
    let (c1, d1) = content(40, 256);
    let mut w = open(store, "c1-labels", Some(desc(&c1)));
    w.write_all(&c1).expect("write");
    let mut labels = labels_of(&[("k1", "v1"), ("k2", "v2"), ("containerd.io/gc.root", "now")]);
    let pre = SystemTime::now();
    ok(
        w.commit(None, None, CommitOpts::new().with_labels(labels.clone())),
        "commit",
    );
    let created = (pre, SystemTime::now());
    check_info(store, &d1, 256, &labels, created);

    labels.insert("k1".into(), "newvalue".into());
    labels.remove("k2");
    labels.insert("k3".into(), "v3".into());
    let pre = SystemTime::now();
    let info = ok(
        store.update(&Info::for_update(d1.clone(), labels.clone()), &[]),
        "update",
    );
    let post = SystemTime::now();
    assert_eq!(info.labels, labels);
    let got = check_info(store, &d1, 256, &labels, created);
    within(got.updated_at, pre, post, "updated_at after update");

    let partial = labels_of(&[("k1", "v1"), ("containerd.io/gc.root", "now")]);
    let info = ok(
        store.update(
            &Info::for_update(d1.clone(), partial),
            &["labels.k3", "labels.k1"],
        ),
        "update",
    );
    let want = labels_of(&[("k1", "v1"), ("containerd.io/gc.root", "now")]);
    assert_eq!(info.labels, want, "labels.k3 removed, labels.k1 set");
    check_info(store, &d1, 256, &want, created);

    let bad = Info::for_update(d1.clone(), Labels::new());
    class(
        store.update(&bad, &["size"]),
        Class::InvalidArgument,
        "update of size",
    );
    class(
        store.update(&bad, &["digest"]),
        Class::InvalidArgument,
        "update of digest",
    );
    let missing = Info::for_update(Digest::sha256(b"missing"), Labels::new());
    class(
        store.update(&missing, &[]),
        Class::NotFound,
        "update of a missing blob",
    );
    let huge = Info::for_update(d1.clone(), labels_of(&[("k", &"v".repeat(5000))]));
    class(
        store.update(&huge, &[]),
        Class::InvalidArgument,
        "oversized label",
    );
    check_info(store, &d1, 256, &want, created);
}

fn walk_digests(store: &dyn Store, filters: &[&str]) -> Vec<Digest> {
    let mut out = Vec::new();
    ok(
        store.walk(filters, &mut |i| {
            out.push(i.digest);
            Ok(())
        }),
        &format!("walk {filters:?}"),
    );
    out.sort();
    out
}

fn sorted(mut v: Vec<Digest>) -> Vec<Digest> {
    v.sort();
    v
}

/// `walk` and `list_statuses` with containerd filters.
pub fn filters(store: &dyn Store) {
    let specs: [(u64, &[(&str, &str)]); 3] = [
        (50, &[("k1", "v1"), ("containerd.io/gc.root", "x")]),
        (51, &[("k1", "v2"), ("team", "a b")]),
        (52, &[]),
    ];
    let mut ds = Vec::new();
    for (seed, labels) in specs {
        let (c, d) = content(seed, 100 + seed as usize);
        let opts = CommitOpts::new().with_labels(labels_of(labels));
        ok(
            write_blob(store, &format!("f{seed}"), &c[..], &desc(&c), opts),
            "write_blob",
        );
        ds.push(d);
    }
    let (d0, d1, d2) = (ds[0].clone(), ds[1].clone(), ds[2].clone());
    assert_eq!(walk_digests(store, &[]), sorted(ds.clone()));
    assert_eq!(walk_digests(store, &[""]), sorted(ds.clone()));
    assert_eq!(
        walk_digests(store, &["labels.k1==v1"]),
        std::slice::from_ref(&d0)
    );
    assert_eq!(
        walk_digests(store, &["labels.k1"]),
        sorted(vec![d0.clone(), d1.clone()])
    );
    assert_eq!(
        walk_digests(store, &["labels.k1!=v1"]),
        sorted(vec![d1.clone(), d2.clone()])
    );
    assert_eq!(
        walk_digests(store, &[r#"labels."containerd.io/gc.root""#]),
        std::slice::from_ref(&d0)
    );
    assert_eq!(
        walk_digests(store, &[r#"labels.team=="a b""#]),
        std::slice::from_ref(&d1)
    );
    assert_eq!(
        walk_digests(store, &["labels.k1==v1", "labels.team"]),
        sorted(vec![d0.clone(), d1.clone()])
    );
    assert_eq!(
        walk_digests(store, &["labels.k1~=^v[12]$,labels.team"]),
        std::slice::from_ref(&d1)
    );
    assert_eq!(
        walk_digests(store, &[&format!("digest=={d2}")]),
        std::slice::from_ref(&d2)
    );
    assert_eq!(
        walk_digests(store, &["digest~=/^sha256:/"]),
        sorted(ds.clone())
    );
    assert_eq!(
        walk_digests(store, &["size==152"]),
        std::slice::from_ref(&d2)
    );
    class(
        store.walk(&["labels.k1=="], &mut |_| Ok(())),
        Class::InvalidArgument,
        "bad filter",
    );
    // The callback's error stops the walk and comes back.
    let mut calls = 0;
    let r = store.walk(&[], &mut |_| {
        calls += 1;
        Err(Error::invalid(
            "test",
            crate::InvalidArgumentKind::Other("stop".into()),
        ))
    });
    class(r, Class::InvalidArgument, "callback error");
    assert_eq!(calls, 1, "walk went on after an error");

    let mut w1 = open(store, "pre-one", None);
    w1.write_all(b"x").expect("write");
    let _w2 = open(store, "pre-two", None);
    let _w3 = open(store, "other", None);
    let refs = |f: &[&str]| {
        let mut v: Vec<String> = ok(store.list_statuses(f), "list")
            .into_iter()
            .map(|s| s.reference)
            .collect();
        v.sort();
        v
    };
    assert_eq!(refs(&[]), ["other", "pre-one", "pre-two"]);
    assert_eq!(refs(&["ref==other"]), ["other"]);
    assert_eq!(refs(&["ref~=^pre-"]), ["pre-one", "pre-two"]);
    assert_eq!(refs(&["ref==other", "ref==pre-two"]), ["other", "pre-two"]);
    class(
        store.list_statuses(&["ref=="]),
        Class::InvalidArgument,
        "bad filter",
    );
}

/// containerd's commit error states: locked refs, wrong digest, wrong size, exists, and the
/// ingest surviving each failure.
pub fn commit_error_state(store: &dyn Store) {
    let (c1, d1) = content(60, 256);
    let (_, d2) = content(61, 256);
    ok(
        write_blob(store, "c1", &c1[..], &desc(&c1), CommitOpts::new()),
        "write_blob",
    );
    let r = "c1-commiterror-state";
    let locked = || {
        class(
            store.writer(WriterOpts::new(r)).map(|_| ()),
            Class::Unavailable,
            "second writer",
        )
    };

    let mut w = open(store, r, None);
    w.write_all(&c1).expect("write");
    locked();
    class(
        w.commit(Some(256), Some(&d1), CommitOpts::new()),
        Class::AlreadyExists,
        "exists",
    );

    let mut w = open(store, r, None);
    locked();
    w.write_all(&c1).expect("write");
    class(
        w.commit(Some(256), None, CommitOpts::new()),
        Class::AlreadyExists,
        "exists, no digest",
    );

    let mut w = open(store, r, None);
    locked();
    let mut more = c1.clone();
    more.extend_from_slice(b"more");
    w.write_all(&more).expect("write");
    let e = class(
        w.commit(Some(260), Some(&d2), CommitOpts::new()),
        Class::FailedPrecondition,
        "wrong digest",
    );
    assert!(e.to_string().contains(d2.as_str()), "{e}");
    class(
        w.commit(Some(260), None, CommitOpts::new()),
        Class::FailedPrecondition,
        "commit after failed commit",
    );
    drop(w);
    class(store.info(&d2), Class::NotFound, "nothing committed");

    let mut w = open(store, r, None);
    locked();
    assert_eq!(
        ok(w.status(), "status").offset,
        260,
        "ingest kept after failed commit"
    );
    class(
        w.commit(Some(256), None, CommitOpts::new()),
        Class::FailedPrecondition,
        "wrong size",
    );
    drop(w);

    let mut w = open(store, r, None);
    locked();
    ok(
        w.commit(Some(260), None, CommitOpts::new()),
        "commit of what is there",
    );
    check_info(
        store,
        &Digest::sha256(&more),
        260,
        &Labels::new(),
        (SystemTime::UNIX_EPOCH, SystemTime::now()),
    );
    drop(w);

    let mut w = open(store, r, None);
    assert_eq!(
        ok(w.status(), "status").offset,
        0,
        "a new ingest after commit"
    );
    w.write_all(&c1).expect("write");
    locked();
    class(
        w.commit(Some(256), Some(&d1), CommitOpts::new()),
        Class::AlreadyExists,
        "exists",
    );

    let mut w = open(store, r, None);
    locked();
    ok(w.truncate(0), "truncate");
    ok(w.close(), "close");
    let mut w = open(store, r, None);
    ok(w.truncate(0), "truncate");
    ok(w.close(), "close");
    ok(w.close(), "second close");
    assert!(w.write_all(b"x").is_err(), "write after close");
}

/// One writer per ref: a second gets `Unavailable` until the first is gone.
pub fn two_writers_one_ref(store: &dyn Store) {
    let mut w1 = open(store, "shared", None);
    w1.write_all(b"abc").expect("write");
    class(
        store.writer(WriterOpts::new("shared")).map(|_| ()),
        Class::Unavailable,
        "second writer",
    );
    class(
        store.abort("shared"),
        Class::Unavailable,
        "abort of a held ref",
    );
    let _other = open(store, "unrelated", None);
    drop(w1);
    let w2 = open(store, "shared", None);
    assert_eq!(ok(w2.status(), "status").offset, 3);
}

/// Racing commits of the same content under different refs: one wins, the others get
/// `AlreadyExists`, and the blob is whole.
pub fn concurrent_commits_same_digest(store: &dyn Store) {
    const N: usize = 6;
    let (c, d) = content(70, 1 << 20);
    let barrier = Barrier::new(N);
    let results: Vec<Result<()>> = thread::scope(|s| {
        let handles: Vec<_> = (0..N)
            .map(|i| {
                let (c, d, barrier) = (&c, &d, &barrier);
                s.spawn(move || {
                    let mut w = open(store, &format!("race-{i}"), None);
                    write_chunks(w.as_mut(), c, 64 << 10);
                    barrier.wait();
                    w.commit(Some(c.len() as u64), Some(d), CommitOpts::new())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let wins = results.iter().filter(|r| r.is_ok()).count();
    for r in &results {
        if let Err(e) = r {
            assert!(e.is_already_exists(), "loser got {e}");
        }
    }
    assert_eq!(wins, 1, "exactly one commit wins");
    check_info(
        store,
        &d,
        c.len() as u64,
        &Labels::new(),
        (SystemTime::UNIX_EPOCH, SystemTime::now()),
    );
    assert!(
        ok(store.list_statuses(&[]), "list").is_empty(),
        "ingests left after the race"
    );
}

/// A reader opened before a delete keeps reading; the store forgets the blob.
pub fn delete_while_reader_open(store: &dyn Store) {
    let (c, d) = content(80, 300_000);
    ok(
        write_blob(
            store,
            "del",
            &c[..],
            &desc(&c),
            CommitOpts::new().with_labels(labels_of(&[("a", "b")])),
        ),
        "write_blob",
    );
    let ra = ok(store.reader_at(&desc(&c)), "reader_at");
    ok(store.delete(&d), "delete");
    class(store.info(&d), Class::NotFound, "info after delete");
    class(
        store.reader_at(&desc(&c)).map(|_| ()),
        Class::NotFound,
        "reader_at after delete",
    );
    class(store.delete(&d), Class::NotFound, "second delete");
    assert!(walk_digests(store, &[]).is_empty());
    let mut out = Vec::new();
    SectionReader::new(&ra)
        .read_to_end(&mut out)
        .expect("read after delete");
    assert_eq!(Digest::sha256(&out), d);
    // Written again, it comes back without the old labels.
    ok(
        write_blob(store, "del", &c[..], &desc(&c), CommitOpts::new()),
        "write_blob again",
    );
    assert!(
        ok(store.info(&d), "info").labels.is_empty(),
        "labels outlived delete"
    );
}

/// Abort removes an ingest; a writer of the ref then starts from zero.
pub fn abort(store: &dyn Store) {
    class(
        store.abort("nothing"),
        Class::NotFound,
        "abort of an unknown ref",
    );
    let mut w = open(store, "ab", None);
    w.write_all(b"partial").expect("write");
    ok(w.close(), "close");
    assert_eq!(ok(store.status("ab"), "status").offset, 7);
    assert_eq!(ok(store.list_statuses(&[]), "list").len(), 1);
    ok(store.abort("ab"), "abort");
    class(store.status("ab"), Class::NotFound, "status after abort");
    class(store.abort("ab"), Class::NotFound, "second abort");
    assert!(ok(store.list_statuses(&[]), "list").is_empty());
    let w = open(store, "ab", None);
    assert_eq!(ok(w.status(), "status").offset, 0);
    assert_eq!(w.digest(), Digest::sha256(b""));
}

/// Embedded descriptor data is served without the store; data that does not match is not.
pub fn embedded_data(store: &dyn Store) {
    let d = Descriptor::of_bytes(MediaType::OciEmpty, b"{}").with_data(b"{}");
    let ra = ok(store.reader_at(&d), "reader_at of embedded data");
    assert_eq!(ra.size(), 2);
    assert_eq!(ok(read_blob(store, &d, 10), "read_blob"), b"{}");
    let wrong = Descriptor::of_bytes(MediaType::OciEmpty, b"{}").with_data(b"[]");
    class(
        store.reader_at(&wrong).map(|_| ()),
        Class::NotFound,
        "mismatching data ignored",
    );
    let mut bad = Descriptor::of_bytes(MediaType::OciEmpty, b"{}");
    bad.data = Some("!!!!".into());
    class(
        read_blob(store, &bad, 10),
        Class::InvalidArgument,
        "invalid base64",
    );
}

/// `write_blob` reads nothing when the blob exists, and checks what it reads otherwise.
pub fn write_blob_skips_existing(store: &dyn Store) {
    struct Refuse;
    impl Read for Refuse {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("must not be read"))
        }
    }
    let (c, _) = content(90, 1000);
    ok(
        write_blob(store, "wb", &c[..], &desc(&c), CommitOpts::new()),
        "write_blob",
    );
    ok(
        write_blob(store, "wb", Refuse, &desc(&c), CommitOpts::new()),
        "write_blob of an existing blob",
    );
    let (other, od) = content(91, 1000);
    let r = write_blob(store, "wb2", &c[..], &desc(&other), CommitOpts::new());
    class(
        r,
        Class::FailedPrecondition,
        "write_blob of the wrong content",
    );
    class(store.info(&od), Class::NotFound, "nothing committed");
    let r = write_blob(
        store,
        "wb3",
        &other[..500],
        &desc(&other),
        CommitOpts::new(),
    );
    class(r, Class::FailedPrecondition, "write_blob of short content");
}

/// `read_blob` enforces its limit and checks size and digest.
pub fn read_blob_checks(store: &dyn Store) {
    let (c, d) = content(95, 4096);
    ok(
        write_blob(store, "rb", &c[..], &desc(&c), CommitOpts::new()),
        "write_blob",
    );
    let e = class(
        read_blob(store, &desc(&c), 4095),
        Class::Unknown,
        "over the limit",
    );
    assert!(
        matches!(
            e,
            Error::TooLarge {
                size: 4096,
                limit: 4095,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(ok(read_blob(store, &desc(&c), 4096), "at the limit"), c);
    class(
        read_blob(store, &desc_of(&d, 4000), 1 << 20),
        Class::FailedPrecondition,
        "wrong size",
    );
}

/// `truncate` to a non-zero size keeps the prefix and its hash.
pub fn truncate_partial(store: &dyn Store) {
    let (c, d) = content(96, 100);
    let mut w = open(store, "tr", None);
    w.write_all(&c[..70]).expect("write");
    ok(w.truncate(40), "truncate");
    assert_eq!(ok(w.status(), "status").offset, 40);
    assert_eq!(w.digest(), Digest::sha256(&c[..40]));
    class(
        w.truncate(41),
        Class::InvalidArgument,
        "truncate past the end",
    );
    w.write_all(&c[40..]).expect("write");
    ok(w.commit(Some(100), Some(&d), CommitOpts::new()), "commit");
    class(
        w.truncate(0),
        Class::FailedPrecondition,
        "truncate after commit",
    );
}

/// `open_writer` waits for a held ref and gives up at its deadline.
pub fn open_writer_waits(store: &dyn Store) {
    let w1 = open(store, "wait", None);
    let e = class(
        open_writer(store, WriterOpts::new("wait"), Duration::from_millis(150)).map(|_| ()),
        Class::Unavailable,
        "timeout",
    );
    drop(e);
    let started = std::time::Instant::now();
    thread::scope(|s| {
        s.spawn(move || {
            thread::sleep(Duration::from_millis(100));
            drop(w1);
        });
        let w2 = ok(
            open_writer(store, WriterOpts::new("wait"), Duration::from_secs(10)),
            "open_writer",
        );
        assert!(
            started.elapsed() >= Duration::from_millis(90),
            "did not wait"
        );
        drop(w2);
    });
}

/// Malformed requests and missing objects get the right classes.
pub fn invalid_arguments(store: &dyn Store) {
    class(
        store.writer(WriterOpts::new("")).map(|_| ()),
        Class::InvalidArgument,
        "empty ref",
    );
    let missing = Digest::sha256(b"nope");
    class(store.info(&missing), Class::NotFound, "info");
    class(store.delete(&missing), Class::NotFound, "delete");
    class(store.status("nope"), Class::NotFound, "status");
    let mut w = open(store, "closed", None);
    w.write_all(b"abc").expect("write");
    ok(w.commit(None, None, CommitOpts::new()), "commit");
    assert!(w.write_all(b"more").is_err(), "write after commit");
    assert_eq!(w.digest(), Digest::sha256(b"abc"), "digest after commit");
    class(
        w.commit(None, None, CommitOpts::new()),
        Class::FailedPrecondition,
        "second commit",
    );
    let mut w = open(store, "labels", None);
    w.write_all(b"l").expect("write");
    let bad = CommitOpts::new().with_labels(labels_of(&[("", "v")]));
    class(
        w.commit(None, None, bad),
        Class::InvalidArgument,
        "empty label key",
    );
}

/// Content committed with a SHA-512 digest, by a writer opened without one.
pub fn other_algorithm(store: &dyn Store) {
    let (c, _) = content(97, 3000);
    let d512 = Digest::compute(&Algorithm::Sha512, &c).expect("sha512");
    let mut w = open(store, "512", None);
    w.write_all(&c).expect("write");
    ok(
        w.commit(Some(3000), Some(&d512), CommitOpts::new()),
        "commit",
    );
    assert_eq!(w.digest(), d512);
    assert_eq!(ok(store.info(&d512), "info").size, 3000);
    assert_eq!(
        ok(read_blob(store, &desc_of(&d512, 3000), 1 << 20), "read"),
        c
    );
    // And a writer that knows the algorithm from its descriptor hashes with it directly.
    let (c2, _) = content(98, 10);
    let d2 = Digest::compute(&Algorithm::Sha512, &c2).expect("sha512");
    let mut w = open(store, "512b", Some(desc_of(&d2, 10)));
    w.write_all(&c2).expect("write");
    assert_eq!(w.digest(), d2);
    ok(w.commit(Some(10), Some(&d2), CommitOpts::new()), "commit");
}

/// A hashing reader over `bytes`, as a layer's stream comes.
fn hashing(bytes: &[u8]) -> HashingReader<Box<dyn Read + Send>> {
    HashingReader::new(Box::new(io::Cursor::new(bytes.to_vec())))
}

/// A reader that hands out `good` bytes of `bytes`, then fails.
struct FailsAfter {
    inner: io::Cursor<Vec<u8>>,
    good: u64,
}

impl Read for FailsAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.good.saturating_sub(self.inner.position());
        if left == 0 {
            return Err(io::Error::other("source cut"));
        }
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        self.inner.read(&mut buf[..n])
    }
}

/// [`Writer::copy_hashed`]: whatever the writer does with the reader's digest, the blob it
/// commits is the bytes copied, under their digest; an ingest resumed, a reader already read
/// from, more bytes written after the copy, a wrong expected digest and a source that fails
/// midway all end as a plain copy would.
pub fn copy_hashed(store: &dyn Store) {
    let (c, d) = content(401, 3 << 20);
    let size = c.len() as u64;

    // Fresh ingest: the copy is the blob.
    let mut w = open(store, "ch-fresh", None);
    let mut r = hashing(&c);
    assert_eq!(ok(w.copy_hashed(&mut r), "copy_hashed"), size);
    assert_eq!(w.digest(), d, "digest after copy_hashed");
    assert_eq!(ok(w.status(), "status").offset, size);
    let before = SystemTime::now();
    ok(w.commit(Some(size), Some(&d), CommitOpts::new()), "commit");
    check_info(store, &d, size, &Labels::new(), (before, SystemTime::now()));

    // Resumed ingest: copied after what it has.
    let (c2, d2) = content(402, 2 << 20);
    let mut w = open(store, "ch-resume", Some(desc(&c2)));
    write_chunks(w.as_mut(), &c2[..1000], 100);
    drop(w);
    let mut w = open(store, "ch-resume", Some(desc(&c2)));
    assert_eq!(ok(w.status(), "status").offset, 1000);
    ok(
        w.copy_hashed(&mut hashing(&c2[1000..])),
        "copy_hashed after resume",
    );
    assert_eq!(w.digest(), d2, "digest of a resumed copy");
    ok(
        w.commit(Some(c2.len() as u64), Some(&d2), CommitOpts::new()),
        "commit",
    );

    // A reader already read from, into an empty ingest: its digest covers bytes the writer
    // never saw, so the blob is the rest under the rest's digest.
    let (c3, _) = content(403, 100_000);
    let mut r = hashing(&c3);
    r.read_exact(&mut [0u8; 500]).expect("read");
    let mut w = open(store, "ch-read", None);
    ok(w.copy_hashed(&mut r), "copy_hashed of a read reader");
    let rest = Digest::sha256(&c3[500..]);
    assert_eq!(w.digest(), rest, "digest of what was written");
    ok(
        w.commit(Some(c3.len() as u64 - 500), Some(&rest), CommitOpts::new()),
        "commit",
    );

    // More written after the copy; then a wrong expected digest names both.
    let (c4, d4) = content(404, 200_000);
    let mut w = open(store, "ch-more", None);
    ok(w.copy_hashed(&mut hashing(&c4[..150_000])), "copy_hashed");
    write_chunks(w.as_mut(), &c4[150_000..], 7_000);
    assert_eq!(w.digest(), d4, "digest after writing past a copy");
    let e = class(
        w.commit(Some(c4.len() as u64), Some(&d), CommitOpts::new()),
        Class::FailedPrecondition,
        "commit against another digest",
    );
    let msg = e.to_string();
    assert!(
        msg.contains(d.encoded()) && msg.contains(d4.encoded()),
        "{msg}"
    );
    assert!(!ok(
        store
            .info(&d4)
            .map(|_| true)
            .or_else(|e| if e.is_not_found() { Ok(false) } else { Err(e) }),
        "info"
    ));

    // A source that fails midway: the error is the source's, and the ingest resumes with
    // the right digest of what it kept.
    let (c5, d5) = content(405, 1 << 20);
    let cut = 300_000;
    let mut w = open(store, "ch-cut", None);
    let mut r: HashingReader<Box<dyn Read + Send>> = HashingReader::new(Box::new(FailsAfter {
        inner: io::Cursor::new(c5.clone()),
        good: cut,
    }));
    let e = class(
        w.copy_hashed(&mut r),
        Class::Unknown,
        "copy of a failing source",
    );
    assert!(e.to_string().contains("source cut"), "{e}");
    drop(w);
    let mut w = open(store, "ch-cut", None);
    // What the writer kept (all it got, or less when it buffers) hashes to its digest.
    let kept = ok(w.status(), "status").offset;
    assert!(kept <= cut, "kept {kept} of {cut} bytes");
    assert_eq!(w.digest(), Digest::sha256(&c5[..kept as usize]));
    ok(
        copy(
            w.as_mut(),
            &c5[..],
            Some(c5.len() as u64),
            Some(&d5),
            CommitOpts::new(),
        ),
        "resume",
    );
    check_info(
        store,
        &d5,
        c5.len() as u64,
        &Labels::new(),
        (SystemTime::UNIX_EPOCH, SystemTime::now()),
    );
}
