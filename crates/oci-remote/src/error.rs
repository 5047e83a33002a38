//! The one error type of this crate.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use oci_types::{Digest, MediaType};

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
    #[error("authentication to {registry} failed: {kind}")]
    Unauthorized {
        /// The registry host (`host[:port]`).
        registry: String,
        /// Why (with the status and message of the registry or token server).
        kind: UnauthorizedKind,
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
    #[error("{url}: invalid response: {kind}")]
    InvalidResponse {
        /// The URL asked.
        url: String,
        /// What is wrong.
        kind: ResponseKind,
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
    #[error("{}: {kind}", path.display())]
    Credentials {
        /// The file.
        path: PathBuf,
        /// Why.
        kind: CredentialsKind,
    },
    /// A TLS certificate or key file (a CA file, a cert dir's `*.crt`, `*.cert`, `*.key`)
    /// that cannot be read or holds no certificate or key.
    #[error("TLS file {}: {kind}", path.display())]
    TlsFiles {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        kind: TlsFileKind,
    },
    /// A credential helper (`docker-credential-NAME`) failed, timed out or answered
    /// something that is not credentials. A helper's own message is in
    /// [`CredentialHelperKind::Failed`].
    #[error("credential helper docker-credential-{helper} for {registry}: {kind}")]
    CredentialHelper {
        /// The helper's name (`desktop`, `pass`, `ecr-login`, ...).
        helper: String,
        /// The registry asked for.
        registry: String,
        /// Why.
        kind: CredentialHelperKind,
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

/// Why a registry or its token server refused the credentials ([`Error::Unauthorized`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnauthorizedKind {
    /// The registry answered 401 or 403 to a request. `code` and `message` are the first
    /// entry of its error body, as the registry sent them.
    #[error("{status}{}", code_message(code, message))]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The distribution error code (`UNAUTHORIZED`, `DENIED`).
        code: Option<String>,
        /// The registry's message (its text, not ours).
        message: Option<String>,
    },
    /// `GET /v2/` with Basic credentials ([`crate::Client::check_credentials`]) answered
    /// something else than 2xx.
    #[error("GET /v2/ answered {status} to the credentials")]
    CredentialsRefused {
        /// The HTTP status.
        status: u16,
    },
    /// The token server refused to hand out a token.
    #[error("token server {realm} answered {status}: {body}")]
    TokenRefused {
        /// The token server's URL.
        realm: String,
        /// The HTTP status.
        status: u16,
        /// The start of its answer (at most 200 bytes, lossily UTF-8, trimmed): the token
        /// server's text, not ours.
        body: String,
    },
    /// The registry's `WWW-Authenticate` holds neither a Basic nor a Bearer challenge.
    #[error("no Basic or Bearer challenge in WWW-Authenticate {header:?}")]
    NoSupportedChallenge {
        /// The header's value, as the registry sent it.
        header: String,
    },
    /// The Bearer challenge has no `realm`.
    #[error("the Bearer challenge names no realm")]
    NoRealm,
    /// The Bearer challenge's `realm` is not an `http(s)` URL.
    #[error("the token realm {realm:?} is not an http(s) URL")]
    RealmNotHttp {
        /// The realm.
        realm: String,
    },
}

/// How a registry's answer breaks the protocol ([`Error::InvalidResponse`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseKind {
    /// An upload was started, but the answer has no `Location`.
    #[error("{status} without a Location header")]
    NoLocation {
        /// The HTTP status.
        status: u16,
    },
    /// An upload's `Range` header is not `START-END`.
    #[error("Range header {value:?} is not START-END")]
    RangeNotStartEnd {
        /// The header's value.
        value: String,
    },
    /// An upload's `Range` header has a start that is not a number.
    #[error("Range header {value:?} has a bad start")]
    RangeBadStart {
        /// The header's value.
        value: String,
    },
    /// An upload's `Range` header has an end that is not a number.
    #[error("Range header {value:?} has a bad end")]
    RangeBadEnd {
        /// The header's value.
        value: String,
    },
    /// An upload's `Range` header does not start at 0.
    #[error("Range header {value:?} does not start at 0")]
    RangeNotFromZero {
        /// The header's value.
        value: String,
    },
    /// After a failed chunk, the registry says it holds a size outside that chunk.
    #[error(
        "after a failed chunk the registry holds {held} bytes, outside the chunk {start}..{end}"
    )]
    HeldOutsideChunk {
        /// What the registry holds.
        held: u64,
        /// Where the chunk starts.
        start: u64,
        /// Where it ends (exclusive).
        end: u64,
    },
    /// A finished upload's `Docker-Content-Digest` is not the digest uploaded.
    #[error("uploaded {uploaded} but the registry stored {stored}")]
    BlobDigest {
        /// The digest uploaded.
        uploaded: Box<Digest>,
        /// The registry's `Docker-Content-Digest`, as sent.
        stored: String,
    },
    /// A put manifest's `Docker-Content-Digest` is not the manifest's digest.
    #[error("put manifest {put} but the registry stored {stored}")]
    ManifestDigest {
        /// The manifest's digest.
        put: Box<Digest>,
        /// The registry's `Docker-Content-Digest`, as sent.
        stored: String,
    },
    /// A fetched manifest's `Docker-Content-Digest` is not the digest of its bytes.
    #[error("Docker-Content-Digest {claimed} but the manifest's bytes are {actual}")]
    ContentDigest {
        /// The digest the registry claims.
        claimed: Box<Digest>,
        /// The digest of the bytes.
        actual: Box<Digest>,
    },
    /// A streaming layer's stream did not have the size the layer reports.
    #[error("a streaming layer of {size} bytes sent {sent}")]
    StreamedSize {
        /// The size the layer reports.
        size: u64,
        /// The bytes sent.
        sent: u64,
    },
    /// A blob resumed from an offset (the registry ignoring the `Range`) is shorter than the
    /// offset.
    #[error("blob is shorter ({skipped} bytes) than before")]
    BlobShorter {
        /// The bytes there were to skip.
        skipped: u64,
    },
    /// A JSON answer (a tag list, a catalog, a token response) that does not parse.
    #[error("{what}: {message}")]
    Json {
        /// `"tag list"`, `"catalog"` or `"token response"`.
        what: &'static str,
        /// The JSON parser's message.
        message: String,
    },
    /// A page of the referrers API that is not an image index.
    #[error("referrers index: {0}")]
    Referrers(Box<oci_types::Error>),
    /// The merged referrers index could not be serialised (the serialiser's message).
    #[error("cannot serialise the referrers index: {0}")]
    SerializeReferrers(String),
    /// A paginated list whose `Link` headers lead back to a page already read.
    #[error("the {what}'s pages loop")]
    PagesLoop {
        /// The list (`"tag list"`, `"catalog"`, `"referrers list"`).
        what: &'static str,
    },
    /// A paginated list of more pages than the limit.
    #[error("the {what} has more than {limit} pages")]
    TooManyPages {
        /// The list (`"tag list"`, `"catalog"`, `"referrers list"`).
        what: &'static str,
        /// The limit ([`crate::MAX_PAGES`]).
        limit: usize,
    },
    /// The HTTP client refused to build the request (its message).
    #[error("cannot build the request: {0}")]
    BuildRequest(String),
    /// A URL (a `Location`, a token realm) that is not `http(s)`.
    #[error("not an http(s) URL")]
    NotHttpUrl,
    /// A token response without a token.
    #[error("token response holds neither token nor access_token")]
    NoToken,
}

