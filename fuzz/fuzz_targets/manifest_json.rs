//! `ManifestItem::parse_list` (a docker archive's `manifest.json`): never panics on any bytes;
//! what parses serialises to JSON that parses again to the same items.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_tarfile::ManifestItem;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(items) = ManifestItem::parse_list(bytes) {
        let json = ManifestItem::to_json(&items);
        let again = ManifestItem::parse_list(&json).expect("serialised manifest.json parses");
        assert_eq!(again, items, "serialise round trip");
    }
});
