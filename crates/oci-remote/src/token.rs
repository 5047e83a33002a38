//! The bearer token flow of the distribution spec: ask the challenge's `realm` for a token
//! covering the scopes, with the registry's credentials.

use serde::Deserialize;

use crate::challenge::Challenge;
use crate::credentials::Credential;
use crate::error::{Error, ResponseKind, Result, UnauthorizedKind};
use crate::http::{Anonymous, Call, Http, Payload};

use oci_types::limits::MAX_TOKEN_RESPONSE;

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

/// Fetches a token from the challenge's realm for `scopes`, through the HTTP layer (the same
/// host policy, TLS settings and retries as every other request).
///
/// Basic credentials go as a `GET` with basic auth (what the docker CLI does); an identity
/// token goes as an OAuth2 `POST` with `grant_type=refresh_token`.
pub(crate) fn fetch(
    http: &Http,
    registry: &str,
    challenge: &Challenge,
    scopes: &[String],
    credential: &Credential,
) -> Result<Fetched> {
    let realm = challenge.realm().ok_or_else(|| Error::Unauthorized {
        registry: registry.to_owned(),
        kind: UnauthorizedKind::NoRealm,
    })?;
    if !(realm.starts_with("https://") || realm.starts_with("http://")) {
        return Err(Error::Unauthorized {
            registry: registry.to_owned(),
            kind: UnauthorizedKind::RealmNotHttp {
                realm: realm.to_owned(),
            },
        });
    }
    let service = challenge.service().unwrap_or("");
    let form;
    let call = match credential {
        Credential::IdentityToken(refresh) => {
            let mut fields = vec![
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", refresh.clone()),
                ("client_id", "ocikit".to_owned()),
            ];
            if !service.is_empty() {
                fields.push(("service", service.to_owned()));
            }
            if !scopes.is_empty() {
                fields.push(("scope", scopes.join(" ")));
            }
            form = encode_query(&fields);
            Call::new("POST", realm)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(Payload::Bytes(form.as_bytes()))
        }
        other => {
            let mut fields = Vec::new();
            if !service.is_empty() {
                fields.push(("service", service.to_owned()));
            }
            for scope in scopes {
                fields.push(("scope", scope.clone()));
            }
            let url = if fields.is_empty() {
                realm.to_owned()
            } else {
                let sep = if realm.contains('?') { '&' } else { '?' };
                format!("{realm}{sep}{}", encode_query(&fields))
            };
            let mut call = Call::new("GET", url);
            if let Some(basic) = other.basic_header() {
                call = call.header("Authorization", basic);
            }
            call
        }
    };
    let answer = http.send(call, &Anonymous)?;
    let status = answer.status();
    let body = answer.read_limited("GET", MAX_TOKEN_RESPONSE)?;
    if status != 200 {
        return Err(Error::Unauthorized {
            registry: registry.to_owned(),
            kind: UnauthorizedKind::TokenRefused {
                realm: realm.to_owned(),
                status,
                body: String::from_utf8_lossy(&body[..body.len().min(200)])
                    .trim()
                    .to_owned(),
            },
        });
    }
    let parsed: TokenResponse =
        serde_json::from_slice(&body).map_err(|e| Error::InvalidResponse {
            url: realm.to_owned(),
            kind: ResponseKind::Json {
                what: "token response",
                message: e.to_string(),
            },
        })?;
    let token = parsed
        .token
        .filter(|t| !t.is_empty())
        .or(parsed.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| Error::InvalidResponse {
            url: realm.to_owned(),
            kind: ResponseKind::NoToken,
        })?;
    Ok(Fetched {
        token,
        // The spec's default lifetime when none is given.
        expires_in: parsed.expires_in.unwrap_or(60),
    })
}

/// `a=1&b=2`, each value percent-encoded.
fn encode_query(fields: &[(&str, String)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{name}={}", query_escape_all(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but unreserved characters (a scope's `:` and `,` too, as Go's
/// `url.Values` does).
fn query_escape_all(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
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
    fn forms_are_encoded() {
        assert_eq!(
            encode_query(&[
                ("service", "reg istry".to_owned()),
                ("scope", "repository:a/b:pull,push".to_owned())
            ]),
            "service=reg%20istry&scope=repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }
}
