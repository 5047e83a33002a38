//! Standard base64 (RFC 4648 section 4, padded), for descriptor `data` and docker
//! `config.json` auths, through the `base64` crate's strict standard engine.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Encodes `bytes` as padded standard base64.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes padded standard base64; `None` for anything malformed (wrong length, bad
/// characters, misplaced or missing padding, non-zero trailing bits).
pub fn decode(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes()), enc);
            assert_eq!(decode(enc).unwrap(), plain.as_bytes());
        }
        for bad in [
            "Zg=", "Z===", "Zg==Zg==", "Zh==", "Zm9v!A==", "====", "Zg", "Zm9v\n",
        ] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(decode(&encode(&bytes)), Some(bytes));
        }
    }
}
