//! Credential helpers, as docker runs them: `docker-credential-NAME get` with the server
//! URL on stdin, answering `{"ServerURL":..,"Username":..,"Secret":..}` on stdout; a
//! `Username` of `<token>` makes `Secret` an identity token. A helper that does not know the
//! registry says `credentials not found in native keychain`, which is no error: the
//! registry is then spoken to anonymously.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{CredentialHelperKind, Error, Result};

/// How long a helper may take before it is killed (a helper may ask the user to unlock a
/// keyring; longer than that is a hang).
pub const HELPER_TIMEOUT: Duration = Duration::from_secs(60);

use oci_types::limits::MAX_HELPER_OUTPUT as MAX_OUTPUT;

/// What docker's helpers print when they have nothing for a server.
const NOT_FOUND: &str = "credentials not found in native keychain";

/// The server URL docker hands a helper for `registry` (normalised host).
fn server_url(registry: &str) -> &str {
    if registry == "docker.io" {
        "https://index.docker.io/v1/"
    } else {
        registry
    }
}

/// Runs `docker-credential-HELPER get` for `registry`, killing it after `timeout`.
/// Its stdout when it answered, `None` when it has nothing for the registry.
pub(crate) fn get(helper: &str, registry: &str, timeout: Duration) -> Result<Option<Vec<u8>>> {
    let fail = |kind| Error::CredentialHelper {
        helper: helper.to_owned(),
        registry: registry.to_owned(),
        kind,
    };
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| {
            fail(match source.kind() {
                std::io::ErrorKind::NotFound => CredentialHelperKind::NotOnPath {
                    program: program.clone(),
                },
                _ => CredentialHelperKind::Spawn {
                    program: program.clone(),
                    source,
                },
            })
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading makes this a broken pipe: its exit status and
        // message say more than that.
        let _ = stdin.write_all(format!("{}\n", server_url(registry)).as_bytes());
    }
    let collect = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(pipe) = pipe {
                let _ = pipe.take(MAX_OUTPUT).read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = collect(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = collect(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(CredentialHelperKind::Timeout { timeout }));
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(source) => {
                return Err(fail(CredentialHelperKind::Wait {
                    program: program.clone(),
                    source,
                }))
            }
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).trim().to_owned();
    if !status.success() {
        let message = [text(&stdout), text(&stderr)]
            .into_iter()
            .filter(|m| !m.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        if message.contains(NOT_FOUND) {
            return Ok(None);
        }
        let message = message
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(300)
            .collect::<String>();
        return Err(fail(CredentialHelperKind::Failed {
            status,
            message: (!message.is_empty()).then_some(message),
        }));
    }
    Ok(Some(stdout))
}
