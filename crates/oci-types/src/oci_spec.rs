//! Conversions to and from the `oci-spec` crate's image types (feature `oci-spec`).
//!
//! | this crate | `oci_spec::image` | to `oci-spec` | from `oci-spec` |
//! |---|---|---|---|
//! | [`Descriptor`] | `Descriptor` | `TryFrom` | `TryFrom` |
//! | [`Platform`] | `Platform` | `From` | `From` |
//! | [`Manifest`] | `ImageManifest` | `TryFrom` | `TryFrom` |
//! | [`Index`] | `ImageIndex` | `TryFrom` | `TryFrom` |
//! | [`ConfigFile`] | `ImageConfiguration` | `From` | `TryFrom` |
//!
//! The conversions copy field by field rather than through JSON, because `oci-spec` 0.8
//! serialises a platform's `os.version` and `os.features` under the names `os_version` and
//! `os_features`, so a trip through JSON would drop them. What does not survive:
//!
//! * Going into `oci-spec`: every unknown field this crate keeps in an `extra` map; the
//!   config fields `oci-spec` has no place for (`ArgsEscaped`, `Healthcheck`, `OnBuild`,
//!   `Shell`); the values of `ExposedPorts` and `Volumes` entries (`oci-spec` keeps only the
//!   keys, and they come back as `{}`).
//! * Coming back: `oci-spec` distinguishes an absent list or map from an empty one (`urls`,
//!   `annotations`, `features`) and `empty_layer: false` from an absent one; this crate
//!   does not, so both come back as absent.
//! * Digests: `oci-spec` checks the length of `sha384` digests, which this crate treats as
//!   an unknown algorithm; such a digest converts one way only (the `TryFrom` fails).
//!   Digests longer than [`crate::limits`] allows fail the other way.
//!
//! Documents coming from `oci-spec` get the checks of [`Document::check`] (schemaVersion 2,
//! a fitting `mediaType`), as parsed ones do.

use std::collections::{BTreeMap, HashMap};

use oci_spec::image as spec;

use crate::raw::Document;
use crate::{
    ConfigFile, ContainerConfig, Descriptor, Digest, Error, Extra, History, Index, Manifest,
    MediaType, Platform, RootFs,
};

fn invalid(what: &'static str, message: String) -> Error {
    Error::Invalid {
        what,
        kind: crate::InvalidKind::OciSpec(message),
    }
}

fn media_type_to_spec(m: &MediaType) -> spec::MediaType {
    spec::MediaType::from(m.as_str())
}

fn media_type_from_spec(m: &spec::MediaType) -> MediaType {
    MediaType::from(m.as_ref())
}

fn digest_to_spec(d: &Digest) -> Result<spec::Digest, Error> {
    d.as_str().parse().map_err(|e: oci_spec::OciSpecError| {
        invalid(
            "descriptor",
            format!("oci-spec does not accept digest {d}: {e}"),
        )
    })
}

fn digest_from_spec(d: &spec::Digest) -> Result<Digest, Error> {
    d.to_string().parse()
}

/// `oci-spec` parses `armbe` as `arm64be`; keep the name as written.
fn arch_to_spec(arch: &str) -> spec::Arch {
    match arch {
        "armbe" => spec::Arch::ARMbe,
        other => spec::Arch::from(other),
    }
}

fn none_if_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    if v.is_empty() {
        None
    } else {
        Some(v)
    }
}

