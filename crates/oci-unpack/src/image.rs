//! Whole images: layers read and verified against the config's diff_ids, applied into a
//! directory that appears only when complete.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use oci_partial::compression::decompress;
use oci_partial::{BlobReader, Image, Layer};
use oci_types::{Digest, HashingReader};
use rustix::fs::{Mode, RenameFlags};

use crate::apply::{Options, Report, Unpacker};
use crate::error::{Error, Result};
use crate::readahead::ReadAhead;

/// An image's layers, bottom first, each with the diff_id its tar must have.
pub(crate) fn layers(image: &dyn Image) -> Result<Vec<(Arc<dyn Layer>, Digest)>> {
    let config = image.config_file()?;
    let layers = image.layers()?;
    let diff_ids = config.rootfs.diff_ids;
    if diff_ids.len() != layers.len() {
        return Err(Error::LayerCount {
            layers: layers.len(),
            diff_ids: diff_ids.len(),
        });
    }
    Ok(layers.into_iter().zip(diff_ids).collect())
}

/// The uncompressed tar of `layer`, failing at its end unless its digest is `diff_id`.
///
/// The tar is hashed once: a layer stored uncompressed (its digest is its diff_id) is
/// verified by the source that reads it; otherwise the blob is decompressed here and the
/// output checked against `diff_id` (the source still checks the blob's own digest). Read,
/// decompressed and hashed on a thread of its own, ahead of the entries being written.
pub(crate) fn layer_tar(layer: &dyn Layer, diff_id: &Digest) -> Result<Box<dyn Read + Send>> {
    let blob = layer.compressed()?;
    let tar: Box<dyn Read + Send> = if layer.digest()? == *diff_id {
        blob
    } else {
        let tar: BlobReader = Box::new(decompress(blob)?);
        let verified = HashingReader::verifying(tar, diff_id.clone(), None)
            .map_err(|e| Error::Image(oci_partial::Error::from(e)))?;
        Box::new(verified)
    };
    let ahead = ReadAhead::new(tar)
        .map_err(|e| Error::Image(oci_partial::Error::io("starting a reading thread", e)))?;
    Ok(Box::new(ahead))
}

/// Removes the temporary directories (`.NAME.unpack-PID-XXXXXX`) that killed unpacks into
/// `parent/NAME` left, those whose process is gone (Linux: no `/proc/PID`), as far as they
/// can be removed. `remove_dir_all` never follows the symbolic links a layer made.
fn remove_stale(parent: &Path, name: &str) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return; // cannot tell which processes run
    }
    let prefix = format!(".{name}.unpack-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue; // not ours, or an older unpack's name without a process id
        };
        if pid == std::process::id() || proc.join(pid.to_string()).exists() {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Turns the tar error of a layer whose content did not match into the typed mismatch.
pub(crate) fn mismatch(e: Error) -> Error {
    match e {
        Error::Tar { layer, source } => match oci_types::Error::from_io(source) {
            oci_types::Error::DigestMismatch { expected, actual } => Error::DiffIdMismatch {
                layer,
                expected,
                actual,
            },
            other => Error::Tar {
                layer,
                source: other.into_io(),
            },
        },
        e => e,
    }
}

/// Unpacks `image` into `dest`, a directory that must not exist yet: the layers are applied
/// bottom first into a temporary directory beside it (`.NAME.unpack-PID-XXXXXX`), which is
/// renamed to `dest` only when every layer has been applied and verified. On any error,
/// and when the unpack is dropped half-way (a panic), the temporary directory is removed,
/// so `dest` either holds the whole image or does not exist. A process killed half-way
/// cannot remove its temporary directory: the next unpack to the same `dest` removes those
/// whose process is gone.
///
/// ```
/// let image = oci_partial::random::image(1, 2, 1024);
/// let dir = tempfile::tempdir()?;
/// let report = oci_unpack::unpack(image.as_ref(), &dir.path().join("rootfs"), oci_unpack::Options::default())?;
/// assert!(report.entries > 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn unpack(image: &dyn Image, dest: &Path, opts: Options) -> Result<Report> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    if dest.symlink_metadata().is_ok() {
        return Err(Error::Exists {
            path: dest.to_path_buf(),
        });
    }
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    remove_stale(parent, &name);
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.unpack-{}-", std::process::id()))
        .tempdir_in(parent)
        .map_err(io_err(parent))?;
    rustix::fs::chmod(tmp.path(), Mode::from_raw_mode(0o755)).map_err(|e| Error::Io {
        path: tmp.path().to_path_buf(),
        source: e.into(),
    })?;
    let mut unpacker = Unpacker::new(tmp.path(), opts)?;
    for (layer, diff_id) in layers(image)? {
        let tar = layer_tar(layer.as_ref(), &diff_id)?;
        unpacker.apply_layer(tar).map_err(mismatch)?;
    }
    let report = unpacker.finish()?;
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        tmp.path(),
        rustix::fs::CWD,
        dest,
        RenameFlags::NOREPLACE,
    )
    .map_err(|e| match e {
        rustix::io::Errno::EXIST | rustix::io::Errno::NOTEMPTY => Error::Exists {
            path: dest.to_path_buf(),
        },
        e => Error::Io {
            path: dest.to_path_buf(),
            source: e.into(),
        },
    })?;
    // Renamed: nothing left for the guard to remove.
    let _ = tmp.keep();
    Ok(report)
}
