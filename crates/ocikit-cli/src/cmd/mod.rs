//! The commands.

mod append;
pub(crate) mod artifact;
mod copy;
pub(crate) mod export;
pub(crate) mod index;
mod inspect;
mod layer;
pub(crate) mod login;
pub(crate) mod mutate;
mod opened;
pub(crate) mod rebase;
pub(crate) mod registry;
mod store;
pub(crate) mod unpack;
mod verify;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command, CompressKind, DestCompressArgs, ReportArgs};
use crate::progress::Progress;
use oci_copy::ImageName;

use crate::registry::Access;
use crate::usage;

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> Result<ExitCode> {
    let progress = Progress::new(cli.quiet);
    match cli.command {
        Command::Registry(command) => registry::run(command).map(|()| ExitCode::SUCCESS),
        Command::Login(args) => login::login(args).map(|()| ExitCode::SUCCESS),
        Command::Logout(args) => login::logout(args).map(|()| ExitCode::SUCCESS),
        Command::Inspect {
            src,
            json,
            platform,
            creds,
            registry,
        } => inspect::run(
            &parse(&src, false)?,
            json,
            platform.as_deref(),
            &Access::new(creds.as_ref(), &registry),
        ),
        Command::Copy {
            src,
            dst,
            compress,
            copy,
        } => {
            check_compression(&compress)?;
            let (src, dst) = (parse(&src, false)?, parse(&dst, true)?);
            let creds = (copy.src_creds.as_ref(), copy.dest_creds.as_ref());
            copy::run(&src, &dst, &compress, &copy, creds, progress)
        }
        Command::Push {
            src,
            dst,
            creds,
            compress,
            copy,
        } => {
            check_compression(&compress)?;
            let (src, dst_name) = (parse(&src, false)?, parse(&dst, true)?);
            if dst_name.registry_reference().is_none() {
                usage!("push writes to a registry: the destination must be docker://HOST/REPO[:TAG], not {dst}");
            }
            let creds = (
                copy.src_creds.as_ref(),
                creds.as_ref().or(copy.dest_creds.as_ref()),
            );
            copy::run(&src, &dst_name, &compress, &copy, creds, progress)
        }
        Command::Pull {
            src,
            dst,
            creds,
            compress,
            copy,
        } => {
            check_compression(&compress)?;
            let (src_name, dst) = (parse(&src, false)?, parse(&dst, true)?);
            if src_name.registry_reference().is_none() {
                usage!("pull reads from a registry: the source must be docker://HOST/REPO[:TAG|@DIGEST], not {src}");
            }
            let creds = (
                creds.as_ref().or(copy.src_creds.as_ref()),
                copy.dest_creds.as_ref(),
            );
            copy::run(&src_name, &dst, &compress, &copy, creds, progress)
        }
        Command::Append {
            base,
            layers,
            tag,
            canonical,
            output,
            keep_mtime,
            xattrs,
            platform,
            compress,
            src_creds,
            dest_creds,
            registry,
            uploads,
            report,
        } => {
            check_compression(&compress)?;
            let args = append::Args {
                base,
                layers,
                tag,
                canonical,
                output,
                keep_mtime,
                xattrs,
                platform,
                compress,
                base_access: Access::new(src_creds.as_ref(), &registry),
                output_access: Access::new(dest_creds.as_ref(), &registry).with_jobs(uploads.jobs),
                report,
            };
            append::run(args, progress)
        }
        Command::Layer {
            file,
            store,
            to,
            creds,
            registry,
            mut compress,
            zstd,
            digestfile,
            json,
        } => {
            if zstd {
                compress.format = Some(CompressKind::Zstd);
            }
            check_compression(&compress)?;
            let dest = match (store, to) {
                (Some(dir), None) => layer::Dest::Store(dir),
                (None, Some(to)) => layer::Dest::Registry(repository_arg(&to)?),
                _ => usage!("give one of --store DIR and --to docker://HOST/REPO"),
            };
            let access = Access::new(creds.as_ref(), &registry);
            let output = layer::Output {
                digestfile: digestfile.as_deref(),
                compact: json,
            };
            layer::run(&file, &dest, &access, &compress, &output, progress)
        }
        Command::Store { dir, action } => store::run(&dir, action),
        Command::Unpack(args) => unpack::run(args),
        Command::Export(args) => export::run(args),
        Command::Mutate(args) => mutate::run(*args, progress),
        Command::Index(args) => index::run(args, progress),
        Command::Rebase(args) => rebase::run(*args, progress),
        Command::Attach(args) => artifact::attach(*args),
        Command::Referrers(args) => artifact::referrers(*args),
        Command::Verify {
            src,
            json,
            platform,
            creds,
            registry,
        } => verify::run(
            &parse(&src, false)?,
            json,
            platform.as_deref(),
            &Access::new(creds.as_ref(), &registry),
            progress,
        ),
    }
}

/// `docker://HOST/REPO`, a repository without tag or digest (what `layer --to` takes).
fn repository_arg(to: &str) -> Result<oci_types::Reference> {
    let Some(rest) = to.strip_prefix("docker://") else {
        usage!("--to takes a registry repository, docker://HOST/REPO, not {to}");
    };
    match rest.parse::<oci_types::Reference>() {
        Ok(r) if r.tag().is_none() && r.digest().is_none() => Ok(r),
        Ok(_) => usage!("--to {to}: a layer is not tagged; give docker://HOST/REPO"),
        Err(e) => usage!("--to {to}: {e}"),
    }
}

