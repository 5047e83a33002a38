//! `oci_copy::ImageName::from_str`: never panics; a parsed name prints to a string that
//! parses back to the same name, and printing that gives the same string.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_copy::ImageName;

fuzz_target!(|s: &str| {
    if let Ok(n) = s.parse::<ImageName>() {
        let printed = n.to_string();
        let again: ImageName = printed.parse().expect("a printed name parses");
        assert_eq!(again, n, "round trip of {s:?} via {printed:?}");
        assert_eq!(again.to_string(), printed);
    }
});
