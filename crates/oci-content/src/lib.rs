//! A content store after containerd's: provider, ingester, resumable writers, a crash-safe local store.
//!
//! Skeleton: this crate is filled by a later issue and exports nothing yet.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
