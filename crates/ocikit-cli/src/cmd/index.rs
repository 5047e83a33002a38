//! `ocikit index create|append|remove`: multi-platform images made from images (crane index).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use oci_copy::{Content, CopyOptions, ImageName};
use oci_partial::mutate::{self, Family, IndexAddendum};
use oci_partial::{ImageIndex, Matcher};
use oci_types::{Digest, Platform};

use super::mutate::{key_value, output_and_tag};
use crate::cli::AccessArgs;
use crate::progress::Progress;
use crate::registry::Access;
use crate::usage;

/// `index` and its actions.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ocikit index create oci:layout:app --manifest oci:layout:app-amd64 --manifest oci:layout:app-arm64\n  \
ocikit index append docker://localhost:5000/app:v1 --manifest docker://localhost:5000/app:v1-s390x\n  \
ocikit index remove oci:layout:app --platform linux/arm64"
)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub(crate) action: Action,
}

/// What `index` does.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Action {
    /// Make a new index of the given images (an index given is taken apart: its images are
    /// added, those of --platform only when given).
    #[command(
        after_help = "Example:\n  ocikit index create oci:layout:app --manifest oci:layout:app-amd64 --manifest oci:layout:app-arm64\n  \
ocikit index create docker://localhost:5000/app:v1 --manifest docker://localhost:5000/app:v1-amd64 --docker"
    )]
    Create {
        /// Where to write the index.
        dst: String,
        #[command(flatten)]
        add: AddArgs,
        /// Make a Docker manifest list (default: an OCI index, or a Docker list when every
        /// image given is a Docker one).
        #[arg(long, conflicts_with = "oci")]
        docker: bool,
        /// Make an OCI image index.
        #[arg(long)]
        oci: bool,
        #[command(flatten)]
        access: AccessArgs,
    },
    /// Add images to an existing index.
    #[command(
        after_help = "Example:\n  ocikit index append oci:layout:app --manifest oci:other:app-riscv64\n  \
ocikit index append docker://localhost:5000/app:v1 --manifest docker://localhost:5000/app:v1-s390x -o oci:copy:app"
    )]
    Append {
        /// The index; written back in place unless -o says otherwise.
        index: String,
        #[command(flatten)]
        add: AddArgs,
        /// Where to write the result (default: the index itself).
        #[arg(short, long)]
        output: Option<String>,
        #[command(flatten)]
        access: AccessArgs,
    },
    /// Remove entries of an existing index by platform or digest.
    #[command(
        after_help = "Example:\n  ocikit index remove oci:layout:app --platform linux/arm64\n  \
ocikit index remove docker://localhost:5000/app:v1 --digest sha256:... -o docker://localhost:5000/app:v2"
    )]
    Remove {
        /// The index; written back in place unless -o says otherwise.
        index: String,
        /// Remove the entries of this platform (os/arch[/variant]; repeatable).
        #[arg(
            long,
            value_name = "OS/ARCH[/VARIANT]",
            required_unless_present = "digest"
        )]
        platform: Vec<String>,
        /// Remove the entry with this digest (repeatable).
        #[arg(long)]
        digest: Vec<String>,
        /// Where to write the result (default: the index itself).
        #[arg(short, long)]
        output: Option<String>,
        #[command(flatten)]
        access: AccessArgs,
    },
}

/// What is added.
#[derive(Debug, clap::Args)]
pub(crate) struct AddArgs {
    /// An image (or index, taken apart) to add (repeatable).
    #[arg(short, long = "manifest", value_name = "IMAGE")]
    pub(crate) manifests: Vec<String>,
    /// Take only this platform's images of a --manifest that is an index (repeatable).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub(crate) platform: Vec<String>,
    /// An annotation on each added entry (repeatable).
    #[arg(short, long, value_name = "KEY=VALUE")]
    pub(crate) annotation: Vec<String>,
}

fn platforms(list: &[String]) -> Result<Vec<Platform>> {
    list.iter()
        .map(|p| match p.parse::<Platform>() {
            Ok(p) => Ok(p),
            Err(e) => usage!("--platform {p}: {e}"),
        })
        .collect()
}

