//! Unquoting of quoted fields and values (Go string-literal escapes, with `"`, `/` or `|` as
//! the quote), after containerd's `pkg/filters/quote.go`; and the quoting [`Display`] uses.
//!
//! [`Display`]: std::fmt::Display
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

/// Decodes a quoted literal including its quotes. `None` on a syntax error, or when escapes
/// produce bytes that are not UTF-8 (Go would keep such bytes; Rust strings cannot).
pub(super) fn unquote(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let (&quote, rest) = b.split_first()?;
    let (&last, inner) = rest.split_last()?;
    if quote != last || !matches!(quote, b'"' | b'/' | b'|') {
        return None;
    }
    let inner_str = s.get(1..s.len() - 1)?;
    if inner.contains(&b'\n') {
        return None;
    }
    if !inner.contains(&b'\\') && !inner.contains(&quote) {
        return Some(inner_str.to_owned());
    }
    let mut out: Vec<u8> = Vec::with_capacity(inner.len());
    let mut chars = inner_str;
    while !chars.is_empty() {
        let (bytes, tail) = unquote_char(chars, quote)?;
        out.extend_from_slice(&bytes);
        chars = tail;
    }
    String::from_utf8(out).ok()
}

/// One character or escape of `s`: its bytes, and the rest of `s`.
fn unquote_char(s: &str, quote: u8) -> Option<(Vec<u8>, &str)> {
    let c = s.chars().next()?;
    if c as u32 == u32::from(quote) {
        return None;
    }
    if c != '\\' {
        let n = c.len_utf8();
        return Some((s.as_bytes().get(..n)?.to_vec(), s.get(n..)?));
    }
    let b = s.as_bytes();
    let esc = *b.get(1)?;
    let rest = b.get(2..)?;
    let simple = |v: u8| Some((vec![v], s.get(2..)?));
    match esc {
        b'a' => simple(0x07),
        b'b' => simple(0x08),
        b'f' => simple(0x0c),
        b'n' => simple(b'\n'),
        b'r' => simple(b'\r'),
        b't' => simple(b'\t'),
        b'v' => simple(0x0b),
        b'\\' => simple(b'\\'),
        b'"' | b'/' | b'|' if esc == quote => simple(esc),
        b'x' | b'u' | b'U' => {
            let n = match esc {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let hex = rest.get(..n)?;
            let mut v: u32 = 0;
            for h in hex {
                v = v << 4 | char::from(*h).to_digit(16)?;
            }
            let tail = s.get(2 + n..)?;
            if esc == b'x' {
                // A single byte, possibly not UTF-8 on its own.
                return Some((vec![u8::try_from(v).ok()?], tail));
            }
            if v > 0x10FFFF {
                return None;
            }
            // Go encodes surrogate halves as U+FFFD.
            let ch = char::from_u32(v).unwrap_or('\u{FFFD}');
            Some((ch.to_string().into_bytes(), tail))
        }
        b'0'..=b'7' => {
            let digits = rest.get(..2)?;
            let mut v = u32::from(esc - b'0');
            for d in digits {
                if !(b'0'..=b'7').contains(d) {
                    return None;
                }
                v = v << 3 | u32::from(d - b'0');
            }
            let byte = u8::try_from(v).ok()?;
            Some((vec![byte], s.get(4..)?))
        }
        _ => None,
    }
}

/// Writes `s` as a `"`-quoted literal that [`unquote`] (and containerd) read back as `s`.
pub(super) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || c == '\u{FFFD}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // tests index what they just asserted
    use super::*;

    #[test]
    fn unquotes_go_escapes() {
        assert_eq!(unquote(r#""plain""#).as_deref(), Some("plain"));
        assert_eq!(unquote(r#""a\"b\\c""#).as_deref(), Some("a\"b\\c"));
        assert_eq!(
            unquote(r#""\x41\101\u00e9\U0001F600\n""#).as_deref(),
            Some("AAé😀\n")
        );
        assert_eq!(unquote(r"/a\/b/").as_deref(), Some("a/b"));
        assert_eq!(unquote(r"|a\|b|").as_deref(), Some("a|b"));
        assert_eq!(unquote(r#""\ud800""#).as_deref(), Some("\u{FFFD}"));
        for bad in [
            r#""a"#,
            r#""\/""#,
            r#""\q""#,
            r#""\777""#,
            r#""\xff""#,
            "\"a\nb\"",
            r#"'a'"#,
            "\"",
        ] {
            assert_eq!(unquote(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn quote_round_trips() {
        for s in [
            "",
            "a b",
            "q\"\\",
            "\n\t\r\x01\x7f",
            "\u{85}\u{FFFD}é",
            "\0",
        ] {
            assert_eq!(unquote(&quote(s)).as_deref(), Some(s), "{s:?}");
        }
    }
}
