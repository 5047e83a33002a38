//! Integration tests of oci-content: the conformance suite on both stores, the local store's
//! disk format and locks, a SIGKILL crash test, and interoperation with containerd (its
//! content directory and its filters).
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too: failing loudly is the point

mod containerd;
mod crash;
mod daemon;
mod filters;
mod local;
mod pattern;
mod suite;
