//! [`Writer`]: writes one docker archive holding one or more images.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oci_partial::{Image, Layer};
use oci_types::{Algorithm, Compression, ConfigFile, Digest, Digester, Reference};
use tempfile::NamedTempFile;

use crate::compression::{self, Detected};
use crate::legacy;
use crate::limits::MAX_CONFIG_SIZE;
use crate::reader::MANIFEST_FILE;
use crate::tags::NameTag;
use crate::tar::{self, Kind, PendingHeader, BLOCK};
use crate::{Blob, CountedImage, Error, InvalidManifestKind, ManifestItem, Result};

/// How layers are stored in the archive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayerStorage {
    /// Decompressed, named `<diff_id hex>.tar`, as `docker save` and skopeo store them.
    #[default]
    Uncompressed,
    /// As they arrive (a gzip layer stays gzip), named `<digest hex>.tar`, `.tar.gz` or
    /// `.tar.zst`. Smaller, and Docker, podman and skopeo load it, but very old loaders do not.
    AsIs,
}

/// Options of a [`Writer`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct WriterOptions {
    /// How layers are stored; uncompressed by default.
    pub layers: LayerStorage,
    /// Whether [`Writer::commit`] may replace an existing archive at the path (atomically:
    /// the old file stays whole until the new one is complete). Off by default: an existing,
    /// non-empty path is refused.
    pub replace: bool,
}

impl WriterOptions {
    /// The default options.
    pub fn new() -> WriterOptions {
        WriterOptions::default()
    }

    /// The same options storing layers as `layers` says.
    pub fn layers(mut self, layers: LayerStorage) -> WriterOptions {
        self.layers = layers;
        self
    }

    /// The same options, replacing an existing archive on commit when `replace` is true.
    pub fn replace(mut self, replace: bool) -> WriterOptions {
        self.replace = replace;
        self
    }
}

/// A layer (or config) already in the archive.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    /// Its path in the archive.
    pub(crate) path: String,
    /// The digest of the bytes stored (for an uncompressed layer, its diff_id).
    pub(crate) digest: Digest,
    /// The number of bytes stored.
    pub(crate) size: u64,
    /// The diff_id, when known.
    pub(crate) diff_id: Option<Digest>,
}

/// What a stream given to [`Writer::store_layer`] is, and what it must match.
pub(crate) struct Expect {
    /// The digest of the stream as given (compressed or not).
    pub(crate) digest: Option<Digest>,
    /// Its size.
    pub(crate) size: Option<u64>,
    /// Its diff_id, when known.
    pub(crate) diff_id: Option<Digest>,
}

/// Writes a docker archive (`docker save` format) holding one or more images.
///
/// Everything is written to a temporary file beside the target and renamed onto it by
/// [`Writer::commit`], so before the commit there is no valid archive at the target (and a
/// writer dropped without commit leaves nothing behind). Each config and layer is written
/// once, however many images share it. Output is deterministic: the same images and tags, in
/// the same order, give a byte-identical archive (entries in a fixed order, mtime 0, owner
/// 0:0, mode 0444, as skopeo writes them).
///
/// Layers are streamed in one pass: the header of a layer entry is written as a placeholder,
/// the data follows, and the header is rewritten in place once the size and the diff_id (which
/// names the entry) are known. So a one-shot streaming layer, whose digests are known only at
/// its end, is written without spooling, in flat memory. To write to a pipe or standard
/// output, which cannot seek, use [`crate::StreamWriter`]: the same archive, byte for byte.
///
/// `manifest.json` and `repositories` come last. Tags are written fully qualified
/// (`docker.io/library/busybox:latest`); a name without a tag gets `latest`.
pub struct Writer {
    path: PathBuf,
    pub(crate) core: Core<FileOut>,
}

/// The output of a [`Writer`]: its temporary file.
pub(crate) type FileOut = BufWriter<NamedTempFile>;

