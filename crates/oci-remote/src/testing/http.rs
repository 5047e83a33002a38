//! A raw HTTP/1.1 client over `TcpStream`, one request per connection (`Connection: close`),
//! to look at a registry independently of the crate's own client: what a test sees here is
//! what the server sent, byte for byte.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Status, headers (names as sent, in order) and the whole body.
pub type Response = (u16, Vec<(String, String)>, Vec<u8>);

/// How long one read or write may block before the request fails.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// `GET path` on `host` ("127.0.0.1:PORT") with extra `headers`.
///
/// # Panics
/// On a transport error (see [`try_request`]), naming the request.
#[track_caller]
pub fn get(host: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    request(host, "GET", path, headers, b"")
}

/// `METHOD path` on `host` with extra `headers` and `body`.
///
/// # Panics
/// On a transport error (see [`try_request`]), naming the request.
#[track_caller]
pub fn request(
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    match try_request(host, method, path, headers, body) {
        Ok(response) => response,
        Err(e) => panic!("{method} http://{host}{path}: {e}"),
    }
}

/// `METHOD path` on `host` with extra `headers` and `body`: the response, or the transport
/// error (connection refused, reset or closed early; a body shorter than its
/// `Content-Length`, or a chunked body without its last chunk, is `UnexpectedEof`).
///
/// A `Content-Length` is added unless `headers` has one or the request is a `GET`, `HEAD` or
/// `DELETE` without a body. The body of an answer to `HEAD`, and of a 204 or 304, is empty.
pub fn try_request(
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Response> {
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let has_length = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-length"));
    let bodiless = matches!(method, "GET" | "HEAD" | "DELETE") && body.is_empty();
    if !has_length && !bodiless {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw, method == "HEAD")
}

/// The first value of header `name` (any case).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The `Authorization` value for HTTP Basic credentials.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        oci_types::base64::encode(format!("{user}:{password}").as_bytes())
    )
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

fn eof(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, what.to_string())
}

/// Parses a whole response read until the server closed the connection.
fn parse_response(raw: &[u8], head_only: bool) -> io::Result<Response> {
    let end = find(raw, b"\r\n\r\n").ok_or_else(|| eof("connection closed before the headers"))?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| invalid("non-UTF-8 header"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid("bad header line"))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let rest = &raw[end + 4..];
    if head_only || status == 204 || status == 304 {
        return Ok((status, headers, Vec::new()));
    }
    let chunked = header(&headers, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(length) = header(&headers, "content-length") {
        let length: usize = length.parse().map_err(|_| invalid("bad Content-Length"))?;
        if rest.len() < length {
            return Err(eof(&format!(
                "body cut short: {} of {length} bytes",
                rest.len()
            )));
        }
        rest[..length].to_vec()
    } else {
        rest.to_vec()
    };
    Ok((status, headers, body))
}

fn dechunk(mut rest: &[u8]) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = find(rest, b"\r\n").ok_or_else(|| eof("chunked body cut short"))?;
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|_| invalid("chunk"))?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| invalid("chunk size"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if rest.len() < size + 2 {
            return Err(eof("chunked body cut short"));
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined_and_cut_ones_are_eof() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                    5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\n\r\n";
        let (status, headers, body) = parse_response(raw, false).unwrap();
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "TRANSFER-ENCODING"), Some("chunked"));
        assert_eq!(body, b"hello!");
        let cut = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel";
        let error = parse_response(cut, false).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn content_length_bounds_the_body_except_after_head() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        assert_eq!(parse_response(raw, false).unwrap().2, b"abc");
        assert!(parse_response(raw, true).unwrap().2.is_empty());
        let short = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
        let error = parse_response(short, false).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n", false).is_err());
    }

    #[test]
    fn basic_auth_is_base64_of_user_colon_password() {
        assert_eq!(basic_auth("user", "pass"), "Basic dXNlcjpwYXNz");
    }
}
