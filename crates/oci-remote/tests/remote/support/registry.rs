//! A real registry per test: distribution's `docker-registry` (2.8, Debian's package) serving a
//! temporary directory on a free loopback port, killed when dropped.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use oci_types::Digest;
use tempfile::TempDir;

use super::http::{header, try_http_request};
use super::require;
use super::token::{TokenServer, ISSUER, SERVICE};

/// The user `start_basic` and `start_token` registries accept.
pub(crate) const USER: &str = "ocikit";
/// The password of [`USER`].
pub(crate) const PASSWORD: &str = "ocikit-test-password";

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
enum Auth {
    None,
    Basic,
    Token { realm: String, cert: PathBuf },
}

/// A running `docker-registry` with its own storage, killed and removed when dropped.
pub(crate) struct Registry {
    child: Child,
    addr: SocketAddr,
    storage: PathBuf,
    dir: TempDir,
}

impl Registry {
    /// A registry without auth; `None` when `docker-registry` is missing outside CI.
    pub(crate) fn start() -> Option<Registry> {
        Registry::launch(&Auth::None)
    }

    /// A registry asking for HTTP Basic credentials: [`USER`] and [`PASSWORD`].
    pub(crate) fn start_basic() -> Option<Registry> {
        Registry::launch(&Auth::Basic)
    }

    /// A registry asking for bearer tokens from the returned [`TokenServer`] (service
    /// [`SERVICE`], issuer [`ISSUER`]); `None` when `docker-registry` or `openssl` is missing
    /// outside CI.
    pub(crate) fn start_token() -> Option<(Registry, TokenServer)> {
        if !require("docker-registry") || !require("openssl") {
            return None;
        }
        let tokens = TokenServer::start();
        let auth = Auth::Token {
            realm: tokens.realm(),
            cert: tokens.cert_path().to_path_buf(),
        };
        let registry = Registry::launch(&auth)?;
        Some((registry, tokens))
    }

    fn launch(auth: &Auth) -> Option<Registry> {
        if !require("docker-registry") {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("ocikit-registry-")
            .tempdir()
            .unwrap();
        // Sent back on every response, so that the readiness probe cannot mistake another
        // registry that holds the port for this one.
        let instance = dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let storage = dir.path().join("storage");
        fs::create_dir(&storage).unwrap();
        let log_path = dir.path().join("registry.log");
        let auth_section = match auth {
            Auth::None => String::new(),
            Auth::Basic => {
                let htpasswd = dir.path().join("htpasswd");
                fs::write(&htpasswd, HTPASSWD).unwrap();
                format!(
                    "auth:\n  htpasswd:\n    realm: ocikit-test\n    path: \"{}\"\n",
                    htpasswd.display()
                )
            }
            Auth::Token { realm, cert } => format!(
                "auth:\n  token:\n    realm: \"{realm}\"\n    service: {SERVICE}\n    \
                 issuer: {ISSUER}\n    rootcertbundle: \"{}\"\n",
                cert.display()
            ),
        };
        for _ in 0..PORT_ATTEMPTS {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let config = format!(
                "version: 0.1\n\
                 log:\n  level: warn\n  formatter: text\n\
                 storage:\n  filesystem:\n    rootdirectory: \"{}\"\n  delete:\n    enabled: true\n  \
                 maintenance:\n    uploadpurging:\n      enabled: false\n\
                 http:\n  addr: {addr}\n  secret: ocikit-test-secret\n  headers:\n    \
                 X-Ocikit-Instance: [\"{instance}\"]\n\
                 {auth_section}",
                storage.display()
            );
            let config_path = dir.path().join("config.yml");
            fs::write(&config_path, config).unwrap();
            let log = File::options()
                .create(true)
                .append(true)
                .open(&log_path)
                .unwrap();
            let mut command = Command::new("docker-registry");
            command
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log);
            // REGISTRY_* variables override the config file: keep the caller's out.
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("REGISTRY_") {
                    command.env_remove(name);
                }
            }
            let mut child = command.spawn().unwrap();
            match wait_ready(&mut child, addr, &instance) {
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

    /// "127.0.0.1:PORT".
    pub(crate) fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The address the registry listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The registry's storage root (`storage.filesystem.rootdirectory`).
    pub(crate) fn storage(&self) -> &Path {
        &self.storage
    }

    /// Whether the blob `digest` is stored (distribution's layout:
    /// `docker/registry/v2/blobs/ALG/XX/ENCODED/data`).
    pub(crate) fn blob_exists_on_disk(&self, digest: &Digest) -> bool {
        self.blob_path_on_disk(digest).is_file()
    }

    /// Where distribution keeps a blob's bytes: `blobs/ALG/AB/ABCDEF.../data`.
    pub(crate) fn blob_path_on_disk(&self, digest: &Digest) -> PathBuf {
        let encoded = digest.encoded();
        self.storage()
            .join("docker/registry/v2/blobs")
            .join(digest.algorithm().to_string())
            .join(&encoded[..2.min(encoded.len())])
            .join(encoded)
            .join("data")
    }

    /// How many uploads of repository `repo` are started and neither finished nor cancelled: the
    /// directories in its `_uploads` that hold a `data` file (a cancel in distribution 2.8
    /// deletes `data` and `startedat` but leaves the directory and its `hashstates` behind).
    pub(crate) fn uploads_in_progress(&self, repo: &str) -> usize {
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

    /// What the registry wrote to stdout and stderr so far (warnings, errors, access log).
    pub(crate) fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

/// Polls `GET /v2/` on `addr` until the registry tagged `instance` answers 200 or 401.
fn wait_ready(child: &mut Child, addr: SocketAddr, instance: &str) -> Ready {
    let deadline = Instant::now() + START_TIMEOUT;
    let host = addr.to_string();
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Ready::Exited(status.to_string());
        }
        if let Ok((status, headers, _)) = try_http_request(&host, "GET", "/v2/", &[], b"") {
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
