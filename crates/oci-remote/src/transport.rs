//! One request to a registry: base URL, authorization, retries with backoff, and the
//! distribution API's error bodies turned into [`Error::Status`].

use std::io::Read;
use std::thread;

use serde::Deserialize;
use ureq::http::{self, Response};
use ureq::{Body, SendBody};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::registry::RegistryState;

/// The largest error body read to report a failure.
const MAX_ERROR_BODY: u64 = 64 << 10;

/// What a request sends.
pub(crate) enum Payload<'a> {
    /// No body at all (`GET`, `HEAD`, `DELETE`).
    None,
    /// Bytes in memory: the request can be sent again after a 401 or a 5xx.
    Bytes(&'a [u8]),
    /// A stream, with its length when known (else chunked transfer encoding). Sent once:
    /// no retry is possible, so callers authenticate first with a cheaper request.
    Reader(&'a mut (dyn Read + Send), Option<u64>),
}

impl Payload<'_> {
    fn replayable(&self) -> bool {
        !matches!(self, Payload::Reader(..))
    }
}

/// One request: method, path (`/v2/...`) or absolute URL (a `Location` the registry gave),
/// extra headers and the body.
pub(crate) struct Call<'a> {
    pub(crate) method: &'static str,
    pub(crate) url: String,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) payload: Payload<'a>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: &'static str, url: impl Into<String>) -> Call<'a> {
        Call {
            method,
            url: url.into(),
            headers: Vec::new(),
            payload: Payload::None,
        }
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Call<'a> {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn body(mut self, payload: Payload<'a>) -> Call<'a> {
        self.payload = payload;
        self
    }
}

/// The answer to a call: the response and the absolute URL it was sent to (to resolve a
/// relative `Location`).
pub(crate) struct Answer {
    pub(crate) response: Response<Body>,
    pub(crate) url: String,
}

impl Answer {
    pub(crate) fn status(&self) -> u16 {
        self.response.status().as_u16()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
    }

    /// The body as a reader without a size limit (blobs).
    pub(crate) fn into_reader(self) -> impl Read + Send + 'static {
        self.response
            .into_body()
            .into_with_config()
            .limit(u64::MAX)
            .reader()
    }

    /// The body, at most `limit` bytes (manifests, JSON lists); more is an error.
    pub(crate) fn read_limited(mut self, method: &'static str, limit: u64) -> Result<Vec<u8>> {
        let url = self.url.clone();
        self.response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| Error::Transport {
                method,
                url,
                source: Box::new(e),
            })
    }

    /// Consumes a response whose status is not one the caller expected into an error.
    pub(crate) fn into_error(mut self, method: &'static str) -> Error {
        let status = self.status();
        let body = self
            .response
            .body_mut()
            .with_config()
            .limit(MAX_ERROR_BODY)
            .read_to_vec()
            .unwrap_or_default();
        let (code, message) = parse_error_body(&body);
        Error::Status {
            method,
            url: self.url,
            status,
            code,
            message,
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => match parsed.errors.into_iter().next() {
            Some(e) => (e.code, e.message),
            None => (None, None),
        },
        Err(_) if body.is_empty() => (None, None),
        Err(_) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)])
                .trim()
                .to_owned();
            (None, (!text.is_empty()).then_some(text))
        }
    }
}

pub(crate) fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

pub(crate) fn retryable_transport(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::TimedOut
                | std::io::ErrorKind::Interrupted
        ),
        ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => true,
        ureq::Error::Protocol(_) => true,
        _ => false,
    }
}

