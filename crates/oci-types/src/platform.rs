//! Platforms (`os/arch[/variant]`), their normalisation and matching.
#![warn(clippy::indexing_slicing)] // parser of outside input: every index is checked

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::clip;
use crate::limits::MAX_PLATFORM_LEN;
use crate::{Error, Extra};

/// The platform an image runs on, as in an index entry or an image config.
///
/// [`FromStr`] takes `os/arch[/variant]`; [`Platform::normalize`] applies containerd's
/// normalisation (`x86_64` = `amd64`, `aarch64` = `arm64`, `armhf` = `arm/v7`, ...) with the
/// default variants `v8` for `arm64` and `v7` for `arm`; [`Platform::matches`] compares
/// normalised platforms, and [`Platform::can_run`] also accepts older variants of the same
/// architecture (an `arm/v7` host runs `arm/v6` images), in the manner of containerd's
/// `platforms.Only`.
///
/// ```
/// use oci_types::Platform;
/// let p: Platform = "linux/aarch64".parse().unwrap();
/// assert_eq!(p.normalize().to_string(), "linux/arm64/v8");
/// assert!(p.matches(&"linux/arm64/v8".parse().unwrap()));
/// assert!(!p.matches(&"linux/amd64".parse().unwrap()));
/// let host: Platform = "linux/arm/v7".parse().unwrap();
/// assert!(host.can_run(&"linux/arm/v6".parse().unwrap()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Platform {
    /// CPU architecture (`amd64`, `arm64`, ...).
    pub architecture: String,
    /// Operating system (`linux`, `windows`, ...).
    pub os: String,
    /// OS version (Windows builds).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required OS features.
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    /// CPU variant (`v7`, `v8`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// CPU features (Docker manifest lists only; reserved in OCI).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// Fields this crate does not know, kept for round trips.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Platform {
    /// A platform from os and architecture, without variant.
    pub fn new(os: impl Into<String>, architecture: impl Into<String>) -> Platform {
        Platform {
            os: os.into(),
            architecture: architecture.into(),
            ..Platform::default()
        }
    }

    /// The same platform with `variant` set.
    pub fn with_variant(mut self, variant: impl Into<String>) -> Platform {
        self.variant = Some(variant.into());
        self
    }

    /// The normalised form: lower case, canonical architecture names and default variants.
    pub fn normalize(&self) -> Platform {
        let mut p = self.clone();
        p.os = p.os.to_ascii_lowercase();
        if p.os == "macos" {
            p.os = "darwin".into();
        }
        let arch = p.architecture.to_ascii_lowercase();
        let variant = p
            .variant
            .take()
            .map(|v| v.to_ascii_lowercase())
            .filter(|v| !v.is_empty());
        let (arch, variant) = match arch.as_str() {
            "i386" => ("386".to_owned(), variant),
            "x86_64" | "x86-64" | "amd64" => {
                let v = variant.filter(|v| v != "v1");
                ("amd64".to_owned(), v)
            }
            "aarch64" | "arm64" => {
                let v = match variant.as_deref() {
                    None | Some("8" | "v8" | "v8.0") => Some("v8".to_owned()),
                    _ => variant,
                };
                ("arm64".to_owned(), v)
            }
            "armhf" => ("arm".to_owned(), Some("v7".to_owned())),
            "armel" => ("arm".to_owned(), Some("v6".to_owned())),
            "arm" => {
                let v = match variant.as_deref() {
                    None | Some("7") => Some("v7".to_owned()),
                    Some(n @ ("5" | "6" | "8")) => Some(format!("v{n}")),
                    _ => variant,
                };
                ("arm".to_owned(), v)
            }
            _ => (arch, variant),
        };
        p.architecture = arch;
        p.variant = variant;
        p
    }

    /// True when both platforms are the same once normalised (os, architecture, variant;
    /// `os.version` too when both give one).
    pub fn matches(&self, other: &Platform) -> bool {
        let (a, b) = (self.normalize(), other.normalize());
        let version_ok = match (&a.os_version, &b.os_version) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        };
        a.os == b.os && a.architecture == b.architecture && a.variant == b.variant && version_ok
    }

    /// True when a host of platform `self` can run an image of platform `image`: an exact
    /// match, or an older variant of the same architecture (`arm/v7` runs `arm/v6` and
    /// `arm/v5`; `arm64/v8` runs `arm/v8` down to `arm/v5`; `amd64/v3` runs `amd64/v2`).
    pub fn can_run(&self, image: &Platform) -> bool {
        if self.matches(image) {
            return true;
        }
        let (host, img) = (self.normalize(), image.normalize());
        if host.os != img.os {
            return false;
        }
        let level =
            |v: &Option<String>| -> Option<u32> { v.as_deref()?.strip_prefix('v')?.parse().ok() };
        match (host.architecture.as_str(), img.architecture.as_str()) {
            ("arm", "arm") => {
                matches!((level(&host.variant), level(&img.variant)), (Some(h), Some(i)) if i <= h)
            }
            ("arm64", "arm") => matches!(level(&img.variant), Some(i) if i <= 8),
            ("amd64", "amd64") => {
                let h = level(&host.variant).unwrap_or(1);
                let i = level(&img.variant).unwrap_or(1);
                i <= h
            }
            _ => false,
        }
    }
}