/// What both writers share: the bookkeeping of what the archive holds, and every entry but
/// the layers' (whose writing [`Output::store_layer`] chooses), in the same order and bytes.
pub(crate) struct Core<O> {
    pub(crate) out: O,
    /// How many bytes were written to `out`.
    pub(crate) pos: u64,
    /// What errors call the output ("writing {label}").
    pub(crate) label: String,
    pub(crate) options: WriterOptions,
    /// Stored layers by the digest of the stream they came from (with that stream's size) and
    /// by their stored digest.
    pub(crate) blobs: HashMap<Digest, (Stored, u64)>,
    /// Stored layers by diff_id.
    by_diff_id: HashMap<Digest, Stored>,
    /// Configs by digest (sha256, and the digest they were given with).
    configs: HashMap<Digest, Arc<[u8]>>,
    legacy_layers: HashSet<String>,
    items: Vec<ManifestItem>,
    /// The top legacy layer ID of each item (`None` for an image without layers).
    item_tops: Vec<Option<String>>,
    by_config: HashMap<Digest, usize>,
    /// Set when a failed write could not be undone; the writer refuses further work.
    pub(crate) broken: bool,
}

/// Where a [`Core`] writes, and how it puts a layer's entry there.
pub(crate) trait Output: Write + Sized {
    /// Cuts what was written back to `start` (the output's position was `start` then), or
    /// fails when the output cannot be cut.
    fn cut(&mut self, start: u64) -> io::Result<()>;

    /// Writes the entry of a layer read from `stream` (not yet in the archive by
    /// `expect.digest`), verified against `expect`, and records it in `core`.
    fn store_layer(
        core: &mut Core<Self>,
        stream: impl Read,
        expect: &Expect,
        what: &str,
    ) -> Result<(Stored, Blob)>;
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("path", &self.path)
            .field("images", &self.core.items.len())
            .finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts an archive at `path`, storing layers uncompressed. Refuses a `path` that
    /// exists and is not empty.
    pub fn create(path: impl AsRef<Path>) -> Result<Writer> {
        Writer::with_options(path, WriterOptions::default())
    }

    /// Starts an archive at `path` with `options`.
    ///
    /// The archive is written to a temporary file beside `path` (`.NAME.XXXXXX.tmp`), locked
    /// for as long as this writer lives, and renamed to `path` by [`Writer::commit`]. Such
    /// files that a killed writer left (no live writer holds their lock) are removed here.
    pub fn with_options(path: impl AsRef<Path>, options: WriterOptions) -> Result<Writer> {
        let path = path.as_ref().to_path_buf();
        check_target(&path, options.replace)?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = temp_file(&dir, &base)?;
        sweep_stale_temps(&dir, &base, temp.path());
        let out = BufWriter::with_capacity(256 * 1024, temp);
        let core = Core::new(out, path.display().to_string(), options);
        Ok(Writer { path, core })
    }

    /// The target path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds an image with `tags`. Layers are read once each (a layer already in the archive,
    /// known by diff_id, is not read again); a layer whose diff_id is known is read
    /// uncompressed, any other (a streaming layer) is read as stored and decompressed here.
    /// The config is asked for after the layers, so a streaming image can finish computing
    /// it. The layers' diff_ids must match the config's.
    pub fn add_image(&mut self, image: &dyn Image, tags: &[Reference]) -> Result<()> {
        self.core.add_image(image, tags)
    }

    /// The images added so far, as `manifest.json` will list them.
    pub fn manifest(&self) -> &[ManifestItem] {
        &self.core.items
    }

    /// Finishes the archive: writes `manifest.json` and `repositories` and the end-of-archive
    /// blocks, syncs, and renames the temporary file onto the target. Fails (writing nothing
    /// at the target) when the target has meanwhile become a non-empty file.
    pub fn commit(mut self) -> Result<()> {
        self.core.finish()?;
        let ctx = format!("finishing {}", self.path.display());
        let temp = self
            .core
            .out
            .into_inner()
            .map_err(|e| Error::io(&ctx, e.into_error()))?;
        temp.as_file().sync_all().map_err(|e| Error::io(&ctx, e))?;
        set_mode(temp.path()).map_err(|e| Error::io(&ctx, e))?;
        check_target(&self.path, self.core.options.replace)?;
        temp.persist(&self.path)
            .map_err(|e| Error::io(&ctx, e.error))?;
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        oci_types::fs::sync_dir(dir).map_err(|e| Error::io(&ctx, e.source))
    }
}

