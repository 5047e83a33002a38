//! Compatibility with containerd itself: a private `containerd` (root, state and sockets in a
//! temporary directory) and `ctr content`, sharing its content directory with a
//! [`LocalStore`].
//!
//! Runs when `containerd` and `ctr` are installed. Without them it fails under `CI=true` and
//! says it skipped otherwise.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use oci_content::{
    copy_seek, read_blob, write_blob, CommitOpts, IngestManager, Ingester, LocalStore, Manager,
    WriterOpts,
};
use oci_types::{Descriptor, Digest, MediaType};

use crate::daemon::{self, Daemon};
use crate::pattern::Pattern;

fn write_file(path: &Path, mut src: impl Read) {
    let mut f = fs::File::create(path).unwrap();
    std::io::copy(&mut src, &mut f).unwrap();
}

fn layer(p: &Pattern, size: u64) -> Descriptor {
    Descriptor::new(MediaType::OciLayer, p.digest(), size)
}

#[test]
fn containerd_and_local_store_share_a_content_directory() {
    let Some((containerd, ctr)) = daemon::tools() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut daemon = Daemon::start(&containerd, &ctr, tmp.path(), false);
    let store = LocalStore::open(&daemon.content_root).unwrap();

    // 1. A blob ctr ingested is read by LocalStore, digest verified.
    let a = Pattern::new(1, 3 << 20);
    let a_desc = layer(&a, 3 << 20);
    let a_file = tmp.path().join("a");
    write_file(&a_file, a.clone());
    daemon.ctr_ok_from(&["content", "ingest", "blob-a"], &a_file);
    let info = store.info(&a_desc.digest).unwrap();
    assert_eq!(info.size, 3 << 20);
    assert_eq!(read_blob(&store, &a_desc, 16 << 20).unwrap(), a.to_vec());
    let mut walked = Vec::new();
    store
        .walk(&[], &mut |i| {
            walked.push(i.digest);
            Ok(())
        })
        .unwrap();
    assert_eq!(walked, std::slice::from_ref(&a_desc.digest));

    // 2. A blob we commit is served by containerd. containerd's metadata database learns of
    // blobs already in its content store through an ingest naming the digest (its "shared
    // content" path), which takes the writer's offset as the whole blob and reads nothing:
    // stdin here is a decoy of zeros, so `content get` can only return our bytes.
    let b = Pattern::new(2, 200_000);
    let b_desc = layer(&b, 200_000);
    write_blob(&store, "ours-b", b.clone(), &b_desc, CommitOpts::new()).unwrap();
    let decoy = tmp.path().join("decoy");
    write_file(&decoy, std::io::repeat(0).take(200_000));
    let size = b_desc.size.to_string();
    daemon.ctr_ok_from(
        &[
            "content",
            "ingest",
            "--expected-size",
            &size,
            "--expected-digest",
            b_desc.digest.as_str(),
            "blob-b",
        ],
        &decoy,
    );
    let listed = String::from_utf8(daemon.ctr_ok(&["content", "ls", "-q"]).stdout).unwrap();
    assert!(
        listed.lines().any(|l| l.trim() == b_desc.digest.as_str()),
        "ctr content ls:\n{listed}"
    );
    let got = daemon
        .ctr_ok(&["content", "get", b_desc.digest.as_str()])
        .stdout;
    assert_eq!(
        Digest::sha256(&got),
        b_desc.digest,
        "ctr content get returned other bytes"
    );

    // 3. An ingest we leave unfinished is resumed by containerd. containerd names its backend
    // ingest NAMESPACE/SEQUENCE/REF; a new ref's sequence is 1. The file given to ctr starts
    // with zeros where our part is, so only a resume (which needs containerd to accept our
    // `ref`, `startedat`, `updatedat` and `total`, and then seeks past our part) commits the
    // right blob; had containerd started over, its digest check would fail. (`ctr content
    // active` cannot show the ingest before this: it lists containerd's database, not disk.)
    let c = Pattern::new(3, 5 << 20);
    let c_desc = layer(&c, 5 << 20);
    let ours = 2 << 20;
    let mut w = store
        .writer(WriterOpts::new("default/1/blob-c").with_descriptor(c_desc.clone()))
        .unwrap();
    std::io::copy(&mut c.clone().take(ours), &mut w).unwrap();
    drop(w);
    let c_file = tmp.path().join("c");
    write_file(
        &c_file,
        std::io::repeat(0).take(ours).chain({
            let mut rest = c.clone();
            std::io::Seek::seek(&mut rest, std::io::SeekFrom::Start(ours)).unwrap();
            rest
        }),
    );
    let size = c_desc.size.to_string();
    daemon.ctr_ok_from(
        &[
            "content",
            "ingest",
            "--expected-size",
            &size,
            "--expected-digest",
            c_desc.digest.as_str(),
            "blob-c",
        ],
        &c_file,
    );
    assert_eq!(read_blob(&store, &c_desc, 16 << 20).unwrap(), c.to_vec());
    assert!(store.status("default/1/blob-c").unwrap_err().is_not_found());

    // 4. An ingest ctr leaves when killed midway is resumed by LocalStore.
    let e = Pattern::new(4, 6 << 20);
    let e_desc = layer(&e, 6 << 20);
    let mut ingest = daemon
        .command(&["content", "ingest", "blob-e"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = ingest.stdin.take().unwrap();
    std::io::copy(&mut e.clone().take(3 << 20), &mut pipe).unwrap();
    pipe.flush().unwrap();
    let backend_ref = "default/1/blob-e";
    let deadline = Instant::now() + Duration::from_secs(30);
    let offset = loop {
        // containerd sends 1 MiB chunks: wait until two have landed.
        if let Ok(st) = store.status(backend_ref) {
            if st.offset >= 2 << 20 {
                break st.offset;
            }
        }
        assert!(Instant::now() < deadline, "ctr's ingest did not progress");
        thread::sleep(Duration::from_millis(20));
    };
    ingest.kill().unwrap();
    let _ = ingest.wait();
    drop(pipe);
    // Stop containerd too, so nothing else touches the ingest (containerd does not lock it).
    daemon.stop();
    let st = store.status(backend_ref).unwrap();
    assert!(
        st.offset >= offset && st.offset <= 3 << 20,
        "offset {}",
        st.offset
    );
    let mut w = store
        .writer(WriterOpts::new(backend_ref).with_descriptor(e_desc.clone()))
        .unwrap();
    assert_eq!(w.status().unwrap().offset, st.offset);
    assert_eq!(w.digest(), e.digest_of_prefix(st.offset));
    copy_seek(
        w.as_mut(),
        e.clone(),
        Some(e_desc.size),
        Some(&e_desc.digest),
        CommitOpts::new(),
    )
    .unwrap();
    assert_eq!(read_blob(&store, &e_desc, 16 << 20).unwrap(), e.to_vec());
}
