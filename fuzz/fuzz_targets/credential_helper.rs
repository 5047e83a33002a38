//! `oci_remote::Credential::from_helper_answer` (what a `docker-credential-NAME get` prints):
//! never panics on any bytes; whatever it reads, its `Debug` shows no secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_remote::Credential;

fuzz_target!(|bytes: &[u8]| {
    let Some(cred) = Credential::from_helper_answer(bytes) else {
        return;
    };
    let shown = format!("{cred:?}");
    match &cred {
        Credential::Basic { username, password } => {
            assert_eq!(
                shown,
                format!("Basic {{ username: {username:?}, password: <redacted> }}")
            );
            assert!(!username.is_empty() || !password.is_empty());
        }
        Credential::IdentityToken(_) => assert_eq!(shown, "IdentityToken(<redacted>)"),
        Credential::Anonymous => assert_eq!(shown, "Anonymous"),
        other => panic!("a helper answer gave {other:?}"),
    }
});
