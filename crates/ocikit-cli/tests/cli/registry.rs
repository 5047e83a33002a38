//! A real registry for the tests: distribution's `docker-registry` (Debian's 2.8) serving a
//! temporary directory on a free loopback port, killed when dropped.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::have;

/// How long the registry may take to answer `GET /v2/`.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A running registry; the process is killed and its storage removed when dropped.
pub(crate) struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts a registry without authentication; `None` (a skip) when `docker-registry` is
    /// not installed, except in CI, where that fails the test.
    pub(crate) fn start() -> Option<Registry> {
        if !have("docker-registry") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        // Every answer carries this, so that the probe cannot take another server that
        // holds the port for this registry.
        let instance = dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let log_path = dir.path().join("registry.log");
        // Another process may take the port between the probe and the registry's bind.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let config = format!(
                "version: 0.1\n\
                 log:\n  level: warn\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: \"{}\"\n  delete:\n    enabled: true\n\
                 http:\n  addr: 127.0.0.1:{port}\n  secret: ocikit-cli-tests\n  \
                 headers:\n    X-Ocikit-Instance: [\"{instance}\"]\n",
                dir.path().join("storage").display()
            );
            let config_path = dir.path().join("config.yml");
            fs::write(&config_path, config).unwrap();
            let log = fs::File::create(&log_path).unwrap();
            let mut command = Command::new("docker-registry");
            command
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log);
            // REGISTRY_* variables would override the config file.
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("REGISTRY_") {
                    command.env_remove(name);
                }
            }
            let mut child = command.spawn().unwrap();
            let started = Instant::now();
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    let log = fs::read_to_string(&log_path).unwrap_or_default();
                    assert!(
                        log.contains("address already in use"),
                        "docker-registry exited ({status}):\n{log}"
                    );
                    break;
                }
                if let Ok((200, headers, _)) = http_get(&format!("127.0.0.1:{port}"), "/v2/") {
                    if headers.contains(&instance) {
                        return Some(Registry {
                            child,
                            port,
                            _dir: dir,
                        });
                    }
                }
                if started.elapsed() > START_TIMEOUT {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = fs::read_to_string(&log_path).unwrap_or_default();
                    panic!("docker-registry did not answer on port {port}:\n{log}");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("docker-registry found no free port");
    }

    /// `127.0.0.1:PORT`.
    pub(crate) fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET http://HOST/PATH` (HTTP/1.0: the body ends with the connection), accepting any
/// manifest: status, the header block as text, and the body.
pub(crate) fn http_get(host: &str, path: &str) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    // Distribution answers 404 for an OCI manifest to a client that does not accept OCI.
    let accept = "application/vnd.oci.image.manifest.v1+json, \
                  application/vnd.oci.image.index.v1+json, \
                  application/vnd.docker.distribution.manifest.v2+json, */*";
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nAccept: {accept}\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    Ok((status, head, response[split + 4..].to_vec()))
}
