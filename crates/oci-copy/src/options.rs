//! What a copy is asked to do.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use oci_remote::Client;
use oci_types::Platform;

use crate::error::{Error, Result};
use crate::progress::{NoProgress, Progress};

/// The image taken from an index when no platform is asked for and the destination holds
/// single images only (skopeo takes the host's; ocikit's default host is this).
pub const DEFAULT_PLATFORM: &str = "linux/amd64";

/// The gzip level layers are recompressed with when none is asked for: libdeflate's level 2,
/// whose output is no larger than skopeo's for the same image (level 1, ISA-L's, is 6%
/// larger), at 1.2–1.4x skopeo's speed for a 512 MiB layer (docs/BENCHMARKS.md).
pub const DEFAULT_GZIP_LEVEL: u32 = 2;

/// Which images of an index to copy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Platforms {
    /// The whole index where the destination can hold one, else its [`DEFAULT_PLATFORM`]
    /// image.
    #[default]
    Auto,
    /// The whole index (skopeo's `--all`); an error into a destination of single images.
    All,
    /// One platform's image (an error when the index has none for it).
    One(Platform),
    /// An index of these platforms' images only (an error when one is missing): a new index,
    /// so its digest differs from the source's.
    List(Vec<Platform>),
}

/// How the destination's layers are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LayerCompression {
    /// What the destination usually holds: gzip in an OCI layout, an OCI archive and a
    /// `dir:` (uncompressed layers are compressed, others kept); uncompressed in a docker
    /// archive and a Docker Engine (as `docker save` writes); to a registry, compressed layers
    /// are kept and uncompressed ones compressed.
    #[default]
    Auto,
    /// Every layer exactly as stored in the source.
    Keep,
    /// gzip, at this level (0-12; [`DEFAULT_GZIP_LEVEL`] when `None`). A level recompresses
    /// layers that already are gzip.
    Gzip(Option<u32>),
    /// zstd, at this level (1-22; zstd's default 3 when `None`).
    Zstd(Option<u32>),
    /// Uncompressed tars.
    None,
}

/// Options of [`copy`](crate::copy), [`open_source`](crate::open_source) and
/// [`write_image`](crate::write_image). `CopyOptions::default()` copies as skopeo does with no
/// flags, except that an index goes whole where it can.
#[derive(Clone)]
#[non_exhaustive]
pub struct CopyOptions {
    /// Which images of an index.
    pub platforms: Platforms,
    /// Layer compression of the destination.
    pub compression: LayerCompression,
    /// The gzip level when compressing with gzip and no level is given (the stream's own
    /// default, 1, when `None`).
    pub default_gzip_level: Option<u32>,
    /// Fail rather than change any digest (skopeo's `--preserve-digests`): no layer is
    /// recompressed and no manifest rewritten.
    pub preserve_digests: bool,
    /// Blobs moved at once to a registry (the destination client's own setting when `None`).
    pub jobs: Option<usize>,
    /// The client (credentials in its keychain, insecure hosts) for a `docker://` source; one
    /// with the default credentials (docker's and podman's files) when `None`.
    pub source_client: Option<Client>,
    /// The client for a `docker://` destination; as `source_client`.
    pub destination_client: Option<Client>,
    /// Try a cross-repository mount when both ends are on one registry (needs the same
    /// credentials to work on both; the registry falls back to an upload when it refuses).
    pub mount: bool,
    /// The Docker Engine's socket for `docker-daemon:` names (`DOCKER_HOST=unix://PATH`, else
    /// `/var/run/docker.sock`, when `None`).
    pub docker_host: Option<std::path::PathBuf>,
    /// Where progress goes.
    pub progress: Arc<dyn Progress>,
    /// Set to `true` (from a signal handler, another thread) to stop the copy: it fails with
    /// [`Error::Cancelled`] and leaves nothing behind.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            platforms: Platforms::Auto,
            compression: LayerCompression::Auto,
            default_gzip_level: Some(DEFAULT_GZIP_LEVEL),
            preserve_digests: false,
            jobs: None,
            source_client: None,
            destination_client: None,
            mount: true,
            docker_host: None,
            progress: Arc::new(NoProgress),
            cancel: None,
        }
    }
}

impl fmt::Debug for CopyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyOptions")
            .field("platforms", &self.platforms)
            .field("compression", &self.compression)
            .field("default_gzip_level", &self.default_gzip_level)
            .field("preserve_digests", &self.preserve_digests)
            .field("jobs", &self.jobs)
            .field("source_client", &self.source_client.is_some())
            .field("destination_client", &self.destination_client.is_some())
            .field("mount", &self.mount)
            .finish_non_exhaustive()
    }
}

impl CopyOptions {
    /// The source's client.
    pub(crate) fn source_client(&self) -> Result<Client> {
        Ok(match &self.source_client {
            Some(c) => c.clone(),
            None => default_client(None)?,
        })
    }

    /// The destination's client.
    pub(crate) fn destination_client(&self) -> Result<Client> {
        Ok(match &self.destination_client {
            Some(c) => c.clone(),
            None => default_client(self.jobs)?,
        })
    }

    /// An error when the copy has been cancelled.
    pub(crate) fn check_cancelled(&self) -> Result<()> {
        match &self.cancel {
            Some(flag) if flag.load(Ordering::Relaxed) => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }
}

fn default_client(jobs: Option<usize>) -> Result<Client> {
    let keychain = oci_remote::Keychain::load_default().map_err(|source| Error::Remote {
        reference: "(credentials)".to_owned(),
        source: Box::new(source),
    })?;
    let mut b = Client::builder().keychain(keychain);
    if let Some(j) = jobs {
        b = b.jobs(j);
    }
    Ok(b.build())
}