/// Checks `--dest-compress-level` against the range of its format (gzip when none is given):
/// what the stream compressor accepts, gzip 0 to 12 and zstd 1 to 22.
pub(crate) fn check_compression(args: &DestCompressArgs) -> Result<()> {
    let Some(level) = args.level else {
        return Ok(());
    };
    let (format, low, high) = match args.format.unwrap_or(CompressKind::Gzip) {
        CompressKind::Gzip => ("gzip", 0, oci_stream::MAX_GZIP_LEVEL),
        CompressKind::Zstd => ("zstd", 1, oci_stream::MAX_ZSTD_LEVEL),
        CompressKind::None => {
            usage!("--dest-compress-level {level}: --dest-compress-format none has no level")
        }
    };
    if !(low..=high).contains(&level) {
        usage!("--dest-compress-level {level}: {format} levels are {low} to {high}");
    }
    Ok(())
}

/// Reports what a command wrote: `--digestfile`, one human line on stderr, and with `--json`
/// one document on stdout: `{"destination", "digest", "kind", "tag"?, "blobs": [..]}`.
pub(crate) fn report_written(
    args: &ReportArgs,
    destination: &ImageName,
    tag: Option<&oci_types::Reference>,
    report: &oci_copy::CopyReport,
) -> Result<()> {
    use anyhow::Context;
    let digest = report.written.digest();
    if let Some(path) = &args.digestfile {
        std::fs::write(path, digest.to_string())
            .with_context(|| format!("writing --digestfile {}", path.display()))?;
    }
    match tag {
        Some(tag) => eprintln!("wrote {destination} ({tag}, {})", report.written),
        None => eprintln!("wrote {destination} ({})", report.written),
    }
    if args.json {
        let kind = match report.written {
            oci_copy::Written::Index(_) => "index",
            oci_copy::Written::ImageId(_) => "image-id",
            _ => "manifest",
        };
        let blobs: Vec<serde_json::Value> = report
            .blobs
            .iter()
            .map(|b| {
                serde_json::json!({
                    "digest": b.digest.to_string(),
                    "size": b.size,
                    "outcome": b.outcome.to_string(),
                })
            })
            .collect();
        let mut doc = serde_json::json!({
            "destination": destination.to_string(),
            "digest": digest.to_string(),
            "kind": kind,
            "blobs": blobs,
        });
        if let Some(tag) = tag {
            doc["tag"] = serde_json::Value::String(tag.to_string());
        }
        crate::outln!("{doc}");
    }
    Ok(())
}

/// Parses an image name; a bad one is a usage error. A source that names a missing file or
/// directory is an error of one line saying so (exit 1, whether a transport was given or
/// not), which for a word that reads as an image reference says what to type instead.
pub(crate) fn parse(name: &str, for_output: bool) -> Result<ImageName> {
    let parsed = if for_output {
        ImageName::parse_destination(name)
    } else {
        ImageName::parse_source(name)
    };
    match parsed {
        Ok(n) => {
            if !for_output {
                must_exist(&n)?;
            }
            Ok(n)
        }
        Err(oci_copy::Error::NoSuchFile { path }) if looks_like_reference(name) => {
            anyhow::bail!(
                "{}: no such file or directory; for the registry image, type docker://{name}",
                path.display()
            )
        }
        Err(e @ oci_copy::Error::NoSuchFile { .. }) => Err(anyhow::Error::new(e)),
        Err(oci_copy::Error::UnknownTransport {
            transport,
            suggestion,
        }) => {
            let rest = &name[transport.len() + 1..];
            if transport.eq_ignore_ascii_case("docker") {
                // `docker:/host/x`, `docker:host/x`: what was meant is plain.
                usage!(
                    "{name}: unknown transport {transport:?}; did you mean docker://{}?",
                    rest.trim_start_matches('/')
                );
            }
            if let (Some(t), true) = (suggestion, looks_like_reference(name)) {
                if t != "docker://" {
                    usage!(
                        "{name}: unknown transport {transport:?}; did you mean {t}? (for the \
                         registry image, type docker://{name})"
                    );
                }
            }
            if looks_like_reference(name) {
                // `ubuntu:22.04`, `localhost:5000/app`: a reference without docker://.
                usage!(
                    "{name}: unknown transport {transport:?} and no such file; for the \
                     registry image, type docker://{name}"
                );
            }
            match suggestion {
                Some(t) => usage!("{name}: unknown transport {transport:?}; did you mean {t}?"),
                None => usage!(
                    "{}",
                    oci_copy::Error::UnknownTransport {
                        transport,
                        suggestion
                    }
                ),
            }
        }
        Err(e) => usage!("{e}"),
    }
}

/// The file or directory a source names exists (`-` is stdin): else one line, exit 1.
fn must_exist(name: &ImageName) -> Result<()> {
    let (path, what) = match name {
        ImageName::DockerArchive { path, .. } | ImageName::OciArchive { path, .. } => {
            (path, "file")
        }
        ImageName::Oci { dir, .. } => (dir, "directory"),
        ImageName::Dir { path } => (path, "directory"),
        _ => return Ok(()),
    };
    if path.as_os_str() != "-" && std::fs::symlink_metadata(path).is_err() {
        anyhow::bail!("{}: no such {what}", path.display());
    }
    Ok(())
}

/// Whether a word that is no file reads as an image reference (`busybox`,
/// `ghcr.io/o/app:v1`, `localhost:5000/app`), not as a file name (`image.tar`, `./x`).
fn looks_like_reference(word: &str) -> bool {
    const FILE_ENDINGS: [&str; 6] = [".tar", ".tgz", ".gz", ".zst", ".json", ".tar.gz"];
    !word.starts_with(['.', '/', '~'])
        && !FILE_ENDINGS.iter().any(|e| word.ends_with(e))
        && word.parse::<oci_types::Reference>().is_ok()
}
