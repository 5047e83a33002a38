//! `oci_remote::parse_challenges`: never panics; what parses, written back with `Display`,
//! parses again to the same challenges.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_remote::parse_challenges;

fuzz_target!(|s: &str| {
    if let Ok(challenges) = parse_challenges(s) {
        assert!(!challenges.is_empty(), "Ok with no challenge for {s:?}");
        let written = challenges
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let again = parse_challenges(&written).expect("written challenges parse");
        assert_eq!(
            again, challenges,
            "display round trip of {s:?} via {written:?}"
        );
    }
});