/// Sends `call` to `registry` with the authorization `scopes` need.
///
/// A 401 fetches a fresh token once and sends again; a 408, 429, 5xx or connection error is
/// retried with exponential backoff as the client allows, except for a `PATCH` (which
/// appends). Both only for replayable bodies: a stream is sent once. Any status comes back as an [`Answer`]; callers decide which
/// statuses are success.
pub(crate) fn send(
    client: &Client,
    registry: &RegistryState,
    scopes: &[String],
    mut call: Call<'_>,
) -> Result<Answer> {
    let ping = registry.ping(client)?;
    let url = if call.url.starts_with("http://") || call.url.starts_with("https://") {
        check_url(client, &call.url)?;
        call.url.clone()
    } else {
        format!("{}{}", ping.base, call.url)
    };
    let (retries, first_backoff) = client.options().retries_value();
    let mut backoff = first_backoff;
    let mut attempt = 0u32;
    let mut reauthenticated = false;
    loop {
        let authorization = registry.authorization(client, &ping, scopes)?;
        let mut builder = http::Request::builder().method(call.method).uri(&url);
        for (name, value) in &call.headers {
            builder = builder.header(*name, value.as_str());
        }
        if let Some(auth) = &authorization {
            builder = builder.header("Authorization", auth.as_str());
        }
        let replayable = call.payload.replayable();
        // A PATCH appends: sent again after a failure midway it would append twice, so it is
        // never retried here (an upload session asks the registry what arrived instead).
        let retry = replayable && call.method != "PATCH";
        let result = match &mut call.payload {
            Payload::None => builder.body(()).map(|r| client.inner.agent.run(r)),
            Payload::Bytes(bytes) => builder.body(*bytes).map(|r| client.inner.agent.run(r)),
            Payload::Reader(reader, len) => {
                if let Some(len) = len {
                    builder = builder.header("Content-Length", len.to_string());
                }
                builder
                    .body(SendBody::from_reader(reader))
                    .map(|r| client.inner.agent.run(r))
            }
        };
        let result = result.map_err(|e| Error::InvalidResponse {
            url: url.clone(),
            reason: format!("cannot build the request: {e}"),
        })?;
        match result {
            Ok(response) => {
                let status = response.status().as_u16();
                if status == 401 && replayable && !reauthenticated && authorization.is_some() {
                    // An expired token, or one without the scope: fetch a new one once.
                    registry.forget_token(scopes);
                    reauthenticated = true;
                    continue;
                }
                if retryable_status(status) && retry && attempt < retries {
                    attempt += 1;
                    thread::sleep(backoff);
                    backoff *= 2;
                    continue;
                }
                if status == 401 || status == 403 {
                    let answer = Answer { response, url };
                    let reason = match answer.into_error(call.method) {
                        Error::Status {
                            status,
                            code,
                            message,
                            ..
                        } => format!(
                            "{status}{}{}",
                            code.map(|c| format!(" {c}")).unwrap_or_default(),
                            message.map(|m| format!(": {m}")).unwrap_or_default()
                        ),
                        other => other.to_string(),
                    };
                    return Err(Error::Unauthorized {
                        registry: registry.host.clone(),
                        reason,
                    });
                }
                return Ok(Answer { response, url });
            }
            Err(e) if retry && attempt < retries && retryable_transport(&e) => {
                attempt += 1;
                thread::sleep(backoff);
                backoff *= 2;
            }
            Err(e) => {
                return Err(Error::Transport {
                    method: call.method,
                    url,
                    source: Box::new(e),
                })
            }
        }
    }
}

/// An absolute URL the registry sent (a `Location`) must not downgrade to plain HTTP on a
/// host where that is not allowed.
fn check_url(client: &Client, url: &str) -> Result<()> {
    if let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if !client.options().allows_plain_http(host) {
            return Err(Error::InsecureRefused {
                registry: host.to_owned(),
            });
        }
    }
    Ok(())
}

/// Percent-encodes a query value (repository names are `[a-z0-9._/-]`; anything else is
/// escaped).
pub(crate) fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_escaping() {
        assert_eq!(query_escape("library/alpine"), "library/alpine");
        assert_eq!(query_escape("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(
            query_escape("application/vnd.example+json"),
            "application/vnd.example%2Bjson"
        );
    }

    #[test]
    fn error_bodies() {
        let body = br#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:ab"}]}"#;
        assert_eq!(
            parse_error_body(body),
            (
                Some("BLOB_UNKNOWN".to_owned()),
                Some("blob unknown to registry".to_owned())
            )
        );
        assert_eq!(parse_error_body(b""), (None, None));
        assert_eq!(
            parse_error_body(b"upstream timed out\n"),
            (None, Some("upstream timed out".to_owned()))
        );
        assert_eq!(parse_error_body(br#"{"errors":[]}"#), (None, None));
    }
}
