//! The records a store hands out and takes in: [`Info`], [`Status`], [`WriterOpts`],
//! [`CommitOpts`] and [`Labels`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::SystemTime;

use oci_types::{Descriptor, Digest};

use crate::filters::Adaptor;
use crate::InvalidArgumentKind;
use crate::{Error, Result};

/// Labels: mutable string metadata on a blob (containerd keeps them in its metadata
/// database; [`crate::LocalStore`] keeps them beside the blobs).
pub type Labels = BTreeMap<String, String>;

/// containerd's limit on the length of a label's key plus value.
pub const MAX_LABEL_SIZE: usize = 4096;

/// Checks labels as containerd does: non-empty keys, key plus value at most
/// [`MAX_LABEL_SIZE`] bytes.
pub fn validate_labels(labels: &Labels) -> Result<()> {
    for (k, v) in labels {
        if k.is_empty() {
            return Err(Error::invalid("label", InvalidArgumentKind::EmptyLabelKey));
        }
        if k.len() + v.len() > MAX_LABEL_SIZE {
            return Err(Error::invalid(
                "label",
                InvalidArgumentKind::LabelTooLong {
                    key: k.chars().take(64).collect(),
                    limit: MAX_LABEL_SIZE,
                },
            ));
        }
    }
    Ok(())
}

/// What a store knows about a committed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// The blob's digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// When it was committed.
    pub created_at: SystemTime,
    /// When its labels last changed (the commit time if they never did).
    pub updated_at: SystemTime,
    /// Its labels.
    pub labels: Labels,
}

impl Info {
    /// An `Info` naming `digest` with `labels`, for [`crate::Manager::update`]; size and times
    /// are ignored by `update`.
    pub fn for_update(digest: Digest, labels: Labels) -> Info {
        Info {
            digest,
            size: 0,
            created_at: SystemTime::UNIX_EPOCH,
            updated_at: SystemTime::UNIX_EPOCH,
            labels,
        }
    }
}

/// The state of an ingest (an unfinished write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The ref naming the ingest.
    pub reference: String,
    /// Bytes written so far.
    pub offset: u64,
    /// The expected total size, when the writer was opened with a descriptor that gave it.
    pub total: Option<u64>,
    /// The expected digest, when known (from the descriptor the writer was opened with).
    pub expected: Option<Digest>,
    /// When the ingest began.
    pub started_at: SystemTime,
    /// When it was last written to.
    pub updated_at: SystemTime,
}

/// Options of [`crate::Ingester::writer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterOpts {
    /// The ref naming the ingest; writers opened with the same ref continue the same ingest.
    pub reference: String,
    /// What is being written, when known. Its digest makes the writer refuse content the
    /// store already has ([`Error::AlreadyExists`]) and chooses the hash algorithm; its size
    /// (when not 0) becomes the ingest's total.
    pub desc: Option<Descriptor>,
}

impl WriterOpts {
    /// Options with a ref and no descriptor.
    pub fn new(reference: impl Into<String>) -> WriterOpts {
        WriterOpts {
            reference: reference.into(),
            desc: None,
        }
    }

    /// The same options with a descriptor.
    pub fn with_descriptor(mut self, desc: Descriptor) -> WriterOpts {
        self.desc = Some(desc);
        self
    }

    /// The total size the descriptor promises (a size of 0 means unknown, as in containerd).
    pub(crate) fn total(&self) -> Option<u64> {
        self.desc.as_ref().map(|d| d.size).filter(|&s| s > 0)
    }

    pub(crate) fn check(&self) -> Result<()> {
        if self.reference.is_empty() {
            return Err(Error::invalid("ref", InvalidArgumentKind::EmptyRef));
        }
        Ok(())
    }
}

/// Options of [`crate::Writer::commit`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommitOpts {
    /// Labels to set on the committed blob (replacing any it has).
    pub labels: Option<Labels>,
}

impl CommitOpts {
    /// No options.
    pub fn new() -> CommitOpts {
        CommitOpts::default()
    }

    /// Options that set `labels` on the committed blob.
    pub fn with_labels(mut self, labels: Labels) -> CommitOpts {
        self.labels = Some(labels);
        self
    }
}

/// Applies containerd's `update` rules: with no field paths, or with `labels`, the labels are
/// replaced; `labels.KEY` sets or (when absent or empty in `info`) removes one label; any
/// other field path is [`Error::InvalidArgument`]. Empty values are dropped.
pub(crate) fn apply_update(current: &Labels, info: &Info, fieldpaths: &[&str]) -> Result<Labels> {
    let mut out = current.clone();
    if fieldpaths.is_empty() {
        out = info.labels.clone();
    }
    for path in fieldpaths {
        if let Some(key) = path.strip_prefix("labels.") {
            match info.labels.get(key) {
                Some(v) if !v.is_empty() => out.insert(key.to_owned(), v.clone()),
                _ => out.remove(key),
            };
        } else if *path == "labels" {
            out = info.labels.clone();
        } else {
            return Err(Error::invalid(
                "field path",
                InvalidArgumentKind::ImmutableField {
                    path: (*path).to_owned(),
                    digest: info.digest.clone(),
                },
            ));
        }
    }
    out.retain(|_, v| !v.is_empty());
    validate_labels(&out)?;
    Ok(out)
}

impl Adaptor for Info {
    fn field(&self, fieldpath: &[String]) -> Option<Cow<'_, str>> {
        match fieldpath.first().map(String::as_str)? {
            "digest" if fieldpath.len() == 1 => Some(Cow::Borrowed(self.digest.as_str())),
            "size" if fieldpath.len() == 1 => Some(Cow::Owned(self.size.to_string())),
            "labels" => label(&self.labels, &fieldpath[1..]),
            _ => None,
        }
    }
}

impl Adaptor for Status {
    fn field(&self, fieldpath: &[String]) -> Option<Cow<'_, str>> {
        match fieldpath {
            [f] if f == "ref" => Some(Cow::Borrowed(&self.reference)),
            [f] if f == "expected" => self.expected.as_ref().map(|d| Cow::Borrowed(d.as_str())),
            _ => None,
        }
    }
}

/// containerd's `checkMap`: the label named by the rest of the path joined with dots.
fn label<'a>(labels: &'a Labels, rest: &[String]) -> Option<Cow<'a, str>> {
    if labels.is_empty() {
        return None;
    }
    labels
        .get(&rest.join("."))
        .map(|v| Cow::Borrowed(v.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn update_rules() {
        let cur = labels(&[("a", "1"), ("b", "2")]);
        let info = Info::for_update(Digest::sha256(b""), labels(&[("a", "9"), ("c", "3")]));
        assert_eq!(
            apply_update(&cur, &info, &[]).unwrap(),
            labels(&[("a", "9"), ("c", "3")])
        );
        assert_eq!(apply_update(&cur, &info, &["labels"]).unwrap(), info.labels);
        assert_eq!(
            apply_update(&cur, &info, &["labels.a", "labels.b"]).unwrap(),
            labels(&[("a", "9")])
        );
        let err = apply_update(&cur, &info, &["size"]).unwrap_err();
        assert!(err.is_invalid_argument(), "{err}");
        let big = Info::for_update(Digest::sha256(b""), labels(&[("k", &"v".repeat(5000))]));
        assert!(apply_update(&cur, &big, &[])
            .unwrap_err()
            .is_invalid_argument());
    }
}
