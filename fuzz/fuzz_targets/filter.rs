//! `oci_content::filters::Filter::parse` (containerd's filter syntax): never panics, never
//! allocates without bound (regular expressions are size-limited); whatever parses prints as
//! a string that parses to the same filter, and matching never panics.
#![no_main]

use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use oci_content::filters::Filter;
use oci_content::{Info, Labels, Status};
use oci_types::Digest;

fuzz_target!(|s: &str| {
    let Ok(f) = Filter::parse(s) else { return };
    let text = f.to_string();
    let again = Filter::parse(&text).unwrap_or_else(|e| panic!("{s:?} printed as {text:?}: {e}"));
    assert_eq!(again, f, "{s:?} printed as {text:?}");

    let mut labels = Labels::new();
    labels.insert("a".into(), "b".into());
    labels.insert("containerd.io/gc.root".into(), "x y".into());
    let info = Info::for_update(Digest::sha256(s.as_bytes()), labels);
    let status = Status {
        reference: s.to_owned(),
        offset: 1,
        total: None,
        expected: None,
        started_at: SystemTime::UNIX_EPOCH,
        updated_at: SystemTime::UNIX_EPOCH,
    };
    let _ = f.matches(&info);
    let _ = f.matches(&status);
});
