//! `Platform::from_str`: never panics; normalisation is idempotent and keeps `matches`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_types::Platform;

fuzz_target!(|s: &str| {
    if let Ok(p) = s.parse::<Platform>() {
        let once = p.normalize();
        assert_eq!(
            once.normalize(),
            once,
            "normalize is not idempotent on {s:?}"
        );
        assert!(p.matches(&once), "{s:?} does not match its normal form");
    }
});
