//! An image's filesystem: its layers applied safely onto a directory ([`unpack`],
//! `umoci unpack`), or flattened into one tar stream without touching the disk ([`export`],
//! `crane export`).
//!
//! ```
//! use oci_unpack::{export, unpack, Options};
//!
//! let image = oci_partial::random::image(1, 3, 4096); // any `oci_partial::Image`
//! let dir = tempfile::tempdir()?;
//! let rootfs = dir.path().join("rootfs");
//! let report = unpack(image.as_ref(), &rootfs, Options { rootless: true, ..Options::default() })?;
//! assert!(rootfs.is_dir() && report.warnings.is_empty());
//!
//! let mut tar = Vec::new(); // any `io::Write`: a file, stdout, a pipe
//! export(image.as_ref(), &mut tar, &Options::default())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - [`unpack`] applies the layers bottom first into a temporary directory beside the
//!   destination and renames it into place when all are applied and verified; [`Unpacker`]
//!   applies tars onto an existing directory.
//! - Whiteouts as the image-spec defines them: `.wh.NAME` removes `NAME` from lower layers,
//!   `.wh..wh..opq` hides what lower layers put in its directory; other `.wh..wh.` names
//!   (AUFS's metadata) are skipped.
//! - Regular files (GNU sparse ones with holes), directories, symbolic and hard links,
//!   FIFOs, device nodes when privileged (skipped with a [`Warning`] otherwise), modes with
//!   setuid/setgid/sticky, mtimes, `user.*` xattrs (others when privileged), owners when
//!   root; [`Options::rootless`] maps every owner to the caller.
//! - Each layer's tar is checked against the config's diff_id as it is read: a corrupt
//!   image fails with [`Error::DiffIdMismatch`] and leaves nothing behind.
//!
//! # Safety against hostile layers
//! A layer is untrusted input naming paths and links. Every path is resolved by the kernel
//! beneath the destination's directory descriptor (`openat2` with `RESOLVE_IN_ROOT`; the
//! `root` module is the only place paths reach the kernel), so no symbolic link, from this
//! layer or an earlier one, leads out of it; the last component is replaced, never written
//! through. Names with `..` or a leading `/`, hard links outside, whiteouts of `..` are
//! [`Error::Hostile`] naming the layer and the entry ([`Options::lenient`] skips them with a
//! warning instead). Linux 5.6 or later is needed for `openat2`.
#![forbid(unsafe_code)]
#![warn(clippy::expect_used)] // library code returns typed errors; tests may expect (clippy.toml)
#![warn(missing_docs)]

mod apply;
mod error;
mod export;
mod image;
pub mod limits;
mod path;
mod readahead;
mod root;

pub use apply::{Options, Report, Unpacker, Warning, WarningKind};
pub use error::{Error, Hostile, Result};
pub use export::export;
pub use image::unpack;
pub use root::SymlinkPolicy;
