//! [`Client`]: the top of the HTTP stack, one [`Http`] layer (agents, host policy, retries)
//! and the state of each registry it has spoken to.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::credentials::Keychain;
use crate::http::Http;
use crate::options::Options;
use crate::registry::RegistryState;

/// How a [`Client`] behaves; built by [`Client::builder`].
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    options: Options,
}

impl ClientBuilder {
    /// The credentials to use, by registry host (anonymous where there are none).
    pub fn keychain(mut self, keychain: Keychain) -> Self {
        self.options.keychain = keychain;
        self
    }

    /// Allows plain HTTP to `host[:port]` although it is not a loopback address (HTTPS is
    /// tried first). A host without a port allows every port of it, as docker's
    /// `insecure-registries` does. Loopback registries (`localhost`, `127.0.0.0/8`, `[::1]`)
    /// are spoken to in plain HTTP; every other registry must speak HTTPS unless named here
    /// or in [`ClientBuilder::skip_tls_verify`].
    pub fn insecure(mut self, host: impl Into<String>) -> Self {
        self.options.insecure.push(host.into());
        self
    }

    /// Whether certificates are verified (default `true`). `false` is skopeo's
    /// `--tls-verify=false` for every registry: certificates are not checked, and plain HTTP
    /// is allowed after a failed HTTPS connection.
    pub fn tls_verify(mut self, verify: bool) -> Self {
        self.options.tls.verify = verify;
        self
    }

    /// Does not verify the certificate of `host[:port]` (a host without a port: every port),
    /// and allows plain HTTP to it after a failed HTTPS connection.
    pub fn skip_tls_verify(mut self, host: impl Into<String>) -> Self {
        self.options.tls.skip_verify.push(host.into());
        self
    }

    /// Trusts the CA certificates of a PEM file for every registry. A registry with CA
    /// certificates of its own (here, in a cert dir or in `certs.d`) is verified against them
    /// instead of the built-in (Mozilla) roots.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.options.tls.ca_files.push(path.into());
        self
    }

    /// Reads certificates for every registry from `dir` (skopeo's `--cert-dir`): CA
    /// certificates `*.crt`, a client certificate `*.cert` with its key `*.key`. Replaces the
    /// `certs.d` directories.
    pub fn cert_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.options.tls.cert_dir = Some(dir.into());
        self
    }

    /// The `certs.d` roots to read: each holds a directory per `host[:port]` (or `host`, for
    /// every port) laid out as a cert dir. Default [`crate::DEFAULT_CERTS_D`], podman's and
    /// docker's; an empty list reads none.
    pub fn certs_d(mut self, roots: Vec<PathBuf>) -> Self {
        self.options.tls.certs_d = roots;
        self
    }

    /// How many blobs one image operation moves at once (at least 1; default
    /// [`crate::DEFAULT_JOBS`]).
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.options.jobs = jobs.max(1);
        self
    }

    /// The size of one `PATCH` of a chunked upload (at least 64 KiB; default
    /// [`crate::DEFAULT_CHUNK_SIZE`]). A chunk is held in memory until the registry accepted it, so
    /// that a cut-off chunk can be sent again; up to three chunks are in memory at once (one sent,
    /// one queued, one being read).
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.options.chunk_size = bytes.max(64 << 10);
        self
    }

    /// How many times a request that failed with a 5xx status, a 429 or a connection error
    /// is retried (default [`crate::DEFAULT_RETRIES`]), and the first wait (doubled each time).
    pub fn retries(mut self, retries: u32, first_backoff: Duration) -> Self {
        self.options.retries = retries;
        self.options.backoff = first_backoff;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.options.user_agent = user_agent.into();
        self
    }

    /// The connection timeout (default 30 s). Reads have no timeout: a blob may be large.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options.connect_timeout = timeout;
        self
    }

    /// Whether this client may speak plain HTTP to `host[:port]`: a loopback host, one
    /// named with [`ClientBuilder::insecure`], or one whose certificate is not verified.
    pub fn allows_plain_http(&self, host: &str) -> bool {
        self.options.allows_plain_http(host)
    }

    /// The client.
    pub fn build(self) -> Client {
        Client {
            inner: Arc::new(Inner {
                http: Http::new(self.options),
                registries: Mutex::new(HashMap::new()),
            }),
        }
    }
}

/// A registry client: cheap to clone, `Send + Sync`, shared by every repository handle and
/// every thread of an upload. It keeps one connection pool per TLS setting, the credentials,
/// and per registry whether it speaks HTTPS and which tokens it gave.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    registries: Mutex<HashMap<String, Arc<RegistryState>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("options", self.inner.http.options())
            .finish_non_exhaustive()
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::builder().build()
    }
}

impl Client {
    /// A builder with the defaults: anonymous, HTTPS except on loopback, [`crate::DEFAULT_JOBS`]
    /// parallel blobs, [`crate::DEFAULT_RETRIES`] retries.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The state of one registry, created on first use.
    pub(crate) fn registry(&self, host: &str) -> Arc<RegistryState> {
        let mut map = self
            .inner
            .registries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(host.to_owned())
            .or_insert_with(|| Arc::new(RegistryState::new(host)))
            .clone()
    }

    pub(crate) fn http(&self) -> &Http {
        &self.inner.http
    }

    pub(crate) fn options(&self) -> &Options {
        self.inner.http.options()
    }
}
