//! `login` and `logout`: credentials checked against the registry, then written to (or
//! removed from) an `auth.json` as podman and skopeo keep it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::challenge::AuthScheme;
use crate::client::Client;
use crate::credentials::{normalize_registry, Credential};
use crate::error::{CredentialsKind, Error, Result, UnauthorizedKind};
use crate::http::{Anonymous, Call};
use crate::token;

impl Client {
    /// Checks that `credential` is accepted by registry `host[:port]`, as `podman login`
    /// does before it stores anything: a registry asking for basic auth must answer `GET
    /// /v2/` with 200 to it; one using tokens must hand out a token for it. A registry that
    /// asks for no authentication at all accepts anything.
    ///
    /// # Errors
    ///
    /// [`Error::Unauthorized`] when the registry or its token server refuses the
    /// credentials; the connection and TLS errors of any request.
    pub fn check_credentials(&self, host: &str, credential: &Credential) -> Result<()> {
        let registry = self.registry(host);
        let ping = registry.ping(self.http())?;
        let Some(challenge) = &ping.challenge else {
            return Ok(());
        };
        match challenge.scheme {
            AuthScheme::Bearer => {
                token::fetch(self.http(), host, challenge, &[], credential).map(|_| ())
            }
            _ => {
                let mut call = Call::new("GET", format!("{}/v2/", ping.base));
                if let Some(basic) = credential.basic_header() {
                    call = call.header("Authorization", basic);
                }
                let answer = self.http().send(call, &Anonymous)?;
                match answer.status() {
                    200..=299 => Ok(()),
                    status => Err(Error::Unauthorized {
                        registry: host.to_owned(),
                        kind: UnauthorizedKind::CredentialsRefused { status },
                    }),
                }
            }
        }
    }
}

/// An `auth.json` (podman's, skopeo's; docker's `config.json` has the same `auths`), edited
/// in place: other registries' entries and other fields are kept as they were.
#[derive(Debug)]
pub struct AuthFile {
    path: PathBuf,
    top: Map<String, Value>,
}

impl AuthFile {
    /// The file `podman login` writes by default: `$REGISTRY_AUTH_FILE`, else
    /// `$XDG_RUNTIME_DIR/containers/auth.json`, else `$HOME/.config/containers/auth.json`
    /// (each of which [`crate::Keychain::load_default`] reads); `None` when none of those
    /// variables is set.
    pub fn default_path() -> Option<PathBuf> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(file) = var("REGISTRY_AUTH_FILE") {
            return Some(PathBuf::from(file));
        }
        if let Some(dir) = var("XDG_RUNTIME_DIR") {
            return Some(Path::new(&dir).join("containers").join("auth.json"));
        }
        var("HOME").map(|home| Path::new(&home).join(".config/containers/auth.json"))
    }

    /// The file at `path`; empty when there is none yet.
    ///
    /// # Errors
    ///
    /// [`Error::Credentials`] when it exists but cannot be read or is not a JSON object.
    pub fn open(path: impl Into<PathBuf>) -> Result<AuthFile> {
        let path = path.into();
        let bad = |kind| Error::Credentials {
            path: path.clone(),
            kind,
        };
        let top = match fs::read(&path) {
            Ok(bytes) => {
                // Checks the whole file as credentials first (size, entries).
                crate::credentials::Keychain::from_docker_config(&bytes, &path)?;
                match serde_json::from_slice::<Value>(&bytes) {
                    Ok(Value::Object(top)) => top,
                    _ => return Err(bad(CredentialsKind::NotAnObject)),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Map::new(),
            Err(e) => return Err(bad(CredentialsKind::Read(e))),
        };
        Ok(AuthFile { path, top })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores `username` and `password` for `registry` (`{"auth": base64(user:password)}`
    /// under the registry's host, replacing any entry for another spelling of it).
    pub fn set(&mut self, registry: &str, username: &str, password: &str) {
        let host = normalize_registry(registry);
        let auths = self.auths();
        auths.retain(|key, _| normalize_registry(key) != host);
        let mut entry = Map::new();
        entry.insert(
            "auth".to_owned(),
            Value::String(oci_types::base64::encode(
                format!("{username}:{password}").as_bytes(),
            )),
        );
        auths.insert(host, Value::Object(entry));
    }

    /// Removes every entry for `registry`; `false` when there was none.
    pub fn remove(&mut self, registry: &str) -> bool {
        let host = normalize_registry(registry);
        let auths = self.auths();
        let before = auths.len();
        auths.retain(|key, _| normalize_registry(key) != host);
        auths.len() != before
    }

    /// Writes the file atomically (a temporary file beside it, readable by its owner only,
    /// renamed over it), creating its directory.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] naming the file.
    pub fn save(&self) -> Result<()> {
        let io = |e| Error::io(format!("writing {}", self.path.display()), e);
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&dir).map_err(io)?;
        let mut bytes = serde_json::to_vec_pretty(&Value::Object(self.top.clone()))
            .map_err(|e| io(std::io::Error::other(e)))?;
        bytes.push(b'\n');
        let (temp, mut file) = tempfile_in(&dir).map_err(io)?;
        let written = file.write_all(&bytes).map_err(io).and_then(|()| {
            oci_types::fs::commit(&file, &temp, &self.path).map_err(|e| io(e.source))
        });
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written
    }

    fn auths(&mut self) -> &mut Map<String, Value> {
        let slot = self
            .top
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        match slot {
            Value::Object(map) => map,
            _ => unreachable!("made an object above"),
        }
    }
}

/// A new file `.auth.json.RANDOM` in `dir`, mode 0600.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, fs::File)> {
    use std::os::unix::fs::OpenOptionsExt;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    for attempt in 0..100u32 {
        let path = dir.join(format!(
            ".auth.json.{}.{nanos}.{attempt}",
            std::process::id()
        ));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary name"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::credentials::Keychain;

    #[test]
    fn set_and_remove_keep_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/auth.json");
        let mut file = AuthFile::open(&path).unwrap();
        file.set("https://reg.example:5000/v2/", "joe", "pw");
        file.set("other.example", "ann", "pw2");
        file.save().unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let keys = Keychain::load_file(&path).unwrap();
        assert_eq!(
            keys.get("reg.example:5000"),
            Credential::Basic {
                username: "joe".into(),
                password: "pw".into()
            }
        );
        let mut file = AuthFile::open(&path).unwrap();
        assert!(file.remove("reg.example:5000"));
        assert!(!file.remove("reg.example:5000"));
        file.save().unwrap();
        let keys = Keychain::load_file(&path).unwrap();
        assert!(keys.get("reg.example:5000").is_anonymous());
        assert!(!keys.get("other.example").is_anonymous());
    }
}
