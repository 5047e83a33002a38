//! Integration tests of oci-stream: one binary, one module per concern.
// Helpers unwrap freely: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;
mod compat;
mod determinism;
mod errors;
mod format;
mod peers;
mod props;
mod semantics;
mod threads;
