//! Filters in containerd's syntax, for [`crate::Manager::walk`] and
//! [`crate::IngestManager::list_statuses`].
//!
//! A filter is a comma-separated list of selectors, all of which must match:
//! `FIELDPATH[OPERATOR VALUE]`. A field path is fields joined by `.`; a field is
//! `[A-Za-z0-9_]+` or a `"`-quoted string (Go escapes), so `labels."a.b/c"` names the label
//! `a.b/c` and `labels.a.b` names `a.b` too. The operators are `==`, `!=` and `~=` (a regular
//! expression with the meaning Go's `regexp` gives it, as containerd's: `\d`, `\s`, `\w` and
//! `\b` are ASCII, `.`, `(?i)` and `\pL` Unicode; unanchored); without one, the selector tests
//! that the field is present.
//! A value is a run of characters up to `,` or white space, or a quoted string; after `~=` it
//! may also be quoted with `/` or `|`. Several filters match when any of them does.
//!
//! ```
//! use oci_content::filters::{Filter, Filters};
//! use oci_content::{Info, Labels};
//! use oci_types::Digest;
//!
//! let mut labels = Labels::new();
//! labels.insert("containerd.io/gc.root".into(), "2024-01-01".into());
//! let info = Info::for_update(Digest::sha256(b"x"), labels);
//!
//! assert!(Filter::parse(r#"labels."containerd.io/gc.root""#).unwrap().matches(&info));
//! assert!(Filter::parse(r"labels.|containerd.io/gc.root|").is_err()); // `|` only after ~=
//! assert!(Filter::parse(r"digest~=/^sha256:/,labels.other!=x").unwrap().matches(&info));
//! let any = Filters::parse_all(&["labels.nope", "digest==sha256:0"]).unwrap();
//! assert!(!any.matches(&info));
//! ```
//!
//! Differences from containerd: an invalid regular expression is an error when parsing
//! (containerd accepts it and matches nothing); escapes that yield bytes which are not UTF-8
//! are rejected; "graphic" characters of bare values are approximated as non-control ones.
//! The expressions are compiled by the [`regex`] crate, which reads RE2's syntax as Go does,
//! with its own additions: what only it gives a meaning (class operations such as
//! `[a-z&&[^x]]`, `\<`, `\b{start}`, the `x` and `u` flags) means something else or nothing
//! to Go, and Go's `\Q...\E` is an error here. Repetitions Go refuses (more than 1,000
//! copies, nested counts multiplied) are refused here too.

mod goregex;
mod parser;
mod quote;
mod scanner;

use std::borrow::Cow;
use std::fmt;

use crate::InvalidArgumentKind;
use crate::{Error, Result};

/// Maps field paths of an object to values, for matching (containerd's `Adaptor`).
pub trait Adaptor {
    /// The value at `fieldpath`, or `None` when the object has no such field.
    fn field(&self, fieldpath: &[String]) -> Option<Cow<'_, str>>;
}

/// A selector's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// The field is present (no operator written).
    Present,
    /// `==`: present and equal.
    Equal,
    /// `!=`: not equal (an absent field counts as the empty string).
    NotEqual,
    /// `~=`: matches the regular expression (an absent field counts as the empty string).
    Matches,
}

impl Operator {
    fn as_str(self) -> &'static str {
        match self {
            Operator::Present => "",
            Operator::Equal => "==",
            Operator::NotEqual => "!=",
            Operator::Matches => "~=",
        }
    }
}

/// Largest compiled regular expression a filter may hold (bounds memory on hostile input).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// One `FIELDPATH[OPERATOR VALUE]` term.
#[derive(Debug, Clone)]
pub struct Selector {
    fieldpath: Vec<String>,
    op: Operator,
    value: String,
    re: Option<regex::Regex>,
}

impl PartialEq for Selector {
    fn eq(&self, other: &Self) -> bool {
        self.fieldpath == other.fieldpath && self.op == other.op && self.value == other.value
    }
}

impl Eq for Selector {}

impl Selector {
    fn new(fieldpath: Vec<String>, op: Operator, value: String) -> Selector {
        Selector {
            fieldpath,
            op,
            value,
            re: None,
        }
    }

    /// Compiles the `~=` pattern, or says why it is invalid.
    fn compile(&mut self) -> Result<(), String> {
        let pattern = goregex::go_to_regex(&self.value).map_err(|e| e.to_string())?;
        let re = regex::RegexBuilder::new(&pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| e.to_string())?;
        self.re = Some(re);
        Ok(())
    }

    /// The field path.
    pub fn fieldpath(&self) -> &[String] {
        &self.fieldpath
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.op
    }

    /// The value (empty for [`Operator::Present`]).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether `obj` matches this selector.
    pub fn matches(&self, obj: &dyn Adaptor) -> bool {
        let v = obj.field(&self.fieldpath);
        match self.op {
            Operator::Present => v.is_some(),
            Operator::Equal => v.is_some_and(|v| v == self.value.as_str()),
            Operator::NotEqual => v.as_deref().unwrap_or("") != self.value,
            Operator::Matches => self
                .re
                .as_ref()
                .is_some_and(|re| re.is_match(v.as_deref().unwrap_or(""))),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, field) in self.fieldpath.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            if !field.is_empty() && field.chars().all(scanner::is_field) {
                f.write_str(field)?;
            } else {
                f.write_str(&quote::quote(field))?;
            }
        }
        if self.op == Operator::Present {
            return Ok(());
        }
        f.write_str(self.op.as_str())?;
        let bare = self
            .value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && self
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.:@+-".contains(c));
        if bare {
            f.write_str(&self.value)
        } else {
            f.write_str(&quote::quote(&self.value))
        }
    }
}

/// Selectors that must all match: one filter string. The empty filter matches everything.
///
/// [`Display`](fmt::Display) writes a string that parses back to an equal filter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    selectors: Vec<Selector>,
}

impl Filter {
    /// Parses one filter string; the empty string is the filter that matches everything.
    /// Errors are [`Error::InvalidArgument`] with containerd's message.
    pub fn parse(input: &str) -> Result<Filter> {
        if input.is_empty() {
            return Ok(Filter::default());
        }
        parser::Parser::new(input)
            .parse()
            .map_err(|e| Error::invalid("filter", InvalidArgumentKind::Filter(e.to_string())))
    }

    /// The selectors.
    pub fn selectors(&self) -> &[Selector] {
        &self.selectors
    }

    /// Whether `obj` matches every selector.
    pub fn matches(&self, obj: &dyn Adaptor) -> bool {
        self.selectors.iter().all(|s| s.matches(obj))
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.selectors.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

/// Filters of which any must match (containerd's `ParseAll`). No filters match everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filters {
    any: Vec<Filter>,
}

impl Filters {
    /// Parses each string as a [`Filter`].
    pub fn parse_all<S: AsRef<str>>(inputs: &[S]) -> Result<Filters> {
        let any = inputs
            .iter()
            .map(|s| Filter::parse(s.as_ref()))
            .collect::<Result<_>>()?;
        Ok(Filters { any })
    }

    /// The filters.
    pub fn filters(&self) -> &[Filter] {
        &self.any
    }

    /// Whether `obj` matches any filter (or there are none).
    pub fn matches(&self, obj: &dyn Adaptor) -> bool {
        self.any.is_empty() || self.any.iter().any(|f| f.matches(obj))
    }
}

#[cfg(test)]
mod tests;
