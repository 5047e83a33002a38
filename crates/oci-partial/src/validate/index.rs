//! The checks of an index and of each entry against the child it names.

use super::*;

impl Validator {
    pub(super) fn index(&mut self, index: &dyn ImageIndex, depth: usize) -> Option<Facts> {
        let loc = Location::Index;
        let media_type = self.claim(loc.clone(), Check::MediaType, index.media_type());
        let raw = self.claim(loc.clone(), Check::Read, index.raw_manifest())?;
        let claims = RawClaims {
            owner: Owner::Index,
            digest: index.digest(),
            size: index.size(),
            descriptor: index.descriptor(),
            media_type: media_type.as_ref(),
        };
        self.raw_claims(loc.clone(), &raw, claims);
        let facts = Facts {
            raw: raw.clone(),
            media_type: media_type.clone(),
            platform: None,
        };
        let parsed = match Index::from_slice(&raw) {
            Ok(p) => p,
            Err(e) => {
                self.invalid(loc, Check::Parse, e);
                return Some(facts);
            }
        };
        if let Some(m) = self.claim(loc.clone(), Check::Content, index.index_manifest()) {
            if m != parsed {
                self.invalid(
                    loc.clone(),
                    Check::Content,
                    "ImageIndex::index_manifest() differs from the parse of the raw index",
                );
            }
        }
        if let Some(mt) = &media_type {
            self.compare(
                loc.clone(),
                Check::MediaType,
                &parsed.media_type(),
                ValueSource::RawIndex,
                mt,
                ValueSource::IndexMediaType,
            );
        }
        if depth >= MAX_NESTING {
            self.invalid(
                loc,
                Check::Nesting,
                format!("indexes nest deeper than {MAX_NESTING} levels; not descending"),
            );
            return Some(facts);
        }
        for (i, desc) in parsed.manifests.iter().enumerate() {
            self.entry(index, i, desc, depth);
        }
        Some(facts)
    }

    pub(super) fn entry(
        &mut self,
        index: &dyn ImageIndex,
        i: usize,
        desc: &Descriptor,
        depth: usize,
    ) {
        let here = Location::Entry {
            index: i,
            digest: desc.digest.clone(),
        };
        let mt = &desc.media_type;
        let child = if mt.is_index() {
            match index.image_index(&desc.digest) {
                Ok(child) => {
                    self.at.push(here.clone());
                    let facts = self.index(child.as_ref(), depth + 1);
                    self.at.pop();
                    facts
                }
                Err(e) => return self.invalid(here, Check::Open, e),
            }
        } else if mt.is_image_manifest() {
            match index.image(&desc.digest) {
                Ok(child) => {
                    self.at.push(here.clone());
                    let facts = self.image(child.as_ref(), desc.artifact_type.is_some());
                    self.at.pop();
                    facts
                }
                Err(e) => return self.invalid(here, Check::Open, e),
            }
        } else {
            return;
        };
        let Some(facts) = child else { return };
        let actual_digest = hash(Some(&desc.digest), &facts.raw);
        self.compare(
            here.clone(),
            Check::Digest,
            &desc.digest,
            ValueSource::IndexEntry,
            &actual_digest,
            ValueSource::ChildManifest,
        );
        self.compare(
            here.clone(),
            Check::Size,
            &desc.size,
            ValueSource::IndexEntry,
            &(facts.raw.len() as u64),
            ValueSource::ChildManifest,
        );
        if let Some(child_mt) = &facts.media_type {
            self.compare(
                here.clone(),
                Check::MediaType,
                mt,
                ValueSource::IndexEntry,
                child_mt,
                ValueSource::ChildMediaType,
            );
        }
        if let (Some(want), Some(got)) = (&desc.platform, &facts.platform) {
            if !want.matches(got) {
                self.compare(
                    here,
                    Check::Platform,
                    want,
                    ValueSource::IndexEntry,
                    got,
                    ValueSource::ChildConfig,
                );
            }
        }
    }
}
