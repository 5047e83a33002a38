//! Writing docker archives: to a file (beside its destination, renamed over it on success).

use std::path::Path;

use oci_partial::Image;
use oci_tarfile::{LayerStorage, Writer, WriterOptions};
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
    crate::cleanup::remove_stale_beside(path);
    let tmp = TempGuard::new(temp_beside(path, "archive")?);
    let mut w =
        Writer::with_options(tmp.path(), WriterOptions::new().layers(storage)).map_err(at)?;
    w.add_image(image, tags).map_err(at)?;
    w.commit().map_err(at)?;
    std::fs::rename(tmp.path(), path).map_err(|source| Error::Io {
        op: "renaming the finished archive to",
        path: path.to_owned(),
        source,
    })?;
    tmp.keep();
    Ok(())
}