impl Output for FileOut {
    fn cut(&mut self, start: u64) -> io::Result<()> {
        self.flush()?;
        self.get_ref().as_file().set_len(start)?;
        self.seek(SeekFrom::Start(start))?;
        Ok(())
    }

    /// A placeholder header, the data, and the header rewritten once the size and the name
    /// are known; on any failure the archive is cut back to where the entry began.
    fn store_layer(
        core: &mut Core<Self>,
        stream: impl Read,
        expect: &Expect,
        what: &str,
    ) -> Result<(Stored, Blob)> {
        let start = core.pos;
        let keep = core.options.layers == LayerStorage::AsIs;
        let out = &mut core.out;
        let pending = PendingHeader::at(start);
        let result = layer_data(stream, expect, what, keep, |_| {
            pending
                .begin(out)
                .map_err(|e| Error::io(format!("writing {what}"), e))?;
            Ok(out)
        });
        let (stored, data_len, stream) = match result {
            Ok(v) => v,
            Err(e) => {
                core.rollback(start)?;
                return Err(e);
            }
        };
        core.pos += BLOCK + data_len;
        // A layer that turns out to be in the archive already (a streaming layer, whose diff_id
        // was not known before it was read) is not stored twice.
        if let Some(s) = core.existing(&stored) {
            core.rollback(pending.start())?;
            core.blobs
                .insert(stream.digest.clone(), (s.clone(), stream.size));
            return Ok((s, stream));
        }
        if let Err(e) = finish_entry(core, pending, &stored.path, data_len) {
            core.broken = true;
            return Err(e);
        }
        core.record(&stored, &stream);
        Ok((stored, stream))
    }
}

/// Pads the pending layer entry's data of `size` bytes and writes its header.
fn finish_entry(
    core: &mut Core<FileOut>,
    pending: PendingHeader,
    name: &str,
    size: u64,
) -> Result<()> {
    core.pad(size)?;
    let header = core.layer_header(name, size)?;
    let end = core.pos;
    pending
        .finish(&mut core.out, &header, end)
        .map_err(|e| Error::io(format!("writing {}", core.label), e))
}

impl<O: Output> Core<O> {
    pub(crate) fn new(out: O, label: String, options: WriterOptions) -> Core<O> {
        Core {
            out,
            pos: 0,
            label,
            options,
            blobs: HashMap::new(),
            by_diff_id: HashMap::new(),
            configs: HashMap::new(),
            legacy_layers: HashSet::new(),
            items: Vec::new(),
            item_tops: Vec::new(),
            by_config: HashMap::new(),
            broken: false,
        }
    }

    /// The output, for the writer that finishes it.
    pub(crate) fn into_out(self) -> O {
        self.out
    }

    /// The images added so far.
    pub(crate) fn items(&self) -> &[ManifestItem] {
        &self.items
    }

    /// See [`Writer::add_image`].
    pub(crate) fn add_image(&mut self, image: &dyn Image, tags: &[Reference]) -> Result<()> {
        let tags = tags
            .iter()
            .map(NameTag::from_reference)
            .collect::<Result<Vec<_>>>()?;
        let layers = image
            .layers()
            .map_err(|e| Error::image("listing the image's layers", e))?;
        let mut stored = Vec::with_capacity(layers.len());
        for (i, layer) in layers.iter().enumerate() {
            stored.push(self.add_layer(&**layer, i)?);
        }
        let config = image
            .raw_config_file()
            .map_err(|e| Error::image("reading the image's config", e))?;
        self.check_diff_ids(&config, &stored, CountedImage::Written)?;
        let config_digest = self.store_config(&config, None)?;
        let item = self.add_item(&config_digest, &config, &stored)?;
        self.add_tags(item, &tags);
        Ok(())
    }

