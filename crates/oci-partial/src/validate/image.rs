//! The checks of an image: its manifest, config and the counts that tie them together.

use super::layer::Measured;
use super::*;

impl Validator {
    pub(super) fn image(&mut self, image: &dyn Image, described_artifact: bool) -> Option<Facts> {
        // Layers first: a streaming layer only knows its digest once read, and the manifest
        // and config of an image with such layers only exist after that.
        let layers = self.claim(Location::Manifest, Check::Layers, image.layers());
        let measured: Vec<Option<Measured>> = match (&layers, self.opts.fast) {
            (Some(layers), false) => layers
                .iter()
                .enumerate()
                .map(|(i, l)| self.measure_layer(i, l.as_ref()))
                .collect(),
            _ => Vec::new(),
        };

        let media_type = self.claim(Location::Manifest, Check::MediaType, image.media_type());
        let raw = self.claim(Location::Manifest, Check::Read, image.raw_manifest())?;
        let claims = RawClaims {
            owner: Owner::Image,
            digest: image.digest(),
            size: image.size(),
            descriptor: image.descriptor(),
            media_type: media_type.as_ref(),
        };
        self.raw_claims(Location::Manifest, &raw, claims);
        let facts = |platform| Facts {
            raw: raw.clone(),
            media_type: media_type.clone(),
            platform,
        };
        let manifest = match Manifest::from_slice(&raw) {
            Ok(m) => m,
            Err(e) => {
                self.invalid(Location::Manifest, Check::Parse, e);
                return Some(facts(None));
            }
        };
        if let Some(m) = self.claim(Location::Manifest, Check::Content, image.manifest()) {
            if m != manifest {
                let fields = manifest_differences(&manifest, &m);
                self.invalid(
                    Location::Manifest,
                    Check::Content,
                    format!(
                        "Image::manifest() differs from the parse of the raw manifest in: {fields}"
                    ),
                );
            }
        }
        if let Some(mt) = &media_type {
            self.compare(
                Location::Manifest,
                Check::MediaType,
                &manifest.media_type(),
                ValueSource::RawManifest,
                mt,
                ValueSource::ImageMediaType,
            );
        }
        let artifact = described_artifact
            || manifest.artifact_type.is_some()
            || !manifest.config.media_type.is_config();

        let config = self.config(image, &manifest, artifact);
        if let Some(layers) = &layers {
            self.layers(
                image,
                layers,
                &measured,
                &manifest,
                config.as_ref(),
                artifact,
            );
        }
        let platform = if artifact {
            None
        } else {
            config.map(|c| c.platform())
        };
        Some(facts(platform))
    }

    pub(super) fn config(
        &mut self,
        image: &dyn Image,
        manifest: &Manifest,
        artifact: bool,
    ) -> Option<ConfigFile> {
        let loc = Location::Config;
        let raw = self.claim(loc.clone(), Check::Read, image.raw_config_file())?;
        let claimed = &manifest.config.digest;
        let actual = hash(Some(claimed), &raw);
        self.compare(
            loc.clone(),
            Check::Digest,
            claimed,
            ValueSource::Manifest,
            &actual,
            ValueSource::RawConfig,
        );
        self.compare(
            loc.clone(),
            Check::Size,
            &manifest.config.size,
            ValueSource::Manifest,
            &(raw.len() as u64),
            ValueSource::RawConfig,
        );
        if let Some(name) = self.claim(loc.clone(), Check::Digest, image.config_name()) {
            let actual = if name.algorithm() == actual.algorithm() {
                actual.clone()
            } else {
                hash(Some(&name), &raw)
            };
            self.compare(
                loc.clone(),
                Check::Digest,
                &name,
                ValueSource::ImageConfigName,
                &actual,
                ValueSource::RawConfig,
            );
        }
        if artifact {
            return None;
        }
        let config = match ConfigFile::from_slice(&raw) {
            Ok(c) => c,
            Err(e) => {
                self.invalid(loc, Check::Parse, e);
                return None;
            }
        };
        if let Some(c) = self.claim(loc.clone(), Check::Content, image.config_file()) {
            if c != config {
                self.invalid(
                    loc.clone(),
                    Check::Content,
                    "Image::config_file() differs from the parse of the raw config",
                );
            }
        }
        self.compare(
            loc,
            Check::RootfsType,
            &"layers",
            ValueSource::ImageSpec,
            &config.rootfs.fs_type.as_str(),
            ValueSource::Config,
        );
        Some(config)
    }
}
