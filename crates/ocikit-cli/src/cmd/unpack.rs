//! `ocikit unpack IMAGE DIR`: an image's filesystem, extracted safely (oci-unpack).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use oci_types::Platform;
use ocikit::unpack::{unpack, Options, Report};

use crate::cli::{RegistryArgs, Secret};
use crate::registry::Access;
use crate::usage;

/// The arguments of `unpack`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ocikit unpack oci:layout:v1 rootfs --rootless\n  ocikit unpack docker://localhost:5000/app:v1 rootfs --platform linux/arm64"
)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) image: ImageArgs,
    /// The directory to create (it must not exist); it appears only when complete.
    pub(crate) dir: PathBuf,
    /// Every file owned by the caller; no device nodes, only user.* xattrs (implied when
    /// not root).
    #[arg(long)]
    pub(crate) rootless: bool,
    /// Skip hostile entries (`..`, absolute names, links outside) with a warning instead of
    /// failing.
    #[arg(long)]
    pub(crate) lenient: bool,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

/// The image that `unpack` and `export` read: its name, the platform of an index, and the
/// credentials for a registry (whose other options each command flattens last, so that their
/// heading stays theirs).
#[derive(Debug, clap::Args)]
pub(crate) struct ImageArgs {
    /// The image.
    pub(crate) src: String,
    /// The image of an index for this platform (os/arch[/variant]). Default: linux/amd64.
    #[arg(long)]
    pub(crate) platform: Option<String>,
    /// Credentials for a docker:// image.
    #[arg(long, value_name = "USER[:PASS]", value_parser = crate::cli::secret)]
    pub(crate) creds: Option<Secret>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let opts = Options {
        rootless: args.rootless,
        lenient: args.lenient,
        ..Options::default()
    };
    let image = args.image.open(&args.registry)?;
    let report = unpack(image.image.as_ref(), &args.dir, opts)
        .with_context(|| format!("unpacking {} into {}", image.label, args.dir.display()))?;
    warn(&report);
    Ok(ExitCode::SUCCESS)
}

impl ImageArgs {
    /// Opens the one image `src` names, of an index the one for `platform`.
    pub(crate) fn open(&self, registry: &RegistryArgs) -> Result<Opened> {
        let name = super::parse(&self.src, false)?;
        let platform: Option<Platform> = match self.platform.as_deref().map(str::parse).transpose()
        {
            Ok(p) => p,
            Err(e) => usage!("--platform: {e}"),
        };
        let access = Access::new(self.creds.as_ref(), registry);
        let mut options = access.copy_options(&name)?;
        if let Some(p) = platform {
            options.platforms = oci_copy::Platforms::One(p);
        }
        let image = oci_copy::open_image(&name, &options).map_err(|e| access.explain(e))?;
        Ok(Opened {
            label: name.to_string(),
            image,
        })
    }
}

/// The image an unpack or export reads, and its name for messages.
pub(crate) struct Opened {
    pub(crate) label: String,
    pub(crate) image: std::sync::Arc<dyn oci_partial::Image>,
}

/// Prints the report's warnings on standard error.
pub(crate) fn warn(report: &Report) {
    for w in &report.warnings {
        eprintln!(
            "ocikit: warning: layer {}: {:?}: {:?}",
            w.layer, w.entry, w.kind
        );
    }
}
