//! `Reference::from_str`: never panics; the full and the familiar form both re-parse to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_types::Reference;

fuzz_target!(|s: &str| {
    if let Ok(r) = s.parse::<Reference>() {
        let full = r.to_string();
        let again: Reference = full.parse().expect("a displayed reference parses");
        assert_eq!(again, r, "display round trip of {s:?} via {full:?}");
        let short = r.familiar();
        let again: Reference = short.parse().expect("a familiar reference parses");
        assert_eq!(again, r, "familiar round trip of {s:?} via {short:?}");
    }
});
