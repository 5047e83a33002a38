//! Repository tags: `name:tag` strings as `manifest.json` and `repositories` hold them.

use oci_types::Reference;

use crate::path::clip;
use crate::{Error, InvalidTagKind, Result};

/// A fully qualified repository name and a tag (`docker.io/library/busybox`, `latest`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct NameTag {
    pub(crate) name: String,
    pub(crate) tag: String,
}

impl NameTag {
    /// The tag of `reference`: its fully qualified name and its tag, `latest` when it has none.
    /// A reference with a digest cannot name an image in a docker archive and is refused.
    pub(crate) fn from_reference(reference: &Reference) -> Result<NameTag> {
        if reference.digest().is_some() {
            return Err(Error::InvalidTag {
                tag: clip(&reference.to_string()),
                kind: InvalidTagKind::DigestReference,
            });
        }
        Ok(NameTag {
            name: reference.name(),
            tag: reference.tag().unwrap_or("latest").to_owned(),
        })
    }

    /// Parses a `RepoTags` string (docker's short forms allowed) into its normalised form.
    pub(crate) fn parse(tag: &str) -> Result<NameTag> {
        let reference: Reference =
            tag.parse()
                .map_err(|e: oci_types::Error| Error::InvalidTag {
                    tag: clip(tag),
                    kind: InvalidTagKind::Reference(Box::new(e)),
                })?;
        NameTag::from_reference(&reference)
    }

    /// `name:tag`, as written into `manifest.json`.
    pub(crate) fn repo_tag(&self) -> String {
        format!("{}:{}", self.name, self.tag)
    }
}
