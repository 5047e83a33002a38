//! Image names in skopeo's transport syntax (containers/image's `alltransports`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use oci_types::{Digest, Reference};

use crate::error::{Error, NameProblem};

/// The transports a name may start with, as they are written (`docker` is `docker://`).
pub const TRANSPORTS: &[&str] = &[
    "docker-archive:",
    "oci:",
    "oci-archive:",
    "dir:",
    "docker://",
    "docker-daemon:",
];

/// Where an image is read from or written to: a transport and what it needs.
///
/// [`FromStr`] and [`Display`](fmt::Display) speak skopeo's syntax, and printing a name and
/// parsing it again gives the same name. [`ImageName::parse_source`] and
/// [`ImageName::parse_destination`] also take a bare path, recognised by what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageName {
    /// `docker-archive:PATH[:NAME:TAG|:@N]`: a `docker save` tar, optionally naming one image
    /// in it. The path `-` is standard input (as a source) or output (as a destination).
    DockerArchive {
        /// The archive (`-` for stdin/stdout).
        path: PathBuf,
        /// Which image of it.
        selector: Option<ArchiveSelector>,
    },
    /// `oci:DIR[:REF]`: an OCI image layout directory, optionally naming one ref
    /// (`org.opencontainers.image.ref.name`).
    Oci {
        /// The layout's directory.
        dir: PathBuf,
        /// The ref name.
        reference: Option<String>,
    },
    /// `oci-archive:PATH[:REF]`: a tar of an OCI image layout.
    OciArchive {
        /// The tar.
        path: PathBuf,
        /// The ref name.
        reference: Option<String>,
    },
    /// `dir:PATH`: containers/image's directory transport (`version`, `manifest.json`, blobs
    /// named by the hex of their digest).
    Dir {
        /// The directory.
        path: PathBuf,
    },
    /// `docker://HOST/REPO[:TAG|@DIGEST]`: an image or index in a registry (`latest` when
    /// neither tag nor digest is given).
    Docker {
        /// The reference, with a tag or a digest.
        reference: Reference,
    },
    /// `docker-daemon:NAME:TAG` or `docker-daemon:ID`: an image of a Docker Engine, through
    /// its API socket.
    DockerDaemon {
        /// A tagged name or an image ID.
        image: DaemonImage,
    },
}

/// Which image of a docker archive.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArchiveSelector {
    /// By tag (`NAME:TAG`).
    Tag(Reference),
    /// By position in `manifest.json` (`@N`).
    Index(usize),
}

/// An image of a Docker Engine.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DaemonImage {
    /// `NAME:TAG` (`latest` when no tag is given).
    Named(Reference),
    /// An image ID, `sha256:HEX`.
    Id(Digest),
}

/// Whether a bare path names something to read or to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Source,
    Destination,
}

impl ImageName {
    /// A name to read from: a transport name, or a bare path (a file is a docker archive, a
    /// directory an OCI layout; a missing path is [`Error::NoSuchFile`]).
    pub fn parse_source(s: &str) -> Result<ImageName, Error> {
        parse(s, Role::Source)
    }

    /// A name to write to: a transport name, or a bare path (an existing directory or a
    /// missing path not ending in `.tar` is an OCI layout; a file or a `.tar` path a docker
    /// archive).
    pub fn parse_destination(s: &str) -> Result<ImageName, Error> {
        parse(s, Role::Destination)
    }

    /// The transport, as written before the name (`docker-archive:`, `docker://`, ...).
    pub fn transport(&self) -> &'static str {
        match self {
            ImageName::DockerArchive { .. } => "docker-archive:",
            ImageName::Oci { .. } => "oci:",
            ImageName::OciArchive { .. } => "oci-archive:",
            ImageName::Dir { .. } => "dir:",
            ImageName::Docker { .. } => "docker://",
            ImageName::DockerDaemon { .. } => "docker-daemon:",
        }
    }

    /// The reference of a `docker://` name.
    pub fn registry_reference(&self) -> Option<&Reference> {
        match self {
            ImageName::Docker { reference } => Some(reference),
            _ => None,
        }
    }

    /// Whether the destination holds one image only (a docker archive, a Docker Engine
    /// image), so an index must be narrowed to one platform.
    pub fn holds_single_images(&self) -> bool {
        matches!(
            self,
            ImageName::DockerArchive { .. } | ImageName::DockerDaemon { .. }
        )
    }
}

impl FromStr for ImageName {
    type Err = Error;

