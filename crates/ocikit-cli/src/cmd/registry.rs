//! The registry commands crane and skopeo users type every day, with crane's names: `ls`,
//! `catalog`, `manifest`, `config`, `digest`, `blob`, `delete`, `tag`. Each prints its result
//! on stdout (raw bytes exactly as stored for `manifest`, `config` and `blob`; one JSON
//! document with `--json`) and nothing else there.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{ArgAction, Args, Subcommand};
use oci_remote::{Client, Credential, FetchedManifest, Keychain, Repository};
use oci_types::{Digest, Index, Manifest, Platform, Reference};
use serde_json::json;

use crate::{outln, usage};
use oci_copy::ImageName;

/// The registry commands (flattened into the top-level commands).
#[derive(Debug, Subcommand)]
pub(crate) enum RegistryCommand {
    /// List the tags of a repository (crane ls, skopeo list-tags).
    #[command(
        after_help = "Example:\n  ocikit ls localhost:5000/app\n  ocikit ls docker://registry.example.com/app --json"
    )]
    Ls {
        /// [docker://]HOST/REPO
        repo: String,
        /// Print skopeo list-tags' JSON: {"Repository": .., "Tags": [..]}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// List the repositories of a registry (GET /v2/_catalog).
    #[command(after_help = "Example:\n  ocikit catalog localhost:5000")]
    Catalog {
        /// HOST[:PORT]
        host: String,
        /// Print {"repositories": [..]}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Print the manifest or index of an image, byte for byte as stored.
    #[command(
        after_help = "Example:\n  ocikit manifest localhost:5000/app:v1\n  ocikit manifest oci:layout:v1 --platform linux/arm64"
    )]
    Manifest {
        /// An image: [docker://]HOST/REPO[:TAG|@DIGEST], oci:DIR[:REF], oci-archive:PATH[:REF],
        /// docker-archive:PATH.
        image: String,
        /// Of an index, the manifest of this platform's image (os/arch[/variant]).
        #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
        platform: Option<String>,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Print the config of an image, byte for byte as stored.
    ///
    /// Of an index: the config of its linux/amd64 image, or --platform's.
    #[command(after_help = "Example:\n  ocikit config localhost:5000/app:v1 | jq .config")]
    Config {
        /// An image: [docker://]HOST/REPO[:TAG|@DIGEST], oci:DIR[:REF], oci-archive:PATH[:REF],
        /// docker-archive:PATH.
        image: String,
        /// Of an index, the config of this platform's image (default linux/amd64).
        #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
        platform: Option<String>,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Print the digest of an image or index (what to pin with @sha256:...).
    #[command(
        after_help = "Example:\n  ocikit digest localhost:5000/app:v1\n  ocikit digest localhost:5000/app:v1 --platform linux/arm64"
    )]
    Digest {
        /// An image: [docker://]HOST/REPO[:TAG|@DIGEST], oci:DIR[:REF], oci-archive:PATH[:REF],
        /// docker-archive:PATH.
        image: String,
        /// Of an index, the digest of this platform's image instead of the index's.
        #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
        platform: Option<String>,
        /// Print {"digest": .., "mediaType": .., "size": ..}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Write a blob to stdout, verified against its digest.
    #[command(after_help = "Example:\n  ocikit blob localhost:5000/app@sha256:... | tar -tz")]
    Blob {
        /// [docker://]HOST/REPO@DIGEST
        blob: String,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Delete an image from a registry.
    ///
    /// A tag is resolved to its digest and the manifest deleted, as skopeo delete does: every
    /// tag naming it goes too (--tag-only deletes the tag alone, where the registry allows).
    #[command(after_help = "Example:\n  ocikit delete localhost:5000/app:v1")]
    Delete {
        /// [docker://]HOST/REPO[:TAG|@DIGEST]
        image: String,
        /// Delete only the tag (the registry must allow it; distribution does not).
        #[arg(long)]
        tag_only: bool,
        /// Print {"deleted": REF@DIGEST}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Tag an image in its repository; nothing is uploaded but the manifest's bytes.
    #[command(after_help = "Example:\n  ocikit tag localhost:5000/app:v1 stable")]
    Tag {
        /// [docker://]HOST/REPO[:TAG|@DIGEST]
        image: String,
        /// The new tag.
        new_tag: String,
        /// Print {"reference": .., "digest": ..}.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

/// How the registry commands reach a registry.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Registry options")]
pub(crate) struct RemoteArgs {
    /// Credentials USER:PASS, or USER to be asked for the password on the terminal
    /// (default: those of --authfile, else of the files podman and docker read, their
    /// credential helpers included).
    #[arg(long, value_name = "USER[:PASS]", value_parser = secret)]
    pub(crate) creds: Option<SecretArg>,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
}

/// TLS and plain-HTTP flags (skopeo's spellings, crane's `--insecure`).
#[derive(Debug, Clone, Args)]
pub(crate) struct TlsArgs {
    /// A docker config.json or podman auth.json with credentials.
    #[arg(long, value_name = "PATH")]
    pub(crate) authfile: Option<PathBuf>,
    /// Verify certificates (--tls-verify=false: do not, and allow plain HTTP after a failed
    /// HTTPS connection).
    #[arg(long, value_name = "BOOL", action = ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_value_t = true, default_missing_value = "true")]
    pub(crate) tls_verify: bool,
    /// The same as --tls-verify=false (crane's spelling).
    #[arg(long)]
    pub(crate) insecure: bool,
    /// A directory of certificates: CAs *.crt, client certificate *.cert with its *.key
    /// (default: /etc/containers/certs.d/HOST[:PORT] and /etc/docker/certs.d/HOST[:PORT]).
    #[arg(long, value_name = "DIR")]
    pub(crate) cert_dir: Option<PathBuf>,
    /// Allow plain HTTP to this registry, HOST or HOST:PORT (repeatable).
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub(crate) insecure_registry: Vec<String>,
}

/// A `--creds` value: never shown by `Debug`.
#[derive(Clone)]
pub(crate) struct SecretArg(String);

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretArg(<redacted>)")
    }
}

fn secret(s: &str) -> Result<SecretArg, std::convert::Infallible> {
    Ok(SecretArg(s.to_owned()))
}

impl TlsArgs {
    /// A client builder with these flags and `keychain`.
    pub(crate) fn builder(&self, keychain: Keychain) -> oci_remote::ClientBuilder {
        let mut builder = Client::builder()
            .keychain(keychain)
            .tls_verify(self.tls_verify && !self.insecure);
        if let Some(dir) = &self.cert_dir {
            builder = builder.cert_dir(dir);
        }
        for host in &self.insecure_registry {
            builder = builder.insecure(host.as_str());
        }
        builder
    }

    /// The credentials of `--authfile`, else of the default files.
    pub(crate) fn keychain(&self) -> Result<Keychain> {
        match &self.authfile {
            Some(path) => Keychain::load_file(path).context("reading --authfile"),
            None => Keychain::load_default().context("reading the registry credentials"),
        }
    }
}

impl RemoteArgs {
    /// The client for registry `host`.
    pub(crate) fn client(&self, host: &str) -> Result<Client> {
        let keychain = match &self.creds {
            Some(SecretArg(creds)) => {
                let (username, password) = match creds.split_once(':') {
                    Some((user, pass)) => (user.to_owned(), pass.to_owned()),
                    None => {
                        let pass = crate::registry::ask_password(&format!(
                            "Password for {creds}@{host}: "
                        ))?;
                        (creds.clone(), pass)
                    }
                };
                if username.is_empty() {
                    usage!("--creds: the user name is empty (the form is USER[:PASS])");
                }
                let mut keychain = Keychain::new();
                keychain.insert(host, Credential::Basic { username, password });
                keychain
            }
            None => self.tls.keychain()?,
        };
        Ok(self.tls.builder(keychain).build())
    }
}

/// Runs one registry command; a certificate error gets the flags that help.
pub(crate) fn run(command: RegistryCommand) -> Result<()> {
    run_inner(command).map_err(|e| {
        let certificate = e.chain().any(|cause| {
            cause
                .downcast_ref::<oci_remote::Error>()
                .is_some_and(|r| matches!(r, oci_remote::Error::Transport { .. }))
                && cause.to_string().contains("certificate")
        });
        if certificate {
            // The hint after the error it explains (a context would come first); causes
            // that an error's own text already holds are not repeated, as main does.
            let mut line = e.to_string();
            for cause in e.chain().skip(1) {
                let text = cause.to_string();
                if !line.contains(&text) {
                    line = format!("{line}: {text}");
                }
            }
            anyhow::anyhow!(
                "{line} (trust the registry's CA with --cert-dir DIR, or skip verification \
                 with --tls-verify=false)"
            )
        } else {
            e
        }
    })
}

fn run_inner(command: RegistryCommand) -> Result<()> {
    match command {
        RegistryCommand::Ls { repo, json, remote } => {
            let reference = reference_arg(&repo)?;
            let repository = repository(&remote, &reference)?;
            let tags = repository
                .tags()
                .with_context(|| format!("listing the tags of {}", reference.repository()))?;
            if json {
                print_json(&json!({"Repository": reference.repository(), "Tags": tags}));
            } else {
                for tag in tags {
                    outln!("{tag}");
                }
            }
        }
        RegistryCommand::Catalog { host, json, remote } => {
            let host = host.strip_prefix("docker://").unwrap_or(&host);
            let host = host.trim_end_matches('/');
            let names = remote
                .client(host)?
                .catalog(host)
                .with_context(|| format!("listing the repositories of {host}"))?;
            if json {
                print_json(&json!({ "repositories": names }));
            } else {
                for name in names {
                    outln!("{name}");
                }
            }
        }
        RegistryCommand::Manifest {
            image,
            platform,
            remote,
        } => {
            let platform = platform_arg(platform.as_deref())?;
            let bytes = match target(&image)? {
                Target::Registry(reference) => {
                    let repository = repository(&remote, &reference)?;
                    let fetched = fetch(&repository, &reference)?;
                    match &platform {
                        Some(p) if fetched.media_type.is_index() => {
                            let child = child_for(&reference, &fetched, p)?;
                            fetch_digest(&repository, &reference, &child)?.bytes
                        }
                        _ => fetched.bytes,
                    }
                }
                Target::Local(name) => match open_local(&name, platform.as_ref())? {
                    Opened::Index(index) => index.raw_manifest()?,
                    Opened::Image(image) => image.raw_manifest()?,
                },
            };
            write_raw(&bytes)?;
        }
        RegistryCommand::Config {
            image,
            platform,
            remote,
        } => {
            let platform = platform_arg(platform.as_deref())?;
            let bytes = match target(&image)? {
                Target::Registry(reference) => {
                    let repository = repository(&remote, &reference)?;
                    let mut fetched = fetch(&repository, &reference)?;
                    if fetched.media_type.is_index() {
                        let p = match &platform {
                            Some(p) => p.clone(),
                            None => oci_copy::DEFAULT_PLATFORM.parse()?,
                        };
                        let child = child_for(&reference, &fetched, &p)?;
                        fetched = fetch_digest(&repository, &reference, &child)?;
                    }
                    let manifest = Manifest::from_slice(&fetched.bytes).with_context(|| {
                        format!("{reference}: the manifest is not an image manifest")
                    })?;
                    let mut bytes = Vec::new();
                    io::copy(
                        &mut repository
                            .blob(&manifest.config.digest, Some(manifest.config.size))
                            .with_context(|| format!("fetching the config of {reference}"))?,
                        &mut bytes,
                    )
                    .with_context(|| format!("reading the config of {reference}"))?;
                    bytes
                }
                Target::Local(name) => {
                    let p = match platform {
                        Some(p) => p,
                        None => oci_copy::DEFAULT_PLATFORM.parse()?,
                    };
                    match open_local(&name, Some(&p))? {
                        Opened::Image(image) => image.raw_config_file()?,
                        Opened::Index(_) => anyhow::bail!("{name}: no image for {p}"),
                    }
                }
            };
            write_raw(&bytes)?;
        }
        RegistryCommand::Digest {
            image,
            platform,
            json,
            remote,
        } => {
            let platform = platform_arg(platform.as_deref())?;
            let descriptor = match target(&image)? {
                Target::Registry(reference) => {
                    let repository = repository(&remote, &reference)?;
                    let wanted = tag_or_digest(&reference);
                    let head = repository
                        .manifest_descriptor(&wanted)
                        .with_context(|| format!("reading {reference}"))?
                        .ok_or_else(|| not_found(&reference))?;
                    match &platform {
                        Some(p) if head.media_type.is_index() => {
                            let fetched = fetch_digest(&repository, &reference, &head.digest)?;
                            let child = child_for(&reference, &fetched, p)?;
                            fetch_digest(&repository, &reference, &child)?.descriptor()
                        }
                        _ => head,
                    }
                }
                Target::Local(name) => match open_local(&name, platform.as_ref())? {
                    Opened::Index(index) => index.descriptor()?,
                    Opened::Image(image) => image.descriptor()?,
                },
            };
            if json {
                print_json(&json!({
                    "digest": descriptor.digest.to_string(),
                    "mediaType": descriptor.media_type.to_string(),
                    "size": descriptor.size,
                }));
            } else {
                outln!("{}", descriptor.digest);
            }
        }
        RegistryCommand::Blob { blob, remote } => {
            let reference = reference_arg(&blob)?;
            let Some(digest) = reference.digest().cloned() else {
                usage!("blob takes REPO@DIGEST, not {blob}");
            };
            let repository = repository(&remote, &reference)?;
            let mut reader = repository
                .blob(&digest, None)
                .with_context(|| format!("fetching {reference}"))?;
            let stdout = io::stdout();
            let mut out = stdout.lock();
            match io::copy(&mut reader, &mut out).and_then(|_| out.flush()) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                Err(e) => {
                    return Err(anyhow::Error::new(oci_types::Error::from_io(e)))
                        .with_context(|| format!("fetching {reference}"))
                }
            }
        }
        RegistryCommand::Delete {
            image,
            tag_only,
            json,
            remote,
        } => {
            let reference = reference_arg(&image)?;
            let repository = repository(&remote, &reference)?;
            if tag_only {
                let Some(tag) = reference.tag().filter(|_| reference.digest().is_none()) else {
                    usage!("--tag-only needs a tag: {image}");
                };
                repository
                    .delete_tag(tag)
                    .with_context(|| format!("deleting {reference}"))?;
                report(
                    json,
                    &format!("deleted {reference}"),
                    &json!({ "deleted": reference.to_string() }),
                );
                return Ok(());
            }
            let digest = match reference.digest() {
                Some(d) => d.clone(),
                None => {
                    repository
                        .manifest_descriptor(&tag_or_digest(&reference))
                        .with_context(|| format!("reading {reference}"))?
                        .ok_or_else(|| not_found(&reference))?
                        .digest
                }
            };
            repository
                .delete_manifest(&digest)
                .with_context(|| format!("deleting {reference}"))?;
            let deleted = format!("{}@{digest}", reference.repository());
            report(
                json,
                &format!("deleted {deleted}"),
                &json!({ "deleted": deleted }),
            );
        }
        RegistryCommand::Tag {
            image,
            new_tag,
            json,
            remote,
        } => {
            let reference = reference_arg(&image)?;
            let tagged: Reference = match format!("{}:{new_tag}", reference.repository()).parse() {
                Ok(r) => r,
                Err(e) => usage!("bad tag {new_tag:?}: {e}"),
            };
            let repository = repository(&remote, &reference)?;
            let descriptor = repository
                .tag(&tag_or_digest(&reference), &new_tag)
                .with_context(|| format!("tagging {reference} as {new_tag}"))?;
            report(
                json,
                &format!("tagged {tagged} ({})", descriptor.digest),
                &json!({"reference": tagged.to_string(), "digest": descriptor.digest.to_string()}),
            );
        }
    }
    Ok(())
}

/// What a name given to `manifest`, `config` or `digest` is.
enum Target {
    /// A registry reference.
    Registry(Reference),
    /// A local image or layout (`oci:`, `oci-archive:`, `docker-archive:`, `dir:`).
    Local(ImageName),
}

/// A name with a transport (`docker://`, `oci:`, `docker-archive:`) or an existing path is
/// what it says; any other word is a registry reference, as crane reads it.
fn target(arg: &str) -> Result<Target> {
    if arg.starts_with("docker://") {
        return Ok(Target::Registry(reference_arg(arg)?));
    }
    let has_transport = [
        "oci:",
        "docker-archive:",
        "oci-archive:",
        "dir:",
        "docker-daemon:",
        "containers-storage:",
    ]
    .iter()
    .any(|t| arg.starts_with(t));
    if has_transport || std::path::Path::new(arg).exists() {
        return match ImageName::parse_source(arg) {
            Ok(name) => Ok(Target::Local(name)),
            Err(e) => usage!("{e}"),
        };
    }
    Ok(Target::Registry(reference_arg(arg)?))
}

/// `[docker://]HOST/REPO[:TAG|@DIGEST]`; a bad one is a usage error.
fn reference_arg(arg: &str) -> Result<Reference> {
    let rest = arg.strip_prefix("docker://").unwrap_or(arg);
    match rest.parse::<Reference>() {
        Ok(r) if r.tag().is_some() && r.digest().is_some() => {
            usage!("{arg}: give a tag or a digest, not both")
        }
        Ok(r) => Ok(r),
        Err(e) => usage!("{arg} is not an image reference (HOST/REPO[:TAG|@DIGEST]): {e}"),
    }
}

fn platform_arg(platform: Option<&str>) -> Result<Option<Platform>> {
    match platform.map(str::parse::<Platform>).transpose() {
        Ok(p) => Ok(p),
        Err(e) => usage!("--platform: {e}"),
    }
}

fn repository(remote: &RemoteArgs, reference: &Reference) -> Result<Repository> {
    Ok(remote.client(reference.domain())?.repository(reference))
}

/// The tag (default `latest`) or digest of a reference, as the registry API names it.
fn tag_or_digest(reference: &Reference) -> String {
    match (reference.digest(), reference.tag()) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.to_owned(),
        (None, None) => "latest".to_owned(),
    }
}

