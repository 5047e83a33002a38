//! What a [`crate::Client`] knows of one registry: its base URL (HTTPS, or plain HTTP where
//! allowed), the challenge its `/v2/` endpoint answered with, and the tokens it gave.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::challenge::{parse_challenges, AuthScheme, Challenge};
use crate::credentials::Credential;
use crate::error::{Error, Result, UnauthorizedKind};
use crate::http::{Anonymous, Call, Http};
use crate::options::is_loopback_host;
use crate::token;

/// Per-registry state, shared by every repository handle of one client.
pub(crate) struct RegistryState {
    /// The host as references name it (`docker.io`, `127.0.0.1:5000`).
    pub(crate) host: String,
    /// The host requests go to (`registry-1.docker.io` for Docker Hub).
    api_host: String,
    ping: Mutex<Option<Ping>>,
    tokens: Mutex<HashMap<String, Token>>,
    /// The credential, looked up (a credential helper run) on first use.
    credential: Mutex<Option<Credential>>,
    /// Held while a token is fetched, so that threads wanting the same scopes wait for one
    /// fetch instead of each asking the token server.
    fetching: Mutex<()>,
}

/// The outcome of `GET /v2/`.
#[derive(Debug, Clone)]
pub(crate) struct Ping {
    /// `https://host` or `http://host`.
    pub(crate) base: String,
    /// How the registry asks to authenticate; `None` when `/v2/` answered 200.
    pub(crate) challenge: Option<Challenge>,
}

struct Token {
    value: String,
    renew_at: Instant,
}

impl RegistryState {
    /// The credential of this registry: the keychain's, or its credential helper's answer
    /// (the helper is run once per client and registry).
    pub(crate) fn credential(&self, http: &Http) -> Result<Credential> {
        let mut slot = self
            .credential
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(credential) = slot.as_ref() {
            return Ok(credential.clone());
        }
        let credential = http.options().keychain.resolve(&self.host)?;
        *slot = Some(credential.clone());
        Ok(credential)
    }

    pub(crate) fn new(host: &str) -> RegistryState {
        let api_host = match host {
            "docker.io" | "index.docker.io" => "registry-1.docker.io",
            other => other,
        };
        RegistryState {
            host: host.to_owned(),
            api_host: api_host.to_owned(),
            ping: Mutex::new(None),
            tokens: Mutex::new(HashMap::new()),
            credential: Mutex::new(None),
            fetching: Mutex::new(()),
        }
    }

    /// The base URL and challenge, asking `/v2/` on first use: plain HTTP for a loopback
    /// registry without TLS settings of its own; HTTPS, then plain HTTP after a failed HTTPS
    /// connection, for one where plain HTTP is allowed (loopback with TLS settings, named
    /// insecure, or not verified); HTTPS only for every other. When the plain-HTTP attempt
    /// fails too, the HTTPS error is the one reported: it names the real problem (a
    /// certificate, a refused connection), where a TLS server's answer to plain HTTP does not.
    pub(crate) fn ping(&self, http: &Http) -> Result<Ping> {
        let mut slot = self.ping.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(ping) = slot.as_ref() {
            return Ok(ping.clone());
        }
        let https = format!("https://{}", self.api_host);
        let plain = format!("http://{}", self.api_host);
        let retries = http.options().retries_value().0;
        let ping = if is_loopback_host(&self.api_host) && !http.has_custom_tls(&self.api_host)? {
            // Loopback registries speak plain HTTP, as go-containerregistry assumes; one that
            // answers plain HTTP with something else than a registry (a TLS server's 400) is
            // tried in HTTPS, and its error, naming the certificate problem, is reported.
            match self.ping_at(http, &plain, retries) {
                Ok(ping) => ping,
                Err(plain_error @ Error::NotARegistry { status: 400, .. }) => self
                    .ping_at(http, &https, 0)
                    .map_err(|https_error| match https_error {
                        Error::Transport { .. } => https_error,
                        _ => plain_error,
                    })?,
                Err(e) => return Err(e),
            }
        } else if http.options().allows_plain_http(&self.api_host) {
            // One HTTPS attempt: a plain-HTTP server fails the handshake at once.
            match self.ping_at(http, &https, 0) {
                Ok(ping) => ping,
                Err(https_error @ Error::Transport { .. }) => {
                    match self.ping_at(http, &plain, retries) {
                        Ok(ping) => ping,
                        Err(_) => return Err(https_error),
                    }
                }
                Err(e) => return Err(e),
            }
        } else {
            self.ping_at(http, &https, retries)?
        };
        *slot = Some(ping.clone());
        Ok(ping)
    }

