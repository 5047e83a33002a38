//! Self-tests of the support code: registries, proxy and token server behave as the other test
//! modules assume. Each test has its own registry, proxy and ports, so they run in parallel.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use oci_types::Digest;

use crate::support::{
    basic_auth, header, http_get, http_request, try_http_request, Fault, Proxy, Registry, Response,
    TokenServer, PASSWORD, SERVICE, USER,
};

/// Bytes that do not repeat in short periods, `len` long.
fn noise(len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// Path and query of a `Location` header, absolute or not.
fn location_path(headers: &[(String, String)]) -> String {
    let location = header(headers, "location").expect("a Location header");
    match location.strip_prefix("http://") {
        Some(rest) => rest[rest.find('/').unwrap()..].to_string(),
        None => location.to_string(),
    }
}

/// Starts an upload to `repo` on `host`: the path of the upload URL.
fn start_upload(host: &str, repo: &str) -> String {
    let (status, headers, _) = http_request(
        host,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        b"",
    );
    assert_eq!(status, 202);
    location_path(&headers)
}

/// Finishes the upload at `upload` with all of `blob` in one `PUT ?digest=`, through `host`.
fn try_put_blob(host: &str, upload: &str, blob: &[u8]) -> std::io::Result<Response> {
    let separator = if upload.contains('?') { '&' } else { '?' };
    let path = format!("{upload}{separator}digest={}", Digest::sha256(blob));
    let headers = [("Content-Type", "application/octet-stream")];
    try_http_request(host, "PUT", &path, &headers, blob)
}

/// Pushes `blob` to `repo` on `host` (POST, then PUT with the whole body): its digest.
fn push_blob(host: &str, repo: &str, blob: &[u8]) -> Digest {
    let upload = start_upload(host, repo);
    let (status, _, body) = try_put_blob(host, &upload, blob).unwrap();
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    Digest::sha256(blob)
}

#[test]
fn registry_answers_and_shows_its_storage() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let host = registry.host();
    assert_eq!(registry.addr().to_string(), host);
    let (status, headers, body) = http_get(&host, "/v2/", &[]);
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "docker-distribution-api-version"),
        Some("registry/2.0")
    );
    assert_eq!(body, b"{}");

    let blob = b"hello, registry";
    let digest = Digest::sha256(blob);
    assert!(!registry.blob_exists_on_disk(&digest));
    assert_eq!(push_blob(&host, "test/blob", blob), digest);
    assert!(registry.blob_exists_on_disk(&digest));
    assert!(registry.storage().join("docker/registry/v2/blobs").is_dir());
    let (status, _, body) = http_get(&host, &format!("/v2/test/blob/blobs/{digest}"), &[]);
    assert_eq!((status, body.as_slice()), (200, &blob[..]));

    // An upload started and not finished shows until it is cancelled.
    assert_eq!(registry.uploads_in_progress("test/blob"), 0);
    let (status, headers, _) =
        http_request(&host, "POST", "/v2/test/blob/blobs/uploads/", &[], b"");
    assert_eq!(status, 202);
    assert_eq!(registry.uploads_in_progress("test/blob"), 1);
    assert_eq!(registry.uploads_in_progress("other/repo"), 0);
    let (status, _, _) = http_request(&host, "DELETE", &location_path(&headers), &[], b"");
    assert_eq!(status, 204);
    assert_eq!(registry.uploads_in_progress("test/blob"), 0);
    // The access log line may be written just after the response went out.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !registry
        .log()
        .contains("\"DELETE /v2/test/blob/blobs/uploads/")
    {
        assert!(Instant::now() < deadline, "log: {}", registry.log());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn registries_are_separate() {
    let (Some(one), Some(two)) = (Registry::start(), Registry::start()) else {
        return;
    };
    assert_ne!(one.host(), two.host());
    let digest = push_blob(&one.host(), "app", b"only in one");
    assert!(one.blob_exists_on_disk(&digest));
    assert!(!two.blob_exists_on_disk(&digest));
    let (status, _, _) = http_get(&two.host(), &format!("/v2/app/blobs/{digest}"), &[]);
    assert_eq!(status, 404);
}

#[test]
fn basic_registry_wants_the_password() {
    let Some(registry) = Registry::start_basic() else {
        return;
    };
    let host = registry.host();
    let (status, headers, _) = http_get(&host, "/v2/", &[]);
    assert_eq!(status, 401);
    assert_eq!(
        header(&headers, "www-authenticate"),
        Some("Basic realm=\"ocikit-test\"")
    );
    let good = basic_auth(USER, PASSWORD);
    let (status, _, _) = http_get(&host, "/v2/", &[("Authorization", &good)]);
    assert_eq!(status, 200);
    let bad = basic_auth(USER, "not-the-password");
    let (status, _, _) = http_get(&host, "/v2/", &[("Authorization", &bad)]);
    assert_eq!(status, 401);
}

#[test]
fn proxy_forwards_both_ways() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let proxy = Proxy::start(registry.addr(), Fault::None);
    assert_ne!(proxy.host(), registry.host());
    assert_eq!(http_get(&proxy.host(), "/v2/", &[]).0, 200);
    let blob = noise(300_000);
    let digest = push_blob(&proxy.host(), "big", &blob);
    assert!(registry.blob_exists_on_disk(&digest));
    let (status, _, body) = http_get(&proxy.host(), &format!("/v2/big/blobs/{digest}"), &[]);
    assert_eq!(status, 200);
    assert!(body == blob, "blob changed on its way through the proxy");
    assert_eq!(proxy.connections(), 4);
    assert_eq!(proxy.faults_injected(), 0);
}

