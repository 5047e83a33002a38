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
pub(crate) mod rebase;
pub(crate) mod registry;
mod store;
pub(crate) mod unpack;
mod verify;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};
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
            creds,
            registry,
        } => inspect::run(
            &parse(&src, false)?,
            json,
            &Access::new(creds.as_ref(), &registry),
        ),
        Command::Copy {
            src,
            dst,
            compress,
            copy,
        } => {
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
            platform,
            compress,
            src_creds,
            dest_creds,
            registry,
        } => {
            let args = append::Args {
                base,
                layers,
                tag,
                canonical,
                output,
                keep_mtime,
                platform,
                compress,
                base_access: Access::new(src_creds.as_ref(), &registry),
                output_access: Access::new(dest_creds.as_ref(), &registry),
            };
            append::run(args, progress)
        }
        Command::Layer {
            file,
            store,
            to,
            creds,
            registry,
            level,
            zstd,
        } => {
            let dest = match (store, to) {
                (Some(dir), None) => layer::Dest::Store(dir),
                (None, Some(to)) => layer::Dest::Registry(repository_arg(&to)?),
                _ => usage!("give one of --store DIR and --to docker://HOST/REPO"),
            };
            let access = Access::new(creds.as_ref(), &registry);
            layer::run(&file, &dest, &access, level, zstd, progress)
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
            creds,
            registry,
        } => verify::run(
            &parse(&src, false)?,
            &Access::new(creds.as_ref(), &registry),
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

/// Parses an image name; a bad one is a usage error.
pub(crate) fn parse(name: &str, for_output: bool) -> Result<ImageName> {
    let parsed = if for_output {
        ImageName::parse_destination(name)
    } else {
        ImageName::parse_source(name)
    };
    match parsed {
        Ok(n) => Ok(n),
        Err(e) => usage!("{e}"),
    }
}
