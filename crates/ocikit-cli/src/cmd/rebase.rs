//! `ocikit rebase IMAGE --old-base X --new-base Y -o DST` (crane rebase).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use oci_copy::{CopyOptions, Platforms};
use oci_partial::Image;
use oci_types::Platform;

use super::mutate::output_and_tag;
use crate::progress::Progress;
use crate::registry::Access;
use crate::usage;

/// The arguments of `rebase`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The old base's layers must be the image's first layers (compared by diff_id); they \
are replaced by the new base's, and the config takes the new base's platform and history.\n\n\
Example:\n  ocikit rebase oci:layout:app --old-base oci:layout:debian-12.1 --new-base oci:layout:debian-12.2 -o oci:layout:app-rebased\n  \
ocikit rebase docker://localhost:5000/app:v1 --old-base docker://localhost:5000/base:1 --new-base docker://localhost:5000/base:2 -o docker://localhost:5000/app:v1"
)]
pub(crate) struct Args {
    /// The image to rebase.
    pub(crate) src: String,
    /// The base it was built on.
    #[arg(long, value_name = "IMAGE")]
    pub(crate) old_base: String,
    /// The base to put under it instead.
    #[arg(long, value_name = "IMAGE")]
    pub(crate) new_base: String,
    /// Where to write the result.
    #[arg(short, long)]
    pub(crate) output: String,
    /// Name and tag of the result (as for `mutate`).
    #[arg(short = 't', long = "tag")]
    pub(crate) tag: Option<String>,
    /// The image of each index to use (os/arch[/variant]). Default: linux/amd64.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub(crate) platform: Option<String>,
    #[command(flatten)]
    pub(crate) access: crate::cli::AccessArgs,
}

pub(crate) fn run(args: Args, progress: Progress) -> Result<ExitCode> {
    let (dst, tag) = output_and_tag(&args.output, args.tag.as_deref(), false)?;
    let platform = match &args.platform {
        Some(p) => match p.parse::<Platform>() {
            Ok(p) => Some(p),
            Err(e) => usage!("--platform {p}: {e}"),
        },
        None => None,
    };
    let src_access = Access::new(args.access.src_creds.as_ref(), &args.access.registry);
    let open = |name: &str| -> Result<Arc<dyn Image>> {
        let name = super::parse(name, false)?;
        let mut options = src_access.copy_options(&name)?;
        if let Some(p) = &platform {
            options.platforms = Platforms::One(p.clone());
        }
        oci_copy::open_image(&name, &options).map_err(|e| src_access.explain(e))
    };
    let image = open(&args.src)?;
    let old_base = open(&args.old_base)?;
    let new_base = open(&args.new_base)?;
    let rebased = oci_partial::mutate::rebase(image, old_base.as_ref(), new_base)
        .with_context(|| format!("rebasing {}", args.src))?;
    let dst_access = Access::new(args.access.dest_creds.as_ref(), &args.access.registry);
    let mut options = CopyOptions::default();
    options.progress = progress.reporter();
    if let Some(r) = dst.registry_reference() {
        options.destination_client = Some(dst_access.client(r)?);
    }
    let report = oci_copy::write_image(rebased, &dst, tag.as_ref(), &options)
        .map_err(|e| dst_access.explain(e))?;
    super::report_written(&args.access.report, &dst, tag.as_ref(), &report)?;
    Ok(ExitCode::SUCCESS)
}
