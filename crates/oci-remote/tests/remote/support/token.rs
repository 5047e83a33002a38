//! A token server for distribution's `auth: token`: `GET /token?service=..&scope=..` answers a
//! JWT signed RS256 by a key made at start with the `openssl` CLI, its self-signed certificate
//! in the JWT header (`x5c`) and in the registry's `rootcertbundle`.
//!
//! Policy: Basic credentials [`USER`]:[`PASSWORD`] get every action they ask for; a request
//! without credentials (anonymous) gets `pull` on the repositories it asks for and nothing else;
//! wrong credentials get 401. The `service` parameter must be [`SERVICE`] (400 otherwise), as a
//! real token server checks. An OAuth2 `POST` form with `grant_type=refresh_token` and
//! [`REFRESH_TOKEN`] (an identity token, as `docker login` stores for some registries) gets
//! what [`USER`] gets.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oci_remote::testing::http::basic_auth;
use oci_remote::testing::{require, Registry, PASSWORD, USER};
use tempfile::TempDir;

// The `service` the registry names in its challenge and expects as the tokens' `aud`, and the
// `iss` of the tokens, which the registry trusts.
pub(crate) use oci_remote::testing::{TOKEN_ISSUER as ISSUER, TOKEN_SERVICE as SERVICE};

/// The identity (refresh) token the server accepts in its OAuth2 `POST` form.
pub(crate) const REFRESH_TOKEN: &str = "ocikit-test-refresh-token";
/// Lifetime of a token, in seconds (distribution allows 60 s of clock skew beyond it).
const EXPIRES_IN: u64 = 300;

/// A running token server on 127.0.0.1, stopped when dropped.
pub(crate) struct TokenServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    cert: PathBuf,
    /// Holds the key and certificate until the server is dropped.
    _dir: TempDir,
}

/// What the connection threads share.
struct Shared {
    key: PathBuf,
    /// The certificate, standard base64 of its DER, as `x5c` wants it.
    x5c: String,
    stop: AtomicBool,
    issued: AtomicUsize,
    rejected: AtomicUsize,
    scopes: Mutex<Vec<String>>,
}

impl TokenServer {
    /// A registry asking for bearer tokens from a new token server (service [`SERVICE`],
    /// issuer [`ISSUER`]); `None` when `docker-registry` or `openssl` is missing outside CI.
    pub(crate) fn with_registry() -> Option<(Registry, TokenServer)> {
        if !require("docker-registry") || !require("openssl") {
            return None;
        }
        let tokens = TokenServer::start();
        let registry = Registry::start_token(&tokens.realm(), tokens.cert_path())?;
        Some((registry, tokens))
    }

