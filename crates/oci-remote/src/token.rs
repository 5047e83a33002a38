//! The bearer token flow of the distribution spec: ask the challenge's `realm` for a token
//! covering the scopes, with the registry's credentials.

use serde::Deserialize;

use crate::challenge::Challenge;
use crate::client::Client;
use crate::credentials::Credential;
use crate::error::{Error, Result};

/// The largest token response read (real ones are a few KiB).
const MAX_TOKEN_RESPONSE: u64 = 1 << 20;

/// A token and how long it lives, in seconds.
pub(crate) struct Fetched {
    pub(crate) token: String,
    pub(crate) expires_in: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Fetches a token from the challenge's realm for `scopes`.
///
/// Basic credentials go as a `GET` with basic auth (what the docker CLI does); an identity
/// token goes as an OAuth2 `POST` with `grant_type=refresh_token`.
pub(crate) fn fetch(
    client: &Client,
    registry: &str,
    challenge: &Challenge,
    scopes: &[String],
    credential: &Credential,
) -> Result<Fetched> {
    let realm = challenge.realm().ok_or_else(|| Error::Unauthorized {
        registry: registry.to_owned(),
        reason: "the Bearer challenge names no realm".to_owned(),
    })?;
    check_realm(client, registry, realm)?;
    let service = challenge.service().unwrap_or("");
    let agent = &client.inner.agent;
    let result = match credential {
        Credential::IdentityToken(refresh) => {
            let scope = scopes.join(" ");
            let mut form = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_id", "ocikit"),
            ];
            if !service.is_empty() {
                form.push(("service", service));
            }
            if !scope.is_empty() {
                form.push(("scope", scope.as_str()));
            }
            agent.post(realm).send_form(form)
        }
        other => {
            let mut request = agent.get(realm);
            if !service.is_empty() {
                request = request.query("service", service);
            }
            for scope in scopes {
                request = request.query("scope", scope);
            }
            if let Some(basic) = other.basic_header() {
                request = request.header("Authorization", basic);
            }
            request.call()
        }
    };
    let mut response = result.map_err(|e| Error::Transport {
        method: "GET",
        url: realm.to_owned(),
        source: Box::new(e),
    })?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_TOKEN_RESPONSE)
        .read_to_vec()
        .map_err(|e| Error::Transport {
            method: "GET",
            url: realm.to_owned(),
            source: Box::new(e),
        })?;
    if status != 200 {
        return Err(Error::Unauthorized {
            registry: registry.to_owned(),
            reason: format!(
                "token server {realm} answered {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)]).trim()
            ),
        });
    }
    let parsed: TokenResponse =
        serde_json::from_slice(&body).map_err(|e| Error::InvalidResponse {
            url: realm.to_owned(),
            reason: format!("token response: {e}"),
        })?;
    let token = parsed
        .token
        .filter(|t| !t.is_empty())
        .or(parsed.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| Error::InvalidResponse {
            url: realm.to_owned(),
            reason: "token response holds neither token nor access_token".to_owned(),
        })?;
    Ok(Fetched {
        token,
        // The spec's default lifetime when none is given.
        expires_in: parsed.expires_in.unwrap_or(60),
    })
}

/// A realm must be HTTPS unless its host is one plain HTTP is allowed for.
fn check_realm(client: &Client, registry: &str, realm: &str) -> Result<()> {
    if realm.starts_with("https://") {
        return Ok(());
    }
    if let Some(rest) = realm.strip_prefix("http://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if client.options().allows_plain_http(host) {
            return Ok(());
        }
        return Err(Error::InsecureRefused {
            registry: host.to_owned(),
        });
    }
    Err(Error::Unauthorized {
        registry: registry.to_owned(),
        reason: format!("the token realm {realm:?} is not an http(s) URL"),
    })
}
