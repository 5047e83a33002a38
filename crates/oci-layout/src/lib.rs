//! OCI image layout directories on top of the local content store.
//!
//! Skeleton: this crate is filled by a later issue and exports nothing yet.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