    /// Makes a key and certificate and starts serving. Panics when `openssl` fails.
    pub(crate) fn start() -> TokenServer {
        let dir = tempfile::Builder::new()
            .prefix("ocikit-token-")
            .tempdir()
            .unwrap();
        let key = dir.path().join("key.pem");
        let cert = dir.path().join("cert.pem");
        let out = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256"])
            .args(["-days", "2", "-subj", "/CN=ocikit-test-token", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl req failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The PEM body, joined, is the standard base64 of the DER.
        let pem = std::fs::read_to_string(&cert).unwrap();
        let x5c: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::trim)
            .collect();
        let shared = Arc::new(Shared {
            key,
            x5c,
            stop: AtomicBool::new(false),
            issued: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
            scopes: Mutex::new(Vec::new()),
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || accept_loop(&listener, &shared))
        };
        TokenServer {
            addr,
            shared,
            thread: Some(thread),
            cert,
            _dir: dir,
        }
    }

    /// "127.0.0.1:PORT".
    pub(crate) fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The realm URL the registry sends clients to: `http://127.0.0.1:PORT/token`.
    pub(crate) fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The PEM certificate the tokens are checked against (the registry's `rootcertbundle`).
    pub(crate) fn cert_path(&self) -> &Path {
        &self.cert
    }

    /// How many tokens were issued.
    pub(crate) fn tokens_issued(&self) -> usize {
        self.shared.issued.load(Ordering::SeqCst)
    }

    /// How many requests were refused (wrong credentials, wrong service, bad request).
    pub(crate) fn rejected(&self) -> usize {
        self.shared.rejected.load(Ordering::SeqCst)
    }

    /// The scopes of the requests that got a token, in order, decoded (`repository:NAME:pull,push`).
    pub(crate) fn scopes(&self) -> Vec<String> {
        self.shared.scopes.lock().unwrap().clone()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(shared);
                std::thread::spawn(move || serve(stream, &shared));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Answers one request on `stream`, then closes it.
fn serve(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Some((head, form)) = read_request(&mut stream) else {
        return;
    };
    let (status, body) = answer(&head, &form, shared);
    if status != 200 {
        shared.rejected.fetch_add(1, Ordering::SeqCst);
    }
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let mut response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if status == 401 {
        response.push_str("WWW-Authenticate: Basic realm=\"ocikit-token\"\r\n");
    }
    response.push_str("\r\n");
    response.push_str(&body);
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

/// The request line and headers, up to the blank line (at most 64 KiB), and the body its
/// `Content-Length` announces (at most 64 KiB; a `POST` form).
fn read_request(stream: &mut TcpStream) -> Option<(String, String)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 || data.len() > 64 * 1024 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8(data[..end].to_vec()).ok()?;
    let length = head
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(64 * 1024);
    let mut body = data[end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&buf[..n]);
    }
    body.truncate(length);
    Some((head, String::from_utf8(body).ok()?))
}

fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({"errors": [{"code": code, "message": message}]}).to_string()
}

/// Status and JSON body for one request: a `GET` with Basic credentials (or none), or an
/// OAuth2 `POST` form with `grant_type=refresh_token` and [`REFRESH_TOKEN`].
fn answer(head: &str, form: &str, shared: &Shared) -> (u16, String) {
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/token" {
        return (404, error_body("NOT_FOUND", "only /token is served"));
    }
    let params = match method {
        "GET" => query,
        "POST" => form,
        _ => {
            return (
                405,
                error_body("UNSUPPORTED", "only GET and POST are served"),
            )
        }
    };
    let authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.trim().to_string());
    let mut subject = match authorization {
        None => None,
        Some(value) if value == basic_auth(USER, PASSWORD) => Some(USER),
        Some(_) => return (401, error_body("UNAUTHORIZED", "bad credentials")),
    };
    let mut service = None;
    let mut requested = Vec::new();
    let (mut grant_type, mut refresh_token) = (None, None);
    for pair in params.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(&value.replace('+', " "));
        match name {
            "grant_type" => grant_type = Some(value),
            "refresh_token" => refresh_token = Some(value),
            "service" => service = Some(value),
            // One parameter may hold several scopes separated by spaces.
            "scope" => {
                requested.extend(value.split(' ').filter(|s| !s.is_empty()).map(String::from))
            }
            _ => {}
        }
    }
    if method == "POST" {
        if grant_type.as_deref() != Some("refresh_token") {
            return (400, error_body("UNSUPPORTED_GRANT", "only refresh_token"));
        }
        if refresh_token.as_deref() != Some(REFRESH_TOKEN) {
            return (401, error_body("UNAUTHORIZED", "bad refresh token"));
        }
        subject = Some(USER);
    }
    if service.as_deref() != Some(SERVICE) {
        return (
            400,
            error_body("INVALID_REQUEST", "unknown or missing service"),
        );
    }
    shared
        .scopes
        .lock()
        .unwrap()
        .extend(requested.iter().cloned());
    let mut access = Vec::new();
    for scope in &requested {
        let Some((kind, rest)) = scope.split_once(':') else {
            continue;
        };
        let Some((name, actions)) = rest.rsplit_once(':') else {
            continue;
        };
        let granted: Vec<&str> = actions
            .split(',')
            .filter(|a| subject.is_some() || (kind == "repository" && *a == "pull"))
            .collect();
        if !granted.is_empty() {
            access.push(serde_json::json!({"type": kind, "name": name, "actions": granted}));
        }
    }
    let number = shared.issued.fetch_add(1, Ordering::SeqCst);
    let token = sign_token(shared, subject.unwrap_or(""), access, number);
    let body = serde_json::json!({
        "token": token,
        "access_token": token,
        "expires_in": EXPIRES_IN,
    });
    (200, body.to_string())
}

/// A JWT (RS256) for `subject` with `access`, signed with `openssl dgst -sha256 -sign`.
fn sign_token(
    shared: &Shared,
    subject: &str,
    access: Vec<serde_json::Value>,
    number: usize,
) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [shared.x5c]});
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": subject,
        "aud": SERVICE,
        "exp": now + EXPIRES_IN,
        "nbf": now,
        "iat": now,
        "jti": format!("ocikit-{}-{number}", std::process::id()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(&shared.key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The input is small: writing it all before reading cannot deadlock.
    child
        .stdin
        .take()
        .unwrap()
        .write_all(signing_input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl dgst -sign failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("{signing_input}.{}", base64url(&out.stdout))
}

/// Unpadded base64url (RFC 4648 section 5), as JWS wants it.
fn base64url(bytes: &[u8]) -> String {
    oci_types::base64::encode(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// Decodes `%XX` escapes and `+` (a space in a query).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
