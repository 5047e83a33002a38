//! Credentials for registries, and reading them from docker's `config.json` and podman's
//! `auth.json` (the same format).
//!
//! Secrets never leave through `Debug` or an error message: passwords and tokens print as
//! `<redacted>`, and errors about a config file name the file and the registry only.
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::helper::{self, HELPER_TIMEOUT};
use crate::{CredentialHelperKind, CredentialsKind, Error, Result};

use oci_types::limits::MAX_DOCKER_CONFIG_SIZE as MAX_CONFIG_FILE_SIZE;

/// The key every spelling of Docker Hub is stored under.
const DOCKER_HUB: &str = "docker.io";

/// The key docker itself writes for Docker Hub; it wins over other spellings in one file.
const DOCKER_HUB_LEGACY_KEY: &str = "https://index.docker.io/v1/";

/// How to authenticate to one registry.
///
/// Its `Debug` shows the user name but never the password or a token:
///
/// ```
/// use oci_remote::Credential;
///
/// let cred = Credential::Basic { username: "joe".into(), password: "s3cret".into() };
/// assert_eq!(format!("{cred:?}"), r#"Basic { username: "joe", password: <redacted> }"#);
/// assert_eq!(cred.basic_header().as_deref(), Some("Basic am9lOnMzY3JldA=="));
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Credential {
    /// No credentials: anonymous access (a token server may still hand out a token).
    #[default]
    Anonymous,
    /// A user name and password (or a personal access token as the password).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken` of `config.json`), exchanged at the token
    /// server for access tokens.
    IdentityToken(String),
    /// A bearer token sent to the registry as is (`registrytoken` of `config.json`).
    RegistryToken(String),
}

impl Credential {
    /// The `Authorization` header value for [`Credential::Basic`] (`Basic base64(user:pass)`);
    /// `None` for the other kinds.
    pub fn basic_header(&self) -> Option<String> {
        match self {
            Credential::Basic { username, password } => Some(format!(
                "Basic {}",
                oci_types::base64::encode(format!("{username}:{password}").as_bytes())
            )),
            _ => None,
        }
    }

    /// The credential in a credential helper's answer to `get`
    /// (`{"ServerURL":..,"Username":..,"Secret":..}`): a `Username` of `<token>` makes the
    /// secret an identity token, both empty are anonymous. `None` when the answer is not
    /// that JSON object.
    ///
    /// ```
    /// use oci_remote::Credential;
    ///
    /// let answer = br#"{"ServerURL":"r.example","Username":"joe","Secret":"pw"}"#;
    /// assert_eq!(
    ///     Credential::from_helper_answer(answer),
    ///     Some(Credential::Basic { username: "joe".into(), password: "pw".into() })
    /// );
    /// assert_eq!(Credential::from_helper_answer(b"nope"), None);
    /// ```
    pub fn from_helper_answer(bytes: &[u8]) -> Option<Credential> {
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(rename = "Username", default)]
            username: String,
            #[serde(rename = "Secret", default)]
            secret: String,
        }
        let answer: Answer =
            oci_types::json::parse_limited(bytes, "credential helper answer", MAX_CONFIG_FILE_SIZE)
                .ok()?;
        Some(match (answer.username.as_str(), answer.secret) {
            ("<token>", secret) => Credential::IdentityToken(secret),
            ("", secret) if secret.is_empty() => Credential::Anonymous,
            (_, secret) => Credential::Basic {
                username: answer.username,
                password: secret,
            },
        })
    }

    /// Whether this is [`Credential::Anonymous`].
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Credential::Anonymous)
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const REDACTED: &str = "<redacted>";
        match self {
            Credential::Anonymous => f.write_str("Anonymous"),
            Credential::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &format_args!("{REDACTED}"))
                .finish(),
            Credential::IdentityToken(_) => f
                .debug_tuple("IdentityToken")
                .field(&format_args!("{REDACTED}"))
                .finish(),
            Credential::RegistryToken(_) => f
                .debug_tuple("RegistryToken")
                .field(&format_args!("{REDACTED}"))
                .finish(),
        }
    }
}

