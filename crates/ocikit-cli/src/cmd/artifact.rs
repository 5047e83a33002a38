//! `ocikit attach` and `ocikit referrers`: OCI 1.1 artifacts that refer to an image (an SBOM,
//! a signature), in a registry (referrers API, or its tag fallback) or an OCI layout.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use oci_copy::{Content, CopyOptions, ImageName, Platforms};
use oci_partial::files::layer_from_opener;
use oci_partial::mutate::{artifact, Addendum, ANNOTATION_TITLE};
use oci_types::{Annotations, Compression, Descriptor, Digest, Index, MediaType, Platform};

use super::mutate::key_value;
use crate::cli::{RegistryArgs, Secret};
use crate::registry::Access;
use crate::{outln, usage};

/// The arguments of `attach`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The artifact is written beside the image: to its registry repository by digest (a \
registry without the referrers API gets the sha256-DIGEST fallback tag updated), or to its OCI \
layout as an entry without a ref name. Its digest is printed.\n\n\
Example:\n  ocikit attach docker://localhost:5000/app:v1 --artifact-type application/spdx+json sbom.json\n  \
ocikit attach oci:layout:v1 --artifact-type application/vnd.example.sig --media-type application/octet-stream app.sig"
)]
pub(crate) struct AttachArgs {
    /// The image (or index) the artifact refers to (its `subject`).
    pub(crate) src: String,
    /// The artifact's type.
    #[arg(long, value_name = "MEDIA_TYPE")]
    pub(crate) artifact_type: String,
    /// The files, each a blob of the artifact (named by its title annotation).
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// The media type of the blobs (default: the artifact type).
    #[arg(long, value_name = "MEDIA_TYPE")]
    pub(crate) media_type: Option<String>,
    /// An annotation of the artifact's manifest (repeatable).
    #[arg(short, long, value_name = "KEY=VALUE")]
    pub(crate) annotation: Vec<String>,
    /// Refer to this platform's image of an index rather than to the index.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub(crate) platform: Option<String>,
    /// Credentials for the registry.
    #[arg(long, value_name = "USER[:PASS]", value_parser = crate::cli::secret)]
    pub(crate) creds: Option<Secret>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

/// The arguments of `referrers`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  ocikit referrers docker://localhost:5000/app:v1\n  ocikit referrers oci:layout:v1 --artifact-type application/spdx+json --json"
)]
pub(crate) struct ReferrersArgs {
    /// The image (or index).
    pub(crate) src: String,
    /// Only artifacts of this type.
    #[arg(long, value_name = "MEDIA_TYPE")]
    pub(crate) artifact_type: Option<String>,
    /// Print the referrers index as JSON instead of one line per artifact.
    #[arg(long)]
    pub(crate) json: bool,
    /// Refer to this platform's image of an index rather than to the index.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub(crate) platform: Option<String>,
    /// Credentials for the registry.
    #[arg(long, value_name = "USER[:PASS]", value_parser = crate::cli::secret)]
    pub(crate) creds: Option<Secret>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

/// The descriptor (media type, digest, size) of what `name` holds, as a subject.
fn subject(name: &ImageName, platform: Option<&str>, access: &Access<'_>) -> Result<Descriptor> {
    let mut options = access.copy_options(name)?;
    let desc = match platform {
        Some(p) => {
            let p: Platform = match p.parse() {
                Ok(p) => p,
                Err(e) => usage!("--platform {p}: {e}"),
            };
            options.platforms = Platforms::One(p);
            let image = oci_copy::open_image(name, &options).map_err(|e| access.explain(e))?;
            image.descriptor()?
        }
        None => match oci_copy::open_source(name, &options)
            .map_err(|e| access.explain(e))?
            .content
        {
            Content::Image(i) => i.descriptor()?,
            Content::Index(i) => i.descriptor()?,
            _ => anyhow::bail!("{name}: neither an image nor an index"),
        },
    };
    Ok(Descriptor::new(desc.media_type, desc.digest, desc.size))
}

fn where_artifacts_go(name: &ImageName) -> Result<()> {
    match name {
        ImageName::Docker { .. } | ImageName::Oci { .. } => Ok(()),
        _ => usage!("{name}: artifacts live in a registry (docker://) or an OCI layout (oci:)"),
    }
}

pub(crate) fn attach(args: AttachArgs) -> Result<ExitCode> {
    let name = super::parse(&args.src, false)?;
    where_artifacts_go(&name)?;
    let access = Access::new(args.creds.as_ref(), &args.registry);
    let subject = subject(&name, args.platform.as_deref(), &access)?;
    let blob_type = MediaType::from(args.media_type.as_deref().unwrap_or(&args.artifact_type));
    let mut blobs = Vec::new();
    for file in &args.files {
        if !file.is_file() {
            usage!("{}: not a file", file.display());
        }
        let path = file.clone();
        let layer = layer_from_opener(file.display().to_string(), move || {
            std::fs::File::open(&path)
        })
        .with_compression(Compression::None, None);
        let title = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        blobs.push(
            Addendum::new(Arc::new(layer))
                .with_media_type(blob_type.clone())
                .with_annotation(ANNOTATION_TITLE, title),
        );
    }
    let mut annotations = Annotations::new();
    for a in &args.annotation {
        let (k, v) = key_value("annotation", a)?;
        annotations.insert(k, v);
    }
    let art = artifact(
        MediaType::from(args.artifact_type.as_str()),
        Some(subject),
        blobs,
        annotations,
    );
    let digest = art.digest().context("reading the artifact's files")?;
    let mut options = CopyOptions::default();
    let dst = match &name {
        ImageName::Docker { reference } => {
            let by_digest = format!("{}@{digest}", reference.name())
                .parse()
                .context("naming the artifact")?;
            options.destination_client = Some(access.client(reference)?);
            ImageName::Docker {
                reference: by_digest,
            }
        }
        ImageName::Oci { dir, .. } => ImageName::Oci {
            dir: dir.clone(),
            reference: None,
        },
        _ => unreachable!("checked by where_artifacts_go"),
    };
    oci_copy::write_image(art, &dst, None, &options).map_err(|e| access.explain(e))?;
    outln!("{digest}");
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn referrers(args: ReferrersArgs) -> Result<ExitCode> {
    let name = super::parse(&args.src, false)?;
    where_artifacts_go(&name)?;
    let access = Access::new(args.creds.as_ref(), &args.registry);
    let subject = subject(&name, args.platform.as_deref(), &access)?;
    let index = match &name {
        ImageName::Docker { reference } => access
            .client(reference)?
            .repository(reference)
            .referrers(&subject.digest, args.artifact_type.as_deref())
            .map_err(|e| access.explain_remote(e, reference))?,
        ImageName::Oci { dir, .. } => {
            layout_referrers(dir, &subject.digest, args.artifact_type.as_deref())?
        }
        _ => unreachable!("checked by where_artifacts_go"),
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&index)?);
    } else {
        for d in &index.manifests {
            let t = d.artifact_type.as_ref().map_or("-", MediaType::as_str);
            outln!("{} {t}", d.digest);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn layout_referrers(dir: &Path, subject: &Digest, artifact_type: Option<&str>) -> Result<Index> {
    let layout = oci_layout::Layout::open(dir)?;
    let mut index = Index::new(MediaType::OciIndex);
    index.manifests = layout
        .referrers(subject)?
        .into_iter()
        .filter(|d| {
            artifact_type.is_none_or(|t| d.artifact_type.as_ref().map(MediaType::as_str) == Some(t))
        })
        .collect();
    Ok(index)
}
