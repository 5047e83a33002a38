//! The HTTP layer: one request to an absolute URL through the agent of its host's TLS
//! settings, the host policy enforced, an [`Authorizer`] asked for the `Authorization`
//! header, the one retry loop (backoff on 408/429/5xx and broken connections, one fresh
//! authorization after a 401), and the distribution API's error bodies turned into
//! [`Error::Status`]. Knows nothing of registries, pings or tokens.

use std::io::Read;
use std::thread;

use serde::Deserialize;
use ureq::http::{self, Response};
use ureq::{Body, SendBody};

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::error::{Error, ResponseKind, Result};
use crate::options::Options;
use crate::tls;

use oci_types::limits::MAX_ERROR_BODY;

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
    /// How many retries instead of the options' number.
    pub(crate) retries: Option<u32>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: &'static str, url: impl Into<String>) -> Call<'a> {
        Call {
            method,
            url: url.into(),
            headers: Vec::new(),
            payload: Payload::None,
            retries: None,
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

    /// Retries this call `retries` times at most, whatever the options say.
    pub(crate) fn retries(mut self, retries: u32) -> Call<'a> {
        self.retries = Some(retries);
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

fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

fn retryable_transport(e: &ureq::Error) -> bool {
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

/// How a request is authorized: the header to send, and what to do when it is refused.
pub(crate) trait Authorizer {
    /// The `Authorization` header for the next attempt, if any.
    fn authorization(&self) -> Result<Option<String>>;
    /// The server answered 401 to a request that carried `authorization`: forget it. `true`
    /// when sending again with a fresh one may help.
    fn refused(&self) -> bool {
        false
    }
}

/// No authorization at all (a ping, a token server with the credentials in the call's headers).
pub(crate) struct Anonymous;

impl Authorizer for Anonymous {
    fn authorization(&self) -> Result<Option<String>> {
        Ok(None)
    }
}

/// The one HTTP layer: agents (one per TLS setting, made on first use of a host), the host
/// policy, and the only retry loop of the crate.
pub(crate) struct Http {
    options: Options,
    plain: ureq::Agent,
    agents: Mutex<HashMap<String, ureq::Agent>>,
}

impl Http {
    pub(crate) fn new(options: Options) -> Http {
        let plain = agent(&options, None);
        Http {
            options,
            plain,
            agents: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn options(&self) -> &Options {
        &self.options
    }

    /// Whether `host` has TLS settings of its own (no verification, its own CAs, a client
    /// certificate).
    pub(crate) fn has_custom_tls(&self, host: &str) -> Result<bool> {
        Ok(tls::for_host(&self.options, host)?.is_custom())
    }

    /// The agent for `host`: the shared one, or one with the host's TLS settings.
    fn agent_for(&self, host: &str) -> Result<ureq::Agent> {
        let mut agents = self.agents.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(agent) = agents.get(host) {
            return Ok(agent.clone());
        }
        let settings = tls::for_host(&self.options, host)?;
        let made = if settings.is_custom() {
            agent(&self.options, Some(settings.config()))
        } else {
            self.plain.clone()
        };
        agents.insert(host.to_owned(), made.clone());
        Ok(made)
    }

    /// Sends `call` (an absolute URL) with the authorization `auth` gives.
    ///
    /// A 401 to an authorized request asks `auth` for a fresh one once and sends again; a
    /// 408, 429, 5xx or connection error is retried with exponential backoff as the options
    /// allow (or `call.retries`), except for a `PATCH` (which appends). Both only for
    /// replayable bodies: a stream is sent once. Any status comes back as an [`Answer`];
    /// callers decide which statuses are success. A plain `http://` URL to a host that must
    /// speak HTTPS is refused before anything is sent.
    pub(crate) fn send(&self, mut call: Call<'_>, auth: &dyn Authorizer) -> Result<Answer> {
        let url = call.url.clone();
        let host = check_url(&self.options, &url)?;
        let agent = self.agent_for(&host)?;
        let (retries, first_backoff) = self.options.retries_value();
        let retries = call.retries.unwrap_or(retries);
        let mut backoff = first_backoff;
        let mut attempt = 0u32;
        let mut reauthenticated = false;
        loop {
            let authorization = auth.authorization()?;
            let mut builder = http::Request::builder().method(call.method).uri(&url);
            for (name, value) in &call.headers {
                builder = builder.header(*name, value.as_str());
            }
            if let Some(authorization) = &authorization {
                builder = builder.header("Authorization", authorization.as_str());
            }
            let replayable = call.payload.replayable();
            // A PATCH appends: sent again after a failure midway it would append twice, so
            // it is never retried here (an upload session asks the registry what arrived).
            let retry = replayable && call.method != "PATCH";
            let result = match &mut call.payload {
                Payload::None => builder.body(()).map(|r| agent.run(r)),
                Payload::Bytes(bytes) => builder.body(*bytes).map(|r| agent.run(r)),
                Payload::Reader(reader, len) => {
                    if let Some(len) = len {
                        builder = builder.header("Content-Length", len.to_string());
                    }
                    builder
                        .body(SendBody::from_reader(reader))
                        .map(|r| agent.run(r))
                }
            };
            let result = result.map_err(|e| Error::InvalidResponse {
                url: url.clone(),
                kind: ResponseKind::BuildRequest(e.to_string()),
            })?;
            match result {
                Ok(response) => {
                    let status = response.status().as_u16();
                    if status == 401
                        && replayable
                        && !reauthenticated
                        && authorization.is_some()
                        && auth.refused()
                    {
                        // An expired token, or one without the scope: a new one, once.
                        reauthenticated = true;
                        continue;
                    }
                    if retryable_status(status) && retry && attempt < retries {
                        attempt += 1;
                        thread::sleep(backoff);
                        backoff *= 2;
                        continue;
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
}

/// An agent with the options' timeouts and `tls` (the default, Mozilla's roots, if `None`).
fn agent(options: &Options, tls: Option<ureq::tls::TlsConfig>) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(10)
        .user_agent(options.user_agent.as_str())
        .timeout_connect(Some(options.connect_timeout))
        .max_idle_connections_per_host(options.jobs.max(4) * 2);
    if let Some(tls) = tls {
        config = config.tls_config(tls);
    }
    config.build().into()
}

/// The `host[:port]` of an absolute URL, refusing plain HTTP where the options do not allow
/// it (a `Location` or token realm must not downgrade a registry) and schemes other than
/// HTTP(S).
fn check_url(options: &Options, url: &str) -> Result<String> {
    let (plain, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (true, rest)
    } else {
        return Err(Error::InvalidResponse {
            url: url.to_owned(),
            kind: ResponseKind::NotHttpUrl,
        });
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if plain && !options.allows_plain_http(host) {
        return Err(Error::InsecureRefused {
            registry: host.to_owned(),
        });
    }
    Ok(host.to_owned())
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
