//! [`Registry`]: distribution's `docker-registry` serving a temporary directory on a free
//! loopback port, killed when dropped.

use std::fmt::Display;
use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use oci_types::Digest;
use tempfile::TempDir;

use super::http::{header, try_request};
use super::require;

/// The user that [`Registry::start_basic`] registries accept.
pub const USER: &str = "ocikit";
/// The password of [`USER`].
pub const PASSWORD: &str = "ocikit-test-password";

/// The `service` a [`Registry::start_token`] registry names in its challenge and expects as
/// the `aud` of its tokens.
pub const TOKEN_SERVICE: &str = "ocikit-test-registry";
/// The `iss` a [`Registry::start_token`] registry expects of its tokens.
pub const TOKEN_ISSUER: &str = "ocikit-test-issuer";

/// The htpasswd line of USER and PASSWORD. Distribution 2.8 reads bcrypt entries only; this one
/// (cost 5, so that each check is quick) was made once with glibc's crypt(3), by
/// `python3 -c "import crypt; print(crypt.crypt('ocikit-test-password',
/// crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32)))"`.
const HTPASSWD: &str = "ocikit:$2b$05$nekT/Q0WYqthLwZqGnXQDeOAnW7VtyfuDel5tJD5FxRUWkEosWzoS\n";

/// How long a registry may take to answer `GET /v2/` after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// Ports tried before giving up (another process may take a port between probe and bind).
const PORT_ATTEMPTS: usize = 5;

/// How clients authenticate to the registry.
enum Auth<'a> {
    None,
    Basic,
    Token { realm: &'a str, cert: &'a Path },
}

/// Certificates made by `openssl` for a TLS registry on 127.0.0.1: a CA and a server
/// certificate it signed (for `127.0.0.1` and `localhost`).
#[derive(Debug)]
pub struct TestCerts {
    dir: TempDir,
}

impl TestCerts {
    /// Makes a CA and a server certificate with `openssl` in a temporary directory; `None`
    /// when `openssl` is missing outside CI.
    ///
    /// # Panics
    /// When `openssl` fails (its output is in the message), or is missing in CI.
    pub fn make() -> Option<TestCerts> {
        if !require("openssl") {
            return None;
        }
        let dir = check(
            tempfile::Builder::new().prefix("ocikit-certs-").tempdir(),
            "creating the certificates' directory",
        );
        let run = |args: &[&str]| {
            let out = check(
                Command::new("openssl")
                    .args(args)
                    .current_dir(dir.path())
                    .output(),
                "running openssl",
            );
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let common = ["-newkey", "rsa:2048", "-nodes", "-days", "2"];
        run(&[
            &["req", "-x509"][..],
            &common,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-subj",
                "/CN=ocikit-test-ca",
            ],
        ]
        .concat());
        run(&[
            &["req", "-x509"][..],
            &common,
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.crt",
                "-subj",
                "/CN=127.0.0.1",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext",
                "basicConstraints=critical,CA:FALSE",
            ],
        ]
        .concat());
        run(&[
            &["req", "-x509"][..],
            &common,
            &[
                "-keyout",
                "client.key",
                "-out",
                "client.cert",
                "-subj",
                "/CN=ocikit-test-client",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-addext",
                "extendedKeyUsage=clientAuth",
                "-addext",
                "basicConstraints=critical,CA:FALSE",
            ],
        ]
        .concat());
        Some(TestCerts { dir })
    }

    /// The CA certificate (PEM), what a client must trust.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// The server certificate (PEM).
    pub fn server_cert(&self) -> PathBuf {
        self.dir.path().join("server.crt")
    }

    /// The server's private key (PEM).
    pub fn server_key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    /// A client certificate signed by the CA (PEM), what a [`Registry::start_mtls`] registry
    /// asks for.
    pub fn client_cert(&self) -> PathBuf {
        self.dir.path().join("client.cert")
    }

    /// The client certificate's private key (PEM).
    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("client.key")
    }
}

/// A running `docker-registry` on 127.0.0.1 with its own storage in a temporary directory.
///
/// Dropping it kills the process, waits for it and removes the directory; dropped while the
/// thread panics (a failed assertion), it first prints the registry's log to stderr. Uploads
/// are never purged, so a test sees every unfinished upload in [`Registry::uploads_in_progress`].
#[derive(Debug)]
pub struct Registry {
    child: Child,
    addr: SocketAddr,
    storage: PathBuf,
    dir: TempDir,
}

impl Registry {
    /// A registry without auth; `None` when `docker-registry` is missing outside CI (see
    /// [`require`](super::require)).
    ///
    /// # Panics
    /// When the registry cannot be set up or does not answer `GET /v2/` within 15 seconds (the
    /// message holds its log), or when `docker-registry` is missing in CI.
    pub fn start() -> Option<Registry> {
        Registry::launch(&Auth::None)
    }