/// The entries `add` names, and whether every image among them is a Docker one.
fn addenda(add: &AddArgs, access: &Access<'_>) -> Result<(Vec<IndexAddendum>, bool)> {
    let wanted = platforms(&add.platform)?;
    let mut annotations = Vec::new();
    for a in &add.annotation {
        annotations.push(key_value("annotation", a)?);
    }
    let annotate = |mut a: IndexAddendum| {
        for (k, v) in &annotations {
            a = a.with_annotation(k.clone(), v.clone());
        }
        a
    };
    let mut out = Vec::new();
    let mut all_docker = true;
    for m in &add.manifests {
        let name = super::parse(m, false)?;
        let options = access.copy_options(&name)?;
        let source = oci_copy::open_source(&name, &options).map_err(|e| access.explain(e))?;
        match source.content {
            Content::Image(image) => {
                all_docker &= Family::of(&image.media_type()?) == Some(Family::Docker);
                out.push(annotate(IndexAddendum::image(image)));
            }
            Content::Index(index) => {
                all_docker &= index.media_type()? == oci_types::MediaType::DockerManifestList;
                for child in index.manifests()? {
                    let desc = child.descriptor()?;
                    let keep = wanted.is_empty()
                        || desc
                            .platform
                            .as_ref()
                            .is_some_and(|p| wanted.iter().any(|w| p.matches(w)));
                    if !keep {
                        continue;
                    }
                    let mut a = IndexAddendum::new(child).with_urls(desc.urls.clone());
                    a.platform = desc.platform.clone();
                    a.annotations = desc.annotations.clone();
                    a.artifact_type = desc.artifact_type.clone();
                    out.push(annotate(a));
                }
            }
            _ => anyhow::bail!("{m}: neither an image nor an index"),
        }
    }
    Ok((out, all_docker))
}

/// The existing index `name` names.
fn open_index(name: &ImageName, access: &Access<'_>) -> Result<Arc<dyn ImageIndex>> {
    let options = access.copy_options(name)?;
    match oci_copy::open_source(name, &options)
        .map_err(|e| access.explain(e))?
        .content
    {
        Content::Index(index) => Ok(index),
        _ => usage!("{name} is an image, not an index (make one with `ocikit index create`)"),
    }
}

fn write(
    index: Arc<dyn ImageIndex>,
    output: &str,
    access: &AccessArgs,
    progress: &Progress,
) -> Result<()> {
    let (dst, tag) = output_and_tag(output, None, false)?;
    let dst_access = Access::new(access.dest_creds.as_ref(), &access.registry);
    let mut options = CopyOptions::default();
    options.progress = progress.reporter();
    if let Some(r) = dst.registry_reference() {
        options.destination_client = Some(dst_access.client(r)?);
    }
    let report = oci_copy::write_index(index, &dst, tag.as_ref(), &options)
        .map_err(|e| dst_access.explain(e))?;
    super::report_written(&access.report, &dst, tag.as_ref(), &report)
}

pub(crate) fn run(args: Args, progress: Progress) -> Result<ExitCode> {
    match args.action {
        Action::Create {
            dst,
            add,
            docker,
            oci,
            access,
        } => {
            if add.manifests.is_empty() {
                usage!("give the images of the index with --manifest IMAGE");
            }
            let src = Access::new(access.src_creds.as_ref(), &access.registry);
            let (adds, all_docker) = addenda(&add, &src)?;
            let family = if docker || (all_docker && !oci) {
                Family::Docker
            } else {
                Family::Oci
            };
            let index = mutate::append_manifests(mutate::empty_index(family), adds);
            write(index, &dst, &access, &progress)?;
        }
        Action::Append {
            index,
            add,
            output,
            access,
        } => {
            if add.manifests.is_empty() {
                usage!("give the images to add with --manifest IMAGE");
            }
            let src = Access::new(access.src_creds.as_ref(), &access.registry);
            let base = open_index(&super::parse(&index, false)?, &src)?;
            let (adds, _) = addenda(&add, &src)?;
            let result = mutate::append_manifests(base, adds);
            write(
                result,
                output.as_deref().unwrap_or(&index),
                &access,
                &progress,
            )?;
        }
        Action::Remove {
            index,
            platform,
            digest,
            output,
            access,
        } => {
            let src = Access::new(access.src_creds.as_ref(), &access.registry);
            let base = open_index(&super::parse(&index, false)?, &src)?;
            let mut digests = Vec::new();
            for d in &digest {
                match d.parse::<Digest>() {
                    Ok(d) => digests.push(d),
                    Err(e) => usage!("--digest {d}: {e}"),
                }
            }
            let mut matcher = Matcher::digest(digests);
            let wanted = platforms(&platform)?;
            if !wanted.is_empty() {
                matcher = matcher | Matcher::platforms(wanted);
            }
            let before = base.index_manifest()?.manifests.len();
            let result = mutate::remove_manifests(base, matcher);
            let after = result.index_manifest()?.manifests.len();
            if after == before {
                anyhow::bail!("nothing in {index} matches");
            }
            write(
                result,
                output.as_deref().unwrap_or(&index),
                &access,
                &progress,
            )?;
            eprintln!("removed {} entries", before - after);
        }
    }
    Ok(ExitCode::SUCCESS)
}
