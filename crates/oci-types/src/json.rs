//! Bounded JSON parsing for untrusted documents.
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use serde::de::DeserializeOwned;

use crate::limits::MAX_JSON_DEPTH;
use crate::Error;

/// Parses `bytes` as JSON into `T` after checking its size against `limit` and its nesting
/// depth against [`MAX_JSON_DEPTH`]. `what` names the document in errors.
pub fn parse_limited<T: DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
    limit: u64,
) -> Result<T, Error> {
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            what,
            size: bytes.len() as u64,
            limit,
        });
    }
    check_depth(bytes, what)?;
    serde_json::from_slice(bytes).map_err(|e| Error::Json {
        what,
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// Fails when arrays/objects in `bytes` nest deeper than [`MAX_JSON_DEPTH`]. Strings are
/// skipped (brackets inside them do not count); malformed JSON is left for the parser.
fn check_depth(bytes: &[u8], what: &'static str) -> Result<(), Error> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(Error::TooDeep {
                        what,
                        limit: MAX_JSON_DEPTH,
                        offset,
                    });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // tests index what they just asserted
    use super::*;

    #[test]
    fn limits() {
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH + 1),
            "]".repeat(MAX_JSON_DEPTH + 1)
        );
        assert!(matches!(
            parse_limited::<serde_json::Value>(deep.as_bytes(), "t", 1 << 20),
            Err(Error::TooDeep { .. })
        ));
        let ok = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH),
            "]".repeat(MAX_JSON_DEPTH)
        );
        assert!(parse_limited::<serde_json::Value>(ok.as_bytes(), "t", 1 << 20).is_ok());
        let in_string = format!("\"{}\"", "[".repeat(1000));
        assert!(parse_limited::<serde_json::Value>(in_string.as_bytes(), "t", 1 << 20).is_ok());
        assert!(matches!(
            parse_limited::<serde_json::Value>(b"[1,2]", "t", 3),
            Err(Error::TooLarge {
                size: 5,
                limit: 3,
                ..
            })
        ));
        let err = parse_limited::<serde_json::Value>(b"{\n  x", "manifest", 100).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Json {
                    what: "manifest",
                    line: 2,
                    ..
                }
            ),
            "{err}"
        );
    }
}
