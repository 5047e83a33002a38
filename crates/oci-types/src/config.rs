//! The image config (`application/vnd.oci.image.config.v1+json` and Docker's).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::limits::MAX_CONFIG_SIZE;
use crate::raw::Document;
use crate::{Digest, Error, Extra, Platform};

/// An image configuration. Fields are serialised in the order of the image spec's Go types (as
/// docker, skopeo and go-containerregistry write them), so a new config made here has the bytes
/// those tools would give it. Fields Docker writes as `null` parse as `None`; unknown fields
/// (Docker's `container_config`, `docker_version`, ...) are kept in `extra`.
///
/// ```
/// use oci_types::ConfigFile;
/// let c = ConfigFile::from_slice(br#"{"architecture":"amd64","os":"linux",
///   "config":{"Env":["A=1"],"Labels":null},
///   "rootfs":{"type":"layers","diff_ids":[]},"container_config":{}}"#).unwrap();
/// assert_eq!(c.platform().to_string(), "linux/amd64");
/// assert_eq!(c.config.as_ref().unwrap().env, Some(vec!["A=1".to_string()]));
/// assert!(c.extra.contains_key("container_config"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConfigFile {
    /// Creation time, RFC 3339, kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// CPU architecture.
    #[serde(default)]
    pub architecture: String,
    /// Operating system.
    #[serde(default)]
    pub os: String,
    /// OS version.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// OS features.
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    /// CPU variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The execution parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
    /// The layer content addresses.
    #[serde(default)]
    pub rootfs: RootFs,
    /// The history of each layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<History>>,
    /// Fields this crate does not know, kept for round trips.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The execution parameters of a container (the config's `config` object).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct ContainerConfig {
    /// User (and group) to run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Ports to expose (`"80/tcp": {}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    /// Environment, `KEY=value` strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    /// Entrypoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// Default arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// Volumes (`"/data": {}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    /// Working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// Signal that stops the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Windows: arguments are already escaped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_escaped: Option<bool>,
    /// Docker health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// Docker ONBUILD triggers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_build: Option<Vec<String>>,
    /// Docker shell for the shell form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
    /// Fields this crate does not know, kept for round trips.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Docker health check. Durations are in nanoseconds, as Docker writes them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Healthcheck {
    /// The test: `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", "..."]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Vec<String>>,
    /// Time between checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
    /// Time before a check is considered hung.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Start-up grace period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<i64>,
    /// Interval during the start period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<i64>,
    /// Failures before unhealthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
    /// Fields this crate does not know, kept for round trips.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The config's `rootfs`: the diff_ids of the layers, base first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub fs_type: String,
    /// The uncompressed digests of the layers.
    #[serde(default)]
    pub diff_ids: Vec<Digest>,
    /// Fields this crate does not know, kept for round trips.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Default for RootFs {
    fn default() -> Self {
        RootFs {
            fs_type: "layers".into(),
            diff_ids: Vec::new(),
            extra: Extra::new(),
        }
    }
}

/// One history entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct History {
    /// When the layer was created, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The command that made the layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// A comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// True when the entry made no layer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
    /// Fields this crate does not know, kept for round trips.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ConfigFile {
    /// Parses and checks a config (size and depth bounded).
    pub fn from_slice(bytes: &[u8]) -> Result<ConfigFile, Error> {
        crate::raw::parse_document(bytes)
    }

    /// The platform the config describes.
    pub fn platform(&self) -> Platform {
        let mut p = Platform::new(self.os.clone(), self.architecture.clone());
        p.variant = self.variant.clone();
        p.os_version = self.os_version.clone();
        p.os_features = self.os_features.clone().unwrap_or_default();
        p
    }
}

impl History {
    /// A history entry with `created_by` and `created`.
    pub fn new(created_by: impl Into<String>, created: Option<String>) -> History {
        History {
            created_by: Some(created_by.into()),
            created,
            ..History::default()
        }
    }
}

impl Document for ConfigFile {
    const KIND: &'static str = "config";
    const MAX_SIZE: u64 = MAX_CONFIG_SIZE;
}
