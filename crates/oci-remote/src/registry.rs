//! What a [`crate::Client`] knows of one registry: its base URL (HTTPS, or plain HTTP where
//! allowed), the challenge its `/v2/` endpoint answered with, and the tokens it gave.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::challenge::{parse_challenges, AuthScheme, Challenge};
use crate::client::{is_loopback_host, Client};
use crate::credentials::Credential;
use crate::error::{Error, Result};
use crate::token;
use crate::transport;

/// Per-registry state, shared by every repository handle of one client.
pub(crate) struct RegistryState {
    /// The host as references name it (`docker.io`, `127.0.0.1:5000`).
    pub(crate) host: String,
    /// The host requests go to (`registry-1.docker.io` for Docker Hub).
    api_host: String,
    allow_http: bool,
    ping: Mutex<Option<Ping>>,
    tokens: Mutex<HashMap<String, Token>>,
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
    pub(crate) fn new(host: &str, allow_http: bool) -> RegistryState {
        let api_host = match host {
            "docker.io" | "index.docker.io" => "registry-1.docker.io",
            other => other,
        };
        RegistryState {
            host: host.to_owned(),
            api_host: api_host.to_owned(),
            allow_http,
            ping: Mutex::new(None),
            tokens: Mutex::new(HashMap::new()),
            fetching: Mutex::new(()),
        }
    }

    /// The base URL and challenge, asking `/v2/` on first use: plain HTTP for a loopback
    /// registry; HTTPS, then plain HTTP after a failed HTTPS connection, for one allowed with
    /// `insecure`; HTTPS only for every other.
    pub(crate) fn ping(&self, client: &Client) -> Result<Ping> {
        let mut slot = self.ping.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(ping) = slot.as_ref() {
            return Ok(ping.clone());
        }
        let https = format!("https://{}", self.api_host);
        let retries = client.options().retries_value().0;
        let ping = if is_loopback_host(&self.api_host) {
            // Loopback registries speak plain HTTP, as go-containerregistry assumes.
            self.ping_at(client, &format!("http://{}", self.api_host), retries)?
        } else if self.allow_http {
            // One HTTPS attempt: a plain-HTTP server fails the handshake at once.
            match self.ping_at(client, &https, 0) {
                Ok(ping) => ping,
                Err(Error::Transport { .. }) => {
                    self.ping_at(client, &format!("http://{}", self.api_host), retries)?
                }
                Err(e) => return Err(e),
            }
        } else {
            self.ping_at(client, &https, retries)?
        };
        *slot = Some(ping.clone());
        Ok(ping)
    }

    /// `GET BASE/v2/`, retried `retries` times on a 5xx, 429 or broken connection.
    fn ping_at(&self, client: &Client, base: &str, retries: u32) -> Result<Ping> {
        let url = format!("{base}/v2/");
        let mut backoff = client.options().retries_value().1;
        let mut attempt = 0;
        let response = loop {
            let result = client.inner.agent.get(&url).call();
            let again = match &result {
                Ok(r) => transport::retryable_status(r.status().as_u16()),
                Err(e) => transport::retryable_transport(e),
            };
            if again && attempt < retries {
                attempt += 1;
                std::thread::sleep(backoff);
                backoff *= 2;
                continue;
            }
            break result.map_err(|e| Error::Transport {
                method: "GET",
                url: url.clone(),
                source: Box::new(e),
            })?;
        };
        let status = response.status().as_u16();
        let challenge = match status {
            200..=299 => None,
            401 => {
                let header = response
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
                            reason: format!(
                                "no Basic or Bearer challenge in WWW-Authenticate {header:?}"
                            ),
                        })
                    }
                }
            }
            _ => {
                return Err(Error::InvalidResponse {
                    url,
                    reason: format!("GET /v2/ answered {status}: not a registry"),
                })
            }
        };
        Ok(Ping {
            base: base.to_owned(),
            challenge,
        })
    }

    /// The `Authorization` header for a request needing `scopes`, fetching a token if the
    /// registry wants one and none is cached.
    pub(crate) fn authorization(
        &self,
        client: &Client,
        ping: &Ping,
        scopes: &[String],
    ) -> Result<Option<String>> {
        let credential = client.options().keychain_ref().get(&self.host);
        let Some(challenge) = &ping.challenge else {
            return Ok(None);
        };
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
                let fetched = token::fetch(client, &self.host, challenge, scopes, &credential)?;
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
