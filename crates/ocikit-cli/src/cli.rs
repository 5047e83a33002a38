//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Container images without a daemon: inspect, convert, build, store and verify docker
/// archives and OCI layouts.
///
/// Image names follow skopeo's transports: docker-archive:PATH[:NAME:TAG] (or :@N for the
/// N-th image), oci:DIR[:REF], or a bare path (a file is a docker archive, a directory an
/// OCI layout).
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
        /// The image (or archive / layout: every image in it).
        src: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Copy an image between docker archives and OCI layouts, verifying every digest.
    #[command(
        after_help = "Example:\n  ocikit convert docker-archive:image.tar oci:layout:v1\n  ocikit convert oci:layout:v1 docker-archive:out.tar:example.com/app:v1"
    )]
    Convert {
        /// Where to read.
        src: String,
        /// Where to write (replaced only on success).
        dst: String,
        #[command(flatten)]
        compress: CompressArgs,
    },
    /// Append layers (directories or tars) to a base image and write the result.
    #[command(
        after_help = "Example:\n  ocikit append scratch ./rootfs -t example.com/app:v1 -o app.tar\n  tar -c -C dir . | ocikit append oci:base:v1 - -t app:v2 -o oci:out:v2"
    )]
    Append {
        /// `scratch` or any image.
        base: String,
        /// Directories, tar files, or `-` for a tar on stdin.
        #[arg(required = true)]
        layers: Vec<String>,
        /// Name and tag of the new image.
        #[arg(short = 't', long = "tag")]
        tag: String,
        /// Where to write the new image.
        #[arg(short = 'o', long = "output")]
        output: String,
        /// Keep file modification times when tarring a directory (default: all zero, so the
        /// same tree gives the same layer).
        #[arg(long)]
        keep_mtime: bool,
        /// Platform of a scratch image, os/arch[/variant].
        #[arg(long, default_value = "linux/amd64")]
        platform: String,
        #[command(flatten)]
        compress: CompressArgs,
    },
    /// Stream a tar into a content store as a layer and print its descriptor as JSON.
    #[command(after_help = "Example:\n  tar -c -C dir . | ocikit layer - --store ./store")]
    Layer {
        /// A tar file, or `-` for stdin.
        file: String,
        /// The content store directory (containerd content/local format).
        #[arg(long)]
        store: PathBuf,
        /// gzip level (1-9).
        #[arg(long)]
        level: Option<u32>,
        /// Compress with zstd instead of gzip.
        #[arg(long)]
        zstd: bool,
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
    /// Check every digest, size and diff_id of an image; exit 1 listing each mismatch.
    #[command(after_help = "Example:\n  ocikit verify docker-archive:image.tar")]
    Verify {
        /// The image (or archive / layout: every image in it).
        src: String,
    },
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
    /// the descriptors of index.json when the store is an OCI layout).
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

#[derive(Debug, Args)]
pub(crate) struct CompressArgs {
    /// Layer compression of the output (default: gzip for OCI layouts, none for docker archives).
    #[arg(long, value_enum)]
    pub(crate) compress: Option<CompressKind>,
    /// Compression level (gzip 0-12, zstd 1-22). Default: gzip 2 for convert (output as small
    /// as skopeo's), gzip 1 for append (go-containerregistry's stream default), zstd 3.
    #[arg(long)]
    pub(crate) level: Option<u32>,
}
