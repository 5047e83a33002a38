//! Writing `oci_partial` objects to a registry: layers (in parallel, skipped when present,
//! mounted when asked, retried), then the config, then the manifest; indexes child by child.
//! A manifest is only put once everything it names is in the repository.

use std::collections::HashSet;
use std::fmt;
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use oci_partial::{Child, Image, ImageIndex, Layer};
use oci_types::{Descriptor, Digest, Reference};

use crate::client::Client;
use crate::error::{Error, ResponseKind, Result};
use crate::repository::Repository;
use crate::upload::Mount;

/// What happened to one blob during a write, for progress displays.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// A blob started uploading. `digest` and `size` are `None` for a streaming layer.
    Started {
        /// A number identifying this blob among the events of one write.
        id: usize,
        /// The blob's digest, when known before its upload.
        digest: Option<Digest>,
        /// The blob's size, when known before its upload.
        size: Option<u64>,
    },
    /// More bytes of a blob went out.
    Sent {
        /// The blob.
        id: usize,
        /// How many bytes since the last event.
        bytes: u64,
    },
    /// A blob is in the repository.
    Finished {
        /// The blob.
        id: usize,
        /// Its digest.
        digest: Digest,
        /// Its size.
        size: u64,
        /// True when nothing was sent: the registry had it, or mounted it.
        skipped: bool,
    },
}

type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Options of [`write_image`], [`write_index`] and [`write_layer`].
#[derive(Clone, Default)]
pub struct WriteOptions {
    mount_from: Vec<String>,
    progress: Option<ProgressFn>,
    next_id: Arc<AtomicUsize>,
}

