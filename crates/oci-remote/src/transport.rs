//! One request to one registry: its base URL (from the ping), the authorization its scopes
//! need (basic, or a bearer token), sent through the HTTP layer; a refused authorization
//! becomes [`Error::Unauthorized`].

use crate::error::{Error, Result, UnauthorizedKind};
use crate::http::{Answer, Authorizer, Call, Http};
use crate::registry::{Ping, RegistryState};

/// The authorization of requests to one registry for one set of scopes.
struct Scoped<'a> {
    http: &'a Http,
    registry: &'a RegistryState,
    ping: &'a Ping,
    scopes: &'a [String],
}

impl Authorizer for Scoped<'_> {
    fn authorization(&self) -> Result<Option<String>> {
        self.registry
            .authorization(self.http, self.ping, self.scopes)
    }

    fn refused(&self) -> bool {
        self.registry.forget_token(self.scopes);
        true
    }
}

/// Sends `call` (a `/v2/...` path, or an absolute URL the registry gave) to `registry` with
/// the authorization `scopes` need. A 401 or 403 that survives one fresh token is
/// [`Error::Unauthorized`]; any other status comes back as an [`Answer`].
pub(crate) fn send(
    http: &Http,
    registry: &RegistryState,
    scopes: &[String],
    mut call: Call<'_>,
) -> Result<Answer> {
    let ping = registry.ping(http)?;
    if !(call.url.starts_with("http://") || call.url.starts_with("https://")) {
        call.url = format!("{}{}", ping.base, call.url);
    }
    let method = call.method;
    let answer = http.send(
        call,
        &Scoped {
            http,
            registry,
            ping: &ping,
            scopes,
        },
    )?;
    let status = answer.status();
    if status == 401 || status == 403 {
        return Err(match answer.into_error(method) {
            Error::Status {
                status,
                code,
                message,
                ..
            } => Error::Unauthorized {
                registry: registry.host.clone(),
                kind: UnauthorizedKind::Refused {
                    status,
                    code,
                    message,
                },
            },
            other => other,
        });
    }
    Ok(answer)
}
