//! Image references in distribution's grammar. (Being written; see issue 2.)

use std::fmt;
use std::str::FromStr;

use crate::{Digest, Error};

/// An image reference: `[domain[:port]/]path[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// The short form docker shows.
    pub fn familiar(&self) -> String {
        todo!()
    }
}

impl FromStr for Reference {
    type Err = Error;
    fn from_str(_s: &str) -> Result<Self, Self::Err> {
        todo!()
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.domain, self.path)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}
