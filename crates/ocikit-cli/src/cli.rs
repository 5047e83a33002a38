//! The command line, as clap sees it.

use std::convert::Infallible;
use std::fmt;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// What `copy`, `push` and `pull` do with an index, and how registries are reached (the end
/// of their `--help`).
macro_rules! copy_help {
    () => {
        "An index (a multi-platform image: in a registry, or an OCI layout ref naming one) is \
copied whole into an OCI layout or a registry, and as its linux/amd64 image into a docker \
archive (which holds single images); --platform copies one platform's image wherever the \
destination. Layers already compressed are copied as they are to a registry; uncompressed ones \
(of a docker archive) are compressed once, streaming into their upload.

Credentials: --src-creds/--dest-creds (or --creds of push and pull) USER:PASS, or USER to be \
asked for the password on the terminal; otherwise those of --authfile, else of \
$REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, $DOCKER_CONFIG/config.json or \
~/.docker/config.json (their credential helpers are run). Registries are spoken to over HTTPS, \
except loopback ones (localhost, 127.0.0.0/8, ::1) and those named by --insecure-registry, \
which may use plain HTTP."
    };
}

/// Container images without a daemon: inspect, convert, build, store, verify, push and pull
/// docker archives, OCI layouts and registry images.
///
/// Image names follow skopeo's transports: docker-archive:PATH[:NAME:TAG] (or :@N for the
/// N-th image; PATH - is stdin or stdout), oci:DIR[:REF], oci-archive:PATH[:REF], dir:PATH,
/// docker://HOST/REPO[:TAG|@DIGEST] (a registry; no tag means :latest),
/// docker-daemon:NAME:TAG (a Docker Engine, through $DOCKER_HOST), or a bare path (a file is a
/// docker archive, a directory an OCI layout).
#[derive(Debug, Parser)]
#[command(name = "ocikit", version, propagate_version = true)]
pub(crate) struct Cli {
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Show images, tags, platform, config and layers.
    #[command(
        after_help = "Example:\n  ocikit inspect docker-archive:image.tar\n  ocikit inspect oci:layout:latest --json"
    )]
    Inspect {
        /// The image (or archive / layout / registry index: every image in it).
        src: String,
        /// Print JSON instead of text: an array of images (each of an index names it, with
        /// its digest).
        #[arg(long)]
        json: bool,
        /// Of an index, only this platform's image (os/arch[/variant]).
        #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
        platform: Option<String>,
        /// Credentials for a docker:// image.
        #[arg(long, value_name = "USER[:PASS]", value_parser = secret)]
        creds: Option<Secret>,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Copy an image between docker archives, OCI layouts and archives, `dir:` directories,
    /// registries and Docker Engines, verifying every digest (skopeo copy).
    #[command(
        visible_alias = "cp",
        alias = "convert",
        after_help = "Example:\n  ocikit copy docker-archive:image.tar oci:layout:v1\n  ocikit copy oci:layout:v1 docker-archive:out.tar:example.com/app:v1\n  ocikit copy --all docker://registry.example.com/app:v1 oci-archive:app.tar",
        after_long_help = concat!("Example:\n  ocikit copy docker-archive:image.tar oci:layout:v1\n  ocikit copy oci:layout:v1 docker-archive:out.tar:example.com/app:v1\n  ocikit copy --all docker://registry.example.com/app:v1 oci-archive:app.tar", "\n\n", copy_help!()),
    )]
    Copy {
        /// Where to read.
        src: String,
        /// Where to write (replaced only on success).
        dst: String,
        #[command(flatten)]
        compress: DestCompressArgs,
        #[command(flatten)]
        copy: CopyArgs,
    },
    /// Push an image to a registry: `copy` whose destination is docker://.
    #[command(
        after_help = "Example:\n  ocikit push image.tar docker://registry.example.com/app:v1\n  ocikit push oci:layout:v1 docker://localhost:5000/app:v1 --creds me",
        after_long_help = concat!("Example:\n  ocikit push image.tar docker://registry.example.com/app:v1\n  ocikit push oci:layout:v1 docker://localhost:5000/app:v1 --creds me", "\n\n", copy_help!()),
    )]
    Push {
        /// The image to push.
        src: String,
        /// docker://HOST/REPO[:TAG] (no tag means :latest).
        dst: String,
        /// Credentials for the registry pushed to (the same as --dest-creds).
        #[arg(long, value_name = "USER[:PASS]", value_parser = secret, conflicts_with = "dest_creds")]
        creds: Option<Secret>,
        #[command(flatten)]
        compress: DestCompressArgs,
        #[command(flatten)]
        copy: CopyArgs,
    },
    /// Pull an image from a registry: `copy` whose source is docker://.
    #[command(
        after_help = "Example:\n  ocikit pull docker://registry.example.com/app:v1 oci:layout:v1\n  ocikit pull docker://localhost:5000/app@sha256:... app.tar --platform linux/arm64",
        after_long_help = concat!("Example:\n  ocikit pull docker://registry.example.com/app:v1 oci:layout:v1\n  ocikit pull docker://localhost:5000/app@sha256:... app.tar --platform linux/arm64", "\n\n", copy_help!()),
    )]
    Pull {
        /// docker://HOST/REPO[:TAG|@DIGEST] (no tag means :latest).
        src: String,
        /// Where to write (replaced only on success).
        dst: String,
        /// Credentials for the registry pulled from (the same as --src-creds).
        #[arg(long, value_name = "USER[:PASS]", value_parser = secret, conflicts_with = "src_creds")]
        creds: Option<Secret>,
        #[command(flatten)]
        compress: DestCompressArgs,
        #[command(flatten)]
        copy: CopyArgs,
    },
    /// Append layers (directories or tars) to a base image and write the result.
    #[command(
        after_help = "Example:\n  ocikit append scratch ./rootfs -t example.com/app:v1 -o app.tar\n  tar -c -C dir . | ocikit append oci:base:v1 - -t app:v2 -o oci:out:v2\n  ocikit append docker://localhost:5000/base:v1 ./rootfs -o docker://localhost:5000/app:v1"
    )]
    Append {
        /// `scratch` or any image.
        base: String,
        /// Directories, tar files, or `-` for a tar on stdin (none: the base as it is, with
        /// --platform or --canonical applied).
        layers: Vec<String>,
        /// Name and tag of the new image: the ref name in an OCI layout or archive (default:
        /// the output's), NAME:TAG in a docker archive, the tag in a registry (default: the
        /// output's reference).
        #[arg(short = 't', long = "tag")]
        tag: Option<String>,
        /// Reproducible: zero `created`, history and file times ($SOURCE_DATE_EPOCH when set),
        /// drop the fields that vary between builders (crane's --canonical).
        #[arg(long)]
        canonical: bool,
        /// Where to write the new image.
        #[arg(short = 'o', long = "output")]
        output: String,
        /// Keep file modification times when tarring a directory (default: all zero, so the
        /// same tree gives the same layer).
        #[arg(long)]
        keep_mtime: bool,
        /// Keep extended attributes when tarring a directory (PAX `SCHILY.xattr.*` records, as
        /// `tar --xattrs` writes them; `security.selinux` is left out).
        #[arg(long)]
        xattrs: bool,
        /// Platform of a scratch image, or the image to take from a registry index base,
        /// os/arch[/variant].
        #[arg(long, default_value = "linux/amd64")]
        platform: String,
        #[command(flatten)]
        compress: DestCompressArgs,
        /// Credentials for a docker:// base.
        #[arg(long, value_name = "USER[:PASS]", value_parser = secret)]
        src_creds: Option<Secret>,
        /// Credentials for a docker:// output.
        #[arg(long, value_name = "USER[:PASS]", value_parser = secret)]
        dest_creds: Option<Secret>,
        #[command(flatten)]
        registry: RegistryArgs,
        #[command(flatten)]
        uploads: UploadArgs,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Stream a tar into a content store or a registry as a layer and print its descriptor
    /// as JSON.
    #[command(
        after_help = "Example:\n  tar -c -C dir . | ocikit layer - --store ./store\n  tar -c -C dir . | ocikit layer - --to docker://localhost:5000/app"
    )]
    Layer {
        /// A tar file, or `-` for stdin.
        file: String,
        /// The content store directory (containerd content/local format).
        #[arg(long, required_unless_present = "to", conflicts_with = "to")]
        store: Option<PathBuf>,
        /// A registry repository, docker://HOST/REPO, to upload the layer to (one pass:
        /// compressed, hashed and sent as the tar arrives).
        #[arg(long, value_name = "docker://HOST/REPO")]
        to: Option<String>,
        /// Credentials for the --to registry.
        #[arg(long, value_name = "USER[:PASS]", value_parser = secret, requires = "to")]
        creds: Option<Secret>,
        #[command(flatten)]
        registry: RegistryArgs,
        #[command(flatten)]
        compress: DestCompressArgs,
        /// The same as --dest-compress-format zstd (the old spelling).
        #[arg(long, hide = true, conflicts_with = "format")]
        zstd: bool,
        /// Write the layer's digest to PATH.
        #[arg(long, value_name = "PATH")]
        digestfile: Option<PathBuf>,
        /// Print the descriptor as one compact JSON line (default: indented JSON).
        #[arg(long)]
        json: bool,
    },
    /// Manage a content store by hand, like `ctr content`.
    #[command(
        after_help = "Example:\n  ocikit store ./store ls 'labels.\"containerd.io/gc.root\"'\n  ocikit store ./store labels sha256:... app=web"
    )]
    Store {
        /// The content store directory.
        dir: PathBuf,
        #[command(subcommand)]
        action: StoreAction,
    },
    /// Extract an image's filesystem into a new directory, safely (umoci unpack).
    Unpack(crate::cmd::unpack::Args),
    /// Write an image's merged filesystem as one tar (crane export).
    Export(crate::cmd::export::Args),
    /// Edit an image's config: entrypoint, cmd, env, labels, annotations, user, workdir,
    /// ports (crane mutate).
    Mutate(Box<crate::cmd::mutate::Args>),
    /// Make and edit multi-platform indexes: create, append, remove (crane index).
    Index(crate::cmd::index::Args),
    /// Put an image on a new base: the old base's layers replaced by the new one's (crane
    /// rebase).
    Rebase(Box<crate::cmd::rebase::Args>),
    /// Attach files to an image as an OCI 1.1 artifact (an SBOM, a signature) referring to it.
    Attach(Box<crate::cmd::artifact::AttachArgs>),
    /// List the artifacts that refer to an image (referrers API, its tag fallback, or a layout).
    Referrers(Box<crate::cmd::artifact::ReferrersArgs>),
    /// Check every digest, size and diff_id of an image, and of an index its entries and
    /// every image; exit 1 listing each mismatch.
    #[command(
        after_help = "Example:\n  ocikit verify docker-archive:image.tar\n  ocikit verify docker://localhost:5000/app:v1 --json"
    )]
    Verify {
        /// The image (or archive / layout / registry index: every image in it).
        src: String,
        /// Print one JSON document: {"ok", "index"?: {"name", "digest"}, "checked": [{"name",
        /// "digest", "ok", "problems"}]} (an index's own entry first).
        #[arg(long)]
        json: bool,
        /// Of an index, check only this platform's image (and the index's entries).
        #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
        platform: Option<String>,
        /// Credentials for a docker:// image.
        #[arg(long, value_name = "USER[:PASS]", value_parser = secret)]
        creds: Option<Secret>,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// ls, catalog, manifest, config, digest, blob, delete, tag (cmd/registry.rs).
    #[command(flatten)]
    Registry(crate::cmd::registry::RegistryCommand),
    /// Log in to a registry: check the credentials with it, then store them in auth.json.
    Login(crate::cmd::login::LoginArgs),
    /// Log out of a registry: remove its credentials from auth.json.
    Logout(crate::cmd::login::LogoutArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum StoreAction {
    /// List blobs, optionally filtered (containerd filter syntax; several filters are ORed).
    Ls {
        /// Filters such as `labels.app==web` or `size!=0`.
        filters: Vec<String>,
    },
    /// Show a blob's info as JSON.
    Info {
        /// The blob's digest.
        digest: String,
    },
    /// Delete blobs.
    Rm {
        /// Digests to delete.
        #[arg(required = true)]
        digests: Vec<String>,
    },
    /// Show a blob's labels, or set them with KEY=VALUE (empty VALUE removes the label).
    Labels {
        /// The blob's digest.
        digest: String,
        /// KEY=VALUE pairs.
        labels: Vec<String>,
    },
    /// List ongoing ingests.
    Ingests {
        /// Filters such as `ref~=upload`.
        filters: Vec<String>,
    },
    /// Abort an ingest.
    Abort {
        /// The ingest's ref.
        reference: String,
    },
    /// Delete blobs not reachable from the roots (blobs labelled `containerd.io/gc.root`, and
    /// the descriptors of index.json when the store is an OCI layout), and the ingests that
    /// interrupted writes left behind (those no running writer holds).
    Gc {
        /// Only print what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CompressKind {
    Gzip,
    Zstd,
    None,
}

/// Layer compression of a copy's destination, as skopeo spells it.
#[derive(Debug, Args)]
pub(crate) struct DestCompressArgs {
    /// Layer compression of the destination (default: gzip for OCI layouts and archives,
    /// none for docker archives, as stored for dir:; to a registry, layers already
    /// compressed are kept as they are; gzip for `layer`).
    #[arg(
        long = "dest-compress-format",
        alias = "compress",
        value_enum,
        value_name = "FORMAT"
    )]
    pub(crate) format: Option<CompressKind>,
    /// Compression level: gzip 0-12, zstd 1-22. Default: gzip 2 for copy (output as small
    /// as skopeo's), gzip 1 for append and layer (go-containerregistry's stream default),
    /// zstd 3. A level recompresses layers already in the format.
    #[arg(long = "dest-compress-level", alias = "level", value_name = "N")]
    pub(crate) level: Option<u32>,
}

/// What `copy`, `push` and `pull` take besides the two names.
#[derive(Debug, Args)]
pub(crate) struct CopyArgs {
    /// Copy every image of an index (an error into a docker archive, which holds one).
    #[arg(long, short = 'a')]
    pub(crate) all: bool,
    /// Copy only this platform's image (os/arch[/variant]) of an index; repeat it for an
    /// index of those platforms. Default: the whole index, or its linux/amd64 image into a
    /// docker archive.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub(crate) platform: Vec<String>,
    /// Fail rather than change any digest (no recompression, no manifest conversion).
    #[arg(long)]
    pub(crate) preserve_digests: bool,
    #[command(flatten)]
    pub(crate) report: ReportArgs,
    /// Credentials for a docker:// source.
    #[arg(long, value_name = "USER[:PASS]", value_parser = secret, help_heading = "Registry options (docker://)")]
    pub(crate) src_creds: Option<Secret>,
    /// Credentials for a docker:// destination.
    #[arg(long, value_name = "USER[:PASS]", value_parser = secret, help_heading = "Registry options (docker://)")]
    pub(crate) dest_creds: Option<Secret>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    #[command(flatten)]
    pub(crate) uploads: UploadArgs,
}

/// How registries (docker:// names) are reached.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Registry options (docker://)")]
pub(crate) struct RegistryArgs {
    /// A docker config.json (or podman auth.json) with credentials. Default: the files
    /// docker and podman read.
    #[arg(long, value_name = "PATH")]
    pub(crate) authfile: Option<PathBuf>,
    /// Allow plain HTTP to this registry, HOST or HOST:PORT (repeatable). Loopback
    /// registries may always use it; every other one must speak HTTPS.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub(crate) insecure_registry: Vec<String>,
    /// Verify certificates (--tls-verify=false: do not, and allow plain HTTP after a failed
    /// HTTPS connection).
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set, num_args = 0..=1,
          require_equals = true, default_value_t = true, default_missing_value = "true")]
    pub(crate) tls_verify: bool,
    /// The same as --tls-verify=false (crane's spelling).
    #[arg(long)]
    pub(crate) insecure: bool,
    /// A directory of certificates: CAs *.crt, client certificate *.cert with its *.key
    /// (default: /etc/containers/certs.d/HOST[:PORT], /etc/docker/certs.d/HOST[:PORT]).
    #[arg(long, value_name = "DIR")]
    pub(crate) cert_dir: Option<PathBuf>,
}

