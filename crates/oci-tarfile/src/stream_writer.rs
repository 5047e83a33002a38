//! [`StreamWriter`]: writes a docker archive to any [`io::Write`], one that cannot seek
//! (a pipe, standard output) included.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

use oci_partial::Image;
use oci_types::Reference;

use crate::dest::Blob;
use crate::writer::{layer_data, predict, pump, Core, Expect, Output, Stored};
use crate::{Error, ManifestItem, Result, WriterOptions};

/// Writes a docker archive (`docker save` format) to a stream that need not seek: the same
/// archive, byte for byte, that [`crate::Writer`] writes to a file for the same images, tags
/// and options.
///
/// A tar header holds the size of its entry, so it must be written before the entry's data.
/// A layer whose stored size and digest (its name) are known before it is read is streamed
/// straight through: a layer stored as it comes whose descriptor gives its digest and size, or
/// a layer that is not compressed. Any other layer (a compressed layer stored decompressed,
/// whose size is only known once it has been decompressed, or a streaming layer) is first
/// spooled, alone, to an unnamed temporary file in the system's temporary directory (`TMPDIR`),
/// then written with its header; the file is gone when the layer has been written. Memory stays
/// flat either way.
///
/// Nothing is undone on a stream: when an error (a digest mismatch, a failing source) stops a
/// layer that was being streamed straight through, what was written so far stays written, the
/// archive is incomplete and this writer refuses further work. Whoever reads the stream sees a
/// truncated archive; the error says what went wrong. A layer that fails while being spooled
/// leaves the stream as it was.
///
/// ```
/// # use std::sync::Arc;
/// # use oci_partial::{BlobReader, Image, Layer};
/// # use oci_types::{Digest, MediaType};
/// # struct Mem { layer: Vec<u8>, config: Vec<u8> }
/// # impl Layer for Mem {
/// #     fn digest(&self) -> oci_partial::Result<Digest> { Ok(Digest::sha256(&self.layer)) }
/// #     fn diff_id(&self) -> oci_partial::Result<Digest> { self.digest() }
/// #     fn compressed(&self) -> oci_partial::Result<BlobReader> { Ok(Box::new(std::io::Cursor::new(self.layer.clone()))) }
/// #     fn uncompressed(&self) -> oci_partial::Result<BlobReader> { self.compressed() }
/// #     fn size(&self) -> oci_partial::Result<u64> { Ok(self.layer.len() as u64) }
/// #     fn media_type(&self) -> oci_partial::Result<MediaType> { Ok(MediaType::DockerLayer) }
/// # }
/// # struct Img(Arc<Mem>);
/// # impl Image for Img {
/// #     fn layers(&self) -> oci_partial::Result<Vec<Arc<dyn Layer>>> { Ok(vec![self.0.clone()]) }
/// #     fn media_type(&self) -> oci_partial::Result<MediaType> { Ok(MediaType::DockerManifest) }
/// #     fn raw_config_file(&self) -> oci_partial::Result<Vec<u8>> { Ok(self.0.config.clone()) }
/// #     fn raw_manifest(&self) -> oci_partial::Result<Vec<u8>> { unimplemented!() }
/// #     fn layer_by_digest(&self, _: &Digest) -> oci_partial::Result<Arc<dyn Layer>> { Ok(self.0.clone()) }
/// #     fn layer_by_diff_id(&self, _: &Digest) -> oci_partial::Result<Arc<dyn Layer>> { Ok(self.0.clone()) }
/// # }
/// # let layer = vec![0u8; 1024];
/// # let config = format!(
/// #     r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
/// #     Digest::sha256(&layer),
/// # ).into_bytes();
/// # let image = Img(Arc::new(Mem { layer, config }));
/// use oci_tarfile::{Reader, StreamWriter};
///
/// // `image` is any `oci_partial::Image`; the archive goes to a `Vec`, as it would to stdout.
/// let mut w = StreamWriter::new(Vec::new());
/// w.add_image(&image, &["example.com/demo:1".parse()?])?;
/// let archive: Vec<u8> = w.finish()?;
///
/// let reader = Reader::from_bytes(archive)?;
/// assert_eq!(reader.manifest()[0].repo_tags, ["example.com/demo:1"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StreamWriter<W: Write> {
    core: Core<Stream<W>>,
}

impl<W: Write> std::fmt::Debug for StreamWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamWriter")
            .field("images", &self.core.items().len())
            .finish_non_exhaustive()
    }
}

impl<W: Write> StreamWriter<W> {
    /// Starts an archive on `out`, storing layers uncompressed.
    pub fn new(out: W) -> StreamWriter<W> {
        StreamWriter::with_options(out, WriterOptions::default())
    }

    /// Starts an archive on `out` with `options` (`replace` has no meaning for a stream).
    pub fn with_options(out: W, options: WriterOptions) -> StreamWriter<W> {
        let out = Stream(BufWriter::with_capacity(256 * 1024, out));
        StreamWriter {
            core: Core::new(out, "the archive stream".to_owned(), options),
        }
    }

