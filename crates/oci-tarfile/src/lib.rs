//! docker save archives: reader, source, writer and destination.
//!
//! Skeleton: this crate is filled by a later issue and exports nothing yet.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
