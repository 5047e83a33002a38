//! `ocikit export IMAGE [-o FILE]`: the merged filesystem as one tar (crane export).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use ocikit::unpack::{export, Options};

use super::unpack::{warn, ImageArgs};
use crate::cli::RegistryArgs;

/// The arguments of `export`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ocikit export oci:layout:v1 -o rootfs.tar\n  ocikit export app.tar | tar -t"
)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) image: ImageArgs,
    /// Where the tar goes; `-` (the default) is standard output. A file appears only whole.
    #[arg(short, long, value_name = "FILE|-", default_value = "-")]
    pub(crate) output: PathBuf,
    /// Skip hostile entries with a warning instead of failing.
    #[arg(long)]
    pub(crate) lenient: bool,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let opts = Options {
        lenient: args.lenient,
        ..Options::default()
    };
    let image = args.image.open(&args.registry)?;
    let report = if args.output.as_os_str() == "-" {
        let out = std::io::stdout().lock();
        let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
        let r = export(image.image.as_ref(), &mut out, &opts);
        r.and_then(|r| {
            out.flush()
                .map(|()| r)
                .map_err(ocikit::unpack::Error::Write)
        })
        .with_context(|| format!("exporting {}", image.label))?
    } else {
        let dir = match args.output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".ocikit-export-")
            .tempfile_in(&dir)
            .with_context(|| format!("creating a file in {}", dir.display()))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        let report = export(image.image.as_ref(), &mut out, &opts)
            .with_context(|| format!("exporting {}", image.label))?;
        out.flush()?;
        drop(out);
        tmp.as_file().sync_all()?;
        tmp.persist(&args.output)
            .with_context(|| format!("writing {}", args.output.display()))?;
        report
    };
    warn(&report);
    Ok(ExitCode::SUCCESS)
}