fn invalid(s: &str, reason: &'static str) -> Error {
    Error::InvalidPlatform {
        input: clip(s),
        reason,
    }
}

impl FromStr for Platform {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > MAX_PLATFORM_LEN {
            return Err(invalid(s, "too long"));
        }
        let parts: Vec<&str> = s.split('/').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(invalid(s, "expected os/arch[/variant]"));
        }
        for part in &parts {
            if part.is_empty() {
                return Err(invalid(s, "empty component"));
            }
            if !part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            {
                return Err(invalid(s, "components must be [A-Za-z0-9_.-]+"));
            }
        }
        let [os, architecture, ..] = parts.as_slice() else {
            return Err(invalid(s, "expected os/arch[/variant]"));
        };
        let mut p = Platform::new(*os, *architecture);
        p.variant = parts.get(2).map(|v| (*v).to_owned());
        Ok(p)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)] // tests index what they just asserted
    use super::*;

    #[track_caller]
    fn norm(input: &str, expected: &str) {
        let p: Platform = input.parse().unwrap();
        assert_eq!(p.normalize().to_string(), expected, "{input}");
    }

    #[test]
    fn normalisation() {
        norm("linux/x86_64", "linux/amd64");
        norm("linux/amd64/v1", "linux/amd64");
        norm("linux/amd64/v3", "linux/amd64/v3");
        norm("linux/aarch64", "linux/arm64/v8");
        norm("linux/arm64/8", "linux/arm64/v8");
        norm("linux/arm", "linux/arm/v7");
        norm("linux/armhf", "linux/arm/v7");
        norm("linux/armel", "linux/arm/v6");
        norm("linux/arm/6", "linux/arm/v6");
        norm("Linux/i386", "linux/386");
        norm("macos/arm64", "darwin/arm64/v8");
        norm("linux/riscv64", "linux/riscv64");
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "",
            "linux",
            "linux/",
            "/amd64",
            "linux/amd64/v8/x",
            "linux/am d64",
            "a//b",
        ] {
            assert!(bad.parse::<Platform>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn matching() {
        let p = |s: &str| s.parse::<Platform>().unwrap();
        assert!(p("linux/arm64").matches(&p("linux/arm64/v8")));
        assert!(!p("linux/arm/v7").matches(&p("linux/arm/v6")));
        assert!(p("linux/arm/v7").can_run(&p("linux/arm/v6")));
        assert!(!p("linux/arm/v6").can_run(&p("linux/arm/v7")));
        assert!(p("linux/arm64").can_run(&p("linux/arm/v7")));
        assert!(p("linux/amd64/v3").can_run(&p("linux/amd64")));
        assert!(!p("linux/amd64").can_run(&p("linux/amd64/v2")));
        assert!(!p("windows/amd64").can_run(&p("linux/amd64")));
    }
}
