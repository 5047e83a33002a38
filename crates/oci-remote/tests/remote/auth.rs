//! Authentication against real registries: htpasswd basic auth and distribution's token auth.

use oci_partial::random;
use oci_remote::{Client, Credential, Error, Keychain, WriteOptions};
use oci_types::Reference;

use crate::support::{Registry, TokenServer, PASSWORD, REFRESH_TOKEN, USER};

fn keychain(host: &str, password: &str) -> Keychain {
    let mut keychain = Keychain::new();
    keychain.insert(
        host,
        Credential::Basic {
            username: USER.to_owned(),
            password: password.to_owned(),
        },
    );
    keychain
}

#[test]
fn basic_auth_needs_the_right_credentials() {
    let Some(registry) = Registry::start_basic() else {
        return;
    };
    let reference: Reference = format!("{}/basic/image:v1", registry.host())
        .parse()
        .unwrap();
    let image = random::image(20, 1, 10_000);

    let anonymous = Client::default();
    let err = oci_remote::write_image(&anonymous, &reference, image.as_ref(), &WriteOptions::new())
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err}");

    let wrong = Client::builder()
        .keychain(keychain(&registry.host(), "not-the-password"))
        .build();
    let err = oci_remote::get(&wrong, &reference).unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err}");
    assert!(!err.to_string().contains("not-the-password"));

    let client = Client::builder()
        .keychain(keychain(&registry.host(), PASSWORD))
        .build();
    oci_remote::write_image(&client, &reference, image.as_ref(), &WriteOptions::new()).unwrap();
    let pulled = oci_remote::image(&client, &reference, None).unwrap();
    assert_eq!(pulled.digest().unwrap(), image.digest().unwrap());
    assert!(!format!("{client:?}").contains(PASSWORD));
}

#[test]
fn credentials_come_from_a_docker_config_file() {
    let Some(registry) = Registry::start_basic() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    let auth = oci_types::base64::encode(format!("{USER}:{PASSWORD}").as_bytes());
    std::fs::write(
        &path,
        format!(
            r#"{{"auths":{{"http://{}/v2/":{{"auth":"{auth}"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let client = Client::builder()
        .keychain(Keychain::load_file(&path).unwrap())
        .build();
    let reference: Reference = format!("{}/config/file:v1", registry.host())
        .parse()
        .unwrap();
    let image = random::image(21, 1, 1000);
    oci_remote::write_image(&client, &reference, image.as_ref(), &WriteOptions::new()).unwrap();
}

#[test]
fn bearer_tokens_are_fetched_per_scope() {
    let Some((registry, tokens)) = TokenServer::with_registry() else {
        return;
    };
    let reference: Reference = format!("{}/token/image:v1", registry.host())
        .parse()
        .unwrap();
    let image = random::image(22, 2, 50_000);
    let client = Client::builder()
        .keychain(keychain(&registry.host(), PASSWORD))
        .build();
    oci_remote::write_image(&client, &reference, image.as_ref(), &WriteOptions::new()).unwrap();
    let pulled = oci_remote::image(&client, &reference, None).unwrap();
    assert_eq!(pulled.digest().unwrap(), image.digest().unwrap());
    let scopes = tokens.scopes();
    assert!(
        scopes
            .iter()
            .any(|s| s == "repository:token/image:pull,push"),
        "{scopes:?}"
    );
    // Tokens are cached per scope set (pull; pull,push): a push and a pull of two layers make
    // a dozen requests, from two upload threads, but only two fetch a token.
    assert_eq!(tokens.tokens_issued(), 2, "{scopes:?}");

    // Anonymous users may pull (the token server grants pull) but not push.
    let anonymous = Client::default();
    let pulled = oci_remote::image(&anonymous, &reference, None).unwrap();
    assert_eq!(pulled.digest().unwrap(), image.digest().unwrap());
    let other: Reference = format!("{}/token/other:v1", registry.host())
        .parse()
        .unwrap();
    let err = oci_remote::write_image(&anonymous, &other, image.as_ref(), &WriteOptions::new())
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err}");

    // Wrong credentials are refused by the token server.
    let wrong = Client::builder()
        .keychain(keychain(&registry.host(), "wrong"))
        .build();
    let err = oci_remote::get(&wrong, &reference).unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err}");
    assert!(tokens.rejected() >= 1);
}

#[test]
fn a_mount_asks_for_pull_on_the_source_repository() {
    let Some((registry, tokens)) = TokenServer::with_registry() else {
        return;
    };
    let client = Client::builder()
        .keychain(keychain(&registry.host(), PASSWORD))
        .build();
    let from: Reference = format!("{}/token/from:v1", registry.host())
        .parse()
        .unwrap();
    let to: Reference = format!("{}/token/to:v1", registry.host()).parse().unwrap();
    let image = random::image(23, 1, 50_000);
    oci_remote::write_image(&client, &from, image.as_ref(), &WriteOptions::new()).unwrap();
    oci_remote::write_image(
        &client,
        &to,
        image.as_ref(),
        &WriteOptions::new().mount_from("token/from"),
    )
    .unwrap();
    let scopes = tokens.scopes();
    assert!(
        scopes.iter().any(|s| s == "repository:token/from:pull"),
        "{scopes:?}"
    );
}

#[test]
fn an_identity_token_is_exchanged_by_the_oauth2_form() {
    let Some((registry, tokens)) = TokenServer::with_registry() else {
        return;
    };
    let reference: Reference = format!("{}/token/identity:v1", registry.host())
        .parse()
        .unwrap();
    let image = random::image(24, 1, 10_000);
    let with_token = |token: &str| {
        let mut keychain = Keychain::new();
        keychain.insert(
            &registry.host(),
            Credential::IdentityToken(token.to_owned()),
        );
        Client::builder().keychain(keychain).build()
    };
    let client = with_token(REFRESH_TOKEN);
    oci_remote::write_image(&client, &reference, image.as_ref(), &WriteOptions::new()).unwrap();
    assert!(tokens
        .scopes()
        .iter()
        .any(|s| s == "repository:token/identity:pull,push"));

    let wrong = with_token("not-the-refresh-token");
    let err = oci_remote::get(&wrong, &reference).unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err}");
    assert!(!err.to_string().contains("not-the-refresh-token"), "{err}");
}
