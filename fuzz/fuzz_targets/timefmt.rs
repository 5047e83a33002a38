//! containerd's timestamp parser (`startedat`/`updatedat` files of an ingest): never panics,
//! and a time it parses, formatted as containerd writes it, parses back to the same instant
//! (when the year stays in Go's 0000-9999, the only years RFC 3339 text can hold).
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_content::fuzzing::{format_time, parse_time};

fuzz_target!(|s: &str| {
    let Some(t) = parse_time(s) else {
        return;
    };
    let written = format_time(t);
    let four_digit_year = written.len() > 4
        && written.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && written.as_bytes()[4] == b'-';
    if four_digit_year {
        assert_eq!(
            parse_time(&written),
            Some(t),
            "{s:?} formats as {written:?}, which does not parse back"
        );
    }
});
