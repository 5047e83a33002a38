//! Media types of the OCI image spec 1.1 and Docker schema2 (and schema1, recognised only).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The compression of a layer blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip (RFC 1952).
    Gzip,
    /// Zstandard (RFC 8878).
    Zstd,
}

macro_rules! media_types {
    ($( $(#[$doc:meta])* $variant:ident => $s:literal, )*) => {
        /// A media type. Every type of the OCI image spec 1.1 and Docker schema2 has a variant;
        /// anything else is kept verbatim in [`MediaType::Other`], so parsing never fails and
        /// `to_string` gives back the input exactly.
        ///
        /// ```
        /// use oci_types::{Compression, MediaType};
        /// let m: MediaType = "application/vnd.oci.image.layer.v1.tar+zstd".parse().unwrap();
        /// assert_eq!(m, MediaType::OciLayerZstd);
        /// assert!(m.is_layer() && m.is_distributable());
        /// assert_eq!(m.compression(), Some(Compression::Zstd));
        /// let other: MediaType = "text/plain".parse().unwrap();
        /// assert_eq!(other, MediaType::Other("text/plain".into()));
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum MediaType {
            $( $(#[$doc])* $variant, )*
            /// Any other media type, kept as written.
            Other(String),
        }

        impl MediaType {
            /// Every known (non-`Other`) media type.
            pub const KNOWN: &'static [MediaType] = &[$( MediaType::$variant, )*];

            /// The media type as a string.
            pub fn as_str(&self) -> &str {
                match self {
                    $( MediaType::$variant => $s, )*
                    MediaType::Other(s) => s,
                }
            }

            fn from_known(s: &str) -> Option<MediaType> {
                match s {
                    $( $s => Some(MediaType::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

media_types! {
    /// `application/vnd.oci.descriptor.v1+json`
    OciDescriptor => "application/vnd.oci.descriptor.v1+json",
    /// `application/vnd.oci.layout.header.v1+json`
    OciLayoutHeader => "application/vnd.oci.layout.header.v1+json",
    /// `application/vnd.oci.image.index.v1+json`
    OciIndex => "application/vnd.oci.image.index.v1+json",
    /// `application/vnd.oci.image.manifest.v1+json`
    OciManifest => "application/vnd.oci.image.manifest.v1+json",
    /// `application/vnd.oci.image.config.v1+json`
    OciConfig => "application/vnd.oci.image.config.v1+json",
    /// `application/vnd.oci.image.layer.v1.tar`
    OciLayer => "application/vnd.oci.image.layer.v1.tar",
    /// `application/vnd.oci.image.layer.v1.tar+gzip`
    OciLayerGzip => "application/vnd.oci.image.layer.v1.tar+gzip",
    /// `application/vnd.oci.image.layer.v1.tar+zstd`
    OciLayerZstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    /// `application/vnd.oci.image.layer.nondistributable.v1.tar` (deprecated in 1.1)
    OciLayerNonDistributable => "application/vnd.oci.image.layer.nondistributable.v1.tar",
    /// `application/vnd.oci.image.layer.nondistributable.v1.tar+gzip` (deprecated in 1.1)
    OciLayerNonDistributableGzip => "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    /// `application/vnd.oci.image.layer.nondistributable.v1.tar+zstd` (deprecated in 1.1)
    OciLayerNonDistributableZstd => "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    /// `application/vnd.oci.empty.v1+json`, the empty `{}` blob of artifacts.
    OciEmpty => "application/vnd.oci.empty.v1+json",
    /// `application/vnd.docker.distribution.manifest.v2+json`
    DockerManifest => "application/vnd.docker.distribution.manifest.v2+json",
    /// `application/vnd.docker.distribution.manifest.list.v2+json`
    DockerManifestList => "application/vnd.docker.distribution.manifest.list.v2+json",
    /// `application/vnd.docker.container.image.v1+json`
    DockerConfig => "application/vnd.docker.container.image.v1+json",
    /// `application/vnd.docker.image.rootfs.diff.tar.gzip`
    DockerLayerGzip => "application/vnd.docker.image.rootfs.diff.tar.gzip",
    /// `application/vnd.docker.image.rootfs.diff.tar` (uncompressed; what go-containerregistry writes)
    DockerLayer => "application/vnd.docker.image.rootfs.diff.tar",
    /// `application/vnd.docker.image.rootfs.foreign.diff.tar.gzip` (Windows base layers)
    DockerForeignLayerGzip => "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    /// `application/vnd.docker.distribution.manifest.v1+json` (schema1, recognised only)
    DockerSchema1Manifest => "application/vnd.docker.distribution.manifest.v1+json",
    /// `application/vnd.docker.distribution.manifest.v1+prettyjws` (signed schema1, recognised only)
    DockerSchema1SignedManifest => "application/vnd.docker.distribution.manifest.v1+prettyjws",
}

impl MediaType {
    /// An index: OCI image index or Docker manifest list.
    pub fn is_index(&self) -> bool {
        matches!(self, MediaType::OciIndex | MediaType::DockerManifestList)
    }

    /// An image manifest: OCI or Docker schema2 (schema1 is not: it cannot be pulled as one).
    pub fn is_image_manifest(&self) -> bool {
        matches!(self, MediaType::OciManifest | MediaType::DockerManifest)
    }

    /// A Docker schema1 manifest, recognised so it can be refused clearly.
    pub fn is_schema1(&self) -> bool {
        matches!(
            self,
            MediaType::DockerSchema1Manifest | MediaType::DockerSchema1SignedManifest
        )
    }

    /// An image config.
    pub fn is_config(&self) -> bool {
        matches!(self, MediaType::OciConfig | MediaType::DockerConfig)
    }

    /// A layer of any compression, distributable or not.
    pub fn is_layer(&self) -> bool {
        self.compression().is_some()
    }

    /// False for layers that must not be pushed to another registry (OCI non-distributable
    /// and Docker foreign layers); true for everything else.
    pub fn is_distributable(&self) -> bool {
        !matches!(
            self,
            MediaType::OciLayerNonDistributable
                | MediaType::OciLayerNonDistributableGzip
                | MediaType::OciLayerNonDistributableZstd
                | MediaType::DockerForeignLayerGzip
        )
    }

    /// True for the OCI family of types (`application/vnd.oci.`).
    pub fn is_oci(&self) -> bool {
        self.as_str().starts_with("application/vnd.oci.")
    }

    /// True for the Docker family of types (`application/vnd.docker.`).
    pub fn is_docker(&self) -> bool {
        self.as_str().starts_with("application/vnd.docker.")
    }

    /// The compression of a layer media type, `None` for anything that is not a layer.
    pub fn compression(&self) -> Option<Compression> {
        use MediaType::*;
        match self {
            OciLayer | OciLayerNonDistributable | DockerLayer => Some(Compression::None),
            OciLayerGzip
            | OciLayerNonDistributableGzip
            | DockerLayerGzip
            | DockerForeignLayerGzip => Some(Compression::Gzip),
            OciLayerZstd | OciLayerNonDistributableZstd => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// The OCI layer type for `compression`.
    pub fn oci_layer(compression: Compression) -> MediaType {
        match compression {
            Compression::None => MediaType::OciLayer,
            Compression::Gzip => MediaType::OciLayerGzip,
            Compression::Zstd => MediaType::OciLayerZstd,
        }
    }

    /// The Docker schema2 layer type for `compression`. Docker has no zstd layer type; the
    /// OCI one is returned for zstd, as containers/image does.
    pub fn docker_layer(compression: Compression) -> MediaType {
        match compression {
            Compression::None => MediaType::DockerLayer,
            Compression::Gzip => MediaType::DockerLayerGzip,
            Compression::Zstd => MediaType::OciLayerZstd,
        }
    }

    /// The same kind of layer with another compression, keeping the family (OCI or Docker)
    /// and distributability. `None` when `self` is not a layer.
    pub fn with_compression(&self, compression: Compression) -> Option<MediaType> {
        use MediaType::*;
        Some(match (self, compression) {
            (
                OciLayerNonDistributable
                | OciLayerNonDistributableGzip
                | OciLayerNonDistributableZstd,
                c,
            ) => match c {
                Compression::None => OciLayerNonDistributable,
                Compression::Gzip => OciLayerNonDistributableGzip,
                Compression::Zstd => OciLayerNonDistributableZstd,
            },
            (DockerForeignLayerGzip, _) => return None,
            (DockerLayer | DockerLayerGzip, c) => MediaType::docker_layer(c),
            (OciLayer | OciLayerGzip | OciLayerZstd, c) => MediaType::oci_layer(c),
            _ => return None,
        })
    }
}

impl FromStr for MediaType {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(MediaType::from(s))
    }
}

impl From<&str> for MediaType {
    fn from(s: &str) -> Self {
        MediaType::from_known(s).unwrap_or_else(|| MediaType::Other(s.to_owned()))
    }
}

impl From<String> for MediaType {
    fn from(s: String) -> Self {
        MediaType::from_known(&s).unwrap_or(MediaType::Other(s))
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for MediaType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MediaType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(MediaType::from(s.into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_round_trip_and_predicates() {
        for m in MediaType::KNOWN {
            assert_eq!(&MediaType::from(m.as_str()), m);
            let n = [
                m.is_index(),
                m.is_image_manifest(),
                m.is_config(),
                m.is_layer(),
                m.is_schema1(),
            ];
            assert!(
                n.iter().filter(|b| **b).count() <= 1,
                "{m} is several kinds"
            );
        }
        assert!(MediaType::DockerManifestList.is_index());
        assert!(!MediaType::DockerForeignLayerGzip.is_distributable());
        assert!(MediaType::DockerForeignLayerGzip.is_layer());
        assert_eq!(
            MediaType::OciLayerGzip.with_compression(Compression::Zstd),
            Some(MediaType::OciLayerZstd)
        );
        assert_eq!(
            MediaType::DockerLayerGzip.with_compression(Compression::None),
            Some(MediaType::DockerLayer)
        );
        assert_eq!(
            MediaType::OciConfig.with_compression(Compression::None),
            None
        );
    }
}