fn not_found(reference: &Reference) -> anyhow::Error {
    anyhow::anyhow!("{reference}: no such manifest")
}

fn fetch(repository: &Repository, reference: &Reference) -> Result<FetchedManifest> {
    repository
        .manifest(&tag_or_digest(reference))
        .with_context(|| format!("reading {reference}"))
}

fn fetch_digest(
    repository: &Repository,
    reference: &Reference,
    digest: &Digest,
) -> Result<FetchedManifest> {
    repository
        .manifest(digest.as_str())
        .with_context(|| format!("reading {}@{digest}", reference.repository()))
}

/// The digest of the child of an index for `platform`.
fn child_for(
    reference: &Reference,
    index: &FetchedManifest,
    platform: &Platform,
) -> Result<Digest> {
    let parsed = Index::from_slice(&index.bytes).with_context(|| format!("reading {reference}"))?;
    parsed
        .manifests
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| p.matches(platform)))
        .map(|d| d.digest.clone())
        .ok_or_else(|| {
            let have: Vec<String> = parsed
                .manifests
                .iter()
                .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
                .collect();
            anyhow::anyhow!(
                "{reference} has no image for {platform} (it has {})",
                have.join(", ")
            )
        })
}

/// A local image or an index, as `oci_copy` opens it.
enum Opened {
    Image(std::sync::Arc<dyn oci_partial::Image>),
    Index(std::sync::Arc<dyn oci_partial::ImageIndex>),
}

/// A local image (`oci:`, `oci-archive:`, `docker-archive:`, `dir:`): an index whole unless
/// `platform` is given.
fn open_local(name: &ImageName, platform: Option<&Platform>) -> Result<Opened> {
    let mut options = oci_copy::CopyOptions::default();
    if let Some(p) = platform {
        options.platforms = oci_copy::Platforms::One(p.clone());
        return Ok(Opened::Image(oci_copy::open_image(name, &options)?));
    }
    Ok(match oci_copy::open_source(name, &options)?.content {
        oci_copy::Content::Image(image) => Opened::Image(image),
        oci_copy::Content::Index(index) => Opened::Index(index),
        _ => anyhow::bail!("{name}: neither an image nor an index"),
    })
}

/// Bytes to stdout as they are; a closed pipe ends quietly.
fn write_raw(bytes: &[u8]) -> Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(e).context("writing to standard output")
        }
        _ => Ok(()),
    }
}

fn print_json(value: &serde_json::Value) {
    outln!("{value}");
}

/// The result: JSON on stdout with `--json`, else a human line on stderr.
fn report(json: bool, human: &str, document: &serde_json::Value) {
    if json {
        print_json(document);
    } else {
        eprintln!("{human}");
    }
}
