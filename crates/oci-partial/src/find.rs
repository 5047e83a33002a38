//! Finding images, indexes and descriptors in an index by [`Matcher`]
//! (go-containerregistry's `partial.FindImages`/`FindIndexes`/`FindManifests` with the
//! `match` package's matchers).

use std::fmt;
use std::ops::{BitAnd, BitOr, Not};
use std::sync::Arc;

use oci_types::{Descriptor, Digest, MediaType, Platform};

use crate::{Error, Image, ImageIndex, InvalidKind, MappedImage, MappedIndex, Result};

use oci_types::limits::MAX_INDEX_NESTING as MAX_NESTING;

/// A predicate over index entries ([`Descriptor`]s), composable with [`Matcher::and`],
/// [`Matcher::or`] and [`Matcher::not`] (or `&`, `|` and `!`).
///
/// ```
/// use oci_partial::Matcher;
/// use oci_types::{Descriptor, Digest, MediaType};
///
/// let desc = Descriptor::new(MediaType::OciManifest, Digest::sha256(b"m"), 1)
///     .with_platform("linux/arm64".parse().unwrap())
///     .with_annotation("org.example.role", "app");
///
/// let arm = Matcher::platform("linux/arm64/v8".parse().unwrap()); // normalised comparison
/// let amd = Matcher::platform("linux/amd64".parse().unwrap());
/// assert!(arm.matches(&desc));
/// assert!((amd.clone() | Matcher::annotation("org.example.role", "app")).matches(&desc));
/// assert!(!arm.clone().and(amd.clone()).matches(&desc));
/// assert!(amd.not().matches(&desc));
/// assert!(Matcher::func(|d| d.size == 1).matches(&desc));
/// ```
#[derive(Clone)]
pub struct Matcher(Rule);

#[derive(Clone)]
enum Rule {
    Any,
    Platform(Platform),
    MediaType(Vec<MediaType>),
    Annotation(String, String),
    Digest(Vec<Digest>),
    And(Box<Rule>, Box<Rule>),
    Or(Box<Rule>, Box<Rule>),
    Not(Box<Rule>),
    Func(Arc<dyn Fn(&Descriptor) -> bool + Send + Sync>),
}

impl Rule {
    fn matches(&self, d: &Descriptor) -> bool {
        match self {
            Rule::Any => true,
            Rule::Platform(p) => d.platform.as_ref().is_some_and(|dp| dp.matches(p)),
            Rule::MediaType(mts) => mts.contains(&d.media_type),
            Rule::Annotation(k, v) => d.annotations.get(k) == Some(v),
            Rule::Digest(ds) => ds.contains(&d.digest),
            Rule::And(a, b) => a.matches(d) && b.matches(d),
            Rule::Or(a, b) => a.matches(d) || b.matches(d),
            Rule::Not(a) => !a.matches(d),
            Rule::Func(f) => f(d),
        }
    }
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Any => f.write_str("any"),
            Rule::Platform(p) => write!(f, "platform({p})"),
            Rule::MediaType(m) => {
                let names: Vec<&str> = m.iter().map(MediaType::as_str).collect();
                write!(f, "media_type({})", names.join(", "))
            }
            Rule::Annotation(k, v) => write!(f, "annotation({k}={v})"),
            Rule::Digest(ds) => {
                let names: Vec<&str> = ds.iter().map(Digest::as_str).collect();
                write!(f, "digest({})", names.join(", "))
            }
            Rule::And(a, b) => write!(f, "({a:?} and {b:?})"),
            Rule::Or(a, b) => write!(f, "({a:?} or {b:?})"),
            Rule::Not(a) => write!(f, "not {a:?}"),
            Rule::Func(_) => f.write_str("func"),
        }
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Matcher({:?})", self.0)
    }
}

impl Matcher {
    /// Matches every descriptor.
    pub fn any() -> Matcher {
        Matcher(Rule::Any)
    }

    /// Matches descriptors whose platform [`Platform::matches`] `platform` (both normalised:
    /// `linux/arm64` matches `linux/arm64/v8`). Descriptors without a platform do not match.
    pub fn platform(platform: Platform) -> Matcher {
        Matcher(Rule::Platform(platform))
    }

    /// Matches descriptors whose platform matches any of `platforms`.
    pub fn platforms(platforms: impl IntoIterator<Item = Platform>) -> Matcher {
        platforms
            .into_iter()
            .map(Matcher::platform)
            .reduce(Matcher::or)
            .unwrap_or_else(|| !Matcher::any())
    }

    /// Matches descriptors with any of these media types.
    pub fn media_type(media_types: impl IntoIterator<Item = MediaType>) -> Matcher {
        Matcher(Rule::MediaType(media_types.into_iter().collect()))
    }

    /// Matches descriptors with annotation `key` set to exactly `value`.
    pub fn annotation(key: impl Into<String>, value: impl Into<String>) -> Matcher {
        Matcher(Rule::Annotation(key.into(), value.into()))
    }

    /// Matches descriptors with any of these digests.
    pub fn digest(digests: impl IntoIterator<Item = Digest>) -> Matcher {
        Matcher(Rule::Digest(digests.into_iter().collect()))
    }