    /// Adds an image with `tags`, as [`crate::Writer::add_image`] does.
    pub fn add_image(&mut self, image: &dyn Image, tags: &[Reference]) -> Result<()> {
        self.core.add_image(image, tags)
    }

    /// The images added so far, as `manifest.json` will list them.
    pub fn manifest(&self) -> &[ManifestItem] {
        self.core.items()
    }

    /// Finishes the archive (`manifest.json`, `repositories`, the end-of-archive blocks),
    /// flushes it and gives back the output.
    pub fn finish(mut self) -> Result<W> {
        self.core.finish()?;
        self.core
            .into_out()
            .0
            .into_inner()
            .map_err(|e| Error::io("finishing the archive stream", e.into_error()))
    }
}

/// The output of a [`StreamWriter`].
pub(crate) struct Stream<W: Write>(BufWriter<W>);

impl<W: Write> Write for Stream<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write> Output for Stream<W> {
    fn cut(&mut self, _start: u64) -> io::Result<()> {
        Err(io::Error::other(
            "a stream cannot take back what was written",
        ))
    }

    /// Streams the layer straight through under a header written first when its name and
    /// size can be told before it is read; spools it to an unnamed temporary file otherwise.
    fn store_layer(
        core: &mut Core<Self>,
        stream: impl Read,
        expect: &Expect,
        what: &str,
    ) -> Result<(Stored, Blob)> {
        let keep = core.options.layers == crate::LayerStorage::AsIs;
        let mut direct = None;
        let mut spool = None;
        let result = layer_data(stream, expect, what, keep, |c| {
            begin(core, &mut direct, &mut spool, expect, keep, c)
        });
        if let Some((name, size)) = direct {
            // Bytes of this entry are out: any failure leaves the stream incomplete.
            let done = result.and_then(|(stored, written, blob)| {
                if stored.path != name || written != size {
                    return Err(Error::SizeMismatch {
                        what: format!("{what} (stored as {})", stored.path),
                        expected: size,
                        actual: written,
                        more: written > size,
                    });
                }
                core.pad(written)?;
                Ok((stored, blob))
            });
            return match done {
                Ok((stored, blob)) => {
                    core.record(&stored, &blob);
                    Ok((stored, blob))
                }
                Err(e) => {
                    core.broken = true;
                    Err(e)
                }
            };
        }
        // Spooled: nothing reached the stream yet.
        let (stored, written, blob) = result?;
        let Some(spool) = spool else {
            return Err(Error::io(
                format!("writing {what}"),
                io::Error::other("the layer went nowhere"),
            ));
        };
        if let Some(s) = core.existing(&stored) {
            core.blobs
                .insert(blob.digest.clone(), (s.clone(), blob.size));
            return Ok((s, blob));
        }
        if let Err(e) = copy_spooled(core, spool, &stored.path, written, what) {
            core.broken = true;
            return Err(e);
        }
        core.record(&stored, &blob);
        Ok((stored, blob))
    }
}

/// Decides where a layer's data goes once its compression is known: under its header, to the
/// stream, when [`predict`] tells its name and size and it is not in the archive yet;
/// otherwise to a new unnamed temporary file.
fn begin<'o, W: Write>(
    core: &'o mut Core<Stream<W>>,
    direct: &'o mut Option<(String, u64)>,
    spool: &'o mut Option<BufWriter<File>>,
    expect: &Expect,
    keep: bool,
    compression: oci_types::Compression,
) -> Result<&'o mut dyn Write> {
    let predicted = predict(expect, keep, compression)
        .filter(|(digest, _, _)| core.stored_blob(digest).is_none());
    match predicted {
        Some((_, name, size)) => {
            let header = core.layer_header(&name, size)?;
            if let Err(e) = core.write_all(&header) {
                core.broken = true;
                return Err(Error::io(format!("writing {}", core.label), e));
            }
            *direct = Some((name, size));
            Ok(&mut core.out)
        }
        None => {
            let file = tempfile::tempfile()
                .map_err(|e| Error::io("creating a temporary file to spool a layer", e))?;
            Ok(spool.insert(BufWriter::with_capacity(256 * 1024, file)))
        }
    }
}

/// Writes the header of a spooled layer, the layer from its temporary file, and the padding.
fn copy_spooled<W: Write>(
    core: &mut Core<Stream<W>>,
    spool: BufWriter<File>,
    name: &str,
    size: u64,
    what: &str,
) -> Result<()> {
    let ctx = |e| Error::io(format!("reading back the spooled {what}"), e);
    let mut file = spool.into_inner().map_err(|e| ctx(e.into_error()))?;
    file.seek(SeekFrom::Start(0)).map_err(ctx)?;
    let header = core.layer_header(name, size)?;
    core.write_all(&header)
        .map_err(|e| Error::io(format!("writing {}", core.label), e))?;
    let n = pump(&mut file.take(size), &mut core.out)
        .map_err(|e| Error::io(format!("writing {what} to {}", core.label), e))?;
    core.pos += n;
    if n != size {
        return Err(Error::SizeMismatch {
            what: format!("spooled {what}"),
            expected: size,
            actual: n,
            more: false,
        });
    }
    core.pad(size)
}
