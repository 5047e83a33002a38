//! Image names in skopeo's transport syntax: `docker-archive:PATH[:NAME:TAG]`,
//! `oci:DIR[:REF]`, `docker://HOST/REPO[:TAG|@DIGEST]`, or a bare path recognised by what it
//! is.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use oci_types::Reference;

/// Where an image is read from or written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ImageName {
    /// A docker-archive tar, optionally naming one image in it (by tag or `@N` index).
    DockerArchive {
        path: PathBuf,
        selector: Option<ArchiveSelector>,
    },
    /// An OCI image layout directory, optionally naming one ref (`org.opencontainers.image.ref.name`).
    Oci {
        dir: PathBuf,
        reference: Option<String>,
    },
    /// An image (or index) in a registry: `docker://` and a reference with a tag (`latest`
    /// when none was given) or a digest.
    Docker { reference: Reference },
}

/// Which image of a docker archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArchiveSelector {
    /// By tag (`NAME:TAG`).
    Tag(Reference),
    /// By position in manifest.json (`@N`).
    Index(usize),
}

impl ImageName {
    /// Parses a source or destination name. A bare path is a docker archive when it is a file
    /// (or, for destinations, ends in `.tar`), and an OCI layout when it is a directory.
    pub(crate) fn parse(s: &str, for_output: bool) -> Result<ImageName> {
        if let Some(rest) = s.strip_prefix("docker-archive:") {
            return parse_archive(rest);
        }
        if let Some(rest) = s.strip_prefix("oci:") {
            return parse_oci(rest);
        }
        if let Some(rest) = s.strip_prefix("docker://") {
            return parse_docker(rest);
        }
        if s.starts_with("oci-archive:") || s.starts_with("containers-storage:") {
            let transport = s.split(':').next().unwrap_or(s);
            bail!(
                "transport {transport:?} is not supported yet (supported: docker-archive:, oci:, docker://)"
            );
        }
        let path = Path::new(s);
        if path.is_dir() {
            return Ok(ImageName::Oci {
                dir: path.to_owned(),
                reference: None,
            });
        }
        if path.is_file() || (for_output && !path.exists() && s.ends_with(".tar")) {
            return Ok(ImageName::DockerArchive {
                path: path.to_owned(),
                selector: None,
            });
        }
        if for_output && !path.exists() {
            // A new directory: an OCI layout.
            return Ok(ImageName::Oci {
                dir: path.to_owned(),
                reference: None,
            });
        }
        bail!("{s:?} is neither a docker archive file nor an OCI layout directory (use docker-archive:PATH or oci:DIR)")
    }
}

fn parse_archive(rest: &str) -> Result<ImageName> {
    if rest.is_empty() {
        bail!("docker-archive: needs a path");
    }
    // PATH[:NAME:TAG] or PATH:@N. Paths may contain ':' only if no reference follows, as skopeo.
    let (path, selector) = match rest.split_once(':') {
        None => (rest, None),
        Some((path, sel)) if sel.starts_with('@') => {
            let n: usize = sel[1..]
                .parse()
                .with_context(|| format!("bad image index {sel:?} in docker-archive:{rest}"))?;
            (path, Some(ArchiveSelector::Index(n)))
        }
        Some((path, sel)) => {
            let r: Reference = sel
                .parse()
                .with_context(|| format!("bad image name {sel:?} in docker-archive:{rest}"))?;
            if r.digest().is_some() {
                bail!("docker-archive: image name {sel:?} must not contain a digest");
            }
            (path, Some(ArchiveSelector::Tag(r.tag_or_latest())))
        }
    };
    Ok(ImageName::DockerArchive {
        path: PathBuf::from(path),
        selector,
    })
}

fn parse_docker(rest: &str) -> Result<ImageName> {
    if rest.is_empty() {
        bail!("docker:// needs a reference, HOST/REPO[:TAG|@DIGEST]");
    }
    let reference: Reference = rest
        .parse()
        .with_context(|| format!("bad reference in docker://{rest}"))?;
    if reference.tag().is_some() && reference.digest().is_some() {
        bail!("docker://{rest}: give a tag or a digest, not both");
    }
    Ok(ImageName::Docker {
        reference: reference.tag_or_latest(),
    })
}

impl ImageName {
    /// The reference of a `docker://` name.
    pub(crate) fn registry_reference(&self) -> Option<&Reference> {
        match self {
            ImageName::Docker { reference } => Some(reference),
            _ => None,
        }
    }
}

fn parse_oci(rest: &str) -> Result<ImageName> {
    if rest.is_empty() {
        bail!("oci: needs a directory");
    }
    let (dir, reference) = match rest.split_once(':') {
        None => (rest, None),
        Some((dir, r)) => {
            if r.is_empty()
                || !r
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-:/@+".contains(&b))
            {
                bail!("bad OCI reference {r:?} in oci:{rest}");
            }
            (dir, Some(r.to_owned()))
        }
    };
    Ok(ImageName::Oci {
        dir: PathBuf::from(dir),
        reference,
    })
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
                if let Some(r) = reference {
                    write!(f, ":{r}")?;
                }
                Ok(())
            }
            ImageName::Docker { reference } => write!(f, "docker://{reference}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports() {
        let a = ImageName::parse("docker-archive:/tmp/x.tar:example.com/a:1", false).unwrap();
        assert_eq!(a.to_string(), "docker-archive:/tmp/x.tar:example.com/a:1");
        let b = ImageName::parse("docker-archive:/tmp/x.tar:busybox", false).unwrap();
        assert_eq!(b.to_string(), "docker-archive:/tmp/x.tar:busybox:latest");
        let c = ImageName::parse("docker-archive:x.tar:@1", false).unwrap();
        assert!(matches!(
            c,
            ImageName::DockerArchive {
                selector: Some(ArchiveSelector::Index(1)),
                ..
            }
        ));
        let d = ImageName::parse("oci:/tmp/lay:v1.0", false).unwrap();
        assert_eq!(
            d,
            ImageName::Oci {
                dir: "/tmp/lay".into(),
                reference: Some("v1.0".into())
            }
        );
        assert!(ImageName::parse("docker-archive:x.tar:Bad/Name", false).is_err());
        assert!(ImageName::parse("docker-archive:x.tar:@x", false).is_err());
        let e = ImageName::parse("docker://127.0.0.1:5000/team/app", false).unwrap();
        assert_eq!(e.to_string(), "docker://127.0.0.1:5000/team/app:latest");
        let f = ImageName::parse("docker://busybox", true).unwrap();
        assert_eq!(f.to_string(), "docker://docker.io/library/busybox:latest");
        let digest = format!("sha256:{}", "a".repeat(64));
        let g = ImageName::parse(&format!("docker://localhost:5000/a@{digest}"), false).unwrap();
        let r = g.registry_reference().unwrap();
        assert_eq!(
            (r.tag(), r.digest().map(|d| d.to_string())),
            (None, Some(digest.clone()))
        );
        assert!(ImageName::parse(&format!("docker://h.io/a:1@{digest}"), false).is_err());
        assert!(ImageName::parse("docker://", false).is_err());
        assert!(ImageName::parse("docker://Bad/Name", false).is_err());
        assert!(ImageName::parse("oci-archive:x.tar", false).is_err());
        assert!(ImageName::parse("/nonexistent/thing", false).is_err());
        assert!(matches!(
            ImageName::parse("/nonexistent/out.tar", true),
            Ok(ImageName::DockerArchive { .. })
        ));
        assert!(matches!(
            ImageName::parse("/nonexistent/outdir", true),
            Ok(ImageName::Oci { .. })
        ));
    }
}