    fn add_layer(&mut self, layer: &dyn Layer, i: usize) -> Result<Stored> {
        let ctx = |what: &str| format!("{what} layer {i}");
        let known_diff_id = match layer.diff_id() {
            Ok(d) => Some(d),
            Err(oci_partial::Error::NotComputed { .. }) => None,
            Err(e) => return Err(Error::image(ctx("reading the diff_id of"), e)),
        };
        if let Some(s) = known_diff_id.as_ref().and_then(|d| self.by_diff_id.get(d)) {
            return Ok(s.clone());
        }
        // Errors name the layer by its diff_id when it is known without reading anything.
        let what = match &known_diff_id {
            Some(d) => format!("layer {i} (diff_id {d})"),
            None => format!("layer {i}"),
        };
        // The digest and size of the blob as stored, when the layer knows them before it is
        // read (a streaming layer does not): the stream is held to them, and they let a
        // writer that cannot seek write the entry's header before its data.
        let digest = layer.digest().ok();
        let size = digest.as_ref().and_then(|_| layer.size().ok());
        let stored = match (self.options.layers, &known_diff_id) {
            (LayerStorage::Uncompressed, Some(d)) => {
                let r = layer
                    .uncompressed()
                    .map_err(|e| Error::image(ctx("opening"), e))?;
                // A layer stored uncompressed (its digest is its diff_id) has the size of its tar.
                let expect = Expect {
                    digest: Some(d.clone()),
                    size: size.filter(|_| digest.as_ref() == Some(d)),
                    diff_id: Some(d.clone()),
                };
                self.store_layer(r, expect, &what)?.0
            }
            _ => {
                let r = layer
                    .compressed()
                    .map_err(|e| Error::image(ctx("opening"), e))?;
                let expect = Expect {
                    digest,
                    size,
                    diff_id: known_diff_id.clone(),
                };
                self.store_layer(r, expect, &what)?.0
            }
        };
        // A streaming layer knows its digests now: they must agree with what was stored.
        if known_diff_id.is_none() {
            if let (Ok(d), Some(ours)) = (layer.diff_id(), &stored.diff_id) {
                if &d != ours {
                    let what = format!("layer {i} (diff_id the layer reports)");
                    return Err(Error::digest_mismatch(what, d, ours.clone()));
                }
            }
        }
        if self.options.layers == LayerStorage::AsIs {
            let diff_id = stored.diff_id.clone().or_else(|| layer.diff_id().ok());
            if let Some(d) = diff_id {
                let mut s = stored.clone();
                s.diff_id = Some(d.clone());
                self.by_diff_id.entry(d).or_insert(s.clone());
                self.blobs.insert(s.digest.clone(), (s.clone(), s.size));
                return Ok(s);
            }
        }
        Ok(stored)
    }

    /// Checks that the config's diff_ids are those of the stored layers (where known).
    pub(crate) fn check_diff_ids(
        &self,
        config: &[u8],
        stored: &[Stored],
        image: CountedImage,
    ) -> Result<ConfigFile> {
        let parsed = ConfigFile::from_slice(config)
            .map_err(|e| Error::types("parsing the image's config", e))?;
        let diff_ids = &parsed.rootfs.diff_ids;
        if diff_ids.len() != stored.len() {
            return Err(Error::LayerCountMismatch {
                image,
                config: Digest::sha256(config).to_string(),
                layers: stored.len(),
                diff_ids: diff_ids.len(),
            });
        }
        for (i, (s, want)) in stored.iter().zip(diff_ids).enumerate() {
            if let Some(have) = &s.diff_id {
                if have != want {
                    return Err(Error::digest_mismatch(
                        format!("layer {i} (its diff_id in the config)"),
                        want.clone(),
                        have.clone(),
                    ));
                }
            }
        }
        Ok(parsed)
    }

    /// The stored layer known by `digest` (the digest of the stream it was stored from, its
    /// stored digest or its diff_id), with the size of the stream of that digest.
    pub(crate) fn stored_blob(&self, digest: &Digest) -> Option<(Stored, u64)> {
        match self.blobs.get(digest) {
            Some(b) => Some(b.clone()),
            None => self.by_diff_id.get(digest).map(|s| (s.clone(), s.size)),
        }
    }

    /// The config with `digest`, if it is in the archive.
    pub(crate) fn config(&self, digest: &Digest) -> Option<Arc<[u8]>> {
        self.configs.get(digest).cloned()
    }

    fn check_usable(&self) -> Result<()> {
        if self.broken {
            return Err(Error::Io {
                context: format!("writing {}", self.label),
                source: io::Error::other("an earlier write failed and could not be undone"),
            });
        }
        Ok(())
    }

