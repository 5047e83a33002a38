//! The one error type of this crate.

use std::path::PathBuf;

use oci_types::MediaType;

/// Everything that can go wrong talking to a registry.
///
/// Each variant names what it concerns: the registry, the repository, the URL asked, the
/// digest. Credentials and tokens never appear in an error's text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry answered with an unexpected status. `code` and `message` are the first
    /// entry of the distribution API's error body (`{"errors":[{"code":..,"message":..}]}`)
    /// when it sent one.
    #[error("{method} {url}: {status}{}", code_message(code, message))]
    Status {
        /// The HTTP method.
        method: &'static str,
        /// The URL, without query credentials (there never are any).
        url: String,
        /// The HTTP status.
        status: u16,
        /// The distribution error code (`BLOB_UNKNOWN`, `MANIFEST_INVALID`, ...).
        code: Option<String>,
        /// The error's message.
        message: Option<String>,
    },
    /// The connection failed (refused, reset, timed out, TLS) after every retry.
    #[error("{method} {url}: {source}")]
    Transport {
        /// The HTTP method.
        method: &'static str,
        /// The URL.
        url: String,
        /// What the HTTP client reported (its own error type, boxed so that this crate's API
        /// does not depend on the HTTP client's version).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The registry refused the credentials, or asked for a kind of authentication this crate
    /// does not speak.
    #[error("authentication to {registry} failed: {reason}")]
    Unauthorized {
        /// The registry host (`host[:port]`).
        registry: String,
        /// Why (the status and message of the registry or token server).
        reason: String,
    },
    /// A plain-HTTP registry that is neither on a loopback address nor explicitly allowed.
    #[error("refusing plain HTTP to {registry}: only loopback registries, or those allowed with `insecure`, may use it")]
    InsecureRefused {
        /// The registry host.
        registry: String,
    },
    /// A manifest, index or blob the registry does not have.
    #[error("{what} {reference} not found in {repository}")]
    NotFound {
        /// `"manifest"` or `"blob"`.
        what: &'static str,
        /// The tag or digest asked for.
        reference: String,
        /// `host/repository`.
        repository: String,
    },
    /// The registry's answer breaks the protocol (no `Location` after starting an upload, a
    /// body that is not the JSON it must be, a `Docker-Content-Digest` that disagrees).
    #[error("{url}: invalid response: {reason}")]
    InvalidResponse {
        /// The URL asked.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// `GET /v2/` answered neither 2xx nor 401: the server is not a registry (or a TLS
    /// server answered plain HTTP).
    #[error("GET {url} answered {status}: not a registry")]
    NotARegistry {
        /// The URL asked (`BASE/v2/`).
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// A manifest whose media type is neither an image manifest nor an index this crate reads.
    #[error("{reference}: unsupported manifest media type {media_type}")]
    UnsupportedMediaType {
        /// The reference asked for.
        reference: String,
        /// The media type the registry sent.
        media_type: MediaType,
    },
    /// A `WWW-Authenticate` challenge or `Link` header that cannot be parsed.
    #[error("invalid {header} header: {kind}")]
    InvalidHeader {
        /// The header's name.
        header: &'static str,
        /// What is wrong, and where.
        kind: HeaderErrorKind,
    },
    /// A docker `config.json` (or podman `auth.json`) that cannot be read or parsed.
    #[error("{}: {reason}", path.display())]
    Credentials {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A TLS certificate or key file (a CA file, a cert dir's `*.crt`, `*.cert`, `*.key`)
    /// that cannot be read or holds no certificate or key.
    #[error("TLS file {}: {reason}", path.display())]
    TlsFiles {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A credential helper (`docker-credential-NAME`) failed, timed out or answered
    /// something that is not credentials. `reason` is the helper's own message.
    #[error("credential helper docker-credential-{helper} for {registry}: {reason}")]
    CredentialHelper {
        /// The helper's name (`desktop`, `pass`, `ecr-login`, ...).
        helper: String,
        /// The registry asked for.
        registry: String,
        /// Why.
        reason: String,
    },
    /// The registry does not allow an operation: it answered 405 Method Not Allowed
    /// (deletion is off), or refused a tag where only a digest is accepted (distribution
    /// answers a `DELETE` by tag with 400 `DIGEST_INVALID`).
    #[error("{url}: the registry does not allow {operation} ({status}){}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    NotAllowed {
        /// What was asked (`"deleting a manifest"`).
        operation: &'static str,
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The registry's message.
        message: Option<String>,
    },
    /// A parse or verification error (digest or size mismatch of a downloaded blob, bad JSON).
    #[error(transparent)]
    Types(#[from] oci_types::Error),
    /// An error of the image, index or layer being written.
    #[error(transparent)]
    Partial(Box<oci_partial::Error>),
    /// An I/O error with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn code_message(code: &Option<String>, message: &Option<String>) -> String {
    match (code, message) {
        (Some(c), Some(m)) => format!(" {c}: {m}"),
        (Some(c), None) => format!(" {c}"),
        (None, Some(m)) => format!(": {m}"),
        (None, None) => String::new(),
    }
}

impl From<oci_partial::Error> for Error {
    fn from(e: oci_partial::Error) -> Error {
        match e {
            oci_partial::Error::Types(t) => Error::Types(t),
            oci_partial::Error::Source(s) => match s.downcast::<Error>() {
                Ok(remote) => *remote,
                Err(other) => Error::Partial(Box::new(oci_partial::Error::Source(other))),
            },
            other => Error::Partial(Box::new(other)),
        }
    }
}

impl From<Error> for oci_partial::Error {
    fn from(e: Error) -> oci_partial::Error {
        match e {
            Error::Types(t) => oci_partial::Error::Types(t),
            Error::Partial(p) => *p,
            other => oci_partial::Error::source(other),
        }
    }
}

impl Error {
    /// An I/O error with context; a digest or size mismatch found by a verifying reader
    /// becomes [`Error::Types`].
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        match oci_types::Error::from_io(source) {
            oci_types::Error::Io(source) => Error::Io {
                context: context.into(),
                source,
            },
            other => Error::Types(other),
        }
    }

    /// The HTTP status, for [`Error::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What is wrong with a `WWW-Authenticate` or `Link` header ([`Error::InvalidHeader`]).
/// Positions are byte offsets into the header's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderErrorKind {
    /// A `WWW-Authenticate` value holds no challenge.
    #[error("no challenge")]
    NoChallenge,
    /// Something else than the grammar allows here.
    #[error("expected {expected}, found {}", Found(*.found, *.at))]
    Unexpected {
        /// What the grammar allows here.
        expected: Expected,
        /// The character found; `None` at the end of the value.
        found: Option<char>,
        /// Where.
        at: usize,
    },
    /// A parameter with `=` but no value.
    #[error("{}parameter {name} has no value, found {}", if *.link { "link " } else { "" }, Found(*.found, *.at))]
    NoValue {
        /// The parameter's name.
        name: String,
        /// True for a `Link` parameter.
        link: bool,
        /// The character found instead; `None` at the end of the value.
        found: Option<char>,
        /// Where.
        at: usize,
    },
    /// A control character inside a quoted string.
    #[error("control character {character:?} at byte {at} in a quoted string")]
    ControlCharacter {
        /// The character.
        character: char,
        /// Where.
        at: usize,
    },
    /// A quoted string that is not closed.
    #[error("unterminated quoted string starting at byte {at}")]
    UnterminatedQuote {
        /// Where its opening quote is.
        at: usize,
    },
    /// A parameter named twice in one challenge (which one to trust is ambiguous).
    #[error("parameter {name} appears twice in the {scheme} challenge")]
    DuplicateParameter {
        /// The parameter's name (lower case).
        name: String,
        /// The challenge's scheme.
        scheme: String,
    },
}

/// What a header's grammar allows where [`HeaderErrorKind::Unexpected`] found something else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Expected {
    /// `<` opening a link target.
    #[error("'<'")]
    LinkStart,
    /// `>` closing a link target.
    #[error("'>' closing the link target")]
    LinkEnd,
    /// `;` or `,` after a link.
    #[error("';' or ',' after a link")]
    LinkSeparator,
    /// A link parameter's name.
    #[error("a link parameter")]
    LinkParameter,
    /// An auth scheme (a token).
    #[error("an auth scheme")]
    AuthScheme,
    /// A space or `,` after an auth scheme.
    #[error("a space or ',' after auth scheme {0}")]
    SpaceAfterScheme(String),
    /// A parameter name (a token).
    #[error("a parameter name")]
    ParameterName,
    /// `=` after a parameter name.
    #[error("'=' after parameter {0}")]
    Equals(String),
    /// `,` after a parameter.
    #[error("',' after parameter {0}")]
    Comma(String),
}

/// The character an error found (`'x' at byte 3`), or `the end`.
struct Found(Option<char>, usize);

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            None => f.write_str("the end"),
            Some(c) => write!(f, "{c:?} at byte {}", self.1),
        }
    }
}
