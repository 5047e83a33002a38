//! Drives a [`LocalStore`] from the command line (used for the throughput measurements):
//!
//! ```text
//! content ingest ROOT FILE          write FILE as a blob (hash, fsync, commit); print its digest
//! content cat ROOT DIGEST           stream the blob to stdout, verifying its digest
//! content copy SRC DST DIGEST       copy a blob between stores (verified by the commit)
//! content rm ROOT DIGEST            delete a blob
//! ```
#![allow(clippy::unwrap_used)] // a measuring tool: any failure should stop it loudly

use std::fs::File;
use std::io::{self, Write};

use oci_content::{
    copy, open_reader, CommitOpts, Ingester, LocalStore, Manager, Writer, WriterOpts,
};
use oci_types::{Descriptor, Digest, MediaType, VerifyingReader};

fn descriptor(store: &LocalStore, digest: &str) -> Descriptor {
    let digest: Digest = digest.parse().unwrap();
    let size = store.info(&digest).unwrap().size;
    Descriptor::new(MediaType::OciLayer, digest, size)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["ingest", root, file] => {
            let store = LocalStore::open(root).unwrap();
            let f = File::open(file).unwrap();
            let size = f.metadata().unwrap().len();
            let mut w = store
                .writer(WriterOpts::new(format!("ingest-{file}")))
                .unwrap();
            copy(w.as_mut(), f, Some(size), None, CommitOpts::new()).unwrap();
            println!("{}", w.digest());
        }
        ["cat", root, digest] => {
            let store = LocalStore::open(root).unwrap();
            let desc = descriptor(&store, digest);
            let r = open_reader(&store, &desc).unwrap();
            let mut v = VerifyingReader::new(r, desc.digest.clone(), Some(desc.size)).unwrap();
            let mut out = io::stdout().lock();
            io::copy(&mut io::BufReader::with_capacity(1 << 20, &mut v), &mut out).unwrap();
            out.flush().unwrap();
        }
        ["copy", src, dst, digest] => {
            let src = LocalStore::open(src).unwrap();
            let dst = LocalStore::open(dst).unwrap();
            let desc = descriptor(&src, digest);
            let r = open_reader(&src, &desc).unwrap();
            let opts = WriterOpts::new(format!("copy-{digest}")).with_descriptor(desc.clone());
            let mut w: Box<dyn Writer> = dst.writer(opts).unwrap();
            copy(
                w.as_mut(),
                r,
                Some(desc.size),
                Some(&desc.digest),
                CommitOpts::new(),
            )
            .unwrap();
        }
        ["rm", root, digest] => {
            let store = LocalStore::open(root).unwrap();
            let digest: Digest = digest.parse().unwrap();
            match store.delete(&digest) {
                Err(e) if !e.is_not_found() => panic!("{e}"),
                _ => {}
            }
        }
        _ => {
            eprintln!("usage: content ingest ROOT FILE | cat ROOT DIGEST | copy SRC DST DIGEST | rm ROOT DIGEST");
            std::process::exit(2);
        }
    }
}
