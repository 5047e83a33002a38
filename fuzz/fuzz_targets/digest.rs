//! `Digest::from_str`: never panics; what parses prints back to the same digest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_types::Digest;

fuzz_target!(|s: &str| {
    if let Ok(d) = s.parse::<Digest>() {
        let shown = d.to_string();
        let again: Digest = shown.parse().expect("a displayed digest parses");
        assert_eq!(again, d, "display round trip of {s:?}");
    }
});