    /// A registry asking for HTTP Basic credentials: [`USER`] and [`PASSWORD`].
    ///
    /// # Panics
    /// As [`Registry::start`].
    pub fn start_basic() -> Option<Registry> {
        Registry::launch(&Auth::Basic)
    }

    /// A registry asking for bearer tokens from `realm` (a URL such as
    /// `http://127.0.0.1:PORT/token`), for service [`TOKEN_SERVICE`], issued by
    /// [`TOKEN_ISSUER`] and signed by a key whose PEM certificate is at `cert` (the
    /// registry's `rootcertbundle`; the tokens carry it in their `x5c` header). The token
    /// server is the caller's.
    ///
    /// # Panics
    /// As [`Registry::start`].
    pub fn start_token(realm: &str, cert: &Path) -> Option<Registry> {
        Registry::launch(&Auth::Token { realm, cert })
    }

    /// A registry speaking HTTPS only, with the server certificate of `certs`, asking for
    /// [`USER`] and [`PASSWORD`] when `basic`.
    ///
    /// # Panics
    /// As [`Registry::start`].
    pub fn start_tls(certs: &TestCerts, basic: bool) -> Option<Registry> {
        let auth = if basic { Auth::Basic } else { Auth::None };
        Registry::launch_with(&auth, Some(certs))
    }

    /// A registry speaking HTTPS only that asks every client for a certificate signed by the
    /// CA of `certs` ([`TestCerts::client_cert`]); no other auth.
    ///
    /// # Panics
    /// As [`Registry::start`].
    pub fn start_mtls(certs: &TestCerts) -> Option<Registry> {
        Registry::launch_tls(&Auth::None, Some(certs), true)
    }

    fn launch(auth: &Auth<'_>) -> Option<Registry> {
        Registry::launch_with(auth, None)
    }

    fn launch_with(auth: &Auth<'_>, tls: Option<&TestCerts>) -> Option<Registry> {
        Registry::launch_tls(auth, tls, false)
    }

