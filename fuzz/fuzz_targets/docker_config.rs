//! `oci_remote::Keychain::from_docker_config`: never panics on any bytes; fails only with
//! `Error::Credentials` naming the file; the `Debug` of every credential read shows no secret.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use oci_remote::{Credential, Error, Keychain};

const PATH: &str = "/fuzz/config.json";

fuzz_target!(|bytes: &[u8]| {
    match Keychain::from_docker_config(bytes, Path::new(PATH)) {
        Ok(keys) => {
            let _ = format!("{keys:?}");
            let Ok(serde_json::Value::Object(doc)) = serde_json::from_slice(bytes) else {
                return;
            };
            let Some(serde_json::Value::Object(auths)) = doc.get("auths") else {
                return;
            };
            for host in auths.keys() {
                let cred = keys.get(host);
                let shown = format!("{cred:?}");
                let expected = match &cred {
                    Credential::Basic { username, .. } => {
                        format!("Basic {{ username: {username:?}, password: <redacted> }}")
                    }
                    Credential::IdentityToken(_) => "IdentityToken(<redacted>)".to_owned(),
                    Credential::RegistryToken(_) => "RegistryToken(<redacted>)".to_owned(),
                    _ => "Anonymous".to_owned(),
                };
                assert_eq!(shown, expected, "Debug of the credential of {host:?}");
            }
        }
        Err(e @ Error::Credentials { .. }) => {
            let text = e.to_string();
            assert!(text.starts_with(PATH), "{text}");
        }
        Err(other) => panic!("not a Credentials error: {other:?}"),
    }
});
