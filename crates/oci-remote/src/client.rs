//! [`Client`]: one HTTP agent, the credentials, and what is known of each registry.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use oci_types::Reference;

use crate::credentials::Keychain;
use crate::registry::RegistryState;
use crate::repository::Repository;

/// The default number of blobs uploaded or downloaded at once by one image operation.
pub const DEFAULT_JOBS: usize = 4;
/// The default size of one `PATCH` of a chunked upload (a streaming layer's upload).
pub const DEFAULT_CHUNK_SIZE: usize = 16 << 20;
/// The default number of retries of a request that failed with a 5xx status, a 429 or a
/// connection error.
pub const DEFAULT_RETRIES: u32 = 3;

/// How a [`Client`] behaves; built by [`Client::builder`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    keychain: Keychain,
    insecure: Vec<String>,
    jobs: usize,
    chunk_size: usize,
    retries: u32,
    backoff: Duration,
    user_agent: String,
    connect_timeout: Duration,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            keychain: Keychain::new(),
            insecure: Vec::new(),
            jobs: DEFAULT_JOBS,
            chunk_size: DEFAULT_CHUNK_SIZE,
            retries: DEFAULT_RETRIES,
            backoff: Duration::from_millis(200),
            user_agent: concat!("ocikit/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Duration::from_secs(30),
        }
    }
}

impl ClientBuilder {
    /// The credentials to use, by registry host (anonymous where there are none).
    pub fn keychain(mut self, keychain: Keychain) -> Self {
        self.keychain = keychain;
        self
    }

    /// Allows plain HTTP to `host[:port]` although it is not a loopback address (HTTPS is
    /// tried first). A host without a port allows every port of it, as docker's
    /// `insecure-registries` does. Loopback registries (`localhost`, `127.0.0.0/8`, `[::1]`) are spoken to
    /// in plain HTTP; every other registry must speak HTTPS unless named here.
    pub fn insecure(mut self, host: impl Into<String>) -> Self {
        self.insecure.push(host.into());
        self
    }

    /// How many blobs one image operation moves at once (at least 1; default
    /// [`DEFAULT_JOBS`]).
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// The size of one `PATCH` of a chunked upload (at least 64 KiB; default
    /// [`DEFAULT_CHUNK_SIZE`]). A chunk is held in memory until the registry accepted it, so
    /// that a cut-off chunk can be sent again; two chunks are in memory at once.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(64 << 10);
        self
    }

    /// How many times a request that failed with a 5xx status, a 429 or a connection error
    /// is retried (default [`DEFAULT_RETRIES`]), and the first wait (doubled each time).
    pub fn retries(mut self, retries: u32, first_backoff: Duration) -> Self {
        self.retries = retries;
        self.backoff = first_backoff;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The connection timeout (default 30 s). Reads have no timeout: a blob may be large.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The client.
    pub fn build(self) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(10)
            .user_agent(self.user_agent.as_str())
            .timeout_connect(Some(self.connect_timeout))
            .max_idle_connections_per_host(self.jobs.max(4) * 2)
            .build()
            .into();
        Client {
            inner: Arc::new(Inner {
                agent,
                options: self,
                registries: Mutex::new(HashMap::new()),
            }),
        }
    }
}

/// A registry client: cheap to clone, `Send + Sync`, shared by every repository handle and
/// every thread of an upload. It keeps one connection pool, the credentials, and per registry
/// whether it speaks HTTPS and which tokens it gave.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) agent: ureq::Agent,
    pub(crate) options: ClientBuilder,
    registries: Mutex<HashMap<String, Arc<RegistryState>>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::builder().build()
    }
}

impl Client {
    /// A builder with the defaults: anonymous, HTTPS except on loopback, [`DEFAULT_JOBS`]
    /// parallel blobs, [`DEFAULT_RETRIES`] retries.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A handle on the repository a reference names (its tag or digest is ignored here).
    pub fn repository(&self, reference: &Reference) -> Repository {
        self.repository_at(reference.domain(), reference.path())
    }

    /// A handle on repository `name` of registry `host[:port]` (`docker.io` is Docker Hub).
    pub fn repository_at(&self, host: &str, name: &str) -> Repository {
        Repository::new(self.clone(), self.registry(host), name.to_owned())
    }

    /// The state of one registry, created on first use.
    pub(crate) fn registry(&self, host: &str) -> Arc<RegistryState> {
        let mut map = self
            .inner
            .registries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(host.to_owned())
            .or_insert_with(|| {
                let allow_http = self.inner.options.allows_plain_http(host);
                Arc::new(RegistryState::new(host, allow_http))
            })
            .clone()
    }

    pub(crate) fn options(&self) -> &ClientBuilder {
        &self.inner.options
    }
}

impl ClientBuilder {
    pub(crate) fn keychain_ref(&self) -> &Keychain {
        &self.keychain
    }
    pub(crate) fn jobs_value(&self) -> usize {
        self.jobs
    }
    pub(crate) fn chunk_size_value(&self) -> usize {
        self.chunk_size
    }
    pub(crate) fn retries_value(&self) -> (u32, Duration) {
        (self.retries, self.backoff)
    }
    /// Whether this client may speak plain HTTP to `host[:port]`: a loopback host, or one
    /// named with [`ClientBuilder::insecure`].
    pub fn allows_plain_http(&self, host: &str) -> bool {
        is_loopback_host(host) || self.insecure.iter().any(|h| insecure_matches(h, host))
    }
}

/// Whether an `insecure` entry names `host`: equal, or the entry has no port and names the
/// host's name.
fn insecure_matches(entry: &str, host: &str) -> bool {
    entry.eq_ignore_ascii_case(host)
        || (strip_port(entry) == entry && strip_port(host).eq_ignore_ascii_case(entry))
}

/// True for `localhost`, `127.0.0.0/8` and `::1`, with or without a port.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let name = strip_port(host);
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let name = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [v6]:port
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insecure_entries() {
        assert!(insecure_matches("reg.lan:5000", "reg.lan:5000"));
        assert!(insecure_matches("reg.lan", "reg.lan:5000"));
        assert!(insecure_matches("reg.lan", "reg.lan"));
        assert!(insecure_matches("[fd00::1]", "[fd00::1]:5000"));
        assert!(insecure_matches("[::ffff:7f00:1]", "[::ffff:7f00:1]:46143"));
        assert!(!insecure_matches("reg.lan:5000", "reg.lan:5001"));
        assert!(!insecure_matches("reg.lan:5000", "reg.lan"));
        assert!(!insecure_matches("reg.lan", "other.lan:5000"));
        assert!(!insecure_matches("reg", "reg.lan:5000"));
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "localhost:5000",
            "LOCALHOST",
            "127.0.0.1",
            "127.0.0.1:5000",
            "127.1.2.3:80",
            "[::1]",
            "[::1]:5000",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "docker.io",
            "10.0.0.1:5000",
            "localhost.example.com",
            "128.0.0.1",
            "[::2]:5000",
            "127.0.0.1.nip.io",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