/// Credentials by registry host.
///
/// Hosts are normalised as docker does: a scheme and a path are dropped
/// (`https://myreg:5000/v2/` is `myreg:5000`), case is ignored, and every spelling of Docker
/// Hub (`docker.io`, `index.docker.io`, `registry-1.docker.io`,
/// `https://index.docker.io/v1/`) is the same registry.
///
/// ```
/// use oci_remote::{Credential, Keychain};
///
/// let mut keys = Keychain::new();
/// keys.insert("https://index.docker.io/v1/", Credential::RegistryToken("t".into()));
/// assert_eq!(keys.get("registry-1.docker.io"), Credential::RegistryToken("t".into()));
/// assert_eq!(keys.get("ghcr.io"), Credential::Anonymous);
/// ```
///
/// **Credential helpers.** A `config.json` may keep its secrets in a helper program
/// (`credsStore`, `credHelpers`: `docker-credential-desktop`, `-pass`, `-ecr-login`, ...).
/// [`Keychain::get`] answers what the files hold and never runs a program;
/// [`Keychain::resolve`] (what a [`crate::Client`] uses, once per registry) runs the helper
/// when the files hold nothing for the registry, as docker does.
#[derive(Clone, Default)]
pub struct Keychain {
    auths: BTreeMap<String, Credential>,
    helpers: BTreeMap<String, String>,
    creds_store: Option<String>,
    helper_timeout: Option<std::time::Duration>,
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Credential's Debug redacts the secrets.
        f.debug_struct("Keychain")
            .field("auths", &self.auths)
            .field("cred_helpers", &self.helpers)
            .field("creds_store", &self.creds_store)
            .finish()
    }
}

impl Keychain {
    /// An empty keychain: every registry anonymous.
    pub fn new() -> Keychain {
        Keychain::default()
    }

    /// Sets the credential of `registry` (any spelling docker accepts), replacing any.
    pub fn insert(&mut self, registry: &str, cred: Credential) {
        self.auths.insert(normalize_registry(registry), cred);
    }

    /// The credential of `registry` (`host[:port]`, or any spelling docker accepts);
    /// [`Credential::Anonymous`] when there is none.
    pub fn get(&self, registry: &str) -> Credential {
        self.auths
            .get(&normalize_registry(registry))
            .cloned()
            .unwrap_or_default()
    }

    /// The credential helper a loaded config file names for `registry` (its `credHelpers`
    /// entry, else its `credsStore`): see [`Keychain::resolve`].
    pub fn helper(&self, registry: &str) -> Option<&str> {
        self.helpers
            .get(&normalize_registry(registry))
            .or(self.creds_store.as_ref())
            .map(String::as_str)
    }

    /// The credential of `registry` as docker finds it: the one stored in the file, else the
    /// answer of its credential helper ([`Keychain::helper`]), run as
    /// `docker-credential-NAME get` and killed after [`crate::HELPER_TIMEOUT`]; anonymous when
    /// neither has one (a helper saying `credentials not found` included).
    ///
    /// # Errors
    ///
    /// [`Error::CredentialHelper`] when the helper is missing, fails, times out or answers
    /// something else than credentials; its message is in the error.
    pub fn resolve(&self, registry: &str) -> Result<Credential> {
        let stored = self.get(registry);
        if !stored.is_anonymous() {
            return Ok(stored);
        }
        match self.helper(registry) {
            Some(helper) => {
                let host = normalize_registry(registry);
                let timeout = self.helper_timeout.unwrap_or(HELPER_TIMEOUT);
                match helper::get(helper, &host, timeout)? {
                    None => Ok(Credential::Anonymous),
                    Some(answer) => Credential::from_helper_answer(&answer).ok_or_else(|| {
                        Error::CredentialHelper {
                            helper: helper.to_owned(),
                            registry: host,
                            kind: CredentialHelperKind::NotCredentials,
                        }
                    }),
                }
            }
            None => Ok(Credential::Anonymous),
        }
    }

    /// Sets the credential helper of every registry (`credsStore`), as a config file would.
    pub fn set_creds_store(&mut self, helper: impl Into<String>) {
        self.creds_store = Some(helper.into());
    }

    /// Sets the credential helper of `registry` (a `credHelpers` entry), as a config file
    /// would.
    pub fn set_cred_helper(&mut self, registry: &str, helper: impl Into<String>) {
        self.helpers
            .insert(normalize_registry(registry), helper.into());
    }

    /// How long a credential helper may run (default [`crate::HELPER_TIMEOUT`]).
    pub fn set_helper_timeout(&mut self, timeout: std::time::Duration) {
        self.helper_timeout = Some(timeout);
    }

