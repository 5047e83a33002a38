//! `Raw::<Manifest>::parse`: never panics on any bytes; what parses serialises to JSON that
//! parses again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_types::{Manifest, Raw};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(raw) = Raw::<Manifest>::parse(bytes) {
        let json = serde_json::to_vec(raw.value()).expect("a parsed manifest serialises");
        let again = Raw::<Manifest>::parse(json).expect("a serialised manifest parses");
        assert_eq!(again.value(), raw.value(), "serialise round trip");
    }
});