    /// `GET BASE/v2/`, retried `retries` times on a 5xx, 429 or broken connection.
    fn ping_at(&self, http: &Http, base: &str, retries: u32) -> Result<Ping> {
        let url = format!("{base}/v2/");
        let answer = http.send(Call::new("GET", url.clone()).retries(retries), &Anonymous)?;
        let status = answer.status();
        let challenge = match status {
            200..=299 => None,
            401 => {
                let header = answer
                    .response
                    .headers()
                    .get_all("www-authenticate")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect::<Vec<_>>()
                    .join(", ");
                let challenges = parse_challenges(&header)?;
                let pick = challenges
                    .iter()
                    .find(|c| c.scheme == AuthScheme::Bearer)
                    .or_else(|| challenges.iter().find(|c| c.scheme == AuthScheme::Basic))
                    .cloned();
                match pick {
                    Some(c) => Some(c),
                    None => {
                        return Err(Error::Unauthorized {
                            registry: self.host.clone(),
                            kind: UnauthorizedKind::NoSupportedChallenge { header },
                        })
                    }
                }
            }
            _ => return Err(Error::NotARegistry { url, status }),
        };
        // Read the (small) body, so that the connection goes back to the pool for the
        // requests that follow instead of being closed.
        let _ = answer.read_limited("GET", 64 << 10);
        Ok(Ping {
            base: base.to_owned(),
            challenge,
        })
    }

    /// The `Authorization` header for a request needing `scopes`, fetching a token if the
    /// registry wants one and none is cached.
    pub(crate) fn authorization(
        &self,
        http: &Http,
        ping: &Ping,
        scopes: &[String],
    ) -> Result<Option<String>> {
        // A registry that asks for nothing gets nothing: no helper is run for it.
        let Some(challenge) = &ping.challenge else {
            return Ok(None);
        };
        let credential = self.credential(http)?;
        match challenge.scheme {
            AuthScheme::Basic => Ok(credential.basic_header()),
            AuthScheme::Bearer => {
                if let Credential::RegistryToken(token) = &credential {
                    return Ok(Some(format!("Bearer {token}")));
                }
                let key = scopes.join(" ");
                if let Some(cached) = self.cached_token(&key) {
                    return Ok(Some(cached));
                }
                let _fetching = self.fetching.lock().unwrap_or_else(PoisonError::into_inner);
                // Another thread may have fetched it while this one waited.
                if let Some(cached) = self.cached_token(&key) {
                    return Ok(Some(cached));
                }
                let fetched = token::fetch(http, &self.host, challenge, scopes, &credential)?;
                let lifetime = Duration::from_secs(fetched.expires_in.max(60));
                let value = fetched.token;
                self.tokens
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(
                        key,
                        Token {
                            value: value.clone(),
                            // Renew a little before the registry would refuse it.
                            renew_at: Instant::now() + lifetime.mul_f64(0.9),
                        },
                    );
                Ok(Some(format!("Bearer {value}")))
            }
            AuthScheme::Other(_) => Ok(None),
        }
    }

    /// The `Authorization` value of a live cached token for the scope key.
    fn cached_token(&self, key: &str) -> Option<String> {
        let tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        tokens
            .get(key)
            .filter(|t| Instant::now() < t.renew_at)
            .map(|t| format!("Bearer {}", t.value))
    }

    /// Forgets the token for `scopes` (after a 401), so that the next request fetches one.
    pub(crate) fn forget_token(&self, scopes: &[String]) {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&scopes.join(" "));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use super::*;
    use crate::options::Options;

    /// A one-thread HTTP server answering `GET /v2/` with a bearer challenge and
    /// `GET /token?...` with a token, recording the token requests' targets.
    fn fake_registry() -> (String, std::sync::mpsc::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let realm = format!("http://{host}/token");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                reader.read_line(&mut request).unwrap();
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap() > 2 {
                    line.clear();
                }
                let target = request.split(' ').nth(1).unwrap_or("").to_owned();
                let response = if target == "/v2/" {
                    format!(
                        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"{realm}\",service=\"fake\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                } else {
                    tx.send(target).unwrap();
                    let body = r#"{"token":"t0k","expires_in":300}"#;
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                };
                stream.write_all(response.as_bytes()).unwrap();
            }
        });
        (host, rx)
    }

    #[test]
    fn ping_and_token_fetch_need_no_client() {
        let (host, requests) = fake_registry();
        let http = Http::new(Options::default());
        let registry = RegistryState::new(&host);
        let ping = registry.ping(&http).unwrap();
        assert_eq!(ping.base, format!("http://{host}"));
        assert_eq!(ping.challenge.as_ref().unwrap().scheme, AuthScheme::Bearer);
        let scopes = vec!["repository:a/b:pull".to_owned()];
        let auth = registry.authorization(&http, &ping, &scopes).unwrap();
        assert_eq!(auth.as_deref(), Some("Bearer t0k"));
        assert_eq!(
            requests.recv().unwrap(),
            "/token?service=fake&scope=repository%3Aa%2Fb%3Apull"
        );
        // Cached: a second request for the same scopes asks the token server nothing.
        registry.authorization(&http, &ping, &scopes).unwrap();
        assert!(requests.try_recv().is_err());
    }
}