    /// Parses a docker `config.json` (or podman `auth.json`); `path` names it in errors.
    ///
    /// Each entry of `auths` gives, in this order of precedence: `registrytoken` (a bearer
    /// token), `identitytoken` (a refresh token), `auth` (`base64(user:password)`, which wins
    /// over `username` and `password` as with docker), `username` and `password`; an empty
    /// entry is anonymous. Field names match case-insensitively, as Go's `encoding/json`
    /// does; other fields (`email`, ...) are ignored. `credsStore` and `credHelpers` are
    /// recorded here and run by [`Keychain::resolve`].
    ///
    /// ```
    /// use std::path::Path;
    /// use oci_remote::{Credential, Keychain};
    ///
    /// let json = br#"{"auths": {"https://myreg:5000/v2/": {"auth": "am9lOnMzY3JldA=="}}}"#;
    /// let keys = Keychain::from_docker_config(json, Path::new("config.json"))?;
    /// assert_eq!(
    ///     keys.get("myreg:5000"),
    ///     Credential::Basic { username: "joe".into(), password: "s3cret".into() }
    /// );
    /// # Ok::<(), oci_remote::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Credentials`] naming `path` (and the registry of a bad entry, never a
    /// secret): not JSON, over 4 MiB, nested too deep, a field of the wrong type, an `auth`
    /// that is not base64 or has no `:`.
    pub fn from_docker_config(bytes: &[u8], path: &Path) -> Result<Keychain> {
        let bad = |kind| Error::Credentials {
            path: path.to_owned(),
            kind,
        };
        let doc: Value =
            oci_types::json::parse_limited(bytes, "docker config", MAX_CONFIG_FILE_SIZE)
                .map_err(|e| bad(CredentialsKind::Parse(Box::new(e))))?;
        let Value::Object(top) = doc else {
            return Err(bad(CredentialsKind::NotAnObject));
        };
        let mut keychain = Keychain::new();
        // The normalised host, and whether the entry came from its canonical key.
        let mut canonical: BTreeMap<String, bool> = BTreeMap::new();
        if let Some(auths) = object_field(&top, "auths").map_err(&bad)? {
            for (key, entry) in auths {
                let cred = entry_credential(key, entry).map_err(&bad)?;
                let host = normalize_registry(key);
                let is_canonical = if host == DOCKER_HUB {
                    key == DOCKER_HUB_LEGACY_KEY
                } else {
                    *key == host
                };
                // Two spellings of one registry: the canonical key wins, else the first.
                let replace = match canonical.get(&host) {
                    None => true,
                    Some(had_canonical) => is_canonical && !had_canonical,
                };
                if replace {
                    canonical.insert(host.clone(), is_canonical);
                    keychain.auths.insert(host, cred);
                }
            }
        }
        if let Some(helpers) = object_field(&top, "credHelpers").map_err(&bad)? {
            for (key, helper) in helpers {
                let Value::String(helper) = helper else {
                    return Err(bad(CredentialsKind::HelperNotAString {
                        registry: key.clone(),
                    }));
                };
                keychain
                    .helpers
                    .entry(normalize_registry(key))
                    .or_insert_with(|| helper.clone());
            }
        }
        match field(&top, "credsStore") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.is_empty() => {}
            Some(Value::String(s)) => keychain.creds_store = Some(s.clone()),
            Some(_) => return Err(bad(CredentialsKind::CredsStoreNotAString)),
        }
        Ok(keychain)
    }

    /// Reads and parses the config file at `path` (see [`Keychain::from_docker_config`]).
    ///
    /// # Errors
    ///
    /// [`Error::Credentials`] when the file cannot be read (a missing file included), is
    /// over 4 MiB, or does not parse.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Keychain> {
        let path = path.as_ref();
        match read_optional(path)? {
            Some(keychain) => Ok(keychain),
            None => Err(Error::Credentials {
                path: path.to_owned(),
                kind: CredentialsKind::Missing,
            }),
        }
    }

    /// The credentials docker and podman would use, from the files they read, in their
    /// order: `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
    /// `$HOME/.config/containers/auth.json`, then
    /// `$DOCKER_CONFIG/config.json` or else `$HOME/.docker/config.json`. Missing files (and
    /// unset variables) are skipped; for a registry in several files the earliest file
    /// with credentials for it wins (an empty, anonymous entry does not hide a later one).
    ///
    /// Credential helpers are recorded, to be run by [`Keychain::resolve`].
    ///
    /// # Errors
    ///
    /// [`Error::Credentials`] when a file that exists cannot be read, is over 4 MiB, or
    /// does not parse.
    pub fn load_default() -> Result<Keychain> {
        load_paths(&default_paths(|name| std::env::var_os(name)))
    }

    /// Adds what `later` has that `self` lacks: registries it has no credentials for
    /// (or only anonymous ones), helpers, the default store.
    fn merge_missing(&mut self, later: Keychain) {
        for (host, cred) in later.auths {
            let slot = self.auths.entry(host).or_default();
            if slot.is_anonymous() {
                *slot = cred;
            }
        }
        for (host, helper) in later.helpers {
            self.helpers.entry(host).or_insert(helper);
        }
        if self.creds_store.is_none() {
            self.creds_store = later.creds_store;
        }
    }
}

