//! What a client was told: credentials, limits, retries, and the host policy (which hosts
//! may be spoken to in plain HTTP, and with which TLS settings). Plain data, the bottom of
//! the HTTP stack: everything above reads it, it reads nothing but the credentials.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::credentials::Keychain;

/// The default number of blobs uploaded or downloaded at once by one image operation.
pub const DEFAULT_JOBS: usize = 4;
/// The default size of one `PATCH` of a chunked upload (a streaming layer's upload). At most
/// three chunks are in memory (one sent, one queued, one filling), so this sets most of a
/// streaming push's memory: 8 MiB keeps a push of a layer built on the fly under 64 MiB of
/// RSS, and stays above the 5 MiB minimum chunk some registries (ECR) demand.
pub const DEFAULT_CHUNK_SIZE: usize = 8 << 20;
/// The default number of retries of a request that failed with a 5xx status, a 429 or a
/// connection error.
pub const DEFAULT_RETRIES: u32 = 3;

/// The `certs.d` roots read by default, as podman/skopeo and docker read them: each holds a
/// directory per `host[:port]` with CA certificates (`*.crt`) and client certificates
/// (`*.cert` with the `*.key` of the same name).
pub const DEFAULT_CERTS_D: [&str; 2] = ["/etc/containers/certs.d", "/etc/docker/certs.d"];

/// Every setting of a client (the fields of [`crate::ClientBuilder`]).
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) keychain: Keychain,
    pub(crate) insecure: Vec<String>,
    pub(crate) jobs: usize,
    pub(crate) chunk_size: usize,
    pub(crate) retries: u32,
    pub(crate) backoff: Duration,
    pub(crate) user_agent: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) tls: TlsOptions,
}

/// Where TLS settings come from.
#[derive(Debug, Clone)]
pub(crate) struct TlsOptions {
    /// False: no host's certificate is verified.
    pub(crate) verify: bool,
    /// Hosts whose certificates are not verified.
    pub(crate) skip_verify: Vec<String>,
    /// PEM files of CA certificates trusted for every host.
    pub(crate) ca_files: Vec<PathBuf>,
    /// A directory of `*.crt`, `*.cert` and `*.key` for every host; replaces `certs_d`.
    pub(crate) cert_dir: Option<PathBuf>,
    /// Roots holding a directory per `host[:port]`.
    pub(crate) certs_d: Vec<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            keychain: Keychain::new(),
            insecure: Vec::new(),
            jobs: DEFAULT_JOBS,
            chunk_size: DEFAULT_CHUNK_SIZE,
            retries: DEFAULT_RETRIES,
            backoff: Duration::from_millis(200),
            user_agent: concat!("ocikit/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Duration::from_secs(30),
            tls: TlsOptions {
                verify: true,
                skip_verify: Vec::new(),
                ca_files: Vec::new(),
                cert_dir: None,
                certs_d: DEFAULT_CERTS_D.iter().map(PathBuf::from).collect(),
            },
        }
    }
}

impl Options {
    pub(crate) fn jobs_value(&self) -> usize {
        self.jobs
    }
    pub(crate) fn chunk_size_value(&self) -> usize {
        self.chunk_size
    }
    pub(crate) fn retries_value(&self) -> (u32, Duration) {
        (self.retries, self.backoff)
    }

    /// Whether plain HTTP may be spoken to `host[:port]`: a loopback host, one named as
    /// insecure, or one whose certificate is not verified (skopeo's `--tls-verify=false`
    /// allows both, as containers/image does).
    pub(crate) fn allows_plain_http(&self, host: &str) -> bool {
        is_loopback_host(host)
            || self.insecure.iter().any(|h| host_matches(h, host))
            || !self.verifies(host)
    }

    /// Whether the certificate of `host` is verified.
    pub(crate) fn verifies(&self, host: &str) -> bool {
        self.tls.verify && !self.tls.skip_verify.iter().any(|h| host_matches(h, host))
    }
}

/// Whether a host entry (`insecure`, `skip_verify`) names `host`: equal, or the entry has no
/// port and names the host's name.
pub(crate) fn host_matches(entry: &str, host: &str) -> bool {
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

/// `host` without its `:port`.
pub(crate) fn strip_port(host: &str) -> &str {
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
    fn host_entries() {
        assert!(host_matches("reg.lan:5000", "reg.lan:5000"));
        assert!(host_matches("reg.lan", "reg.lan:5000"));
        assert!(host_matches("reg.lan", "reg.lan"));
        assert!(host_matches("[fd00::1]", "[fd00::1]:5000"));
        assert!(host_matches("[::ffff:7f00:1]", "[::ffff:7f00:1]:46143"));
        assert!(!host_matches("reg.lan:5000", "reg.lan:5001"));
        assert!(!host_matches("reg.lan:5000", "reg.lan"));
        assert!(!host_matches("reg.lan", "other.lan:5000"));
        assert!(!host_matches("reg", "reg.lan:5000"));
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

    #[test]
    fn skipping_verification_allows_plain_http() {
        let mut options = Options::default();
        assert!(!options.allows_plain_http("reg.lan:5000"));
        options.tls.skip_verify.push("reg.lan".into());
        assert!(options.allows_plain_http("reg.lan:5000"));
        assert!(!options.verifies("reg.lan:5000"));
        assert!(options.verifies("other.lan"));
    }
}
