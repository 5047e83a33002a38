//! Referrers (OCI distribution 1.1): `GET /v2/NAME/referrers/DIGEST`, and for registries
//! without that API the tag schema fallback: an index tagged `ALG-ENCODED` that clients keep
//! up to date when they push a manifest with a `subject`.

use oci_types::{Descriptor, Digest, Index, MediaType};
use serde::Deserialize;

use crate::error::{Error, ResponseKind, Result};
use crate::http::query_escape;
use crate::repository::Repository;

/// The fallback tag of a subject: `sha256-<hex>`, cut to 128 characters (a tag's limit).
pub fn referrers_tag(subject: &Digest) -> String {
    let tag = format!("{}-{}", subject.algorithm().as_str(), subject.encoded());
    tag.chars().take(128).collect()
}

impl Repository {
    /// The manifests that name `subject` as their subject, as an OCI index, filtered by
    /// `artifact_type` when given. Uses the referrers API, or the tag schema where the
    /// registry has no such API (it answers 404); no referrers gives an empty index.
    pub fn referrers(&self, subject: &Digest, artifact_type: Option<&str>) -> Result<Index> {
        let mut index = match self.referrers_api(subject, artifact_type)? {
            Some(index) => index,
            None => self.referrers_fallback(subject)?,
        };
        if let Some(wanted) = artifact_type {
            index
                .manifests
                .retain(|d| d.artifact_type.as_ref().map(|a| a.as_str()) == Some(wanted));
        }
        Ok(index)
    }

    /// The referrers API; `None` when the registry does not have it.
    fn referrers_api(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<Index>> {
        let mut url = self.path(&format!("referrers/{subject}"));
        if let Some(t) = artifact_type {
            url = format!("{url}?artifactType={}", query_escape(t));
        }
        let mut merged: Option<Index> = None;
        let scopes = self.pull_scope();
        let found = self.get_pages(
            url,
            Some(MediaType::OciIndex.as_str()),
            "referrers list",
            &scopes,
            |page_url, body| {
                let page = Index::from_slice(&body).map_err(|e| Error::InvalidResponse {
                    url: page_url.to_owned(),
                    kind: ResponseKind::Referrers(Box::new(e)),
                })?;
                match &mut merged {
                    Some(m) => m.manifests.extend(page.manifests),
                    None => merged = Some(page),
                }
                Ok(())
            },
        )?;
        Ok(if found { merged } else { None })
    }

    fn referrers_fallback(&self, subject: &Digest) -> Result<Index> {
        match self.manifest(&referrers_tag(subject)) {
            Ok(fetched) => Ok(Index::from_slice(&fetched.bytes)?),
            Err(Error::NotFound { .. }) => Ok(Index::new(MediaType::OciIndex)),
            Err(e) => Err(e),
        }
    }

    /// After a manifest with a `subject` was put to a registry that did not answer with
    /// `OCI-Subject` (it has no referrers API), adds the manifest to the subject's fallback
    /// index, as the spec asks clients to.
    pub(crate) fn update_referrers_fallback(
        &self,
        media_type: &MediaType,
        bytes: &[u8],
        digest: &Digest,
    ) -> Result<()> {
        let Some(probe) = SubjectProbe::parse(bytes) else {
            return Ok(());
        };
        let tag = referrers_tag(&probe.subject.digest);
        let mut index = self.referrers_fallback(&probe.subject.digest)?;
        if index.manifests.iter().any(|d| &d.digest == digest) {
            return Ok(());
        }
        let mut desc = Descriptor::new(media_type.clone(), digest.clone(), bytes.len() as u64);
        desc.artifact_type = probe
            .artifact_type
            .or(probe.config.map(|c| c.media_type))
            .map(MediaType::from);
        desc.annotations = probe.annotations.unwrap_or_default();
        index.manifests.push(desc);
        let raw = serde_json::to_vec(&index).map_err(|e| Error::InvalidResponse {
            url: tag.clone(),
            kind: ResponseKind::SerializeReferrers(e.to_string()),
        })?;
        self.put_manifest_only(&tag, &MediaType::OciIndex, &raw)?;
        Ok(())
    }
}

/// The fields of a manifest that its referrers entry needs.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubjectProbe {
    subject: Descriptor,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<ConfigProbe>,
    #[serde(default)]
    annotations: Option<oci_types::Annotations>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigProbe {
    media_type: String,
}

impl SubjectProbe {
    fn parse(bytes: &[u8]) -> Option<SubjectProbe> {
        serde_json::from_slice(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_tag() {
        let d = Digest::sha256(b"x");
        assert_eq!(referrers_tag(&d), format!("sha256-{}", d.encoded()));
    }
}