/// The config files of [`Keychain::load_default`], first first, from the environment as
/// `env` gives it (empty variables count as unset).
fn default_paths(env: impl Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let mut paths = Vec::new();
    if let Some(file) = var("REGISTRY_AUTH_FILE") {
        paths.push(file);
    }
    if let Some(dir) = var("XDG_RUNTIME_DIR") {
        paths.push(dir.join("containers").join("auth.json"));
    }
    if let Some(home) = var("HOME") {
        // Where podman login writes without XDG_RUNTIME_DIR (and on macOS).
        paths.push(home.join(".config").join("containers").join("auth.json"));
    }
    if let Some(dir) = var("DOCKER_CONFIG") {
        paths.push(dir.join("config.json"));
    } else if let Some(home) = var("HOME") {
        paths.push(home.join(".docker").join("config.json"));
    }
    paths
}

/// The files at `paths` merged, earlier winning; missing ones skipped.
fn load_paths(paths: &[PathBuf]) -> Result<Keychain> {
    let mut keychain = Keychain::new();
    for path in paths {
        if let Some(found) = read_optional(path)? {
            keychain.merge_missing(found);
        }
    }
    Ok(keychain)
}

/// The keychain of the file at `path`, `None` when there is no such file.
fn read_optional(path: &Path) -> Result<Option<Keychain>> {
    let bad = |kind| Error::Credentials {
        path: path.to_owned(),
        kind,
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(bad(CredentialsKind::Open(e))),
    };
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(CredentialsKind::Read(e)))?;
    if bytes.len() as u64 > MAX_CONFIG_FILE_SIZE {
        return Err(bad(CredentialsKind::TooLarge {
            limit: MAX_CONFIG_FILE_SIZE,
        }));
    }
    Keychain::from_docker_config(&bytes, path).map(Some)
}

/// The registry key `registry` stands for, as docker's `ConvertToHostname` makes it: no
/// scheme, no path, lower case, and `docker.io` for every spelling of Docker Hub.
pub(crate) fn normalize_registry(registry: &str) -> String {
    let mut host = registry.trim();
    for scheme in ["https://", "http://"] {
        // `get`, not indexing: the cut may fall inside a multi-byte character.
        if let Some(rest) = host
            .get(..scheme.len())
            .filter(|prefix| prefix.eq_ignore_ascii_case(scheme))
            .and_then(|_| host.get(scheme.len()..))
        {
            host = rest;
            break;
        }
    }
    let host = host.split('/').next().unwrap_or(host).to_ascii_lowercase();
    match host.as_str() {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_owned(),
        _ => host,
    }
}

/// `obj[name]`: the exact key, else the first matching case-insensitively (Go's rule).
fn field<'v>(obj: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// `obj[name]` as an object; `None` when absent or null.
fn object_field<'v>(
    obj: &'v Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'v Map<String, Value>>, CredentialsKind> {
    match field(obj, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(_) => Err(CredentialsKind::FieldNotAnObject { field: name }),
    }
}

/// The credential of the `auths` entry of registry `key`. Error messages name the key and
/// the field, never a value.
fn entry_credential(key: &str, entry: &Value) -> Result<Credential, CredentialsKind> {
    let entry = match entry {
        Value::Null => return Ok(Credential::Anonymous),
        Value::Object(entry) => entry,
        _ => {
            return Err(CredentialsKind::EntryNotAnObject {
                registry: key.to_owned(),
            })
        }
    };
    let string = |name: &'static str| -> Result<Option<&str>, CredentialsKind> {
        match field(entry, name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(CredentialsKind::EntryFieldNotAString {
                registry: key.to_owned(),
                field: name,
            }),
        }
    };
    let registry_token = string("registrytoken")?;
    let identity_token = string("identitytoken")?;
    let (username, password) = match string("auth")? {
        Some(auth) => decode_auth(key, auth)?,
        None => {
            let username = string("username")?.unwrap_or_default();
            let password = string("password")?.unwrap_or_default();
            (username.to_owned(), password.to_owned())
        }
    };
    Ok(if let Some(token) = registry_token {
        Credential::RegistryToken(token.to_owned())
    } else if let Some(token) = identity_token {
        Credential::IdentityToken(token.to_owned())
    } else if username.is_empty() && password.is_empty() {
        Credential::Anonymous
    } else {
        Credential::Basic { username, password }
    })
}