    /// Matches what `f` accepts.
    pub fn func(f: impl Fn(&Descriptor) -> bool + Send + Sync + 'static) -> Matcher {
        Matcher(Rule::Func(Arc::new(f)))
    }

    /// Matches what both match.
    pub fn and(self, other: Matcher) -> Matcher {
        Matcher(Rule::And(Box::new(self.0), Box::new(other.0)))
    }

    /// Matches what either matches.
    pub fn or(self, other: Matcher) -> Matcher {
        Matcher(Rule::Or(Box::new(self.0), Box::new(other.0)))
    }

    /// Matches what this does not.
    #[allow(clippy::should_implement_trait)] // it is implemented too (`!m`); this reads better in chains
    pub fn not(self) -> Matcher {
        Matcher(Rule::Not(Box::new(self.0)))
    }

    /// Whether `descriptor` matches.
    pub fn matches(&self, descriptor: &Descriptor) -> bool {
        self.0.matches(descriptor)
    }
}

impl Not for Matcher {
    type Output = Matcher;
    fn not(self) -> Matcher {
        Matcher::not(self)
    }
}

impl BitAnd for Matcher {
    type Output = Matcher;
    fn bitand(self, rhs: Matcher) -> Matcher {
        self.and(rhs)
    }
}

impl BitOr for Matcher {
    type Output = Matcher;
    fn bitor(self, rhs: Matcher) -> Matcher {
        self.or(rhs)
    }
}

/// Every entry of `index` and of the indexes nested in it (depth first, in index order) that
/// `matcher` accepts.
///
/// Nested indexes are always searched, whether or not their own entry matches (so a platform
/// matcher finds images in a nested index whose entry has no platform); a matching index
/// entry is returned like any other.
///
/// ```
/// # #[cfg(feature = "testing")] {
/// use oci_partial::{find_images, find_manifests, random, Image, Matcher};
/// let index = random::index(1, 3, 1, 64); // platforms linux/amd64, linux/arm64/v8, ...
/// let arm = Matcher::platform("linux/arm64".parse().unwrap());
/// let found = find_manifests(index.as_ref(), &arm).unwrap();
/// assert_eq!(found.len(), 1);
/// let images = find_images(index.as_ref(), &arm).unwrap();
/// assert_eq!(images[0].config_file().unwrap().architecture, "arm64");
/// # }
/// ```
pub fn find_manifests(index: &dyn ImageIndex, matcher: &Matcher) -> Result<Vec<Descriptor>> {
    let mut out = Vec::new();
    walk(index, 0, &mut |_, desc, _| {
        if matcher.matches(desc) {
            out.push(desc.clone());
        }
        Ok(())
    })?;
    Ok(out)
}

/// The images of `index` and of the indexes nested in it whose entries `matcher` accepts, in
/// the order of [`find_manifests`]. Each image's [`Image::descriptor`] is its index entry.
pub fn find_images(index: &dyn ImageIndex, matcher: &Matcher) -> Result<Vec<Arc<dyn Image>>> {
    let mut out: Vec<Arc<dyn Image>> = Vec::new();
    walk(index, 0, &mut |parent, desc, _| {
        if desc.media_type.is_image_manifest() && matcher.matches(desc) {
            let image = parent.image(&desc.digest)?;
            out.push(Arc::new(MappedImage::described(image, desc.clone())));
        }
        Ok(())
    })?;
    Ok(out)
}

/// The indexes nested (at any depth) in `index` whose entries `matcher` accepts, in the
/// order of [`find_manifests`]. Each one's [`ImageIndex::descriptor`] is its index entry.
pub fn find_indexes(index: &dyn ImageIndex, matcher: &Matcher) -> Result<Vec<Arc<dyn ImageIndex>>> {
    let mut out: Vec<Arc<dyn ImageIndex>> = Vec::new();
    walk(index, 0, &mut |_, desc, child| {
        if let Some(child) = child {
            if matcher.matches(desc) {
                out.push(Arc::new(MappedIndex::described(
                    Arc::clone(child),
                    desc.clone(),
                )));
            }
        }
        Ok(())
    })?;
    Ok(out)
}

type Visit<'a> =
    dyn FnMut(&dyn ImageIndex, &Descriptor, Option<&Arc<dyn ImageIndex>>) -> Result<()> + 'a;

/// Calls `visit` with each entry (and, for nested indexes, the opened child) depth first:
/// an index entry is visited before its own entries.
fn walk(index: &dyn ImageIndex, depth: usize, visit: &mut Visit<'_>) -> Result<()> {
    if depth > MAX_NESTING {
        return Err(Error::Invalid {
            what: "index",
            kind: InvalidKind::TooDeep { limit: MAX_NESTING },
        });
    }
    for desc in index.index_manifest()?.manifests {
        if desc.media_type.is_index() {
            let child = index.image_index(&desc.digest)?;
            visit(index, &desc, Some(&child))?;
            walk(child.as_ref(), depth + 1, visit)?;
        } else {
            visit(index, &desc, None)?;
        }
    }
    Ok(())
}
