//! `oci_remote`'s `Link` header parser (`next_link`) and the resolution of its target
//! against the URL asked (`resolve`): never panic; a `next` target is a piece of the header;
//! a resolved target is absolute, so resolving it again keeps it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_remote::fuzzing::{next_link, resolve};

const BASE: &str = "https://reg.example:5000/v2/foo/tags/list?n=2";

fuzz_target!(|s: &str| {
    let Ok(Some(target)) = next_link(s) else { return };
    assert!(s.contains(&target), "{target:?} is not in {s:?}");
    let resolved = resolve(BASE, &target);
    assert_eq!(
        resolve(BASE, &resolved),
        resolved,
        "{target:?} resolved to {resolved:?}, which does not resolve to itself"
    );
});