/// `base64(user:password)` decoded, split at the first `:`. Like docker: line breaks in the
/// base64 are ignored and NULs around the password trimmed.
fn decode_auth(key: &str, auth: &str) -> Result<(String, String), CredentialsKind> {
    let registry = || key.to_owned();
    let cleaned: String = auth.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    let decoded =
        oci_types::base64::decode(&cleaned).ok_or_else(|| CredentialsKind::AuthNotBase64 {
            registry: registry(),
        })?;
    let decoded = String::from_utf8(decoded).map_err(|_| CredentialsKind::AuthNotUtf8 {
        registry: registry(),
    })?;
    let (username, password) =
        decoded
            .split_once(':')
            .ok_or_else(|| CredentialsKind::AuthNoColon {
                registry: registry(),
            })?;
    Ok((username.to_owned(), password.trim_matches('\0').to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // tests index what they just asserted
    use super::*;
    use oci_types::base64::encode;
    use proptest::prelude::*;

    fn parse(json: &str) -> Result<Keychain> {
        Keychain::from_docker_config(json.as_bytes(), Path::new("/home/u/.docker/config.json"))
    }

    fn basic(username: &str, password: &str) -> Credential {
        Credential::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    #[test]
    fn reads_every_kind_of_entry() {
        let keys = parse(&format!(
            r#"{{
                "auths": {{
                    "https://index.docker.io/v1/": {{"auth": "{hub}"}},
                    "ghcr.io": {{"username": "octo", "password": "ghp_x"}},
                    "quay.io": {{"auth": "{quay}", "username": "ignored", "password": "ignored"}},
                    "myreg.azurecr.io": {{"auth": "{zero}", "identitytoken": "refresh"}},
                    "tok.example": {{"registrytoken": "bearer", "identitytoken": "refresh"}},
                    "empty.example": {{}},
                    "null.example": null,
                    "blank.example": {{"auth": "", "username": "", "email": "x@y"}},
                    "http://myreg:5000/v2/": {{"Auth": "{mine}"}}
                }},
                "HttpHeaders": {{"User-Agent": "Docker-Client/24.0"}}
            }}"#,
            hub = encode(b"joe:hub:pass"),
            quay = encode(b"robot+ci:tok"),
            zero = encode(b"00000000-0000-0000-0000-000000000000:"),
            mine = encode(b"me:pw\0"),
        ))
        .unwrap();
        assert_eq!(keys.get("docker.io"), basic("joe", "hub:pass"));
        assert_eq!(keys.get("ghcr.io"), basic("octo", "ghp_x"));
        assert_eq!(keys.get("quay.io"), basic("robot+ci", "tok"));
        assert_eq!(
            keys.get("myreg.azurecr.io"),
            Credential::IdentityToken("refresh".into())
        );
        assert_eq!(
            keys.get("tok.example"),
            Credential::RegistryToken("bearer".into())
        );
        assert_eq!(keys.get("empty.example"), Credential::Anonymous);
        assert_eq!(keys.get("null.example"), Credential::Anonymous);
        assert_eq!(keys.get("blank.example"), Credential::Anonymous);
        assert_eq!(keys.get("myreg:5000"), basic("me", "pw"));
        assert_eq!(keys.get("unknown.example"), Credential::Anonymous);
        assert_eq!(keys.helper("ghcr.io"), None);
    }

    #[test]
    fn docker_hub_spellings_are_one_registry() {
        for key in [
            "https://index.docker.io/v1/",
            "index.docker.io",
            "registry-1.docker.io",
            "docker.io",
            "HTTPS://Index.Docker.IO/v1/",
        ] {
            let keys = parse(&format!(
                r#"{{"auths": {{"{key}": {{"auth": "{}"}}}}}}"#,
                encode(b"u:p")
            ))
            .unwrap();
            for lookup in [
                "docker.io",
                "index.docker.io",
                "registry-1.docker.io",
                "https://index.docker.io/v1/",
            ] {
                assert_eq!(keys.get(lookup), basic("u", "p"), "{key} by {lookup}");
            }
        }
    }

    #[test]
    fn docker_own_hub_key_wins_over_other_spellings() {
        let keys = parse(&format!(
            r#"{{"auths": {{"docker.io": {{"auth": "{a}"}}, "https://index.docker.io/v1/": {{"auth": "{b}"}}, "index.docker.io": {{"auth": "{a}"}}}}}}"#,
            a = encode(b"other:x"),
            b = encode(b"docker:y"),
        ))
        .unwrap();
        assert_eq!(keys.get("docker.io"), basic("docker", "y"));
        // For other registries the bare host wins over a URL spelling.
        let keys = parse(&format!(
            r#"{{"auths": {{"https://r.example/v2/": {{"auth": "{a}"}}, "r.example": {{"auth": "{b}"}}}}}}"#,
            a = encode(b"url:x"),
            b = encode(b"host:y"),
        ))
        .unwrap();
        assert_eq!(keys.get("r.example"), basic("host", "y"));
    }

    #[test]
    fn normalises_hosts_as_docker() {
        for (key, host) in [
            ("https://myreg:5000/v2/", "myreg:5000"),
            ("http://myreg:5000", "myreg:5000"),
            ("myreg:5000/some/path", "myreg:5000"),
            ("MyReg.Example", "myreg.example"),
            ("  ghcr.io  ", "ghcr.io"),
            ("http://[::1]:5000/v2/", "[::1]:5000"),
            ("https://index.docker.io/v1/", "docker.io"),
            ("registry-1.docker.io", "docker.io"),
            ("index.docker.io", "docker.io"),
            ("docker.io", "docker.io"),
        ] {
            assert_eq!(normalize_registry(key), host, "{key}");
        }
    }

    #[test]
    fn records_credential_helpers_without_running_them() {
        let keys = parse(
            r#"{"auths": {"ghcr.io": {}, "quay.io": {}}, "credsStore": "desktop",
                "credHelpers": {"123.dkr.ecr.us-east-1.amazonaws.com": "ecr-login", "https://gcr.io": "gcloud"}}"#,
        )
        .unwrap();
        assert_eq!(keys.get("ghcr.io"), Credential::Anonymous);
        assert_eq!(keys.helper("ghcr.io"), Some("desktop"));
        assert_eq!(
            keys.helper("123.dkr.ecr.us-east-1.amazonaws.com"),
            Some("ecr-login")
        );
        assert_eq!(keys.helper("gcr.io"), Some("gcloud"));
        assert_eq!(Keychain::new().helper("ghcr.io"), None);
    }

    #[test]
    fn bad_files_are_errors_naming_file_and_registry_not_secret() {
        let secret = "hunter2-secret";
        type Kind = fn(&CredentialsKind) -> bool;
        let cases: [(String, &str, Kind); 13] = [
            // Not base64.
            (
                format!(r#"{{"auths": {{"r.example": {{"auth": "{secret}!"}}}}}}"#),
                "r.example",
                |k: &CredentialsKind| matches!(k, CredentialsKind::AuthNotBase64 { registry } if registry == "r.example"),
            ),
            // No ':'.
            (
                format!(
                    r#"{{"auths": {{"r.example": {{"auth": "{}"}}}}}}"#,
                    encode(secret.as_bytes())
                ),
                "r.example",
                |k: &CredentialsKind| matches!(k, CredentialsKind::AuthNoColon { registry } if registry == "r.example"),
            ),
            // Not UTF-8.
            (
                format!(
                    r#"{{"auths": {{"r.example": {{"auth": "{}"}}}}}}"#,
                    encode(b"u:\xff\xfe")
                ),
                "r.example",
                |k: &CredentialsKind| matches!(k, CredentialsKind::AuthNotUtf8 { registry } if registry == "r.example"),
            ),
            // Wrong types.
            (
                r#"{"auths": {"r.example": {"password": 12345}}}"#.to_owned(),
                "r.example",
                |k: &CredentialsKind| matches!(k, CredentialsKind::EntryFieldNotAString { registry, field: "password" } if registry == "r.example"),
            ),
            (
                r#"{"auths": {"r.example": {"identitytoken": ["hunter2-secret"]}}}"#.to_owned(),
                "r.example",
                |k: &CredentialsKind| matches!(k, CredentialsKind::EntryFieldNotAString { registry, field: "identitytoken" } if registry == "r.example"),
            ),
            (
                r#"{"auths": {"r.example": "hunter2-secret"}}"#.to_owned(),
                "r.example",
                |k: &CredentialsKind| matches!(k, CredentialsKind::EntryNotAnObject { registry } if registry == "r.example"),
            ),
            (
                r#"{"auths": ["hunter2-secret"]}"#.to_owned(),
                "auths",
                |k: &CredentialsKind| {
                    matches!(k, CredentialsKind::FieldNotAnObject { field: "auths" })
                },
            ),
            (
                r#"{"credsStore": 1}"#.to_owned(),
                "credsStore",
                |k: &CredentialsKind| matches!(k, CredentialsKind::CredsStoreNotAString),
            ),
            (
                r#"{"credHelpers": {"r.example": 1}}"#.to_owned(),
                "r.example",
                |k: &CredentialsKind| matches!(k, CredentialsKind::HelperNotAString { registry } if registry == "r.example"),
            ),
            // Not JSON, not an object.
            (
                r#"{"auths": {"r.example": {"auth": "hunter2-secret"#.to_owned(),
                "JSON",
                |k: &CredentialsKind| matches!(k, CredentialsKind::Parse(e) if matches!(**e, oci_types::Error::Json { .. })),
            ),
            ("[]".to_owned(), "object", |k: &CredentialsKind| {
                matches!(k, CredentialsKind::NotAnObject)
            }),
            (
                "".to_owned(),
                "JSON",
                |k: &CredentialsKind| matches!(k, CredentialsKind::Parse(e) if matches!(**e, oci_types::Error::Json { .. })),
            ),
            (
                "[".repeat(100),
                "deeper",
                |k: &CredentialsKind| matches!(k, CredentialsKind::Parse(e) if matches!(**e, oci_types::Error::TooDeep { .. })),
            ),
        ];
        for (json, mentions, kind) in cases {
            match parse(&json) {
                Err(ref e @ Error::Credentials { kind: ref k, .. }) => {
                    assert!(kind(k), "{json}: {k:?}");
                    let text = e.to_string();
                    assert!(
                        text.starts_with("/home/u/.docker/config.json: "),
                        "{json}: {text}"
                    );
                    assert!(text.contains(mentions), "{json}: {text}");
                    assert!(!text.contains("hunter2"), "{json}: {text}");
                    assert!(!text.contains("12345"), "{json}: {text}");
                    assert!(!format!("{e:?}").contains("hunter2"), "{json}: {e:?}");
                }
                other => panic!("{json}: {other:?}"),
            }
        }
    }

    #[test]
    fn debug_never_shows_secrets() {
        let mut keys = Keychain::new();
        keys.insert("r.example", basic("joe", "pa55word"));
        keys.insert("t.example", Credential::IdentityToken("idtok123".into()));
        keys.insert("u.example", Credential::RegistryToken("regtok456".into()));
        for shown in [format!("{keys:?}"), format!("{keys:#?}")] {
            assert!(shown.contains("joe"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
            for secret in ["pa55word", "idtok123", "regtok456"] {
                assert!(!shown.contains(secret), "{shown}");
            }
        }
        assert_eq!(format!("{:?}", Credential::Anonymous), "Anonymous");
        assert_eq!(
            format!("{:?}", Credential::IdentityToken("x".into())),
            "IdentityToken(<redacted>)"
        );
    }

    #[test]
    fn basic_header_only_for_basic() {
        // RFC 7617's example.
        assert_eq!(
            basic("Aladdin", "open sesame").basic_header().as_deref(),
            Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        );
        assert_eq!(Credential::Anonymous.basic_header(), None);
        assert_eq!(Credential::RegistryToken("t".into()).basic_header(), None);
        assert_eq!(Credential::IdentityToken("t".into()).basic_header(), None);
    }

    #[test]
    fn insert_replaces_and_normalises() {
        let mut keys = Keychain::new();
        keys.insert("https://r.example/v2/", basic("a", "1"));
        keys.insert("R.example", basic("b", "2"));
        assert_eq!(keys.get("r.example"), basic("b", "2"));
        assert_eq!(Keychain::default().get("r.example"), Credential::Anonymous);
    }

    #[test]
    fn default_paths_follow_docker_and_podman() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(
            default_paths(env(&[
                ("REGISTRY_AUTH_FILE", "/a/auth.json"),
                ("XDG_RUNTIME_DIR", "/run/user/1000"),
                ("DOCKER_CONFIG", "/d"),
                ("HOME", "/home/u"),
            ])),
            [
                PathBuf::from("/a/auth.json"),
                PathBuf::from("/run/user/1000/containers/auth.json"),
                PathBuf::from("/home/u/.config/containers/auth.json"),
                PathBuf::from("/d/config.json"),
            ]
        );
        assert_eq!(
            default_paths(env(&[("HOME", "/home/u"), ("DOCKER_CONFIG", "")])),
            [
                PathBuf::from("/home/u/.config/containers/auth.json"),
                PathBuf::from("/home/u/.docker/config.json")
            ]
        );
        assert!(default_paths(env(&[])).is_empty());
    }

    #[test]
    fn files_merge_earlier_first_and_missing_ones_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("auth.json");
        let second = dir.path().join("config.json");
        std::fs::write(
            &first,
            format!(
                r#"{{"auths": {{"a.example": {{"auth": "{}"}}, "c.example": {{}}}}, "credHelpers": {{"h.example": "one"}}}}"#,
                encode(b"first:1")
            ),
        )
        .unwrap();
        std::fs::write(
            &second,
            format!(
                r#"{{"auths": {{"a.example": {{"auth": "{x}"}}, "b.example": {{"auth": "{x}"}}, "c.example": {{"auth": "{x}"}}}},
                    "credHelpers": {{"h.example": "two"}}, "credsStore": "pass"}}"#,
                x = encode(b"second:2")
            ),
        )
        .unwrap();
        let missing = dir.path().join("missing.json");
        let not_a_dir = first.join("containers/auth.json");
        let keys = load_paths(&[missing.clone(), first, not_a_dir, second]).unwrap();
        assert_eq!(keys.get("a.example"), basic("first", "1"));
        assert_eq!(keys.get("b.example"), basic("second", "2"));
        // An anonymous entry of an earlier file does not hide a later credential.
        assert_eq!(keys.get("c.example"), basic("second", "2"));
        assert_eq!(keys.helper("h.example"), Some("one"));
        assert_eq!(keys.helper("a.example"), Some("pass"));

        assert!(load_paths(&[]).unwrap().get("a.example").is_anonymous());
        match Keychain::load_file(&missing) {
            Err(Error::Credentials {
                path,
                kind: CredentialsKind::Missing,
            }) => assert_eq!(path, missing),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn oversized_and_unreadable_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("config.json");
        let file = File::create(&big).unwrap();
        file.set_len(MAX_CONFIG_FILE_SIZE + 1).unwrap();
        let e = Keychain::load_file(&big).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Credentials {
                    kind: CredentialsKind::TooLarge {
                        limit: MAX_CONFIG_FILE_SIZE
                    },
                    ..
                }
            ),
            "{e}"
        );
        assert!(load_paths(&[big]).is_err());
        // Bytes over the limit, passed directly.
        let bytes = vec![b' '; MAX_CONFIG_FILE_SIZE as usize + 1];
        assert!(Keychain::from_docker_config(&bytes, Path::new("x")).is_err());
        // A directory where the file should be.
        let e = Keychain::load_file(dir.path()).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Credentials {
                    kind: CredentialsKind::Open(_) | CredentialsKind::Read(_),
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn load_file_reads_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"auths": {"r.example": {"registrytoken": "t"}}}"#).unwrap();
        assert_eq!(
            Keychain::load_file(&path).unwrap().get("r.example"),
            Credential::RegistryToken("t".into())
        );
    }

    fn no_nul() -> impl Strategy<Value = String> {
        any::<String>().prop_map(|s| s.replace('\0', ""))
    }

    proptest! {
        /// Any user (without ':') and password (anything, ':' and unicode included) written
        /// the way docker writes them reads back.
        #[test]
        fn config_json_round_trip(
            user in no_nul().prop_map(|s| s.replace(':', "")),
            password in no_nul(),
            host in "[a-z0-9.-]{1,20}(:[0-9]{1,5})?",
            as_fields in any::<bool>(),
            url_key in any::<bool>(),
        ) {
            let key = if url_key { format!("https://{host}/v2/") } else { host.clone() };
            let entry = if as_fields {
                serde_json::json!({"username": user, "password": password})
            } else {
                serde_json::json!({"auth": encode(format!("{user}:{password}").as_bytes())})
            };
            let json = serde_json::json!({"auths": {key: entry}});
            let keys = Keychain::from_docker_config(json.to_string().as_bytes(), Path::new("c"))
                .unwrap();
            let expected = if user.is_empty() && password.is_empty() {
                Credential::Anonymous
            } else {
                basic(&user, &password)
            };
            prop_assert_eq!(keys.get(&host), expected.clone());
            prop_assert_eq!(keys.get(&host.to_uppercase()), expected);
        }

        #[test]
        fn tokens_round_trip(token in "tok-[ -~]{0,40}", identity in any::<bool>()) {
            let field = if identity { "identitytoken" } else { "registrytoken" };
            let json = serde_json::json!({"auths": {"r.example": {field: token}}});
            let keys = Keychain::from_docker_config(json.to_string().as_bytes(), Path::new("c"))
                .unwrap();
            let expected = if identity {
                Credential::IdentityToken(token.clone())
            } else {
                Credential::RegistryToken(token.clone())
            };
            prop_assert_eq!(keys.get("r.example"), expected);
            let shown = format!("{keys:?}");
            prop_assert!(!shown.contains("tok-"), "{}", shown);
        }

        #[test]
        fn from_docker_config_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = Keychain::from_docker_config(&bytes, Path::new("c"));
        }

        #[test]
        fn any_registry_key_normalizes_without_panicking(key in "\\PC{0,24}") {
            let _ = normalize_registry(&key);
            let _ = normalize_registry(&format!("https:{key}"));
        }
    }

    /// Found by the `docker_config` fuzz target: a multi-byte character where a scheme's
    /// last byte would be.
    #[test]
    fn a_scheme_cut_inside_a_character_is_no_scheme() {
        assert_eq!(
            normalize_registry("https:W\u{452}ndex.docke/"),
            "https:w\u{452}ndex.docke"
        );
        assert_eq!(normalize_registry("http\u{452}//x"), "http\u{452}");
        let config = br#"{"auths":{"https:W\u0452ndex.docke/":{}}}"#;
        Keychain::from_docker_config(config, Path::new("c")).unwrap();
    }
}