    /// Streams a layer into the archive: verified against `expect` as it flows, decompressed
    /// unless layers are stored as they are, in the entry the output writes (see
    /// [`Output::store_layer`]). Returns the stored layer and the digest and size of the
    /// stream as given.
    pub(crate) fn store_layer(
        &mut self,
        stream: impl Read,
        expect: Expect,
        what: &str,
    ) -> Result<(Stored, Blob)> {
        self.check_usable()?;
        if let Some(d) = &expect.digest {
            if let Some((s, size)) = self.stored_blob(d) {
                return Ok((
                    s,
                    Blob {
                        digest: d.clone(),
                        size,
                    },
                ));
            }
        }
        O::store_layer(self, stream, &expect, what)
    }

    /// The layer already in the archive that `stored` turns out to be (by digest or diff_id).
    pub(crate) fn existing(&self, stored: &Stored) -> Option<Stored> {
        match self.blobs.get(&stored.digest) {
            Some((s, _)) => Some(s.clone()),
            None => stored
                .diff_id
                .as_ref()
                .and_then(|d| self.by_diff_id.get(d))
                .cloned(),
        }
    }

    /// Records a layer just stored from `stream`.
    pub(crate) fn record(&mut self, stored: &Stored, stream: &Blob) {
        self.blobs
            .insert(stream.digest.clone(), (stored.clone(), stream.size));
        self.blobs
            .entry(stored.digest.clone())
            .or_insert((stored.clone(), stored.size));
        if let Some(d) = &stored.diff_id {
            self.by_diff_id.insert(d.clone(), stored.clone());
        }
    }

    /// The one-block header of a layer entry.
    pub(crate) fn layer_header(&self, name: &str, size: u64) -> Result<[u8; BLOCK as usize]> {
        tar::encode_fixed(name, size).ok_or_else(|| Error::Io {
            context: format!("writing {}", self.label),
            source: io::Error::other(format!(
                "entry name {name:?} is too long for a one-block header"
            )),
        })
    }

    /// Writes the zeros that pad an entry of `size` bytes to whole blocks.
    pub(crate) fn pad(&mut self, size: u64) -> Result<()> {
        let pad = tar::padded(size).unwrap_or(size) - size;
        self.write_all(&[0u8; BLOCK as usize][..pad as usize])
            .map_err(|e| Error::io(format!("writing {}", self.label), e))
    }

    /// Cuts the archive back to `start`, forgetting everything written after it.
    fn rollback(&mut self, start: u64) -> Result<()> {
        let res = self.out.cut(start);
        self.pos = start;
        res.map_err(|e| {
            self.broken = true;
            Error::io(format!("undoing a failed write to {}", self.label), e)
        })
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.pos += bytes.len() as u64;
        Ok(())
    }

    fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.check_usable()?;
        let mut buf = tar::encode(name, Kind::File(bytes.len() as u64));
        buf.extend_from_slice(bytes);
        buf.resize(tar::padded(buf.len() as u64).unwrap_or(0) as usize, 0);
        self.write_entry_bytes(&buf)
    }

    fn write_symlink(&mut self, name: &str, target: &str) -> Result<()> {
        self.check_usable()?;
        let buf = tar::encode(name, Kind::Symlink(target));
        self.write_entry_bytes(&buf)
    }

    fn write_entry_bytes(&mut self, buf: &[u8]) -> Result<()> {
        let start = self.pos;
        if let Err(e) = self.write_all(buf) {
            self.rollback(start)?;
            return Err(Error::io(format!("writing {}", self.label), e));
        }
        Ok(())
    }

    /// Stores a config (once per digest) as `<sha256 hex>.json`; returns its sha256 digest.
    /// `also` is another digest to know it by (the one it was given with).
    pub(crate) fn store_config(&mut self, config: &[u8], also: Option<&Digest>) -> Result<Digest> {
        if config.len() as u64 > MAX_CONFIG_SIZE {
            return Err(Error::TooLarge {
                what: "config",
                path: String::new(),
                size: config.len() as u64,
                limit: MAX_CONFIG_SIZE,
            });
        }
        let digest = Digest::sha256(config);
        if !self.configs.contains_key(&digest) {
            self.write_file(&format!("{}.json", digest.encoded()), config)?;
            self.configs.insert(digest.clone(), Arc::from(config));
        }
        if let Some(d) = also {
            if let Some(bytes) = self.configs.get(&digest).cloned() {
                self.configs.insert(d.clone(), bytes);
            }
        }
        Ok(digest)
    }

    /// Records an image (its config, already stored, and its stored layers): writes its legacy
    /// layer directories and adds its `manifest.json` item, or finds the item of the same
    /// config. Returns the item's index.
    pub(crate) fn add_item(
        &mut self,
        config_digest: &Digest,
        config: &[u8],
        layers: &[Stored],
    ) -> Result<usize> {
        let paths: Vec<String> = layers.iter().map(|s| s.path.clone()).collect();
        if let Some(&i) = self.by_config.get(config_digest) {
            if self.items[i].layers != paths {
                return Err(Error::InvalidManifest {
                    kind: InvalidManifestKind::ConfigReused {
                        config: config_digest.clone(),
                    },
                });
            }
            return Ok(i);
        }
        let digests: Vec<Digest> = layers.iter().map(|s| s.digest.clone()).collect();
        let legacy = legacy::layers(&digests, config)?;
        for (l, s) in legacy.iter().zip(layers) {
            if self.legacy_layers.contains(&l.id) {
                continue;
            }
            self.write_symlink(&format!("{}/layer.tar", l.id), &format!("../{}", s.path))?;
            self.write_file(&format!("{}/VERSION", l.id), b"1.0")?;
            self.write_file(&format!("{}/json", l.id), &l.json)?;
            self.legacy_layers.insert(l.id.clone());
        }
        let config_path = format!("{}.json", config_digest.encoded());
        self.items
            .push(ManifestItem::new(config_path, Vec::new(), paths));
        self.item_tops.push(legacy.last().map(|l| l.id.clone()));
        self.by_config
            .insert(config_digest.clone(), self.items.len() - 1);
        Ok(self.items.len() - 1)
    }

    /// Tags item `i`. A tag names one image: given again for another image, it moves.
    pub(crate) fn add_tags(&mut self, i: usize, tags: &[NameTag]) {
        for t in tags {
            let s = t.repo_tag();
            for (j, item) in self.items.iter_mut().enumerate() {
                if j != i {
                    item.repo_tags.retain(|x| x != &s);
                }
            }
            if let Some(item) = self.items.get_mut(i) {
                if !item.repo_tags.contains(&s) {
                    item.repo_tags.push(s);
                }
            }
        }
    }

    /// Writes `manifest.json`, `repositories` and the end-of-archive blocks, and flushes.
    pub(crate) fn finish(&mut self) -> Result<()> {
        self.check_usable()?;
        let manifest = ManifestItem::to_json(&self.items);
        let mut repos: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (item, top) in self.items.iter().zip(&self.item_tops) {
            let Some(top) = top else { continue };
            for t in &item.repo_tags {
                if let Ok(nt) = NameTag::parse(t) {
                    repos
                        .entry(nt.name)
                        .or_default()
                        .insert(nt.tag, top.clone());
                }
            }
        }
        let repositories = legacy::repositories(&repos);
        self.write_file(MANIFEST_FILE, &manifest)?;
        self.write_file("repositories", &repositories)?;
        let ctx = format!("finishing {}", self.label);
        self.write_all(&[0u8; 2 * BLOCK as usize])
            .map_err(|e| Error::io(&ctx, e))?;
        self.out.flush().map_err(|e| Error::io(&ctx, e))
    }
}

/// Copies `r` to `w` in large chunks (`io::copy` through a `dyn Write` would read 8 KiB at a
/// time); returns the number of bytes copied.
pub(crate) fn pump(r: &mut impl Read, w: &mut dyn Write) -> io::Result<u64> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(&buf[..n])?;
        total += n as u64;
    }
}

/// The file name extension of a layer stored as it came, compressed with `compression`.
fn layer_ext(compression: Compression) -> &'static str {
    match compression {
        Compression::Gzip => ".tar.gz",
        Compression::Zstd => ".tar.zst",
        _ => ".tar",
    }
}

