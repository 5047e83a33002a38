//! `dir:`: containers/image's directory transport.

use std::path::Path;

use oci_partial::{Image, ImageIndex};
use oci_types::Digest;

use crate::error::{Error, Result};
use crate::source::Source;

/// Opens the image (or index) of a `dir:` directory.
pub(crate) fn open(_path: &Path) -> Result<Source> {
    Err(Error::Unsupported {
        transport: "dir:",
        write: false,
    })
}

/// Writes an image.
pub(crate) fn write_image(_path: &Path, _image: &dyn Image) -> Result<Digest> {
    Err(Error::Unsupported {
        transport: "dir:",
        write: true,
    })
}

/// Writes an index.
pub(crate) fn write_index(_path: &Path, _index: &dyn ImageIndex) -> Result<Digest> {
    Err(Error::Unsupported {
        transport: "dir:",
        write: true,
    })
}
