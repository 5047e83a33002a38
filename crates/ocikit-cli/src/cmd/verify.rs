//! `ocikit verify`: every digest, size and diff_id.

use crate::outln;
use std::process::ExitCode;

use anyhow::Result;
use oci_partial::{validate_image, ValidateOptions};

use oci_copy::ImageName;

use crate::registry::Access;

pub(crate) fn run(src: &ImageName, access: &Access<'_>) -> Result<ExitCode> {
    let images = access.open_images(src)?;
    let mut bad = 0usize;
    for named in &images {
        match validate_image(named.image.as_ref(), ValidateOptions::default()) {
            Ok(()) => outln!("ok       {}", named.label),
            Err(report) => {
                bad += 1;
                outln!("MISMATCH {}", named.label);
                for line in report.to_string().lines() {
                    outln!("  {line}");
                }
            }
        }
    }
    if images.is_empty() {
        anyhow::bail!("{src} holds no image");
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