/// A server that counts what each connection sends until EOF, one count per connection.
fn sink() -> (SocketAddr, mpsc::Receiver<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut received = Vec::new();
            let _ = stream.read_to_end(&mut received);
            if sender.send(received.len()).is_err() {
                return;
            }
        }
    });
    (addr, receiver)
}

/// A server that sends `len` bytes on each connection, then closes it.
fn source(len: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let data = noise(len);
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let _ = stream.write_all(&data);
        }
    });
    addr
}

/// Connects to `addr`, sends `data`, half-closes and reads until the other side closes.
fn exchange(addr: SocketAddr, data: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // After a cut, writing or reading may fail: what arrived is what counts.
    let _ = stream.write_all(data);
    let _ = stream.shutdown(Shutdown::Write);
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received);
    received
}

#[test]
fn proxy_cuts_uploads_after_the_given_bytes() {
    let (addr, counts) = sink();
    let proxy = Proxy::start(
        addr,
        Fault::CutUpstreamAfter {
            bytes: 1000,
            times: 1,
        },
    );
    let timeout = Duration::from_secs(30);
    exchange(proxy.addr(), &noise(500));
    assert_eq!(
        counts.recv_timeout(timeout).unwrap(),
        500,
        "below the limit"
    );
    exchange(proxy.addr(), &noise(5000));
    assert_eq!(
        counts.recv_timeout(timeout).unwrap(),
        1000,
        "cut at the limit"
    );
    exchange(proxy.addr(), &noise(5000));
    assert_eq!(
        counts.recv_timeout(timeout).unwrap(),
        5000,
        "the budget is spent"
    );
    assert_eq!(proxy.connections(), 3);
    assert_eq!(proxy.faults_injected(), 1);
}

#[test]
fn proxy_cuts_an_upload_to_the_registry() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let proxy = Proxy::start(
        registry.addr(),
        Fault::CutUpstreamAfter {
            bytes: 50_000,
            times: 1,
        },
    );
    let blob = noise(200_000);
    let digest = Digest::sha256(&blob);
    let upload = start_upload(&registry.host(), "cut");
    let cut = try_put_blob(&proxy.host(), &upload, &blob);
    assert!(cut.is_err(), "the cut connection answered: {cut:?}");
    assert_eq!(proxy.faults_injected(), 1);
    assert!(!registry.blob_exists_on_disk(&digest));
    assert_eq!(push_blob(&proxy.host(), "cut", &blob), digest);
    assert!(registry.blob_exists_on_disk(&digest));
    assert_eq!(proxy.faults_injected(), 1);
}

#[test]
fn proxy_cuts_downloads_after_the_given_bytes() {
    let proxy = Proxy::start(
        source(100_000),
        Fault::CutDownstreamAfter {
            bytes: 10_000,
            times: 1,
        },
    );
    assert_eq!(exchange(proxy.addr(), b"").len(), 10_000);
    assert_eq!(exchange(proxy.addr(), b""), noise(100_000));
    assert_eq!(proxy.faults_injected(), 1);

    let Some(registry) = Registry::start() else {
        return;
    };
    let blob = noise(300_000);
    let digest = push_blob(&registry.host(), "down", &blob);
    let proxy = Proxy::start(
        registry.addr(),
        Fault::CutDownstreamAfter {
            bytes: 100_000,
            times: 1,
        },
    );
    let path = format!("/v2/down/blobs/{digest}");
    let cut = try_http_request(&proxy.host(), "GET", &path, &[], b"");
    let error = cut.expect_err("the body was cut");
    assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof, "{error}");
    let (status, _, body) = http_get(&proxy.host(), &path, &[]);
    assert_eq!(status, 200);
    assert!(body == blob);
}

