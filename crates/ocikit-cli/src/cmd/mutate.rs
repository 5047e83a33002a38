//! `ocikit mutate IMAGE -o DST`: config edits (crane mutate), on one image or on every image
//! of an index.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use oci_copy::{Content, CopyOptions, ImageName, Platforms};
use oci_partial::mutate::{self, Edit, IndexAddendum};
use oci_partial::{Child, Image, ImageIndex, Matcher};
use oci_types::{Annotations, Platform, Reference};

use crate::progress::Progress;
use crate::registry::Access;
use crate::usage;

/// The arguments of `mutate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "A multi-platform source has every image edited (and is written as an index) unless \
--platform picks one. Keys not edited keep their values and places in the config.\n\n\
Example:\n  ocikit mutate oci:layout:v1 -o oci:layout:v2 --entrypoint /app,--serve --env MODE=prod --label team=infra\n  \
ocikit mutate docker://localhost:5000/app:v1 -o docker://localhost:5000/app:v1-debug --user 0 --cmd sh"
)]
pub(crate) struct Args {
    /// The image (or index) to edit.
    pub(crate) src: String,
    /// Where to write the result (an OCI layout ref, a registry, an archive...).
    #[arg(short, long)]
    pub(crate) output: String,
    /// Name and tag of the result: the ref name in an OCI layout or archive, the tag in a
    /// docker archive (default: what --output names).
    #[arg(short = 't', long = "tag")]
    pub(crate) tag: Option<String>,
    /// The entrypoint, comma-separated (an empty value removes it).
    #[arg(long, value_name = "ARG,...", allow_hyphen_values = true)]
    pub(crate) entrypoint: Option<String>,
    /// The default arguments, comma-separated (an empty value removes them).
    #[arg(long, value_name = "ARG,...", allow_hyphen_values = true)]
    pub(crate) cmd: Option<String>,
    /// Set an environment variable (in place when it is set; repeatable).
    #[arg(short, long, value_name = "KEY=VALUE")]
    pub(crate) env: Vec<String>,
    /// Remove an environment variable (repeatable).
    #[arg(long, value_name = "KEY")]
    pub(crate) unset_env: Vec<String>,
    /// Set a config label (repeatable).
    #[arg(short, long, value_name = "KEY=VALUE")]
    pub(crate) label: Vec<String>,
    /// Set a manifest annotation (repeatable).
    #[arg(short, long, value_name = "KEY=VALUE")]
    pub(crate) annotation: Vec<String>,
    /// The user (and group) to run as.
    #[arg(short, long)]
    pub(crate) user: Option<String>,
    /// The working directory.
    #[arg(short, long)]
    pub(crate) workdir: Option<String>,
    /// Ports to expose, comma-separated (`8080`, `53/udp`).
    #[arg(long, value_name = "PORT[/PROTO],...", value_delimiter = ',')]
    pub(crate) exposed_ports: Vec<String>,
    /// Volumes to declare (repeatable).
    #[arg(long, value_name = "PATH")]
    pub(crate) volume: Vec<String>,
    /// The signal that stops the container.
    #[arg(long, value_name = "SIGNAL")]
    pub(crate) stop_signal: Option<String>,
    /// The author.
    #[arg(long)]
    pub(crate) author: Option<String>,
    /// Zero `created` and history times ($SOURCE_DATE_EPOCH when set) and drop the fields that
    /// vary between builders (crane's --canonical).
    #[arg(long)]
    pub(crate) canonical: bool,
    /// Edit only this platform's image of an index (os/arch[/variant]); the result is that
    /// image.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub(crate) platform: Option<String>,
    #[command(flatten)]
    pub(crate) access: crate::cli::AccessArgs,
}

/// `KEY=VALUE` of a flag; a missing `=` is a usage error.
pub(crate) fn key_value(flag: &str, s: &str) -> Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => usage!("--{flag} {s}: KEY=VALUE"),
    }
}

/// A comma-separated list, where an empty value means "none".
fn list(s: &str) -> Option<Vec<String>> {
    (!s.is_empty()).then(|| s.split(',').map(str::to_owned).collect())
}

impl Args {
    fn edits(&self) -> Result<Vec<Edit>> {
        let mut edits = Vec::new();
        if let Some(e) = &self.entrypoint {
            edits.push(Edit::Entrypoint(list(e)));
        }
        if let Some(c) = &self.cmd {
            edits.push(Edit::Cmd(list(c)));
        }
        for e in &self.env {
            let (key, value) = key_value("env", e)?;
            edits.push(Edit::SetEnv { key, value });
        }
        edits.extend(self.unset_env.iter().cloned().map(Edit::UnsetEnv));
        for l in &self.label {
            let (key, value) = key_value("label", l)?;
            edits.push(Edit::Label {
                key,
                value: Some(value),
            });
        }
        if let Some(u) = &self.user {
            edits.push(Edit::User(u.clone()));
        }
        if let Some(w) = &self.workdir {
            edits.push(Edit::WorkingDir(w.clone()));
        }
        edits.extend(self.exposed_ports.iter().cloned().map(Edit::ExposePort));
        edits.extend(self.volume.iter().cloned().map(Edit::Volume));
        if let Some(s) = &self.stop_signal {
            edits.push(Edit::StopSignal(s.clone()));
        }
        if let Some(a) = &self.author {
            edits.push(Edit::Author(a.clone()));
        }
        if self.canonical {
            edits.push(Edit::Canonical(mutate::canonical_time()?));
        }
        Ok(edits)
    }

