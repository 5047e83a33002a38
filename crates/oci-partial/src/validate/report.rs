//! The report of a validation: every [`Problem`], where it is and what is wrong.

use std::fmt;

use oci_types::Digest;

/// Where in an image or index a [`Problem`] was found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// The image manifest.
    Manifest,
    /// The image config.
    Config,
    /// The layer at this position (0 = base), as the manifest lists it.
    Layer(usize),
    /// The index manifest itself.
    Index,
    /// The entry at this position of an index (`manifests[i]`) and the digest it names; what
    /// follows in [`Problem::location`] is inside that child.
    Entry {
        /// Position in the index's `manifests`.
        index: usize,
        /// The digest the entry names.
        digest: Digest,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Manifest => f.write_str("manifest"),
            Location::Config => f.write_str("config"),
            Location::Layer(i) => write!(f, "layer {i}"),
            Location::Index => f.write_str("index"),
            Location::Entry { index, digest } => write!(f, "manifests[{index}] ({digest})"),
        }
    }
}

/// What is wrong, in a [`Problem`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// Two sources disagree: a claim (`expected`, from `expected_from`) and what was found
    /// (`actual`, from `actual_from`). Digests are written in full.
    Mismatch {
        /// The claimed value (a digest, size, media type, count...).
        expected: String,
        /// Who claims it: `"manifest"`, `"config rootfs.diff_ids"`, `"Layer::digest"`,
        /// `"index entry"`, ...
        expected_from: &'static str,
        /// The value found.
        actual: String,
        /// Where it was found: `"compressed content"`, `"uncompressed content"`,
        /// `"raw manifest"`, ...
        actual_from: &'static str,
    },
    /// Something could not be read, parsed or checked, or breaks a rule on its own.
    Invalid {
        /// What went wrong, with the error.
        message: String,
    },
}

/// One problem found by validation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// Where, outermost first: `[Layer(2)]` in an image; `[Entry{1, ..}, Layer(2)]` for a
    /// layer of an index's second child.
    pub location: Vec<Location>,
    /// What was checked: `"digest"`, `"size"`, `"diff_id"`, `"media_type"`, `"layer count"`,
    /// `"diff_ids count"`, `"rootfs.type"`, `"platform"`, `"content"`, `"read"`, ...
    pub what: &'static str,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl Problem {
    /// The claimed value of a mismatch.
    pub fn expected(&self) -> Option<&str> {
        match &self.kind {
            ProblemKind::Mismatch { expected, .. } => Some(expected),
            ProblemKind::Invalid { .. } => None,
        }
    }

    /// The value found, of a mismatch.
    pub fn actual(&self) -> Option<&str> {
        match &self.kind {
            ProblemKind::Mismatch { actual, .. } => Some(actual),
            ProblemKind::Invalid { .. } => None,
        }
    }

    /// The last element of [`Problem::location`]: the thing the problem is about.
    pub fn subject(&self) -> Option<&Location> {
        self.location.last()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, l) in self.location.iter().enumerate() {
            if i > 0 {
                f.write_str(" > ")?;
            }
            write!(f, "{l}")?;
        }
        match &self.kind {
            ProblemKind::Mismatch {
                expected,
                expected_from,
                actual,
                actual_from,
            } => write!(
                f,
                ": {} mismatch: {expected_from} says {expected}, {actual_from} is {actual}",
                self.what
            ),
            ProblemKind::Invalid { message } => write!(f, ": {}: {message}", self.what),
        }
    }
}

/// Everything wrong with an image or index: the error of [`validate_image`](super::validate_image) and
/// [`validate_index`](super::validate_index). Its `Display` writes one line per problem.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationReport {
    /// The problems, in the order found.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationReport {}