fn annotations_to_spec(a: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    if a.is_empty() {
        None
    } else {
        Some(a.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }
}

fn annotations_from_spec(a: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    a.map(|a| a.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Copies os, architecture, variant, `os.version`, `os.features` and `features`; unknown
/// fields (`extra`) are lost.
impl From<&Platform> for spec::Platform {
    fn from(p: &Platform) -> Self {
        let mut out = spec::Platform::default();
        out.set_architecture(arch_to_spec(&p.architecture))
            .set_os(spec::Os::from(p.os.as_str()))
            .set_os_version(p.os_version.clone())
            .set_os_features(none_if_empty(p.os_features.clone()))
            .set_variant(p.variant.clone())
            .set_features(none_if_empty(p.features.clone()));
        out
    }
}

/// Copies every field; an empty `os.features` or `features` list becomes an absent one.
impl From<&spec::Platform> for Platform {
    fn from(p: &spec::Platform) -> Self {
        Platform {
            architecture: p.architecture().to_string(),
            os: p.os().to_string(),
            os_version: p.os_version().clone(),
            os_features: p.os_features().clone().unwrap_or_default(),
            variant: p.variant().clone(),
            features: p.features().clone().unwrap_or_default(),
            extra: Extra::new(),
        }
    }
}

/// Fails only for a digest `oci-spec` refuses (a `sha384` digest of the wrong length).
/// Unknown fields (`extra`) are lost.
impl TryFrom<&Descriptor> for spec::Descriptor {
    type Error = Error;
    fn try_from(d: &Descriptor) -> Result<Self, Error> {
        let mut out = spec::Descriptor::new(
            media_type_to_spec(&d.media_type),
            d.size,
            digest_to_spec(&d.digest)?,
        );
        out.set_urls(none_if_empty(d.urls.clone()))
            .set_annotations(annotations_to_spec(&d.annotations))
            .set_platform(d.platform.as_ref().map(spec::Platform::from))
            .set_artifact_type(d.artifact_type.as_ref().map(media_type_to_spec))
            .set_data(d.data.clone());
        Ok(out)
    }
}

/// Fails only for a digest this crate refuses (longer than the digest length limit).
impl TryFrom<&spec::Descriptor> for Descriptor {
    type Error = Error;
    fn try_from(d: &spec::Descriptor) -> Result<Self, Error> {
        Ok(Descriptor {
            media_type: media_type_from_spec(d.media_type()),
            digest: digest_from_spec(d.digest())?,
            size: d.size(),
            urls: d.urls().clone().unwrap_or_default(),
            annotations: annotations_from_spec(d.annotations().as_ref()),
            platform: d.platform().as_ref().map(Platform::from),
            artifact_type: d.artifact_type().as_ref().map(media_type_from_spec),
            data: d.data().clone(),
            extra: Extra::new(),
        })
    }
}

fn descriptors_to_spec(ds: &[Descriptor]) -> Result<Vec<spec::Descriptor>, Error> {
    ds.iter().map(spec::Descriptor::try_from).collect()
}

fn descriptors_from_spec(ds: &[spec::Descriptor]) -> Result<Vec<Descriptor>, Error> {
    ds.iter().map(Descriptor::try_from).collect()
}

/// Fails when a descriptor's digest does not convert. Unknown fields are lost.
impl TryFrom<&Manifest> for spec::ImageManifest {
    type Error = Error;
    fn try_from(m: &Manifest) -> Result<Self, Error> {
        let mut out = spec::ImageManifestBuilder::default()
            .schema_version(m.schema_version)
            .config(spec::Descriptor::try_from(&m.config)?)
            .layers(descriptors_to_spec(&m.layers)?)
            .build()
            .map_err(|e| invalid("manifest", format!("oci-spec builder: {e}")))?;
        out.set_media_type(m.media_type.as_ref().map(media_type_to_spec))
            .set_artifact_type(m.artifact_type.as_ref().map(media_type_to_spec))
            .set_subject(
                m.subject
                    .as_ref()
                    .map(spec::Descriptor::try_from)
                    .transpose()?,
            )
            .set_annotations(annotations_to_spec(&m.annotations));
        Ok(out)
    }
}

/// Fails when a digest does not convert or the manifest breaks [`Document::check`].
impl TryFrom<&spec::ImageManifest> for Manifest {
    type Error = Error;
    fn try_from(m: &spec::ImageManifest) -> Result<Self, Error> {
        let out = Manifest {
            schema_version: m.schema_version(),
            media_type: m.media_type().as_ref().map(media_type_from_spec),
            artifact_type: m.artifact_type().as_ref().map(media_type_from_spec),
            config: Descriptor::try_from(m.config())?,
            layers: descriptors_from_spec(m.layers())?,
            subject: m.subject().as_ref().map(Descriptor::try_from).transpose()?,
            annotations: annotations_from_spec(m.annotations().as_ref()),
            extra: Extra::new(),
        };
        out.check()?;
        Ok(out)
    }
}

/// Fails when a descriptor's digest does not convert. Unknown fields are lost.
impl TryFrom<&Index> for spec::ImageIndex {
    type Error = Error;
    fn try_from(i: &Index) -> Result<Self, Error> {
        let mut out = spec::ImageIndex::default();
        out.set_schema_version(i.schema_version)
            .set_media_type(i.media_type.as_ref().map(media_type_to_spec))
            .set_artifact_type(i.artifact_type.as_ref().map(media_type_to_spec))
            .set_manifests(descriptors_to_spec(&i.manifests)?)
            .set_subject(
                i.subject
                    .as_ref()
                    .map(spec::Descriptor::try_from)
                    .transpose()?,
            )
            .set_annotations(annotations_to_spec(&i.annotations));
        Ok(out)
    }
}

/// Fails when a digest does not convert or the index breaks [`Document::check`].
impl TryFrom<&spec::ImageIndex> for Index {
    type Error = Error;
    fn try_from(i: &spec::ImageIndex) -> Result<Self, Error> {
        let out = Index {
            schema_version: i.schema_version(),
            media_type: i.media_type().as_ref().map(media_type_from_spec),
            artifact_type: i.artifact_type().as_ref().map(media_type_from_spec),
            manifests: descriptors_from_spec(i.manifests())?,
            subject: i.subject().as_ref().map(Descriptor::try_from).transpose()?,
            annotations: annotations_from_spec(i.annotations().as_ref()),
            extra: Extra::new(),
        };
        out.check()?;
        Ok(out)
    }
}

fn container_config_to_spec(c: &ContainerConfig) -> spec::Config {
    let keys = |m: &Option<BTreeMap<String, serde_json::Value>>| {
        m.as_ref().map(|m| m.keys().cloned().collect::<Vec<_>>())
    };
    let mut out = spec::Config::default();
    out.set_user(c.user.clone())
        .set_exposed_ports(keys(&c.exposed_ports))
        .set_env(c.env.clone())
        .set_entrypoint(c.entrypoint.clone())
        .set_cmd(c.cmd.clone())
        .set_volumes(keys(&c.volumes))
        .set_working_dir(c.working_dir.clone())
        .set_labels(
            c.labels
                .as_ref()
                .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        )
        .set_stop_signal(c.stop_signal.clone());
    out
}

fn container_config_from_spec(c: &spec::Config) -> ContainerConfig {
    let map = |keys: &Option<Vec<String>>| {
        keys.as_ref().map(|keys| {
            keys.iter()
                .map(|k| (k.clone(), serde_json::Value::Object(Extra::new())))
                .collect()
        })
    };
    ContainerConfig {
        user: c.user().clone(),
        exposed_ports: map(c.exposed_ports()),
        env: c.env().clone(),
        entrypoint: c.entrypoint().clone(),
        cmd: c.cmd().clone(),
        volumes: map(c.volumes()),
        working_dir: c.working_dir().clone(),
        labels: c
            .labels()
            .as_ref()
            .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        stop_signal: c.stop_signal().clone(),
        ..ContainerConfig::default()
    }
}

/// Infallible. Lost: unknown fields, `ArgsEscaped`, `Healthcheck`, `OnBuild`, `Shell`, and
/// the values of `ExposedPorts`/`Volumes` entries.
impl From<&ConfigFile> for spec::ImageConfiguration {
    fn from(c: &ConfigFile) -> Self {
        let mut rootfs = spec::RootFs::default();
        rootfs
            .set_typ(c.rootfs.fs_type.clone())
            .set_diff_ids(c.rootfs.diff_ids.iter().map(|d| d.to_string()).collect());
        let history = c.history.as_ref().map(|h| {
            h.iter()
                .map(|h| {
                    let mut out = spec::History::default();
                    out.set_created(h.created.clone())
                        .set_author(h.author.clone())
                        .set_created_by(h.created_by.clone())
                        .set_comment(h.comment.clone())
                        .set_empty_layer(h.empty_layer.then_some(true));
                    out
                })
                .collect()
        });
        let mut out = spec::ImageConfiguration::default();
        out.set_created(c.created.clone())
            .set_author(c.author.clone())
            .set_architecture(arch_to_spec(&c.architecture))
            .set_os(spec::Os::from(c.os.as_str()))
            .set_os_version(c.os_version.clone())
            .set_os_features(c.os_features.clone())
            .set_variant(c.variant.clone())
            .set_config(c.config.as_ref().map(container_config_to_spec))
            .set_rootfs(rootfs)
            .set_history(history);
        out
    }
}

/// Fails when a `diff_ids` entry is not a valid digest.
impl TryFrom<&spec::ImageConfiguration> for ConfigFile {
    type Error = Error;
    fn try_from(c: &spec::ImageConfiguration) -> Result<Self, Error> {
        let rootfs = RootFs {
            fs_type: c.rootfs().typ().clone(),
            diff_ids: c
                .rootfs()
                .diff_ids()
                .iter()
                .map(|d| d.parse())
                .collect::<Result<_, _>>()?,
            extra: Extra::new(),
        };
        let history = c.history().as_ref().map(|h| {
            h.iter()
                .map(|h| History {
                    created: h.created().clone(),
                    created_by: h.created_by().clone(),
                    author: h.author().clone(),
                    comment: h.comment().clone(),
                    empty_layer: h.empty_layer().unwrap_or(false),
                    extra: Extra::new(),
                })
                .collect()
        });
        Ok(ConfigFile {
            architecture: c.architecture().to_string(),
            os: c.os().to_string(),
            variant: c.variant().clone(),
            os_version: c.os_version().clone(),
            os_features: c.os_features().clone(),
            created: c.created().clone(),
            author: c.author().clone(),
            config: c.config().as_ref().map(container_config_from_spec),
            rootfs,
            history,
            extra: Extra::new(),
        })
    }
}