    fn annotations(&self) -> Result<Annotations> {
        let mut out = Annotations::new();
        for a in &self.annotation {
            let (k, v) = key_value("annotation", a)?;
            out.insert(k, v);
        }
        Ok(out)
    }
}

/// The edits, applied to one image.
struct Editor {
    edits: Vec<Edit>,
    annotations: Annotations,
}

impl Editor {
    fn image(&self, image: Arc<dyn Image>) -> Arc<dyn Image> {
        let image = mutate::edit_config(image, self.edits.clone());
        if self.annotations.is_empty() {
            image
        } else {
            mutate::with_annotations(image, self.annotations.clone())
        }
    }

    /// Every image of `index` edited (nested indexes too); entries keep their platform,
    /// annotations and artifactType, the index its own fields.
    fn index(&self, index: Arc<dyn ImageIndex>, depth: usize) -> Result<Arc<dyn ImageIndex>> {
        if depth > 8 {
            anyhow::bail!("indexes nested more than 8 deep");
        }
        let mut adds = Vec::new();
        for child in index.manifests()? {
            let desc = child.descriptor()?;
            let add = match child {
                Child::Image(i) => IndexAddendum::image(self.image(i)),
                Child::Index(i) => IndexAddendum::index(self.index(i, depth + 1)?),
                other => IndexAddendum::new(other),
            };
            let mut add = add.with_urls(desc.urls.clone());
            add.platform = desc.platform.clone();
            add.annotations = desc.annotations.clone();
            add.artifact_type = desc.artifact_type.clone();
            adds.push(add);
        }
        let index = mutate::replace_manifests(index, Matcher::any(), adds);
        Ok(if self.annotations.is_empty() {
            index
        } else {
            mutate::with_index_annotations(index, self.annotations.clone())
        })
    }
}

pub(crate) fn run(args: Args, progress: Progress) -> Result<ExitCode> {
    let src = super::parse(&args.src, false)?;
    let (dst, tag) = output_and_tag(&args.output, args.tag.as_deref(), false)?;
    let editor = Editor {
        edits: args.edits()?,
        annotations: args.annotations()?,
    };
    let src_access = Access::new(args.access.src_creds.as_ref(), &args.access.registry);
    let dst_access = Access::new(args.access.dest_creds.as_ref(), &args.access.registry);
    let mut read = src_access.copy_options(&src)?;
    let content = match &args.platform {
        Some(p) => {
            let p: Platform = match p.parse() {
                Ok(p) => p,
                Err(e) => usage!("--platform {p}: {e}"),
            };
            read.platforms = Platforms::One(p);
            Content::Image(oci_copy::open_image(&src, &read).map_err(|e| src_access.explain(e))?)
        }
        None => {
            oci_copy::open_source(&src, &read)
                .map_err(|e| src_access.explain(e))?
                .content
        }
    };
    let mut options = CopyOptions::default();
    options.progress = progress.reporter();
    if let Some(r) = dst.registry_reference() {
        options.destination_client = Some(dst_access.client(r)?);
    }
    let report = match content {
        Content::Image(image) => {
            oci_copy::write_image(editor.image(image), &dst, tag.as_ref(), &options)
        }
        Content::Index(index) => {
            oci_copy::write_index(editor.index(index, 0)?, &dst, tag.as_ref(), &options)
        }
        _ => anyhow::bail!("{src}: neither an image nor an index"),
    }
    .map_err(|e| dst_access.explain(e))?;
    super::report_written(&args.access.report, &dst, tag.as_ref(), &report)?;
    Ok(ExitCode::SUCCESS)
}

/// The output name and the reference its result is named by, from `-o` and `-t`.
///
/// For an OCI layout or archive `-t` is the ref name as given (`v1`, `example.com/app:v1`),
/// unless `-o` names one; for a registry the reference is `-o`'s; for a docker archive `-t`
/// is the `NAME:TAG` it records. `needs_tag`: a docker archive or daemon output without
/// `-t` is a usage error (`append`, whose scratch images have no name otherwise).
pub(crate) fn output_and_tag(
    output: &str,
    tag: Option<&str>,
    needs_tag: bool,
) -> Result<(ImageName, Option<Reference>)> {
    let dst = match ImageName::parse_destination(output) {
        Ok(o) => o,
        Err(e) => usage!("-o {output}: {e}"),
    };
    let parse_tag = |t: &str| -> Result<Reference> {
        match t.parse::<Reference>() {
            Ok(r) if r.digest().is_none() => Ok(r.tag_or_latest()),
            Ok(_) => usage!("-t {t}: a tag, not a digest"),
            Err(e) => usage!("-t {t}: {e}"),
        }
    };
    match (dst, tag) {
        (ImageName::Oci { dir, reference }, t) => {
            let reference = reference.or(t.map(str::to_owned));
            Ok((ImageName::Oci { dir, reference }, None))
        }
        (ImageName::OciArchive { path, reference }, t) => {
            let reference = reference.or(t.map(str::to_owned));
            Ok((ImageName::OciArchive { path, reference }, None))
        }
        (dst @ ImageName::Dir { .. }, _) => Ok((dst, None)),
        (dst, Some(t)) if dst.registry_reference().is_none() => Ok((dst, Some(parse_tag(t)?))),
        (dst, t) => match dst.registry_reference() {
            Some(r) if r.digest().is_none() => {
                let r = match t {
                    Some(t) => parse_tag(t)?,
                    None => r.clone(),
                };
                Ok((dst, Some(r)))
            }
            Some(_) => usage!("-o {output}: a registry output needs a tag"),
            None if needs_tag => {
                usage!("-t NAME:TAG is needed for {output} (a docker archive or daemon)")
            }
            None => Ok((dst, None)),
        },
    }
}
