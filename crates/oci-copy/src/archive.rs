//! Writing docker archives: to a file (beside its destination, renamed over it on success),
//! or to standard output (`docker-archive:-`).
//!
//! Standard output is not seekable, and a tar entry's header (its size) comes before its data.
//! oci-tarfile's [`StreamWriter`] writes the archive straight to it: a layer whose stored size
//! is known before it is read goes straight through, and only a layer whose size is not (a
//! compressed layer stored decompressed, a layer recompressed on the way) is spooled, alone, to
//! an unnamed temporary file in `TMPDIR` first. Memory stays flat. An error mid-way leaves a
//! truncated archive on standard output (what went out cannot be taken back) and fails the
//! copy.

use std::path::Path;

use oci_partial::Image;
use oci_tarfile::{LayerStorage, StreamWriter, Writer, WriterOptions};
use oci_types::Reference;

use crate::error::{Error, Result};
use crate::sink::{temp_beside, TempGuard};

/// Writes `image` as a docker archive at `path`, atomically.
pub(crate) fn write(
    path: &Path,
    image: &dyn Image,
    tags: &[Reference],
    storage: LayerStorage,
) -> Result<()> {
    let at = |source| Error::Archive {
        path: path.to_owned(),
        source: Box::new(source),
    };
    if path.is_dir() {
        return Err(Error::Io {
            op: "writing the archive",
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        });
    }
    if path == Path::new("-") {
        return write_stdout(image, tags, storage);
    }
    crate::cleanup::remove_stale_beside(path);
    let tmp = TempGuard::new(temp_beside(path, "archive")?);
    let mut w =
        Writer::with_options(tmp.path(), WriterOptions::new().layers(storage)).map_err(at)?;
    w.add_image(image, tags).map_err(at)?;
    w.commit().map_err(at)?;
    oci_types::fs::rename(tmp.path(), path).map_err(|e| Error::Io {
        op: "renaming the finished archive to",
        path: path.to_owned(),
        source: e.source,
    })?;
    tmp.keep();
    Ok(())
}

/// Writes the archive to a temporary file in the system's temporary directory: the guard of
/// its directory (removed on drop) and the file.
pub(crate) fn write_temporary(
    image: &dyn Image,
    tags: &[Reference],
    storage: LayerStorage,
) -> Result<(TempGuard, std::path::PathBuf)> {
    let dir = TempGuard::new(temp_beside(
        &std::env::temp_dir().join("archive"),
        "archive",
    )?);
    std::fs::create_dir(dir.path()).map_err(|source| Error::Io {
        op: "creating",
        path: dir.path().to_owned(),
        source,
    })?;
    let file = dir.path().join("archive.tar");
    let at = |source| Error::Archive {
        path: file.clone(),
        source: Box::new(source),
    };
    let mut w = Writer::with_options(&file, WriterOptions::new().layers(storage)).map_err(at)?;
    w.add_image(image, tags).map_err(at)?;
    w.commit().map_err(at)?;
    Ok((dir, file))
}

/// Writes the archive to standard output as it is made.
fn write_stdout(image: &dyn Image, tags: &[Reference], storage: LayerStorage) -> Result<()> {
    let at = |source| Error::Archive {
        path: "-".into(),
        source: Box::new(source),
    };
    let out = std::io::stdout().lock();
    let mut w = StreamWriter::with_options(out, WriterOptions::new().layers(storage));
    w.add_image(image, tags).map_err(at)?;
    let mut out = w.finish().map_err(at)?;
    std::io::Write::flush(&mut out).map_err(|source| Error::Io {
        op: "writing the archive to",
        path: "-".into(),
        source,
    })
}