    /// A name with its transport (a bare path is [`Error::MissingTransport`]).
    fn from_str(s: &str) -> Result<ImageName, Error> {
        match parse_transport(s)? {
            Some(name) => Ok(name),
            None => Err(Error::MissingTransport { name: s.to_owned() }),
        }
    }
}

fn parse(s: &str, role: Role) -> Result<ImageName, Error> {
    match parse_transport(s) {
        Ok(Some(name)) => return Ok(name),
        Ok(None) => {}
        // `name:rest` where `name` is no transport: a file of that name still is one.
        Err(e @ Error::UnknownTransport { .. }) if !Path::new(s).exists() => return Err(e),
        Err(Error::UnknownTransport { .. }) => {}
        Err(e) => return Err(e),
    }
    if s.is_empty() {
        return Err(invalid(s, NameProblem::Empty));
    }
    let path = Path::new(s);
    if path.is_dir() {
        return Ok(ImageName::Oci {
            dir: path.to_owned(),
            reference: None,
        });
    }
    if path.is_file() || (role == Role::Destination && !path.exists() && s.ends_with(".tar")) {
        return Ok(ImageName::DockerArchive {
            path: path.to_owned(),
            selector: None,
        });
    }
    if role == Role::Destination && !path.exists() {
        return Ok(ImageName::Oci {
            dir: path.to_owned(),
            reference: None,
        });
    }
    Err(Error::NoSuchFile {
        path: path.to_owned(),
    })
}

fn invalid(name: &str, problem: NameProblem) -> Error {
    Error::InvalidName {
        name: name.to_owned(),
        problem,
    }
}

/// The name when it starts with a transport; `None` for a bare path (no `:` before any `/`).
fn parse_transport(s: &str) -> Result<Option<ImageName>, Error> {
    if let Some(rest) = s.strip_prefix("docker://") {
        return parse_docker(s, rest).map(Some);
    }
    let Some((transport, rest)) = s.split_once(':') else {
        return Ok(None);
    };
    match transport {
        "docker-archive" => parse_archive(s, rest).map(Some),
        "oci" => {
            let (dir, reference) = path_and_ref(s, rest)?;
            Ok(Some(ImageName::Oci { dir, reference }))
        }
        "oci-archive" => {
            let (path, reference) = path_and_ref(s, rest)?;
            Ok(Some(ImageName::OciArchive { path, reference }))
        }
        "dir" => {
            if rest.is_empty() {
                return Err(invalid(s, NameProblem::EmptyPath));
            }
            Ok(Some(ImageName::Dir {
                path: PathBuf::from(rest),
            }))
        }
        "docker-daemon" => parse_daemon(s, rest).map(Some),
        // A path such as `./a:b` or `/x/y:z`: not a transport.
        t if t.contains('/') || t.contains('\\') || t.is_empty() => Ok(None),
        t => Err(Error::UnknownTransport {
            transport: t.to_owned(),
            suggestion: closest_transport(t),
        }),
    }
}

fn parse_archive(s: &str, rest: &str) -> Result<ImageName, Error> {
    if rest.is_empty() {
        return Err(invalid(s, NameProblem::EmptyPath));
    }
    // PATH[:NAME:TAG] or PATH:@N; as skopeo, the path ends at the first ':'.
    let (path, selector) = match rest.split_once(':') {
        None => (rest, None),
        Some((path, sel)) => {
            if path.is_empty() {
                return Err(invalid(s, NameProblem::EmptyPath));
            }
            if let Some(n) = sel.strip_prefix('@') {
                let n = n
                    .parse::<usize>()
                    .map_err(|_| invalid(s, NameProblem::BadArchiveIndex))?;
                (path, Some(ArchiveSelector::Index(n)))
            } else {
                let r: Reference = sel
                    .parse()
                    .map_err(|e| invalid(s, NameProblem::BadReference(Box::new(e))))?;
                if r.digest().is_some() {
                    return Err(invalid(s, NameProblem::DigestNotAllowed));
                }
                (path, Some(ArchiveSelector::Tag(r.tag_or_latest())))
            }
        }
    };
    Ok(ImageName::DockerArchive {
        path: PathBuf::from(path),
        selector,
    })
}

fn path_and_ref(s: &str, rest: &str) -> Result<(PathBuf, Option<String>), Error> {
    let (path, reference) = match rest.split_once(':') {
        None => (rest, None),
        Some((path, r)) => {
            if r.is_empty()
                || !r
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-:/@+".contains(&b))
            {
                return Err(invalid(s, NameProblem::BadRefName));
            }
            (path, Some(r.to_owned()))
        }
    };
    if path.is_empty() {
        return Err(invalid(s, NameProblem::EmptyPath));
    }
    Ok((PathBuf::from(path), reference))
}