/// The digest, entry name and size a layer will be stored under, when they can be told
/// before its data is read: from the digest and size `expect`s of the stream, when the stream
/// is what is stored (layers kept as they come, or a stream that is not compressed).
pub(crate) fn predict(
    expect: &Expect,
    keep_compressed: bool,
    compression: Compression,
) -> Option<(Digest, String, u64)> {
    let size = expect.size?;
    let sha256 = |d: &Option<Digest>| {
        d.as_ref()
            .filter(|d| d.algorithm() == &Algorithm::Sha256)
            .cloned()
    };
    let (digest, ext) = if keep_compressed {
        (sha256(&expect.digest)?, layer_ext(compression))
    } else if compression == Compression::None {
        // Uncompressed, the stream's digest is its diff_id.
        let d = sha256(&expect.digest).or_else(|| sha256(&expect.diff_id))?;
        (d, ".tar")
    } else {
        return None;
    };
    let name = format!("{}{ext}", digest.encoded());
    Some((digest, name, size))
}

/// Reads a layer from `stream`, verified against `expect` as it flows, and writes its data
/// (decompressed unless `keep_compressed`) where `begin` says once the stream's compression
/// is known. Returns what is stored (named by the digests found), the number of bytes
/// written, and the digest and size of the stream as given.
pub(crate) fn layer_data<'o>(
    stream: impl Read,
    expect: &Expect,
    what: &str,
    keep_compressed: bool,
    begin: impl FnOnce(Compression) -> Result<&'o mut dyn Write>,
) -> Result<(Stored, u64, Blob)> {
    let ctx = |w: &str| format!("{w} {what}");
    let mut given = Meter::new(stream, expect.digest.as_ref(), expect.size)?;
    let (detected, peeked) =
        compression::peek(&mut given).map_err(|e| Error::io(ctx("reading"), e))?;
    let compression = match detected {
        Detected::Known(c) => c,
        Detected::Unsupported(format) => {
            return Err(Error::UnsupportedCompression {
                what: what.to_owned(),
                format,
            })
        }
    };
    let out = begin(compression)?;
    let (written, plain_digest) = if keep_compressed {
        let mut plain = Meter::new(peeked, None, None)?;
        let n = pump(&mut plain, out).map_err(|e| Error::io(ctx("storing"), e))?;
        (n, None)
    } else {
        let decoded = compression::decompress(peeked, compression)
            .map_err(|e| Error::io(ctx("decompressing"), e))?;
        let mut plain = Meter::new(decoded, None, None)?;
        let n = pump(&mut plain, out).map_err(|e| Error::io(ctx("storing"), e))?;
        (n, Some(plain.sha256()))
    };
    // Drain what the decompressor left (gzip trailers) so that the given stream is
    // verified to its end.
    io::copy(&mut given, &mut io::sink()).map_err(|e| Error::io(ctx("reading"), e))?;
    let stream_digest = given.verify(what)?;
    let stream_sha256 = given.sha256();
    let (path, digest, diff_id) = match plain_digest {
        Some(diff_id) => (
            format!("{}.tar", diff_id.encoded()),
            diff_id.clone(),
            Some(diff_id),
        ),
        None => {
            let diff_id = (compression == Compression::None).then(|| stream_sha256.clone());
            (
                format!("{}{}", stream_sha256.encoded(), layer_ext(compression)),
                stream_sha256,
                diff_id,
            )
        }
    };
    if let (Some(want), Some(have)) = (&expect.diff_id, &diff_id) {
        if want.algorithm() == &Algorithm::Sha256 && want != have {
            return Err(Error::digest_mismatch(
                format!("{what} (diff_id)"),
                want.clone(),
                have.clone(),
            ));
        }
    }
    let diff_id = diff_id.or_else(|| expect.diff_id.clone());
    let blob = Blob {
        digest: stream_digest,
        size: given.count,
    };
    Ok((
        Stored {
            path,
            digest,
            size: written,
            diff_id,
        },
        written,
        blob,
    ))
}

