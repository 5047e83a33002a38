//! A layer read once from a reader: compressed, hashed and counted in one pass.
//!
//! Skeleton: this crate is filled by a later issue and exports nothing yet.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