/// How many uploads run at once (commands that write to a registry).
#[derive(Debug, Clone, Copy, Args)]
#[command(next_help_heading = "Registry options (docker://)")]
pub(crate) struct UploadArgs {
    /// How many blobs to upload at once [default: 4] (downloads go one blob at a time).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) jobs: Option<u16>,
}

/// Credentials for what is read and for the output, registry options, and how what is written
/// is reported: the access flags of the commands that read images and write a new one.
#[derive(Debug, Args)]
pub(crate) struct AccessArgs {
    /// Credentials for docker:// images read.
    #[arg(long, value_name = "USER[:PASS]", value_parser = crate::cli::secret)]
    pub(crate) src_creds: Option<Secret>,
    /// Credentials for a docker:// output.
    #[arg(long, value_name = "USER[:PASS]", value_parser = crate::cli::secret)]
    pub(crate) dest_creds: Option<Secret>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    #[command(flatten)]
    pub(crate) report: crate::cli::ReportArgs,
}

/// How a command that writes an image reports it, for scripts.
#[derive(Debug, Clone, Args)]
pub(crate) struct ReportArgs {
    /// Print the result as one JSON document on stdout (human text stays on stderr).
    #[arg(long)]
    pub(crate) json: bool,
    /// Write the digest of what was written (manifest, index, or image ID) to PATH.
    #[arg(long, value_name = "PATH")]
    pub(crate) digestfile: Option<PathBuf>,
}

/// A command-line secret (`--creds`): never shown by `Debug`, never echoed by a parse error
/// (its parser accepts anything; it is checked later, by messages that do not quote it).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

pub(crate) fn secret(s: &str) -> Result<Secret, Infallible> {
    Ok(Secret(s.to_owned()))
}
