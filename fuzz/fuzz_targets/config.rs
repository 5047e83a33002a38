//! `Raw::<ConfigFile>::parse`: never panics on any bytes; what parses serialises to JSON that
//! parses again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_types::{ConfigFile, Raw};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(raw) = Raw::<ConfigFile>::parse(bytes) {
        let json = serde_json::to_vec(raw.value()).expect("a parsed config serialises");
        let again = Raw::<ConfigFile>::parse(json).expect("a serialised config parses");
        assert_eq!(again.value(), raw.value(), "serialise round trip");
    }
});