/// Why a docker `config.json` or podman `auth.json` is refused ([`Error::Credentials`]).
/// Messages name a registry and a field, never a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsKind {
    /// The file does not exist ([`crate::Keychain::load_file`]).
    #[error("no such file")]
    Missing,
    /// The file cannot be opened.
    #[error("cannot open: {0}")]
    Open(#[source] std::io::Error),
    /// The file cannot be read.
    #[error("cannot read: {0}")]
    Read(#[source] std::io::Error),
    /// The file is larger than the limit.
    #[error("larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The file is not JSON (or is over the limits of the JSON parser).
    #[error("{0}")]
    Parse(Box<oci_types::Error>),
    /// The file is not a JSON object.
    #[error("not a JSON object")]
    NotAnObject,
    /// `auths` or `credHelpers` is not an object.
    #[error("{field} is not an object")]
    FieldNotAnObject {
        /// The field.
        field: &'static str,
    },
    /// An entry of `credHelpers` is not a string.
    #[error("credHelpers entry {registry:?} is not a string")]
    HelperNotAString {
        /// The entry's key.
        registry: String,
    },
    /// `credsStore` is not a string.
    #[error("credsStore is not a string")]
    CredsStoreNotAString,
    /// An entry of `auths` is not an object.
    #[error("auths entry {registry:?} is not an object")]
    EntryNotAnObject {
        /// The entry's key.
        registry: String,
    },
    /// A field of an `auths` entry is not a string.
    #[error("auths entry {registry:?}: {field} is not a string")]
    EntryFieldNotAString {
        /// The entry's key.
        registry: String,
        /// The field (`"auth"`, `"username"`, `"identitytoken"`, ...).
        field: &'static str,
    },
    /// An entry's `auth` is not base64.
    #[error("auths entry {registry:?}: auth is not valid base64")]
    AuthNotBase64 {
        /// The entry's key.
        registry: String,
    },
    /// An entry's `auth` does not decode to UTF-8.
    #[error("auths entry {registry:?}: auth does not decode to UTF-8")]
    AuthNotUtf8 {
        /// The entry's key.
        registry: String,
    },
    /// An entry's `auth` decodes to something without a `:`.
    #[error("auths entry {registry:?}: auth does not decode to user:password")]
    AuthNoColon {
        /// The entry's key.
        registry: String,
    },
}

/// Why a TLS certificate or key file is refused ([`Error::TlsFiles`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsFileKind {
    /// A cert directory cannot be listed.
    #[error("cannot list: {0}")]
    List(#[source] std::io::Error),
    /// The file cannot be opened.
    #[error("cannot open: {0}")]
    Open(#[source] std::io::Error),
    /// The file cannot be read.
    #[error("cannot read: {0}")]
    Read(#[source] std::io::Error),
    /// The file is larger than the limit.
    #[error("larger than {limit} bytes")]
    TooLarge {
        /// The limit ([`oci_types::limits::MAX_PEM_FILE`]).
        limit: u64,
    },
    /// A client certificate (`*.cert`) without its key (`*.key`).
    #[error("client certificate without its key {}", key.display())]
    KeyMissing {
        /// The key file looked for.
        key: PathBuf,
    },
    /// The file is not valid PEM (the PEM parser's message).
    #[error("bad PEM: {0}")]
    BadPem(String),
    /// The file holds no certificate.
    #[error("holds no PEM certificate")]
    NoCertificate,
    /// The file holds no private key.
    #[error("holds no PEM private key")]
    NoPrivateKey,
}

/// Why a credential helper gave no credentials ([`Error::CredentialHelper`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialHelperKind {
    /// The helper's program is not on `PATH`.
    #[error("{program} is not on PATH")]
    NotOnPath {
        /// The program (`docker-credential-NAME`).
        program: String,
    },
    /// The helper's program cannot be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The system's error.
        source: std::io::Error,
    },
    /// Waiting for the helper failed.
    #[error("waiting for {program}: {source}")]
    Wait {
        /// The program.
        program: String,
        /// The system's error.
        source: std::io::Error,
    },
    /// The helper did not answer in time, and was killed.
    #[error("no answer within {} s; killed", timeout.as_secs_f64())]
    Timeout {
        /// How long it was given.
        timeout: Duration,
    },
    /// The helper exited with a failure.
    #[error("exited with {status}{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Failed {
        /// Its exit status.
        status: ExitStatus,
        /// The first line of what it printed (at most 300 characters): the helper's own
        /// message, not ours.
        message: Option<String>,
    },
    /// The helper's answer is not credentials.
    #[error("its answer is not the credentials JSON ({{\"Username\":..,\"Secret\":..}})")]
    NotCredentials,
}

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