#[test]
fn proxy_answers_503_without_forwarding() {
    let Some(registry) = Registry::start() else {
        return;
    };
    let proxy = Proxy::start(registry.addr(), Fault::Status503 { times: 2 });
    for _ in 0..2 {
        let (status, headers, body) = http_get(&proxy.host(), "/v2/", &[]);
        assert_eq!(status, 503);
        assert_eq!(header(&headers, "connection"), Some("close"));
        assert!(body.is_empty());
    }
    assert_eq!(http_get(&proxy.host(), "/v2/", &[]).0, 200);
    assert_eq!(proxy.faults_injected(), 2);
    assert_eq!(proxy.connections(), 3);

    // A request with a large body still reads its 503 (the body is drained, not reset).
    let proxy = Proxy::start(registry.addr(), Fault::Status503 { times: 1 });
    let blob = noise(2_000_000);
    let digest = Digest::sha256(&blob);
    let upload = start_upload(&registry.host(), "busy");
    let (status, _, _) = try_put_blob(&proxy.host(), &upload, &blob).unwrap();
    assert_eq!(status, 503);
    assert!(!registry.blob_exists_on_disk(&digest));
    // The 503 never reached the registry: the same upload still takes the blob.
    let (status, _, _) = try_put_blob(&proxy.host(), &upload, &blob).unwrap();
    assert_eq!(status, 201);
    assert!(registry.blob_exists_on_disk(&digest));
}

/// A token from `tokens` for `scopes`, with `authorization` if any; the token server's status
/// when it refuses.
fn fetch_token(
    tokens: &TokenServer,
    scopes: &[&str],
    authorization: Option<&str>,
) -> Result<String, u16> {
    let mut path = format!("/token?service={SERVICE}");
    for scope in scopes {
        path.push_str(&format!("&scope={scope}"));
    }
    let headers: Vec<(&str, &str)> = authorization
        .map(|a| vec![("Authorization", a)])
        .unwrap_or_default();
    let (status, _, body) = http_get(&tokens.host(), &path, &headers);
    if status != 200 {
        return Err(status);
    }
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["token"], json["access_token"]);
    assert!(json["expires_in"].as_u64().unwrap() > 60);
    Ok(json["token"].as_str().unwrap().to_string())
}

#[test]
fn token_registry_takes_tokens_from_the_token_server() {
    let Some((registry, tokens)) = TokenServer::with_registry() else {
        return;
    };
    let host = registry.host();
    let (status, headers, _) = http_get(&host, "/v2/", &[]);
    assert_eq!(status, 401);
    let challenge = header(&headers, "www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(&format!("realm=\"{}\"", tokens.realm())),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!("service=\"{SERVICE}\"")),
        "{challenge}"
    );

    let credentials = basic_auth(USER, PASSWORD);
    let token = fetch_token(&tokens, &[], Some(&credentials)).unwrap();
    let bearer = format!("Bearer {token}");
    assert_eq!(
        http_get(&host, "/v2/", &[("Authorization", &bearer)]).0,
        200
    );
    assert_eq!(
        http_get(&host, "/v2/", &[("Authorization", "Bearer not.a.token")]).0,
        401
    );

    // Pushing asks for pull and push on the repository.
    let upload = "/v2/demo/app/blobs/uploads/";
    let (status, headers, _) = http_request(&host, "POST", upload, &[], b"");
    assert_eq!(status, 401);
    let scope = "repository:demo/app:pull,push";
    let challenge = header(&headers, "www-authenticate").unwrap();
    // Distribution lists the actions in either order (a Go map).
    assert!(
        challenge.contains(&format!("scope=\"{scope}\""))
            || challenge.contains("scope=\"repository:demo/app:push,pull\""),
        "{challenge}"
    );

    // Anonymous: pull only.
    let anonymous = format!("Bearer {}", fetch_token(&tokens, &[scope], None).unwrap());
    let (status, _, _) = http_request(&host, "POST", upload, &[("Authorization", &anonymous)], b"");
    assert_eq!(status, 401);
    let tags = "/v2/demo/app/tags/list";
    let (status, _, body) = http_get(&host, tags, &[("Authorization", &anonymous)]);
    assert_eq!(
        status,
        404,
        "authorized, no such repository: {}",
        String::from_utf8_lossy(&body)
    );

    // With the password: pull and push; the scope's ':' may come percent-encoded.
    let encoded = "repository%3Ademo/app%3Apull%2Cpush";
    let pusher = format!(
        "Bearer {}",
        fetch_token(&tokens, &[encoded], Some(&credentials)).unwrap()
    );
    let (status, _, _) = http_request(&host, "POST", upload, &[("Authorization", &pusher)], b"");
    assert_eq!(status, 202);
    assert_eq!(registry.uploads_in_progress("demo/app"), 1);

    // Wrong password, wrong service.
    let wrong = basic_auth(USER, "wrong");
    assert_eq!(fetch_token(&tokens, &[scope], Some(&wrong)), Err(401));
    let (status, _, _) = http_get(&tokens.host(), "/token?service=elsewhere", &[]);
    assert_eq!(status, 400);

    assert_eq!(tokens.tokens_issued(), 3);
    assert_eq!(tokens.rejected(), 2);
    assert_eq!(tokens.scopes(), vec![scope, scope]);
}
