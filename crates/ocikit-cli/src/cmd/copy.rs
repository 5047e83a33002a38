//! `ocikit copy` (alias `cp` and `convert`; `push` and `pull` are copy with a registry on one
//! side): arguments into `oci_copy::copy`, and its report printed.

use std::process::ExitCode;

use anyhow::Result;
use oci_copy::{CopyOptions, ImageName, LayerCompression, Platforms};
use oci_types::Platform;

use crate::cli::{CompressKind, CopyArgs, DestCompressArgs, Secret};
use crate::progress::Progress;
use crate::registry::Access;
use crate::usage;

/// Copies `src` to `dst`; `creds` are those of the source's and the destination's registry.
pub(crate) fn run(
    src: &ImageName,
    dst: &ImageName,
    compress: &DestCompressArgs,
    copy: &CopyArgs,
    creds: (Option<&Secret>, Option<&Secret>),
    progress: Progress,
) -> Result<ExitCode> {
    let mut platforms = Vec::with_capacity(copy.platform.len());
    for p in &copy.platform {
        match p.parse::<Platform>() {
            Ok(p) => platforms.push(p),
            Err(e) => usage!("--platform {p}: {e}"),
        }
    }
    let src_access = Access::new(creds.0, &copy.registry);
    let dst_access = Access::new(creds.1, &copy.registry).with_jobs(copy.uploads.jobs);
    let mut options = CopyOptions::default();
    options.platforms = match (copy.all, platforms.len()) {
        (true, 0) => Platforms::All,
        (true, _) => usage!("give --all or --platform, not both"),
        (false, 0) => Platforms::Auto,
        (false, 1) => Platforms::One(platforms.remove(0)),
        (false, _) => Platforms::List(platforms),
    };
    let level = compress.level;
    options.compression = match compress.format {
        // A level alone applies to the destination's usual format, gzip (a docker archive's
        // tars have none).
        None if level.is_some() && !dst.holds_single_images() => LayerCompression::Gzip(level),
        None => LayerCompression::Auto,
        Some(CompressKind::Gzip) => LayerCompression::Gzip(level),
        Some(CompressKind::Zstd) => LayerCompression::Zstd(level),
        Some(CompressKind::None) => LayerCompression::None,
    };
    options.preserve_digests = copy.preserve_digests;
    options.jobs = copy.uploads.jobs.map(usize::from);
    if let Some(r) = src.registry_reference() {
        options.source_client = Some(src_access.client(r)?);
    }
    if let Some(r) = dst.registry_reference() {
        options.destination_client = Some(dst_access.client(r)?);
    }
    // Blobs of a registry source can be mounted into the destination's repository when both
    // are on one registry and reached with the same credentials.
    options.mount = src_access.same_credentials(&dst_access);
    options.progress = progress.reporter();
    options.cancel = Some(crate::signals::cancel_flag());
    let report = match oci_copy::copy(src, dst, &options) {
        Ok(r) => r,
        Err(e) => {
            let access = match (&e, dst.registry_reference()) {
                (oci_copy::Error::Remote { reference, .. }, Some(d))
                    if *reference == d.to_string() =>
                {
                    &dst_access
                }
                _ => &src_access,
            };
            return Err(access.explain(e));
        }
    };
    super::report_written(&copy.report, dst, None, &report)?;
    Ok(ExitCode::SUCCESS)
}