    fn launch_tls(
        auth: &Auth<'_>,
        tls: Option<&TestCerts>,
        client_certs: bool,
    ) -> Option<Registry> {
        if !require("docker-registry") {
            return None;
        }
        let dir = check(
            tempfile::Builder::new()
                .prefix("ocikit-registry-")
                .tempdir(),
            "creating the registry's temporary directory",
        );
        // Sent back on every response, so that the readiness probe cannot mistake another
        // registry that holds the port for this one.
        let instance = dir
            .path()
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| panic!("{} has no file name", dir.path().display()));
        let storage = dir.path().join("storage");
        check(fs::create_dir(&storage), storage.display());
        let log_path = dir.path().join("registry.log");
        let auth_section = match auth {
            Auth::None => String::new(),
            Auth::Basic => {
                let htpasswd = dir.path().join("htpasswd");
                check(fs::write(&htpasswd, HTPASSWD), htpasswd.display());
                format!(
                    "auth:\n  htpasswd:\n    realm: ocikit-test\n    path: \"{}\"\n",
                    htpasswd.display()
                )
            }
            Auth::Token { realm, cert } => format!(
                "auth:\n  token:\n    realm: \"{realm}\"\n    service: {TOKEN_SERVICE}\n    \
                 issuer: {TOKEN_ISSUER}\n    rootcertbundle: \"{}\"\n",
                cert.display()
            ),
        };
        let tls_section = match tls {
            None => String::new(),
            Some(certs) => {
                let mut section = format!(
                    "  tls:\n    certificate: \"{}\"\n    key: \"{}\"\n",
                    certs.server_cert().display(),
                    certs.server_key().display()
                );
                if client_certs {
                    section.push_str(&format!(
                        "    clientcas:\n      - \"{}\"\n",
                        certs.ca().display()
                    ));
                }
                section
            }
        };
        for _ in 0..PORT_ATTEMPTS {
            let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
            let config = format!(
                "version: 0.1\n\
                 log:\n  level: warn\n  formatter: text\n\
                 storage:\n  filesystem:\n    rootdirectory: \"{}\"\n  delete:\n    enabled: true\n  \
                 maintenance:\n    uploadpurging:\n      enabled: false\n\
                 http:\n  addr: {addr}\n  secret: ocikit-test-secret\n  headers:\n    \
                 X-Ocikit-Instance: [\"{instance}\"]\n\
                 {tls_section}{auth_section}",
                storage.display()
            );
            let config_path = dir.path().join("config.yml");
            check(fs::write(&config_path, config), config_path.display());
            let log = check(
                File::options().create(true).append(true).open(&log_path),
                log_path.display(),
            );
            let mut command = Command::new("docker-registry");
            command
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(check(log.try_clone(), log_path.display()))
                .stderr(log);
            // REGISTRY_* variables override the config file: keep the caller's out.
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("REGISTRY_") {
                    command.env_remove(name);
                }
            }
            let mut child = check(command.spawn(), "starting docker-registry");
            match wait_ready(&mut child, addr, &instance, tls.is_some()) {
                Ready::Yes => {
                    return Some(Registry {
                        child,
                        addr,
                        storage,
                        dir,
                    })
                }
                Ready::Exited(status) => {
                    let log = fs::read_to_string(&log_path).unwrap_or_default();
                    // Another process took the port between probe and bind: try another.
                    assert!(
                        log.contains("address already in use"),
                        "docker-registry exited ({status}) before answering; log {}:\n{log}",
                        log_path.display()
                    );
                }
                Ready::TimedOut => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = fs::read_to_string(&log_path).unwrap_or_default();
                    panic!(
                        "docker-registry did not answer GET /v2/ on {addr} within \
                         {START_TIMEOUT:?}; log {}:\n{log}",
                        log_path.display()
                    );
                }
            }
        }
        panic!("docker-registry found no free port in {PORT_ATTEMPTS} attempts");
    }

    /// Host and port, `127.0.0.1:PORT`, as a reference or URL names the registry.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The address the registry listens on (always on 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the registry listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The registry's storage root (`storage.filesystem.rootdirectory`).
    pub fn storage(&self) -> &Path {
        &self.storage
    }

    /// Whether the blob `digest` is stored, whatever repository it was pushed to.
    pub fn blob_exists_on_disk(&self, digest: &Digest) -> bool {
        self.blob_path_on_disk(digest).is_file()
    }

    /// Where distribution keeps a blob's bytes:
    /// `docker/registry/v2/blobs/ALG/AB/ABCDEF.../data` under [`Registry::storage`]. A test
    /// may change the file there to make the registry serve bytes that do not match.
    pub fn blob_path_on_disk(&self, digest: &Digest) -> PathBuf {
        let encoded = digest.encoded();
        self.storage()
            .join("docker/registry/v2/blobs")
            .join(digest.algorithm().to_string())
            .join(&encoded[..2.min(encoded.len())])
            .join(encoded)
            .join("data")
    }

    /// How many uploads to repository `repo` are started and neither finished nor cancelled:
    /// the directories in its `_uploads` that hold a `data` file (a cancel in distribution 2.8
    /// deletes `data` and `startedat` but leaves the directory and its `hashstates` behind).
    pub fn uploads_in_progress(&self, repo: &str) -> usize {
        let uploads = self
            .storage()
            .join("docker/registry/v2/repositories")
            .join(repo)
            .join("_uploads");
        match fs::read_dir(uploads) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter(|e| e.path().join("data").is_file())
                .count(),
            Err(_) => 0,
        }
    }

    /// What the registry wrote to stdout and stderr so far: warnings, errors and its access
    /// log, one line a request.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- docker-registry log ({}) ---\n{}--- end of log ---",
                self.dir.path().join("registry.log").display(),
                self.log()
            );
        }
    }
}

/// The value of `result`; panics with `what` and the error otherwise.
#[track_caller]
fn check<T, E: Display>(result: Result<T, E>, what: impl Display) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// A loopback port free a moment ago (the kernel's pick for a listener, closed at once).
fn free_port() -> u16 {
    let listener = check(
        TcpListener::bind("127.0.0.1:0"),
        "binding a probe listener on 127.0.0.1",
    );
    check(listener.local_addr(), "the probe listener's address").port()
}

/// Polls `GET /v2/` on `addr` until the registry tagged `instance` answers 200 or 401 (a TLS
/// registry: until it answers plain HTTP with Go's 400, which carries no instance header).
fn wait_ready(child: &mut Child, addr: SocketAddr, instance: &str, tls: bool) -> Ready {
    let deadline = Instant::now() + START_TIMEOUT;
    let host = addr.to_string();
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Ready::Exited(status.to_string());
        }
        if let Ok((status, headers, _)) = try_request(&host, "GET", "/v2/", &[], b"") {
            if tls && status == 400 {
                return Ready::Yes;
            }
            if (status == 200 || status == 401)
                && header(&headers, "x-ocikit-instance") == Some(instance)
            {
                return Ready::Yes;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ready::TimedOut
}

/// How a start attempt ended.
enum Ready {
    Yes,
    Exited(String),
    TimedOut,
}