fn parse_docker(s: &str, rest: &str) -> Result<ImageName, Error> {
    if rest.is_empty() {
        return Err(invalid(s, NameProblem::EmptyReference));
    }
    let reference: Reference = rest
        .parse()
        .map_err(|e| invalid(s, NameProblem::BadReference(Box::new(e))))?;
    if reference.tag().is_some() && reference.digest().is_some() {
        return Err(invalid(s, NameProblem::TagAndDigest));
    }
    Ok(ImageName::Docker {
        reference: reference.tag_or_latest(),
    })
}

fn parse_daemon(s: &str, rest: &str) -> Result<ImageName, Error> {
    if rest.is_empty() {
        return Err(invalid(s, NameProblem::EmptyReference));
    }
    if rest.starts_with("sha256:") {
        let d: Digest = rest
            .parse()
            .map_err(|e| invalid(s, NameProblem::BadReference(Box::new(e))))?;
        return Ok(ImageName::DockerDaemon {
            image: DaemonImage::Id(d),
        });
    }
    let r: Reference = rest
        .parse()
        .map_err(|e| invalid(s, NameProblem::BadReference(Box::new(e))))?;
    if r.digest().is_some() {
        return Err(invalid(s, NameProblem::DigestNotAllowed));
    }
    Ok(ImageName::DockerDaemon {
        image: DaemonImage::Named(r.tag_or_latest()),
    })
}

/// The transport closest to `t` by edit distance (`docker:/x` → `docker://`), when close.
fn closest_transport(t: &str) -> Option<&'static str> {
    let t = t.to_ascii_lowercase();
    TRANSPORTS
        .iter()
        .map(|&full| {
            let bare = full.trim_end_matches('/').trim_end_matches(':');
            (edit_distance(&t, bare), full)
        })
        .filter(|&(d, full)| d <= full.len().div_ceil(2).max(2))
        .min_by_key(|&(d, _)| d)
        .map(|(_, full)| full)
}

/// Levenshtein distance, on bytes (transport names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageName::DockerArchive { path, selector } => {
                write!(f, "docker-archive:{}", path.display())?;
                match selector {
                    Some(ArchiveSelector::Tag(r)) => write!(f, ":{}", r.familiar()),
                    Some(ArchiveSelector::Index(n)) => write!(f, ":@{n}"),
                    None => Ok(()),
                }
            }
            ImageName::Oci { dir, reference } => {
                write!(f, "oci:{}", dir.display())?;
                match reference {
                    Some(r) => write!(f, ":{r}"),
                    None => Ok(()),
                }
            }
            ImageName::OciArchive { path, reference } => {
                write!(f, "oci-archive:{}", path.display())?;
                match reference {
                    Some(r) => write!(f, ":{r}"),
                    None => Ok(()),
                }
            }
            ImageName::Dir { path } => write!(f, "dir:{}", path.display()),
            ImageName::Docker { reference } => write!(f, "docker://{reference}"),
            ImageName::DockerDaemon { image } => match image {
                // `sha256:TAG` would read back as an image ID: the full name then.
                DaemonImage::Named(r) if r.familiar().starts_with("sha256:") => {
                    write!(f, "docker-daemon:{r}")
                }
                DaemonImage::Named(r) => write!(f, "docker-daemon:{}", r.familiar()),
                DaemonImage::Id(d) => write!(f, "docker-daemon:{d}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_daemon_image_named_sha256_prints_as_a_name() {
        // Found by the image_name fuzz target.
        let n: ImageName = "docker-daemon:sha256".parse().unwrap();
        let printed = n.to_string();
        assert_eq!(printed, "docker-daemon:docker.io/library/sha256:latest");
        assert_eq!(printed.parse::<ImageName>().unwrap(), n);
    }

    #[test]
    fn distance() {
        assert_eq!(edit_distance("docker", "docker"), 0);
        assert_eq!(edit_distance("oci-achive", "oci-archive"), 1);
        assert_eq!(closest_transport("docker"), Some("docker://"));
        assert_eq!(closest_transport("oci-achive"), Some("oci-archive:"));
        assert_eq!(closest_transport("dokcer-archive"), Some("docker-archive:"));
        assert_eq!(closest_transport("containers-storage"), None);
    }
}
