//! A registry with a certificate of its own CA (made by `openssl` in the test) and htpasswd
//! auth: the certificate error is named, `cert_dir`, `certs_d` and skipping verification
//! work, login checks credentials, and credential helpers serve them.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use oci_partial::random;
use oci_remote::testing::TestCerts;
use oci_remote::{
    Client, Credential, CredentialHelperKind, Error, Keychain, TlsFileKind, UnauthorizedKind,
    WriteOptions,
};
use oci_types::Reference;

use crate::support::{Registry, PASSWORD, USER};

fn basic() -> Credential {
    Credential::Basic {
        username: USER.to_owned(),
        password: PASSWORD.to_owned(),
    }
}

fn keychain(host: &str) -> Keychain {
    let mut keychain = Keychain::new();
    keychain.insert(host, basic());
    keychain
}

#[test]
fn self_signed_registry() {
    let Some(certs) = TestCerts::make() else {
        return;
    };
    let Some(registry) = Registry::start_tls(&certs, true) else {
        return;
    };
    let host = registry.host();
    let reference: Reference = format!("{host}/tls/image:v1").parse().unwrap();
    let image = random::image(3, 1, 1000);
    let push = |client: &Client| {
        oci_remote::write_image(client, &reference, image.as_ref(), &WriteOptions::new())
    };

    // Mozilla's roots do not know the CA: the certificate problem is in the message. (A
    // loopback registry with TLS settings is tried in HTTPS first; with none it is plain
    // HTTP, which a TLS registry answers 400: the HTTPS error must still be the one shown.)
    let unknown = Client::builder()
        .keychain(keychain(&host))
        .skip_tls_verify("no.such.host")
        .insecure(&host)
        .build();
    let err = push(&unknown).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(
        text.contains("certificate") || text.contains("UnknownIssuer"),
        "{text}"
    );
    assert!(!text.contains("not a registry"), "{text}");

    // The CA in a cert dir.
    let dir = tempfile::tempdir().unwrap();
    let cert_dir = dir.path().join("certs");
    fs::create_dir(&cert_dir).unwrap();
    fs::copy(certs.ca(), cert_dir.join("ca.crt")).unwrap();
    let client = Client::builder()
        .keychain(keychain(&host))
        .cert_dir(&cert_dir)
        .build();
    push(&client).unwrap();

    // The CA in certs.d/HOST/ (no port: every port of the host, as docker allows).
    let portless = dir.path().join("portless.d");
    fs::create_dir_all(portless.join("127.0.0.1")).unwrap();
    fs::copy(certs.ca(), portless.join("127.0.0.1").join("ca.crt")).unwrap();
    let client = Client::builder()
        .keychain(keychain(&host))
        .certs_d(vec![portless])
        .build();
    client.repository(&reference).tags().unwrap();

    // The CA in certs.d/HOST:PORT/.
    let certs_d = dir.path().join("certs.d");
    fs::create_dir_all(certs_d.join(&host)).unwrap();
    fs::copy(certs.ca(), certs_d.join(&host).join("ca.crt")).unwrap();
    let client = Client::builder()
        .keychain(keychain(&host))
        .certs_d(vec![certs_d.clone()])
        .build();
    assert_eq!(
        oci_remote::image(&client, &reference, None)
            .unwrap()
            .digest()
            .unwrap(),
        image.digest().unwrap()
    );

    // No verification at all.
    let client = Client::builder()
        .keychain(keychain(&host))
        .tls_verify(false)
        .build();
    oci_remote::image(&client, &reference, None).unwrap();

    // Wrong credentials are refused at login; right ones pass.
    let trusted = Client::builder().cert_dir(&cert_dir).build();
    trusted.check_credentials(&host, &basic()).unwrap();
    let err = trusted
        .check_credentials(
            &host,
            &Credential::Basic {
                username: USER.to_owned(),
                password: "wrong".to_owned(),
            },
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unauthorized {
                kind: UnauthorizedKind::CredentialsRefused { status: 401 },
                ..
            }
        ),
        "{err:?}"
    );

    // A credential helper serves the credentials; its failure is reported with its message.
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    let helper = bin.join("docker-credential-ocikit-test");
    fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\nif [ \"$server\" = \"{host}\" ]; then\n  \
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n\
             else\n  echo 'credentials not found in native keychain'; exit 1\nfi\n"
        ),
    )
    .unwrap();
    fs::set_permissions(&helper, fs::Permissions::from_mode(0o755)).unwrap();
    let failing = bin.join("docker-credential-ocikit-broken");
    fs::write(
        &failing,
        "#!/bin/sh\necho 'the keyring is locked' >&2\nexit 3\n",
    )
    .unwrap();
    fs::set_permissions(&failing, fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // SAFETY of the test: PATH only gains a directory; the other tests do not depend on it.
    std::env::set_var("PATH", path);

    let mut helped = Keychain::new();
    helped.set_creds_store("ocikit-test");
    assert_eq!(helped.resolve(&host).unwrap(), basic());
    assert!(helped.resolve("elsewhere.example").unwrap().is_anonymous());
    let client = Client::builder()
        .keychain(helped)
        .cert_dir(&cert_dir)
        .build();
    push(&client).unwrap();

    // A helper that hangs is killed after the timeout, and says so.
    let slow = bin.join("docker-credential-ocikit-slow");
    fs::write(&slow, "#!/bin/sh\nexec sleep 30\n").unwrap();
    fs::set_permissions(&slow, fs::Permissions::from_mode(0o755)).unwrap();
    let mut hanging = Keychain::new();
    hanging.set_creds_store("ocikit-slow");
    hanging.set_helper_timeout(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let err = hanging.resolve(&host).unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(
        matches!(
            err,
            Error::CredentialHelper {
                kind: CredentialHelperKind::Timeout { .. },
                ..
            }
        ),
        "{err}"
    );

    // A registry that asks for no credentials never runs the helper.
    if let Some(open) = Registry::start() {
        let mut broken = Keychain::new();
        broken.set_creds_store("ocikit-broken");
        let client = Client::builder().keychain(broken).build();
        let open_ref: Reference = format!("{}/open/image:v1", open.host()).parse().unwrap();
        oci_remote::write_image(&client, &open_ref, image.as_ref(), &WriteOptions::new()).unwrap();
    }

    let mut broken = Keychain::new();
    broken.set_cred_helper(&host, "ocikit-broken");
    let client = Client::builder()
        .keychain(broken)
        .cert_dir(&cert_dir)
        .build();
    let err = push(&client).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::CredentialHelper {
                kind: CredentialHelperKind::Failed { message: Some(m), .. },
                ..
            } if m == "the keyring is locked"
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("the keyring is locked"), "{err}");
}