impl fmt::Debug for WriteOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteOptions")
            .field("mount_from", &self.mount_from)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl WriteOptions {
    /// Default options: no mounts, no progress events.
    pub fn new() -> WriteOptions {
        WriteOptions::default()
    }

    /// Tries to mount missing blobs from repository `name` of the same registry before
    /// uploading them (may be given several times; tried in order).
    pub fn mount_from(mut self, name: impl Into<String>) -> WriteOptions {
        self.mount_from.push(name.into());
        self
    }

    /// Calls `f` for every [`Progress`] event, from the uploading threads.
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> WriteOptions {
        self.progress = Some(Arc::new(f));
        self
    }

    fn emit(&self, event: Progress) {
        if let Some(f) = &self.progress {
            f(&event);
        }
    }

    fn new_id(&self) -> usize {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// Writes an image to the repository `reference` names, tagged with its tag (`latest` for a
/// bare name; by digest only for a digest reference). Returns the image's descriptor.
pub fn write_image(
    client: &Client,
    reference: &Reference,
    image: &dyn Image,
    options: &WriteOptions,
) -> Result<Descriptor> {
    client
        .repository(reference)
        .write_image(tag_of(reference).as_deref(), image, options)
}

/// The tag a write goes to: the reference's tag; none for a digest reference (written by
/// digest); `latest` for a bare name, as `docker push` does.
fn tag_of(reference: &Reference) -> Option<String> {
    match (reference.tag(), reference.digest()) {
        (Some(tag), _) => Some(tag.to_owned()),
        (None, Some(_)) => None,
        (None, None) => Some("latest".to_owned()),
    }
}

/// Writes an index, every image and index it holds, to the repository `reference` names.
pub fn write_index(
    client: &Client,
    reference: &Reference,
    index: &dyn ImageIndex,
    options: &WriteOptions,
) -> Result<Descriptor> {
    client
        .repository(reference)
        .write_index(tag_of(reference).as_deref(), index, options)
}

/// Writes one layer (a blob) to the repository `reference` names and returns its descriptor.
/// A streaming layer is uploaded in one pass, chunk by chunk.
pub fn write_layer(
    client: &Client,
    reference: &Reference,
    layer: &dyn Layer,
    options: &WriteOptions,
) -> Result<Descriptor> {
    client.repository(reference).write_layer(layer, options)
}

impl Repository {
    /// Writes an image: its layers (at most the client's `jobs` at once), its config, then
    /// its manifest under `tag` (or by digest). Returns the manifest's descriptor.
    pub fn write_image(
        &self,
        tag: Option<&str>,
        image: &dyn Image,
        options: &WriteOptions,
    ) -> Result<Descriptor> {
        let layers = image.layers()?;
        self.write_layers(&layers, options)?;
        let config = image.raw_config_file()?;
        let config_digest = Digest::sha256(&config);
        self.write_bytes(&config, &config_digest, options)?;
        let manifest = image.raw_manifest()?;
        let media_type = image.media_type()?;
        let digest = Digest::sha256(&manifest);
        let reference = tag.map_or_else(|| digest.to_string(), str::to_owned);
        self.put_manifest(&reference, &media_type, &manifest)?;
        Ok(Descriptor::new(media_type, digest, manifest.len() as u64))
    }

    /// Writes an index: each child image or index by digest, then the index under `tag` (or
    /// by digest). A child that is neither (an artifact blob) must already be in the
    /// repository.
    pub fn write_index(
        &self,
        tag: Option<&str>,
        index: &dyn ImageIndex,
        options: &WriteOptions,
    ) -> Result<Descriptor> {
        for child in index.manifests()? {
            match child {
                Child::Image(image) => {
                    self.write_image(None, image.as_ref(), options)?;
                }
                Child::Index(inner) => {
                    self.write_index(None, inner.as_ref(), options)?;
                }
                other => {
                    let desc = other.descriptor()?;
                    let present =
                        if desc.media_type.is_index() || desc.media_type.is_image_manifest() {
                            self.manifest_descriptor(desc.digest.as_str())?.is_some()
                        } else {
                            self.blob_exists(&desc.digest)?.is_some()
                        };
                    if !present {
                        return Err(Error::NotFound {
                            what: "index child",
                            reference: desc.digest.to_string(),
                            repository: self.to_string(),
                        });
                    }
                }
            }
        }
        let raw = index.raw_manifest()?;
        let media_type = index.media_type()?;
        let digest = Digest::sha256(&raw);
        let reference = tag.map_or_else(|| digest.to_string(), str::to_owned);
        self.put_manifest(&reference, &media_type, &raw)?;
        Ok(Descriptor::new(media_type, digest, raw.len() as u64))
    }

    /// Writes layers in parallel (the client's `jobs`), each distinct digest once. Stops
    /// starting new uploads at the first error and returns it.
    pub fn write_layers(&self, layers: &[Arc<dyn Layer>], options: &WriteOptions) -> Result<()> {
        // Distinct known digests once; streaming layers (digest unknown) each.
        let mut seen = HashSet::new();
        let todo: Vec<&Arc<dyn Layer>> = layers
            .iter()
            .filter(|l| match l.digest() {
                Ok(d) => seen.insert(d),
                Err(_) => true,
            })
            .collect();
        let jobs = self.client.options().jobs_value();
        oci_partial::for_each_parallel(&todo, jobs, |layer| {
            self.write_layer(layer.as_ref(), options).map(drop)
        })
    }

    /// Writes one layer: skipped if the repository has it, mounted if an option names a
    /// repository that has it, else uploaded (retried with a fresh stream as the client
    /// allows). A streaming layer, whose digest is only known once read, is uploaded chunk
    /// by chunk in one pass and then checked against the digest it computed.
    pub fn write_layer(&self, layer: &dyn Layer, options: &WriteOptions) -> Result<Descriptor> {
        match layer.digest() {
            Ok(digest) => {
                let size = layer.size()?;
                let media_type = layer.media_type()?;
                self.write_known(layer, &digest, size, options)?;
                Ok(Descriptor::new(media_type, digest, size))
            }
            Err(oci_partial::Error::NotComputed { .. }) => self.write_streaming(layer, options),
            Err(e) => Err(e.into()),
        }
    }

    fn write_known(
        &self,
        layer: &dyn Layer,
        digest: &Digest,
        size: u64,
        options: &WriteOptions,
    ) -> Result<()> {
        let id = options.new_id();
        let skipped = |options: &WriteOptions| {
            options.emit(Progress::Finished {
                id,
                digest: digest.clone(),
                size,
                skipped: true,
            })
        };
        if self.blob_exists(digest)?.is_some() {
            skipped(options);
            return Ok(());
        }
        let mut session = None;
        for from in &options.mount_from {
            match self.mount_blob(digest, from)? {
                Mount::Mounted => {
                    skipped(options);
                    return Ok(());
                }
                Mount::Started(s) => {
                    if let Some(old) = session.replace(s) {
                        // Only one session is used; the others are given back.
                        let _ = old.cancel();
                    }
                }
            }
        }
        options.emit(Progress::Started {
            id,
            digest: Some(digest.clone()),
            size: Some(size),
        });
        self.retrying(|| {
            let session = match session.take() {
                Some(s) => s,
                None => self.start_upload()?,
            };
            let mut reader = Counting::new(layer.compressed()?, id, options);
            let result = session.finish_with(&mut reader, digest, size);
            reader.source_error(|| format!("reading layer {digest}"))?;
            result
        })?;
        options.emit(Progress::Finished {
            id,
            digest: digest.clone(),
            size,
            skipped: false,
        });
        Ok(())
    }

    fn write_streaming(&self, layer: &dyn Layer, options: &WriteOptions) -> Result<Descriptor> {
        let id = options.new_id();
        options.emit(Progress::Started {
            id,
            digest: None,
            size: None,
        });
        let mut reader = Counting::new(layer.compressed()?, id, options);
        // The layer hashes its output as it hands it out: its digest, known once the stream
        // is read, finishes the upload (the registry checks it against what arrived), so the
        // bytes are not hashed a second time here.
        let result = self.upload_chunked(&mut reader, false, |sent, _| {
            let size = layer.size()?;
            if size != sent {
                return Err(Error::InvalidResponse {
                    url: self.to_string(),
                    kind: ResponseKind::StreamedSize { size, sent },
                });
            }
            Ok(layer.digest()?)
        });
        reader.source_error(|| "reading a streaming layer".to_owned())?;
        let (digest, size) = result?;
        options.emit(Progress::Finished {
            id,
            digest: digest.clone(),
            size,
            skipped: false,
        });
        Ok(Descriptor::new(layer.media_type()?, digest, size))
    }

    /// Uploads bytes held in memory (a config) unless present, retried as the client allows.
    fn write_bytes(&self, bytes: &[u8], digest: &Digest, options: &WriteOptions) -> Result<()> {
        let id = options.new_id();
        if self.blob_exists(digest)?.is_none() {
            self.retrying(|| self.upload_bytes(bytes))?;
        }
        options.emit(Progress::Finished {
            id,
            digest: digest.clone(),
            size: bytes.len() as u64,
            skipped: false,
        });
        Ok(())
    }
}

impl Repository {
    /// Runs `attempt` until it succeeds, fails for good, or the client's retries (with
    /// doubling backoff) are spent on failures worth another try.
    fn retrying<T>(&self, mut attempt: impl FnMut() -> Result<T>) -> Result<T> {
        let (retries, mut backoff) = self.client.options().retries_value();
        let mut tries = 0;
        loop {
            match attempt() {
                Err(e) if tries < retries && retryable(&e) => {
                    tries += 1;
                    thread::sleep(backoff);
                    backoff *= 2;
                }
                result => return result,
            }
        }
    }
}

/// Failures worth a fresh attempt: connections that broke, and the registry's 5xx and 429.
fn retryable(e: &Error) -> bool {
    match e {
        Error::Transport { .. } => true,
        Error::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
        _ => false,
    }
}

/// A reader that reports the bytes it hands out as [`Progress::Sent`] events, and keeps the
/// first error of the source (a digest mismatch of the layer being read), which the HTTP
/// client would otherwise turn into a mere broken request.
struct Counting<'a, R> {
    inner: R,
    id: usize,
    options: &'a WriteOptions,
    failed: Option<io::Error>,
}

impl<'a, R> Counting<'a, R> {
    fn new(inner: R, id: usize, options: &'a WriteOptions) -> Self {
        Counting {
            inner,
            id,
            options,
            failed: None,
        }
    }

    /// The source's error, if reading it failed.
    fn source_error(&mut self, context: impl FnOnce() -> String) -> Result<()> {
        match self.failed.take() {
            Some(e) => Err(Error::io(context(), e)),
            None => Ok(()),
        }
    }
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                let substitute = io::Error::new(e.kind(), e.to_string());
                self.failed = Some(e);
                return Err(substitute);
            }
        };
        if n > 0 && self.options.progress.is_some() {
            self.options.emit(Progress::Sent {
                id: self.id,
                bytes: n as u64,
            });
        }
        Ok(n)
    }
}