#[cfg(unix)]
fn set_mode(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_mode(_: &Path) -> io::Result<()> {
    Ok(())
}

/// Refuses a target that exists and is not an empty file (with `replace`, only a target that
/// is not a file).
fn check_target(path: &Path, replace: bool) -> Result<()> {
    match fs::metadata(path) {
        Ok(m) if m.is_file() && (replace || m.len() == 0) => Ok(()),
        Ok(_) => Err(Error::ExistingFile {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("checking {}", path.display()), e)),
    }
}

/// The length of the random part `tempfile` puts in a name.
const TEMP_RANDOM_LEN: usize = 6;

/// A new temporary file `.BASE.XXXXXX.tmp` in `dir`, locked. Another writer's sweep may remove
/// it between its creation and the lock; then it is made again.
fn temp_file(dir: &Path, base: &str) -> Result<NamedTempFile> {
    let ctx = || format!("creating a temporary file in {}", dir.display());
    for _ in 0..8 {
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{base}."))
            .suffix(".tmp")
            .rand_bytes(TEMP_RANDOM_LEN)
            .tempfile_in(dir)
            .map_err(|e| Error::io(ctx(), e))?;
        temp.as_file()
            .try_lock()
            .map_err(|e| Error::io(ctx(), io::Error::other(e)))?;
        if same_file(temp.as_file(), temp.path()) {
            return Ok(temp);
        }
    }
    Err(Error::io(
        ctx(),
        io::Error::other("temporary files kept vanishing"),
    ))
}

/// True when `path` is still the file `file` has open.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

/// Removes the temporary files of archives at `dir/base` that no live writer holds (their
/// writer was killed), leaving `ours` alone.
fn sweep_stale_temps(dir: &Path, base: &str, ours: &Path) {
    let prefix = format!(".{base}.");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let random = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"));
        let ours_by_name = random.is_some_and(|r| {
            r.len() == TEMP_RANDOM_LEN && r.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !ours_by_name || entry.path() == ours {
            continue;
        }
        let Ok(file) = File::open(entry.path()) else {
            continue;
        };
        // A writer at work holds the lock; a killed one's lock died with it.
        if file.try_lock().is_ok() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Counts and hashes what passes; enforces an expected size as it flows and checks an
/// expected digest at the end.
struct Meter<'a, R> {
    inner: R,
    sha256: Digester,
    /// A second digester when the expected digest is not sha256.
    other: Option<Digester>,
    expected: Option<&'a Digest>,
    size: Option<u64>,
    count: u64,
}

impl<'a, R: Read> Meter<'a, R> {
    fn new(inner: R, expected: Option<&'a Digest>, size: Option<u64>) -> Result<Self> {
        let other = match expected {
            Some(d) if d.algorithm() != &Algorithm::Sha256 => Some(
                d.digester()
                    .map_err(|e| Error::types(format!("verifying {d}"), e))?,
            ),
            _ => None,
        };
        Ok(Meter {
            inner,
            sha256: Digester::new_sha256(),
            other,
            expected,
            size,
            count: 0,
        })
    }

    fn sha256(&self) -> Digest {
        self.sha256.current()
    }

    /// Checks the size and digest of everything read; returns the digest (in the expected
    /// algorithm, sha256 when none was expected).
    fn verify(&self, what: &str) -> Result<Digest> {
        if let Some(size) = self.size {
            if self.count != size {
                return Err(Error::SizeMismatch {
                    what: what.to_owned(),
                    expected: size,
                    actual: self.count,
                    more: false,
                });
            }
        }
        let actual = match &self.other {
            Some(d) => d.current(),
            None => self.sha256.current(),
        };
        if let Some(expected) = self.expected {
            if &actual != expected {
                return Err(Error::digest_mismatch(what, expected.clone(), actual));
            }
        }
        Ok(actual)
    }
}

impl<R: Read> Read for Meter<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha256.update(&buf[..n]);
        if let Some(d) = &mut self.other {
            d.update(&buf[..n]);
        }
        self.count += n as u64;
        if let Some(size) = self.size {
            if self.count > size {
                let e = Error::SizeMismatch {
                    what: "blob".into(),
                    expected: size,
                    actual: self.count,
                    more: true,
                };
                return Err(e.into_io());
            }
        }
        Ok(n)
    }
}