#[test]
fn client_certificates() {
    let Some(certs) = TestCerts::make() else {
        return;
    };
    let Some(registry) = Registry::start_mtls(&certs) else {
        return;
    };
    let host = registry.host();
    let reference: Reference = format!("{host}/mtls/image:v1").parse().unwrap();
    let image = random::image(4, 1, 1000);
    let dir = tempfile::tempdir().unwrap();

    // The CA alone: the registry refuses the handshake.
    let ca_only = dir.path().join("ca-only");
    fs::create_dir(&ca_only).unwrap();
    fs::copy(certs.ca(), ca_only.join("ca.crt")).unwrap();
    let client = Client::builder().cert_dir(&ca_only).build();
    let err = oci_remote::write_image(&client, &reference, image.as_ref(), &WriteOptions::new())
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");

    // certs.d/HOST:PORT with the client certificate and its key: accepted.
    let certs_d = dir.path().join("certs.d");
    let host_dir = certs_d.join(&host);
    fs::create_dir_all(&host_dir).unwrap();
    fs::copy(certs.ca(), host_dir.join("ca.crt")).unwrap();
    fs::copy(certs.client_cert(), host_dir.join("client.cert")).unwrap();
    fs::copy(certs.client_key(), host_dir.join("client.key")).unwrap();
    let client = Client::builder().certs_d(vec![certs_d]).build();
    oci_remote::write_image(&client, &reference, image.as_ref(), &WriteOptions::new()).unwrap();

    // A certificate without its key is a clear error naming the file.
    fs::remove_file(host_dir.join("client.key")).unwrap();
    let client = Client::builder()
        .certs_d(vec![dir.path().join("certs.d")])
        .build();
    let err = oci_remote::get(&client, &reference).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::TlsFiles {
                kind: TlsFileKind::KeyMissing { key },
                ..
            } if key.ends_with("client.key")
        ),
        "{err:?}"
    );
}
