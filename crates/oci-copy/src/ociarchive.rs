//! `oci-archive:`: a tar of an OCI image layout.

use std::path::Path;

use oci_layout::Layout;
use oci_types::Descriptor;

use crate::error::{Error, Result};

/// Opens the layout inside an archive.
pub(crate) fn open(_path: &Path) -> Result<Layout> {
    Err(Error::Unsupported {
        transport: "oci-archive:",
        write: false,
    })
}

/// Writes a layout as an archive at `path`.
pub(crate) fn write(
    _path: &Path,
    _write: impl FnOnce(&Layout) -> oci_layout::Result<Descriptor>,
) -> Result<Descriptor> {
    Err(Error::Unsupported {
        transport: "oci-archive:",
        write: true,
    })
}
