//! Images, indexes and layers to and from a registry: the OCI distribution API, synchronous.
//!
//! The registry counterpart of the other sources and sinks: [`image`], [`index`] and [`get`]
//! return `oci_partial` objects whose layers are fetched when read, and [`write_image`],
//! [`write_index`] and [`write_layer`] take any `oci_partial` object, so an archive, a layout
//! or a content store moves to and from a registry with no converter in between. The Rust
//! counterpart of go-containerregistry's `remote`.
//!
//! # Contents
//! - [`Client`] (built by [`ClientBuilder`]): one HTTP agent (ureq, TLS by rustls), the
//!   credentials ([`Keychain`] of [`Credential`]s, read from docker's `config.json` format),
//!   per registry its scheme and tokens. Loopback registries speak plain HTTP; any other only
//!   HTTPS unless allowed with [`ClientBuilder::insecure`] or not verified
//!   ([`ClientBuilder::tls_verify`]). TLS per host: CA files, a cert dir, `certs.d`
//!   ([`DEFAULT_CERTS_D`]), client certificates. Credential helpers (`credsStore`,
//!   `credHelpers`) are run as docker runs them ([`Keychain::resolve`]).
//! - Registry-wide: [`Client::catalog`], [`Client::check_credentials`] (what `login` checks)
//!   and [`AuthFile`] (an `auth.json` edited atomically).
//! - [`Repository`]: blobs ([`Repository::blob`] verified as bytes flow and resumed with a
//!   `Range` request after a broken connection, [`Repository::blob_exists`]), uploads
//!   (monolithic, chunked [`UploadSession`]s, [`Repository::mount_blob`],
//!   [`Repository::upload_stream`] for a stream whose digest is known only at its end),
//!   manifests ([`Repository::manifest`] with content negotiation, `put`, `head`, `delete`,
//!   [`Repository::tag`], [`Repository::delete_tag`]),
//!   [`Repository::tags`] with pagination, [`Repository::referrers`] with the tag-schema
//!   fallback.
//! - Auth: anonymous, basic, and the bearer token flow ([`parse_challenges`] reads
//!   `WWW-Authenticate`); a token per scope set, renewed before it expires.
//! - Writes: layers in parallel (the client's `jobs`), skipped when present, mounted when
//!   [`WriteOptions::mount_from`] names a repository that has them, retried with backoff on
//!   5xx, 429 and broken connections; the manifest only once every blob it names is there.
//!   A streaming layer (`oci_stream::StreamLayer`) is uploaded in one pass, chunk by chunk.
//! - `testing` (feature `testing`): a real registry (distribution's `docker-registry`) on a
//!   free loopback port with its own storage, for tests of this crate and every crate that
//!   talks to a registry; a raw HTTP client to look at it.
//!
//! Every manifest is kept as the registry sent it and checked against the digest asked for;
//! every blob is checked as it streams. Credentials never appear in errors or `Debug` output.
//!
//! # Example
//! Credentials as `docker login` stores them, a client, and (when a registry is at hand, as
//! `docker-registry serve` on 127.0.0.1 makes one) a push and a pull:
//!
//! ```
//! use std::path::Path;
//! use oci_partial::Image;
//! use oci_remote::{Client, Credential, Keychain, WriteOptions};
//!
//! let config = br#"{"auths": {"https://registry.example.com/v2/": {"auth": "dXNlcjpwYXNz"}}}"#;
//! let keychain = Keychain::from_docker_config(config, Path::new("config.json"))?;
//! assert_eq!(
//!     keychain.get("registry.example.com"),
//!     Credential::Basic { username: "user".into(), password: "pass".into() }
//! );
//! let client = Client::builder().keychain(keychain).jobs(4).build();
//!
//! // OCIKIT_EXAMPLE_REGISTRY=127.0.0.1:5000 runs this part against that registry.
//! if let Ok(host) = std::env::var("OCIKIT_EXAMPLE_REGISTRY") {
//!     let image = oci_partial::random::image(1, 2, 1024);
//!     let reference = format!("{host}/example/random:v1").parse()?;
//!     let pushed = oci_remote::write_image(&client, &reference, image.as_ref(), &WriteOptions::new())?;
//!     let pulled = oci_remote::image(&client, &reference, None)?;
//!     assert_eq!(pulled.digest()?, pushed.digest);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::expect_used)] // library code returns typed errors; tests may expect (clippy.toml)
#![warn(missing_docs)]

mod blob;
mod catalog;
mod challenge;
mod client;
mod credentials;
mod error;
mod header;
mod helper;
mod http;
mod link;
mod login;
mod manifest;
mod options;
mod read;
mod referrers;
mod registry;
mod repository;
mod tags;
/// Internal parsers of outside input, for the fuzz targets (feature `fuzzing`). Not a stable
/// API: it changes whenever the internals do.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    /// The URI reference of the first `rel="next"` link of a `Link` header value.
    ///
    /// # Errors
    ///
    /// [`crate::Error::InvalidHeader`] when the value breaks the grammar.
    pub fn next_link(header: &str) -> crate::Result<Option<String>> {
        crate::link::next_link(header)
    }

    /// `reference` resolved against `base_url` (RFC 3986 section 5.2).
    pub fn resolve(base_url: &str, reference: &str) -> String {
        crate::link::resolve(base_url, reference)
    }
}

#[cfg(feature = "testing")]
pub mod testing;
mod tls;
mod token;
mod transport;
mod upload;
mod write;

pub use challenge::{parse_challenges, AuthScheme, Challenge};
pub use client::{Client, ClientBuilder};
pub use credentials::{Credential, Keychain};
pub use error::{
    CredentialHelperKind, CredentialsKind, Error, Expected, HeaderErrorKind, ResponseKind, Result,
    TlsFileKind, UnauthorizedKind,
};
pub use helper::HELPER_TIMEOUT;
pub use login::AuthFile;
pub use manifest::{FetchedManifest, ACCEPT};
pub use options::{DEFAULT_CERTS_D, DEFAULT_CHUNK_SIZE, DEFAULT_JOBS, DEFAULT_RETRIES};
pub use read::{get, image, index, Remote};
pub use referrers::referrers_tag;
pub use repository::Repository;
pub use tags::MAX_PAGES;
pub use upload::{Mount, UploadSession};
pub use write::{write_image, write_index, write_layer, Progress, WriteOptions};
